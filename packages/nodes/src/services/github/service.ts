import type { ServiceDefinition } from "../../define.ts";
import { GITHUB_API_URL, GITHUB_OAUTH_URL, githubHeaders } from "./api.ts";
import { comment } from "./comment.ts";
import { createIssue } from "./create_issue.ts";
import { issueOpened } from "./issue_opened.ts";
import { pullRequestMerged } from "./pull_request_merged.ts";
import { pullRequestOpened } from "./pull_request_opened.ts";
import { push } from "./push.ts";
import { releasePublished } from "./release_published.ts";
import { starCreated } from "./star_created.ts";

// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
// https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token
export const github: ServiceDefinition = {
  key: "github",
  name: "GitHub",
  description: "Repositories, issues and pull requests on GitHub.",
  icon: "github",
  auth: "oauth2",
  oauth2: {
    baseUrls: { GITHUB_OAUTH_URL, GITHUB_API_URL },
    authorizeUrl: "{GITHUB_OAUTH_URL}/login/oauth/authorize",
    tokenUrl: "{GITHUB_OAUTH_URL}/login/oauth/access_token",
    // Issues and pull requests (private repositories too), and the repository hooks of webhook actions.
    scopes: ["repo", "admin:repo_hook"],
    pkce: true,
    clientAuth: "client_secret_post",
    clientIdEnv: "GITHUB_CLIENT_ID",
    clientSecretEnv: "GITHUB_CLIENT_SECRET",
    apiHeaders: githubHeaders,
    identity: { url: "{GITHUB_API_URL}/user", id: "id", login: "login", email: "email" },
    revoke: {
      url: "{GITHUB_API_URL}/applications/{client_id}/token",
      method: "DELETE",
      format: "json",
      tokenField: "access_token",
    },
  },
  actions: [push, issueOpened, pullRequestOpened, pullRequestMerged, releasePublished, starCreated],
  reactions: [createIssue, comment],
};

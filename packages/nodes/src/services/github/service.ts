import type { ServiceDefinition } from "../../define.ts";
import { GITHUB_API_URL, GITHUB_OAUTH_URL, githubHeaders } from "./api.ts";
import { createIssue } from "./create_issue.ts";

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
  actions: [],
  reactions: [createIssue],
};

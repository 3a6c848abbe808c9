// What the github tests share: the fake GitHub with the connected account's token and a repository, and
// the contexts the worker builds over it (credentials sent, so a 401 is an AuthError).
import type { TestContext } from "node:test";
import { type FakeGithub, type FakeGithubOptions, startFakeGithub } from "../../../../../tests/support/fakes/github.ts";
import { nodeContext, reactionContext } from "../../../../../tests/support/node_context.ts";
import { github } from "./service.ts";

/** The connected account's token; any other is one GitHub does not know (a 401). */
export const TOKEN = "gho_valid";

export async function fakeGithub(t: TestContext, options: Partial<FakeGithubOptions> = {}): Promise<FakeGithub> {
  const server = await startFakeGithub({
    authenticate: (token) => token === TOKEN ? { id: 7, login: "ada", email: null } : null,
    repositories: ["octo/hello"],
    ...options,
  });
  t.after(() => server.close());
  return server;
}

const options = (server: FakeGithub, token: string) => ({
  credentials: { access_token: token, token_type: "bearer" },
  env: { GITHUB_API_URL: server.origin },
});

/** The context of a subscribe, an unsubscribe or an options loader. */
export const connected = (server: FakeGithub, token = TOKEN) => nodeContext(github, options(server, token));

/** The context of a github reaction. */
export const reacting = (server: FakeGithub, token = TOKEN) => reactionContext(github, options(server, token));

// The params every github node shares, declared once so their rules (and, later, their option
// loaders) are the same everywhere.
import { z } from "zod";
import { withOptions } from "../../options.ts";
import { listRepositories } from "./repositories.ts";

/**
 * `owner/name`: a GitHub account (letters, digits and hyphens, starting with a letter or digit, at
 * most 39 characters), a slash, and a repository name (letters, digits, `.`, `_`, `-`, at most 100
 * characters, not `.` or `..`, which would walk up the API path).
 */
const REPOSITORY = new RegExp("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\\.\\.?$)[A-Za-z0-9._-]{1,100}$");

/** The repository a node works on, as GitHub writes it (`full_name`). */
export const repository = z.string()
  .regex(REPOSITORY, 'must be "owner/name": a GitHub account, a slash and a repository name (e.g. octocat/hello-world)')
  .meta({ description: 'The repository, as "owner/name"', placeholder: "octocat/hello-world" })
  .apply((field) => withOptions(field, listRepositories));

/** The REST API path of a repository (`/repos/octo/hello`), for a value `repository` accepted. */
export function repositoryPath(fullName: string): string {
  const [owner, name] = fullName.split("/");
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

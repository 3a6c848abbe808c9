// The repository webhook behind every github webhook action: the trigger (GitHub's verifier and ping,
// deliveries of one event filtered and mapped to outputs, keyed by X-GitHub-Delivery), and its
// registration at GitHub (a hook created on subscribe, deleted on unsubscribe).
// https://docs.github.com/en/rest/repos/webhooks
import { z } from "zod";
import {
  type NodeContext,
  parseParams,
  type TriggerEvent,
  type WebhookRegistration,
  type WebhookTrigger,
} from "../../define.ts";
import { AuthError, PermanentError } from "../../errors.ts";
import { readJson } from "../../fetch.ts";
import { githubPages, githubRequest } from "./api.ts";
import { repository, repositoryPath } from "./params.ts";
import { at, text } from "./payload.ts";
import { githubDeliveryId, githubEvent, githubPayload, githubWebhook } from "./webhook.ts";

/** What one github webhook action listens to. */
export interface RepositoryEvent {
  /** The event the hook subscribes to, which deliveries name in X-GitHub-Event: push, issues, … */
  event: string;
  /** The payload's `action` the trigger fires on (opened, closed, …); any when absent. */
  action?: string;
  /**
   * The action's own outputs for a delivery, or null when the delivery is not one it fires on (another
   * branch, a pull request closed unmerged, a payload without the object it describes).
   */
  outputs(payload: Record<string, unknown>, params: Record<string, unknown>): Record<string, unknown> | null;
}

/** The outputs every github webhook action has, besides its own. */
export const repositoryEventOutputs = {
  repository: z.string().meta({ description: 'The repository, as "owner/name"' }),
  sender: z.string().meta({ description: "The login of the account that caused the event" }),
};

/** A webhook trigger registered as a repository hook on the `repository` param. */
export function repositoryHookTrigger(spec: RepositoryEvent): WebhookTrigger {
  return {
    ...githubWebhook,
    requiresRegistration: true,
    events(request, params): TriggerEvent[] {
      if (githubEvent(request) !== spec.event) return [];
      const payload = githubPayload(request);
      if (!payload || (spec.action !== undefined && payload.action !== spec.action)) return [];
      const outputs = spec.outputs(payload, params);
      if (!outputs) return [];
      return [{
        // GitHub always sends the delivery's GUID (kept on redeliveries); without one the event is still
        // stored, once per request.
        dedupeKey: githubDeliveryId(request) ?? crypto.randomUUID(),
        outputs: {
          repository: text(at(payload, "repository.full_name")),
          sender: text(at(payload, "sender.login")),
          ...outputs,
        },
      }];
    },
    subscribe: (ctx, registration) => createRepositoryHook(ctx, registration, spec.event),
    unsubscribe: deleteRepositoryHook,
  };
}

const hookParams = z.object({ repository });

/** GitHub's 422 error message when a hook with this URL and an overlapping event exists. */
const HOOK_EXISTS = /Hook already exists on this repository/;

/** The subscription id: the repository with the hook's id, as an unsubscribe may come after its params are gone. */
const SUBSCRIPTION_ID = /^(.+)\/hooks\/([0-9]+)$/;

interface RepositoryHook {
  id?: unknown;
  config?: { url?: unknown };
}

/**
 * Creates the hook (POST /repos/{owner}/{repo}/hooks). When GitHub answers that it exists already (an
 * earlier attempt created it but its answer was lost), the hook with our URL is found, set to this
 * registration's secret and event, and kept.
 */
async function createRepositoryHook(
  ctx: NodeContext,
  registration: WebhookRegistration,
  event: string,
): Promise<{ subscriptionId: string }> {
  const { repository: fullName } = parseParams(hookParams, registration.params);
  const hooksPath = `${repositoryPath(fullName)}/hooks`;
  const settings = {
    events: [event],
    active: true,
    config: { url: registration.endpoint, content_type: "json", secret: registration.secret, insecure_ssl: "0" },
  };
  let id: number;
  try {
    const response = await githubRequest(ctx, "POST", hooksPath, settings);
    id = hookId(
      await readJson<RepositoryHook>(response, "GitHub answered the hook creation with something else than JSON"),
    );
  } catch (error) {
    if (!(error instanceof PermanentError && error.status === 422 && HOOK_EXISTS.test(error.message))) throw error;
    id = await findHook(ctx, hooksPath, registration.endpoint);
    await (await githubRequest(ctx, "PATCH", `${hooksPath}/${id}`, settings)).body?.cancel();
  }
  return { subscriptionId: `${fullName}/hooks/${id}` };
}

/** The id of the repository's hook that calls `url` (GET /repos/{owner}/{repo}/hooks, every page). */
async function findHook(ctx: NodeContext, hooksPath: string, url: string): Promise<number> {
  for await (const page of githubPages<RepositoryHook>(ctx, hooksPath)) {
    const hook = page.find((candidate) => candidate?.config?.url === url);
    if (hook) return hookId(hook);
  }
  throw new PermanentError(`GitHub says the hook exists, but no hook of ${hooksPath} calls ${url}`);
}

function hookId(hook: RepositoryHook): number {
  if (typeof hook?.id !== "number" || !Number.isSafeInteger(hook.id)) {
    throw new PermanentError("GitHub described a repository hook without its id");
  }
  return hook.id;
}

/** Deletes the hook (DELETE /repos/{owner}/{repo}/hooks/{id}); one already gone is success. */
async function deleteRepositoryHook(
  ctx: NodeContext,
  registration: WebhookRegistration & { subscriptionId: string },
): Promise<void> {
  const { fullName, id } = hookTarget(registration);
  try {
    await (await githubRequest(ctx, "DELETE", `${repositoryPath(fullName)}/hooks/${id}`)).body?.cancel();
  } catch (error) {
    // 404: deleted by hand, or the repository is gone or no longer visible to this account; either
    // way there is nothing left to delete from here.
    if (error instanceof PermanentError && !(error instanceof AuthError) && error.status === 404) return;
    throw error;
  }
}

/** The repository and hook id of a subscription: from the id itself, or a bare hook id with the params. */
function hookTarget(registration: WebhookRegistration & { subscriptionId: string }): { fullName: string; id: string } {
  const match = SUBSCRIPTION_ID.exec(registration.subscriptionId);
  if (match && repository.safeParse(match[1]).success) return { fullName: match[1], id: match[2] };
  if (/^[0-9]+$/.test(registration.subscriptionId)) {
    return { fullName: parseParams(hookParams, registration.params).repository, id: registration.subscriptionId };
  }
  throw new PermanentError(`"${registration.subscriptionId}" is not a GitHub repository hook subscription`);
}

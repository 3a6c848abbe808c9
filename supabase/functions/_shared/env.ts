// What the functions read from their environment, once per isolate.
import { type Keyring, loadKeyring } from "../../../packages/nodes/src/crypto.ts";
import { enabledServices } from "../../../packages/nodes/src/registry.ts";
import type { ServiceDefinition } from "../../../packages/nodes/src/define.ts";

export const env = Deno.env.toObject();

/** Where browsers and webhook senders reach the functions: the project's public URL. */
export const publicUrl = env.AREA_PUBLIC_URL ?? env.SUPABASE_URL ?? "http://127.0.0.1:54321";

/** The services declared in packages/nodes that this deployment serves. */
export const declarations = enabledServices(env);

/** The declared service `key`, if this deployment serves it. */
export const declaredService = (key: string): ServiceDefinition | undefined =>
  declarations.find((service) => service.key === key);

let keyring: Promise<Keyring> | undefined;

/** The AREA_ENCRYPTION_KEY keyring that seals credentials and webhook secrets, loaded once. */
export const credentialKeyring = (): Promise<Keyring> => (keyring ??= loadKeyring(env.AREA_ENCRYPTION_KEY));

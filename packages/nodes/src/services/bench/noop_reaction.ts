import { z } from "zod";
import type { ReactionDefinition } from "../../define.ts";

export const noopReaction: ReactionDefinition = {
  key: "noop",
  name: "Do nothing",
  description: "Succeeds at once: measures the engine's own cost. Bench stacks only.",
  params: z.object({}),
  run: () => Promise.resolve({ ok: true }),
};

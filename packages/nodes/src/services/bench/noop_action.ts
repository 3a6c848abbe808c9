import { z } from "zod";
import type { ActionDefinition } from "../../define.ts";
import { deliveryKey } from "../../delivery.ts";

export const noopAction: ActionDefinition = {
  key: "noop",
  name: "Bench request",
  description: "Any POST to the hook's endpoint, unsigned: measures the pipeline, not the verifier. Bench stacks only.",
  params: z.object({}),
  outputs: z.object({
    seq: z.number().meta({ description: "The body's seq number (0 without one), to match requests with runs" }),
  }),
  sample: { seq: 1 },
  trigger: {
    webhook: {
      requiresRegistration: false,
      verify: () => Promise.resolve(true),
      events: (request) => {
        const seq = (request.body as { seq?: unknown } | null)?.seq;
        return [{ dedupeKey: deliveryKey(request.headers), outputs: { seq: typeof seq === "number" ? seq : 0 } }];
      },
    },
  },
};

// npm run chaos [-- --only worker_killed,postgres_restarted] [--events 3000] [--rate 150]: the
// fault-injection scenarios of tests/chaos at full size, on a throwaway stack, with a table of what
// each measured (also in .local/chaos/latest.json), then the capacity measurement (throughput at 1,
// 2 and 4 workers). The same scenarios run at quick size in npm test; capacity only here.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "./lib/database.ts";
import { ChaosStack } from "../tests/chaos/harness.ts";
import { capacity, type Figures, full, scenarios as faults } from "../tests/chaos/scenarios.ts";

const scenarios = { ...faults, capacity };

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    events: { type: "string", default: String(full.count) },
    rate: { type: "string", default: String(full.rate) },
  },
});
const names = Object.keys(scenarios) as (keyof typeof scenarios)[];
const only = args.only?.split(",").map((name) => name.trim()) ?? names;
for (const name of only) {
  if (!(name in scenarios)) throw new Error(`--only: unknown scenario "${name}" (one of ${names.join(", ")})`);
}
const size = { count: Number(args.events), rate: Number(args.rate) };
if (!(size.count > 0 && size.rate > 0)) throw new Error("--events and --rate must be positive numbers");

const say = (line: string) => console.log(`chaos   | ${line}`);
say(`starting a throwaway stack; ${size.count} events per scenario at ${size.rate}/s`);
const stack = await ChaosStack.start("chaos", say);
const results: Record<string, Figures | { error: string }> = {};
let failed = 0;
try {
  for (const name of only) {
    say(`${name}…`);
    const started = Date.now();
    try {
      results[name] = {
        ...(await scenarios[name as keyof typeof scenarios](stack, size)),
        seconds: (Date.now() - started) / 1000,
      };
      say(`${name}: ${JSON.stringify(results[name])}`);
    } catch (error) {
      failed++;
      results[name] = { error: (error as Error).message };
      say(`${name}: FAILED ${(error as Error).message}`);
      await stack.stopWorkers();
    }
  }
} finally {
  await stack.stop();
}
const output = join(root, ".local", "chaos");
mkdirSync(output, { recursive: true });
writeFileSync(join(output, "latest.json"), JSON.stringify({ size, results }, null, 2) + "\n");
console.log();
for (const [name, figures] of Object.entries(results)) {
  console.log(`${name.padEnd(22)} ${Object.entries(figures).map(([key, value]) => `${key}=${value}`).join("  ")}`);
}
say(`results in ${join(output, "latest.json")}`);
process.exit(failed > 0 ? 1 : 0);

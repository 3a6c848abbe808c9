// The fault-injection suite at quick sizes (`npm run chaos` runs it at full size and prints the
// figures): real worker processes on a throwaway stack of their own, so killing workers and
// restarting Postgres touches nothing the other suites use.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ChaosStack } from "./chaos/harness.ts";
import { quick, scenarios } from "./chaos/scenarios.ts";

let stack: ChaosStack;
before(async () => {
  stack = await ChaosStack.start("chaos-test");
});
after(() => stack?.stop());

for (const [name, scenario] of Object.entries(scenarios)) {
  test(`chaos: ${name.replaceAll("_", " ")}`, async () => {
    const figures = await scenario(stack, quick);
    console.log(`# ${name}: ${JSON.stringify(figures)}`);
  });
}

test("chaos: pg_cron never overlaps a job's runs, and retention prunes its run history", async () => {
  const { rows: overlaps } = await stack.pool.query(
    `select a.jobid, a.runid, b.runid as overlapping
     from cron.job_run_details a join cron.job_run_details b
       on a.jobid = b.jobid and a.runid < b.runid and b.start_time < a.end_time`,
  );
  assert.deepEqual(overlaps, []);
  const { rows: [old] } = await stack.pool.query<{ runid: string }>(
    `insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message,
                                       start_time, end_time)
     select jobid, nextval('cron.runid_seq'), 0, current_database(), 'postgres', command, 'succeeded', '1 row',
            now() - interval '8 days', now() - interval '8 days'
     from cron.job where jobname = 'area-retention' returning runid`,
  );
  await stack.pool.query("call private.purge_expired_logs()");
  const { rows } = await stack.pool.query("select 1 from cron.job_run_details where runid = $1", [old.runid]);
  assert.equal(rows.length, 0, "a run older than a week is pruned");
});

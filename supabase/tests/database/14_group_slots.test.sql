-- private.claim_execution_slots(): at most `cap` of a group's area.execute jobs hold a slot at once;
-- a slot is held while its job stays active in the attempt it was admitted in; the excess is
-- deferred to a new job for the same event, in the same place in line, spending no attempt. (Two
-- worker processes racing for slots, and a killed one: tests/group_slots.test.ts.)
begin;
create extension if not exists pgtap with schema extensions;
select plan(22);

select ok(has_function_privilege('service_role', 'private.claim_execution_slots(jsonb, integer)', 'execute'),
  'the worker (service role) claims slots');
select ok(not has_function_privilege('authenticated', 'private.claim_execution_slots(jsonb, integer)', 'execute')
          and not has_function_privilege('anon', 'private.claim_execution_slots(jsonb, integer)', 'execute'),
  'users and anon cannot');
select throws_ok($$select private.claim_execution_slots('[]', 0)$$, '22023', 'cap: must be an integer of at least 1, got 0',
  'a cap below 1 is named');
select throws_ok($$select private.claim_execution_slots('{}', 2)$$, '22023', 'jobs: must be an array of {id, retry_count}',
  'jobs must be an array');

-- Jobs as a fetch leaves them: active, started, at their retry_count; created a second apart.
create function pg_temp.fetched(n integer, grp text, retries integer default 0, data jsonb default '{}')
returns uuid
language plpgsql
as $$
declare
  job_id uuid := ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid;
begin
  perform private.enqueue('area.execute', data || jsonb_build_object('hookLogId', gen_random_uuid()),
                          jsonb_build_object('id', job_id, 'group', jsonb_build_object('id', grp), 'retryLimit', 7));
  update pgboss.job set state = 'active', started_on = now(), retry_count = retries,
                        created_on = now() - interval '1 hour' + n * interval '1 second'
  where name = 'area.execute' and id = job_id;
  return job_id;
end
$$;
create function pg_temp.claim(cap integer, variadic ids uuid[]) returns uuid[]
language sql
as $$
  select coalesce(array_agg(c order by c), '{}') from private.claim_execution_slots(
    (select jsonb_agg(jsonb_build_object('id', j.id, 'retry_count', j.retry_count))
     from pgboss.job j where j.name = 'area.execute' and j.id = any (ids)), cap) c
$$;
create function pg_temp.job(n integer) returns uuid
language sql
as $$ select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid $$;

select pg_temp.fetched(1, 'user-a'), pg_temp.fetched(2, 'user-a', 1), pg_temp.fetched(3, 'user-a'),
       pg_temp.fetched(4, 'user-b');
select is(pg_temp.claim(2, pg_temp.job(3), pg_temp.job(1), pg_temp.job(2), pg_temp.job(4)),
  array[pg_temp.job(1), pg_temp.job(2), pg_temp.job(4)],
  'fetched together over the cap: the oldest up to the cap are admitted, other groups'' jobs too');
select is((select array_agg(output order by id) from pgboss.job where id in (pg_temp.job(1), pg_temp.job(2))),
  array['{"admitted_attempt": 0}', '{"admitted_attempt": 1}']::jsonb[], 'a slot is marked with the attempt it was given to');
select is((select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted
             and classid = hashtext('private.claim_execution_slots')::oid
             and objid in (hashtext('user-a')::oid, hashtext('user-b')::oid)),
  2, 'the groups'' locks are held until the transaction ends, one per group');

-- The excess: deferred, not run.
select is((select state::text || ' ' || (output ? 'deferred')::text from pgboss.job where id = pg_temp.job(3)),
  'completed true', 'the job over the cap is settled as deferred (pg-boss''s completion of it is then a no-op)');
create temporary table replacement on commit drop as
select j.* from pgboss.job j
where j.name = 'area.execute' and j.state = 'created' and j.group_id = 'user-a'
  and j.data ->> 'hookLogId' = (select data ->> 'hookLogId' from pgboss.job where id = pg_temp.job(3));
select is((select count(*)::int from replacement), 1, 'a new job runs the same event');
select is((select (data ->> 'attemptsBefore')::int from replacement), 0, 'without spending an attempt');
select is((select created_on from replacement), (select created_on from pgboss.job where id = pg_temp.job(3)),
  'in the event''s place in line');
select ok((select start_after - now() between interval '200 milliseconds' and interval '400 milliseconds' from replacement),
  'a few hundred milliseconds later');
select is((select retry_limit || ' ' || dead_letter from replacement), '7 area.dead',
  'with the job''s retry budget and dead letter queue');

-- Slots held count; a slot comes back when its job leaves `active`, or its attempt ends.
select pg_temp.fetched(5, 'user-a', 2, '{"attemptsBefore": 3}');
select is(pg_temp.claim(2, pg_temp.job(5)), '{}'::uuid[], 'with the cap held by earlier calls, a newcomer is deferred');
select is((select (data ->> 'attemptsBefore')::int from pgboss.job
           where state = 'created' and data ->> 'hookLogId' = (select data ->> 'hookLogId' from pgboss.job
                                                               where id = pg_temp.job(5))),
  5, 'the attempts spent so far (earlier jobs'' and this one''s retries) are carried');
update pgboss.job set state = 'completed' where id = pg_temp.job(1);
select pg_temp.fetched(6, 'user-a');
select is(pg_temp.claim(2, pg_temp.job(6)), array[pg_temp.job(6)], 'a completed job''s slot is free again');
update pgboss.job set state = 'active', retry_count = 2 where id = pg_temp.job(2); -- failed, then fetched again
select pg_temp.fetched(7, 'user-a');
select is(pg_temp.claim(2, pg_temp.job(7)), array[pg_temp.job(7)],
  'a slot given to an attempt that ended is free, though the job is active again');
select is(pg_temp.claim(2, pg_temp.job(2)), '{}'::uuid[], 'and that new attempt must claim one like any other');
select pg_temp.fetched(8, 'user-a');
select is((select count(*)::int from private.claim_execution_slots(
             jsonb_build_array(jsonb_build_object('id', pg_temp.job(8), 'retry_count', 5)), 2)),
  0, 'an attempt the caller no longer holds is neither admitted…');
select is((select state::text || ' ' || coalesce(output::text, 'null') from pgboss.job where id = pg_temp.job(8)),
  'active null', '…nor deferred');

-- Jobs without a group are not limited.
select private.enqueue('area.execute', '{"hookLogId": "00000000-0000-4000-8000-0000000000f0"}',
                       '{"id": "00000000-0000-4000-8000-0000000000f0"}');
update pgboss.job set state = 'active' where id = '00000000-0000-4000-8000-0000000000f0';
select is(pg_temp.claim(1, '00000000-0000-4000-8000-0000000000f0'), array['00000000-0000-4000-8000-0000000000f0'::uuid],
  'a job without a group is admitted');
select is((select output from pgboss.job where id = '00000000-0000-4000-8000-0000000000f0'), null, 'and takes no slot');

select * from finish();
rollback;

-- create_area(): every rule of the validator, each bad definition with its own message and
-- the field path; good definitions stored whole, with their hook job and webhook secret.
begin;
create extension if not exists pgtap with schema extensions;
select plan(60);
\ir fixtures.psql

-- Anonymous callers are refused before anything is read.
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok($sql$select public.create_area('{}')$sql$, '42501', null, 'anon cannot call create_area');
reset role;

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';

select throws_ok(
  $sql$select public.create_area('[]')$sql$,
  '22023', 'the definition must be a JSON object', 'rejects a non-object definition');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}], "colour": "red"}')$sql$,
  '22023', 'colour: is not a known field (expected one of: name, description, enabled, condition, action, reactions)', 'rejects an unknown top-level field');
select throws_ok(
  $sql$select public.create_area('{"action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'name: is required (a non-empty string)', 'rejects a missing name');
select throws_ok(
  $sql$select public.create_area('{"name": "   ", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'name: is required (a non-empty string)', 'rejects a blank name');
select throws_ok(
  $sql$select public.create_area('{"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'name: must be at most 100 characters', 'rejects a name over 100 characters');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}], "description": 42}')$sql$,
  '22023', 'description: must be a string', 'rejects a description that is not a string');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}], "enabled": "yes"}')$sql$,
  '22023', 'enabled: must be true or false', 'rejects enabled that is not a boolean');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}], "condition": [1]}')$sql$,
  '22023', 'condition: must be an object or null', 'rejects a condition that is not an object');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action: is required (an object with service and name)', 'rejects a missing action');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "nope", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.service: there is no service "nope"', 'rejects an unknown service');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "nope"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.name: service "webhook" has no action "nope"', 'rejects an unknown action');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received", "when": "now"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.when: is not a known field (expected one of: service, name, params, connection_id, polling_interval_seconds)', 'rejects an unknown action field');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received", "params": {"colour": "red"}}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.params.colour: is not a parameter of webhook/received', 'rejects an unknown action param');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "timer", "name": "every_interval", "params": {}}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.params.seconds: is required', 'rejects a missing required action param');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "timer", "name": "every_interval", "params": {"seconds": "ten"}}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.params.seconds: must be a number', 'rejects an action param of the wrong type');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "timer", "name": "every_interval", "params": {"seconds": "{{count}}"}}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.params.seconds: placeholders are only allowed in reaction params', 'rejects a placeholder in an action param');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "timer", "name": "every_interval", "params": {"seconds": 10}, "polling_interval_seconds": 2}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.polling_interval_seconds: must be a whole number of seconds, at least 5', 'rejects a polling interval below the minimum');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received", "polling_interval_seconds": 60}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'action.polling_interval_seconds: webhook/received is not polled', 'rejects a polling interval on a webhook action');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": {"service": "http"}}')$sql$,
  '22023', 'reactions: must be an array', 'rejects reactions that are not an array');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": []}')$sql$,
  '22023', 'reactions: must hold between 1 and 10 reactions', 'rejects no reaction');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}]}')$sql$,
  '22023', 'reactions: must hold between 1 and 10 reactions', 'rejects eleven reactions');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "nope"}]}')$sql$,
  '22023', 'reactions[0].name: service "http" has no reaction "nope"', 'rejects an unknown reaction');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}, "retries": 3}]}')$sql$,
  '22023', 'reactions[0].retries: is not a known field (expected one of: service, name, params, connection_id, continue_on_error)', 'rejects an unknown reaction field');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {}}]}')$sql$,
  '22023', 'reactions[0].params.url: is required', 'rejects a missing required reaction param');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "ftp://example.org"}}]}')$sql$,
  '22023', 'reactions[0].params.url: must be an http(s) URL', 'rejects a URL that is not http(s)');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org", "method": "BREW"}}]}')$sql$,
  '22023', 'reactions[0].params.method: must be one of GET, POST, PUT, PATCH, DELETE', 'rejects a value outside an enum');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org", "body": {"a": 1}}}]}')$sql$,
  '22023', 'reactions[0].params.body: must be a string', 'rejects a string param given an object');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org", "body": "{{nope}}"}}]}')$sql$,
  '22023', 'reactions[0].params.body: {{nope}} does not name an output of webhook/received (outputs: body, headers, query, received_at)', 'rejects a placeholder naming no output');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org", "body": "{{received_at.day}}"}}]}')$sql$,
  '22023', 'reactions[0].params.body: {{received_at.day}}: received_at is a date output; only json outputs have fields', 'rejects a dotted placeholder into a non-json output');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org", "body": "{{ 1x }}"}}]}')$sql$,
  '22023', 'reactions[0].params.body: {{1x}} is not a placeholder: write {{output}} or {{output.field}}', 'rejects a malformed placeholder');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org", "body": "{{body"}}]}')$sql$,
  '22023', 'reactions[0].params.body: has an unclosed {{ or a stray }}', 'rejects an unclosed placeholder');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "params": {"token": "x"}}]}')$sql$,
  '22023', 'reactions[0].connection_id: service "vault" needs a connection', 'rejects a service that needs a connection without one');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}, "connection_id": "e0000000-0000-4000-8000-0000000000ea"}]}')$sql$,
  '22023', 'reactions[0].connection_id: service "http" takes no connection', 'rejects a connection on a service that takes none');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000eb", "params": {"token": "t0p"}}]}')$sql$,
  '22023', 'reactions[0].connection_id: no such connection', 'rejects another user''s connection');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "mine", "params": {"token": "t0p"}}]}')$sql$,
  '22023', 'reactions[0].connection_id: must be a connection id (uuid)', 'rejects a connection id that is not a uuid');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "params": {"token": ""}}]}')$sql$,
  '22023', 'reactions[0].params.token: must not be empty', 'rejects an empty secret');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "params": {"token": "x", "slot": "A1"}}]}')$sql$,
  '22023', 'reactions[0].params.slot: must match ^[a-z]+$', 'rejects a string breaking the param''s regex');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "params": {"token": "x", "when": "next tuesday"}}]}')$sql$,
  '22023', 'reactions[0].params.when: must be an ISO 8601 date-time', 'rejects a date that is not ISO 8601');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "params": {"token": "x", "contact": "alice-at-example"}}]}')$sql$,
  '22023', 'reactions[0].params.contact: must be an email address', 'rejects an invalid email');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "params": {"token": "x", "flag": "true"}}]}')$sql$,
  '22023', 'reactions[0].params.flag: must be true or false', 'rejects a boolean param given a string');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}, "continue_on_error": 1}]}')$sql$,
  '22023', 'reactions[0].continue_on_error: must be true or false', 'rejects continue_on_error that is not a boolean');
select throws_ok(
  $sql$select public.create_area('{"name": "Test", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "http", "name": "request", "params": {"url": "https://example.org/hook"}}, {"service": "http", "name": "request", "params": {}}]}')$sql$,
  '22023', 'reactions[1].params.url: is required', 'rejects an error in the second reaction names its index');
-- A revoked connection cannot be used.
reset role;
update public.user_services set status = 'revoked', last_error = 'revoked at the provider'
where id = 'e0000000-0000-4000-8000-0000000000ea';
set local role authenticated;
select throws_ok(
  $sql$select public.create_area('{"name": "T", "action": {"service": "webhook", "name": "received"}, "reactions": [{"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "params": {"token": "x"}}]}')$sql$,
  '22023', 'reactions[0].connection_id: is revoked: reconnect the account first', 'rejects a revoked connection');
reset role;
update public.user_services set status = 'active', last_error = null where id = 'e0000000-0000-4000-8000-0000000000ea';
set local role authenticated;

select is((select count(*) from public.areas)::integer, 0, 'no rejected definition left anything behind');

-- The DESIGN.md example: a webhook AREA, with its endpoint and its secret shown once.
create temporary table created on commit drop as
select public.create_area($json${"name": "Push to chat", "description": "optional", "enabled": true,
  "action": {"service": "webhook", "name": "received", "params": {}, "connection_id": null},
  "reactions": [{"service": "http", "name": "request", "connection_id": null,
    "params": {"url": "https://example.org/hook", "method": "POST",
               "headers": {"content-type": "application/json"}, "body": "{\"text\": \"{{body.text}}\"}"}}]}$json$) as result;
select is((select result ->> 'name' from created), 'Push to chat', 'the AREA is returned');
select matches((select result -> 'webhook' ->> 'secret' from created), '^whsec_[0-9a-f]{64}$', 'the webhook secret is returned');
select is((select result -> 'webhook' ->> 'endpoint' from created),
  '/functions/v1/webhooks/webhook/' || (select result -> 'hook' ->> 'id' from created), 'the endpoint names the hook job');
select is((select result -> 'hook' ->> 'status' from created), 'active', 'an enabled AREA has an active hook job');
select is(
  (select public.area_definition((result ->> 'id')::uuid) -> 'reactions' -> 0 -> 'params' from created),
  '{"url": "https://example.org/hook", "method": "POST", "headers": {"content-type": "application/json"}, "body": "{\"text\": \"{{body.text}}\"}"}'::jsonb,
  'reaction params are stored as given');
select is(
  (select private.area_result((result ->> 'id')::uuid) -> 'webhook' ->> 'secret' from created),
  (select result -> 'webhook' ->> 'secret' from created), 'within the creating transaction the secret is still readable');
select throws_ok($sql$select * from private.hook_job_secrets$sql$, '42501', null, 'the secret table is not readable by users');

-- A polled action with a connection-backed reaction using every param type.
create temporary table timed on commit drop as
select public.create_area($json${"name": "Every 10 s", "enabled": false,
  "action": {"service": "timer", "name": "every_interval", "params": {"seconds": 10}},
  "reactions": [
    {"service": "vault", "name": "store", "connection_id": "e0000000-0000-4000-8000-0000000000ea", "continue_on_error": true,
     "params": {"token": "s3cret", "slot": "abc", "when": "2026-01-01T00:00:00Z", "contact": "a@example.org",
                "count": "{{count}}", "flag": true, "level": "high", "link": "https://example.org"}},
    {"service": "http", "name": "request", "params": {"url": "https://example.org/{{count}}", "body": "fired at {{fired_at}}"}}]}$json$) as result;
select is((select result -> 'hook' ->> 'type' from timed), 'polling', 'a timer is polled');
select is((select (result -> 'hook' ->> 'polling_interval_seconds')::integer from timed), 10, 'at the interval its param gives');
select is((select result -> 'hook' ->> 'status' from timed), 'paused', 'a disabled AREA''s hook job is paused');
select is((select result -> 'webhook' from timed), 'null'::jsonb, 'a polled AREA has no webhook');
select is((select jsonb_array_length(result -> 'reactions') from timed), 2, 'both reactions are stored');
select is((select result -> 'reactions' -> 0 ->> 'continue_on_error' from timed), 'true', 'continue_on_error is stored');
select is((select count(*) from public.area_reactions)::integer, 3, 'reactions are rows, in position order');

select is((select count(*) from public.areas)::integer, 2, 'exactly the two valid AREAs exist');

select * from finish();
rollback;

-- Invariants that hold for direct table writes (supabase-js, Studio), not only for
-- create_area(): checked by constraints, composite keys and the deferred AREA check.
-- `set constraints all immediate` makes the deferred check fire at the statement, so each
-- case can be asserted on its own.
begin;
create extension if not exists pgtap with schema extensions;
select plan(22);
\ir fixtures.psql

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';

-- A draft built row by row, as a frontend does with supabase-js.
insert into public.areas (id, name) values ('f0000000-0000-4000-8000-0000000000f1', 'Draft');
select lives_ok($$set constraints all immediate$$, 'a disabled AREA without action or reaction is a valid draft');
set constraints all deferred;

savepoint s;
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f1';
select throws_ok($$set constraints all immediate$$, '22023',
  'action: is required (an object with service and name)', 'an enabled AREA needs an action');
rollback to savepoint s;

insert into public.area_actions (id, area_id, service_action_id)
select 'f0000000-0000-4000-8000-0000000000a1', 'f0000000-0000-4000-8000-0000000000f1', id
from public.service_actions where key = 'every_interval';
insert into public.area_action_param_values (area_action_id, param_id, value)
select 'f0000000-0000-4000-8000-0000000000a1', id, '30' from public.service_action_params where name = 'seconds';
select lives_ok($$set constraints all immediate$$, 'the draft with an action is still valid');
set constraints all deferred;
select is((select service_action_id from public.area_action_param_values),
  (select id from public.service_actions where key = 'every_interval'), 'the catalogue id of a value is filled in');

savepoint s;
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f1';
select throws_ok($$set constraints all immediate$$, '22023',
  'reactions: must hold between 1 and 10 reactions', 'an enabled AREA needs at least one reaction');
rollback to savepoint s;

insert into public.area_reactions (id, area_id, service_reaction_id, position)
select 'f0000000-0000-4000-8000-0000000000b1', 'f0000000-0000-4000-8000-0000000000f1', id, 0
from public.service_reactions where key = 'request';
savepoint s;
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f1';
select throws_ok($$set constraints all immediate$$, '22023',
  'reactions[0].params.url: is required', 'enabling checks required params');
rollback to savepoint s;

insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select 'f0000000-0000-4000-8000-0000000000b1', p.id, '"https://example.org/{{count}}"'
from public.service_reaction_params p join public.service_reactions r on r.id = p.reaction_id
where r.key = 'request' and p.name = 'url';
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f1';
select lives_ok($$set constraints all immediate$$, 'a complete AREA can be enabled by direct writes');
set constraints all deferred;
select is((select status::text from public.hook_jobs where area_id = 'f0000000-0000-4000-8000-0000000000f1'),
  'active', 'enabling by direct write activates the hook job');

-- Values are checked against their param's type, whichever way they are written.
savepoint s;
update public.area_action_param_values set value = '"often"';
select throws_ok($$set constraints all immediate$$, '22023', 'action.params.seconds: must be a number',
  'a value of the wrong type is rejected');
rollback to savepoint s;

savepoint s;
update public.area_reaction_param_values set value = '"https://example.org/{{nope}}"';
select throws_ok($$set constraints all immediate$$, '22023',
  'reactions[0].params.url: {{nope}} does not name an output of timer/every_interval (outputs: fired_at, count)',
  'a placeholder naming no output is rejected');
rollback to savepoint s;

-- A value cannot be attached to a param of another action: the composite key forbids it.
select throws_ok(
  $$insert into public.area_action_param_values (area_action_id, param_id, value)
    select 'f0000000-0000-4000-8000-0000000000a1', id, '"x"' from public.service_reaction_params where name = 'url'$$,
  '23503', null, 'a param of another node cannot be referenced');

-- Another user's connection cannot be referenced, even by id.
select throws_ok(
  $$insert into public.area_reactions (area_id, service_reaction_id, position, user_service_id)
    values ('f0000000-0000-4000-8000-0000000000f1', 'd0000000-0000-4000-8000-0000000000d2', 1,
            'e0000000-0000-4000-8000-0000000000eb')$$,
  '42501', null, 'a connection of another user is refused by RLS');

reset role;
savepoint s;
insert into public.area_reactions (area_id, service_reaction_id, position, user_service_id)
values ('f0000000-0000-4000-8000-0000000000f1', 'd0000000-0000-4000-8000-0000000000d2', 1, 'e0000000-0000-4000-8000-0000000000eb');
select throws_ok($$set constraints all immediate$$, '22023', 'reactions[1].connection_id: no such connection',
  'even where RLS does not apply (Studio), another user''s connection is refused');
rollback to savepoint s;

-- Positions are unique per AREA (checked at commit, so reordering can swap).
savepoint s;
insert into public.area_reactions (area_id, service_reaction_id, position)
select 'f0000000-0000-4000-8000-0000000000f1', id, 0 from public.service_reactions where key = 'request';
select throws_ok($$set constraints all immediate$$, '23505', null, 'two reactions cannot share a position');
rollback to savepoint s;

select throws_ok($$update public.areas set name = '  ' where id = 'f0000000-0000-4000-8000-0000000000f1'$$,
  '23514', null, 'a blank name is refused by a check constraint');
select throws_ok($$insert into public.service_action_params (action_id, name, type, validation_regex)
  values ('d0000000-0000-4000-8000-0000000000d3', 'bad', 'string', '([')$$,
  '23514', null, 'a broken regular expression cannot enter the catalogue');
select throws_ok($$insert into public.service_action_params (action_id, name, type)
  values ('d0000000-0000-4000-8000-0000000000d3', 'choice', 'enum')$$,
  '23514', null, 'an enum param needs its options');
select throws_ok($$update public.hook_jobs set type = 'webhook'$$, '23514', null,
  'a hook job''s type and its fields stay consistent');

-- Users cannot touch counters or the pause reason, nor other columns AREA owns.
set local role authenticated;
select throws_ok($$update public.areas set triggered_count = 100$$, '42501', null,
  'triggered_count is not the user''s to set');
select throws_ok($$update public.areas set user_id = 'b0000000-0000-4000-8000-00000000000b'$$, '42501', null,
  'an AREA cannot be given away');

-- Deleting a connection pauses the enabled AREAs using it, with a reason the user can read.
reset role;
insert into public.areas (id, user_id, name) values ('f0000000-0000-4000-8000-0000000000f2', 'a0000000-0000-4000-8000-00000000000a', 'Vault');
insert into public.area_actions (area_id, service_action_id)
select 'f0000000-0000-4000-8000-0000000000f2', id from public.service_actions where key = 'received';
insert into public.area_reactions (id, area_id, service_reaction_id, position, user_service_id)
values ('f0000000-0000-4000-8000-0000000000b2', 'f0000000-0000-4000-8000-0000000000f2', 'd0000000-0000-4000-8000-0000000000d2', 0,
        'e0000000-0000-4000-8000-0000000000ea');
insert into public.area_reaction_param_values (area_reaction_id, param_id, value)
select 'f0000000-0000-4000-8000-0000000000b2', id, '"t0k"' from public.service_reaction_params where name = 'token';
update public.areas set enabled = true where id = 'f0000000-0000-4000-8000-0000000000f2';
set constraints all immediate;
set constraints all deferred;
delete from public.user_services where id = 'e0000000-0000-4000-8000-0000000000ea';
select lives_ok($$set constraints all immediate$$, 'deleting a connection in use leaves a consistent state');
select is((select (enabled, paused_reason) from public.areas where id = 'f0000000-0000-4000-8000-0000000000f2'),
  row(false, 'its connection was deleted'::text), 'its AREA is disabled with a reason');

select * from finish();
rollback;

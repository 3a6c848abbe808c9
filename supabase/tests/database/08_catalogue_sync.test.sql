-- sync_catalogue(): upserts what packages/nodes declares, retires what it no longer declares,
-- and changes nothing on a repeat.
begin;
create extension if not exists pgtap with schema extensions;
select plan(13);

create temporary table doc (v jsonb) on commit drop;
insert into doc values ($json${"services": [
  {"key": "demo", "name": "Demo", "description": "d", "icon": null, "auth_kind": "oauth2",
   "actions": [{"key": "ping", "name": "Ping", "description": "", "polling_supported": true, "webhook_supported": false,
                "requires_registration": false, "min_polling_interval_seconds": 30, "default_polling_interval_seconds": 60,
                "polling_interval_param": null, "params_schema": {}, "outputs_schema": {}, "sample": {"at": "x"},
                "params": [{"name": "room", "type": "string", "required": true, "default_value": null, "placeholder": null,
                            "validation_regex": "^[a-z]+$", "options": null, "description": null, "display_order": 0},
                           {"name": "mode", "type": "enum", "required": false, "default_value": "fast", "placeholder": null,
                            "validation_regex": null, "options": ["fast", "slow"], "description": null, "display_order": 1}],
                "outputs": [{"name": "at", "type": "date", "description": null, "display_order": 0}]}],
   "reactions": [{"key": "pong", "name": "Pong", "description": "", "params_schema": {},
                  "params": [{"name": "text", "type": "string", "required": true, "default_value": null, "placeholder": null,
                              "validation_regex": null, "options": null, "description": null, "display_order": 0}]}]}]}$json$);

select cmp_ok((select (public.sync_catalogue(v) ->> 'changed')::integer from doc), '>', 0, 'a first sync writes rows');
select is((select auth_kind::text from public.services where key = 'demo'), 'oauth2', 'the service is stored');
select is((select count(*)::integer from public.service_action_params p join public.service_actions a on a.id = p.action_id
           where a.key = 'ping'), 2, 'its params are stored');
select is((select options from public.service_action_params where name = 'mode'), '["fast", "slow"]'::jsonb,
  'enum options are stored');
select is((select active from public.services where key = 'webhook'), false,
  'a service the document does not declare is retired (kept for history, inactive)');

create temporary table before on commit drop as select updated_at from public.services where key = 'demo';
select is((select public.sync_catalogue(v) from doc), '{"changed": 0}'::jsonb, 'a repeat changes nothing');
select is((select updated_at from public.services where key = 'demo'), (select updated_at from before),
  'not even updated_at');

update doc set v = jsonb_set(jsonb_set(v, '{services,0,actions,0,params}', (v #> '{services,0,actions,0,params}') - 1),
                             '{services,0,reactions}', '[]');
select is((select public.sync_catalogue(v) from doc), '{"changed": 2}'::jsonb,
  'removing a param and a reaction counts two changes');
select is((select count(*)::integer from public.service_action_params where name = 'mode'), 0,
  'a param the code no longer declares is deleted');
select is((select active from public.service_reactions where key = 'pong'), false, 'a removed reaction is retired');

update doc set v = jsonb_set(v, '{services,0,reactions}',
  '[{"key": "pong", "name": "Pong again", "description": "", "params_schema": {}, "params": []}]');
select is((select public.sync_catalogue(v) from doc), '{"changed": 2}'::jsonb,
  'bringing it back renamed and without its param counts two changes');
select is((select (active, name) from public.service_reactions where key = 'pong'), row(true, 'Pong again'::text),
  'it is active again, with its new name');

set local role authenticated;
select throws_ok($$select public.sync_catalogue('{"services": []}')$$, '42501', null,
  'users cannot sync the catalogue');
reset role;

select * from finish();
rollback;

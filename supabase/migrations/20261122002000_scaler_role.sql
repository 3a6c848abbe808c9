-- The role an autoscaler (KEDA's PostgreSQL scaler, deploy/k8s) reads queue depth with. It can
-- read pg-boss's job table and nothing else. It cannot log in: an operator creates a login role
-- for the scaler and grants it this one (README: "Running in production").
-- Roles belong to the cluster, not the database, so a database recreated on the same cluster
-- finds it already there.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'area_scaler') then
    create role area_scaler nologin;
  end if;
end
$$;
comment on role area_scaler is
  'Read-only access to pgboss.job, for autoscalers that scale workers on the ready queue depth. Grant it to a login role.';
grant usage on schema pgboss to area_scaler;
grant select on pgboss.job to area_scaler;

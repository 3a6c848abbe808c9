-- Extensions the platform is built on.
-- pg_cron schedules the polling tick and retention; on Supabase it is enabled the same way.
create extension if not exists pg_cron;
grant usage on schema cron to postgres;

-- Extensions the platform is built on.
-- pg_cron schedules the polling tick and retention. Supabase installs it into pg_catalog
-- (its objects live in schema `cron` either way), which keeps it out of `public`.
create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres;

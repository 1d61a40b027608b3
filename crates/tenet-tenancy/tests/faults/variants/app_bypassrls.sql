-- The app role bypasses row-level security.
-- check: app-role-bypassrls
-- prove: table public.tasks read; table public.projects read; table public.comments read; table public.events read
ALTER ROLE {{app}} BYPASSRLS;

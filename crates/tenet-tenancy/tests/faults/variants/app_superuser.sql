-- The app role is a superuser.
-- check: app-role-superuser
-- prove: table public.tasks read; table public.projects read; table public.comments read; table public.events read
ALTER ROLE {{app}} SUPERUSER;

-- Row-level security not forced: the table owner sees every tenant.
-- check: rls-not-forced
-- prove: table public.tasks owner
ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY;

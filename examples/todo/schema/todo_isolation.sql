-- Tenant isolation for the Todo schema: the application role, its grants, and the row-level
-- security Tenet generated for todo.sql from the [tenancy] section of ../tenet.toml
-- (`tenet tenancy generate schema`, run before this file existed). `tenet tenancy check`
-- keeps it honest: it fails when a table is left unprotected.

-- The role the API connects as; created only where missing (roles are shared by the cluster).
DO $$ BEGIN CREATE ROLE todo_app LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks TO todo_app;


-- Keys lead with the tenant column.
ALTER TABLE public.tasks DROP CONSTRAINT tasks_pkey, ADD CONSTRAINT tasks_pkey PRIMARY KEY (user_id, id);

-- Row-level security, enabled and forced.
ALTER TABLE public.tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tasks FORCE ROW LEVEL SECURITY;
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;

-- Policies: the tenant column equals the setting, read once per query, no rows when it is missing or empty.
CREATE POLICY tenant_isolation ON public.tasks AS PERMISSIVE FOR ALL TO todo_app USING (user_id = (SELECT NULLIF(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT NULLIF(current_setting('app.user_id', true), '')::uuid));
CREATE POLICY tenant_isolation ON public.users AS PERMISSIVE FOR ALL TO todo_app USING (id = (SELECT NULLIF(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (id = (SELECT NULLIF(current_setting('app.user_id', true), '')::uuid));

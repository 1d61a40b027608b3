-- 20261130063449_tenant_isolation: up
-- Written by `tenet migrate new` from ./schema; review it before applying. Tenet runs
-- it in one transaction (statements marked "runs outside a transaction" alone).
SET check_function_bodies = false;

-- role todo_app
DO $tenet$ BEGIN CREATE ROLE todo_app LOGIN NOSUPERUSER NOBYPASSRLS INHERIT; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $tenet$;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks DROP CONSTRAINT tasks_pkey;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks ENABLE ROW LEVEL SECURITY;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks FORCE ROW LEVEL SECURITY;

-- table public.users: ACCESS EXCLUSIVE lock
ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;

-- table public.users: ACCESS EXCLUSIVE lock
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;

-- table public.tasks: SHARE UPDATE EXCLUSIVE lock, builds an index, may fail on existing rows, runs outside a transaction
-- unique index built concurrently, then attached as the constraint
CREATE UNIQUE INDEX CONCURRENTLY tasks_pkey ON public.tasks (user_id, id);

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks ADD CONSTRAINT tasks_pkey PRIMARY KEY USING INDEX tasks_pkey;

-- table public.tasks: ACCESS EXCLUSIVE lock
CREATE POLICY tenant_isolation ON public.tasks FOR ALL TO todo_app USING ((user_id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS "nullif"))) WITH CHECK ((user_id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS "nullif")));

-- table public.users: ACCESS EXCLUSIVE lock
CREATE POLICY tenant_isolation ON public.users FOR ALL TO todo_app USING ((id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS "nullif"))) WITH CHECK ((id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS "nullif")));

-- table public.tasks
GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE public.tasks TO todo_app;

-- table public.users
GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE public.users TO todo_app;

-- 20261130063449_tenant_isolation: down
-- Written by `tenet migrate new` from ./schema; review it before applying. Tenet runs
-- it in one transaction (statements marked "runs outside a transaction" alone).
SET check_function_bodies = false;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks DROP CONSTRAINT tasks_pkey;

-- table public.tasks: ACCESS EXCLUSIVE lock
DROP POLICY tenant_isolation ON public.tasks;

-- table public.users: ACCESS EXCLUSIVE lock
DROP POLICY tenant_isolation ON public.users;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks DISABLE ROW LEVEL SECURITY;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks NO FORCE ROW LEVEL SECURITY;

-- table public.users: ACCESS EXCLUSIVE lock
ALTER TABLE public.users DISABLE ROW LEVEL SECURITY;

-- table public.users: ACCESS EXCLUSIVE lock
ALTER TABLE public.users NO FORCE ROW LEVEL SECURITY;

-- table public.tasks: SHARE UPDATE EXCLUSIVE lock, builds an index, may fail on existing rows, runs outside a transaction
-- unique index built concurrently, then attached as the constraint
CREATE UNIQUE INDEX CONCURRENTLY tasks_pkey ON public.tasks (id);

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks ADD CONSTRAINT tasks_pkey PRIMARY KEY USING INDEX tasks_pkey;

-- table public.tasks
REVOKE ALL ON TABLE public.tasks FROM todo_app;

-- table public.users
REVOKE ALL ON TABLE public.users FROM todo_app;

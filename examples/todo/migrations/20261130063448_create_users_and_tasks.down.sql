-- 20261130063448_create_users_and_tasks: down (it drops what the up migration created: data in it is lost)
-- Written by `tenet migrate new` from ./schema; review it before applying. Tenet runs
-- it in one transaction (statements marked "runs outside a transaction" alone).
SET check_function_bodies = false;

-- table public.tasks: ACCESS EXCLUSIVE lock
ALTER TABLE public.tasks DROP CONSTRAINT tasks_user_id_fkey;

-- table public.users: ACCESS EXCLUSIVE lock, loses data
DROP TABLE public.users;

-- table public.tasks: ACCESS EXCLUSIVE lock, loses data
DROP TABLE public.tasks;

-- function public.touch_updated_at()
DROP FUNCTION public.touch_updated_at();

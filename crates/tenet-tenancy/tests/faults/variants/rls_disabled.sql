-- Row-level security switched off on one table.
-- check: rls-disabled
-- prove: table public.tasks read; table public.tasks update; table public.tasks delete; table public.tasks insert; table public.tasks no-setting; table public.tasks empty-setting
ALTER TABLE tasks DISABLE ROW LEVEL SECURITY;

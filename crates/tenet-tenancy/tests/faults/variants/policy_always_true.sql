-- A second permissive policy that is always true.
-- check: policy-always-true
-- prove: table public.tasks read; table public.tasks update; table public.tasks delete; table public.tasks insert; table public.tasks no-setting
CREATE POLICY open_door ON tasks TO {{app}} USING (true);

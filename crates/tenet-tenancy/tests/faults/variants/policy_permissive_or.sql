-- A permissive read policy on another column, OR-ed with the tenant policy.
-- check: policy-permissive-or
-- prove: table public.tasks read; table public.tasks no-setting
CREATE POLICY urgent_for_all ON tasks FOR SELECT TO {{app}} USING (priority >= 1);

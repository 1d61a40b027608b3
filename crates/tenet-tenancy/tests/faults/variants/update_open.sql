-- An UPDATE policy open to every row: blind updates reach other tenants.
-- check: policy-always-true
-- prove: table public.tasks update
CREATE POLICY edit_anything ON tasks FOR UPDATE TO {{app}} USING (true) WITH CHECK (true);

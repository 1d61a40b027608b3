-- WITH CHECK lets any tenant's rows in.
-- check: policy-always-true
-- prove: table public.projects insert
DROP POLICY tenant_isolation ON projects;
CREATE POLICY tenant_isolation ON projects TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (true);

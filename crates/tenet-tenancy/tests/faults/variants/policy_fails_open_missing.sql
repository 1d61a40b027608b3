-- The policy admits everything when the setting is missing.
-- check: policy-fails-open
-- prove: table public.projects no-setting
DROP POLICY tenant_isolation ON projects;
CREATE POLICY tenant_isolation ON projects TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)
           OR (SELECT current_setting('app.tenant_id', true)) IS NULL)
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));

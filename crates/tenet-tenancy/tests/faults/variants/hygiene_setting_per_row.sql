-- Hygiene: the setting read for every row instead of once.
-- check: setting-per-row
-- prove: none
DROP POLICY tenant_isolation ON tasks;
CREATE POLICY tenant_isolation ON tasks TO {{app}}
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

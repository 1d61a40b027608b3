-- The UPDATE policy reads A's rows only, but WITH CHECK (true) lets A hand them to tenant B
-- (planting data in B's account). Reads stay isolated; only a push shows it.
-- check: policy-always-true
-- prove: table public.projects push
DROP POLICY tenant_isolation ON projects;
CREATE POLICY tenant_read ON projects FOR SELECT TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY tenant_insert ON projects FOR INSERT TO {{app}}
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY tenant_delete ON projects FOR DELETE TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
CREATE POLICY tenant_update ON projects FOR UPDATE TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (true);

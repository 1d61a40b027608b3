-- A COALESCE fallback to the row's own tenant: with no setting every row matches.
-- check: policy-fails-open
-- prove: table public.events no-setting
DROP POLICY tenant_isolation ON events;
CREATE POLICY tenant_isolation ON events TO {{app}}
    USING (tenant_id = coalesce((SELECT nullif(current_setting('app.tenant_id', true), '')::uuid), tenant_id))
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));

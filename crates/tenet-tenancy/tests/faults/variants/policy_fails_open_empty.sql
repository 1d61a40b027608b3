-- The policy admits everything when the setting is an empty string (and reads it per row).
-- check: policy-fails-open, setting-per-row
-- prove: table public.comments empty-setting
DROP POLICY tenant_isolation ON comments;
CREATE POLICY tenant_isolation ON comments TO {{app}}
    USING (CASE WHEN current_setting('app.tenant_id', true) = '' THEN true
                ELSE tenant_id = (SELECT current_setting('app.tenant_id', true)::uuid) END)
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));

-- USING compares nothing with the setting.
-- check: policy-not-restricting
-- prove: table public.comments read; table public.comments update; table public.comments delete; table public.comments no-setting
DROP POLICY tenant_isolation ON comments;
CREATE POLICY tenant_isolation ON comments TO {{app}}
    USING (tenant_id IS NOT NULL)
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));

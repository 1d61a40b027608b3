-- Hygiene: the app role may write comments, but no policy admits a write (fails closed).
-- check: policy-missing
-- prove: none
DROP POLICY tenant_isolation ON comments;
CREATE POLICY read_own ON comments FOR SELECT TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));

-- A column grant writes rows like a table grant: comments is read-only to the app role but
-- for an UPDATE on one column, and no policy admits that update (it fails closed).
-- check: policy-missing
-- prove: none
DROP POLICY tenant_isolation ON comments;
CREATE POLICY read_own ON comments FOR SELECT TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
REVOKE INSERT, UPDATE, DELETE ON comments FROM {{app}};
GRANT UPDATE (body) ON comments TO {{app}};

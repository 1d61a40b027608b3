-- Hygiene: no index led by the tenant column (slow, not leaky).
-- check: tenant-index-missing
-- prove: none
SET ROLE {{owner}};
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    message text NOT NULL,
    PRIMARY KEY (id, tenant_id)
);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT, INSERT ON audit_log TO {{app}};
RESET ROLE;

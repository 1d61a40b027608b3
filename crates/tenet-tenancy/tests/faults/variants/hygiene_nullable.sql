-- Hygiene: a nullable tenant column. Nothing leaks through the policy (prove plants a row with
-- no tenant and finds it invisible), but such rows belong to nobody.
-- check: tenant-column-nullable
-- prove: none
SET ROLE {{owner}};
CREATE TABLE attachments (
    tenant_id uuid REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL,
    UNIQUE (tenant_id, id)
);
ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON attachments TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE, DELETE ON attachments TO {{app}};
RESET ROLE;

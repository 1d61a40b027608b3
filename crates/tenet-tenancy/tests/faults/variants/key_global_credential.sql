-- A key over a credential (an API token) must stay global: check does not ask to widen it,
-- generate keeps it and says why, prove's unique probe leaves it alone. The label key is an
-- ordinary one: widened, unless [tenancy] global_keys lists it (test
-- generate_keeps_keys_that_must_stay_global); as it stands it is an oracle prove shows.
-- check: key-without-tenant
-- prove: table public.api_tokens unique
SET ROLE {{owner}};
CREATE TABLE api_tokens (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    token text NOT NULL UNIQUE,
    label text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT api_tokens_label_key UNIQUE (label)
);
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens TO {{app}}
    USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens TO {{app}};
RESET ROLE;

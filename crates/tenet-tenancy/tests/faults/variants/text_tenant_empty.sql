-- A text tenant column without CHECK (tenant_id <> ''): a job writing with an empty setting
-- stores rows every tenant-less connection reads back.
-- check: tenant-column-admits-empty, policy-empty-setting
-- prove: table public.notes empty-write
SET ROLE {{owner}};
CREATE TABLE notes (
    tenant_id text NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    body text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notes TO {{app}}
    USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
    WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO {{app}};
RESET ROLE;

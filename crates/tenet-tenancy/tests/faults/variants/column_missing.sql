-- A tenant-scoped table without the tenant column.
-- check: tenant-column-missing
-- prove: table public.notes read; table public.notes no-setting; table public.notes empty-setting
SET ROLE {{owner}};
CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO {{app}};
RESET ROLE;

-- A unique key across tenants: a unique violation tells one tenant what another holds.
-- check: key-without-tenant
-- prove: table public.projects unique
ALTER TABLE projects DROP CONSTRAINT projects_tenant_id_name_key;
ALTER TABLE projects ADD CONSTRAINT projects_name_key UNIQUE (name);

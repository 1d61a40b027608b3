-- The tenant registry's API keys, readable through a column grant: check reads the column's
-- ACL, prove asks the server.
-- check: global-table-secret
-- prove: table public.tenants secret
ALTER TABLE tenants ADD COLUMN api_key text NOT NULL DEFAULT md5(random()::text);
REVOKE SELECT ON tenants FROM {{app}};
GRANT SELECT (id, name, plan_id, api_key) ON tenants TO {{app}};

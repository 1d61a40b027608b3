-- The tenant registry holds each tenant's API key, and every tenant reads the registry.
-- check: global-table-secret
-- prove: table public.tenants secret
ALTER TABLE tenants ADD COLUMN api_key text NOT NULL DEFAULT md5(random()::text);

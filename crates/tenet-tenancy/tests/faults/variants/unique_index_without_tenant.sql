-- A unique index across tenants.
-- check: key-without-tenant
-- prove: table public.comments unique
CREATE UNIQUE INDEX comments_body_key ON comments (body);

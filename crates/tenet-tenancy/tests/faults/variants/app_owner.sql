-- The app role owns a tenant table: it can switch row-level security off.
-- check: app-role-owner
-- prove: table public.tasks escalate
ALTER TABLE tasks OWNER TO {{app}};

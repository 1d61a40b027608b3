-- The app role can become a reporting role with BYPASSRLS.
-- check: app-role-member
-- prove: table public.tasks escalate; table public.comments escalate
ALTER ROLE {{other}} BYPASSRLS;
GRANT SELECT ON tasks, comments TO {{other}};
GRANT {{other}} TO {{app}};

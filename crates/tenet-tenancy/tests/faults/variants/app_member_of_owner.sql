-- The app role belongs to the owning role.
-- (Members inherit ownership, so the app role also reaches the partition directly.)
-- check: app-role-member, partition-without-policy
-- prove: table public.tasks escalate; table public.projects escalate
GRANT {{owner}} TO {{app}};

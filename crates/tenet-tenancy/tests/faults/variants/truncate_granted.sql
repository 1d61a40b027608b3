-- TRUNCATE ignores row-level security: tenant A empties every tenant's comments.
-- check: privilege-beyond-rls
-- prove: table public.comments truncate
GRANT TRUNCATE ON comments TO {{app}};

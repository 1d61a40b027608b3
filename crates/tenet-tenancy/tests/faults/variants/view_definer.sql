-- A view over a tenant table that runs with its (superuser) owner's rights.
-- check: view-not-security-invoker
-- prove: view public.all_tasks read; view public.all_tasks no-setting
CREATE VIEW all_tasks AS SELECT * FROM tasks;
GRANT SELECT ON all_tasks TO {{app}};

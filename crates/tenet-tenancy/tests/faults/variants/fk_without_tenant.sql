-- A foreign key that does not carry the tenant column (and the global key it needs).
-- check: fk-without-tenant, key-without-tenant
-- prove: table public.comments insert-ref; table public.tasks unique
ALTER TABLE tasks ADD CONSTRAINT tasks_id_key UNIQUE (id);
ALTER TABLE comments DROP CONSTRAINT comments_tenant_id_task_id_fkey;
ALTER TABLE comments ADD CONSTRAINT comments_task_fkey FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE;

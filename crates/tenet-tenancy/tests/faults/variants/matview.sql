-- A materialized view over a tenant table: a copy without row-level security.
-- check: matview-over-tenant
-- prove: materialized view public.task_counts read; materialized view public.task_counts no-setting
CREATE MATERIALIZED VIEW task_counts AS SELECT tenant_id, count(*) AS n FROM tasks GROUP BY tenant_id;
GRANT SELECT ON task_counts TO {{app}};

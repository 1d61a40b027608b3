-- A clean multi-tenant schema: every rule of `tenet tenancy check` holds, and `tenet prove`
-- finds no leak. The fault variants in variants/ each break isolation one way on top of it.
--
-- Placeholders (replaced by the test harness, unique per test so tests can run in parallel on
-- one cluster): {{app}} is the role the application connects as, {{owner}} owns the schema,
-- {{other}} is an unrelated role some variants use.
--
-- tenet.toml for it:
--   [tenancy]
--   column = "tenant_id"
--   setting = "app.tenant_id"
--   app_role = "{{app}}"
--   global_tables = ["plans", "tenants"]

DO $$ BEGIN CREATE ROLE {{app}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {{owner}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {{other}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
GRANT CREATE, USAGE ON SCHEMA public TO {{owner}};
SET ROLE {{owner}};

CREATE TYPE task_status AS ENUM ('open', 'doing', 'done');
CREATE DOMAIN short_text AS text CHECK (length(VALUE) BETWEEN 1 AND 200);

-- Shared reference data.
CREATE TABLE plans (
    id integer PRIMARY KEY,
    name text NOT NULL UNIQUE,
    max_projects integer NOT NULL CHECK (max_projects > 0)
);
CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    plan_id integer NOT NULL REFERENCES plans (id)
);

-- Tenant data: the tenant column first in every key, composite foreign keys.
CREATE TABLE projects (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name short_text NOT NULL,
    archived boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
CREATE TABLE tasks (
    tenant_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    project_id bigint NOT NULL,
    parent_id bigint,
    title text NOT NULL CHECK (title <> ''),
    status task_status NOT NULL DEFAULT 'open',
    priority integer NOT NULL CHECK (priority BETWEEN 1 AND 5),
    due date,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, parent_id) REFERENCES tasks (tenant_id, id) ON DELETE SET NULL (parent_id)
);
CREATE INDEX tasks_project_idx ON tasks (tenant_id, project_id);
CREATE TABLE comments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    task_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('note', 'review')),
    body text NOT NULL CHECK (body <> ''),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX comments_task_idx ON comments (tenant_id, task_id);
CREATE TABLE events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_current PARTITION OF events FOR VALUES FROM ('2000-01-01') TO ('2200-01-01');

-- Row-level security, forced, one policy per table reading the setting once.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['projects', 'tasks', 'comments', 'events'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO {{app}} '
            'USING (tenant_id = (SELECT nullif(current_setting(''app.tenant_id'', true), '''')::uuid)) '
            'WITH CHECK (tenant_id = (SELECT nullif(current_setting(''app.tenant_id'', true), '''')::uuid))', t);
    END LOOP;
END $$;

-- A view that runs with the caller's rights.
CREATE VIEW open_tasks WITH (security_invoker = true) AS
    SELECT t.tenant_id, t.id, t.title, p.name AS project
    FROM tasks t JOIN projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
    WHERE t.status = 'open';

-- A SECURITY DEFINER function over shared data only.
CREATE FUNCTION plan_name(p_plan integer) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT name FROM plans WHERE id = p_plan $$;

GRANT SELECT ON plans, tenants TO {{app}};
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, tasks, comments, events TO {{app}};
GRANT SELECT ON open_tasks TO {{app}};

RESET ROLE;

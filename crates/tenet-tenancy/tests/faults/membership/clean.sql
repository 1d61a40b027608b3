-- A clean membership schema: users belong to organisations through `memberships`, and every
-- policy admits the rows of the organisations the current user is a member of. `tenet tenancy
-- check` reports nothing and `tenet prove` (two users in two organisations) finds no leak.
--
-- tenet.toml for it:
--   [tenancy]
--   column = "org_id"
--   setting = "app.user_id"          # the setting names the user, not the tenant
--   app_role = "{{app}}"
--   global_tables = ["users"]
--   [tenancy.membership]
--   table = "memberships"
--   user_column = "user_id"

DO $$ BEGIN CREATE ROLE {{app}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {{owner}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {{other}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
GRANT CREATE, USAGE ON SCHEMA public TO {{owner}};
SET ROLE {{owner}};

-- Accounts: shared, not readable by the app role (sign-in runs elsewhere).
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE
);
-- The tenants: organisations (the tenant root, its rows are the tenants).
CREATE TABLE orgs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL
);
-- Who may reach which organisation. Changed only by the owner (invitations run elsewhere).
CREATE TABLE memberships (
    org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id, org_id);
CREATE TABLE projects (
    org_id uuid NOT NULL REFERENCES orgs (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE TABLE tasks (
    org_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    project_id bigint NOT NULL,
    title text NOT NULL CHECK (title <> ''),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    -- prove once gave up here: its counters overflowed numeric(5,2).
    estimate numeric(5,2) NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);

ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects FORCE ROW LEVEL SECURITY;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks FORCE ROW LEVEL SECURITY;

-- A user sees their own memberships...
CREATE POLICY own_memberships ON memberships FOR SELECT TO {{app}}
    USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
-- ...and the organisations, projects and tasks of the organisations they belong to.
CREATE POLICY member_orgs ON orgs FOR SELECT TO {{app}}
    USING (id IN (SELECT org_id FROM memberships
                  WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)));
CREATE POLICY member_projects ON projects TO {{app}}
    USING (org_id IN (SELECT org_id FROM memberships
                      WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)))
    WITH CHECK (org_id IN (SELECT org_id FROM memberships
                           WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)));
CREATE POLICY member_tasks ON tasks TO {{app}}
    USING (EXISTS (SELECT 1 FROM memberships m
                   WHERE m.org_id = tasks.org_id
                     AND m.user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)))
    WITH CHECK (EXISTS (SELECT 1 FROM memberships m
                        WHERE m.org_id = tasks.org_id
                          AND m.user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)));

GRANT SELECT ON orgs, memberships TO {{app}};
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, tasks TO {{app}};

RESET ROLE;

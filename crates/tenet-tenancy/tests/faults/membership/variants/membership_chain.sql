-- project_notes -> projects -> orgs: notes carry no org_id; their policy follows the foreign
-- key into projects and from there the membership. Check accepts it (no tenant-column-missing,
-- no policy-not-restricting) and keeps projects' id key global because the chain needs it;
-- prove finds the notes isolated. The global key remains an oracle (a guessable bigint id):
-- prove shows it (and the notes' own bigint key), the price of keys without org_id.
-- check:
-- prove: table public.projects unique; table public.project_notes unique
ALTER TABLE projects ADD CONSTRAINT projects_id_key UNIQUE (id);
SET ROLE {{owner}};
CREATE TABLE project_notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    body text NOT NULL
);
ALTER TABLE project_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY member_notes ON project_notes TO {{app}}
    USING (project_id IN (SELECT id FROM projects WHERE org_id IN (
        SELECT org_id FROM memberships
        WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid))))
    WITH CHECK (project_id IN (SELECT id FROM projects WHERE org_id IN (
        SELECT org_id FROM memberships
        WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid))));
GRANT SELECT, INSERT, UPDATE, DELETE ON project_notes TO {{app}};
RESET ROLE;

-- The policy asks whether the user is a member of some organisation, not of the row's: every
-- member reaches every organisation's projects.
-- check: policy-not-restricting
-- prove: table public.projects read; table public.projects update; table public.projects delete; table public.projects insert
DROP POLICY member_projects ON projects;
CREATE POLICY member_projects ON projects TO {{app}}
    USING (EXISTS (SELECT 1 FROM memberships
                   WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)))
    WITH CHECK (EXISTS (SELECT 1 FROM memberships
                        WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)));

-- service_role bypasses row-level security by design (server-side code holds its key): its
-- grants and policies are trusted, never findings. anon with a per-user policy sees nothing
-- (it has no user), so it is not a finding either.
-- check:
-- prove: none
DO $$ BEGIN CREATE ROLE service_role NOLOGIN BYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
GRANT USAGE ON SCHEMA public TO service_role;
GRANT ALL ON notes, profiles TO service_role;
CREATE POLICY service_all ON notes TO service_role USING (true) WITH CHECK (true);
CREATE POLICY anon_own ON profiles FOR SELECT TO {{other}} USING ((SELECT auth.uid()) = user_id);
GRANT SELECT ON profiles TO {{other}};

-- The anonymous API role is judged too: a "public" read policy for anon shows every user's
-- notes to anyone holding the project's public key, and TRUNCATE empties them. (prove acts
-- as the app role, authenticated, so it shows nothing here.)
-- check: policy-always-true, privilege-beyond-rls
-- prove: none
CREATE POLICY anyone_reads ON notes FOR SELECT TO {{other}} USING (true);
GRANT SELECT, TRUNCATE ON notes TO {{other}};

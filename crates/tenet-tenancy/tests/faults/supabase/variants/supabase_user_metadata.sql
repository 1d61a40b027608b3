-- The policy trusts user_metadata, which every user edits through the auth API: anyone can
-- claim any user's notes. (prove cannot forge such a token, so it shows nothing.)
-- check: policy-not-restricting
-- prove: none
DROP POLICY own_notes ON notes;
CREATE POLICY own_notes ON notes TO {{app}}
    USING ((((SELECT auth.jwt()) -> 'user_metadata') ->> 'owner')::uuid = user_id)
    WITH CHECK ((SELECT auth.uid()) = user_id);

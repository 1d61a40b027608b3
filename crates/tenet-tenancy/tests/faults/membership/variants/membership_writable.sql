-- The app role may insert memberships for its own user: a user joins any organisation.
-- check: membership-writable
-- prove: table public.memberships insert
GRANT INSERT ON memberships TO {{app}};
CREATE POLICY join_self ON memberships FOR INSERT TO {{app}}
    WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));

-- A table with row-level security on and no policy for the API role: check says so, and the
-- policy generate writes reads the user from auth.uid() (never casts the JSON claims).
-- check: policy-missing
-- prove: none
SET ROLE {{owner}};
CREATE TABLE bookmarks (
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    url text NOT NULL,
    PRIMARY KEY (user_id, id)
);
ALTER TABLE bookmarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookmarks FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON bookmarks TO {{app}};
RESET ROLE;

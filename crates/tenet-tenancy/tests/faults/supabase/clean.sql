-- A clean Supabase schema: per-user rows, policies on the real `auth.uid()` (the definition
-- in supabase/auth's migration 20220224000811), JWT claims as PostgREST sets them
-- (`request.jwt.claims`, a JSON object), and the managed schemas (auth, storage) left to the
-- platform: their tables have no policies here and must not be judged.
--
-- tenet.toml for it:
--   [tenancy]
--   preset = "supabase"     # setting request.jwt.claims, app role authenticated
--   column = "user_id"
-- ({{app}} stands for `authenticated`, {{other}} for `anon`.)

DO $$ BEGIN CREATE ROLE {{app}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {{owner}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {{other}} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;

CREATE SCHEMA auth;
CREATE TABLE auth.users (
    id uuid PRIMARY KEY,
    email text,
    encrypted_password text,
    raw_user_meta_data jsonb
);
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  select
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;
GRANT USAGE ON SCHEMA auth TO {{app}}, {{other}}, {{owner}};
GRANT REFERENCES ON auth.users TO {{owner}};

-- Storage: Supabase's own tables, granted to the API roles, with policies Supabase manages.
CREATE SCHEMA storage;
CREATE TABLE storage.buckets (id text PRIMARY KEY, name text NOT NULL, owner uuid);
CREATE TABLE storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    owner uuid
);
GRANT USAGE ON SCHEMA storage TO {{app}}, {{other}};
GRANT ALL ON storage.buckets, storage.objects TO {{app}}, {{other}};

GRANT CREATE, USAGE ON SCHEMA public TO {{owner}};
SET ROLE {{owner}};

CREATE TABLE profiles (
    user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    display_name text NOT NULL,
    avatar_url text
);
CREATE TABLE notes (
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    id bigint GENERATED ALWAYS AS IDENTITY,
    title text NOT NULL CHECK (title <> ''),
    done boolean NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, id)
);
ALTER TABLE profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE profiles FORCE ROW LEVEL SECURITY;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
-- Supabase's recommended form: auth.uid() in a sub-select, evaluated once per query.
CREATE POLICY own_profile ON profiles TO {{app}}
    USING ((SELECT auth.uid()) = user_id) WITH CHECK ((SELECT auth.uid()) = user_id);
CREATE POLICY own_notes ON notes TO {{app}}
    USING ((SELECT auth.uid()) = user_id) WITH CHECK ((SELECT auth.uid()) = user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON profiles, notes TO {{app}};

RESET ROLE;

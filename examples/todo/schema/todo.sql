-- Todo: a multi-user task list. Desired state, as plain PostgreSQL DDL.
--
-- Every row of user data belongs to one user: `tasks.user_id` is the tenant column, and a
-- user's own row in `users` is keyed by `users.id`. Row-level security is not written here;
-- Tenet generates it from the [tenancy] section of ../tenet.toml.
--
-- gen_random_uuid() is built into PostgreSQL 13 and later: no extension is needed.

CREATE TABLE users (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    email        text        NOT NULL,
    display_name text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    -- Stored lower-case, so the unique constraint is also case-insensitive.
    CONSTRAINT users_email_check CHECK (email = lower(email) AND email LIKE '_%@_%'),
    CONSTRAINT users_display_name_check CHECK (char_length(display_name) BETWEEN 1 AND 100)
);

COMMENT ON TABLE users IS 'People who sign in. Each user owns their tasks.';
COMMENT ON COLUMN users.id IS 'The user''s identity; tasks.user_id refers to it and the app.user_id setting carries it.';
COMMENT ON COLUMN users.email IS 'Sign-in address, stored lower-case; unique.';
COMMENT ON COLUMN users.display_name IS 'Name shown in the app; optional.';

CREATE TABLE tasks (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    title        text        NOT NULL,
    description  text,
    status       text        NOT NULL DEFAULT 'todo',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT tasks_pkey PRIMARY KEY (id),
    CONSTRAINT tasks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT tasks_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT tasks_status_check CHECK (status IN ('todo', 'doing', 'done')),
    -- A task is done exactly when it has a completion time.
    CONSTRAINT tasks_completed_at_check CHECK ((status = 'done') = (completed_at IS NOT NULL))
);

-- Both indexes lead with the owner column: every query the app makes is for one user, and
-- ON DELETE CASCADE from users finds a user's tasks through them.
-- A user's list, newest first:
CREATE INDEX tasks_user_id_created_at_idx ON tasks (user_id, created_at DESC);
-- A user's tasks in one state ("what am I doing?"):
CREATE INDEX tasks_user_id_status_idx ON tasks (user_id, status);

COMMENT ON TABLE tasks IS 'A user''s to-do items. Tenant-scoped by user_id.';
COMMENT ON COLUMN tasks.user_id IS 'Owner of the task (the tenant column).';
COMMENT ON COLUMN tasks.title IS 'Short summary, 1 to 200 characters.';
COMMENT ON COLUMN tasks.status IS 'todo, doing or done.';
COMMENT ON COLUMN tasks.updated_at IS 'Time of the last change, kept by the tasks_touch_updated_at trigger.';
COMMENT ON COLUMN tasks.completed_at IS 'When the task was marked done; set exactly when status is done.';

-- Keeps tasks.updated_at current on every update.
CREATE FUNCTION touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION touch_updated_at() IS 'Trigger function: sets updated_at to the time of the change.';

CREATE TRIGGER tasks_touch_updated_at
    BEFORE UPDATE ON tasks
    FOR EACH ROW
    EXECUTE FUNCTION touch_updated_at();

-- 20261130063448_create_users_and_tasks: up
-- Written by `tenet migrate new` from ./schema; review it before applying. Tenet runs
-- it in one transaction (statements marked "runs outside a transaction" alone).
SET check_function_bodies = false;

-- function public.touch_updated_at()
CREATE OR REPLACE FUNCTION public.touch_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog'
AS $function$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$function$;

-- table public.tasks
CREATE TABLE public.tasks (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    title text NOT NULL,
    description text,
    status text DEFAULT 'todo'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT tasks_completed_at_check CHECK (((status = 'done'::text) = (completed_at IS NOT NULL))),
    CONSTRAINT tasks_pkey PRIMARY KEY (id),
    CONSTRAINT tasks_status_check CHECK ((status = ANY (ARRAY['todo'::text, 'doing'::text, 'done'::text]))),
    CONSTRAINT tasks_title_check CHECK (((char_length(title) >= 1) AND (char_length(title) <= 200)))
);

-- table public.users
CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    display_name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_display_name_check CHECK (((char_length(display_name) >= 1) AND (char_length(display_name) <= 100))),
    CONSTRAINT users_email_check CHECK (((email = lower(email)) AND (email ~~ '_%@_%'::text))),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

-- table public.tasks
CREATE INDEX tasks_user_id_created_at_idx ON public.tasks USING btree (user_id, created_at DESC);

-- table public.tasks
CREATE INDEX tasks_user_id_status_idx ON public.tasks USING btree (user_id, status);

-- table public.tasks: SHARE ROW EXCLUSIVE lock
CREATE TRIGGER tasks_touch_updated_at BEFORE UPDATE ON public.tasks FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

-- table public.tasks: SHARE ROW EXCLUSIVE lock
ALTER TABLE public.tasks ADD CONSTRAINT tasks_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

-- table public.tasks
COMMENT ON TABLE public.tasks IS 'A user''s to-do items. Tenant-scoped by user_id.';
COMMENT ON COLUMN public.tasks.user_id IS 'Owner of the task (the tenant column).';
COMMENT ON COLUMN public.tasks.title IS 'Short summary, 1 to 200 characters.';
COMMENT ON COLUMN public.tasks.status IS 'todo, doing or done.';
COMMENT ON COLUMN public.tasks.updated_at IS 'Time of the last change, kept by the tasks_touch_updated_at trigger.';
COMMENT ON COLUMN public.tasks.completed_at IS 'When the task was marked done; set exactly when status is done.';

-- table public.users
COMMENT ON TABLE public.users IS 'People who sign in. Each user owns their tasks.';
COMMENT ON COLUMN public.users.id IS 'The user''s identity; tasks.user_id refers to it and the app.user_id setting carries it.';
COMMENT ON COLUMN public.users.email IS 'Sign-in address, stored lower-case; unique.';
COMMENT ON COLUMN public.users.display_name IS 'Name shown in the app; optional.';

-- function public.touch_updated_at()
COMMENT ON FUNCTION public.touch_updated_at() IS 'Trigger function: sets updated_at to the time of the change.';

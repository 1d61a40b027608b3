-- A SECURITY DEFINER PL/pgSQL function that changes any tenant's rows.
-- check: security-definer-function
-- prove: function public.close_task(p_id bigint) call
CREATE FUNCTION close_task(p_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    AS $$ BEGIN UPDATE public.tasks SET status = 'done' WHERE id = p_id; END $$;

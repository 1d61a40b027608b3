-- A SECURITY DEFINER function that returns any tenant's rows.
-- check: security-definer-function
-- prove: function public.tenant_task_titles(p_tenant uuid) call
CREATE FUNCTION tenant_task_titles(p_tenant uuid) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT title FROM tasks WHERE tenant_id = p_tenant $$;

-- A LEAKPROOF function runs before the row-level security filter; this one raises a NOTICE
-- with its argument, so `WHERE shout(title)` shows other tenants' titles.
-- check: leakproof-function
-- prove: none
CREATE FUNCTION shout(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE LEAKPROOF
    AS $$ BEGIN RAISE NOTICE '%', t; RETURN true; END $$;

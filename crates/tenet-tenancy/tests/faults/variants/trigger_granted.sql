-- TRIGGER lets the app role attach its own code to every tenant's writes, REFERENCES lets it
-- probe other tenants' keys through a foreign key of its own.
-- check: privilege-beyond-rls
-- prove: none
GRANT TRIGGER, REFERENCES ON comments TO {{app}};

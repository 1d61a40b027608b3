-- A tenant can rewrite the shared plans (and with them every other tenant's limits).
-- check: global-table-writable
-- prove: none
GRANT UPDATE ON plans TO {{app}};

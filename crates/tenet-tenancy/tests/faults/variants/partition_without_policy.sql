-- A partition the app role can query directly, without policies of its own.
-- check: partition-without-policy
-- prove: table public.events_current read; table public.events_current no-setting
GRANT SELECT ON events_current TO {{app}};

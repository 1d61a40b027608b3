-- A DELETE policy open to every row.
-- check: policy-always-true
-- prove: table public.comments delete
CREATE POLICY purge ON comments FOR DELETE TO {{app}} USING (true);

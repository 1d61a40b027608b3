-- A "public read" policy next to the per-user one: permissive policies are OR-ed.
-- check: policy-permissive-or
-- prove: table public.notes read
CREATE POLICY anyone_reads ON notes FOR SELECT TO {{app}} USING (done);

-- Default privileges: for every schema (replacing the built-in ones) and for one schema.
do $$ begin create role tenet_rt_reader nologin; exception when duplicate_object or unique_violation then null; end $$;
do $$ begin create role tenet_rt_writer nologin; exception when duplicate_object or unique_violation then null; end $$;
create schema app;
create table app.before_defaults (id int);
alter default privileges in schema app grant select on tables to tenet_rt_reader;
alter default privileges in schema app grant insert, update on tables to tenet_rt_writer with grant option;
alter default privileges in schema app grant usage on sequences to tenet_rt_writer;
alter default privileges revoke execute on functions from public;
alter default privileges grant execute on functions to tenet_rt_reader;
alter default privileges revoke usage on types from public;
alter default privileges grant usage on schemas to tenet_rt_reader;
alter default privileges for role tenet_rt_writer grant select on tables to tenet_rt_reader;
create table app.after_defaults (id int);

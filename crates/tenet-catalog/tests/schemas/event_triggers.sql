-- Event triggers: on every command, on some tags, disabled.
create schema audit;
create table audit.ddl (at timestamptz default now(), tag text);
create function audit.log_ddl() returns event_trigger language plpgsql as $$
begin
    insert into audit.ddl (tag) values (tg_tag);
end $$;
create function audit.no_drops() returns event_trigger language plpgsql as $$
begin
    raise exception 'drops are not allowed';
end $$;
create event trigger log_ddl on ddl_command_end execute function audit.log_ddl();
create event trigger no_drops on sql_drop when tag in ('DROP TABLE', 'DROP SCHEMA')
    execute function audit.no_drops();
alter event trigger no_drops disable;
comment on event trigger log_ddl is 'who changed what';

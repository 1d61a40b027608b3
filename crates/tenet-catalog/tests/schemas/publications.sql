-- Logical replication: publications of every form and tables' replica identities.
create schema feed;
create table public.messages (
    id bigint primary key,
    room text not null,
    body text,
    secret text,
    code text not null,
    constraint messages_code_key unique (code)
);
alter table public.messages replica identity using index messages_code_key;
create table public.rooms (id int primary key, name text);
alter table public.rooms replica identity full;
create table public.logs (at timestamptz, line text);
alter table public.logs replica identity nothing;
create table public.events (id int not null, at date not null) partition by range (at);
create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
create unique index events_2026_id on public.events_2026 (id);
alter table public.events_2026 replica identity using index events_2026_id;
create table feed.items (id int primary key, v text);

-- Supabase realtime's: empty at first, tables are added to it.
create publication supabase_realtime;
alter publication supabase_realtime add table public.rooms;
create publication chat for table public.messages (id, room, body) where (room <> 'private'),
    table public.events with (publish = 'insert, update', publish_via_partition_root = true);
create publication feeds for tables in schema feed, table public.logs with (publish = 'insert');
create publication everything for all tables;
comment on publication chat is 'chat messages, without secrets';

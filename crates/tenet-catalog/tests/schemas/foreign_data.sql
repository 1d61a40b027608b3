-- Foreign data: servers of two extensions' wrappers, user mappings (one with a password the
-- catalog must never read), foreign tables with options, column options, comments and grants.
create extension postgres_fdw;
create extension file_fdw;
-- Roles are cluster-wide and tests share a server: create them only once.
do $$ begin create role tenet_rt_fdw_reader nologin; exception when duplicate_object or unique_violation then null; end $$;
create schema remote;
create server orders_db foreign data wrapper postgres_fdw
    options (host 'orders.internal', dbname 'orders', port '5433');
create server logs type 'csv' version '1.0' foreign data wrapper file_fdw;
comment on server orders_db is 'the orders service''s database';
grant usage on foreign server orders_db to tenet_rt_fdw_reader;
create user mapping for tenet_rt_fdw_reader server orders_db
    options (user 'reader', password 'hunter2-never-shown');
create user mapping for public server orders_db;
create foreign table remote.orders (
    id bigint options (column_name 'order_id') not null,
    customer text collate "C",
    total numeric(10, 2) default 0,
    placed_at timestamptz
) server orders_db options (schema_name 'public', table_name 'orders');
comment on foreign table remote.orders is 'orders, read from the orders service';
comment on column remote.orders.total is 'in cents';
grant select on remote.orders to tenet_rt_fdw_reader;
grant select (id) on remote.orders to public;
create foreign table remote.access_log (line text)
    server logs options (filename '/var/log/app.csv', format 'csv');
-- A foreign table needs the types its columns use; a view on it needs the foreign table.
create domain remote.amount as numeric(12, 2) check (value >= 0);
create foreign table remote.refunds (order_id bigint, amount remote.amount)
    server orders_db options (table_name 'refunds');
create view remote.refunded_orders as
    select o.id, o.customer, r.amount from remote.orders o join remote.refunds r on r.order_id = o.id;
-- Checks on a foreign table are trusted, not enforced.
alter foreign table remote.refunds add constraint refunds_positive check (amount > 0);
alter foreign table remote.refunds
    add column amount_cents bigint generated always as ((amount * 100)::bigint) stored;

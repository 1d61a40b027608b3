-- Chains of dependencies that only a dependency-ordered rendering recreates.
create schema z_first;
create table z_first.items (id int primary key, price numeric not null);
create function z_first.tax(numeric) returns numeric language sql immutable as 'select $1 * 1.2';
-- A table in an earlier schema whose default and check need a later function.
create table public.orders (
    id int primary key,
    item_id int references z_first.items (id),
    gross numeric default z_first.tax(10) check (z_first.tax(gross) > 0)
);
-- Views over views over a function, named against alphabetical order.
create view public.c_view as select id, z_first.tax(price) as gross from z_first.items;
create view public.b_view as select id, gross from public.c_view where gross > 1;
create view public.a_view as select b.id, o.gross from public.b_view b join public.orders o on o.item_id = b.id;
-- A function whose signature needs a table's row type, and a view that calls it.
create function public.expensive(z_first.items) returns boolean language sql immutable as 'select $1.price > 100';
create view public.aa_expensive as select i.id from z_first.items i where public.expensive(i);
-- Domains over domains, composite over composite, arrays of enums.
create type public.level as enum ('low', 'high');
create domain public.z_base as numeric check (value >= 0);
create domain public.a_derived as public.z_base check (value < 1000);
create type public.z_inner as (amount public.a_derived, levels public.level[]);
create type public.a_outer as (inner_value public.z_inner, note text);
create table public.ledger (id int, entry public.a_outer, levels public.level[]);
-- A materialized view over a view, indexed.
create materialized view public.a_summary as select count(*) as n from public.a_view;
create index a_summary_n on public.a_summary (n);
-- Mutually referencing tables.
create table public.teams (id int primary key, captain_id int);
create table public.players (id int primary key, team_id int references public.teams (id));
alter table public.teams add constraint teams_captain_fk foreign key (captain_id) references public.players (id);
-- Self reference.
create table public.nodes (id int primary key, parent_id int references public.nodes (id));

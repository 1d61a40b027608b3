-- Extended statistics: chosen kinds, every kind, expressions (PostgreSQL 14 on), a target,
-- a comment, one in another schema than its table, one on a materialized view.
create schema app;
create schema stats;
create function app.norm(t text) returns text language sql immutable as $$ select lower(trim(t)) $$;
create table app.addresses (
    id int primary key,
    city text not null,
    zip text not null,
    country text not null,
    created_at timestamptz not null default now()
);
create statistics app.city_zip (ndistinct, dependencies) on city, zip from app.addresses;
create statistics app.place on city, zip, country from app.addresses;
create statistics app.created_day on (date_trunc('day', created_at at time zone 'UTC'))
    from app.addresses;
create statistics stats.norm_city (mcv) on (app.norm(city)), country from app.addresses;
alter statistics app.place set statistics 500;
comment on statistics app.city_zip is 'zip decides city';
create materialized view app.by_city as
    select city, country, count(*) as n from app.addresses group by city, country;
create statistics app.by_city_country on city, country from app.by_city;

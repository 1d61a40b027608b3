-- Range types with every option a schema can give (canonical functions are written in C).
create schema app;
create function app.time_diff(a time, b time) returns double precision
    language sql immutable strict as $$ select extract(epoch from a - b) $$;
create type app.timerange as range (subtype = time, subtype_diff = app.time_diff);
create type app.textrange as range (subtype = text, collation = "C", multirange_type_name = app.textranges);
create type app.floatrange as range (subtype = float8, subtype_opclass = float8_ops);
create type app.status as enum ('open', 'closed');
create type app.statusrange as range (subtype = app.status);
comment on type app.timerange is 'opening hours';
create table app.shops (
    id int primary key,
    hours app.timerange,
    all_hours app.timemultirange,
    names app.textrange[]
);

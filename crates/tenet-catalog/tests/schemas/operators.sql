-- Operators and casts: a commutator and negator pair (one a shell until defined), a prefix
-- operator, estimators, HASHES and MERGES; casts with a function and WITH INOUT; a check, a
-- default, an index and a view that use them (they must come after them).
create schema geo;
set search_path = geo, public;
create type geo.mood as enum ('sad', 'ok', 'happy');
create function geo.mood_eq(geo.mood, geo.mood) returns boolean language sql immutable strict
    as $$ select $1::text = $2::text $$;
create function geo.mood_ne(geo.mood, geo.mood) returns boolean language sql immutable strict
    as $$ select $1::text <> $2::text $$;
create function geo.cheer(geo.mood) returns geo.mood language sql immutable
    as $$ select 'happy'::geo.mood $$;
create function geo.mood_score(geo.mood) returns integer language sql immutable strict
    as $$ select array_position(enum_range(null::geo.mood), $1) $$;
create function public.text_has_int(text, integer) returns boolean language sql immutable
    as $$ select position($2::text in $1) > 0 $$;
create function public.int_in_text(integer, text) returns boolean language sql immutable
    as $$ select position($1::text in $2) > 0 $$;

create operator geo.=== (leftarg = geo.mood, rightarg = geo.mood, function = geo.mood_eq,
    commutator = operator(geo.===), negator = operator(geo.!==),
    restrict = eqsel, join = eqjoinsel, hashes, merges);
create operator geo.!== (leftarg = geo.mood, rightarg = geo.mood, function = geo.mood_ne,
    negator = operator(geo.===), restrict = neqsel, join = neqjoinsel);
create operator geo.~+~ (rightarg = geo.mood, function = geo.cheer);
create operator public.@~ (leftarg = text, rightarg = integer, function = public.text_has_int,
    commutator = operator(public.~@));
create operator public.~@ (leftarg = integer, rightarg = text, function = public.int_in_text,
    commutator = operator(public.@~));
comment on operator geo.=== (geo.mood, geo.mood) is 'same mood';

create cast (geo.mood as integer) with function geo.mood_score(geo.mood) as assignment;
create cast (integer as geo.mood) with inout;
comment on cast (geo.mood as integer) is 'position in the enum';

create table geo.visits (
    id int primary key,
    mood geo.mood not null,
    was geo.mood,
    score integer default ('ok'::geo.mood)::integer,
    constraint changed check (mood !== was)
);
create index visits_happy on geo.visits (id) where mood === 'happy';
create view geo.happy_visits as
    select id, mood::integer as score, ~+~ was as cheered from geo.visits
    where mood === 'happy' and 'abc1' @~ 1;

-- Aggregates: plain, with every option a SQL-level aggregate can take, moving, ordered-set.
create schema app;
create function app.concat_step(acc text, v text) returns text
    language sql immutable as $$ select case when acc is null then v else acc || ',' || v end $$;
create aggregate app.group_concat(text) (sfunc = app.concat_step, stype = text);
comment on aggregate app.group_concat(text) is 'like MySQL''s';

create function app.sum_step(acc bigint, v int) returns bigint
    language sql immutable strict as $$ select acc + v $$;
create function app.sum_combine(a bigint, b bigint) returns bigint
    language sql immutable strict as $$ select a + b $$;
create function app.sum_final(acc bigint) returns numeric
    language sql immutable strict as $$ select acc::numeric $$;
create function app.sum_inverse(acc bigint, v int) returns bigint
    language sql immutable strict as $$ select acc - v $$;
create aggregate app.total(int) (
    sfunc = app.sum_step, stype = bigint, initcond = '0', finalfunc = app.sum_final,
    combinefunc = app.sum_combine, parallel = safe,
    msfunc = app.sum_step, minvfunc = app.sum_inverse, mstype = bigint, minitcond = '0',
    mfinalfunc = app.sum_final
);
create aggregate app.biggest(int) (sfunc = int4larger, stype = int4, sortop = >);
create aggregate app.pct(float8 order by anyelement) (
    sfunc = ordered_set_transition, stype = internal,
    finalfunc = percentile_disc_final, finalfunc_extra
);
create aggregate app.how_many(*) (sfunc = int8inc, stype = int8, initcond = '0');
create table app.words (w text, n int);
create view app.summary as select app.group_concat(w) as words, app.total(n) as total from app.words;
revoke all on function app.total(int) from public;

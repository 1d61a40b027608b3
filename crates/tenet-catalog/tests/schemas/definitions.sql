-- Index and key definitions of every shape the client prints itself, and a few it leaves to
-- the server: tests/definitions.rs compares each with pg_get_indexdef / pg_get_constraintdef.
create schema defs;
create schema "Other Schema";
create type defs.mood as enum ('sad', 'ok', 'happy');
create domain defs.short_text as varchar(20);
create domain defs.tiny as defs.short_text;
create collation defs.german (provider = icu, locale = 'de-DE');
create operator class defs.reverse_int_ops for type integer using btree as
  operator 1 >, operator 2 >=, operator 3 =, operator 4 <=, operator 5 <,
  function 1 btint4cmp(integer, integer);

create table defs.parent (
  tenant_id integer not null,
  id integer not null,
  code text collate "C",
  "Select" text,
  primary key (tenant_id, id) include (code),
  unique nulls not distinct (tenant_id, code),
  constraint parent_code_key unique (code) deferrable initially deferred
);

create table "Other Schema"."Child Table" (
  tenant_id integer not null,
  id integer primary key,
  parent_id integer,
  name varchar(40),
  label defs.tiny,
  feeling defs.mood,
  tags text[],
  ints integer[],
  doc jsonb,
  during tstzrange,
  at timestamptz,
  ip inet,
  blob bytea,
  ch char(3),
  n numeric,
  constraint child_parent_fkey foreign key (tenant_id, parent_id)
    references defs.parent (tenant_id, id) match full on update cascade on delete set null (parent_id),
  constraint child_parent2_fkey foreign key (tenant_id, parent_id)
    references defs.parent (tenant_id, id) on delete set default deferrable,
  constraint child_parent3_fkey foreign key (tenant_id, parent_id)
    references defs.parent (tenant_id, id) on update restrict on delete restrict not valid,
  constraint child_name_check check (name <> ''),
  constraint child_no_overlap exclude using gist (during with &&)
);

create index on "Other Schema"."Child Table" (name);
create index on "Other Schema"."Child Table" (name varchar_pattern_ops);
create index on "Other Schema"."Child Table" (name text_pattern_ops);
create index on "Other Schema"."Child Table" (name collate "C" desc nulls last);
create index on "Other Schema"."Child Table" (label);
create index on "Other Schema"."Child Table" (feeling desc, at asc nulls first);
create index on "Other Schema"."Child Table" (tenant_id desc nulls last, id nulls first) include (name, doc);
create index on "Other Schema"."Child Table" using gin (tags);
create index on "Other Schema"."Child Table" using gin (ints);
create index on "Other Schema"."Child Table" using gin (doc jsonb_path_ops);
create index on "Other Schema"."Child Table" using gin (doc);
create index on "Other Schema"."Child Table" using gist (during);
create index on "Other Schema"."Child Table" using brin (at) with (pages_per_range = 16, autosummarize = on);
create index on "Other Schema"."Child Table" using hash (ip);
create index on "Other Schema"."Child Table" (ip inet_ops);
create index on "Other Schema"."Child Table" using gist (ip inet_ops);
create index on "Other Schema"."Child Table" (blob);
create index on "Other Schema"."Child Table" (ch);
create index on "Other Schema"."Child Table" (ch bpchar_pattern_ops);
create index on "Other Schema"."Child Table" (n) with (fillfactor = 70, deduplicate_items = off);
create index on "Other Schema"."Child Table" (name collate defs.german);
create index on "Other Schema"."Child Table" (tenant_id defs.reverse_int_ops);
create unique index "Weird ""Name""" on "Other Schema"."Child Table" (tenant_id, name) nulls not distinct where name is not null;
create index on "Other Schema"."Child Table" (lower(name));
create index on "Other Schema"."Child Table" ((n + 1), tenant_id);

create table defs.measurements (
  tenant_id integer not null,
  at date not null,
  value numeric,
  primary key (tenant_id, at)
) partition by range (at);
create table defs.measurements_2026 partition of defs.measurements
  for values from ('2026-01-01') to ('2027-01-01');
create index on defs.measurements (value);
create index on only defs.measurements (at);

-- Operator families and classes (only a superuser may create them): a btree class in a named
-- family, a default hash class in the family PostgreSQL makes of its name, a family with a
-- member no class holds, and an index and a range type using a class.
create schema ord;
create type ord.size as enum ('s', 'm', 'l');
create function ord.size_reverse_cmp(a ord.size, b ord.size) returns integer language sql
    immutable strict as $$ select case when a > b then -1 when a < b then 1 else 0 end $$;
create function ord.size_after(a ord.size, b ord.size) returns boolean language sql
    immutable strict as $$ select a > b $$;
create function ord.size_same(a ord.size, b ord.size) returns boolean language sql
    immutable strict as $$ select a = b $$;
create function ord.size_before(a ord.size, b ord.size) returns boolean language sql
    immutable strict as $$ select a < b $$;
create function ord.size_hash(ord.size) returns integer language sql immutable strict
    as $$ select hashtext($1::text) $$;
create operator ord.<<< (leftarg = ord.size, rightarg = ord.size, function = ord.size_after);
create operator ord.=== (leftarg = ord.size, rightarg = ord.size, function = ord.size_same);
create operator ord.>>> (leftarg = ord.size, rightarg = ord.size, function = ord.size_before);

create operator family ord.size_family using btree;
create operator class ord.size_reverse for type ord.size using btree family ord.size_family as
    operator 1 ord.<<<, operator 3 ord.===, operator 5 ord.>>>,
    function 1 ord.size_reverse_cmp(ord.size, ord.size);
create operator class ord.size_hash_ops default for type ord.size using hash as
    operator 1 ord.===, function 1 ord.size_hash(ord.size);
create operator family ord.loose using hash;
alter operator family ord.loose using hash add
    operator 1 ord.=== (ord.size, ord.size), function 1 (ord.size, ord.size) ord.size_hash(ord.size);
comment on operator class ord.size_reverse using btree is 'largest first';
comment on operator family ord.loose using hash is 'members only';

create table ord.shirts (id int, size ord.size);
create index shirts_by_size on ord.shirts (size ord.size_reverse);
create type ord.size_range as range (subtype = ord.size, subtype_opclass = ord.size_reverse);

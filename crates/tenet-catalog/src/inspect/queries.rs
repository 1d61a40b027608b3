//! The bulk catalog queries: one per object kind, for the whole database.
//!
//! Each query returns `(key oid, json text)`: the key is the object's own OID for top-level
//! objects and the owning relation's OID for parts of a table (columns, constraints, ...). The
//! JSON's field names match the model's, so rows deserialize straight into it.

/// Schemas that belong to the user: not PostgreSQL's own, not Tenet's bookkeeping schema;
/// only the one named by the transaction's `tenet.inspect_schema` when it is set (see
/// [`super::inspect_schema`]). Expects `n` to be the `pg_namespace` row.
macro_rules! user_schema {
    () => {
        "n.nspname not in ('pg_catalog', 'information_schema', 'tenet') \
         and n.nspname !~ '^pg_(toast|temp_|toast_temp_)' \
         and n.nspname = coalesce(nullif(current_setting('tenet.inspect_schema', true), ''), n.nspname)"
    };
}

/// Whether a namespace oid expression is the inspected schema's (always, when
/// `tenet.inspect_schema` is not set).
macro_rules! in_scope {
    ($namespace:literal) => {
        concat!(
            "(nullif(current_setting('tenet.inspect_schema', true), '') is null or ",
            $namespace,
            " = (select oid from pg_namespace where nspname = current_setting('tenet.inspect_schema', true)))"
        )
    };
}

/// Not created by an extension (those objects come back with `CREATE EXTENSION`).
macro_rules! not_extension_member {
    ($class:literal, $oid:literal) => {
        concat!(
            "not exists (select 1 from pg_depend x where x.classid = '",
            $class,
            "'::regclass and x.objid = ",
            $oid,
            " and x.deptype = 'e')"
        )
    };
}

/// An ACL as a JSON list of grants; null when the object has its default privileges (no ACL,
/// or one equal to `acldefault` for its kind and owner), so both spellings compare equal.
macro_rules! grants {
    ($acl:literal, $kind:literal, $owner:literal) => {
        concat!(
            "case when ", $acl, " is null or (", $acl, "::text[] <@ acldefault(", $kind, ", ", $owner,
            ")::text[] and acldefault(", $kind, ", ", $owner, ")::text[] <@ ", $acl,
            "::text[]) then null else coalesce((select json_agg(json_build_object(\
             'grantee', case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end, \
             'privilege', a.privilege_type, 'grantable', a.is_grantable)) from aclexplode(",
            $acl,
            ") a), '[]') end"
        )
    };
}

/// The comment on an object: a direct look-up in pg_description's index (obj_description()
/// costs several times more per row on large catalogs).
macro_rules! description {
    ($class:literal, $oid:literal) => {
        concat!(
            "(select d.description from pg_description d where d.objoid = ",
            $oid,
            " and d.classoid = '",
            $class,
            "'::regclass and d.objsubid = 0)"
        )
    };
}

/// Column `k` of index `i`: its name, or PostgreSQL's rendering of an expression (asking
/// `pg_get_indexdef` for plain columns too costs a deparse per column).
macro_rules! index_column {
    () => {
        "coalesce((select quote_ident(a.attname) from pg_attribute a where a.attrelid = i.indrelid \
         and a.attnum = i.indkey[k - 1] and i.indkey[k - 1] <> 0), pg_get_indexdef(i.indexrelid, k, true))"
    };
}

/// A collation's qualified name, e.g. `pg_catalog."C"`.
macro_rules! collation_name {
    ($oid:literal) => {
        concat!(
            "(select quote_ident(cn.nspname) || '.' || quote_ident(co.collname) \
             from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace where co.oid = ",
            $oid,
            ")"
        )
    };
}

/// Sequence options as JSON from a `pg_sequence` row `s`.
macro_rules! sequence_options {
    () => {
        "'data_type', format_type(s.seqtypid, null), 'start', s.seqstart, 'increment', s.seqincrement, \
         'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle"
    };
}

pub const SCHEMAS: &str = concat!(
    "select n.oid, row_to_json(r)::text from pg_namespace n, lateral (select ",
    "n.nspname as name, pg_get_userbyid(n.nspowner) as owner, ",
    description!("pg_namespace", "n.oid"),
    " as comment, ",
    grants!("n.nspacl", "'n'", "n.nspowner"),
    " as grants) r where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_namespace", "n.oid")
);

/// Extensions, but not plpgsql: every database has it from template1.
pub const EXTENSIONS: &str = "select e.oid, row_to_json(r)::text from pg_extension e \
     join pg_namespace n on n.oid = e.extnamespace, lateral (select e.extname as name, \
     n.nspname as schema, e.extversion as version) r where e.extname <> 'plpgsql'";

/// The locale column is `colliculocale` in PostgreSQL 15 and 16, `colllocale` from 17 on;
/// reading it through jsonb works on all of them.
pub const COLLATIONS: &str = concat!(
    "select co.oid, json_build_object('schema', n.nspname, 'name', co.collname, ",
    "'owner', pg_get_userbyid(co.collowner), ",
    "'provider', case co.collprovider when 'i' then 'icu' when 'b' then 'builtin' else 'libc' end, ",
    "'locale', coalesce(to_jsonb(co) ->> 'colliculocale', to_jsonb(co) ->> 'colllocale'), ",
    "'lc_collate', co.collcollate, 'lc_ctype', co.collctype, 'deterministic', co.collisdeterministic, ",
    "'comment', ", description!("pg_collation", "co.oid"), ")::text ",
    "from pg_collation co join pg_namespace n on n.oid = co.collnamespace where ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_collation", "co.oid")
);

pub const TYPES: &str = concat!(
    "select t.oid, row_to_json(r)::text from pg_type t ",
    "join pg_namespace n on n.oid = t.typnamespace ",
    "left join pg_class rel on rel.oid = t.typrelid ",
    "left join pg_type bt on bt.oid = t.typbasetype, lateral (select ",
    "n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner) as owner, ",
    description!("pg_type", "t.oid"), " as comment, ",
    "case t.typtype when 'e' then 'enum' when 'd' then 'domain' else 'composite' end as kind, ",
    "coalesce((select json_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid), '[]') as labels, ",
    "format_type(t.typbasetype, t.typtypmod) as base, t.typnotnull as not_null, ",
    "pg_get_expr(t.typdefaultbin, 0) as default, ",
    "case when t.typtype = 'd' and t.typcollation <> bt.typcollation then ",
    collation_name!("t.typcollation"),
    " end as collation, ",
    "coalesce((select json_agg(json_build_object('name', c.conname, 'definition', pg_get_constraintdef(c.oid)) order by c.conname) ",
    "from pg_constraint c where c.contypid = t.oid and c.contype = 'c'), '[]') as checks, ",
    "coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), ",
    "'collation', case when a.attcollation <> at.typcollation then ",
    collation_name!("a.attcollation"),
    " end) order by a.attnum) from pg_attribute a join pg_type at on at.oid = a.atttypid ",
    "where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped), '[]') as attributes",
    ") r where (t.typtype in ('e', 'd') or (t.typtype = 'c' and rel.relkind = 'c')) and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_type", "t.oid")
);

pub const SEQUENCES: &str = concat!(
    "select c.oid, json_build_object('schema', n.nspname, 'name', c.relname, ",
    "'owner', pg_get_userbyid(c.relowner), ",
    sequence_options!(),
    ", 'owned_by', (select json_build_object('table', json_build_object('schema', tn.nspname, 'name', t.relname), 'column', a.attname) ",
    "from pg_depend d join pg_class t on t.oid = d.refobjid join pg_namespace tn on tn.oid = t.relnamespace ",
    "join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid ",
    "where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.refclassid = 'pg_class'::regclass and d.deptype = 'a'), ",
    "'comment', ", description!("pg_class", "c.oid"), ", 'grants', ",
    grants!("c.relacl", "'s'", "c.relowner"),
    ")::text from pg_class c join pg_namespace n on n.oid = c.relnamespace ",
    "join pg_sequence s on s.seqrelid = c.oid where c.relkind = 'S' and ",
    user_schema!(),
    " and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'i') and ",
    not_extension_member!("pg_class", "c.oid")
);

pub const TABLES: &str = concat!(
    "select c.oid, row_to_json(r)::text from pg_class c join pg_namespace n on n.oid = c.relnamespace, lateral (select ",
    "n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner) as owner, ",
    "c.relpersistence = 'u' as unlogged, ",
    "case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_by, ",
    "case when c.relispartition then (select json_build_object('parent', json_build_object('schema', pn.nspname, 'name', p.relname), ",
    "'bound', pg_get_expr(c.relpartbound, c.oid)) from pg_inherits i join pg_class p on p.oid = i.inhparent ",
    "join pg_namespace pn on pn.oid = p.relnamespace where i.inhrelid = c.oid) end as partition_of, ",
    "case when c.relispartition then '[]' else coalesce((select json_agg(json_build_object('schema', pn.nspname, 'name', p.relname) order by i.inhseqno) ",
    "from pg_inherits i join pg_class p on p.oid = i.inhparent join pg_namespace pn on pn.oid = p.relnamespace ",
    "where i.inhrelid = c.oid), '[]') end as inherits, ",
    "coalesce(array_to_json(c.reloptions), '[]') as options, ",
    "c.relrowsecurity as rls_enabled, c.relforcerowsecurity as rls_forced, ",
    description!("pg_class", "c.oid"), " as comment, ",
    grants!("c.relacl", "'r'", "c.relowner"),
    " as grants) r where c.relkind in ('r', 'p') and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_class", "c.oid")
);

/// Columns of every user table, view and materialized view, in attribute order.
pub const COLUMNS: &str = concat!(
    "select a.attrelid, json_build_object(",
    "'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull, ",
    // A default cannot refer to columns, so it deparses without its table: five times
    // cheaper per row than naming the relation (a generated column's expression needs it).
    "'default', case when a.attgenerated = '' then pg_get_expr(d.adbin, 0) end, ",
    "'generated', case when a.attgenerated <> '' then pg_get_expr(d.adbin, d.adrelid) end, ",
    "'collation', case when a.attcollation <> t.typcollation then ",
    collation_name!("a.attcollation"),
    " end, ",
    "'identity', case when a.attidentity <> '' then json_build_object('generation', ",
    "case a.attidentity when 'a' then 'always' else 'by default' end, ",
    sequence_options!(),
    ") end, ",
    "'inherited', a.attinhcount > 0, 'comment', ds.description, ",
    // No default to compare with: an ACL emptied by REVOKE reads as none.
    "'grants', case when cardinality(a.attacl) > 0 then (select json_agg(json_build_object(",
    "'grantee', case when g.grantee = 0 then 'PUBLIC' else pg_get_userbyid(g.grantee) end, ",
    "'privilege', g.privilege_type, 'grantable', g.is_grantable)) from aclexplode(a.attacl) g) end",
    ")::text from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace ",
    "join pg_type t on t.oid = a.atttypid ",
    "left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum ",
    "left join pg_description ds on ds.objoid = a.attrelid and ds.classoid = 'pg_class'::regclass and ds.objsubid = a.attnum ",
    "left join pg_depend sd on a.attidentity <> '' and sd.refclassid = 'pg_class'::regclass and sd.refobjid = a.attrelid ",
    "and sd.refobjsubid = a.attnum and sd.classid = 'pg_class'::regclass and sd.deptype = 'i' ",
    "left join pg_sequence s on s.seqrelid = sd.objid ",
    "where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm') and ",
    user_schema!(),
    " order by a.attrelid, a.attnum"
);

/// Constraints declared on tables; those cloned onto partitions or inherited are left out,
/// since PostgreSQL recreates them with their parent. Primary, unique and foreign keys come
/// with the parts their definition is made of (`definitions.rs` prints it); only checks and
/// exclusions, whose expressions only the server can print, get `pg_get_constraintdef`.
/// The names of columns `$attnums` (an array) of relation `$rel` as a JSON list, in order; null
/// when empty. One index look-up per column: cheaper than joining the relation's attributes.
macro_rules! attnames {
    ($rel:literal, $attnums:literal) => {
        concat!(
            "(select json_agg((select a.attname from pg_attribute a where a.attrelid = ",
            $rel,
            " and a.attnum = u.attnum) order by u.ord) from unnest(",
            $attnums,
            ") with ordinality u(attnum, ord))"
        )
    };
}

macro_rules! constraints_query {
    ($definition:literal) => {
        concat!(
            "select c.conrelid, row_to_json(r)::text from pg_constraint c ",
            "join pg_class rel on rel.oid = c.conrelid join pg_namespace n on n.oid = rel.relnamespace ",
            "left join pg_class fr on fr.oid = c.confrelid left join pg_namespace fn on fn.oid = fr.relnamespace ",
            "left join pg_index ix on c.contype in ('p', 'u') and ix.indexrelid = c.conindid, lateral (select ",
            "c.conname as name, case c.contype when 'p' then 'primary_key' when 'u' then 'unique' when 'c' then 'check' ",
            "when 'f' then 'foreign_key' else 'exclusion' end as kind, ",
            $definition, " as definition, ",
            "coalesce(", attnames!("c.conrelid", "c.conkey"), ", '[]') as columns, ",
            "case when c.contype = 'f' then json_build_object('table', json_build_object('schema', fn.nspname, 'name', fr.relname), ",
            "'columns', ", attnames!("c.confrelid", "c.confkey"), ", ",
            "'on_delete', case c.confdeltype when 'r' then 'restrict' when 'c' then 'cascade' when 'n' then 'set null' ",
            "when 'd' then 'set default' else 'no action' end, ",
            "'on_update', case c.confupdtype when 'r' then 'restrict' when 'c' then 'cascade' when 'n' then 'set null' ",
            "when 'd' then 'set default' else 'no action' end) end as references, ",
            "c.convalidated as validated, c.condeferrable as deferrable, c.condeferred as initially_deferred, ",
            description!("pg_constraint", "c.oid"), " as comment, ",
            "case when c.contype in ('p', 'u') then json_build_object(",
            "'nulls_not_distinct', ix.indnullsnotdistinct, ",
            // int2vector subscripts start at 0: the non-key columns follow the key's.
            "'include', coalesce(", attnames!("c.conrelid", "(ix.indkey::int2[])[cardinality(c.conkey):]"), ", '[]')) ",
            "when c.contype = 'f' then json_build_object('match', c.confmatchtype, ",
            "'set_columns', ", attnames!("c.conrelid", "c.confdelsetcols"), ") end as parts",
            ") r where c.contype in ('p', 'u', 'c', 'f', 'x') and c.conrelid <> 0 and c.conparentid = 0 and c.conislocal ",
            "and rel.relkind in ('r', 'p') and ",
            user_schema!()
        )
    };
}

pub const CONSTRAINTS: &str = constraints_query!(
    "coalesce(case when c.contype in ('c', 'x') then pg_get_constraintdef(c.oid) end, '')"
);

/// [`CONSTRAINTS`] with the server's definition of every constraint, to hold the client's
/// renderings to it.
pub const CONSTRAINTS_SERVER_DEFINED: &str = constraints_query!("pg_get_constraintdef(c.oid)");

/// The default operator class of every (column type, access method) pair that user columns
/// and indexes could combine (a few dozen: cheaper than finding the pairs index by index): `GetDefaultOpClass` in SQL (an exact match on the base type, else the one
/// binary-coercible class, a preferred type breaking ties), so an index definition names the
/// class only where PostgreSQL would.
macro_rules! default_opclasses {
    () => {
        "with recursive used(typ, am) as (\
           select t.typ, m.am from (select distinct a.atttypid from pg_attribute a \
           where a.attrelid >= 16384 and a.attnum > 0) t(typ) \
           cross join (select distinct c.relam from pg_class c where c.relkind in ('i', 'I') and c.oid >= 16384) m(am)\
         ), walk(typ, am, base) as (\
           select typ, am, typ from used \
           union all select w.typ, w.am, t.typbasetype from walk w join pg_type t on t.oid = w.base where t.typtype = 'd'\
         ), candidates(typ, am, opc, exact, compatible, preferred) as (\
           select w.typ, w.am, o.oid, o.opcintype = w.base, \
           o.opcintype in ('\"any\"'::regtype, 'anyelement'::regtype, 'anycompatible'::regtype) \
           or (o.opcintype in ('anyarray'::regtype, 'anycompatiblearray'::regtype) and e.oid is not null) \
           or (o.opcintype in ('anynonarray'::regtype, 'anycompatiblenonarray'::regtype) and e.oid is null) \
           or (o.opcintype = 'anyenum'::regtype and s.typtype = 'e') \
           or (o.opcintype in ('anyrange'::regtype, 'anycompatiblerange'::regtype) and s.typtype = 'r') \
           or (o.opcintype in ('anymultirange'::regtype, 'anycompatiblemultirange'::regtype) and s.typtype = 'm') \
           or (o.opcintype = 'record'::regtype and s.typrelid <> 0) \
           or (o.opcintype = 'record[]'::regtype and e.typrelid <> 0) \
           or exists (select 1 from pg_cast k where k.castsource = w.base and k.casttarget = o.opcintype \
                      and k.castmethod = 'b' and k.castcontext = 'i'), \
           ot.typcategory = s.typcategory and ot.typispreferred \
           from walk w join pg_type s on s.oid = w.base and s.typtype <> 'd' \
           left join pg_type e on e.oid = s.typelem and s.typsubscript = 'array_subscript_handler'::regproc \
           join pg_opclass o on o.opcmethod = w.am and o.opcdefault join pg_type ot on ot.oid = o.opcintype\
         ), defaults(typ, am, opc) as materialized (\
           select typ, am, case \
           when count(*) filter (where exact) = 1 then min(opc) filter (where exact) \
           when count(*) filter (where exact) > 1 then null \
           when count(*) filter (where compatible and preferred) = 1 then min(opc) filter (where compatible and preferred) \
           when count(*) filter (where compatible and preferred) = 0 and count(*) filter (where compatible) = 1 \
           then min(opc) filter (where compatible) end \
           from candidates group by typ, am\
         ) "
    };
}

/// Indexes not owned by a constraint and not attached to a partitioned parent index. An index
/// on plain columns comes with the parts of its definition (`definitions.rs` prints it); one
/// with expressions or column options gets `pg_get_indexdef`.
macro_rules! indexes_query {
    ($definition:literal) => {
        concat!(
            default_opclasses!(),
            "select i.indrelid, row_to_json(r)::text from pg_index i ",
            "join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid ",
            "join pg_namespace n on n.oid = c.relnamespace join pg_am am on am.oid = ic.relam, ",
            "lateral (select i.indexprs is not null or (select bool_or(x.attoptions is not null) from pg_attribute x ",
            "where x.attrelid = i.indexrelid and x.attnum between 1 and i.indnatts) ",
            // A backslash in an option prints by standard_conforming_strings.
            "or coalesce(strpos(array_to_string(ic.reloptions, ' '), chr(92)), 0) > 0 as by_server offset 0) s, lateral (select ",
            "ic.relname as name, ", $definition, " as definition, i.indisunique as unique, am.amname as method, ",
            "(select json_agg(", index_column!(), " order by k) from generate_series(1, i.indnkeyatts) k) as columns, ",
            "coalesce((select json_agg(", index_column!(), " order by k) from generate_series(i.indnkeyatts + 1, i.indnatts) k), '[]') as include, ",
            "pg_get_expr(i.indpred, i.indrelid) as predicate, ", description!("pg_class", "i.indexrelid"), " as comment, ",
            "case when not s.by_server then json_build_object('table', json_build_object('schema', n.nspname, 'name', c.relname), ",
            "'only', ic.relkind = 'I', 'nulls_not_distinct', i.indnullsnotdistinct, ",
            "'can_order', pg_indexam_has_property(am.oid, 'can_order'), 'options', ic.reloptions, ",
            "'keys', (select json_agg(json_build_object(",
            "'collation', case when i.indcollation[k] <> 0 and i.indcollation[k] <> a.attcollation then ",
            "(select json_build_array(cn.nspname, co.collname) from pg_collation co ",
            "join pg_namespace cn on cn.oid = co.collnamespace where co.oid = i.indcollation[k]) end, ",
            "'opclass', case when i.indclass[k] is distinct from a.opc then ",
            "(select json_build_array(on_.nspname, o.opcname) from pg_opclass o ",
            "join pg_namespace on_ on on_.oid = o.opcnamespace where o.oid = i.indclass[k]) end, ",
            "'option', i.indoption[k]) order by k) ",
            "from generate_series(0, i.indnkeyatts - 1) k, lateral (select a.atttypid, a.attcollation, ",
            "(select d.opc from defaults d where d.typ = a.atttypid and d.am = ic.relam) as opc ",
            "from pg_attribute a where a.attrelid = i.indrelid and a.attnum = i.indkey[k]) a)) end as parts",
            ") r where c.relkind in ('r', 'p', 'm') and not ic.relispartition and ",
            user_schema!(),
            " and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.conrelid = i.indrelid ",
            "and k.contype in ('p', 'u', 'x'))"
        )
    };
}

pub const INDEXES: &str =
    indexes_query!("coalesce(case when s.by_server then pg_get_indexdef(i.indexrelid) end, '')");

/// [`INDEXES`] with the server's definition of every index, to hold the client's renderings
/// to it.
pub const INDEXES_SERVER_DEFINED: &str = indexes_query!("pg_get_indexdef(i.indexrelid)");

/// Indexes of partitions attached to a parent index (not to a key: keys are cloned whole).
pub const PARTITION_INDEXES: &str = concat!(
    "select i.indrelid, json_build_object('name', ic.relname, 'definition', pg_get_indexdef(i.indexrelid), ",
    "'parent', pic.relname)::text from pg_index i ",
    "join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid ",
    "join pg_namespace n on n.oid = c.relnamespace ",
    "join pg_inherits h on h.inhrelid = i.indexrelid join pg_class pic on pic.oid = h.inhparent ",
    "where ic.relispartition and c.relkind in ('r', 'p') and ",
    user_schema!(),
    " and not exists (select 1 from pg_constraint k where k.conindid in (i.indexrelid, h.inhparent) ",
    "and k.contype in ('p', 'u', 'x'))"
);

pub const TRIGGERS: &str = concat!(
    "select t.tgrelid, row_to_json(r)::text from pg_trigger t join pg_class c on c.oid = t.tgrelid ",
    "join pg_namespace n on n.oid = c.relnamespace, lateral (select ",
    "t.tgname as name, pg_get_triggerdef(t.oid) as definition, ",
    "case t.tgenabled when 'D' then 'disabled' when 'R' then 'replica' when 'A' then 'always' else 'origin' end as enabled, ",
    description!("pg_trigger", "t.oid"), " as comment",
    ") r where not t.tgisinternal and t.tgparentid = 0 and ",
    user_schema!()
);

pub const POLICIES: &str = concat!(
    "select p.polrelid, row_to_json(r)::text from pg_policy p join pg_class c on c.oid = p.polrelid ",
    "join pg_namespace n on n.oid = c.relnamespace, lateral (select ",
    "p.polname as name, case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update' ",
    "when 'd' then 'delete' else 'all' end as command, p.polpermissive as permissive, ",
    "(select json_agg(case when x = 0 then 'public' else pg_get_userbyid(x) end) from unnest(p.polroles) x) as roles, ",
    "pg_get_expr(p.polqual, p.polrelid) as using, pg_get_expr(p.polwithcheck, p.polrelid) as with_check, ",
    description!("pg_policy", "p.oid"), " as comment",
    ") r where ",
    user_schema!()
);

pub const VIEWS: &str = concat!(
    "select c.oid, row_to_json(r)::text from pg_class c join pg_namespace n on n.oid = c.relnamespace, lateral (select ",
    "n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner) as owner, ",
    "c.relkind = 'm' as materialized, pg_get_viewdef(c.oid, true) as definition, ",
    "coalesce(array_to_json(c.reloptions), '[]') as options, ",
    description!("pg_class", "c.oid"), " as comment, ",
    grants!("c.relacl", "'r'", "c.relowner"),
    " as grants) r where c.relkind in ('v', 'm') and ",
    user_schema!(),
    " and ",
    not_extension_member!("pg_class", "c.oid")
);

pub const FUNCTIONS: &str = concat!(
    "select p.oid, row_to_json(r)::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace ",
    "join pg_language l on l.oid = p.prolang, lateral (select ",
    "n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as arguments, ",
    "pg_get_userbyid(p.proowner) as owner, case p.prokind when 'p' then 'procedure' else 'function' end as kind, ",
    "case when p.prokind = 'f' then pg_get_function_result(p.oid) end as returns, ",
    "l.lanname as language, case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end as volatility, ",
    "p.prosecdef as security_definer, p.proisstrict as strict, ",
    "coalesce(array_to_json(p.proconfig), '[]') as config, pg_get_functiondef(p.oid) as definition, ",
    description!("pg_proc", "p.oid"), " as comment, ",
    grants!("p.proacl", "'f'", "p.proowner"),
    " as grants) r where p.prokind in ('f', 'p') and ",
    user_schema!(),
    // Not a range or multirange type's constructor: CREATE TYPE makes those.
    " and not exists (select 1 from pg_depend x where x.classid = 'pg_proc'::regclass ",
    "and x.objid = p.oid and x.deptype = 'i') and ",
    not_extension_member!("pg_proc", "p.oid")
);

/// Roles the schema refers to (owners, grantees, policy roles), and every role they belong to.
// Objects in user schemas have OIDs from 16384 up (`FirstNormalObjectId`); saying so lets
// each part skip the thousands of built-in functions, types and operators by index. The
// schemas themselves are not filtered: `public` is built in.
pub const ROLES: &str = concat!(
    "with recursive referenced(oid) as (",
    "select n.nspowner from pg_namespace n where ",
    user_schema!(),
    " union select c.relowner from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid >= 16384 and ",
    user_schema!(),
    " union select p.proowner from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.oid >= 16384 and ",
    user_schema!(),
    " union select t.typowner from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.oid >= 16384 and ",
    user_schema!(),
    " union select o.oprowner from pg_operator o join pg_namespace n on n.oid = o.oprnamespace where o.oid >= 16384 and ",
    user_schema!(),
    " union select f.opfowner from pg_opfamily f join pg_namespace n on n.oid = f.opfnamespace where f.oid >= 16384 and ",
    user_schema!(),
    " union select c.opcowner from pg_opclass c join pg_namespace n on n.oid = c.opcnamespace where c.oid >= 16384 and ",
    user_schema!(),
    " union select unnest(p.polroles) from pg_policy p",
    " union select p.pubowner from pg_publication p",
    " union select d.defaclrole from pg_default_acl d",
    " union select e.evtowner from pg_event_trigger e",
    // Servers' owners and grantees, and mapped roles (never a mapping's options).
    " union select s.srvowner from pg_foreign_server s",
    " union select (aclexplode(s.srvacl)).grantee from pg_foreign_server s where s.srvacl is not null",
    " union select m.umuser from pg_user_mappings m",
    " union select (aclexplode(d.defaclacl)).grantee from pg_default_acl d",
    " union select (aclexplode(c.relacl)).grantee from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid >= 16384 and c.relacl is not null and ",
    user_schema!(),
    " union select (aclexplode(p.proacl)).grantee from pg_proc p join pg_namespace n on n.oid = p.pronamespace where p.oid >= 16384 and p.proacl is not null and ",
    user_schema!(),
    " union select (aclexplode(a.attacl)).grantee from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace where a.attrelid >= 16384 and a.attacl is not null and ",
    user_schema!(),
    " union select (aclexplode(n.nspacl)).grantee from pg_namespace n where n.nspacl is not null and ",
    user_schema!(),
    "), closure(oid) as (select oid from referenced union select m.roleid from pg_auth_members m join closure c on m.member = c.oid) ",
    "select r.oid, json_build_object('name', r.rolname, 'superuser', r.rolsuper, 'bypassrls', r.rolbypassrls, ",
    "'login', r.rolcanlogin, 'inherit', r.rolinherit, 'member_of', coalesce((select json_agg(g.rolname order by g.rolname) ",
    "from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid), '[]'))::text ",
    "from pg_roles r join closure c on c.oid = r.oid where r.rolname !~ '^pg_'"
);

/// Dependencies between top-level objects, from `pg_depend`. Each side is resolved to the
/// object that renders it: a column default or check constraint to its table, a view's rewrite
/// rule to the view, a row type to its table, an array type to its element type. Returns
/// `(oid, '<kind>:<referenced kind>:<referenced oid>')` with kind `r` relation, `t` type,
/// `f` function, `o` operator, `k` cast, `c` operator class. Each side of `keys` is restricted to the inspected schema when
/// `tenet.inspect_schema` is set (an edge leaving the schema is dropped by assembly anyway),
/// so the join stays the size of the schema.
macro_rules! dependencies_query {
    ($scope:ident) => {
        concat!("\
with keys(classid, objid, kind, oid) as (
    select 'pg_class'::regclass::oid, c.oid, 'r', c.oid from pg_class c
     where c.oid >= 16384 and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
       and ", $scope!("c.relnamespace"), "
  union all
    -- A composite type's attributes hang off its pg_class row.
    select 'pg_class'::regclass::oid, c.oid, 't', c.reltype from pg_class c
     where c.oid >= 16384 and c.relkind = 'c'
       and ", $scope!("c.relnamespace"), "
  union all
    select 'pg_type'::regclass::oid, t.oid,
           case when rel.relkind is not null and rel.relkind <> 'c' then 'r' else 't' end,
           case when rel.relkind is not null and rel.relkind <> 'c' then rel.oid else b.oid end
      from pg_type t
      left join pg_type e on e.oid = t.typelem and t.typsubscript = 'array_subscript_handler'::regproc
      cross join lateral (select coalesce(e.oid, t.oid) as oid, coalesce(e.typrelid, t.typrelid) as typrelid) b
      left join pg_class rel on rel.oid = b.typrelid
     where t.oid >= 16384
       and ", $scope!("t.typnamespace"), "
  union all
    select 'pg_proc'::regclass::oid, p.oid, 'f', p.oid from pg_proc p where p.oid >= 16384
       and ", $scope!("p.pronamespace"), "
  union all
    select 'pg_operator'::regclass::oid, o.oid, 'o', o.oid from pg_operator o where o.oid >= 16384
       and ", $scope!("o.oprnamespace"), "
  union all
    -- A range type names its subtype's operator class.
    select 'pg_opclass'::regclass::oid, c.oid, 'c', c.oid from pg_opclass c where c.oid >= 16384
       and ", $scope!("c.opcnamespace"), "
  union all
    -- A cast belongs to no schema.
    select 'pg_cast'::regclass::oid, c.oid, 'k', c.oid from pg_cast c where c.oid >= 16384
  union all
    select 'pg_attrdef'::regclass::oid, d.oid, 'r', d.adrelid from pg_attrdef d where d.oid >= 16384
       and ", $scope!("(select relnamespace from pg_class where oid = d.adrelid)"), "
  union all
    select 'pg_constraint'::regclass::oid, c.oid,
           case when c.conrelid <> 0 then 'r' else 't' end,
           case when c.conrelid <> 0 then c.conrelid else c.contypid end
      from pg_constraint c where c.contype = 'c' and c.oid >= 16384
       and ", $scope!("c.connamespace"), "
  union all
    -- A view's own rule only: what a CREATE RULE names is needed by the rule, created after
    -- every relation, not by its table.
    select 'pg_rewrite'::regclass::oid, w.oid, 'r', w.ev_class from pg_rewrite w
     where w.oid >= 16384 and w.rulename = '_RETURN'
       and ", $scope!("(select relnamespace from pg_class where oid = w.ev_class)"), "
)
select distinct a.oid, a.kind || ':' || b.kind || ':' || b.oid
  from pg_depend d
  join keys a on a.classid = d.classid and a.objid = d.objid
  join keys b on b.classid = d.refclassid and b.objid = d.refobjid
 where d.deptype = 'n' and d.objid >= 16384 and d.refobjid >= 16384
   and (a.kind, a.oid) <> (b.kind, b.oid)")
    };
}

/// Everywhere: the whole database is inspected.
macro_rules! everywhere {
    ($namespace:literal) => {
        "true"
    };
}

/// The whole database's dependencies. The restriction to one schema is left out of the
/// text, not merely true at run time: with it the planner misjudges `keys` and the query
/// takes seconds instead of milliseconds on 2,000 tables.
pub const DEPENDENCIES: &str = dependencies_query!(everywhere);

/// [`DEPENDENCIES`] of the schema `tenet.inspect_schema` names.
pub const DEPENDENCIES_IN_SCHEMA: &str = dependencies_query!(in_scope);

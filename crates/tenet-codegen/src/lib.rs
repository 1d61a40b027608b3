//! `tenet gen`: typed code from the catalog.
//!
//! - [`typescript`]: per table a `Row`, an `Insert` and an `Update` type; enums as unions of
//!   their labels; and a `Database` type in the shape `supabase gen types typescript` writes,
//!   for `createClient<Database>` (JSON types: every number is a `number`, `bytea` a string).
//! - [`drizzle`]: a Drizzle ORM schema: `pgEnum`s, `pgTable`s with column builders, keys,
//!   foreign keys, checks, indexes, and row-level security as `pgPolicy` and `.enableRLS()`.
//! - [`in_schemas`]: the catalog narrowed to some schemas, for `--schema`.
//! - [`rust`]: per table a struct deriving `Debug, Clone, serde::Serialize, serde::Deserialize,
//!   sqlx::FromRow`, with `TABLE` and `COLUMNS` constants to query it; enums as Rust enums
//!   deriving `sqlx::Type`.
//! - [`sqlmodel`]: per table a SQLModel class (`table=True`) with primary keys, foreign keys,
//!   nullability, the exact column types, server defaults, identity and generated columns,
//!   unique constraints, indexes and comments (Alembic's `compare_metadata` finds nothing to
//!   change); enums as `enum.Enum` classes.
//!
//! Type and table names are `UpperCamelCase`, prefixed with the schema outside `public`
//! (`billing.orders` is `BillingOrders`); in Rust and Python a name that is taken gets a
//! number. Columns that are not identifiers in Rust or Python, or are keywords there, are
//! renamed (`type` is `r#type` in Rust and `class` is `class_` in Python) and mapped back to
//! the column's name.
//!
//! # Type mapping
//!
//! A nullable column is `T | null`, `Option<T>` or `Optional[T]`. Python names the
//! SQLAlchemy type of each column too (second line of the Python cell).
//!
//! | PostgreSQL | TypeScript | Rust (sqlx 0.8) | Python (SQLModel) |
//! | --- | --- | --- | --- |
//! | `smallint` | `number` | `i16` | `int`, `sa.SmallInteger` |
//! | `integer` | `number` | `i32` | `int`, `sa.Integer` |
//! | `bigint` | `string` | `i64` | `int`, `sa.BigInteger` |
//! | `real` | `number` | `f32` | `float`, `postgresql.REAL` |
//! | `double precision` | `number` | `f64` | `float`, `postgresql.DOUBLE_PRECISION` |
//! | `numeric(p,s)` | `string` | `rust_decimal::Decimal` | `decimal.Decimal`, `sa.Numeric(p,s)` |
//! | `boolean` | `boolean` | `bool` | `bool`, `sa.Boolean` |
//! | `text` | `string` | `String` | `str`, `sa.Text` |
//! | `varchar(n)` | `string` | `String` | `str`, `sa.String(n)` |
//! | `char(n)` | `string` | `String` | `str`, `sa.CHAR(length=n)` |
//! | `"char"` | `string` | `i8` | `str`, `PgType("\"char\"")` |
//! | `name` | `string` | `String` | `str`, `PgType("name")` |
//! | `citext` | `string` | `String` | `str`, `postgresql.CITEXT` |
//! | `uuid` | `string` | `uuid::Uuid` | `uuid.UUID`, `postgresql.UUID(as_uuid=True)` |
//! | `timestamp with time zone` | `string` | `chrono::DateTime<chrono::Utc>` | `datetime.datetime`, `postgresql.TIMESTAMP(timezone=True)` |
//! | `timestamp` | `string` | `chrono::NaiveDateTime` | `datetime.datetime`, `postgresql.TIMESTAMP()` |
//! | `date` | `string` | `chrono::NaiveDate` | `datetime.date`, `sa.Date` |
//! | `time` | `string` | `chrono::NaiveTime` | `datetime.time`, `postgresql.TIME()` |
//! | `time with time zone` | `string` | `pg::TimeTz` (sqlx `PgTimeTz`) | `datetime.time`, `postgresql.TIME(timezone=True)` |
//! | `interval` | `string` | `pg::Interval` (sqlx `PgInterval`) | `datetime.timedelta`, `postgresql.INTERVAL()` |
//! | `json` | `JsonValue` | `serde_json::Value` | `typing.Any`, `postgresql.JSON` |
//! | `jsonb` | `JsonValue` | `serde_json::Value` | `typing.Any`, `postgresql.JSONB` |
//! | `bytea` | `Uint8Array` | `Vec<u8>` | `bytes`, `postgresql.BYTEA` |
//! | `inet`, `cidr` | `string` | `sqlx::types::ipnetwork::IpNetwork` | `str`, `postgresql.INET`, `postgresql.CIDR` |
//! | `T[]` | `Array<T>` | `Vec<T>` | `list[T]`, `postgresql.ARRAY(T)` |
//! | enum | union of its labels | generated enum | generated `enum.Enum`, `pg_enum(...)` |
//! | domain | its base type | its base type | its base type's annotation, `postgresql.DOMAIN(name, base, create_type=False)` |
//! | composite | `Record<string, unknown>` | `String` (read as text) | `str`, `ReadAs(PgType(...), sa.Text)` |
//! | anything else | `unknown` (`string` for `macaddr`) | `String` (read as text) | `str`, `ReadAs(PgType(...), sa.Text)` |
//!
//! Notes:
//! - TypeScript types are those node-postgres returns for the text format; an enum without
//!   labels is `never`.
//! - Rust: `pg::Interval` and `pg::TimeTz` wrap sqlx's types (which have no serde) in a `pg`
//!   module generated alongside. sqlx checks the type of what it decodes, so a struct's
//!   `COLUMNS` casts what it could not decode as declared: types with no Rust mapping (and
//!   enums without labels) to `text`, arrays of them and of `citext` to `text[]`, arrays of a
//!   domain to arrays of the base type. `Vec<T>` cannot hold NULL elements or several
//!   dimensions. `Decimal` holds 28 significant digits and no NaN. Enum type names are
//!   written as PostgreSQL prints them under the default search_path (`mood`, `billing.currency`).
//! - Python: `PgType` (generated) names a type SQLAlchemy has no class for, so `create_all()`
//!   makes the same column type; `ReadAs` (generated) reads a column through a cast, for the
//!   same cases as Rust's `COLUMNS` (the driver would otherwise return a dict for an `hstore`,
//!   or a string for an array type it does not know). Sized forms keep their size
//!   (`varchar(20)` is `sa.String(20)`, `timestamp(3)` is `postgresql.TIMESTAMP(precision=3)`);
//!   an interval with fields is a `PgType`. Every `PgType` is also registered with SQLAlchemy's
//!   reflection (`"char"` and `name`, which it reads as plain strings, included), so Alembic's
//!   autogenerate compares those columns instead of skipping them with a warning. Domains stay
//!   domains, and, like composite types, must exist before `create_all()`. A `nextval` default
//!   is `SERIAL` on SQLAlchemy's autoincrement column, a client-side `sa.Sequence` where
//!   Alembic reads the column as serial, and a server default (its sequence declared in the
//!   metadata) elsewhere; operator classes of plain columns go in `postgresql_ops`. A table
//!   without a primary key is mapped on all its columns; a table without columns is a Core
//!   `sa.Table` in the metadata.

mod drizzle;
mod names;
mod rust;
mod sqlmodel;
mod supabase;
mod types;
mod typescript;

pub use drizzle::drizzle;
pub use names::{type_name, ClassNames};
pub use rust::rust;
pub use sqlmodel::sqlmodel;
pub use types::{Builtin, ColumnType};
pub use typescript::{typescript, typescript_type};

use tenet_catalog::model::Catalog;

/// The catalog with only the tables, views, functions and schemas of `schemas` (all when
/// empty). Types stay, so a column of a type from elsewhere keeps its type. An unknown
/// schema is an error naming it.
pub fn in_schemas(catalog: &Catalog, schemas: &[String]) -> Result<Catalog, String> {
    if schemas.is_empty() {
        return Ok(catalog.clone());
    }
    if let Some(missing) = schemas
        .iter()
        .find(|s| !catalog.schemas.iter().any(|c| &c.name == *s))
    {
        let known: Vec<&str> = catalog.schemas.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "no schema named {missing:?} (the schemas are: {})",
            known.join(", ")
        ));
    }
    let keep = |schema: &String| schemas.contains(schema);
    let mut out = catalog.clone();
    out.schemas.retain(|s| keep(&s.name));
    out.tables.retain(|t| keep(&t.schema));
    out.views.retain(|v| keep(&v.schema));
    out.functions.retain(|f| keep(&f.schema));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use tenet_catalog::model::Catalog;

    use crate::{rust, sqlmodel, typescript, ClassNames, ColumnType};

    /// Each row of the mapping table above says what the code does.
    #[test]
    fn documented_mapping_is_the_code() {
        let docs = include_str!("lib.rs");
        let catalog = Catalog::default();
        let names = ClassNames::new(&catalog);
        for (pg, row) in [
            ("smallint", "`smallint`"),
            ("integer", "`integer`"),
            ("bigint", "`bigint`"),
            ("real", "`real`"),
            ("double precision", "`double precision`"),
            ("numeric(10,2)", "`numeric(p,s)`"),
            ("boolean", "`boolean`"),
            ("text", "`text`"),
            ("character varying(20)", "`varchar(n)`"),
            ("character(3)", "`char(n)`"),
            ("\"char\"", "`\"char\"`"),
            ("name", "`name`"),
            ("public.citext", "`citext`"),
            ("uuid", "`uuid`"),
            ("timestamp with time zone", "`timestamp with time zone`"),
            ("timestamp without time zone", "`timestamp`"),
            ("date", "`date`"),
            ("time without time zone", "`time`"),
            ("time with time zone", "`time with time zone`"),
            ("interval", "`interval`"),
            ("json", "`json`"),
            ("jsonb", "`jsonb`"),
            ("bytea", "`bytea`"),
            ("inet", "`inet`, `cidr`"),
            ("cidr", "`inet`, `cidr`"),
            ("point", "anything else"),
        ] {
            let line = docs
                .lines()
                .find(|l| l.starts_with(&format!("//! | {row} |")))
                .unwrap_or_else(|| panic!("no row {row}"));
            // `//!`, the PostgreSQL type, then TypeScript, Rust and Python.
            let cells: Vec<&str> = line.split(" | ").skip(2).collect();
            let ty = ColumnType::of(&catalog, pg);
            let ts = typescript::typescript_type(&catalog, pg);
            let rust = rust::rust_type(&ty, &names, &mut false);
            let (python, sa) = sqlmodel::python_type(&ty, &names);
            let sa = sa.split('(').next().unwrap();
            assert!(
                cells[0].contains(&format!("`{ts}`")),
                "{pg}: {ts} in {line}"
            );
            assert!(
                cells[1].contains(&format!("`{rust}`")),
                "{pg}: {rust} in {line}"
            );
            assert!(
                cells[2].starts_with(&format!("`{python}`")) && cells[2].contains(sa),
                "{pg}: {python}, {sa} in {line}"
            );
        }
    }
}

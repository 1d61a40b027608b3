//! A column's type as code generation sees it: PostgreSQL's `format_type` text classified once,
//! domains resolved to their base, so every language maps the same cases.

use tenet_catalog::model::{Catalog, QualifiedName, Type, TypeKind};

/// The types with a mapping in every language (see the table in the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Bool,
    Text,
    Varchar,
    /// `character(n)`, `bpchar`.
    Bpchar,
    /// The one-byte `"char"`.
    Char,
    Name,
    /// From the citext extension; a string everywhere.
    Citext,
    Uuid,
    Timestamp,
    Timestamptz,
    Date,
    Time,
    Timetz,
    /// With or without fields (`interval year to month`).
    Interval,
    Json,
    Jsonb,
    Bytea,
    Inet,
    Cidr,
}

/// A column type, domains resolved to their base type.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnType<'a> {
    Builtin {
        ty: Builtin,
        /// What was between parentheses: `10,2` of `numeric(10,2)`, `3` of `timestamp(3)`.
        modifier: Option<String>,
        /// The type as PostgreSQL prints it, e.g. `timestamp(3) with time zone`.
        sql: String,
    },
    Enum(&'a Type),
    /// A composite type (`CREATE TYPE ... AS (...)`).
    Composite(&'a Type),
    Array(Box<ColumnType<'a>>),
    /// Anything else (range, geometric, extension types...), as PostgreSQL prints it.
    Other(String),
}

impl ColumnType<'_> {
    /// Classify a type as `format_type` prints it (with an empty search_path, so user types
    /// are schema-qualified).
    pub fn of<'a>(catalog: &'a Catalog, pg: &str) -> ColumnType<'a> {
        let pg = pg.trim();
        if let Some(element) = pg.strip_suffix("[]") {
            return ColumnType::Array(Box::new(ColumnType::of(catalog, element)));
        }
        if let Some(t) = catalog
            .types
            .iter()
            .find(|t| QualifiedName::new(&t.schema, &t.name).to_string() == pg)
        {
            return match &t.kind {
                TypeKind::Enum { .. } => ColumnType::Enum(t),
                TypeKind::Domain { base, .. } => ColumnType::of(catalog, base),
                TypeKind::Composite { .. } => ColumnType::Composite(t),
                TypeKind::Range { .. } => ColumnType::Other(pg.to_string()),
            };
        }
        let (name, modifier) = split_modifier(pg);
        match builtin(&name) {
            Some(ty) => ColumnType::Builtin {
                ty,
                modifier,
                sql: pg.to_string(),
            },
            None => ColumnType::Other(pg.to_string()),
        }
    }

    /// The SQL name of this type (domains resolved), e.g. `text[]` for an array of a domain.
    pub fn sql(&self) -> String {
        match self {
            ColumnType::Builtin { sql, .. } => sql.clone(),
            ColumnType::Enum(t) | ColumnType::Composite(t) => {
                QualifiedName::new(&t.schema, &t.name).to_string()
            }
            ColumnType::Array(element) => format!("{}[]", element.sql()),
            ColumnType::Other(sql) => sql.clone(),
        }
    }

    /// The element type of an array, else the type itself.
    pub fn scalar(&self) -> &Self {
        match self {
            ColumnType::Array(element) => element.scalar(),
            other => other,
        }
    }
}

/// How a column is read when drivers cannot decode it as declared (see [`ColumnType::read_as`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    /// As `text` (`text[]` for an array): a type with no mapping, or an array of a type
    /// drivers do not know.
    Text,
    /// As an array of the base type: an array of a domain, which drivers do not see through.
    Base,
}

impl ColumnType<'_> {
    /// Must a column declared as `declared` be read through a cast, and to what?
    pub fn read_as(&self, declared: &str) -> Option<ReadAs> {
        let array = matches!(self, ColumnType::Array(_));
        match self.scalar() {
            ColumnType::Composite(_) | ColumnType::Other(_) => Some(ReadAs::Text),
            ColumnType::Builtin {
                ty: Builtin::Citext,
                ..
            } if array => Some(ReadAs::Text),
            _ if array && declared.ends_with("[]") && self.sql() != declared => Some(ReadAs::Base),
            _ => None,
        }
    }

    /// The SQL type of a cast for reading.
    pub fn read_sql(&self, read_as: ReadAs) -> String {
        match (read_as, self) {
            (ReadAs::Text, ColumnType::Array(_)) => "text[]".into(),
            (ReadAs::Text, _) => "text".into(),
            (ReadAs::Base, _) => self.sql(),
        }
    }
}

/// The labels of an enum type.
pub fn labels(t: &Type) -> &[String] {
    match &t.kind {
        TypeKind::Enum { labels } => labels,
        _ => &[],
    }
}

/// `timestamp(3) with time zone` -> (`timestamp with time zone`, `3`). Parentheses inside a
/// quoted name are part of the name.
fn split_modifier(pg: &str) -> (String, Option<String>) {
    let (mut name, mut modifier) = (String::new(), None::<String>);
    let (mut quoted, mut depth) = (false, 0);
    for c in pg.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                name.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth > 0 => modifier.get_or_insert_with(String::new).push(c),
            _ => name.push(c),
        }
    }
    (name.trim().to_string(), modifier)
}

fn builtin(name: &str) -> Option<Builtin> {
    use Builtin::*;
    Some(match name {
        "smallint" => Int2,
        "integer" => Int4,
        "bigint" => Int8,
        "real" => Float4,
        "double precision" => Float8,
        "numeric" => Numeric,
        "boolean" => Bool,
        "text" => Text,
        "character varying" => Varchar,
        "character" | "bpchar" => Bpchar,
        "\"char\"" => Char,
        "name" => Name,
        "uuid" => Uuid,
        "timestamp without time zone" => Timestamp,
        "timestamp with time zone" => Timestamptz,
        "date" => Date,
        "time without time zone" => Time,
        "time with time zone" => Timetz,
        "json" => Json,
        "jsonb" => Jsonb,
        "bytea" => Bytea,
        "inet" => Inet,
        "cidr" => Cidr,
        // interval, or interval with fields (`interval day to second`).
        _ if name == "interval" || name.starts_with("interval ") => Interval,
        // An extension type, printed schema-qualified: only citext is mapped.
        _ if name.rsplit('.').next() == Some("citext") => Citext,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_are_split_off() {
        assert_eq!(
            split_modifier("timestamp(3) with time zone"),
            ("timestamp with time zone".into(), Some("3".into()))
        );
        assert_eq!(
            split_modifier("numeric(10,2)"),
            ("numeric".into(), Some("10,2".into()))
        );
        assert_eq!(
            split_modifier("public.\"odd(name)\""),
            ("public.\"odd(name)\"".into(), None)
        );
    }

    #[test]
    fn builtins_arrays_and_unknowns() {
        let catalog = Catalog::default();
        assert!(matches!(
            ColumnType::of(&catalog, "interval day to second(3)"),
            ColumnType::Builtin {
                ty: Builtin::Interval,
                ..
            }
        ));
        let array = ColumnType::of(&catalog, "character varying(20)[]");
        assert_eq!(array.sql(), "character varying(20)[]");
        assert!(matches!(
            array.scalar(),
            ColumnType::Builtin {
                ty: Builtin::Varchar,
                ..
            }
        ));
        assert_eq!(
            ColumnType::of(&catalog, "public.hstore"),
            ColumnType::Other("public.hstore".into())
        );
    }
}

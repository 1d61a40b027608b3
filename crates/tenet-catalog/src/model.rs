//! The catalog model: one normalized, deterministic description of a database schema.
//!
//! Everything is keyed by names, never by OIDs, and every list is sorted, so two inspections of
//! equal schemas compare equal (`==`) and serialize to identical JSON. Expressions and definitions
//! are PostgreSQL's own renderings (`pg_get_expr`, `format_type`, `pg_get_constraintdef`, ...),
//! read with an empty `search_path`, so names in them are schema-qualified.

use serde::{Deserialize, Serialize};

/// A whole database schema, as far as Tenet models it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default)]
    pub schemas: Vec<Schema>,
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// Roles the schema refers to (owners, grantees, policy roles) and the roles they belong to.
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub collations: Vec<Collation>,
    #[serde(default)]
    pub types: Vec<Type>,
    #[serde(default)]
    pub sequences: Vec<Sequence>,
    #[serde(default)]
    pub tables: Vec<Table>,
    #[serde(default)]
    pub views: Vec<View>,
    #[serde(default)]
    pub functions: Vec<Function>,
    /// Logical replication publications (Supabase realtime's `supabase_realtime`, ...), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publications: Vec<Publication>,
    /// Event triggers, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_triggers: Vec<EventTrigger>,
    /// `ALTER DEFAULT PRIVILEGES` entries, by role, schema and kind of object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_privileges: Vec<DefaultPrivilege>,
    /// Extended statistics (`CREATE STATISTICS`), by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statistics: Vec<Statistics>,
    /// Text search dictionaries, by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_search_dictionaries: Vec<TextSearchDictionary>,
    /// Text search configurations, by schema and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_search_configurations: Vec<TextSearchConfiguration>,
    /// User-defined operators, by schema, name and operand types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<Operator>,
    /// User-defined casts, by source and target type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub casts: Vec<Cast>,
    /// Operator families, by schema, name and index method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_families: Vec<OperatorFamily>,
    /// Operator classes, by schema, name and index method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_classes: Vec<OperatorClass>,
    /// Foreign servers (`CREATE SERVER`), by name; their wrappers come with their extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_servers: Vec<ForeignServer>,
    /// User mappings (`CREATE USER MAPPING`), by server and role; never their options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_mappings: Vec<UserMapping>,
    /// Foreign tables (relkind `f`), by schema and name: never among `tables`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_tables: Vec<ForeignTable>,
    /// Renames declared in desired-state SQL (`-- tenet:renamed-from old_name`), read from the
    /// source files rather than the database (see [`crate::hints`]): the plan renames these
    /// instead of dropping and creating them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renames: Vec<Rename>,
}

impl Catalog {
    /// Whether a table, sequence, view, function, type, extended statistics, text search
    /// object, operator or operator class or family lives in `schema`.
    pub fn holds_objects(&self, schema: &str) -> bool {
        self.tables.iter().any(|t| t.schema == schema)
            || self.sequences.iter().any(|s| s.schema == schema)
            || self.views.iter().any(|v| v.schema == schema)
            || self.functions.iter().any(|f| f.schema == schema)
            || self.types.iter().any(|t| t.schema == schema)
            || self.statistics.iter().any(|s| s.schema == schema)
            || self
                .text_search_dictionaries
                .iter()
                .any(|d| d.schema == schema)
            || self
                .text_search_configurations
                .iter()
                .any(|c| c.schema == schema)
            || self.operators.iter().any(|o| o.schema == schema)
            || self.operator_families.iter().any(|f| f.schema == schema)
            || self.operator_classes.iter().any(|c| c.schema == schema)
            || self.foreign_tables.iter().any(|t| t.schema == schema)
    }
}

/// A table or column that had another name before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    /// The table, under its new name.
    pub table: QualifiedName,
    /// The renamed column; none when the table itself is renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The old name of the table (same schema) or column.
    pub from: String,
}

/// A schema-qualified name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for QualifiedName {
    /// Renders as quoted SQL: `public.tasks`, `"My Schema"."order"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}",
            crate::quote::ident(&self.schema),
            crate::quote::ident(&self.name)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    pub schema: String,
    pub name: String,
    pub owner: String,
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    /// ICU or builtin locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lc_collate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lc_ctype: Option<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub deterministic: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Role attributes that matter for isolation, and memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub superuser: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub bypassrls: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub login: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub inherit: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_of: Vec<String>,
}

/// One privilege granted to one grantee (`PUBLIC` for everyone).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    pub privilege: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub grantable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Type {
    pub schema: String,
    pub name: String,
    pub owner: String,
    #[serde(flatten)]
    pub kind: TypeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Objects this type needs to exist first (see [`ObjectKey`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base: String,
        #[serde(default, skip_serializing_if = "is_false")]
        not_null: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        checks: Vec<DomainCheck>,
    },
    Composite {
        attributes: Vec<CompositeAttribute>,
    },
    /// `CREATE TYPE ... AS RANGE`, with its multirange type.
    Range {
        subtype: String,
        /// The subtype's B-tree operator class, when not its default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subtype_opclass: Option<String>,
        /// When not the subtype's default collation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        /// The canonical function (written in C in practice).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        canonical: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subtype_diff: Option<String>,
        /// The multirange type's qualified name.
        multirange: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub name: String,
    /// `CHECK (...)`, with ` NOT VALID` when not validated.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A free-standing sequence (identity sequences belong to their column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    pub owner: String,
    #[serde(flatten)]
    pub options: SequenceOptions,
    /// `OWNED BY` column, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<ColumnRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    pub table: QualifiedName,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlogged: bool,
    /// `PARTITION BY` clause of a partitioned table, e.g. `RANGE (created_at)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_by: Option<String>,
    /// Parent and bound of a partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<PartitionOf>,
    /// Parents of an inheritance child, in inheritance order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<QualifiedName>,
    /// Storage parameters (`fillfactor=70`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// `REPLICA IDENTITY` when it is not the default (the primary key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<ReplicaIdentity>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub rls_enabled: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub rls_forced: bool,
    /// In attribute order.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// Constraints declared on this table (not those cloned from a parent), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// Indexes that no constraint owns and no parent index cloned, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Indexes of a partition attached to an index of its parent, by name: created before the
    /// parent's, they keep their names (PostgreSQL would otherwise build its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_indexes: Vec<PartitionIndex>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// `CREATE RULE`s, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl Table {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// What logical replication logs of an updated or deleted row, besides the default (its
/// primary key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIdentity {
    /// Every column.
    Full,
    /// Nothing: updates and deletes cannot be published.
    Nothing,
    /// The columns of this unique index (or key) of the table.
    Index(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// `FOR VALUES ...` or `DEFAULT`.
    pub bound: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Set only when it differs from the type's default collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Expression of a `GENERATED ALWAYS AS (...) STORED` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// Comes from a parent table (inheritance or partitioning).
    #[serde(default, skip_serializing_if = "is_false")]
    pub inherited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Column-level privileges (`GRANT SELECT (col) ...`); None when there are none. A column
    /// has no default ACL: table-level grants already cover every column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `always` or `by default`.
    pub generation: String,
    #[serde(flatten)]
    pub sequence: SequenceOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    /// PostgreSQL's rendering, e.g. `FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE`.
    pub definition: String,
    /// Constrained columns, in key order (empty for a check on an expression only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<ForeignKey>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub validated: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub table: QualifiedName,
    pub columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null` or `set default`.
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    /// `CREATE [UNIQUE] INDEX ...` as PostgreSQL renders it.
    pub definition: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    pub method: String,
    /// Key columns or expressions, in order.
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A rewrite rule (`CREATE RULE`), not a view's own `_RETURN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    /// `CREATE RULE ...` as PostgreSQL renders it, without the final `;`.
    pub definition: String,
    /// `origin` (the default, omitted), `disabled`, `replica` or `always`.
    #[serde(default = "origin", skip_serializing_if = "is_origin")]
    pub enabled: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionIndex {
    pub name: String,
    /// `CREATE INDEX ...` as PostgreSQL renders it.
    pub definition: String,
    /// The index of the parent table it is attached to (in the parent's schema).
    pub parent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    /// `CREATE [CONSTRAINT] TRIGGER ...` as PostgreSQL renders it.
    pub definition: String,
    /// `origin` (the default, omitted), `disabled`, `replica` or `always`.
    #[serde(default = "origin", skip_serializing_if = "is_origin")]
    pub enabled: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    /// `all`, `select`, `insert`, `update` or `delete`.
    pub command: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub permissive: bool,
    /// Role names; `public` means every role.
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub materialized: bool,
    /// The `SELECT` as PostgreSQL renders it.
    pub definition: String,
    /// View options (`security_invoker=true`, `check_option=local`) or matview storage parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default)]
    pub columns: Vec<ViewColumn>,
    /// Indexes of a materialized view.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Triggers (`INSTEAD OF` and statement triggers), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// `CREATE RULE`s other than the view's own `SELECT`, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl View {
    /// True when the view runs with the caller's privileges (and so the caller's RLS).
    pub fn security_invoker(&self) -> bool {
        self.options
            .iter()
            .any(|o| o == "security_invoker=true" || o == "security_invoker=on")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// Identity arguments, e.g. `p_user uuid, p_limit integer` (what makes an overload unique).
    pub arguments: String,
    pub owner: String,
    /// `function`, `procedure` or `aggregate`.
    pub kind: String,
    /// Result type (`SETOF public.tasks`, `TABLE(...)`, `trigger`); absent for procedures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    pub language: String,
    /// `immutable`, `stable` or `volatile`.
    pub volatility: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub security_definer: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
    /// `SET` options, e.g. `search_path=public`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Complete `CREATE OR REPLACE FUNCTION` text from `pg_get_functiondef`.
    pub definition: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl Function {
    /// `public.f(integer, text)`: the name that identifies the overload in SQL.
    pub fn signature(&self) -> String {
        format!(
            "{}({})",
            QualifiedName::new(&self.schema, &self.name),
            self.arguments
        )
    }

    /// What `GRANT ... ON` names it by: `FUNCTION` for an aggregate too (`ON AGGREGATE` is
    /// not SQL), `PROCEDURE` for a procedure.
    pub fn privilege_target(&self) -> String {
        let kind = if self.kind == "procedure" {
            "PROCEDURE"
        } else {
            "FUNCTION"
        };
        let signature = self.signature();
        // An aggregate of no arguments is `agg(*)` as an aggregate, `agg()` as a function.
        match signature.strip_suffix("(*)") {
            Some(name) => format!("{kind} {name}()"),
            None => format!("{kind} {signature}"),
        }
    }
}

/// `CREATE EVENT TRIGGER`: a function run on DDL events of the whole database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: String,
    pub owner: String,
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop` or `table_rewrite`.
    pub event: String,
    /// `WHEN TAG IN (...)`, in the order written; empty for every command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The function's qualified name (it takes no arguments).
    pub function: String,
    /// `origin` (the default, omitted), `disabled`, `replica` or `always`.
    #[serde(default = "origin", skip_serializing_if = "is_origin")]
    pub enabled: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `CREATE OPERATOR`. Shell operators (made by a `COMMUTATOR` or `NEGATOR` that names an
/// operator not defined yet) are not listed: the operator naming them makes them again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub schema: String,
    /// The operator's symbol, e.g. `===` (never quoted in SQL).
    pub name: String,
    /// The left operand's type; none for a prefix operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<String>,
    pub right: String,
    pub owner: String,
    /// The function's name, qualified where needed (its arguments are the operand types).
    pub function: String,
    /// `OPERATOR(schema.name)`: its operands are this operator's, swapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commutator: Option<String>,
    /// `OPERATOR(schema.name)`: its operands are this operator's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negator: Option<String>,
    /// Selectivity estimators (`eqsel`, `eqjoinsel`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub hashes: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub merges: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl Operator {
    /// `public.===`: the operator's name in SQL.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", crate::quote::ident(&self.schema), self.name)
    }

    /// `public.=== (integer, integer)`: what `DROP`, `COMMENT ON` and `ALTER OPERATOR` name it
    /// by (`NONE` on the left of a prefix operator).
    pub fn signature(&self) -> String {
        let left = self.left.as_deref().unwrap_or("NONE");
        format!("{} ({left}, {})", self.qualified_name(), self.right)
    }
}

/// `CREATE CAST`: a conversion between two types that PostgreSQL does not have built in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cast {
    pub source: String,
    pub target: String,
    /// `function` (`WITH FUNCTION`), `inout` (`WITH INOUT`) or `binary` (`WITHOUT FUNCTION`).
    pub method: String,
    /// The function's signature, e.g. `public.mood_text(public.mood)`, for method `function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// `explicit`, `assignment` or `implicit`.
    pub context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl Cast {
    /// `(public.mood AS text)`: what `DROP CAST` and `COMMENT ON CAST` name it by.
    pub fn signature(&self) -> String {
        format!("({} AS {})", self.source, self.target)
    }
}

/// `CREATE OPERATOR FAMILY`, with the members no class of it holds (`ALTER OPERATOR FAMILY
/// ... ADD`). Only a superuser may create one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorFamily {
    pub schema: String,
    pub name: String,
    /// The index method, e.g. `btree`.
    pub method: String,
    pub owner: String,
    /// `OPERATOR 1 public.<(integer,bigint)` and `FUNCTION 1 (integer, bigint)
    /// public.cmp(integer,bigint)` items, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl OperatorFamily {
    /// `public.fam USING btree`: what `ALTER` and `COMMENT ON OPERATOR FAMILY` name it by.
    pub fn signature(&self) -> String {
        let name = QualifiedName::new(&self.schema, &self.name);
        format!("{name} USING {}", crate::quote::ident(&self.method))
    }
}

/// `CREATE OPERATOR CLASS`: how an index method handles a type. Only a superuser may create
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorClass {
    pub schema: String,
    pub name: String,
    /// The index method, e.g. `btree`.
    pub method: String,
    #[serde(rename = "type")]
    pub data_type: String,
    /// Its family's qualified name (PostgreSQL makes one of the class's name when none is
    /// named).
    pub family: String,
    /// The default class of its type for its method.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
    /// `STORAGE`, when it differs from the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    pub owner: String,
    /// `OPERATOR ...` and `FUNCTION ...` items as for [`OperatorFamily::members`], sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl OperatorClass {
    /// `public.cls USING btree`: what `ALTER` and `COMMENT ON OPERATOR CLASS` name it by.
    pub fn signature(&self) -> String {
        let name = QualifiedName::new(&self.schema, &self.name);
        format!("{name} USING {}", crate::quote::ident(&self.method))
    }
}

/// `ALTER DEFAULT PRIVILEGES FOR ROLE role [IN SCHEMA schema] GRANT ... ON objects`: the
/// privileges objects `role` creates from now on are given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultPrivilege {
    pub role: String,
    /// None for the entry of every schema, which replaces PostgreSQL's built-in defaults
    /// (`grants` is then the whole list); a schema's entry adds to those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `tables`, `sequences`, `functions`, `types` or `schemas`.
    pub objects: String,
    pub grants: Vec<Grant>,
}

/// `CREATE PUBLICATION`: which tables' changes logical replication sends, and which changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub name: String,
    pub owner: String,
    /// `FOR ALL TABLES` (then `tables` and `schemas` are empty).
    #[serde(default, skip_serializing_if = "is_false")]
    pub all_tables: bool,
    /// `FOR TABLE ...` entries, by table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<PublishedTable>,
    /// `FOR TABLES IN SCHEMA ...`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The `publish` option: which of `insert`, `update`, `delete`, `truncate` are sent.
    pub publish: Vec<String>,
    /// `publish_via_partition_root`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub via_root: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One table of a publication, with its column list and row filter (PostgreSQL 15 on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTable {
    pub table: QualifiedName,
    /// Published columns in attribute order; empty for all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// `WHERE (...)` row filter, as PostgreSQL prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_filter: Option<String>,
}

/// `CREATE STATISTICS`: extended planner statistics on columns or expressions of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub schema: String,
    pub name: String,
    pub owner: String,
    /// The table (or materialized view) it is on.
    pub table: QualifiedName,
    /// `CREATE STATISTICS ...` as `pg_get_statisticsobjdef` prints it.
    pub definition: String,
    /// The columns it covers, directly or in an expression, sorted: what it stands in the way
    /// of when they are dropped or retyped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// `ALTER STATISTICS ... SET STATISTICS n`; none for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `CREATE TEXT SEARCH DICTIONARY`: a template (C-level, built in or from an extension) with
/// options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSearchDictionary {
    pub schema: String,
    pub name: String,
    pub owner: String,
    /// The template's qualified name, e.g. `pg_catalog.snowball`.
    pub template: String,
    /// The options as PostgreSQL keeps them, e.g. `language = 'english', stopwords = 'english'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `CREATE TEXT SEARCH CONFIGURATION`: a parser and, per token type, the dictionaries tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSearchConfiguration {
    pub schema: String,
    pub name: String,
    pub owner: String,
    /// The parser's qualified name, e.g. `pg_catalog."default"`.
    pub parser: String,
    /// In the parser's token type order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<TextSearchMapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `ADD MAPPING FOR token WITH dictionaries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSearchMapping {
    /// The token type's alias, e.g. `asciiword`.
    pub token: String,
    /// Qualified names, in the order they are tried.
    pub dictionaries: Vec<String>,
}

/// `CREATE SERVER`: where a foreign data wrapper connects to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignServer {
    pub name: String,
    /// The foreign data wrapper (`postgres_fdw`, `file_fdw`, ...).
    pub wrapper: String,
    pub owner: String,
    /// `TYPE '...'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_type: Option<String>,
    /// `VERSION '...'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `OPTIONS (...)` as `name=value`, in the order PostgreSQL keeps them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
}

/// `CREATE USER MAPPING FOR role SERVER server`. Its options (user names, passwords) are
/// secrets: never read, stored or rendered, so they are set outside Tenet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserMapping {
    pub server: String,
    /// A role name, or `PUBLIC`.
    pub role: String,
}

/// `CREATE FOREIGN TABLE ... SERVER ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignTable {
    pub schema: String,
    pub name: String,
    pub owner: String,
    pub server: String,
    /// `OPTIONS (...)` as `name=value`, in the order PostgreSQL keeps them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// In attribute order.
    #[serde(default)]
    pub columns: Vec<ForeignColumn>,
    /// `CHECK` constraints, by name (PostgreSQL trusts them, it cannot enforce them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<ForeignCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    /// Types and functions its columns use (see [`ObjectKey`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl ForeignTable {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }
}

/// A check constraint of a foreign table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignCheck {
    pub name: String,
    /// `CHECK (...)` as PostgreSQL renders it.
    pub definition: String,
}

/// A column of a foreign table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Set only when it differs from the type's default collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Expression of a `GENERATED ALWAYS AS (...) STORED` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// The column's `OPTIONS (...)` (`column_name=...`), as `name=value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Column-level privileges; None when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
}

/// Stable keys for top-level objects, used in `depends_on`: `table public.tasks`,
/// `view public.open_tasks`, `function public.f(integer)`, `type public.status`,
/// `sequence public.seq`, `foreign table public.remote`.
pub struct ObjectKey;

impl ObjectKey {
    pub fn relation(kind: &str, schema: &str, name: &str) -> String {
        format!("{kind} {}", QualifiedName::new(schema, name))
    }
    pub fn function(f: &Function) -> String {
        format!("function {}", f.signature())
    }
    pub fn operator(o: &Operator) -> String {
        format!("operator {}", o.signature())
    }
    pub fn cast(c: &Cast) -> String {
        format!("cast {}", c.signature())
    }
    pub fn operator_family(f: &OperatorFamily) -> String {
        format!("operator family {}", f.signature())
    }
    pub fn operator_class(c: &OperatorClass) -> String {
        format!("operator class {}", c.signature())
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_true(b: &bool) -> bool {
    *b
}
fn yes() -> bool {
    true
}
fn origin() -> String {
    "origin".into()
}
fn is_origin(s: &String) -> bool {
    s == "origin"
}

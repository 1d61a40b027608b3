//! Generated SQLModel classes load in Python (sqlmodel and psycopg2 from pip, in a virtualenv
//! under the target directory made on first use): `SQLModel.metadata.create_all()` in an empty
//! database makes the same tables (columns, types, nullability, primary and foreign keys, enum
//! types), and every table of the source database reads through its class.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::Case;
use tenet_catalog::model::*;
use tenet_catalog::{inspect, quote};
use tenet_codegen::ColumnType;

#[test]
fn sqlmodel_keys_types_and_names() {
    let case = common::all_types();
    let code = tenet_codegen::sqlmodel(&case.catalog);
    for expected in [
        "class EveryType(sqlmodel.SQLModel, table=True):",
        "    __tablename__ = \"every_type\"",
        "    id: typing.Optional[int] = sqlmodel.Field(default=None, primary_key=True, nullable=False, sa_type=sa.Integer)",
        "    a_money: typing.Optional[decimal.Decimal] = sqlmodel.Field(default=None, nullable=True, sa_type=sa.Numeric(12,2))",
        "    a_int8: int = sqlmodel.Field(nullable=False, sa_type=sa.BigInteger)",
        "    a_varchar: str = sqlmodel.Field(nullable=False, sa_type=sa.String(20))",
        "    a_tstz_3: typing.Optional[datetime.datetime] = sqlmodel.Field(default=None, nullable=True, sa_type=postgresql.TIMESTAMP(timezone=True, precision=3))",
        "    a_mood: Mood = sqlmodel.Field(nullable=False, sa_type=pg_enum(Mood, \"mood\"))",
        "    currencies: typing.Optional[list[BillingCurrency]] = sqlmodel.Field(default=None, nullable=True, sa_type=postgresql.ARRAY(pg_enum(BillingCurrency, \"currency\", \"billing\")))",
        "    a_ym: typing.Optional[datetime.timedelta] = sqlmodel.Field(default=None, nullable=True, sa_type=PgType(\"interval year to month\"))",
        "    # `point` has no Python mapping: read as text.",
        "class Mood(str, enum.Enum):",
        "    NOT_SHIPPED = \"not shipped\"",
        "    V_1ST = \"1st\"",
        "    A_B_2 = \"a_b\"",
        // Keys: composite primary key, a composite foreign key in __table_args__ with the schema.
        "    type: str = sqlmodel.Field(primary_key=True, nullable=False, sa_type=sa.Text)",
        "        sa.ForeignKeyConstraint([\"order_type\", \"order_self\"], [\"order.type\", \"order.self\"], ondelete=\"CASCADE\"),\n        \
         sa.UniqueConstraint(\"uuid\", name=\"invoices_uuid_key\"),\n        \
         sa.Index(\"invoices_recent_idx\", sa.text(\"lower(order_type) DESC\"), \"issued_on\", postgresql_where=sa.text(\"(amount > (0)::numeric)\")),\n        \
         {\"schema\": \"billing\"},",
        // Defaults, identity and generated columns; names that would shadow imports.
        "    id: typing.Optional[int] = sqlmodel.Field(default=None, primary_key=True, nullable=False, sa_type=sa.BigInteger, sa_column_args=[sa.Identity(always=False)])",
        "    uuid_: typing.Optional[uuid.UUID] = sqlmodel.Field(default=None, nullable=False, sa_type=postgresql.UUID(as_uuid=True), sa_column_kwargs={\"name\": \"uuid\", \"server_default\": sa.text(\"gen_random_uuid()\")})",
        "    datetime_: typing.Optional[datetime.datetime] = ",
        "sa_column_args=[sa.Computed(\"(amount * (2)::numeric)\", persisted=True)]",
        "\"server_default\": sa.text(\"'eur'::billing.currency\")",
        "    invoice_id: int = sqlmodel.Field(foreign_key=\"billing.invoices.id\", nullable=False, sa_type=sa.BigInteger)",
        "foreign_key=\"every_type.id\", ondelete=\"SET NULL\"",
        "    __mapper_args__ = {\"primary_key\": [\"invoice_id\", \"every_type\", \"paid_at\", \"note\"]}",
        // Names: keywords and SQLModel's own attributes get an underscore.
        "    class_: typing.Optional[str] = sqlmodel.Field(default=None, nullable=True, sa_type=sa.Text, sa_column_kwargs={\"name\": \"class\"})",
        "    json_: typing.Optional[typing.Any] = sqlmodel.Field(default=None, nullable=True, sa_type=postgresql.JSONB, sa_column_kwargs={\"name\": \"json\"})",
        "    metadata_: ",
        "    model_id_: ",
        "    private_: ",
        "    total_due: ",
        "    c_1st: ",
        "class BillingInvoices2(sqlmodel.SQLModel, table=True):",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
}

#[test]
fn generated_sqlmodel_creates_the_same_tables_and_reads_every_table() {
    let Some(python) = python() else { return };
    for case in common::all_cases() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join(format!("{}.py", case.name));
        std::fs::write(&module, tenet_codegen::sqlmodel(&case.catalog)).unwrap();
        let empty = tenet_testkit::test_db();
        tenet_testkit::exec(&empty, &prerequisites(&case.catalog));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqlmodel_check.py");
        let out = common::run(
            &format!("{}: the generated SQLModel module", case.name),
            Command::new(&python)
                .arg(script)
                .arg(&module)
                .arg(empty.url())
                .arg(case.db.url()),
        );
        let created = inspect(&mut empty.connect().unwrap()).unwrap();
        assert_same_tables(&case, &created);
        assert_reads_every_table(&case, &out);
        if case.name == "all_types" {
            assert_values_read(&out);
        }
    }
}

/// The issue-16 case: on the Todo example, `Users(email=...)` and `Tasks(user_id=..., title=...)`
/// insert through a Session relying on every default (in the source database and in one made
/// by `create_all()`), and Alembic's `compare_metadata` finds nothing to change in either,
/// server defaults, indexes, unique constraints and comments included.
#[test]
fn sqlmodel_todo_inserts_with_defaults_and_alembic_sees_no_difference() {
    let Some(python) = python() else { return };
    let case = common::todo();
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("todo.py");
    std::fs::write(&module, tenet_codegen::sqlmodel(&case.catalog)).unwrap();
    let empty = tenet_testkit::test_db();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqlmodel_alembic.py");
    let out = common::run(
        "todo: inserts and compare_metadata",
        Command::new(&python)
            .arg(script)
            .arg(&module)
            .arg(empty.url())
            .arg(case.db.url()),
    );
    assert_eq!(
        out.lines()
            .filter(|l| *l == "inserted True True todo")
            .count(),
        2,
        "{out}"
    );
    assert_eq!(out.lines().filter(|l| *l == "diff []").count(), 2, "{out}");
}

/// On every case (the corpus fixtures included), Alembic's `compare_metadata` between the
/// generated metadata and the database it was generated from finds nothing to change.
#[test]
fn alembic_sees_no_difference_on_any_case() {
    let Some(python) = python() else { return };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqlmodel_compare.py");
    let mut failed = Vec::new();
    let mut cases = common::all_cases();
    cases.extend(real_schemas());
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join(format!("{}.py", case.name));
        std::fs::write(&module, tenet_codegen::sqlmodel(&case.catalog)).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg(&module)
            .arg(case.db.url())
            .output()
            .unwrap();
        if !out.status.success() {
            failed.push(format!(
                "{}:\n{}{}",
                case.name,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Real schemas of the shared corpus beyond migra's fixtures: pagila (domains, partitions,
/// tsvector, arrays) and Supabase auth's whole history (uuid keys, enums in `auth`, jsonb).
fn real_schemas() -> Vec<common::Case> {
    let mut cases = Vec::new();
    if let Some(pagila) = tenet_testkit::corpus("pagila") {
        cases.push(common::Case::load(
            "pagila",
            &[pagila.join("schema.sql")],
            "",
        ));
    }
    if let Some(auth) = tenet_testkit::corpus("supabase_auth/migrations") {
        let files = tenet_catalog::source::sql_files(&auth).unwrap();
        cases.push(common::Case::load("supabase_auth", &files, ""));
    }
    cases
}

/// Values that a driver returns wrong unless read through a cast (arrays of domains, of
/// extension types, of unknown types), and enums, came back right.
fn assert_values_read(out: &str) {
    let row = out
        .lines()
        .find(|l| l.starts_with("row public.every_type ") && l.contains("\"id\": 1,"))
        .unwrap_or_else(|| panic!("no first row of every_type in:\n{out}"));
    for expected in [
        "\"emails\": [\"x@y.z\"]",
        "\"citexts\": [\"One\", \"two\"]",
        "\"a_bits\": [\"101\", \"1\"]",
        "\"bytes\": [\"a\", \"b\"]",
        "\"moods\": [\"happy\", \"Self\", \"1st\"]",
        "\"a_mood\": \"not shipped\"",
        "\"scores\": [\"1.25\", \"2.50\"]",
        "\"a_pair\": \"(1,one)\"",
    ] {
        assert!(row.contains(expected), "{expected} not in {row}");
    }
}

/// What `create_all` expects to exist: schemas, extensions and composite types.
fn prerequisites(catalog: &Catalog) -> String {
    let mut sql = String::new();
    for s in &catalog.schemas {
        sql += &format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote::ident(&s.name));
    }
    for e in &catalog.extensions {
        sql += &format!(
            "CREATE EXTENSION IF NOT EXISTS {} SCHEMA {};\n",
            quote::ident(&e.name),
            quote::ident(&e.schema)
        );
    }
    // Composite types and domains: create_all() makes neither. Domains may be over
    // composites, so composites first.
    for composite in [true, false] {
        for t in &catalog.types {
            match (&t.kind, composite) {
                (TypeKind::Composite { .. }, true) | (TypeKind::Domain { .. }, false) => {
                    tenet_catalog::render::create_type(&mut sql, t)
                }
                _ => {}
            }
        }
    }
    sql
}

/// Every table with columns was created with the same columns (name, type with domains
/// resolved, NOT NULL), primary key and foreign keys (actions and deferrability included);
/// enum types with the same labels.
fn assert_same_tables(case: &Case, created: &Catalog) {
    for table in case.catalog.tables.iter().filter(|t| !t.columns.is_empty()) {
        let what = format!("{}: {}", case.name, table.qualified_name());
        let made = created
            .tables
            .iter()
            .find(|t| t.schema == table.schema && t.name == table.name)
            .unwrap_or_else(|| panic!("{what} was not created"));
        assert_eq!(
            columns(created, made),
            columns(&case.catalog, table),
            "{what}"
        );
        let original_key = primary_key(table);
        if !original_key.is_empty() {
            assert_eq!(primary_key(made), original_key, "{what}: primary key");
        }
        assert_eq!(
            foreign_keys(made),
            foreign_keys(table),
            "{what}: foreign keys"
        );
    }
    for made in &created.types {
        let original = case
            .catalog
            .types
            .iter()
            .find(|t| t.schema == made.schema && t.name == made.name)
            .unwrap_or_else(|| panic!("{}: unexpected type {}", case.name, made.name));
        assert_eq!(
            made.kind, original.kind,
            "{}: type {}",
            case.name, made.name
        );
    }
}

fn columns(catalog: &Catalog, table: &Table) -> Vec<(String, String, bool)> {
    table
        .columns
        .iter()
        .map(|c| {
            let ty = ColumnType::of(catalog, &c.data_type).sql();
            (c.name.clone(), ty, c.not_null)
        })
        .collect()
}

fn primary_key(table: &Table) -> BTreeSet<String> {
    table
        .constraints
        .iter()
        .filter(|c| c.kind == ConstraintKind::PrimaryKey)
        .flat_map(|c| c.columns.clone())
        .collect()
}

/// Foreign keys with their actions and deferrability (constraints' names are SQLAlchemy's).
type ForeignKeyShape = (
    Vec<String>,
    QualifiedName,
    Vec<String>,
    String,
    String,
    bool,
    bool,
);

fn foreign_keys(table: &Table) -> BTreeSet<ForeignKeyShape> {
    table
        .constraints
        .iter()
        .filter_map(|c| {
            let fk = c.references.as_ref()?;
            Some((
                c.columns.clone(),
                fk.table.clone(),
                fk.columns.clone(),
                fk.on_delete.clone(),
                fk.on_update.clone(),
                c.deferrable,
                c.initially_deferred,
            ))
        })
        .collect()
}

/// The script printed `schema.table rows` for every table with columns, with the rows
/// PostgreSQL counts.
fn assert_reads_every_table(case: &Case, out: &str) {
    let counts = case.row_counts();
    for (table, (_, rows)) in case.catalog.tables.iter().zip(counts) {
        if table.columns.is_empty() {
            continue;
        }
        let line = format!("{}.{} {rows}", table.schema, table.name);
        assert!(
            out.lines().any(|l| l == line),
            "{}: {line:?} not in:\n{out}",
            case.name
        );
    }
}

/// A Python with sqlmodel and psycopg2, made on first use; None (said why) without python3.
/// The tests of this binary run on parallel threads: the first makes the venv while the
/// others wait for it (two `python3 -m venv` on one directory fail with "File exists").
fn python() -> Option<PathBuf> {
    static PYTHON: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PYTHON.get_or_init(make_python).clone()
}

fn make_python() -> Option<PathBuf> {
    if !common::have("python3") {
        return None;
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sqlmodel-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import sqlmodel, psycopg2, alembic"])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        // A venv left half-made by a killed run is made again from nothing.
        let _ = std::fs::remove_dir_all(&venv);
        common::run(
            "python3 -m venv (needs python3-venv)",
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
        );
        common::run(
            "pip install sqlmodel psycopg2-binary alembic",
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "-q",
                "sqlmodel==0.0.50",
                "psycopg2-binary==2.9.13",
                "alembic==1.20.1",
            ]),
        );
    }
    Some(python)
}

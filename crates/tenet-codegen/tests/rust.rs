//! Generated Rust compiles (with sqlx 0.8, serde, uuid, chrono, rust_decimal, warnings denied)
//! and reads every table of real databases: a small program selects each table's rows into its
//! struct with `COLUMNS` and `TABLE`, and round-trips them through serde_json.
//!
//! The program is a crate under the target directory with its own CARGO_TARGET_DIR, kept
//! between runs so only the generated code is compiled again.

mod common;

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

use common::Case;

#[test]
fn rust_names_types_and_keywords() {
    let case = common::all_types();
    let code = tenet_codegen::rust(&case.catalog);
    for expected in [
        "#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow)]\npub struct EveryType {",
        "    pub a_uuid: uuid::Uuid,",
        "    pub a_money: Option<rust_decimal::Decimal>,",
        "    pub a_tstz: chrono::DateTime<chrono::Utc>,",
        "    pub a_timetz: pg::TimeTz,",
        "    pub a_interval: pg::Interval,",
        "    pub a_jsonb: serde_json::Value,",
        "    pub a_bytea: Vec<u8>,",
        "    pub a_inet: sqlx::types::ipnetwork::IpNetwork,",
        "    pub ints: Vec<i32>,",
        "    pub moods: Option<Vec<Mood>>,",
        "    pub currency: Option<BillingCurrency>,",
        // Domains are their base type.
        "    pub an_email: String,",
        "    pub scores: Option<Vec<rust_decimal::Decimal>>,",
        // Unmapped types are text, and selected as text.
        "    pub a_point: Option<String>,",
        "a_point::text AS a_point",
        "a_bits::text[] AS a_bits",
        // An array of a domain is selected as an array of the base type.
        "emails::text[] AS emails",
        "#[sqlx(type_name = \"billing.currency\")]\npub enum BillingCurrency {",
        "    #[serde(rename = \"not shipped\")]\n    #[sqlx(rename = \"not shipped\")]\n    NotShipped,",
        "    #[serde(rename = \"Self\")]\n    #[sqlx(rename = \"Self\")]\n    Self2,",
        "    #[serde(rename = \"1st\")]\n    #[sqlx(rename = \"1st\")]\n    V1st,",
        // Keywords: raw where possible, renamed where not.
        "    pub r#type: String,",
        "    #[serde(rename = \"self\")]\n    #[sqlx(rename = \"self\")]\n    pub self_: i32,",
        "    #[serde(rename = \"Total Due\")]\n    #[sqlx(rename = \"Total Due\")]\n    pub total_due: Option<rust_decimal::Decimal>,",
        "    #[sqlx(rename = \"user_id\")]\n    pub user_id_2: Option<i32>,",
        "    #[sqlx(rename = \"1st\")]\n    pub c_1st: Option<String>,",
        "pub struct Order {",
        "pub const TABLE: &'static str = \"public.\\\"order\\\"\";",
        // billing.invoices and public.billing_invoices would both be BillingInvoices.
        "pub struct BillingInvoices {",
        "pub struct BillingInvoices2 {",
        // A table named like a prelude type.
        "pub struct String2 {",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
}

#[test]
fn generated_rust_compiles_and_reads_every_table() {
    let cases = common::all_cases();
    let krate = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-rust");
    write_crate(&krate, &cases);
    let mut build = cargo(&krate);
    build.args(["build", "--quiet"]);
    if deps_cached(&krate) {
        build.arg("--offline");
    }
    common::run("cargo build of the generated code", &mut build);
    let binary =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-rust-target/debug/codegen-check");
    let mut read = Command::new(&binary);
    for case in &cases {
        read.arg(&case.name).arg(sqlx_url(&case.db.url()));
    }
    let out = common::run(
        "reading every table through the generated structs",
        &mut read,
    );
    for case in &cases {
        for (table, rows) in case.row_counts() {
            let line = format!("{} {table} {rows}", case.name);
            assert!(out.lines().any(|l| l == line), "{line:?} not in:\n{out}");
        }
    }
}

/// sqlx parses URLs strictly: a socket URL (`postgresql://user@/db?host=/run/...`) needs a
/// host, which the `host` parameter then overrides.
fn sqlx_url(url: &str) -> String {
    url.replacen("@/", "@localhost/", 1)
        .replacen(":///", "://localhost/", 1)
}

/// The check crate: one module per case, and a program reading every table of each.
fn write_crate(krate: &Path, cases: &[Case]) {
    std::fs::create_dir_all(krate.join("src")).unwrap();
    // The workspace's lock file pins the versions already in the cargo cache (sqlx 0.8...).
    let lock = krate.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock"),
            &lock,
        )
        .unwrap();
    }
    write_if_changed(&krate.join("Cargo.toml"), MANIFEST);
    let mut lib = String::from("#![deny(warnings)]\n");
    let mut main = String::from(MAIN);
    for case in cases {
        let code = tenet_codegen::rust(&case.catalog);
        write_if_changed(&krate.join(format!("src/{}.rs", case.name)), &code);
        writeln!(lib, "pub mod {};", case.name).unwrap();
        main.push_str(&reader(case));
    }
    main.push_str("\nasync fn read_case(name: &str, pool: &PgPool) -> Result<(), Box<dyn Error>> {\n    match name {\n");
    for case in cases {
        writeln!(main, "        {0:?} => {0}(pool).await,", case.name).unwrap();
    }
    main.push_str("        _ => Err(format!(\"no case {name}\").into()),\n    }\n}\n");
    write_if_changed(&krate.join("src/lib.rs"), &lib);
    write_if_changed(&krate.join("src/main.rs"), &main);
}

/// `async fn <case>(pool)`: every table of the case read into its struct.
fn reader(case: &Case) -> String {
    let names = tenet_codegen::ClassNames::new(&case.catalog);
    let mut f = format!(
        "\nasync fn {0}(pool: &PgPool) -> Result<(), Box<dyn Error>> {{\n    use codegen_check::{0} as m;\n",
        case.name
    );
    for table in &case.catalog.tables {
        let name = &names.tables[&table.qualified_name()];
        writeln!(
            f,
            "    read::<m::{name}>({:?}, pool, m::{name}::TABLE, m::{name}::COLUMNS).await?;",
            case.name
        )
        .unwrap();
    }
    f.push_str("    Ok(())\n}\n");
    f
}

/// Leaves a file untouched when its content is the same, so cargo has nothing to rebuild.
fn write_if_changed(path: &Path, content: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
        std::fs::write(path, content).unwrap();
    }
}

fn cargo(krate: &Path) -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(krate)
        // A target directory of its own: the main build's lock is not taken.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-rust-target"),
        )
        .env_remove("RUSTFLAGS");
    cargo
}

/// Are all the check crate's dependencies in the local cargo cache (so no network is needed)?
fn deps_cached(krate: &Path) -> bool {
    cargo(krate)
        .args(["fetch", "--offline", "--quiet"])
        .output()
        .is_ok_and(|o| o.status.success())
}

const MANIFEST: &str = r#"[package]
name = "codegen-check"
version = "0.0.0"
edition = "2021"
publish = false

# Not part of the Tenet workspace around it.
[workspace]

[dependencies]
sqlx = { version = "0.8.6", default-features = false, features = ["postgres", "runtime-tokio", "derive", "uuid", "chrono", "rust_decimal", "json", "ipnetwork"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
uuid = { version = "1", features = ["serde"] }
chrono = { version = "0.4", default-features = false, features = ["serde", "clock"] }
rust_decimal = "1"
tokio = { version = "1", features = ["rt", "macros"] }
"#;

const MAIN: &str = r#"//! Reads every table of each case given as `name url` pairs, printing `case table rows`.

use std::error::Error;

use serde::{de::DeserializeOwned, Serialize};
use sqlx::postgres::{PgPool, PgRow};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let pool = PgPool::connect(&pair[1]).await?;
        read_case(&pair[0], &pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// Selects a table into `T`, and checks that each row survives a round trip through JSON.
async fn read<T>(case: &str, pool: &PgPool, table: &str, columns: &str) -> Result<(), Box<dyn Error>>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Serialize + DeserializeOwned + Send + Unpin,
{
    let sql = format!("SELECT {columns} FROM {table}");
    let rows: Vec<T> = sqlx::query_as(&sql)
        .fetch_all(pool)
        .await
        .map_err(|e| format!("{case}: {sql}: {e}"))?;
    for row in &rows {
        let json = serde_json::to_string(row)?;
        let back: T = serde_json::from_str(&json).map_err(|e| format!("{table}: {e}: {json}"))?;
        assert_eq!(serde_json::to_string(&back)?, json, "{table}");
    }
    println!("{case} {table} {}", rows.len());
    Ok(())
}
"#;

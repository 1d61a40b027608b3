//! Generated TypeScript compiles with `tsc --noEmit --strict` (typescript from npm, installed
//! under the target directory on first use), for the Todo example and real-world schemas.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use tenet_catalog::{inspect, source, Catalog};

fn catalog_of(files: &[PathBuf]) -> Catalog {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    source::apply_files(&mut client, files).unwrap();
    inspect(&mut client).unwrap()
}

/// `tsc`, installed with npm on first use (once, though tests run in parallel).
fn tsc() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let tools = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ts-tools");
    let tsc = tools.join("node_modules/.bin/tsc");
    if !tsc.exists() {
        std::fs::create_dir_all(&tools).unwrap();
        let status = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .arg("typescript@5")
            .status()
            .expect("npm is needed for the TypeScript compile test (.ci/run installs it)");
        assert!(status.success(), "npm install typescript failed");
    }
    tsc
}

fn compiles(name: &str, code: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.ts"));
    // Use every type, so a broken one cannot hide.
    std::fs::write(&file, code).unwrap();
    let out = Command::new(tsc())
        .args(["--noEmit", "--strict", "--target", "es2020"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: tsc failed:\n{}\n--- code ---\n{code}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn todo_types_compile_and_say_what_insert_needs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema");
    let catalog = catalog_of(&source::sql_files(&root).unwrap());
    let code = tenet_codegen::typescript(&catalog);
    assert!(code.contains("export interface TasksRow {"), "{code}");
    assert!(code.contains("  user_id: string;"), "{code}");
    assert!(code.contains("  description: string | null;"), "{code}");
    // A default makes an insert field optional; a plain NOT NULL column stays required.
    assert!(code.contains("  status?: string;"), "{code}");
    assert!(code.contains("  title: string;"), "{code}");
    assert!(
        code.contains("export type TasksUpdate = Partial<TasksInsert>;"),
        "{code}"
    );
    let usage = "\nconst t: TasksInsert = { user_id: 'u', title: 'x' };\nconst u: TasksUpdate = { status: 'done' };\nexport { t, u };\n";
    compiles("todo", &format!("{code}{usage}"));
    // And a wrong field type does not compile: the check has teeth.
    let wrong = "\nconst bad: TasksInsert = { user_id: 1, title: 'x' };\nexport { bad };\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.ts");
    std::fs::write(&file, format!("{code}{wrong}")).unwrap();
    let out = Command::new(tsc())
        .args(["--noEmit", "--strict"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "tsc accepted a number for a uuid");
}

#[test]
fn real_world_schemas_compile() {
    let corpus = std::env::var_os("TENET_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    let fixtures = corpus.join("migra-fixtures");
    if !fixtures.exists() {
        eprintln!("corpus not present at {}: skipped", fixtures.display());
        return;
    }
    for case in ["everything", "enumdeps", "identitycols", "generated"] {
        let catalog = catalog_of(&[fixtures.join(case).join("b.sql")]);
        let code = tenet_codegen::typescript(&catalog);
        assert!(code.contains("Row {"), "{case}: {code}");
        compiles(case, &code);
    }
}

#[test]
fn every_mapped_type_compiles() {
    let case = common::all_types();
    let code = tenet_codegen::typescript(&case.catalog);
    for expected in [
        "  a_int8: string;",
        "  a_jsonb: JsonValue;",
        "  a_bytea: Uint8Array;",
        "  moods: Array<Mood> | null;",
        "  currency: BillingCurrency | null;",
        "  an_email: string;",
        "  \"Total Due\": string | null;",
        "  a_point: unknown | null;",
        "export type Nothing = never;",
        // billing.invoices and public.billing_invoices.
        "export interface BillingInvoicesRow {",
        "export interface BillingInvoices2Row {",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
    compiles("all_types", &code);
}

//! Generated TypeScript compiles with `tsc --noEmit --strict` (typescript from npm, installed
//! under the target directory on first use), for the Todo example and real-world schemas; its
//! `Database` type types a real supabase-js client.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use tenet_catalog::{inspect, source, Catalog};

fn catalog_of(files: &[PathBuf]) -> Catalog {
    let db = tenet_testkit::test_db();
    let mut client = db.connect().unwrap();
    source::apply_files_trusted(&mut client, files).unwrap();
    inspect(&mut client).unwrap()
}

/// The npm packages the tests compile against, installed on first use (once, though tests
/// run in parallel) under the target directory; the directory holding `node_modules`.
fn tools() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let tools = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ts-tools");
    let packages = [
        "typescript@5",
        "@supabase/supabase-js@2",
        "@types/node@20",
        "drizzle-orm@0.45",
    ];
    let installed = |p: &str| {
        let name = p.rsplit_once('@').map_or(p, |(name, _)| name);
        tools
            .join("node_modules")
            .join(name)
            .join("package.json")
            .exists()
    };
    if !packages.iter().all(|p| installed(p)) {
        std::fs::create_dir_all(&tools).unwrap();
        let status = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .args(packages)
            .status()
            .expect("npm is needed for the TypeScript compile test (.ci/run installs it)");
        assert!(status.success(), "npm install {packages:?} failed");
    }
    tools
}

fn tsc() -> PathBuf {
    tools().join("node_modules/.bin/tsc")
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
    let Some(fixtures) = tenet_testkit::corpus("migra-fixtures") else {
        return;
    };
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

/// Compile `program` next to `db.ts` against the installed packages; tsc's output on failure.
fn compile_with_db(db: &str, program: &str) -> Result<(), String> {
    compile_in_tools(db, program, &[])
}

/// As [`compile_with_db`], with extra tsc flags.
fn compile_in_tools(db: &str, program: &str, flags: &[&str]) -> Result<(), String> {
    // Inside the tools directory, so `@supabase/supabase-js` resolves to its node_modules.
    let dir = tempfile::tempdir_in(tools()).unwrap();
    std::fs::write(dir.path().join("db.ts"), db).unwrap();
    let file = dir.path().join("app.ts");
    std::fs::write(&file, program).unwrap();
    let out = Command::new(tsc())
        .args([
            "--noEmit", "--strict", "--target", "es2022", "--module", "esnext",
        ])
        .args(["--moduleResolution", "bundler", "--types", "node"])
        .args(flags)
        .arg(&file)
        // Type libraries are looked up from the working directory.
        .current_dir(dir.path())
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stdout).into_owned()),
    }
}

#[test]
fn todo_database_types_a_supabase_client() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema");
    let catalog = catalog_of(&source::sql_files(&root).unwrap());
    let db = tenet_codegen::typescript(&catalog);
    assert!(
        db.contains("export type Database = {\n  public: {\n    Tables: {"),
        "{db}"
    );
    assert!(
        db.contains("foreignKeyName: \"tasks_user_id_fkey\""),
        "{db}"
    );
    let header = "import { createClient } from '@supabase/supabase-js';\n\
                  import type { Database } from './db';\n\
                  const c = createClient<Database>('http://x', 'k');\n";
    let good = "const { data } = await c.from('tasks').select('id, title').eq('user_id', 'u');\n\
                const first = data?.[0];\n\
                if (first) first.title satisfies string;\n\
                await c.from('tasks').insert({ user_id: 'u', title: 't' });\n\
                await c.from('tasks').update({ status: 'done' }).eq('id', 'x');\n\
                const { data: users } = await c.from('users').select('email, tasks(title)');\n\
                users?.[0]?.tasks[0]?.title satisfies string | undefined;\n\
                export {};\n";
    compile_with_db(&db, &format!("{header}{good}"))
        .unwrap_or_else(|e| panic!("tsc failed:\n{e}\n--- db.ts ---\n{db}"));
    // Each of these must fail, on its own line: the types have teeth.
    for (wrong, error) in [
        (
            "await c.from('tasks').insert({ user_id: 'u', title: 1 });",
            "Type 'number' is not assignable to type 'string'",
        ),
        (
            "await c.from('tasks').insert({ user_id: 'u' });",
            "Property 'title' is missing",
        ),
        (
            "const { data } = await c.from('tasks').select('title');\n\
             if (data?.[0]) data[0].title satisfies number;",
            "does not satisfy the expected type 'number'",
        ),
        ("await c.from('nope').select('*');", "\"nope\""),
    ] {
        let program = format!("{header}{wrong}\nexport {{}};\n");
        let out = compile_with_db(&db, &program).expect_err(wrong);
        assert!(
            out.contains("app.ts(4,") || out.contains("app.ts(5,"),
            "{wrong}: the error is elsewhere:\n{out}"
        );
        assert!(out.contains(error), "{wrong}: expected {error:?}:\n{out}");
    }
}

/// Views, every kind of function PostgREST calls, enums, composites and a second schema left
/// out by `in_schemas`: the client sees each with its type.
#[test]
fn views_functions_enums_and_schema_filter_type_a_supabase_client() {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("app.sql");
    std::fs::write(
        &sql,
        "CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE TYPE point2 AS (x integer, y integer);
         CREATE TABLE profiles (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             mood mood NOT NULL DEFAULT 'happy', tags text[], score numeric NOT NULL,
             doubled numeric GENERATED ALWAYS AS (score * 2) STORED, at point2);
         CREATE TABLE avatars (profile_id bigint PRIMARY KEY REFERENCES profiles, url text NOT NULL);
         CREATE VIEW happy AS SELECT id, score FROM profiles WHERE mood = 'happy';
         CREATE FUNCTION top(n integer) RETURNS TABLE(id bigint, score numeric)
             LANGUAGE sql AS 'SELECT id, score FROM profiles ORDER BY score DESC LIMIT n';
         CREATE FUNCTION by_mood(m mood) RETURNS SETOF profiles
             LANGUAGE sql AS 'SELECT * FROM profiles WHERE mood = m';
         CREATE FUNCTION total() RETURNS numeric LANGUAGE sql AS 'SELECT sum(score) FROM profiles';
         CREATE FUNCTION touch(p bigint) RETURNS void LANGUAGE sql AS 'SELECT';
         CREATE FUNCTION unnamed(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';
         CREATE SCHEMA internal;
         CREATE TABLE internal.secrets (id integer PRIMARY KEY);",
    )
    .unwrap();
    let catalog = catalog_of(&[sql]);
    let public = tenet_codegen::in_schemas(&catalog, &["public".to_string()]).unwrap();
    let db = tenet_codegen::typescript(&public);
    for expected in [
        "      mood: \"happy\" | \"sad\"",
        "          id?: never",
        "          doubled?: never",
        "          mood: Database[\"public\"][\"Enums\"][\"mood\"]",
        "          tags: string[] | null",
        "          at: Database[\"public\"][\"CompositeTypes\"][\"point2\"] | null",
        "            isOneToOne: true",
        "        Returns: Database[\"public\"][\"Tables\"][\"profiles\"][\"Row\"][]",
    ] {
        assert!(db.contains(expected), "missing {expected:?} in:\n{db}");
    }
    assert!(!db.contains("secrets") && !db.contains("unnamed"), "{db}");
    let err = tenet_codegen::in_schemas(&catalog, &["nope".to_string()]).unwrap_err();
    assert!(
        err.contains("\"nope\"") && err.contains("internal"),
        "{err}"
    );
    let header = "import { createClient } from '@supabase/supabase-js';\n\
                  import type { Database } from './db';\n\
                  const c = createClient<Database>('http://x', 'k');\n";
    let good = "const { data: top } = await c.rpc('top', { n: 3 });\n\
                top?.[0]?.score satisfies number | undefined;\n\
                const { data: sad } = await c.rpc('by_mood', { m: 'sad' });\n\
                sad?.[0]?.mood satisfies 'happy' | 'sad' | undefined;\n\
                const { data: total } = await c.rpc('total');\n\
                total satisfies number | null;\n\
                await c.rpc('touch', { p: 1 });\n\
                const { data: happy } = await c.from('happy').select('id, score');\n\
                happy?.[0]?.score satisfies number | null | undefined;\n\
                await c.from('profiles').insert({ score: 1, mood: 'sad', at: { x: 1, y: 2 } });\n\
                const { data: p } = await c.from('profiles').select('id, avatars(url)').single();\n\
                p?.avatars?.url satisfies string | undefined;\n\
                export {};\n";
    compile_with_db(&db, &format!("{header}{good}"))
        .unwrap_or_else(|e| panic!("tsc failed:\n{e}\n--- db.ts ---\n{db}"));
    for (wrong, error) in [
        (
            "await c.from('profiles').insert({ score: 1, mood: 'angry' });",
            "\"angry\"",
        ),
        (
            "await c.from('profiles').insert({ id: 1, score: 1 });",
            "'number' is not assignable to type 'undefined'",
        ),
        (
            "await c.rpc('top', { n: 'x' });",
            "'string' is not assignable",
        ),
        ("await c.from('secrets').select('*');", "\"secrets\""),
    ] {
        let program = format!("{header}{wrong}\nexport {{}};\n");
        let out = compile_with_db(&db, &program).expect_err(wrong);
        assert!(
            out.contains("app.ts(4,"),
            "{wrong}: the error is elsewhere:\n{out}"
        );
        assert!(out.contains(error), "{wrong}: expected {error:?}:\n{out}");
    }
}

/// drizzle-orm's own declarations do not pass tsc's library check (they import optional
/// drivers); drizzle's docs ask for `skipLibCheck`. The generated file is still checked.
const DRIZZLE: &[&str] = &["--skipLibCheck"];

#[test]
fn todo_drizzle_schema_compiles_with_keys_indexes_and_rls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/todo/schema");
    let catalog = catalog_of(&source::sql_files(&root).unwrap());
    let schema = tenet_codegen::drizzle(&catalog);
    for expected in [
        "export const Tasks = pgTable(\"tasks\", {",
        "  user_id: uuid(\"user_id\").notNull().references((): AnyPgColumn => Users.id, { onDelete: \"cascade\" }),",
        "  status: text(\"status\").notNull().default(sql`'todo'::text`),",
        "  primaryKey({ name: \"tasks_pkey\", columns: [t.user_id, t.id] }),",
        "  unique(\"users_email_key\").on(t.email),",
        "  index(\"tasks_user_id_created_at_idx\").using(\"btree\", sql`user_id`, sql`created_at DESC`),",
        "  check(\"tasks_title_check\", sql`(((char_length(title) >= 1) AND (char_length(title) <= 200)))`),",
        "  pgPolicy(\"tenant_isolation\", { as: \"permissive\", for: \"all\", to: [\"todo_app\"], using: sql`(user_id = ",
        "]).enableRLS();",
    ] {
        assert!(schema.contains(expected), "missing {expected:?} in:\n{schema}");
    }
    let header = "import { Tasks, Users } from './db';\n";
    let good = "const t: typeof Tasks.$inferInsert = { user_id: 'u', title: 'x' };\n\
                const u: typeof Users.$inferSelect =\n  \
                { id: 'i', email: 'e', display_name: null, created_at: '2026-01-01' };\n\
                export { t, u };\n";
    compile_in_tools(&schema, &format!("{header}{good}"), DRIZZLE)
        .unwrap_or_else(|e| panic!("tsc failed:\n{e}\n--- db.ts ---\n{schema}"));
    for (wrong, error) in [
        (
            "export const t: typeof Tasks.$inferInsert = { user_id: 'u', title: 1 };",
            "'number' is not assignable to type 'string'",
        ),
        (
            "export const t: typeof Tasks.$inferInsert = { user_id: 'u' };",
            "Property 'title' is missing",
        ),
    ] {
        let out =
            compile_in_tools(&schema, &format!("{header}{wrong}\n"), DRIZZLE).expect_err(wrong);
        assert!(
            out.contains("app.ts(2,"),
            "{wrong}: the error is elsewhere:\n{out}"
        );
        assert!(out.contains(error), "{wrong}: expected {error:?}:\n{out}");
    }
}

/// Every mapped type, enums in two schemas, names that are not identifiers, and the
/// real-world fixtures: the Drizzle schema compiles.
#[test]
fn drizzle_schemas_of_every_type_and_real_world_compile() {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("keys.sql");
    std::fs::write(
        &sql,
        "CREATE TABLE orgs (id integer PRIMARY KEY, parent integer REFERENCES orgs,
             owner_id bigint GENERATED BY DEFAULT AS IDENTITY);
         CREATE TABLE members (org integer, n integer, PRIMARY KEY (org, n),
             boss_org integer, boss_n integer,
             FOREIGN KEY (boss_org, boss_n) REFERENCES members ON DELETE SET NULL);
         CREATE UNIQUE INDEX members_n ON members (n) WHERE n > 0;
         ALTER TABLE members ENABLE ROW LEVEL SECURITY;
         CREATE POLICY only_mine ON members AS RESTRICTIVE FOR SELECT USING (org = 1);",
    )
    .unwrap();
    let keys = catalog_of(&[sql]);
    let code = tenet_codegen::drizzle(&keys);
    for expected in [
        "  parent: integer(\"parent\").references((): AnyPgColumn => Orgs.id),",
        "  owner_id: bigint(\"owner_id\", { mode: \"number\" }).notNull().generatedByDefaultAsIdentity(),",
        "  foreignKey({ name: \"members_boss_org_boss_n_fkey\", columns: [t.boss_org, t.boss_n], foreignColumns: [t.org, t.n] }),",
        "  uniqueIndex(\"members_n\").using(\"btree\", sql`n`).where(sql`(n > 0)`),",
        "  pgPolicy(\"only_mine\", { as: \"restrictive\", for: \"select\", to: [\"public\"], using: sql`(org = 1)` }),",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
    let program = "import * as db from './db';\nexport { db };\n";
    compile_in_tools(&code, program, DRIZZLE)
        .unwrap_or_else(|e| panic!("keys: tsc failed:\n{e}\n--- db.ts ---\n{code}"));
    let case = common::all_types();
    let code = tenet_codegen::drizzle(&case.catalog);
    compile_in_tools(&code, program, DRIZZLE)
        .unwrap_or_else(|e| panic!("all_types: tsc failed:\n{e}\n--- db.ts ---\n{code}"));
    let fixtures = tenet_testkit::corpus("migra-fixtures").expect("the shared corpus");
    for case in ["everything", "enumdeps", "identitycols", "generated"] {
        let catalog = catalog_of(&[fixtures.join(case).join("b.sql")]);
        let code = tenet_codegen::drizzle(&catalog);
        compile_in_tools(&code, program, DRIZZLE)
            .unwrap_or_else(|e| panic!("{case}: tsc failed:\n{e}\n--- db.ts ---\n{code}"));
    }
}

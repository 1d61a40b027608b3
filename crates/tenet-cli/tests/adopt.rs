//! `tenet migrate baseline --from TOOL` for every tool Tenet adopts, on databases whose history
//! table was created with the DDL that tool runs, and the history tables left out of every
//! catalog read from a live database (so a plan never wants to drop them).

use std::path::Path;
use std::process::{Command, Output};

use tenet_testkit::{exec, query, server, test_db, ScratchDb};

fn tenet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenet"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", server().url_for("postgres"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A project with two migrations: t, then u.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(tenet(dir.path(), &["init"]).status.success());
    let migrations = dir.path().join("migrations");
    for (id, table) in [("20240101000000_t", "t"), ("20240102000000_u", "u")] {
        std::fs::write(
            migrations.join(format!("{id}.up.sql")),
            format!("CREATE TABLE {table} (id int PRIMARY KEY);\n"),
        )
        .unwrap();
        std::fs::write(
            migrations.join(format!("{id}.down.sql")),
            format!("DROP TABLE {table};\n"),
        )
        .unwrap();
    }
    assert!(tenet(dir.path(), &["migrate", "hash"]).status.success());
    dir
}

/// Baseline from `tool` on `db`; the output, or the error and exit code.
fn baseline(dir: &Path, db: &ScratchDb, tool: &str) -> Result<String, (Option<i32>, String)> {
    let out = tenet(
        dir,
        &["migrate", "baseline", "--url", &db.url(), "--from", tool],
    );
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err((out.status.code(), text(&out.stderr)))
    }
}

/// How many migrations Tenet's history records (none when it does not exist).
fn recorded(db: &ScratchDb) -> usize {
    if query(db, "SELECT to_regclass('tenet.migrations') IS NULL")[0].get::<_, bool>(0) {
        return 0;
    }
    applied(db).len()
}

/// What Tenet's history says is applied.
fn applied(db: &ScratchDb) -> Vec<i64> {
    query(db, "SELECT version FROM tenet.migrations ORDER BY version")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// After adoption: the live catalog does not contain the history table, and the plan from the
/// live database to the migrations is empty.
fn history_table_left_out(dir: &Path, db: &ScratchDb, table_name: &str) {
    let out = tenet(dir, &["inspect", "--url", &db.url()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sql = text(&out.stdout);
    assert!(
        !sql.contains(table_name),
        "{table_name} in the catalog:\n{sql}"
    );
    let out = tenet(
        dir,
        &[
            "plan",
            "--from",
            &db.url(),
            "--to",
            "migrations",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["steps"].as_array().map(Vec::len), Some(0), "{plan}");
}

const BOTH: &str = "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY);";

#[test]
fn baseline_from_tools_that_number_their_migrations() {
    let dir = project();
    let cases: [(&str, &str, &str); 4] = [
        (
            "goose",
            "goose_db_version",
            // goose's postgres dialect; it writes version 0 when it creates the table.
            "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL,
               is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id));
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true),
               (20240101000000, true), (20240102000000, true);",
        ),
        (
            "dbmate",
            "schema_migrations",
            "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) primary key);
             INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000');",
        ),
        (
            "supabase",
            "supabase_migrations",
            "CREATE SCHEMA IF NOT EXISTS supabase_migrations;
             CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
             ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
             ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text;
             CREATE TABLE IF NOT EXISTS supabase_migrations.seed_files (path text NOT NULL PRIMARY KEY, hash text NOT NULL);
             INSERT INTO supabase_migrations.schema_migrations VALUES
               ('20240101000000', '{}', 't'), ('20240102000000', '{}', 'u');",
        ),
        (
            "sqlx",
            "_sqlx_migrations",
            "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL,
               installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL,
               checksum bytea NOT NULL, execution_time bigint NOT NULL);
             INSERT INTO _sqlx_migrations VALUES (20240101000000, 't', now(), true, '\\x00', 1),
               (20240102000000, 'u', now(), true, '\\x00', 1);",
        ),
    ];
    for (tool, table_name, history) in cases {
        let db = test_db();
        exec(&db, BOTH);
        exec(&db, history);
        let out = baseline(dir.path(), &db, tool).unwrap_or_else(|e| panic!("{tool}: {e:?}"));
        assert!(out.contains("recorded 2 migration(s)"), "{tool}: {out}");
        assert_eq!(applied(&db), [20240101000000, 20240102000000], "{tool}");
        history_table_left_out(dir.path(), &db, table_name);
    }

    // goose: u was applied and then rolled back; its last row says so. The baseline stops at
    // t and apply creates u.
    let db = test_db();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL,
           is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id));
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true),
           (20240101000000, true), (20240102000000, true), (20240102000000, false);",
    );
    baseline(dir.path(), &db, "goose").unwrap();
    assert_eq!(applied(&db), [20240101000000]);
    let out = tenet(dir.path(), &["migrate", "apply", "--url", &db.url()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(applied(&db), [20240101000000, 20240102000000]);

    // dbmate's and golang-migrate's tables share a name: each tool is told apart by its shape.
    let db = test_db();
    exec(
        &db,
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (20240101000000, false);",
    );
    let (code, err) = baseline(dir.path(), &db, "dbmate").unwrap_err();
    assert_eq!(code, Some(2));
    assert!(err.contains("use --from golang-migrate"), "{err}");
    baseline(dir.path(), &db, "golang-migrate").unwrap();

    // A version the directory does not have is refused, and nothing is recorded.
    let db = test_db();
    exec(
        &db,
        "CREATE TABLE schema_migrations (version varchar(128) primary key);
         INSERT INTO schema_migrations VALUES ('20231231000000');",
    );
    let (_, err) = baseline(dir.path(), &db, "dbmate").unwrap_err();
    assert!(err.contains("records version 20231231000000"), "{err}");
    assert_eq!(recorded(&db), 0);
}

#[test]
fn baseline_from_tools_with_their_own_identifiers() {
    let dir = project();
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "flyway",
            "flyway_schema_history",
            r#"CREATE TABLE "public"."flyway_schema_history" (
                 "installed_rank" INT NOT NULL, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL,
                 "type" VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" INTEGER,
                 "installed_by" VARCHAR(100) NOT NULL, "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
                 "execution_time" INTEGER NOT NULL, "success" BOOLEAN NOT NULL);
               ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
               CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
               INSERT INTO flyway_schema_history VALUES
                 (1, '1', 'create t', 'SQL', 'V1__create_t.sql', 1, 'app', now(), 3, true),
                 (2, '1.1', 'create u', 'SQL', 'V1_1__create_u.sql', 2, 'app', now(), 3, true);"#,
            "UPDATE flyway_schema_history SET success = false WHERE installed_rank = 2",
        ),
        (
            "alembic",
            "alembic_version",
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
               CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
             INSERT INTO alembic_version VALUES ('ae1027a6acf');",
            "INSERT INTO alembic_version VALUES ('27c6a30d7c24')",
        ),
        (
            "prisma",
            "_prisma_migrations",
            r#"CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
                 "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL,
                 "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT,
                 "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
                 "applied_steps_count" INTEGER NOT NULL DEFAULT 0);
               INSERT INTO _prisma_migrations VALUES
                 ('a1', 'c1', now(), '20240101000000_init', NULL, NULL, now(), 1);"#,
            "INSERT INTO _prisma_migrations VALUES ('a2', 'c2', NULL, '20240102000000_u', 'error', NULL, now(), 0)",
        ),
        (
            "drizzle",
            "__drizzle_migrations",
            r#"CREATE SCHEMA IF NOT EXISTS "drizzle";
               CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);
               INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('9f86d08', 1704067200000);"#,
            "TRUNCATE drizzle.__drizzle_migrations",
        ),
        (
            "efcore",
            "__EFMigrationsHistory",
            r#"CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
                 "MigrationId" character varying(150) NOT NULL, "ProductVersion" character varying(32) NOT NULL,
                 CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY ("MigrationId"));
               INSERT INTO "__EFMigrationsHistory" VALUES ('20240101000000_Init', '8.0.0');"#,
            r#"DELETE FROM "__EFMigrationsHistory""#,
        ),
    ];
    for (tool, table_name, history, spoil) in cases {
        // A clean history: the newest migration is the baseline.
        let db = test_db();
        exec(&db, BOTH);
        exec(&db, history);
        let out = baseline(dir.path(), &db, tool).unwrap_or_else(|e| panic!("{tool}: {e:?}"));
        assert!(out.contains("recorded 2 migration(s)"), "{tool}: {out}");
        history_table_left_out(dir.path(), &db, table_name);

        // A failed, unfinished, branched or empty history is refused and nothing is recorded.
        let db = test_db();
        exec(&db, BOTH);
        exec(&db, history);
        exec(&db, spoil);
        let (code, err) = baseline(dir.path(), &db, tool).unwrap_err();
        assert_eq!(code, Some(2), "{tool}: {err}");
        let expected = match tool {
            "flyway" => "flyway repair",
            "alembic" => "2 heads",
            "prisma" => "prisma migrate resolve",
            _ => "no applied migration",
        };
        assert!(err.contains(expected), "{tool}: {err}");
        assert_eq!(recorded(&db), 0, "{tool}");
    }

    // A history table that is not there says so.
    let db = test_db();
    let (code, err) = baseline(dir.path(), &db, "alembic").unwrap_err();
    assert_eq!(code, Some(2));
    assert!(
        err.contains("public.alembic_version does not exist"),
        "{err}"
    );
}

/// `[schema] exclude` left objects out of plan and inspect, but apply and check still counted
/// them as drift (exit 8): a schema another tool manages (pg-boss's queue tables) stopped every
/// deploy.
#[test]
fn excluded_objects_are_not_drift() {
    let dir = project();
    // The schema files the two migrations build, so `check` has no pending model change.
    std::fs::create_dir_all(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/schema.sql"), BOTH).unwrap();
    let db = test_db();
    let url = db.url();
    let out = tenet(dir.path(), &["migrate", "apply", "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    exec(
        &db,
        "CREATE SCHEMA pgboss; CREATE TABLE pgboss.job (id uuid PRIMARY KEY, data jsonb);",
    );
    let drift = tenet(dir.path(), &["migrate", "apply", "--url", &url]);
    assert_eq!(drift.status.code(), Some(8), "{}", text(&drift.stderr));

    let config = dir.path().join("tenet.toml");
    let text_before = std::fs::read_to_string(&config).unwrap();
    let with_exclude = if text_before.contains("[schema]\n") {
        text_before.replace("[schema]\n", "[schema]\nexclude = [\"pgboss\"]\n")
    } else {
        format!("{text_before}\n[schema]\nexclude = [\"pgboss\"]\n")
    };
    std::fs::write(&config, with_exclude).unwrap();
    for args in [
        &["migrate", "apply", "--url", &url][..],
        &["check", "--url", &url][..],
    ] {
        let out = tenet(dir.path(), args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    // Without a recorded fingerprint the drift check replays: excluded on both sides too.
    exec(&db, "UPDATE tenet.migrations SET fingerprint = NULL");
    let out = tenet(dir.path(), &["migrate", "apply", "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

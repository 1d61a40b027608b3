//! Schema files are untrusted input (issue 12): `tenet inspect` of a file that attacks the
//! server, run on the embedded cluster and with `--dev-url` on the shared local server. Each
//! test asserts the harm did not happen and that the error names the file and line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tenet_testkit::{server, test_db};

/// Where the SQL runs: the embedded cluster, or the local server as a dev server.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Embedded,
    Dev,
}

const BOTH: [Mode; 2] = [Mode::Embedded, Mode::Dev];

/// `tenet inspect` on the server of `mode`.
fn tenet(mode: Mode) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("TENET_DEV_URL")
        .env_remove("TENET_STATEMENT_TIMEOUT");
    command.arg("inspect");
    if let Mode::Dev = mode {
        command.args(["--dev-url", &server().url_for("postgres")]);
    }
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A schema file whose attack is on line 3, after two harmless lines.
fn schema(dir: &Path, attack: &str) -> PathBuf {
    let path = dir.join("schema.sql");
    std::fs::write(
        &path,
        format!("create table notes (id int primary key);\n-- the attack\n{attack}\n"),
    )
    .unwrap();
    path
}

fn inspect(mode: Mode, file: &Path, extra: &[&str]) -> Output {
    tenet(mode).arg(file).args(extra).output().unwrap()
}

/// Runs the attack in both modes: it fails, exit 2 or 3, naming schema.sql line 3.
fn refused(attack: &str, expect: &str) {
    for mode in BOTH {
        let dir = tempfile::tempdir().unwrap();
        let file = schema(dir.path(), attack);
        let out = inspect(mode, &file, &[]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{mode:?} {attack}: ran\n{stderr}");
        assert!(
            stderr.contains(&format!("{}:3:", file.display())),
            "{mode:?} {attack}: no file:line\n{stderr}"
        );
        assert!(
            stderr.contains(expect),
            "{mode:?} {attack}: expected {expect:?}\n{stderr}"
        );
    }
}

/// A superuser session on the local server.
fn local() -> postgres::Client {
    server().connect().unwrap()
}

fn role_exists(name: &str) -> bool {
    local()
        .query_opt("select 1 from pg_roles where rolname = $1", &[&name])
        .unwrap()
        .is_some()
}

#[test]
fn drop_database_of_another_database_is_refused() {
    let victim = test_db();
    refused(
        &format!("drop database {} with (force);", victim.name()),
        "refused: CREATE/ALTER/DROP DATABASE",
    );
    assert!(victim.connect().unwrap().query_one("select 1", &[]).is_ok());
}

#[test]
fn create_database_is_refused() {
    refused(
        "create database tenet_attack_created;",
        "refused: CREATE/ALTER/DROP DATABASE",
    );
    let rows = local()
        .query(
            "select 1 from pg_database where datname = 'tenet_attack_created'",
            &[],
        )
        .unwrap();
    assert!(rows.is_empty());
}

#[test]
fn alter_system_is_refused() {
    refused(
        "alter system set cluster_name = 'tenet_attack';",
        "refused: ALTER SYSTEM",
    );
    let rows = local()
        .query(
            "select 1 from pg_file_settings where setting = 'tenet_attack'",
            &[],
        )
        .unwrap();
    assert!(rows.is_empty());
}

#[test]
fn create_role_superuser_is_refused() {
    refused(
        "create role tenet_attack_boss superuser login;",
        "SUPERUSER is not an attribute a schema may give",
    );
    // Inside a DO block the gate cannot see it; PostgreSQL refuses the unprivileged role.
    refused(
        "do $$ begin execute 'create role tenet_attack_boss superuser'; end $$;",
        "must be superuser to create superusers",
    );
    assert!(!role_exists("tenet_attack_boss"));
}

#[test]
fn alter_role_postgres_is_refused() {
    refused(
        "alter role postgres nosuperuser password 'owned';",
        "refused: ALTER ROLE postgres",
    );
    refused(
        "do $$ begin alter role postgres nosuperuser; end $$;",
        "must be superuser",
    );
    let superuser: bool = local()
        .query_one(
            "select rolsuper from pg_roles where rolname = 'postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(superuser);
}

#[test]
fn copy_to_program_is_refused_directly_and_inside_a_do_block() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("owned");
    // The server (another OS user) may write there: only the sandbox stops it.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let m = marker.display();
    refused(
        &format!("copy (select 1) to program 'touch {m}';"),
        "refused: COPY ... PROGRAM",
    );
    refused(
        &format!("do $$ begin execute 'copy (select 1) to program ''touch {m}'''; end $$;"),
        "pg_execute_server_program",
    );
    refused(
        &format!("copy notes to '{m}';"),
        "refused: COPY to or from a file",
    );
    assert!(!marker.exists());
}

#[test]
fn pg_read_file_is_denied() {
    refused(
        "create table stolen as select pg_read_file('/etc/passwd') as contents;",
        "permission denied for function pg_read_file",
    );
}

#[test]
fn lo_import_and_lo_export_are_denied() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("owned");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    refused(
        "create table stolen as select lo_import('/etc/passwd') as oid;",
        "permission denied for function lo_import",
    );
    // lo_from_bytea is anyone's (a large object in the scratch database); writing it out is not.
    refused(
        &format!(
            "select lo_export(lo_from_bytea(0, 'owned'), '{}');",
            marker.display()
        ),
        "permission denied for function lo_export",
    );
    assert!(!marker.exists());
}

#[test]
fn pg_terminate_backend_of_another_session_is_denied() {
    let mut other = local();
    let pid: i32 = other
        .query_one("select pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    for mode in BOTH {
        let dir = tempfile::tempdir().unwrap();
        // Every other session of the server Tenet runs it on, and the test's own by pid.
        let file = schema(
            dir.path(),
            &format!(
                "select pg_terminate_backend(pid) from pg_stat_activity \
                 where pid <> pg_backend_pid() or pid = {pid};"
            ),
        );
        let out = inspect(mode, &file, &[]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{mode:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{}:3:", file.display())),
            "{stderr}"
        );
        assert!(
            stderr.contains("superuser process") || stderr.contains("permission denied"),
            "{mode:?}: {stderr}"
        );
    }
    assert!(
        other.query_one("select 1", &[]).is_ok(),
        "the session was ended"
    );
}

#[test]
fn set_role_and_reset_role_tricks_are_refused() {
    refused("set role postgres;", "refused: SET ROLE");
    refused("reset role;", "refused: RESET ROLE");
    refused(
        "set session authorization postgres;",
        "refused: SET SESSION AUTHORIZATION",
    );
    // The session user itself is unprivileged: nothing to reset to.
    refused(
        "do $$ begin execute 'reset role'; execute 'create role tenet_attack_reset superuser'; end $$;",
        "must be superuser to create superusers",
    );
    refused(
        "select set_config('role', 'postgres', false);",
        "permission denied to set role",
    );
    assert!(!role_exists("tenet_attack_reset"));
}

#[test]
fn roles_beyond_the_harmless_attributes_or_not_created_by_the_sql_are_refused() {
    refused(
        "grant postgres to public;",
        "refused: GRANT/REVOKE postgres",
    );
    refused(
        "create role tenet_attack_member; grant pg_read_server_files to tenet_attack_member;",
        "refused: GRANT/REVOKE pg_read_server_files",
    );
    refused("drop role postgres;", "refused: DROP ROLE postgres");
    assert!(!role_exists("tenet_attack_member"));
}

/// Roles a schema creates exist while it is read and are dropped afterwards on a dev server;
/// its objects read as owned by the privileged user, as before the sandbox.
#[test]
fn a_schema_that_creates_grants_and_owns_roles_still_works() {
    let sql = "create role sbx_reader nologin;\n\
               do $$ begin create role sbx_writer login; \
               exception when duplicate_object then null; end $$;\n\
               grant sbx_reader to sbx_writer;\n\
               create extension if not exists pgcrypto;\n\
               create table notes (id uuid primary key default gen_random_uuid());\n\
               alter table notes owner to postgres;\n\
               grant select on notes to sbx_reader;\n";
    for mode in BOTH {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schema.sql");
        std::fs::write(&file, sql).unwrap();
        let out = inspect(mode, &file, &[]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{mode:?}: {}", text(&out.stderr));
        assert!(
            stdout.contains("GRANT SELECT ON TABLE public.notes TO sbx_reader"),
            "{stdout}"
        );
        assert!(
            stdout.contains("ALTER TABLE public.notes OWNER TO"),
            "{stdout}"
        );
        assert!(!stdout.contains("tenet_sandbox_"), "{stdout}");
    }
    assert!(!role_exists("sbx_reader") && !role_exists("sbx_writer"));
}

#[test]
fn a_shared_dev_server_keeps_no_roles_the_schema_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(
        &file,
        "create role tenet_attack_leftover nologin;\ncreate table t (id int);\n",
    )
    .unwrap();
    let out = inspect(Mode::Dev, &file, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!role_exists("tenet_attack_leftover"));
}

/// The examples and the corpus still load in the sandbox, on both servers.
#[test]
fn real_schemas_still_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = std::env::var_os("TENET_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus"));
    let mut schemas = vec![root.join("examples/todo/schema")];
    let pagila = corpus.join("pagila/schema.sql");
    assert!(
        pagila.exists() || std::env::var("CI").is_err(),
        "no corpus at {}",
        corpus.display()
    );
    if pagila.exists() {
        schemas.push(pagila);
    }
    for mode in BOTH {
        for schema in &schemas {
            let out = inspect(mode, schema, &[]);
            assert!(
                out.status.success(),
                "{mode:?} {}: {}",
                schema.display(),
                text(&out.stderr)
            );
            assert!(text(&out.stdout).contains("CREATE TABLE public."));
        }
    }
}

#[test]
fn a_sleeping_statement_times_out_with_file_and_line() {
    for (mode, sql, limit) in [
        (Mode::Embedded, "-- sleeps\n\nselect pg_sleep(1e6);\n", 6),
        (Mode::Dev, "-- sleeps\n\nselect pg_sleep(1e6);\n", 6),
        // The SQL cannot lift the limit: the client cancels it (a second after the limit;
        // the batch of two statements then runs again one by one to find the culprit).
        (
            Mode::Dev,
            "set statement_timeout = 0;\n\nselect pg_sleep(1e6);\n",
            12,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schema.sql");
        std::fs::write(&file, sql).unwrap();
        let started = Instant::now();
        let out = inspect(mode, &file, &["--statement-timeout", "2s"]);
        let took = started.elapsed();
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!("{}:3:", file.display())),
            "{stderr}"
        );
        assert!(stderr.contains("statement timeout (2s)"), "{stderr}");
        assert!(
            took < Duration::from_secs(limit),
            "{mode:?} {sql}: {took:?}"
        );
        eprintln!("{mode:?} {sql:?}: failed after {took:?}");
    }
}

/// A run killed with SIGKILL leaves its scratch database, sandbox role, the roles its SQL
/// created and a busy backend; the next run on the server drops them.
#[test]
fn the_next_run_sweeps_what_a_killed_run_left() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(
        &file,
        "create role tenet_attack_swept nologin;\nselect pg_sleep(1e6);\n",
    )
    .unwrap();
    let child = tenet(Mode::Dev)
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut client = local();
    let pattern = format!("tenet\\_sandbox\\_%\\_{pid}\\_%");
    let deadline = Instant::now() + Duration::from_secs(30);
    let backend = |client: &mut postgres::Client| -> Option<(String, String)> {
        client
            .query_opt(
                "select usename::text, datname::text from pg_stat_activity \
                 where usename like $1 and query like '%pg_sleep%'",
                &[&pattern],
            )
            .unwrap()
            .map(|r| (r.get(0), r.get(1)))
    };
    let (role, database) = loop {
        if let Some(found) = backend(&mut client) {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the sleeping statement never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let mut child = child;
    child.wait().unwrap();
    assert!(role_exists(&role) && role_exists("tenet_attack_swept"));

    // Any run that creates a scratch database on the server sweeps.
    let clean = dir.path().join("clean.sql");
    std::fs::write(&clean, "create table t (id int);\n").unwrap();
    let out = inspect(Mode::Dev, &clean, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!role_exists(&role), "sandbox role {role} left");
    assert!(!role_exists("tenet_attack_swept"), "created role left");
    let rows = client
        .query("select 1 from pg_database where datname = $1", &[&database])
        .unwrap();
    assert!(rows.is_empty(), "database {database} left");
    assert!(backend(&mut client).is_none(), "backend left");
}

/// `tenet prove` on schema files plants rows: the schema's triggers then run, and must run as
/// the sandbox role too, not as the privileged user.
#[test]
fn prove_on_schema_files_runs_their_triggers_unprivileged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let marker = dir.path().join("owned");
    std::fs::write(
        dir.path().join("tenet.toml"),
        "[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"sbx_prove_app\"\n",
    )
    .unwrap();
    let schema = dir.path().join("schema.sql");
    std::fs::write(
        &schema,
        format!(
            "create role sbx_prove_app login;\n\
             create table items (id int primary key, tenant_id int not null);\n\
             alter table items enable row level security;\n\
             create policy p on items to sbx_prove_app \
             using (tenant_id = current_setting('app.tenant_id', true)::int);\n\
             grant select, insert, update, delete on items to sbx_prove_app;\n\
             create function evil() returns trigger language plpgsql as $$ begin \
             execute 'copy (select 1) to program ''touch {}'''; return new; end $$;\n\
             create trigger evil before insert on items for each row execute function evil();\n",
            marker.display()
        ),
    )
    .unwrap();
    for mode in BOTH {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
        command
            .env_remove("DATABASE_URL")
            .env_remove("TENET_DEV_URL")
            .args(["prove", "--config"])
            .arg(dir.path().join("tenet.toml"))
            .arg(&schema);
        if let Mode::Dev = mode {
            command.args(["--dev-url", &server().url_for("postgres")]);
        }
        let out = command.output().unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        // The trigger fired when prove planted a row, and PostgreSQL denied its COPY.
        assert!(all.contains("pg_execute_server_program"), "{mode:?}: {all}");
        assert!(!marker.exists(), "{mode:?}: the trigger ran privileged");
    }
    assert!(!role_exists("sbx_prove_app"));
}

/// Schema SQL runs on a dev server only when one is named (--dev-url, TENET_DEV_URL, dev_url
/// in tenet.toml), never on --url (often production): else on the embedded cluster.
#[test]
fn schema_sql_never_runs_on_url_and_dev_url_comes_from_tenet_toml_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    // Only the local server listens on TCP; the embedded cluster listens on no address.
    std::fs::write(
        &file,
        "create table t (id int);\n\
         do $$ begin if current_setting('listen_addresses') <> '' then \
         raise exception 'ran on a TCP server'; end if; end $$;\n",
    )
    .unwrap();
    let local = server().url_for("postgres");
    let run = |args: &[&str], env: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
        command
            .env_remove("DATABASE_URL")
            .env_remove("TENET_DEV_URL")
            .current_dir(dir.path())
            .arg("inspect")
            .arg(&file)
            .args(args);
        if let Some(url) = env {
            command.env("TENET_DEV_URL", url);
        }
        command.output().unwrap()
    };
    let on_url = run(&["--url", &local], None);
    assert!(on_url.status.success(), "{}", text(&on_url.stderr));
    let with_database_url = {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
        command
            .env("DATABASE_URL", &local)
            .env_remove("TENET_DEV_URL")
            .current_dir(dir.path())
            .arg("inspect")
            .arg(&file);
        command.output().unwrap()
    };
    assert!(with_database_url.status.success());
    let by_env = run(&[], Some(&local));
    assert!(text(&by_env.stderr).contains("ran on a TCP server"));
    std::fs::write(
        dir.path().join("tenet.toml"),
        format!("dev_url = \"{local}\"\n"),
    )
    .unwrap();
    let by_config = run(&[], None);
    let stderr = text(&by_config.stderr);
    assert!(stderr.contains("ran on a TCP server"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2:", file.display())),
        "{stderr}"
    );
}

/// `tenancy check` and `prove` took `dev_url` from ./tenet.toml even when `--config` named
/// another file; every command reads it from the configuration it loaded.
#[test]
fn tenancy_and_prove_take_dev_url_from_the_config_they_were_given() {
    let project = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = project.path().join("schema.sql");
    std::fs::write(
        &file,
        "create table t (id int, tenant_id int);\n\
         do $$ begin if current_setting('listen_addresses') <> '' then \
         raise exception 'ran on a TCP server'; end if; end $$;\n",
    )
    .unwrap();
    let config = project.path().join("tenet.toml");
    std::fs::write(
        &config,
        format!(
            "dev_url = \"{}\"\n[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"sbx_cfg_app\"\n",
            server().url_for("postgres")
        ),
    )
    .unwrap();
    for command in [&["tenancy", "check"][..], &["prove"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_tenet"))
            .env_remove("DATABASE_URL")
            .env_remove("TENET_DEV_URL")
            .current_dir(elsewhere.path())
            .args(command)
            .arg(&file)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("ran on a TCP server"),
            "{command:?} did not use the config's dev_url: {stderr}"
        );
    }
}

/// The lint replay drove the sandbox session without the client-side deadline, so a
/// migration that lifted statement_timeout could hang `tenet lint` (a CI job) forever.
#[test]
fn a_sleeping_migration_cannot_hang_the_lint_replay() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("1_t.up.sql"),
        "create table t (id int primary key);\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("2_sleep.up.sql"),
        "set statement_timeout = 0;\nalter table t add column v int;\nselect pg_sleep(1e6);\n",
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .env_remove("DATABASE_URL")
        .env("TENET_DEV_URL", server().url_for("postgres"))
        .current_dir(dir.path())
        .args(["lint", "migrations", "--statement-timeout", "2s"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(took < Duration::from_secs(20), "{took:?}: {all}");
    assert!(all.contains("2_sleep.up.sql"), "{all}");
    assert!(all.contains("cancel"), "{all}");
}

/// `tenet inspect --format json` of `sql` in `mode`: the catalog, or the error output.
fn inspect_catalog(mode: Mode, sql: &str) -> Result<serde_json::Value, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    let out = inspect(mode, &file, &["--format", "json"]);
    if !out.status.success() {
        return Err(text(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn event_triggers_from_schema_files_load_but_never_fire() {
    // Were it ever enabled while the SQL or Tenet ran DDL, it would fail that DDL, as
    // whoever ran it (on the privileged session: as the superuser).
    let sql = "create function stop_everything() returns event_trigger language plpgsql as $$\n\
               begin raise exception 'fired as %', current_user; end $$;\n\
               create event trigger stop on ddl_command_start execute function stop_everything();\n\
               create event trigger stop_drops on sql_drop execute function stop_everything();\n\
               alter event trigger stop_drops enable always;\n\
               comment on event trigger stop is 'stops every command';\n\
               create table after_it (id int);\n\
               create extension if not exists pgcrypto;\n";
    for mode in BOTH {
        let catalog = inspect_catalog(mode, sql).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let triggers = catalog["event_triggers"].as_array().unwrap();
        let by_name = |name: &str| triggers.iter().find(|t| t["name"] == name).unwrap();
        // The catalog says what the SQL asked for: enabled (the default), and always.
        assert!(by_name("stop").get("enabled").is_none(), "{triggers:?}");
        assert_eq!(by_name("stop")["comment"], "stops every command");
        assert_eq!(by_name("stop_drops")["enabled"], "always");
        let tables = catalog["tables"].as_array().unwrap();
        assert!(tables.iter().any(|t| t["name"] == "after_it"));
    }
}

#[test]
fn publications_of_all_tables_and_of_schemas_load_from_schema_files() {
    let sql = "create schema feed;\ncreate table feed.posts (id int primary key);\n\
               create publication everything for all tables;\n\
               create publication posts for tables in schema feed;\n\
               comment on publication everything is 'realtime';\n\
               alter publication posts set (publish = 'insert');\n";
    for mode in BOTH {
        let catalog = inspect_catalog(mode, sql).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let publications = catalog["publications"].as_array().unwrap();
        let by_name = |name: &str| publications.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(
            by_name("everything")["comment"],
            "realtime",
            "{publications:?}"
        );
        assert_eq!(by_name("posts")["schemas"][0], "feed", "{publications:?}");
    }
}

#[test]
fn event_triggers_and_publications_the_sql_did_not_create_stay_out_of_reach() {
    // Nothing routes to the privileged session for objects the SQL did not make there.
    let out = inspect_catalog(
        Mode::Dev,
        "create table t (id int);\ndrop event trigger if exists someone_elses;\n\
         alter event trigger someone_elses disable;\n",
    );
    let stderr = out.unwrap_err();
    assert!(stderr.contains("schema.sql:3:"), "{stderr}");
    assert!(stderr.contains("someone_elses"), "{stderr}");
}

#[test]
fn a_statement_only_a_superuser_may_run_says_why_it_cannot() {
    refused(
        "create function positive(a int) returns bool language sql immutable leakproof as 'select a > 0';",
        "only superuser can define a leakproof function",
    );
    refused(
        "create function positive(a int) returns bool language sql immutable leakproof as 'select a > 0';",
        "schema SQL runs as an unprivileged role (tenet_sandbox_",
    );
}

/// Found by the `schema-cache` benchmark on 2,000 tables: handing the sandbox role's objects
/// to the privileged user in one `REASSIGN OWNED` locked every table, index and TOAST table at
/// once, more than the server's lock table holds ("out of shared memory").
#[test]
fn more_tables_than_the_lock_table_holds_load() {
    let mut client = local();
    let row = client
        .query_one(
            "SELECT current_setting('max_locks_per_transaction')::int \
             * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int)",
            &[],
        )
        .unwrap();
    let locks: i32 = row.get(0);
    // A table, its primary key, its TOAST table and the TOAST table's index: four locks each.
    let tables = locks as usize / 3;
    let sql: String = (0..tables)
        .map(|i| format!("CREATE TABLE t{i} (id int PRIMARY KEY, note text);\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    std::fs::write(&file, sql).unwrap();
    let out = inspect(Mode::Dev, &file, &["--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let owners: std::collections::BTreeSet<&str> = catalog["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["owner"].as_str().unwrap())
        .collect();
    assert_eq!(catalog["tables"].as_array().unwrap().len(), tables);
    assert_eq!(
        owners.len(),
        1,
        "one owner, the privileged user's: {owners:?}"
    );
}

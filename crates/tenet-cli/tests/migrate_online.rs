//! The online forms of a plan stay online when `tenet migrate` applies them: on a table of
//! millions of rows, concurrent writes with a short lock_timeout never fail, and the lock each
//! segment really takes (seen from a second session polling `pg_locks`) is the lock the plan
//! step states.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tenet_testkit::{client, exec, query, test_db};

mod support;

use support::*;

const BEFORE: &str = "CREATE TABLE refs (id integer PRIMARY KEY);\n\
     CREATE TABLE big (n integer, m integer, r integer);\n";

/// The same table with a CHECK, a NOT NULL (through a validated CHECK), a foreign key and an
/// index: every two-phase form the plan has for a table that exists.
const AFTER: &str = "CREATE TABLE refs (id integer PRIMARY KEY);\n\
     CREATE TABLE big (n integer CONSTRAINT big_n_positive CHECK (n > 0), m integer NOT NULL, \
     r integer CONSTRAINT big_r_fkey REFERENCES refs (id));\n\
     CREATE INDEX big_m ON big (m);\n";

/// A project whose first migration made `big` (filled with `rows` rows) and whose schema files
/// now want [`AFTER`]; the second migration is written by `migrate new`.
fn project_with_big_table(rows: i64) -> (Project, tenet_testkit::ScratchDb, String) {
    let project = Project::new();
    project.write("schema/schema.sql", BEFORE);
    project.ok(&["migrate", "new", "tables"]);
    let db = test_db();
    let url = db.url();
    project.ok(&["migrate", "apply", "--url", &url]);
    exec(
        &db,
        &format!(
            "INSERT INTO refs SELECT generate_series(1, 100);\n\
             INSERT INTO big SELECT n, n, n % 100 + 1 FROM generate_series(1, {rows}) AS n;"
        ),
    );
    exec(&db, "VACUUM ANALYZE big");
    project.write("schema/schema.sql", AFTER);
    (project, db, url)
}

/// The second migration's up file.
fn second_up(project: &Project) -> (std::path::PathBuf, String) {
    let mut ups: Vec<_> = std::fs::read_dir(project.path("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    let path = ups.pop().unwrap();
    let sql = std::fs::read_to_string(&path).unwrap();
    (path, sql)
}

#[test]
fn writes_with_a_300ms_lock_timeout_never_fail_while_constraints_are_added_to_millions_of_rows() {
    let (project, db, url) = project_with_big_table(3_000_000);
    project.ok(&["migrate", "new", "constrain big"]);
    let (_, up) = second_up(&project);
    // What migrate new wrote says what apply does, and leaves lock_timeout to apply.
    assert!(!up.contains("SET lock_timeout"), "{up}");
    assert_eq!(up.matches("VALIDATE CONSTRAINT").count(), 3, "{up}");
    assert_eq!(
        up.matches("in a transaction of its own\nALTER TABLE public.big VALIDATE")
            .count(),
        3,
        "{up}"
    );
    assert!(up.contains("CREATE INDEX CONCURRENTLY big_m"), "{up}");
    // Lint knows Tenet's migrator sets lock_timeout and runs each VALIDATE on its own.
    let lint = text(&project.run(&["lint", "migrations"]).stdout);
    assert!(!lint.contains("missing-lock-timeout"), "{lint}");
    assert!(
        lint.contains("big"),
        "lint did not replay the migrations:\n{lint}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut writer = client(&db);
        std::thread::spawn(move || {
            writer.batch_execute("SET lock_timeout = '300ms'").unwrap();
            let (mut ok, mut failed, mut slowest) = (0u64, Vec::new(), Duration::ZERO);
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                match writer.batch_execute("INSERT INTO big VALUES (1, 1, 1)") {
                    Ok(()) => ok += 1,
                    Err(e) => failed.push(tenet_testkit::describe(&e)),
                }
                slowest = slowest.max(started.elapsed());
            }
            (ok, failed, slowest)
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    project.ok(&["migrate", "apply", "--url", &url]);
    let applied_in = started.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (ok, failed, slowest) = writer.join().unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} inserts failed while the migration ran ({applied_in:?}): {:?}",
        failed.len(),
        ok + failed.len() as u64,
        &failed[..failed.len().min(3)]
    );
    assert!(
        slowest < Duration::from_millis(300),
        "an insert waited {slowest:?}"
    );
    assert!(ok > 100, "only {ok} inserts ran during {applied_in:?}");
    let validated = count(
        &db,
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'big'::regclass AND convalidated \
         AND conname IN ('big_n_positive', 'big_r_fkey')",
    );
    assert_eq!(validated, 2);
    let not_null: bool = query(
        &db,
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'm'",
    )[0]
    .get(0);
    assert!(not_null);
    project.ok(&["check", "--url", &url]);
}

/// PostgreSQL's lock mode names, weakest to strongest.
const MODES: &[&str] = &[
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

fn rank(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

fn mode_of(lock: tenet_diff::Lock) -> &'static str {
    match lock {
        tenet_diff::Lock::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
        tenet_diff::Lock::Share => "ShareLock",
        tenet_diff::Lock::ShareRowExclusive => "ShareRowExclusiveLock",
        tenet_diff::Lock::AccessExclusive => "AccessExclusiveLock",
    }
}

#[test]
fn each_segment_takes_on_the_table_the_lock_its_plan_steps_state() {
    let (project, db, url) = project_with_big_table(1_000_000);
    let plan: tenet_diff::Plan = serde_json::from_str(
        &project.ok(&["plan", "--from", &url, "--to", "schema", "--format", "json"]),
    )
    .unwrap();
    assert!(plan
        .steps
        .iter()
        .filter(|s| s.sql.contains("VALIDATE CONSTRAINT"))
        .all(|s| s.own_transaction && s.lock == Some(tenet_diff::Lock::ShareUpdateExclusive)));
    project.ok(&["migrate", "new", "constrain big"]);
    // Adding a NOT VALID constraint takes a moment only; a pause after each, in the same
    // transaction, lets the observer see the lock that transaction holds.
    let (path, up) = second_up(&project);
    let mut paused = String::new();
    for (number, line) in up.lines().enumerate() {
        paused.push_str(line);
        paused.push('\n');
        if line.contains(" NOT VALID;") {
            paused.push_str(&format!("SELECT pg_sleep(0.3) AS after_line_{number};\n"));
        }
    }
    std::fs::write(&path, &paused).unwrap();
    project.ok(&["migrate", "hash"]);

    // The observer: every lock on big held by another session of this database, with that
    // session's transaction start and current statement.
    let stop = Arc::new(AtomicBool::new(false));
    let observer = {
        let stop = stop.clone();
        let mut observer = client(&db);
        std::thread::spawn(move || {
            let mut seen: Vec<(String, String, String)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for row in observer
                    .query(
                        "SELECT coalesce(a.xact_start::text, ''), a.query, l.mode FROM pg_locks l \
                         JOIN pg_stat_activity a ON a.pid = l.pid \
                         WHERE l.locktype = 'relation' AND l.relation = 'public.big'::regclass \
                         AND l.pid <> pg_backend_pid()",
                        &[],
                    )
                    .unwrap()
                {
                    seen.push((row.get(0), row.get(1), row.get(2)));
                }
            }
            seen
        })
    };
    project.ok(&["migrate", "apply", "--url", &url]);
    stop.store(true, Ordering::Relaxed);
    let seen = observer.join().unwrap();

    let segments = tenet_migrate::segments::split("up", &paused).unwrap();
    let mut compared = Vec::new();
    for segment in &segments {
        let texts: Vec<&str> = segment
            .statements
            .iter()
            .map(|&(a, b)| paused[a..b].trim())
            .collect();
        // The plan steps in this segment, and the strongest lock they state on big.
        let stated = plan
            .steps
            .iter()
            .filter(|s| s.object == "table public.big")
            .filter(|s| {
                s.sql
                    .split(";\n")
                    .all(|part| texts.iter().any(|t| t.contains(part.trim_end_matches(';'))))
            })
            .filter_map(|s| s.lock)
            .max();
        let Some(stated) = stated else { continue };
        // The transactions (by start time) that ran one of this segment's statements, and the
        // strongest lock they held on big.
        let transactions: Vec<&String> = seen
            .iter()
            .filter(|(_, q, _)| {
                texts
                    .iter()
                    .any(|t| q.trim().contains(t.lines().last().unwrap()))
            })
            .map(|(x, _, _)| x)
            .collect();
        let observed = seen
            .iter()
            .filter(|(x, _, _)| transactions.contains(&x))
            .map(|(_, _, mode)| mode.as_str())
            .max_by_key(|m| rank(m));
        compared.push((texts.join(" | "), mode_of(stated), observed));
    }
    let wanted = [
        "NOT VALID",
        "VALIDATE CONSTRAINT big_n_positive",
        "VALIDATE CONSTRAINT big_r_fkey",
        "CREATE INDEX CONCURRENTLY",
    ];
    for what in wanted {
        assert!(
            compared
                .iter()
                .any(|(texts, _, observed)| texts.contains(what) && observed.is_some()),
            "no lock observed for {what}: {compared:#?}"
        );
    }
    for (texts, stated, observed) in &compared {
        if let Some(observed) = observed {
            assert_eq!(
                observed, stated,
                "the segment `{texts}` took {observed}, its plan steps state {stated}"
            );
        }
    }
    assert!(
        compared.iter().any(|(t, s, o)| t.contains("VALIDATE")
            && *s == "ShareUpdateExclusiveLock"
            && o.is_some()),
        "{compared:#?}"
    );
}

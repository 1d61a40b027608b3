//! What the `tenet migrate` tests share: a project directory driven through the binary, and
//! small queries on the test database.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use tenet_testkit::{query, server, ScratchDb};

/// A project directory with its own migrations.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        project.ok(&["init"]);
        project
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenet"));
        command
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env("TENET_DEV_URL", server().url_for("postgres"))
            .args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Run and require success; the standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tenet {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Run and require exit `code`; the standard error.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "tenet {args:?}:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    pub fn write(&self, relative: &str, sql: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, sql).unwrap();
    }

    /// A hand-written migration, with the sum file brought up to date.
    pub fn migration(&self, id: &str, up: &str, down: &str) {
        self.write(&format!("migrations/{id}.up.sql"), up);
        self.write(&format!("migrations/{id}.down.sql"), down);
        self.ok(&["migrate", "hash"]);
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn count(db: &ScratchDb, sql: &str) -> i64 {
    query(db, sql)[0].get(0)
}

pub fn exists(db: &ScratchDb, relation: &str) -> bool {
    query(db, &format!("SELECT to_regclass('{relation}') IS NOT NULL"))[0].get(0)
}

pub fn history(db: &ScratchDb) -> Vec<(i64, i32, i32)> {
    query(
        db,
        "SELECT version, segments_done, segments_total FROM tenet.migrations ORDER BY version",
    )
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

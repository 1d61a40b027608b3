//! A plan: ordered steps of SQL, each with the lock it takes and what could go wrong.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

/// The table lock a statement takes, weakest to strongest (only the modes DDL uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Lock {
    /// Reads and writes go on (VALIDATE CONSTRAINT, CREATE INDEX CONCURRENTLY).
    ShareUpdateExclusive,
    /// Writes wait, reads go on (CREATE INDEX).
    Share,
    /// Writes wait, reads go on (ADD FOREIGN KEY, CREATE TRIGGER).
    ShareRowExclusive,
    /// Everything waits, reads included (most ALTER TABLE, DROP).
    AccessExclusive,
}

impl Lock {
    pub fn sql_name(self) -> &'static str {
        match self {
            Lock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Lock::Share => "SHARE",
            Lock::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Lock::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    /// The whole table is rewritten while the lock is held.
    TableRewrite,
    /// An index is built (time grows with the table).
    IndexBuild,
    /// Rows, columns or values are lost.
    DataLoss,
    /// May fail on existing rows (a new constraint, a narrowing cast).
    MayFailOnExistingRows,
    /// The whole table is scanned while the lock is held.
    TableScan,
}

impl Hazard {
    pub fn describe(self) -> &'static str {
        match self {
            Hazard::TableRewrite => "rewrites the table",
            Hazard::IndexBuild => "builds an index",
            Hazard::DataLoss => "loses data",
            Hazard::MayFailOnExistingRows => "may fail on existing rows",
            Hazard::TableScan => "scans the table",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// One or more SQL statements, each ending in `;`.
    pub sql: String,
    /// The object it touches, e.g. `table public.tasks`.
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<Lock>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<Hazard>,
    /// False for statements PostgreSQL refuses inside a transaction block
    /// (`CREATE INDEX CONCURRENTLY`, `ALTER TYPE ... ADD VALUE` before its use).
    pub transactional: bool,
    /// True for a step that must run in a transaction of its own, committed apart from the
    /// steps before it: `VALIDATE CONSTRAINT`, so its scan never runs under the stronger lock
    /// the `NOT VALID` constraint was added with (tenet-migrate gives it its own segment).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own_transaction: bool,
    /// Why this form was chosen, when it is not the obvious one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Step {
    pub fn new(object: impl Into<String>, sql: impl Into<String>) -> Step {
        Step {
            sql: sql.into(),
            object: object.into(),
            lock: None,
            hazards: Vec::new(),
            transactional: true,
            own_transaction: false,
            note: None,
        }
    }
    pub fn lock(mut self, lock: Lock) -> Step {
        self.lock = Some(lock);
        self
    }
    pub fn hazard(mut self, hazard: Hazard) -> Step {
        if !self.hazards.contains(&hazard) {
            self.hazards.push(hazard);
            self.hazards.sort();
        }
        self
    }
    pub fn outside_transaction(mut self) -> Step {
        self.transactional = false;
        self
    }
    pub fn own_transaction(mut self) -> Step {
        self.own_transaction = true;
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Step {
        self.note = Some(note.into());
        self
    }
    pub fn is_destructive(&self) -> bool {
        self.hazards.contains(&Hazard::DataLoss)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// How long a step may wait for its lock before failing, so a plan never queues behind a long
/// transaction while blocking everyone queued behind it.
pub const LOCK_TIMEOUT: &str = "5s";

/// Run before a plan: wait at most [`LOCK_TIMEOUT`] for a lock, and create functions without
/// checking their bodies, since a body may refer to objects created later in the plan (the
/// target schema was loaded into PostgreSQL, which checked every body there).
pub const SESSION_SETTINGS: &str = "SET lock_timeout = '5s';\nSET check_function_bodies = false;";

/// [`SESSION_SETTINGS`] for a migration file: the migrator owns `lock_timeout`.
const MIGRATION_SETTINGS: &str = "SET check_function_bodies = false;";

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as a script: session settings first, then each step under a comment with its
    /// lock and hazards. Empty when there is nothing to do.
    pub fn to_sql(&self) -> String {
        self.script(SESSION_SETTINGS)
    }

    /// The plan as a migration file: like [`Plan::to_sql`] without the `lock_timeout`, which
    /// the migrator sets (`--lock-timeout`) when it runs the file.
    pub fn to_migration_sql(&self) -> String {
        self.script(MIGRATION_SETTINGS)
    }

    fn script(&self, settings: &str) -> String {
        if self.steps.is_empty() {
            return String::new();
        }
        let mut out = format!("{settings}\n");
        for step in &self.steps {
            let mut notes: Vec<String> = Vec::new();
            if let Some(lock) = step.lock {
                notes.push(format!("{} lock", lock.sql_name()));
            }
            notes.extend(step.hazards.iter().map(|h| h.describe().to_string()));
            if !step.transactional {
                notes.push("runs outside a transaction".into());
            }
            if step.own_transaction {
                notes.push("in a transaction of its own".into());
            }
            write!(out, "\n-- {}", step.object).unwrap();
            if !notes.is_empty() {
                write!(out, ": {}", notes.join(", ")).unwrap();
            }
            out.push('\n');
            if let Some(note) = &step.note {
                writeln!(out, "-- {note}").unwrap();
            }
            out.push_str(step.sql.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).expect("plans serialize");
        json.push('\n');
        json
    }
}

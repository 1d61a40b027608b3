//! Every rule Tenet's lint and advise know: id, default severity, what it reports, why it
//! matters and the safe alternative. Findings take their `why` from here; SARIF takes its rule
//! metadata from here.

use tenet_report::{RuleInfo, Severity};

/// Which command reports a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `tenet lint`: migration files.
    Lint,
    /// `tenet advise`: a live database.
    Advise,
}

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// What the rule reports, in a few words.
    pub summary: &'static str,
    /// Why it is dangerous.
    pub why: &'static str,
    /// The safe alternative, in general terms (findings carry a specific one).
    pub fix: &'static str,
}

use Scope::{Advise, Lint};
use Severity::{Error, Info, Warning};

pub const RULES: &[Rule] = &[
    Rule {
        id: "index-not-concurrent",
        severity: Error,
        scope: Lint,
        summary: "Index created, dropped or rebuilt without CONCURRENTLY",
        why: "CREATE INDEX takes a SHARE lock and DROP INDEX or REINDEX an ACCESS EXCLUSIVE lock on the table: every write (and for DROP/REINDEX every read) waits until the index is built or dropped, which on a large table means minutes of downtime.",
        fix: "Use CREATE INDEX CONCURRENTLY / DROP INDEX CONCURRENTLY / REINDEX ... CONCURRENTLY, in a migration of its own that does not run in a transaction.",
    },
    Rule {
        id: "needs-no-transaction",
        severity: Error,
        scope: Lint,
        summary: "Statement that cannot run in a transaction block, in a migration that runs in one",
        why: "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY, VACUUM, ALTER SYSTEM and a few others cannot run inside a transaction block: PostgreSQL rejects the statement and the migration fails. Tenet's migrator runs the CONCURRENTLY index statements and VACUUM alone by itself, but not inside an explicit BEGIN, and not the others.",
        fix: "Move the statement into a migration of its own whose first line is `-- tenet:no-transaction` (each statement then runs on its own), and out of any BEGIN ... COMMIT.",
    },
    Rule {
        id: "commit-in-do-block",
        severity: Error,
        scope: Lint,
        summary: "COMMIT or ROLLBACK inside a DO block of a migration that runs in a transaction",
        why: "Transaction control inside a DO block works only when the block runs outside a transaction block; in a migration that runs in a transaction PostgreSQL stops it with \"invalid transaction termination\" and the migration fails.",
        fix: "Put the DO block in a migration of its own whose first line is `-- tenet:no-transaction`, outside any BEGIN ... COMMIT.",
    },
    Rule {
        id: "constraint-without-not-valid",
        severity: Error,
        scope: Lint,
        summary: "Foreign key or CHECK constraint added without NOT VALID",
        why: "Adding a validated constraint scans the whole table while holding a lock that blocks writes (SHARE ROW EXCLUSIVE on both tables for a foreign key, ACCESS EXCLUSIVE for a CHECK).",
        fix: "ADD CONSTRAINT ... NOT VALID (instant), then VALIDATE CONSTRAINT in a later statement or migration: validation takes only a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.",
    },
    Rule {
        id: "validate-in-same-transaction",
        severity: Error,
        scope: Lint,
        summary: "Constraint added NOT VALID and validated in the same transaction",
        why: "ADD CONSTRAINT ... NOT VALID takes a lock that blocks writes (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) and holds it to the end of the transaction: validating in the same transaction scans the whole table under that lock, exactly what NOT VALID was meant to avoid.",
        fix: "Commit between the two: VALIDATE CONSTRAINT in a later migration (or after COMMIT), where it takes only a SHARE UPDATE EXCLUSIVE lock.",
    },
    Rule {
        id: "unique-without-index",
        severity: Error,
        scope: Lint,
        summary: "UNIQUE or PRIMARY KEY added without an existing index",
        why: "ADD CONSTRAINT ... UNIQUE / PRIMARY KEY builds its index while holding an ACCESS EXCLUSIVE lock: the table is unreadable and unwritable for the whole build.",
        fix: "CREATE UNIQUE INDEX CONCURRENTLY first, then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX), which is instant.",
    },
    Rule {
        id: "set-not-null-without-check",
        severity: Error,
        scope: Lint,
        summary: "SET NOT NULL without a validated CHECK (column IS NOT NULL)",
        why: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock to prove there are no NULLs, unless a validated CHECK constraint already proves it (PostgreSQL 12+).",
        fix: "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; then SET NOT NULL (now instant) and drop the check.",
    },
    Rule {
        id: "not-null-without-default",
        severity: Error,
        scope: Lint,
        summary: "NOT NULL column added without a default",
        why: "Adding a NOT NULL column without a default fails on any table that has rows: the migration works on an empty development database and breaks in production.",
        fix: "Add the column with a constant DEFAULT (instant since PostgreSQL 11), or add it nullable, backfill in batches, then enforce NOT NULL with a validated CHECK.",
    },
    Rule {
        id: "volatile-default-rewrite",
        severity: Error,
        scope: Lint,
        summary: "Column added with a volatile default, identity or stored generated expression",
        why: "A constant default is stored in the catalog, but a volatile one (random(), gen_random_uuid(), clock_timestamp(), nextval() of serial) or an identity or stored generated column must be computed for every existing row: PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock.",
        fix: "Add the column without a default (or with a constant one), SET DEFAULT afterwards for new rows, and backfill existing rows in batches.",
    },
    Rule {
        id: "type-change-rewrite",
        severity: Error,
        scope: Lint,
        summary: "Column type change that rewrites the table",
        why: "ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock unless the change is binary compatible (varchar(n) to a longer varchar or text, numeric to a wider precision with the same scale).",
        fix: "Add a new column of the new type, backfill it in batches, keep both in sync (trigger or application), then switch readers and drop the old column.",
    },
    Rule {
        id: "table-rewrite",
        severity: Error,
        scope: Lint,
        summary: "Statement rewrote an existing table (observed in the replay)",
        why: "The replay saw this statement give an existing table a new data file: PostgreSQL copied every row and rebuilt every index while holding an ACCESS EXCLUSIVE lock, so on a large table reads and writes wait for the whole copy.",
        fix: "Find the online form of the change (a new column backfilled in batches, a NOT VALID constraint, CONCURRENTLY), or run it in a maintenance window.",
    },
    Rule {
        id: "drop-table",
        severity: Error,
        scope: Lint,
        summary: "Table dropped",
        why: "DROP TABLE deletes the data for good, and application code still running against the old schema fails.",
        fix: "Stop using the table in the application first; keep a backup or rename it and drop it in a later release. Mark a deliberate drop with `-- tenet:ignore drop-table`.",
    },
    Rule {
        id: "drop-column",
        severity: Error,
        scope: Lint,
        summary: "Column dropped",
        why: "DROP COLUMN loses the column's data, and application code that still selects or inserts it fails.",
        fix: "Stop reading and writing the column in the application first, deploy, then drop it. Mark a deliberate drop with `-- tenet:ignore drop-column`.",
    },
    Rule {
        id: "truncate-table",
        severity: Error,
        scope: Lint,
        summary: "Table truncated",
        why: "TRUNCATE deletes every row (and takes an ACCESS EXCLUSIVE lock).",
        fix: "Delete the rows that must go with a bounded DELETE, or mark a deliberate truncate with `-- tenet:ignore truncate-table`.",
    },
    Rule {
        id: "rename-table",
        severity: Warning,
        scope: Lint,
        summary: "Table renamed",
        why: "Application code deployed before the migration still uses the old name and fails as soon as the rename commits.",
        fix: "Create the new table (or a view with the new name), move readers and writers over, then drop the old name in a later release.",
    },
    Rule {
        id: "rename-column",
        severity: Warning,
        scope: Lint,
        summary: "Column renamed",
        why: "Application code deployed before the migration still uses the old column name and fails as soon as the rename commits.",
        fix: "Add the new column, write both, backfill, move readers over, then drop the old column in a later release.",
    },
    Rule {
        id: "missing-lock-timeout",
        severity: Warning,
        scope: Lint,
        summary: "Lock taken on an existing table without lock_timeout",
        why: "A statement waiting for a lock blocks every query queued behind it: if a long transaction holds the table, the migration takes the application down while it waits.",
        fix: "Start the migration with SET lock_timeout = '5s' (and retry on failure), so it gives up instead of queueing traffic behind it.",
    },
    Rule {
        id: "nested-transaction",
        severity: Error,
        scope: Lint,
        summary: "BEGIN inside a transaction, or COMMIT/ROLLBACK with none open",
        why: "PostgreSQL does not nest transactions: a second BEGIN is ignored and the first COMMIT ends the outer transaction, so statements meant to be atomic are not, and a stray COMMIT commits the migrator's own transaction early.",
        fix: "Use one BEGIN ... COMMIT per migration (or none and let the migrator wrap it); use SAVEPOINT for nested rollback.",
    },
    Rule {
        id: "unclosed-transaction",
        severity: Error,
        scope: Lint,
        summary: "Transaction opened and never closed",
        why: "A BEGIN without COMMIT leaves the transaction open at the end of the migration: depending on the tool it is rolled back silently or holds its locks until the connection closes.",
        fix: "End the transaction with COMMIT in the same file.",
    },
    Rule {
        id: "prefer-bigint",
        severity: Warning,
        scope: Lint,
        summary: "Key column of type integer or smallint",
        why: "A 32-bit key runs out at 2.1 billion values; changing a key's type later rewrites the table and every referencing table.",
        fix: "Use bigint for keys (bigint GENERATED ALWAYS AS IDENTITY for generated ones).",
    },
    Rule {
        id: "prefer-identity",
        severity: Warning,
        scope: Lint,
        summary: "serial column",
        why: "serial creates a sequence with separate ownership and permissions (and smallserial/serial are 32-bit); identity columns are standard SQL, owned by the column and harder to misuse.",
        fix: "Use bigint GENERATED ALWAYS AS IDENTITY (or BY DEFAULT).",
    },
    Rule {
        id: "prefer-timestamptz",
        severity: Warning,
        scope: Lint,
        summary: "timestamp without time zone",
        why: "timestamp without time zone stores wall-clock time with no zone, so values written from sessions in different time zones cannot be compared and DST changes corrupt them.",
        fix: "Use timestamptz, which stores an absolute instant.",
    },
    Rule {
        id: "prefer-text",
        severity: Warning,
        scope: Lint,
        summary: "varchar(n)",
        why: "varchar(n) is no faster than text in PostgreSQL, and raising the limit later is a schema change; a limit belongs in a CHECK constraint, which can be changed with NOT VALID.",
        fix: "Use text, with CHECK (char_length(col) <= n) when a limit is really needed.",
    },
    Rule {
        id: "no-char",
        severity: Warning,
        scope: Lint,
        summary: "char(n)",
        why: "char(n) pads values with spaces, compares ignoring them, and is no faster than text.",
        fix: "Use text (with a CHECK constraint for a fixed length).",
    },
    Rule {
        id: "new-table-without-rls",
        severity: Error,
        scope: Lint,
        summary: "Tenant-scoped table created without row-level security in the same migration",
        why: "Between this migration and the one that enables row-level security, every tenant can read every other tenant's rows in the new table.",
        fix: "In the same migration: ALTER TABLE ... ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY, and create the tenant policies (or list the table in [tenancy] global_tables).",
    },
    Rule {
        id: "syntax-error",
        severity: Error,
        scope: Lint,
        summary: "Statement PostgreSQL cannot parse",
        why: "The migration fails when it runs.",
        fix: "Fix the statement.",
    },
    Rule {
        id: "migration-fails",
        severity: Error,
        scope: Lint,
        summary: "Migration fails when replayed on a scratch database",
        why: "Tenet replayed the migrations of the directory in order on a scratch database and PostgreSQL rejected this statement: the migration fails when it runs, unless what it needs comes from outside the directory.",
        fix: "Fix the statement; if the objects it needs come from outside the directory (a live database, another tool's history), lint with --url to read them from the database it will run on. This file and later ones were linted without the replay.",
    },
    Rule {
        id: "unindexed-foreign-key",
        severity: Warning,
        scope: Advise,
        summary: "Foreign key without an index on its columns",
        why: "Every DELETE or key UPDATE on the referenced table scans the referencing table to check the key, and joins along the key cannot use an index.",
        fix: "CREATE INDEX CONCURRENTLY on the foreign key columns (an index whose leading columns are the key's also serves).",
    },
    Rule {
        id: "duplicate-index",
        severity: Warning,
        scope: Advise,
        summary: "Index duplicating another index",
        why: "Two indexes with the same method, key columns or expressions, collations, operator classes, sort order and predicate cost writes and disk twice and serve the same queries.",
        fix: "DROP INDEX CONCURRENTLY the redundant one (keep the one backing a constraint).",
    },
    Rule {
        id: "missing-primary-key",
        severity: Warning,
        scope: Advise,
        summary: "Table without a primary key",
        why: "Rows cannot be addressed reliably, logical replication cannot replicate UPDATE and DELETE, and duplicates creep in.",
        fix: "Add a primary key (CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX).",
    },
    Rule {
        id: "unused-index",
        severity: Info,
        scope: Advise,
        summary: "Index never used while statistics were collected",
        why: "An index no query uses still costs every write and takes disk and cache.",
        fix: "Check the statistics cover a representative period (and replicas), then DROP INDEX CONCURRENTLY.",
    },
    Rule {
        id: "security-definer-search-path",
        severity: Error,
        scope: Advise,
        summary: "SECURITY DEFINER function with a mutable search_path",
        why: "A SECURITY DEFINER function runs with its owner's privileges but resolves names through the caller's search_path: a caller who can create objects in a schema on that path can make it run their code as the owner.",
        fix: "ALTER FUNCTION ... SET search_path = pg_catalog, pg_temp (and schema-qualify names in the body).",
    },
    Rule {
        id: "extension-in-public",
        severity: Warning,
        scope: Advise,
        summary: "Extension installed in the public schema",
        why: "Extension objects in public mix with application objects, clash with their names, and are on every role's search_path (a classic privilege-escalation path).",
        fix: "Install extensions in a schema of their own: CREATE SCHEMA extensions; ALTER EXTENSION name SET SCHEMA extensions.",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Rule metadata for SARIF.
pub fn rule_infos(scope: Option<Scope>) -> Vec<RuleInfo> {
    RULES
        .iter()
        .filter(|r| match scope {
            Some(s) => s == r.scope,
            None => true,
        })
        .map(|r| RuleInfo {
            id: r.id.to_string(),
            severity: r.severity,
            summary: r.summary.to_string(),
            help: format!("{} {}", r.why, r.fix),
        })
        .collect()
}

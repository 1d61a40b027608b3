//! Locks, rewrites and scans: what a rule predicts a statement does to a table, and what the
//! replay saw it do (from `pg_locks`, `pg_class.relfilenode` and the transaction's own scan
//! counters, read in the statement's own transaction).

/// PostgreSQL's table lock modes, weakest first (the order of their numeric levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    /// From `pg_locks.mode` (`AccessExclusiveLock`).
    pub fn from_pg(mode: &str) -> Option<LockMode> {
        use LockMode::*;
        Some(match mode {
            "AccessShareLock" => AccessShare,
            "RowShareLock" => RowShare,
            "RowExclusiveLock" => RowExclusive,
            "ShareUpdateExclusiveLock" => ShareUpdateExclusive,
            "ShareLock" => Share,
            "ShareRowExclusiveLock" => ShareRowExclusive,
            "ExclusiveLock" => Exclusive,
            "AccessExclusiveLock" => AccessExclusive,
            _ => return None,
        })
    }

    /// As the documentation writes it (`ACCESS EXCLUSIVE`).
    pub fn name(self) -> &'static str {
        use LockMode::*;
        match self {
            AccessShare => "ACCESS SHARE",
            RowShare => "ROW SHARE",
            RowExclusive => "ROW EXCLUSIVE",
            ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Share => "SHARE",
            ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Exclusive => "EXCLUSIVE",
            AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Whether the lock makes INSERT, UPDATE and DELETE wait (it conflicts with ROW EXCLUSIVE).
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }
}

/// What a finding's rule expects its statement to do to a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Predicted {
    /// `None`: a table the statement does not name (DROP INDEX names the index).
    pub table: Option<crate::lint::TableRef>,
    pub lock: LockMode,
    /// The table is rewritten (new data file).
    pub rewrite: bool,
    /// The table is read in full.
    pub scan: bool,
    /// The finding's severity follows the table's size.
    pub scales: bool,
}

/// What the replay saw one statement do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    pub tables: Vec<ObservedTable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedTable {
    pub schema: String,
    pub name: String,
    /// The strongest lock the statement's transaction held on it.
    pub lock: LockMode,
    /// Its `relfilenode` changed.
    pub rewritten: bool,
    /// It was scanned (sequentially or through an index).
    pub scanned: bool,
    /// It existed before the statement.
    pub existed: bool,
}

impl Observation {
    /// The observed tables a prediction is about (any table when it names none).
    pub(crate) fn matching<'a>(
        &'a self,
        p: &'a Predicted,
    ) -> impl Iterator<Item = &'a ObservedTable> {
        self.tables.iter().filter(move |t| match &p.table {
            Some(table) => table.matches_qualified(&t.schema, &t.name),
            None => true,
        })
    }
}

/// What becomes of a finding given the observation of its statement.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Seen as predicted (or stronger): the evidence to append.
    Confirmed(String),
    /// Seen, but weaker than predicted, still harmful: the corrected evidence.
    Corrected(String),
    /// The observation contradicts the prediction: no finding.
    Contradicted,
}

pub(crate) fn judge(p: &Predicted, observed: &Observation) -> Verdict {
    let seen: Vec<&ObservedTable> = observed.matching(p).collect();
    let Some(strongest) = seen.iter().max_by_key(|t| t.lock) else {
        return Verdict::Contradicted;
    };
    let rewritten = seen.iter().any(|t| t.rewritten);
    let scanned = seen.iter().any(|t| t.scanned || t.rewritten);
    if (p.rewrite && !rewritten) || (p.scan && !scanned) {
        return Verdict::Contradicted;
    }
    if strongest.lock < p.lock && p.lock.blocks_writes() && !strongest.lock.blocks_writes() {
        return Verdict::Contradicted;
    }
    let mut text = format!(
        "{} lock on {}.{}",
        strongest.lock.name(),
        tenet_catalog::quote::ident(&strongest.schema),
        tenet_catalog::quote::ident(&strongest.name)
    );
    if rewritten {
        text.push_str(", table rewritten");
    } else if p.scan && scanned {
        text.push_str(", table scanned");
    }
    if strongest.lock < p.lock {
        Verdict::Corrected(format!(
            "observed in the replay: {text}, not {} as predicted",
            p.lock.name()
        ))
    } else {
        Verdict::Confirmed(format!("observed in the replay: {text}"))
    }
}

/// The evidence of a finding nothing observed.
pub(crate) fn predicted_text(p: &Predicted, table: Option<&str>) -> String {
    let mut text = format!("predicted: {} lock", p.lock.name());
    if let Some(table) = table {
        text.push_str(&format!(" on {table}"));
    }
    if p.rewrite {
        text.push_str(", table rewrite");
    } else if p.scan {
        text.push_str(", full table scan");
    }
    text
}

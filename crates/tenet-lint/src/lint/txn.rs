//! How a migration's statements run: which ones PostgreSQL refuses inside a transaction block,
//! which ones Tenet's migrator takes out of the file's transaction by itself, and the lock a
//! statement takes.
//!
//! Tenet's migrator (tenet-migrate's `segments.rs`) runs a file without `-- tenet:no-transaction`
//! in one transaction, except: CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM,
//! CREATE/DROP DATABASE, ALTER SYSTEM and tablespace statements run alone, and `ALTER TYPE ...
//! ADD VALUE` and `VALIDATE CONSTRAINT` each get a transaction of their own (so a validation
//! never runs under the lock its NOT VALID constraint took). Keep this module in step with it.

use pg_query::protobuf::{self, AlterTableType, ReindexObjectType};
use pg_query::NodeEnum;

use super::names::has_option;
use crate::observe::LockMode;

/// Where Tenet's migrator runs a statement of a file without the directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Segment {
    /// In the file's transaction.
    File,
    /// In a transaction of its own.
    Own,
}

pub(super) fn alter_table_segment(cmds: &[&protobuf::AlterTableCmd]) -> Segment {
    if cmds
        .iter()
        .any(|c| c.subtype == AlterTableType::AtValidateConstraint as i32)
    {
        Segment::Own
    } else {
        Segment::File
    }
}

/// A statement PostgreSQL refuses inside a transaction block: what to call it, and whether
/// Tenet's migrator runs it alone by itself (so only an explicit BEGIN around it fails).
pub(super) fn needs_no_transaction(node: &NodeEnum) -> Option<(&'static str, bool)> {
    Some(match node {
        NodeEnum::IndexStmt(s) if s.concurrent => ("CREATE INDEX CONCURRENTLY", true),
        NodeEnum::DropStmt(s) if s.concurrent => ("DROP INDEX CONCURRENTLY", true),
        NodeEnum::ReindexStmt(s) if has_option(&s.params, "concurrently") => {
            ("REINDEX CONCURRENTLY", true)
        }
        NodeEnum::ReindexStmt(s)
            if s.kind == ReindexObjectType::ReindexObjectSystem as i32
                || s.kind == ReindexObjectType::ReindexObjectDatabase as i32 =>
        {
            ("REINDEX SYSTEM/DATABASE", false)
        }
        NodeEnum::VacuumStmt(s) if s.is_vacuumcmd => ("VACUUM", true),
        NodeEnum::CreatedbStmt(_) => ("CREATE DATABASE", true),
        NodeEnum::DropdbStmt(_) => ("DROP DATABASE", true),
        NodeEnum::AlterSystemStmt(_) => ("ALTER SYSTEM", true),
        NodeEnum::CreateTableSpaceStmt(_) => ("CREATE TABLESPACE", true),
        NodeEnum::DropTableSpaceStmt(_) => ("DROP TABLESPACE", true),
        NodeEnum::ClusterStmt(s) if s.relation.is_none() => ("CLUSTER without a table", false),
        NodeEnum::DiscardStmt(s) if s.target == protobuf::DiscardMode::DiscardAll as i32 => {
            ("DISCARD ALL", false)
        }
        NodeEnum::CreateSubscriptionStmt(s) if creates_slot(&s.options) => {
            ("CREATE SUBSCRIPTION (creating its replication slot)", false)
        }
        NodeEnum::AlterTableStmt(s) if detaches_concurrently(s) => {
            ("DETACH PARTITION CONCURRENTLY", false)
        }
        _ => return None,
    })
}

fn creates_slot(options: &[protobuf::Node]) -> bool {
    !options.iter().any(|o| match &o.node {
        Some(NodeEnum::DefElem(d)) if d.defname == "create_slot" || d.defname == "connect" => {
            match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                Some(NodeEnum::Boolean(b)) => !b.boolval,
                Some(NodeEnum::String(s)) => matches!(s.sval.as_str(), "false" | "off"),
                _ => false,
            }
        }
        _ => false,
    })
}

pub(super) fn detaches_concurrently(s: &protobuf::AlterTableStmt) -> bool {
    s.cmds.iter().any(|c| match &c.node {
        Some(NodeEnum::AlterTableCmd(cmd)) => {
            cmd.subtype == AlterTableType::AtDetachPartition as i32
                && matches!(cmd.def.as_deref().and_then(|d| d.node.as_ref()),
                    Some(NodeEnum::PartitionCmd(p)) if p.concurrent)
        }
        _ => false,
    })
}

/// The lock an ALTER TABLE subcommand takes on its table (PostgreSQL's AlterTableGetLockLevel).
pub(super) fn alter_table_lock(cmd: &protobuf::AlterTableCmd) -> LockMode {
    use AlterTableType::*;
    let sub = AlterTableType::try_from(cmd.subtype).unwrap_or(Undefined);
    match sub {
        AtValidateConstraint | AtSetStatistics | AtClusterOn | AtDropCluster | AtSetOptions
        | AtResetOptions | AtAttachPartition => LockMode::ShareUpdateExclusive,
        AtDetachPartition => {
            let concurrent = matches!(cmd.def.as_deref().and_then(|d| d.node.as_ref()),
                Some(NodeEnum::PartitionCmd(p)) if p.concurrent);
            if concurrent {
                LockMode::ShareUpdateExclusive
            } else {
                LockMode::AccessExclusive
            }
        }
        AtAddConstraint => match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::Constraint(c))
                if c.contype == protobuf::ConstrType::ConstrForeign as i32 =>
            {
                LockMode::ShareRowExclusive
            }
            _ => LockMode::AccessExclusive,
        },
        AtEnableTrig | AtEnableAlwaysTrig | AtEnableReplicaTrig | AtEnableTrigAll
        | AtEnableTrigUser | AtDisableTrig | AtDisableTrigAll | AtDisableTrigUser => {
            LockMode::ShareRowExclusive
        }
        _ => LockMode::AccessExclusive,
    }
}

/// `LOCK TABLE ... IN <mode> MODE` (pg_query gives the numeric level, 1..=8).
pub(super) fn lock_statement_mode(mode: i32) -> LockMode {
    use LockMode::*;
    match mode {
        1 => AccessShare,
        2 => RowShare,
        3 => RowExclusive,
        4 => ShareUpdateExclusive,
        5 => Share,
        6 => ShareRowExclusive,
        7 => Exclusive,
        _ => AccessExclusive,
    }
}

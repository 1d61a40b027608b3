//! The lint rules, one file per rule with its failing and passing cases. This module routes
//! the statements that several rules look at (CREATE TABLE, ALTER TABLE, DROP, RENAME,
//! transaction control) to them.

pub(super) mod commit_in_do_block;
pub(super) mod constraint_without_not_valid;
pub(super) mod drop_column;
pub(super) mod drop_table;
pub(super) mod index_not_concurrent;
pub(super) mod missing_lock_timeout;
pub(super) mod needs_no_transaction;
pub(super) mod nested_transaction;
pub(super) mod new_table_without_rls;
pub(super) mod no_char;
pub(super) mod not_null_without_default;
pub(super) mod prefer_bigint;
pub(super) mod prefer_identity;
pub(super) mod prefer_text;
pub(super) mod prefer_timestamptz;
pub(super) mod rename_column;
pub(super) mod rename_table;
pub(super) mod set_not_null_without_check;
pub(super) mod syntax_error;
pub(super) mod table_rewrite;
pub(super) mod truncate_table;
pub(super) mod type_change_rewrite;
pub(super) mod unclosed_transaction;
pub(super) mod unique_without_index;
pub(super) mod validate_in_same_transaction;
pub(super) mod volatile_default_rewrite;

use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType, TransactionStmtKind};
use pg_query::NodeEnum;

use super::names::{col_constraints, is_not_null_test, list_items, string_value, TableRef};
use super::{txn, Ctx, Run};
use crate::observe::LockMode;

pub(super) fn create_table(ctx: &mut Ctx, s: &protobuf::CreateStmt) {
    let Some(rel) = &s.relation else { return };
    ctx.new_table(rel, s.if_not_exists);
    let t = TableRef::from_range_var(rel);
    // Primary key columns declared at table level.
    let mut key_columns: Vec<String> = Vec::new();
    for elt in &s.table_elts {
        if let Some(NodeEnum::Constraint(c)) = &elt.node {
            if c.contype == ConstrType::ConstrPrimary as i32 {
                key_columns.extend(c.keys.iter().filter_map(string_value).map(String::from));
            }
        }
    }
    let mut foreign: Vec<String> = Vec::new();
    for elt in &s.table_elts {
        if let Some(NodeEnum::Constraint(c)) = &elt.node {
            if c.contype == ConstrType::ConstrForeign as i32 {
                foreign.extend(c.fk_attrs.iter().filter_map(string_value).map(String::from));
            }
        }
    }
    for column in &foreign {
        ctx.state.foreign_columns.push((t.clone(), column.clone()));
    }
    for elt in &s.table_elts {
        if let Some(NodeEnum::ColumnDef(col)) = &elt.node {
            let inline_key =
                col_constraints(col).any(|c| c.contype == ConstrType::ConstrPrimary as i32);
            let references = foreign.contains(&col.colname)
                || col_constraints(col).any(|c| c.contype == ConstrType::ConstrForeign as i32);
            if references {
                ctx.state
                    .foreign_columns
                    .push((t.clone(), col.colname.clone()));
            }
            let key = (inline_key || key_columns.contains(&col.colname)) && !references;
            column_types(ctx, &t, col, key);
            if let Some(ty) = &col.type_name {
                let span = ctx.type_span(ctx.at(ty.location));
                let name = super::names::type_name(ty).to_string();
                ctx.state.columns.push(super::DeclaredColumn {
                    table: t.clone(),
                    column: col.colname.clone(),
                    type_name: name,
                    span,
                    stmt: ctx.stmt,
                });
            }
        }
    }
}

/// The type rules (prefer-*, no-char) for a column definition; `key`: the column is (part of)
/// a primary key or an identity, and not a foreign key.
pub(super) fn column_types(ctx: &mut Ctx, t: &TableRef, col: &protobuf::ColumnDef, key: bool) {
    let Some(ty) = &col.type_name else { return };
    let identity = !col.identity.is_empty()
        || col_constraints(col).any(|c| c.contype == ConstrType::ConstrIdentity as i32);
    type_rules(ctx, t, &col.colname, ty, key || identity);
}

pub(super) fn type_rules(
    ctx: &mut Ctx,
    t: &TableRef,
    column: &str,
    ty: &protobuf::TypeName,
    key: bool,
) {
    let span = ctx.type_span(ctx.at(ty.location));
    let column_name = column;
    let column = format!("{}.{}", ctx.qualified(t), super::names::quote(column));
    prefer_identity::check(ctx, ty, span, &column);
    if key {
        prefer_bigint::candidate(ctx, ty, span, t, column_name);
    }
    prefer_timestamptz::check(ctx, ty, span, &column);
    prefer_text::check(ctx, ty, span, &column);
    no_char::check(ctx, ty, span, &column);
}

pub(super) fn drop(ctx: &mut Ctx, s: &protobuf::DropStmt) -> Run {
    if s.remove_type == ObjectType::ObjectIndex as i32 {
        if s.concurrent {
            needs_no_transaction::check(ctx, "DROP INDEX CONCURRENTLY", true);
            return Run::Alone;
        }
        index_not_concurrent::drop_index(ctx, s);
        Run::Observe
    } else if s.remove_type == ObjectType::ObjectTable as i32 {
        for items in s.objects.iter().filter_map(list_items) {
            if let Some(t) = TableRef::from_names(items) {
                drop_table::check(ctx, &t);
            }
        }
        Run::Observe
    } else {
        Run::Batch
    }
}

pub(super) fn rename(ctx: &mut Ctx, s: &protobuf::RenameStmt) -> Run {
    let Some(rel) = &s.relation else {
        return Run::Batch;
    };
    let t = TableRef::from_range_var(rel);
    let table_rename = s.rename_type == ObjectType::ObjectTable as i32;
    let column_rename = s.rename_type == ObjectType::ObjectColumn as i32
        && s.relation_type == ObjectType::ObjectTable as i32;
    if !table_rename && !column_rename {
        return Run::Batch;
    }
    ctx.takes_lock(&t, LockMode::AccessExclusive);
    if ctx.is_new(&t) {
        if table_rename {
            ctx.state.created.push(TableRef {
                schema: t.schema.clone(),
                name: s.newname.clone(),
            });
        }
        return Run::Observe;
    }
    if table_rename {
        rename_table::check(ctx, &t, s);
    } else {
        rename_column::check(ctx, &t, s);
    }
    Run::Observe
}

pub(super) fn transaction(ctx: &mut Ctx, s: &protobuf::TransactionStmt) {
    let kind = s.kind;
    let span = ctx.token_at(ctx.view.code.0);
    if kind == TransactionStmtKind::TransStmtBegin as i32
        || kind == TransactionStmtKind::TransStmtStart as i32
    {
        if ctx.state.transaction.is_some() {
            nested_transaction::begin_inside(ctx, span);
        } else {
            ctx.state.transaction_serial += 1;
            ctx.state.transaction = Some((ctx.stmt, span));
        }
    } else if kind == TransactionStmtKind::TransStmtCommit as i32
        || kind == TransactionStmtKind::TransStmtRollback as i32
        || kind == TransactionStmtKind::TransStmtPrepare as i32
    {
        if ctx.state.transaction.is_none() {
            nested_transaction::end_outside(ctx, span);
        } else if !s.chain {
            ctx.state.transaction = None;
        }
        // Whatever it ended, what follows runs in another transaction.
        ctx.state.transaction_serial += 1;
    }
}

pub(super) fn alter_table(ctx: &mut Ctx, s: &protobuf::AlterTableStmt) -> Run {
    if s.objtype != ObjectType::ObjectTable as i32 {
        return Run::Batch;
    }
    let Some(rel) = &s.relation else {
        return Run::Batch;
    };
    if txn::detaches_concurrently(s) {
        needs_no_transaction::check(ctx, "DETACH PARTITION CONCURRENTLY", false);
        return Run::Alone;
    }
    let t = TableRef::from_range_var(rel);
    let new = ctx.is_new(&t);
    let cmds: Vec<&protobuf::AlterTableCmd> = s
        .cmds
        .iter()
        .filter_map(|c| match &c.node {
            Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
            _ => None,
        })
        .collect();
    let segment = txn::alter_table_segment(&cmds);
    let lock = cmds
        .iter()
        .map(|c| txn::alter_table_lock(c))
        .max()
        .unwrap_or(LockMode::AccessExclusive);
    if lock > LockMode::ShareUpdateExclusive {
        ctx.takes_lock(&t, lock);
    }
    for cmd in cmds {
        alter_table_cmd(ctx, &t, new, cmd, segment);
    }
    Run::Observe
}

fn alter_table_cmd(
    ctx: &mut Ctx,
    t: &TableRef,
    new: bool,
    cmd: &protobuf::AlterTableCmd,
    segment: txn::Segment,
) {
    let sub = cmd.subtype;
    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
    if sub == AlterTableType::AtAddColumn as i32 {
        if let Some(NodeEnum::ColumnDef(col)) = def {
            add_column(ctx, t, new, col);
        }
    } else if sub == AlterTableType::AtAddConstraint as i32 {
        if let Some(NodeEnum::Constraint(c)) = def {
            add_constraint(ctx, t, new, c, segment);
        }
    } else if sub == AlterTableType::AtValidateConstraint as i32 {
        if let Some(check) = ctx.state.pending_checks.remove(&cmd.name) {
            ctx.state.checked_not_null.push(check);
        }
        validate_in_same_transaction::validate(ctx, t, &cmd.name, segment);
    } else if sub == AlterTableType::AtSetNotNull as i32 {
        set_not_null_without_check::check(ctx, t, new, &cmd.name);
    } else if sub == AlterTableType::AtAlterColumnType as i32 {
        if let Some(NodeEnum::ColumnDef(col)) = def {
            if let Some(ty) = &col.type_name {
                type_rules(ctx, t, &cmd.name, ty, false);
            }
            if !new {
                type_change_rewrite::check(ctx, t, &cmd.name, col);
            }
        }
    } else if sub == AlterTableType::AtDropColumn as i32 {
        drop_column::check(ctx, t, new, &cmd.name);
    } else if sub == AlterTableType::AtEnableRowSecurity as i32 {
        ctx.state.rls_enabled.push(t.clone());
    }
}

fn add_column(ctx: &mut Ctx, t: &TableRef, new: bool, col: &protobuf::ColumnDef) {
    let references = col_constraints(col).any(|c| c.contype == ConstrType::ConstrForeign as i32);
    if references {
        ctx.state
            .foreign_columns
            .push((t.clone(), col.colname.clone()));
    }
    let key =
        col_constraints(col).any(|c| c.contype == ConstrType::ConstrPrimary as i32) && !references;
    column_types(ctx, t, col, key);
    if new {
        return;
    }
    let rewrote = volatile_default_rewrite::check(ctx, t, col);
    if !rewrote {
        not_null_without_default::check(ctx, t, col);
    }
    for c in col_constraints(col) {
        let kind = c.contype;
        if kind == ConstrType::ConstrForeign as i32 || kind == ConstrType::ConstrCheck as i32 {
            constraint_without_not_valid::with_column(ctx, t, col, c);
        } else if kind == ConstrType::ConstrPrimary as i32
            || kind == ConstrType::ConstrUnique as i32
        {
            unique_without_index::with_column(ctx, t, col, c);
        }
    }
}

fn add_constraint(
    ctx: &mut Ctx,
    t: &TableRef,
    new: bool,
    c: &protobuf::Constraint,
    segment: txn::Segment,
) {
    let kind = c.contype;
    if kind == ConstrType::ConstrCheck as i32 {
        if let Some(column) = c.raw_expr.as_deref().and_then(is_not_null_test) {
            let entry = (t.clone(), column);
            if c.skip_validation {
                ctx.state.pending_checks.insert(c.conname.clone(), entry);
            } else {
                ctx.state.checked_not_null.push(entry);
            }
        }
    }
    if kind == ConstrType::ConstrPrimary as i32 {
        prefer_bigint::primary_key(ctx, t, c);
    }
    if kind == ConstrType::ConstrForeign as i32 {
        for column in c.fk_attrs.iter().filter_map(string_value) {
            ctx.state
                .foreign_columns
                .push((t.clone(), column.to_string()));
        }
    }
    if c.skip_validation && !c.conname.is_empty() {
        let transaction = ctx.transaction_id(segment);
        ctx.state
            .not_valid
            .insert(c.conname.clone(), (t.clone(), transaction));
    }
    if new {
        return;
    }
    if (kind == ConstrType::ConstrForeign as i32 || kind == ConstrType::ConstrCheck as i32)
        && !c.skip_validation
    {
        constraint_without_not_valid::check(ctx, t, c);
    } else if (kind == ConstrType::ConstrPrimary as i32 || kind == ConstrType::ConstrUnique as i32)
        && c.indexname.is_empty()
    {
        unique_without_index::check(ctx, t, c);
    }
}

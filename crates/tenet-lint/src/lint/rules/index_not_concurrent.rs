//! `index-not-concurrent`: CREATE INDEX, DROP INDEX or REINDEX without CONCURRENTLY on a table
//! in use.

use pg_query::protobuf;

use super::needs_no_transaction;
use crate::lint::names::{has_option, list_items, quote, TableRef};
use crate::lint::{predict, Ctx, Run};
use crate::observe::{LockMode, Predicted};

pub(in crate::lint) fn create_index(ctx: &mut Ctx, s: &protobuf::IndexStmt) -> Run {
    let Some(rel) = &s.relation else {
        return Run::Batch;
    };
    let t = TableRef::from_range_var(rel);
    if !s.idxname.is_empty() {
        ctx.state.created_indexes.push(s.idxname.clone());
    }
    if s.concurrent {
        needs_no_transaction::check(ctx, "CREATE INDEX CONCURRENTLY", true);
        return Run::Alone;
    }
    ctx.takes_lock(&t, LockMode::Share);
    if ctx.is_new(&t) {
        return Run::Observe;
    }
    let span = ctx.head_through("index");
    let name = ctx.qualified(&t);
    let partitioned = ctx
        .facts
        .and_then(|f| f.table(t.schema.as_deref(), &t.name))
        .is_some_and(|f| f.partitioned);
    let fix = if partitioned {
        format!(
            "{name} is partitioned, where CONCURRENTLY is not supported: CREATE INDEX ... ON ONLY {name} (instant, invalid), CREATE INDEX CONCURRENTLY on each partition, then ALTER INDEX ... ATTACH PARTITION each one."
        )
    } else {
        format!(
            "CREATE {}INDEX CONCURRENTLY ... ON {name}, in a migration of its own that does not run in a transaction.",
            if s.unique { "UNIQUE " } else { "" }
        )
    };
    ctx.report_effect(
        "index-not-concurrent",
        span,
        ctx.object(&t),
        format!("CREATE INDEX on {name} without CONCURRENTLY blocks writes to it while the index builds"),
        Some(fix),
        Some(predict(&t, LockMode::Share)),
    );
    Run::Observe
}

pub(in crate::lint) fn drop_index(ctx: &mut Ctx, s: &protobuf::DropStmt) {
    let names: Vec<String> = s
        .objects
        .iter()
        .filter_map(list_items)
        .filter_map(TableRef::from_names)
        .map(|r| r.name)
        .collect();
    // Indexes created in this file are on new tables or already reported.
    if names.iter().all(|n| ctx.state.created_indexes.contains(n)) {
        return;
    }
    let span = ctx.head_through("index");
    ctx.report_effect(
        "index-not-concurrent",
        span,
        names.first().map(|n| format!("index {}", quote(n))),
        format!(
            "DROP INDEX {} without CONCURRENTLY blocks reads and writes on its table",
            names.join(", ")
        ),
        Some(
            "DROP INDEX CONCURRENTLY, in a migration of its own that does not run in a transaction."
                .to_string(),
        ),
        Some(Predicted {
            table: None,
            lock: LockMode::AccessExclusive,
            rewrite: false,
            scan: false,
            scales: false,
        }),
    );
    super::missing_lock_timeout::drop_index(ctx);
}

pub(in crate::lint) fn reindex(ctx: &mut Ctx, s: &protobuf::ReindexStmt) -> Run {
    if has_option(&s.params, "concurrently") {
        needs_no_transaction::check(ctx, "REINDEX CONCURRENTLY", true);
        return Run::Alone;
    }
    if let Some((what, alone)) =
        crate::lint::txn::needs_no_transaction(&pg_query::NodeEnum::ReindexStmt(s.clone()))
    {
        needs_no_transaction::check(ctx, what, alone);
        return Run::Alone;
    }
    let table = s.kind == protobuf::ReindexObjectType::ReindexObjectTable as i32;
    let mut predicted_table = None;
    if let Some(rel) = &s.relation {
        let t = TableRef::from_range_var(rel);
        if (table && ctx.is_new(&t)) || (!table && ctx.state.created_indexes.contains(&t.name)) {
            return Run::Observe;
        }
        if table {
            predicted_table = Some(t);
        }
    }
    let span = ctx.head_through("reindex");
    ctx.report_effect(
        "index-not-concurrent",
        span,
        None,
        "REINDEX without CONCURRENTLY blocks writes (and reads through the index) while it rebuilds"
            .to_string(),
        Some("REINDEX ... CONCURRENTLY, outside a transaction.".to_string()),
        Some(Predicted {
            table: predicted_table,
            lock: LockMode::Share,
            rewrite: false,
            scan: false,
            scales: true,
        }),
    );
    Run::Observe
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        let sql = "SET lock_timeout = '2s';\n\nCREATE INDEX users_email ON users (email);\n";
        let f = fires(sql, "index-not-concurrent", 3, 1);
        assert_eq!(underlined(sql, &f), "CREATE INDEX");
        assert!(f.fix.contains("CONCURRENTLY"), "{}", f.fix);
        assert!(
            f.message
                .ends_with("(predicted: SHARE lock on public.users)"),
            "{}",
            f.message
        );
        let sql = "SET lock_timeout = '2s';\ncreate unique index u on users (email);";
        assert_eq!(
            underlined(sql, &fires(sql, "index-not-concurrent", 2, 1)),
            "create unique index"
        );
        let sql = "SET lock_timeout = '2s';\nDROP INDEX users_email;";
        assert_eq!(
            underlined(sql, &fires(sql, "index-not-concurrent", 2, 1)),
            "DROP INDEX"
        );
        fires("REINDEX TABLE users;", "index-not-concurrent", 1, 1);
    }

    #[test]
    fn passes() {
        silent(
            "CREATE INDEX CONCURRENTLY users_email ON users (email);",
            "index-not-concurrent",
        );
        silent(
            "DROP INDEX CONCURRENTLY users_email;",
            "index-not-concurrent",
        );
        silent("REINDEX TABLE CONCURRENTLY users;", "index-not-concurrent");
        // A table created in the same migration is not in use yet: no false positive.
        silent(
            "CREATE TABLE t (id bigint PRIMARY KEY, x text);\nCREATE INDEX t_x ON t (x);\nDROP INDEX t_x;",
            "index-not-concurrent",
        );
    }
}

//! `table-rewrite`: the replay saw a statement give an existing table a new data file, and no
//! other finding of the statement says so (CLUSTER, VACUUM FULL, SET LOGGED, a type change the
//! static rules judged binary compatible...). Only reported from an observation. Its failing
//! and passing cases run on a real server: `tests/observed.rs`.

use crate::lint::names::TableRef;
use crate::lint::Ctx;
use crate::observe::Observation;

pub(in crate::lint) fn observed(ctx: &mut Ctx, observed: &Observation) {
    for t in observed.tables.iter().filter(|t| t.rewritten && t.existed) {
        let table = TableRef {
            schema: Some(t.schema.clone()),
            name: t.name.clone(),
        };
        if ctx.is_new(&table) {
            continue;
        }
        let name = ctx.qualified(&table);
        let size = ctx
            .facts
            .and_then(|f| f.table(Some(&t.schema), &t.name))
            .and_then(|f| f.size);
        let mut message = format!(
            "this statement rewrote {name} (observed in the replay: {} lock on {name}, table rewritten",
            t.lock.name()
        );
        let mut severity = None;
        if let Some(size) = size {
            message.push_str(&format!("; {name} has {}", size.describe()));
            severity = Some(ctx.options.sizes.severity(size.rows_or_estimate()));
        }
        message.push(')');
        let span = ctx.first_line();
        ctx.report("table-rewrite", span, ctx.object(&table), message, None);
        if let (Some(severity), Some(p)) = (severity, ctx.pending.last_mut()) {
            p.finding.severity = severity;
        }
    }
    // Reported while settling: move them to the settled findings.
    let pending = std::mem::take(&mut ctx.pending);
    ctx.done
        .extend(pending.into_iter().map(|p| (p.stmt, p.finding)));
}

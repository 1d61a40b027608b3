//! Event triggers: dropped first (they would fire on the plan's own DDL, and their function
//! may be about to change), created last.

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;
use tenet_catalog::render;

use crate::plan::Step;

fn key(e: &EventTrigger) -> String {
    format!("event trigger {}", e.name)
}

/// Whether `old` stays as it is in `to` (a comment or owner change included: those are cheap
/// to restate, and keeping one path keeps the plan simple).
fn stays(old: &EventTrigger, to: &Catalog) -> bool {
    to.event_triggers.iter().any(|e| e == old)
}

/// Drops of event triggers that go or change, before anything else.
pub(crate) fn early_steps(from: &Catalog, to: &Catalog) -> Vec<Step> {
    from.event_triggers
        .iter()
        .filter(|e| !stays(e, to))
        .map(|e| Step::new(key(e), format!("DROP EVENT TRIGGER {};", ident(&e.name))))
        .collect()
}

/// Creates of event triggers that are new or changed, after everything else.
pub(crate) fn late_steps(from: &Catalog, to: &Catalog) -> Vec<Step> {
    to.event_triggers
        .iter()
        .filter(|e| !stays(e, from))
        .map(|e| Step::new(key(e), render::event_trigger_sql(e)))
        .collect()
}

//! Event triggers (`pg_event_trigger`).

use crate::model::EventTrigger;
use crate::Error;

use super::{parse_all, Rows};

/// One row per event trigger not created by an extension, `(oid, json)` shaped like
/// [`EventTrigger`].
pub const EVENT_TRIGGERS: &str = concat!(
    "select e.oid, json_build_object('name', e.evtname, 'owner', pg_get_userbyid(e.evtowner), ",
    "'event', e.evtevent, 'tags', coalesce(array_to_json(e.evttags), '[]'), ",
    "'function', quote_ident(n.nspname) || '.' || quote_ident(p.proname), ",
    "'enabled', case e.evtenabled when 'D' then 'disabled' when 'R' then 'replica' ",
    "when 'A' then 'always' else 'origin' end, 'comment', ",
    description!("pg_event_trigger", "e.oid"),
    ")::text from pg_event_trigger e join pg_proc p on p.oid = e.evtfoid ",
    "join pg_namespace n on n.oid = p.pronamespace where ",
    not_extension_member!("pg_event_trigger", "e.oid")
);

/// The event triggers sorted by name (tags keep the order they were written in, which
/// pg_dump shows).
pub fn read(rows: Rows) -> Result<Vec<EventTrigger>, Error> {
    let mut triggers: Vec<EventTrigger> = parse_all::<EventTrigger>(rows)?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    triggers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(triggers)
}

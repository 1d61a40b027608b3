//! Diff two catalogs into a plan: the ordered, hazard-annotated SQL that turns the first into
//! the second.
//!
//! The plan runs in phases, each in dependency order where it matters:
//! 0. renames hinted in the target (`-- tenet:renamed-from`),
//! 1. drop rules, view triggers and extended statistics that change or whose objects change
//!    under them; drop views and functions that must be recreated (dependents first); drop
//!    publications that go, and their entries for tables that change under them,
//!    then foreign tables, user mappings and servers that go,
//! 2. create schemas, extensions, roles and collations; create and change text search
//!    dictionaries and configurations; foreign servers and user mappings,
//! 3. change sequences and types in place (enum values, domain and composite changes),
//! 4. release sequences whose owner goes; drop constraints, indexes, triggers and policies that
//!    change or go away (and those in the way of a dropped or retyped column), then tables
//!    whose names something new takes,
//! 5. create and alter types, functions, tables, foreign tables and views, each after what it
//!    needs,
//! 6. add partitions' own indexes, then constraints, indexes, foreign keys, triggers and
//!    policies (online forms on existing tables); rules and view triggers; extended
//!    statistics; replica identities; create and alter publications; default privileges,
//! 7. drop what is gone (tables, sequences, functions, types, ..., text search
//!    configurations and dictionaries, schemas last),
//! 8. comments, owners and privileges; event triggers (dropped first of all, created last:
//!    they would fire on the plan's own DDL).
//!
//! A plan is correct when applying it to a database whose catalog is `from` yields a database
//! whose catalog is `to`; that property is what the tests check.

mod canon;
mod casts;
mod default_privileges;
mod diff;
mod event_triggers;
mod foreign_data;
mod names;
mod operators;
mod partitions;
mod plan;
mod publications;
mod renames;
mod rules;
mod sequences;
mod statistics;
mod table;
mod text_search;

pub use casts::Retype;
pub use diff::{plan, Options, PlanError};
pub use plan::{Hazard, Lock, Plan, Step, LOCK_TIMEOUT, SESSION_SETTINGS};

//! Diff two catalogs into a plan: the ordered, hazard-annotated SQL that turns the first into
//! the second.
//!
//! The plan runs in phases, each in dependency order where it matters:
//! 1. drop views and functions that must be recreated (dependents first),
//! 2. create schemas, extensions, roles and collations,
//! 3. change sequences and types in place (enum values, domain and composite changes),
//! 4. drop constraints, indexes, triggers and policies that change or go away,
//! 5. create and alter types, functions, tables and views, each after what it needs,
//! 6. add constraints, indexes, foreign keys, triggers and policies (online forms on existing
//!    tables),
//! 7. drop what is gone (tables, sequences, functions, types, ..., schemas last),
//! 8. comments, owners and privileges.
//!
//! A plan is correct when applying it to a database whose catalog is `from` yields a database
//! whose catalog is `to`; that property is what the tests check.

mod diff;
mod plan;
mod table;

pub use diff::{plan, Options, PlanError};
pub use plan::{Hazard, Lock, Plan, Step, LOCK_TIMEOUT, SESSION_SETTINGS};

//! The catalog model in the middle of Tenet, and the ways in and out of it:
//! [`inspect`] reads a live database, [`source`] turns SQL files into a database to inspect,
//! [`render`] writes a catalog back out as SQL DDL.

pub mod cache;
mod error;
pub mod exclude;
mod gate;
pub mod hints;
pub mod inspect;
pub mod migrations;
pub mod model;
pub mod quote;
pub mod render;
pub mod source;
pub mod statements;

pub use error::{Error, SqlError};
pub use inspect::{
    compare_definitions, inspect, inspect_parallel, inspect_schema, DefinitionCheck,
};
pub use model::*;

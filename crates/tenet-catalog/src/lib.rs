//! The catalog model in the middle of Tenet, and the ways in and out of it:
//! [`inspect`] reads a live database, [`source`] turns SQL files into a database to inspect,
//! [`render`] writes a catalog back out as SQL DDL.

mod error;
pub mod inspect;
pub mod model;
pub mod quote;
pub mod render;
pub mod source;

pub use error::{Error, SqlError};
pub use inspect::{inspect, inspect_parallel};
pub use model::*;

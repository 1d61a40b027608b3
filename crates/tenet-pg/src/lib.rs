//! Reaching PostgreSQL: connection settings, specific errors, scratch databases and the embedded
//! throwaway cluster.
//!
//! - [`Server::resolve`] picks the first configured URL, else starts the embedded cluster.
//! - [`Server::scratch`] hands out databases with unique names that are always dropped.
//! - [`Server::sandbox`] is a scratch database for untrusted SQL: a session authenticated as a
//!   fresh unprivileged role, a privileged one beside it, a deadline on every round trip.
//! - [`PgError`] messages are one line and never contain a password ([`redact`]).
//! - Cleanup (embedded cluster, scratch databases) also runs on Ctrl-C/SIGTERM (exit 130), at
//!   process exit, and when [`run_cleanup`] is called; call it before `std::process::exit`.

mod cleanup;
mod conninfo;
mod embedded;
mod error;
mod lazy;
mod pgpass;
mod redact;
mod sandbox;
mod scratch;
mod server;
mod settings;
mod template;
mod tls;
mod urls;

pub use cleanup::{interrupt_gracefully, run_cleanup};
pub use conninfo::{is_connection_string, LibpqEnv};
pub use error::PgError;
pub use lazy::LazyServer;
pub use redact::redact;
pub use sandbox::{RoleOutcome, Sandbox, DEFAULT_STATEMENT_TIMEOUT, EVENT_TRIGGER, PUBLICATION};
pub use scratch::ScratchDb;
pub use server::{Server, DEFAULT_CONNECT_TIMEOUT};

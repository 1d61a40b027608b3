//! One module per subcommand.

pub mod advise;
pub mod inspect;
pub mod lint;
pub mod mcp;
pub mod plan;
pub mod prove;
pub mod tenancy;

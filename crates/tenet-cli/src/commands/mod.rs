//! One module per subcommand.

pub mod advise;
pub mod check;
pub mod decisions;
pub mod demo;
pub mod docs;
pub mod gen;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod mcp;
pub mod migrate;
pub mod plan;
pub mod prove;
pub mod tenancy;

/// Print a command's output. A closed pipe (`tenet inspect | head`) is not an error worth
/// reporting.
pub fn print(text: &str) -> Result<(), crate::failure::Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

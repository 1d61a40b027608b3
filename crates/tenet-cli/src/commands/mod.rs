//! One module per subcommand.

pub mod advise;
pub mod check;
pub mod decisions;
pub mod demo;
pub mod docs;
pub mod fleet;
pub mod gen;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod mcp;
pub mod migrate;
pub mod plan;
pub mod prove;
pub mod tenancy;

/// `--format` of commands that report what they did: a line for a person (on standard error;
/// standard output stays the command's product), or one JSON object on standard output.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Print one JSON value on standard output.
pub fn print_json(value: &serde_json::Value) -> Result<(), crate::failure::Failure> {
    print(&format!("{value:#}\n"))
}

/// Run a command; in JSON mode a failure is also a JSON object on standard output (as `migrate
/// --format json` does), so a pipeline reading it sees why.
pub fn reporting(
    format: ReportFormat,
    run: impl FnOnce() -> Result<i32, crate::failure::Failure>,
) -> Result<i32, crate::failure::Failure> {
    run().inspect_err(|failure| {
        if format == ReportFormat::Json {
            let json = serde_json::json!({
                "error": { "code": failure.code, "message": failure.message }
            });
            println!("{json}");
        }
    })
}

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

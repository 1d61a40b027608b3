//! `tenet plan`: the SQL that turns one schema into another, with its locks and hazards.

use tenet_diff::Options;

use crate::failure::Failure;
use crate::source::{ScratchServer, Source};
use crate::ServerArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Where the schema is now: a postgres:// URL, a .sql file or directory, or a migrations
    /// directory (its .up.sql files replayed in order).
    #[arg(long)]
    pub from: String,
    /// What it should become, in the same forms.
    #[arg(long)]
    pub to: String,
    /// Print the reverse plan, from --to back to --from.
    #[arg(long)]
    pub down: bool,
    /// Accept steps that lose data: dropped tables or columns, narrowing type changes.
    #[arg(long)]
    pub allow_destructive: bool,
    #[arg(long, value_enum, default_value_t = Format::Sql)]
    pub format: Format,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum Format {
    Sql,
    Json,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let scratch = ScratchServer::new(&args.servers);
    let started = std::time::Instant::now();
    // Both sides are read at once: the work is on the server(s), which have cores to spare.
    let (from, to) = std::thread::scope(|threads| {
        let scratch = &scratch;
        let read = move |text: &str| {
            let source = Source::parse(text);
            let mut catalog = source.catalog(scratch)?;
            source.read_renames(&mut catalog)?;
            Ok::<_, Failure>(catalog)
        };
        let from = threads.spawn(move || read(&args.from));
        let to = read(&args.to);
        (from.join().expect("reading --from panicked"), to)
    });
    let (from, to) = (from?, to?);
    tracing::debug!("read both sides in {:?}", started.elapsed());
    let (from, to) = if args.down { (to, from) } else { (from, to) };
    let options = Options {
        allow_destructive: args.allow_destructive,
    };
    let plan = tenet_diff::plan(&from, &to, &options).map_err(|e| Failure {
        code: 1,
        message: e.to_string(),
    })?;
    tracing::debug!("planned in {:?}", started.elapsed());
    let text = match args.format {
        Format::Sql => plan.to_sql(),
        Format::Json => plan.to_json(),
    };
    super::print(&text)?;
    Ok(0)
}

//! Print a generated multi-tenant schema as SQL (the one the benchmarks load).
//!
//! ```sh
//! gen-schema --tables 2000 > schema.sql
//! gen-schema --tables 2000 --mutate 5 > changed.sql   # the same schema with ~5% of objects changed
//! ```

use clap::Parser;

#[derive(Parser)]
#[command(about = "Print a generated multi-tenant schema as SQL.")]
struct Args {
    /// Number of tenant tables.
    #[arg(long, default_value_t = tenet_bench::DEFAULT_TABLES)]
    tables: usize,
    /// Seed of the generator: the same seed gives the same schema.
    #[arg(long, default_value_t = tenet_bench::DEFAULT_SEED)]
    seed: u64,
    /// Print a copy with about this percentage of the objects changed instead; the changes
    /// are listed on stderr.
    #[arg(long)]
    mutate: Option<f64>,
}

fn main() {
    let args = Args::parse();
    let mut schema = tenet_bench::Schema::generate(args.tables, args.seed);
    if let Some(percent) = args.mutate {
        let (changed, changes) = schema.mutate(percent, args.seed);
        for change in &changes {
            eprintln!("{change}");
        }
        eprintln!("{} changes", changes.len());
        schema = changed;
    }
    print!("{}", schema.to_sql());
}

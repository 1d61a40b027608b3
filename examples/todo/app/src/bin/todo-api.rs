//! Serve the Todo API.
//!
//! ```sh
//! todo-api --url postgresql://todo_app@127.0.0.1/todo --listen 127.0.0.1:8080
//! ```
//! The URL should name the application role (`todo_app`): a superuser or the tables' owner
//! would bypass row-level security.

use clap::Parser;
use todo_app::{Db, Isolation};

#[derive(Parser)]
#[command(about = "The multi-user Todo API: users own tasks, isolated by row-level security.")]
struct Args {
    /// The database, as the application role.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    url: String,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    #[arg(long, value_enum, default_value_t = Isolation::Rls)]
    isolation: Isolation,
    #[arg(long, default_value_t = 10)]
    pool_size: u32,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(args.pool_size)
        .connect(&args.url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    eprintln!("todo-api listening on http://{}", args.listen);
    axum::serve(listener, todo_app::router(Db::new(pool, args.isolation)))
        .await
        .map_err(|e| e.to_string())
}

//! `tenet init`: scaffold a project (tenet.toml, schema/, migrations/, the decision log),
//! keeping any file that already exists.

use std::path::PathBuf;

use crate::failure::Failure;

#[derive(clap::Args)]
pub struct Args {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

const CONFIG: &str = r#"# Tenet's configuration: https://github.com/tenet-db/tenet

[schema]
path = "schema"              # desired state: every .sql file under schema/

[migrations]
dir = "migrations"           # versioned migrations, written by `tenet migrate new`
# lock_timeout = "5s"        # how long apply and down wait for a lock (--lock-timeout wins)

# Tenant isolation: uncomment and adjust. Every table not listed in global_tables is scoped by
# the tenant column; `tenet tenancy generate` writes the row-level security that enforces it.
# [tenancy]
# column = "tenant_id"         # or "user_id" for per-user apps
# setting = "app.tenant_id"    # set per transaction by the application (tenet-runtime does)
# app_role = "app_user"        # the role the application connects as
# global_tables = []           # shared reference data
"#;

const SCHEMA: &str = "-- The desired state of the database, as plain PostgreSQL DDL. Change it, then run\n-- `tenet migrate new <name>` to write the migration that gets there.\n";

pub fn run(args: Args) -> Result<i32, Failure> {
    let dir = &args.dir;
    let files: [(PathBuf, String); 4] = [
        (dir.join("tenet.toml"), CONFIG.to_string()),
        (dir.join("schema/schema.sql"), SCHEMA.to_string()),
        (
            dir.join("migrations").join(tenet_migrate::sum::FILE_NAME),
            tenet_migrate::sum::compute(&dir.join("migrations"))
                .map_err(super::migrate::failure)?,
        ),
        (
            dir.join(tenet_migrate::decisions::DEFAULT_PATH),
            tenet_migrate::decisions::empty_log().to_string(),
        ),
    ];
    for (path, text) in files {
        let kept =
            path.exists() || (path.ends_with("schema/schema.sql") && dir.join("schema").exists());
        if kept {
            println!("kept    {}", path.display());
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        println!("created {}", path.display());
    }
    println!("next: describe your tables in schema/, then run `tenet migrate new <name>`");
    Ok(0)
}

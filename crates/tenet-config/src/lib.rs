//! `tenet.toml`: the project's configuration.
//!
//! ```toml
//! [schema]
//! path = "schema"              # desired state: a .sql file or a directory of them
//! [migrations]
//! dir = "migrations"
//! [tenancy]
//! column = "tenant_id"         # or "user_id" for per-user apps
//! setting = "app.tenant_id"    # the setting policies read, set per transaction
//! app_role = "app_user"        # the role the application connects as
//! global_tables = ["plans"]    # shared reference data, not tenant-scoped
//! [lint]
//! disable = ["prefer-text"]
//! severity = { "missing-lock-timeout" = "error" }
//! warning_rows = 10000         # lock/rewrite findings on smaller tables are infos (--url)
//! error_rows = 1000000         # ...on larger ones errors, in between warnings
//! unused_index_min_days = 7    # advise: statistics must cover this long
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file Tenet looks for in the current directory when no `--config` is given.
pub const FILE_NAME: &str = "tenet.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub schema: SchemaConfig,
    #[serde(default)]
    pub migrations: MigrationsConfig,
    pub tenancy: Option<Tenancy>,
    #[serde(default)]
    pub lint: LintConfig,
    /// The directory holding the config file; relative paths in it are relative to this.
    #[serde(skip)]
    pub root: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    #[serde(default = "default_schema_path")]
    pub path: PathBuf,
}

impl Default for SchemaConfig {
    fn default() -> Self {
        SchemaConfig {
            path: default_schema_path(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    #[serde(default = "default_migrations_dir")]
    pub dir: PathBuf,
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            dir: default_migrations_dir(),
        }
    }
}

/// How data is owned: every table not listed in `global_tables` is tenant-scoped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenancy {
    pub column: String,
    pub setting: String,
    pub app_role: String,
    #[serde(default)]
    pub global_tables: Vec<String>,
}

impl Tenancy {
    /// Whether a table is shared reference data. Entries may be `name` (any schema) or
    /// `schema.name`.
    pub fn is_global(&self, schema: &str, table: &str) -> bool {
        self.global_tables.iter().any(|g| match g.split_once('.') {
            Some((s, t)) => s == schema && t == table,
            None => g == table,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Rule ids that never report.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Rule id -> `error`, `warning` or `info`.
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// Lock and rewrite findings on a table whose size is known (`tenet lint --url`) are infos
    /// below this many rows (default 10,000)...
    #[serde(default)]
    pub warning_rows: Option<u64>,
    /// ...warnings below this many, errors from it on (default 1,000,000).
    #[serde(default)]
    pub error_rows: Option<u64>,
    /// `tenet advise` reports unused indexes only when statistics cover at least this many
    /// days (default 7).
    #[serde(default)]
    pub unused_index_min_days: Option<f64>,
}

fn default_schema_path() -> PathBuf {
    PathBuf::from("schema")
}

fn default_migrations_dir() -> PathBuf {
    PathBuf::from("migrations")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Config {
    /// Load `explicit` (which must exist), else `./tenet.toml` when present, else defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        match explicit {
            Some(path) => Config::read(path),
            None if Path::new(FILE_NAME).exists() => Config::read(Path::new(FILE_NAME)),
            None => Ok(Config {
                root: PathBuf::from("."),
                ..Config::default()
            }),
        }
    }

    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|(offset, message)| {
            let before = &text[..offset.min(text.len())];
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: before.matches('\n').count() + 1,
                column: before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                message,
            }
        })?;
        config.root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Ok(config)
    }

    /// Parse TOML text; an error carries the byte offset it points at.
    pub fn parse(text: &str) -> Result<Config, (usize, String)> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let offset = e.span().map_or(0, |s| s.start);
            (offset, e.message().to_string())
        })
    }

    /// The schema path, resolved against the config file's directory.
    pub fn schema_path(&self) -> PathBuf {
        self.root.join(&self.schema.path)
    }

    /// The migrations directory, resolved against the config file's directory.
    pub fn migrations_dir(&self) -> PathBuf {
        self.root.join(&self.migrations.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example() {
        let config = Config::parse(
            "[tenancy]\ncolumn = \"tenant_id\"\nsetting = \"app.tenant_id\"\napp_role = \"app_user\"\nglobal_tables = [\"plans\", \"billing.prices\"]\n",
        )
        .unwrap();
        let tenancy = config.tenancy.unwrap();
        assert_eq!(tenancy.column, "tenant_id");
        assert!(tenancy.is_global("public", "plans"));
        assert!(tenancy.is_global("billing", "prices"));
        assert!(!tenancy.is_global("public", "prices"));
        assert_eq!(config.schema.path, PathBuf::from("schema"));
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_position() {
        let dir = std::env::temp_dir().join(format!("tenet-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tenet.toml");
        std::fs::write(&path, "[tenancy]\ncolumn = \"tenant_id\"\ncolumnn = 1\n").unwrap();
        let err = Config::read(&path).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("tenet.toml:3:1: unknown field `columnn`"),
            "{err}"
        );
    }
}

//! `tenet.toml`: the project's configuration.
//!
//! ```toml
//! dev_url = "postgres://localhost/postgres"  # scratch databases (else --dev-url, else embedded)
//! [schema]
//! path = "schema"              # desired state: a .sql file or a directory of them
//! exclude = ["audit.*", "public.legacy_*", "pgboss"]  # managed elsewhere: never read
//! [migrations]
//! dir = "migrations"
//! [tenancy]
//! column = "tenant_id"         # or "user_id" for per-user apps
//! setting = "app.tenant_id"    # the setting policies read, set per transaction
//! app_role = "app_user"        # the role the application connects as
//! global_tables = ["plans"]    # shared reference data, not tenant-scoped
//! exclude_schemas = ["pgboss"] # managed by someone else: never judged
//! global_keys = ["identities.identities_provider_id_key"]  # generate keeps these global
//! # preset = "supabase"        # auth.uid()/auth.jwt(), request.jwt.claims, role authenticated
//! # anon_role = "anon"         # judged too (the preset's default): sees no tenant rows
//! # [tenancy.membership]       # users reach tenants through a table (setting = the user)
//! # table = "memberships"
//! # user_column = "user_id"
//! [lint]
//! disable = ["prefer-text"]
//! severity = { "missing-lock-timeout" = "error" }
//! warning_rows = 10000         # lock/rewrite findings on smaller tables are infos (--url)
//! error_rows = 1000000         # ...on larger ones errors, in between warnings
//! unused_index_min_days = 7    # advise: statistics must cover this long
//! [fleet]                      # `tenet fleet`: many targets, one migrations directory
//! urls = ["postgres://db1/app", "postgres://db2/app"]     # database per tenant, or
//! # control_url = "postgres://control/ops"               # a query returning one URL per row
//! # query = "SELECT url FROM tenants WHERE active ORDER BY id"
//! # url = "postgres://db/app"  # schema per tenant: every schema LIKE the pattern
//! # schemas = "tenant_%"
//! parallel = 4                 # default of --parallel
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
    /// `[migrations]`, also spelled `[migrate]` (the command's name).
    #[serde(default, alias = "migrate")]
    pub migrations: MigrationsConfig,
    pub tenancy: Option<Tenancy>,
    #[serde(default)]
    pub lint: LintConfig,
    /// `[fleet]`: the targets `tenet fleet` migrates.
    pub fleet: Option<FleetConfig>,
    /// A server for the scratch databases schema files and migrations are applied to (where
    /// `--dev-url` / `TENET_DEV_URL` are not given). Without one, the embedded cluster.
    pub dev_url: Option<String>,
    /// The directory holding the config file; relative paths in it are relative to this.
    #[serde(skip)]
    pub root: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    #[serde(default = "default_schema_path")]
    pub path: PathBuf,
    /// Objects Tenet leaves alone: `schema.name` patterns, or a bare schema name for the whole
    /// schema; `*` matches any run of characters.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Default for SchemaConfig {
    fn default() -> Self {
        SchemaConfig {
            path: default_schema_path(),
            exclude: Vec::new(),
        }
    }
}

impl SchemaConfig {
    /// Whether the object `schema.name` is excluded (by its own pattern or its schema's).
    pub fn excludes(&self, schema: &str, name: &str) -> bool {
        self.exclude.iter().any(|p| match p.split_once('.') {
            Some((s, n)) => glob(s, schema) && glob(n, name),
            None => glob(p, schema),
        })
    }

    /// Whether the whole schema is excluded (a bare schema pattern matches it).
    pub fn excludes_schema(&self, schema: &str) -> bool {
        self.exclude
            .iter()
            .any(|p| !p.contains('.') && glob(p, schema))
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    #[serde(default = "default_migrations_dir")]
    pub dir: PathBuf,
    /// How long `tenet migrate` statements wait for a lock (`--lock-timeout` overrides it).
    pub lock_timeout: Option<String>,
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            dir: default_migrations_dir(),
            lock_timeout: None,
        }
    }
}

/// How data is owned: every table not listed in `global_tables` (and not in an excluded
/// schema) is tenant-scoped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenancy {
    /// `"supabase"`: identity from the verified JWT (`auth.uid()`, `auth.jwt()`, the JSON
    /// setting `request.jwt.claims`), app role `authenticated`, Supabase's managed schemas
    /// excluded. `setting` and `app_role` then default to the preset's.
    #[serde(default)]
    pub preset: Option<Preset>,
    pub column: String,
    #[serde(default)]
    pub setting: String,
    #[serde(default)]
    pub app_role: String,
    /// The role of requests without a user (Supabase's `anon`, the preset's default): judged
    /// like `app_role`, except that it needs no policy (it must see no tenant rows).
    #[serde(default)]
    pub anon_role: String,
    #[serde(default)]
    pub global_tables: Vec<String>,
    /// Schemas managed by someone else (an extension, a platform): never judged.
    #[serde(default)]
    pub exclude_schemas: Vec<String>,
    /// Users reach tenants through a membership table: the setting names the user, and a
    /// row `(user_column, column)` of `table` says the user may reach that tenant.
    #[serde(default)]
    pub membership: Option<Membership>,
    /// Unique keys that must stay global (`table.constraint` or `schema.table.constraint`):
    /// `tenancy generate` never rewrites them into per-tenant keys.
    #[serde(default)]
    pub global_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Supabase,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// `memberships` or `schema.memberships`; it holds the tenant column too.
    pub table: String,
    /// The column holding the user, compared with the setting.
    pub user_column: String,
}

/// Supabase's role for server-side code: it bypasses row-level security by design.
pub const SUPABASE_SERVICE_ROLE: &str = "service_role";

/// Schemas Supabase manages: their tables are the platform's, not the application's.
pub const SUPABASE_SCHEMAS: &[&str] = &[
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "pgbouncer",
    "cron",
    "_analytics",
];

impl Tenancy {
    /// Whether a table is shared reference data. Entries may be `name` (any schema) or
    /// `schema.name`.
    pub fn is_global(&self, schema: &str, table: &str) -> bool {
        self.global_tables.iter().any(|g| match g.split_once('.') {
            Some((s, t)) => s == schema && t == table,
            None => g == table,
        })
    }

    /// Whether a schema is managed elsewhere (`exclude_schemas`, or the preset's).
    pub fn is_excluded(&self, schema: &str) -> bool {
        self.exclude_schemas.iter().any(|s| s == schema)
            || (self.preset == Some(Preset::Supabase) && SUPABASE_SCHEMAS.contains(&schema))
    }

    /// Whether `schema.table` is the membership table.
    pub fn is_membership(&self, schema: &str, table: &str) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| match m.table.split_once('.') {
                Some((s, t)) => s == schema && t == table,
                None => m.table == table,
            })
    }

    /// Whether the setting holds JSON claims (read through `->>`), not a bare value.
    pub fn json_setting(&self) -> bool {
        self.setting == "request.jwt.claims" || self.setting == "request.jwt.claim"
    }

    /// Whether a unique key is listed in `global_keys`.
    pub fn is_global_key(&self, schema: &str, table: &str, key: &str) -> bool {
        self.global_keys.iter().any(|k| {
            let parts: Vec<&str> = k.split('.').collect();
            match parts.as_slice() {
                [t, c] => *t == table && *c == key,
                [s, t, c] => *s == schema && *t == table && *c == key,
                _ => false,
            }
        })
    }

    /// Whether a role is trusted with every row and never judged: Supabase's `service_role`
    /// bypasses row-level security by design (server-side code holds its key).
    pub fn is_trusted(&self, role: &str) -> bool {
        self.preset == Some(Preset::Supabase) && role == SUPABASE_SERVICE_ROLE
    }

    /// The anonymous role to judge besides `app_role`, if any.
    pub fn judged_anon_role(&self) -> Option<&str> {
        let anon = self.anon_role.as_str();
        (!anon.is_empty() && anon != self.app_role && !self.is_trusted(anon)).then_some(anon)
    }

    /// Fill what the preset implies and check what is required; the error names the field.
    fn complete(&mut self) -> Result<(), String> {
        if self.preset == Some(Preset::Supabase) {
            if self.setting.is_empty() {
                self.setting = "request.jwt.claims".into();
            }
            if self.app_role.is_empty() {
                self.app_role = "authenticated".into();
            }
            if self.anon_role.is_empty() {
                self.anon_role = "anon".into();
            }
        }
        for (name, value) in [("setting", &self.setting), ("app_role", &self.app_role)] {
            if value.is_empty() {
                return Err(format!(
                    "[tenancy] needs `{name}` (or `preset = \"supabase\"`, which implies it)"
                ));
            }
        }
        Ok(())
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

/// `[fleet]`: the databases (or tenant schemas) one migrations directory is applied to. Exactly
/// one kind of target: `urls`; `query` (with `control_url`); or `schemas` (with `url`).
/// `control_url` and `url` may be left out, and `--url` / `DATABASE_URL` is used instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// Database per tenant: one connection string each.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Run on `control_url` (read only); each row's single column is a target's URL.
    pub query: Option<String>,
    pub control_url: Option<String>,
    /// Schema per tenant: a `LIKE` pattern over the schema names of `url`'s database.
    pub schemas: Option<String>,
    pub url: Option<String>,
    /// How many targets are worked on at once (and so connections open), unless --parallel.
    pub parallel: Option<usize>,
}

/// Which kind of target a `[fleet]` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetTargets<'a> {
    Urls(&'a [String]),
    Query {
        control_url: Option<&'a str>,
        query: &'a str,
    },
    Schemas {
        url: Option<&'a str>,
        pattern: &'a str,
    },
}

impl FleetConfig {
    pub fn targets(&self) -> FleetTargets<'_> {
        if let Some(query) = &self.query {
            return FleetTargets::Query {
                control_url: self.control_url.as_deref(),
                query,
            };
        }
        if let Some(pattern) = &self.schemas {
            return FleetTargets::Schemas {
                url: self.url.as_deref(),
                pattern,
            };
        }
        FleetTargets::Urls(&self.urls)
    }

    /// Exactly one kind of target, with what it needs; the error names the keys.
    fn check(&self) -> Result<(), String> {
        let kinds = [
            !self.urls.is_empty(),
            self.query.is_some(),
            self.schemas.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => return Err("[fleet] needs its targets: `urls`, `query` (with `control_url`) or `schemas` (with `url`)".into()),
            1 => {}
            _ => return Err("[fleet] takes one kind of target: `urls`, `query` or `schemas`, not several".into()),
        }
        if self.control_url.is_some() && self.query.is_none() {
            return Err("[fleet] `control_url` is where `query` runs: give `query` too".into());
        }
        if self.url.is_some() && self.schemas.is_none() {
            return Err("[fleet] `url` is the database of `schemas`: give `schemas` too, or list databases in `urls`".into());
        }
        if self.query.as_deref().is_some_and(|q| q.trim().is_empty()) {
            return Err("[fleet] `query` is empty".into());
        }
        if self.schemas.as_deref().is_some_and(|p| p.is_empty()) {
            return Err(
                "[fleet] `schemas` is empty: write a LIKE pattern such as \"tenant_%\"".into(),
            );
        }
        if self.parallel == Some(0) {
            return Err("[fleet] `parallel` must be at least 1".into());
        }
        Ok(())
    }
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
        let mut config: Config = toml::from_str(text).map_err(|e: toml::de::Error| {
            let offset = e.span().map_or(0, |s| s.start);
            (offset, e.message().to_string())
        })?;
        if let Some(bad) =
            config.schema.exclude.iter().find(|p| {
                p.is_empty() || p.split('.').count() > 2 || p.split('.').any(str::is_empty)
            })
        {
            let message = format!(
                "[schema] exclude: {bad:?} is not a pattern: write `schema.name` or a bare schema, `*` for any characters"
            );
            return Err((text.find(&format!("\"{bad}\"")).unwrap_or(0), message));
        }
        if let Some(t) = config.tenancy.as_mut() {
            t.complete()
                .map_err(|m| (text.find("[tenancy]").unwrap_or(0), m))?;
        }
        if let Some(fleet) = &config.fleet {
            fleet
                .check()
                .map_err(|m| (text.find("[fleet]").unwrap_or(0), m))?;
        }
        Ok(config)
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
    fn schema_exclude_patterns() {
        let config = Config::parse(
            "[schema]\nexclude = [\"audit.*\", \"public.legacy_*\", \"pgboss\", \"a*c.x\"]\n",
        )
        .unwrap();
        let schema = &config.schema;
        assert!(schema.excludes("audit", "log"));
        assert!(schema.excludes("public", "legacy_orders"));
        assert!(schema.excludes("public", "legacy_"));
        assert!(!schema.excludes("public", "orders_legacy_x"));
        assert!(schema.excludes("pgboss", "job"));
        assert!(schema.excludes("abbc", "x"));
        assert!(!schema.excludes("abbd", "x"));
        assert!(schema.excludes_schema("pgboss"));
        assert!(
            !schema.excludes_schema("audit"),
            "audit.* names objects, not the schema"
        );
        assert!(!schema.excludes("public", "orders"));
        let (offset, message) = Config::parse("[schema]\nexclude = [\"a.b.c\"]\n").unwrap_err();
        assert_eq!(offset, 20, "points at the pattern");
        assert!(message.contains("\"a.b.c\" is not a pattern"), "{message}");
    }

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
    fn lock_timeout_under_migrations_or_migrate() {
        for section in ["migrations", "migrate"] {
            let config = Config::parse(&format!("[{section}]\nlock_timeout = \"1s\"\n")).unwrap();
            assert_eq!(config.migrations.lock_timeout.as_deref(), Some("1s"));
            assert_eq!(config.migrations.dir, PathBuf::from("migrations"));
        }
    }

    #[test]
    fn the_supabase_preset_fills_setting_and_role() {
        let config =
            Config::parse("[tenancy]\npreset = \"supabase\"\ncolumn = \"user_id\"\n").unwrap();
        let t = config.tenancy.unwrap();
        assert_eq!(t.setting, "request.jwt.claims");
        assert_eq!(t.app_role, "authenticated");
        assert_eq!(t.judged_anon_role(), Some("anon"));
        assert!(t.is_trusted("service_role") && !t.is_trusted("authenticated"));
        assert!(t.json_setting());
        assert!(t.is_excluded("auth") && t.is_excluded("storage") && !t.is_excluded("public"));
        let err = Config::parse("[tenancy]\ncolumn = \"user_id\"\n").unwrap_err();
        assert!(err.1.contains("needs `setting`"), "{err:?}");
    }

    #[test]
    fn membership_is_a_table_of_its_own() {
        let config = Config::parse(
            "[tenancy]\ncolumn = \"org_id\"\nsetting = \"app.user_id\"\napp_role = \"app\"\nexclude_schemas = [\"pgboss\"]\n[tenancy.membership]\ntable = \"memberships\"\nuser_column = \"user_id\"\n",
        )
        .unwrap();
        let t = config.tenancy.unwrap();
        assert!(t.is_membership("public", "memberships"));
        assert!(t.is_excluded("pgboss"));
    }

    #[test]
    fn fleet_targets_of_each_kind() {
        let urls = Config::parse(
            "[fleet]\nurls = [\"postgres://a/x\", \"postgres://b/x\"]\nparallel = 8\n",
        )
        .unwrap()
        .fleet
        .unwrap();
        assert_eq!(urls.parallel, Some(8));
        assert!(matches!(urls.targets(), FleetTargets::Urls(u) if u.len() == 2));
        let query = Config::parse(
            "[fleet]\ncontrol_url = \"postgres://c/ops\"\nquery = \"SELECT url FROM t\"\n",
        )
        .unwrap()
        .fleet
        .unwrap();
        assert_eq!(
            query.targets(),
            FleetTargets::Query {
                control_url: Some("postgres://c/ops"),
                query: "SELECT url FROM t"
            }
        );
        let schemas = Config::parse("[fleet]\nschemas = \"tenant_%\"\n")
            .unwrap()
            .fleet
            .unwrap();
        assert_eq!(
            schemas.targets(),
            FleetTargets::Schemas {
                url: None,
                pattern: "tenant_%"
            }
        );
    }

    #[test]
    fn a_fleet_needs_one_kind_of_target() {
        for (toml, message) in [
            ("[fleet]\nparallel = 2\n", "needs its targets"),
            (
                "[fleet]\nurls = [\"a\"]\nschemas = \"t_%\"\n",
                "one kind of target",
            ),
            (
                "[fleet]\nurl = \"postgres://x/y\"\nurls = [\"a\"]\n",
                "`url` is the database of `schemas`",
            ),
            (
                "[fleet]\ncontrol_url = \"postgres://x/y\"\nurls = [\"a\"]\n",
                "`control_url` is where `query` runs",
            ),
            ("[fleet]\nschemas = \"t_%\"\nparallel = 0\n", "at least 1"),
            ("\n[fleet]\nschemas = \"\"\n", "`schemas` is empty"),
        ] {
            let (offset, got) = Config::parse(toml).unwrap_err();
            assert!(got.contains(message), "{toml}: {got}");
            assert_eq!(offset, toml.find("[fleet]").unwrap(), "points at [fleet]");
        }
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

//! Which files to lint, in which order, and which earlier migrations to replay first.
//!
//! Migrations are `<version>_<name>.up.sql` / `.down.sql` (version: digits, normally a UTC
//! `yyyymmddHHMMSS`). A directory holding `.up.sql` files stands for those, in version order;
//! any other directory for its `.sql` files in name order. A single migration file given alone
//! brings the earlier migrations of its directory along, to be replayed but not linted.
//!
//! The replay's scratch database and how a file is applied to it are [`open_replay`] and
//! [`apply_file`]: the one place to change how replays run untrusted SQL.

use std::path::{Path, PathBuf};

/// A scratch database for the replay, in a sandbox: the migrations run as an unprivileged
/// role (the database is dropped with the handle).
pub fn open_replay(server: &tenet_pg::Server) -> Result<tenet_pg::Sandbox, tenet_pg::PgError> {
    server.sandbox()
}

/// Apply an earlier migration (one that is replayed, not linted) to the replay's database.
pub fn apply_file(
    sandbox: &mut tenet_pg::Sandbox,
    path: &Path,
    sql: &str,
) -> Result<(), tenet_catalog::Error> {
    tenet_catalog::source::apply_script(sandbox, path, sql)
}

/// `x.up.sql` -> `./x.up.sql`: a bare file name and the files of its directory must compare
/// equal, and sort together.
fn with_directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => path.to_path_buf(),
        _ => Path::new(".").join(path),
    }
}

/// A file in the order to process it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    /// False for an earlier migration that is only replayed.
    pub lint: bool,
}

pub use tenet_catalog::migrations::up_version;
use tenet_catalog::migrations::version_key;

/// The migration files of a directory, in order (see the module docs).
pub fn directory_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut up = Vec::new();
    let mut sql = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some((version, _)) = up_version(&path) {
            up.push((version_key(&version), path));
        } else if name.ends_with(".sql") && !name.ends_with(".down.sql") {
            sql.push(path);
        }
    }
    if !up.is_empty() {
        up.sort();
        return Ok(up.into_iter().map(|(_, p)| p).collect());
    }
    sql.sort();
    Ok(sql)
}

/// The files to process for the paths given on the command line.
pub fn plan(paths: &[PathBuf]) -> std::io::Result<Vec<Planned>> {
    let mut out: Vec<Planned> = Vec::new();
    // Where each path is in `out`: a directory of hundreds of files made a linear search per
    // file quadratic (9% of `lint --offline` on 500 files went to comparing paths).
    let mut index: std::collections::HashMap<PathBuf, usize> = std::collections::HashMap::new();
    let mut add = |path: PathBuf, lint: bool| match index.get(&path) {
        Some(&i) => out[i].lint |= lint,
        None => {
            index.insert(path.clone(), out.len());
            out.push(Planned { path, lint });
        }
    };
    for path in paths {
        let meta = std::fs::metadata(path)?;
        let path = &with_directory(path);
        if meta.is_dir() {
            for file in directory_files(path)? {
                add(file, true);
            }
        } else {
            if let Some((version, _)) = up_version(path) {
                let dir = path.parent().unwrap_or(Path::new("."));
                let key = version_key(&version);
                for earlier in directory_files(dir)? {
                    if up_version(&earlier).is_some_and(|(v, _)| version_key(&v) < key) {
                        add(earlier, false);
                    }
                }
            }
            add(path.clone(), true);
        }
    }
    // Migrations of one directory run in version order, whatever order they were named in.
    if out.iter().all(|p| up_version(&p.path).is_some()) {
        out.sort_by_cached_key(|p| {
            (
                p.path.parent().map(Path::to_path_buf),
                version_key(&up_version(&p.path).map(|v| v.0).unwrap_or_default()),
            )
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            up_version(Path::new("m/20240101120000_add_users.up.sql")),
            Some(("20240101120000".into(), "add_users".into()))
        );
        assert_eq!(
            up_version(Path::new("m/20240101120000_add_users.down.sql")),
            None
        );
        assert_eq!(up_version(Path::new("m/init.up.sql")), None);
        assert!(version_key("9") < version_key("10"));
    }

    #[test]
    fn a_single_migration_brings_the_earlier_ones_for_replay() {
        let dir = std::env::temp_dir().join(format!("tenet-lint-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in [
            "2_b.up.sql",
            "1_a.up.sql",
            "1_a.down.sql",
            "10_c.up.sql",
            "3_x.up.sql",
        ] {
            std::fs::write(dir.join(f), "select 1;").unwrap();
        }
        let planned = plan(&[dir.join("3_x.up.sql")]).unwrap();
        let names: Vec<(String, bool)> = planned
            .iter()
            .map(|p| {
                (
                    p.path.file_name().unwrap().to_str().unwrap().to_string(),
                    p.lint,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("1_a.up.sql".to_string(), false),
                ("2_b.up.sql".to_string(), false),
                ("3_x.up.sql".to_string(), true)
            ]
        );
        let all = plan(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all[3].path.ends_with("10_c.up.sql"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bare_file_name_keeps_its_directory() {
        assert_eq!(
            with_directory(Path::new("3_x.up.sql")),
            Path::new("./3_x.up.sql")
        );
        assert_eq!(
            with_directory(Path::new("m/3_x.up.sql")),
            Path::new("m/3_x.up.sql")
        );
    }
}

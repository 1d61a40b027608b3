//! The migrations directory: `<version>_<name>.up.sql` files, each with an optional
//! `<version>_<name>.down.sql`, in version order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;

/// One migration as found on disk.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The number the file name starts with (a UTC timestamp for migrations Tenet writes;
    /// golang-migrate's and sqlx's numbering works too).
    pub version: i64,
    /// The file name's version text, zero padding kept.
    pub version_text: String,
    pub name: String,
    pub up_path: PathBuf,
    pub up_sql: String,
    pub down_path: Option<PathBuf>,
    /// SHA-256 of the up file, hex: what history records, so a changed file is caught.
    pub checksum: String,
}

impl Migration {
    /// `<version>_<name>`, the stem both files share.
    pub fn id(&self) -> String {
        format!("{}_{}", self.version_text, self.name)
    }

    pub fn down_sql(&self) -> Result<String, Error> {
        let path = self.down_path.as_ref().ok_or_else(|| {
            Error::Invalid(format!(
                "migration {} has no down file ({}.down.sql)",
                self.id(),
                self.id()
            ))
        })?;
        read(path)
    }
}

/// Every migration under `dir`, in version order. A missing directory holds none. A `.sql`
/// file whose name does not fit, two migrations with one version, or a down file without its
/// up file is an error.
pub fn load(dir: &Path) -> Result<Vec<Migration>, Error> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut ups: BTreeMap<i64, Migration> = BTreeMap::new();
    let mut downs: BTreeMap<i64, (String, PathBuf)> = BTreeMap::new();
    for path in sql_files(dir)? {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let Some((version_text, name, direction)) = parse_file_name(&file) else {
            return Err(Error::Invalid(format!(
                "{}: not a migration file name; expected <version>_<name>.up.sql or .down.sql",
                path.display()
            )));
        };
        let version: i64 = version_text.parse().map_err(|_| {
            Error::Invalid(format!(
                "{}: version {version_text} is too large",
                path.display()
            ))
        })?;
        let duplicate = || {
            Error::Invalid(format!(
                "{}: another migration already has version {version_text}",
                path.display()
            ))
        };
        if direction == "down" {
            if downs
                .insert(version, (name.to_string(), path.clone()))
                .is_some()
            {
                return Err(duplicate());
            }
            continue;
        }
        let up_sql = read(&path)?;
        let migration = Migration {
            version,
            version_text: version_text.to_string(),
            name: name.to_string(),
            checksum: sha256(up_sql.as_bytes()),
            up_path: path.clone(),
            up_sql,
            down_path: None,
        };
        if ups.insert(version, migration).is_some() {
            return Err(duplicate());
        }
    }
    for (version, (name, path)) in downs {
        match ups.get_mut(&version) {
            Some(up) if up.name == name => up.down_path = Some(path),
            _ => {
                return Err(Error::Invalid(format!(
                    "{}: down migration without an up migration of the same name",
                    path.display()
                )))
            }
        }
    }
    Ok(ups.into_values().collect())
}

/// Every `.sql` file directly in `dir` (migrations do not nest), sorted.
pub(crate) fn sql_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `20261130061500_add_tasks.up.sql` -> ("20261130061500", "add_tasks", "up").
fn parse_file_name(file: &str) -> Option<(&str, &str, &str)> {
    let (stem, direction) = if let Some(stem) = file.strip_suffix(".up.sql") {
        (stem, "up")
    } else {
        (file.strip_suffix(".down.sql")?, "down")
    };
    let (version, name) = stem.split_once('_')?;
    let valid =
        !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty();
    valid.then_some((version, name, direction))
}

/// A name as the file name carries it: lower case, words joined by `_`.
pub fn snake_name(name: &str) -> Result<String, Error> {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        return Err(Error::Invalid(format!(
            "migration name {name:?} has no letters or digits"
        )));
    }
    Ok(out)
}

/// The version for a new migration: the UTC time as yyyymmddHHMMSS, moved past the newest
/// existing version so versions stay in creation order even when clocks disagree.
pub fn next_version(existing: &[Migration]) -> i64 {
    let now: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .expect("a timestamp is a number");
    match existing.iter().map(|m| m.version).max() {
        Some(newest) if newest >= now => newest + 1,
        _ => now,
    }
}

pub(crate) fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("20261130061500_add_tasks.up.sql"),
            Some(("20261130061500", "add_tasks", "up"))
        );
        assert_eq!(
            parse_file_name("000001_init.down.sql"),
            Some(("000001", "init", "down"))
        );
        assert_eq!(parse_file_name("schema.sql"), None);
        assert_eq!(parse_file_name("v1_x.up.sql"), None);
        assert_eq!(parse_file_name("1_.up.sql"), None);
    }

    #[test]
    fn snake_names() {
        assert_eq!(
            snake_name("Add tasks.priority").unwrap(),
            "add_tasks_priority"
        );
        assert_eq!(snake_name("  create-users ").unwrap(), "create_users");
        assert!(snake_name("--").is_err());
    }
}

//! The schema-file catalog cache: the catalog a set of schema files builds, stored under the
//! project (`.tenet/cache/<key>.json`) so an unchanged schema directory costs no scratch load
//! the second time.
//!
//! The key is a SHA-256 of everything that decides the result: Tenet's build, the scratch
//! server and its PostgreSQL version, and every file's path and bytes, in order. `[schema]
//! exclude` is not in it: callers apply it after, to a hit as to a fresh load. An entry is
//! written only after the files loaded, so after the gate (`gate.rs`) passed them; a forged
//! entry changes only what Tenet believes the desired schema is, as editing the files would,
//! and never runs SQL. Entries are written atomically (a temporary file renamed) and are safe
//! to delete; an unreadable or corrupt one is a miss.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Catalog, Error};

/// What a set of schema files built: the catalog and the user that owns its objects.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    pub user: String,
    pub catalog: Catalog,
}

/// How many entries a project's cache keeps (those written or read last).
pub const KEEP: usize = 32;

/// The cache of one project.
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache of the project in the current directory (the one with `tenet.toml`); None
    /// outside a project, or when `TENET_CACHE=off`.
    pub fn of_project() -> Option<Cache> {
        if std::env::var("TENET_CACHE").is_ok_and(|v| v == "off" || v == "0") {
            return None;
        }
        let root = std::env::current_dir().ok()?;
        root.join("tenet.toml").is_file().then(|| Cache {
            dir: root.join(".tenet").join("cache"),
        })
    }

    /// A cache in `dir` (tests and tools).
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// The key of `inputs` (each a name and its bytes, in order) loaded on the server
    /// `server` describes (see `tenet_pg::LazyServer::fingerprint`).
    pub fn key(what: &str, inputs: &[(String, Vec<u8>)], server: &str) -> String {
        let mut hash = Sha256::new();
        let mut part = |bytes: &[u8]| {
            // Length-prefixed, so no two sequences of parts hash alike.
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        part(build().as_bytes());
        part(what.as_bytes());
        part(server.as_bytes());
        for (name, bytes) in inputs {
            part(name.as_bytes());
            part(bytes);
        }
        hex::encode(hash.finalize())
    }

    /// The entry stored under `key`, if there is a readable one.
    pub fn get(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(_) => {
                tracing::debug!("schema cache: miss {key}");
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(entry) => {
                tracing::debug!("schema cache: hit {key}");
                // Used now: the last to be pruned.
                if let Ok(file) = std::fs::File::options().append(true).open(&path) {
                    let _ = file.set_modified(std::time::SystemTime::now());
                }
                Some(entry)
            }
            Err(e) => {
                tracing::debug!(
                    "schema cache: miss {key}, corrupt entry {}: {e}",
                    path.display()
                );
                None
            }
        }
    }

    /// Store `entry` under `key`. A cache that cannot be written is no error: the next run
    /// loads the files again.
    pub fn put(&self, key: &str, entry: &Entry) {
        if let Err(e) = self.write(key, entry) {
            tracing::debug!("schema cache: not written ({}): {e}", self.dir.display());
        }
    }

    fn write(&self, key: &str, entry: &Entry) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // The cache is the machine's, never the repository's: it ignores itself, so no
        // project needs a .gitignore line (and a forged entry is not committed by accident).
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n")?;
        }
        let json = serde_json::to_vec(entry)?;
        let mut temporary = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut temporary, &json)?;
        temporary.persist(self.path(key)).map_err(|e| e.error)?;
        self.prune();
        Ok(())
    }

    /// Keep the [`KEEP`] entries used last: every edit of a schema file makes a new one, and the
    /// old ones would otherwise pile up for ever.
    fn prune(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = dir
            .filter_map(Result::ok)
            .filter(|e| is_entry_name(&e.file_name().to_string_lossy()))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= KEEP {
            return;
        }
        entries.sort();
        for (_, path) in &entries[..entries.len() - KEEP] {
            let _ = std::fs::remove_file(path);
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }
}

/// Whether a file name is one [`Cache::key`] makes (64 hex digits, `.json`): pruning removes
/// only those, so a cache directory that is a link elsewhere (it comes with the checkout)
/// never costs anyone's other files.
fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|key| key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Tenet's build: its version and the running executable's size and time, so a rebuilt binary
/// (whose inspect may read the same files differently) never reads an older build's entries.
fn build() -> String {
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .ok()
        .map(|m| format!("{} {:?}", m.len(), m.modified().ok()));
    format!(
        "tenet {} {}",
        env!("CARGO_PKG_VERSION"),
        exe.unwrap_or_default()
    )
}

/// The catalog `files` build in a sandbox on `scratch` (`source::load`) and its owner, from the
/// project's cache when it holds them (no scratch database then), else loaded and stored.
pub fn load_files(scratch: &tenet_pg::LazyServer, files: &[PathBuf]) -> Result<Entry, Error> {
    let mut inputs = Vec::with_capacity(files.len());
    for file in files {
        let bytes = std::fs::read(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        inputs.push((file.to_string_lossy().into_owned(), bytes));
    }
    cached(scratch, "schema files", &inputs, || {
        let mut sandbox = scratch.get()?.sandbox()?;
        let catalog = crate::source::load(&mut sandbox, files)?;
        let user: String = sandbox
            .admin()
            .query_one("select current_user::text", &[])?
            .get(0);
        Ok(Entry { user, catalog })
    })
}

/// What `load` builds from `inputs` (`what` says how: schema files, a migration replay), from
/// the project's cache when it holds it, else loaded and stored. Outside a project, `load`.
pub fn cached<E>(
    scratch: &tenet_pg::LazyServer,
    what: &str,
    inputs: &[(String, Vec<u8>)],
    load: impl FnOnce() -> Result<Entry, E>,
) -> Result<Entry, E>
where
    E: From<tenet_pg::PgError>,
{
    let Some(cache) = Cache::of_project() else {
        return load();
    };
    let key = Cache::key(what, inputs, &scratch.fingerprint()?);
    if let Some(entry) = cache.get(&key) {
        return Ok(entry);
    }
    // Stored only once the load succeeded: after the gate passed every statement.
    let entry = load()?;
    cache.put(&key, &entry);
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_entries_used_last_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        let entry = Entry {
            user: "postgres".into(),
            catalog: Catalog::default(),
        };
        let key = |i: usize| format!("{i:064x}");
        // Not an entry: never pruned, however old.
        std::fs::create_dir_all(dir.path()).unwrap();
        std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
        let pause = || std::thread::sleep(std::time::Duration::from_millis(20));
        for i in 0..KEEP {
            cache.put(&key(i), &entry);
        }
        pause();
        // Read after the others were written: among the last used.
        assert!(cache.get(&key(1)).is_some());
        pause();
        for i in KEEP..KEEP + 8 {
            cache.put(&key(i), &entry);
        }
        let json = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let path = e.as_ref().unwrap().path();
                is_entry_name(&path.file_name().unwrap().to_string_lossy())
            })
            .count();
        assert_eq!(json, KEEP);
        assert!(dir.path().join("notes.json").exists());
        // The newest and the one read stayed, the oldest went; .gitignore is no entry.
        assert!(cache.get(&key(KEEP + 7)).is_some());
        assert!(cache.get(&key(1)).is_some());
        assert!(cache.get(&key(0)).is_none());
        assert!(dir.path().join(".gitignore").exists());
    }
}

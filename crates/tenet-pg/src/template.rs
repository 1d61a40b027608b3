//! A cache of the pristine output of initdb, so that an embedded cluster usually starts with a
//! file copy (tens of milliseconds) instead of initdb (about a second).
//!
//! It lives in `$TENET_INITDB_CACHE`, else `$XDG_CACHE_HOME/tenet`, else `~/.cache/tenet`
//! (`TENET_INITDB_CACHE=off` disables it), one directory per PostgreSQL installation and
//! version: `initdb-<installation>-<version>`. A new version replaces the old entries of the same
//! installation. Entries are written to a temporary name and renamed into place, so readers only
//! ever see complete ones; a template that fails to start is discarded.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bump when the initdb options change.
const FORMAT: &str = "initdb-v1 -A trust -U postgres -E UTF8 --locale=C TZ=UTC";

/// The template directory for the installation in `bindir` (it may not exist yet).
pub(crate) fn location(bindir: &Path) -> Option<PathBuf> {
    let root = match std::env::var_os("TENET_INITDB_CACHE") {
        Some(v) if v == "off" || v == "0" || v.is_empty() => return None,
        Some(v) => PathBuf::from(v),
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(xdg) => PathBuf::from(xdg).join("tenet"),
            None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?)
                .join(".cache")
                .join("tenet"),
        },
    };
    let bindir = bindir
        .canonicalize()
        .unwrap_or_else(|_| bindir.to_path_buf());
    let binary = fs::metadata(bindir.join("postgres")).ok()?;
    let installation = fnv(bindir.as_os_str().as_encoded_bytes());
    let version = fnv(format!(
        "{FORMAT} {} {} {} {}",
        binary.len(),
        binary.mtime(),
        binary.mtime_nsec(),
        binary.ino()
    )
    .as_bytes());
    Some(root.join(format!("initdb-{installation:016x}-{version:016x}")))
}

/// Whether the template holds a whole data directory.
pub(crate) fn is_complete(template: &Path) -> bool {
    template.join("PG_VERSION").is_file() && template.join("global").join("pg_control").is_file()
}

/// Save a freshly initialised data directory as the template (best effort).
pub(crate) fn store(data: &Path, template: &Path) {
    if let Err(e) = try_store(data, template) {
        tracing::debug!(
            "not caching the cluster template at {}: {e}",
            template.display()
        );
    }
}

fn try_store(data: &Path, template: &Path) -> io::Result<()> {
    let parent = template
        .parent()
        .ok_or_else(|| io::Error::other("no parent directory"))?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = template.file_name().unwrap_or_default().to_string_lossy();
    let staging = parent.join(format!(".{name}.{}.{nanos}", std::process::id()));
    let result = copy_tree(data, &staging, None).and_then(|()| fs::rename(&staging, template));
    if result.is_err() {
        // Another process may have stored it first (rename onto a non-empty directory fails).
        let _ = fs::remove_dir_all(&staging);
    }
    result?;
    // Remove templates of older versions of the same installation.
    let prefix = name.rsplit_once('-').map(|(p, _)| format!("{p}-"));
    if let (Some(prefix), Ok(entries)) = (prefix, fs::read_dir(parent)) {
        for entry in entries.flatten() {
            let other = entry.file_name().to_string_lossy().into_owned();
            if other.starts_with(&prefix) && other != name {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(())
}

/// Remove a template that did not work.
pub(crate) fn discard(template: &Path) {
    let _ = fs::remove_dir_all(template);
}

/// Copy a data directory: directories 0700, files with their modes, optionally handed to
/// `owner` (uid, gid).
pub(crate) fn copy_tree(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    fs::DirBuilder::new().mode(0o700).create(to)?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o700))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(to, Some(uid), Some(gid))?;
    }
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, owner)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&target, Some(uid), Some(gid))?;
            }
        }
        // A fresh data directory holds no symlinks or special files; skip any.
    }
    Ok(())
}

/// FNV-1a: a hash that stays the same across builds (names on disk depend on it).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

//! `tenet.sum`: the SHA-256 of every migration file, so an edit, a deletion or a file added by a
//! merge is caught before anything runs. Tenet writes it with every new migration; after a
//! deliberate hand edit, `tenet migrate hash` rewrites it.
//!
//! ```text
//! total <sha256 of the lines below>
//! 20261130061500_create_tasks.down.sql <sha256>
//! 20261130061500_create_tasks.up.sql <sha256>
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dir::{read, sha256, sql_files};
use crate::Error;

pub const FILE_NAME: &str = tenet_catalog::migrations::SUM_FILE;

/// The sum file's text for the directory as it is.
pub fn compute(dir: &Path) -> Result<String, Error> {
    let mut lines = String::new();
    if dir.exists() {
        for path in sql_files(dir)? {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let text = read(&path)?;
            lines.push_str(&format!("{name} {}\n", sha256(text.as_bytes())));
        }
    }
    Ok(format!("total {}\n{lines}", sha256(lines.as_bytes())))
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Rewrite the sum file from the directory.
pub fn write(dir: &Path) -> Result<(), Error> {
    let text = compute(dir)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::write(path(dir), text).map_err(|source| Error::Io {
        path: path(dir),
        source,
    })
}

/// Refuse when the sum file does not match the directory, naming each file that differs. A
/// directory without migrations needs no sum file.
pub fn verify(dir: &Path) -> Result<(), Error> {
    let expected = compute(dir)?;
    let sum_path = path(dir);
    let actual = match std::fs::read_to_string(&sum_path) {
        Ok(text) => text,
        Err(_) if !expected.contains(".sql ") => return Ok(()),
        Err(_) => {
            return Err(Error::SumMismatch(format!(
                "{} is missing; run `tenet migrate hash` if the migrations are as intended",
                sum_path.display()
            )))
        }
    };
    if actual == expected {
        return Ok(());
    }
    let files = |text: &str| -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| !l.starts_with("total "))
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(name, hash)| (name.to_string(), hash.to_string()))
            .collect()
    };
    let (want, have) = (files(&actual), files(&expected));
    let mut problems = Vec::new();
    for (name, hash) in &have {
        match want.get(name) {
            None => problems.push(format!("{name} is not in the sum file")),
            Some(h) if h != hash => problems.push(format!("{name} changed")),
            Some(_) => {}
        }
    }
    for name in want.keys().filter(|n| !have.contains_key(*n)) {
        problems.push(format!(
            "{name} is in the sum file but not in the directory"
        ));
    }
    if problems.is_empty() {
        problems.push("its total line is wrong".into());
    }
    Err(Error::SumMismatch(format!(
        "{} does not match {}: {}; run `tenet migrate hash` if the migrations are as intended",
        sum_path.display(),
        dir.display(),
        problems.join(", ")
    )))
}

//! What every reader of a migrations directory agrees on (tenet-migrate applying it, lint,
//! the files source replaying it): which files are up migrations, the order they run in, and
//! the first-line directive that takes a file out of a transaction.

use std::path::Path;

/// The file beside the migrations that holds their checksums: a directory with it is one
/// Tenet's migrator applies.
pub const SUM_FILE: &str = "tenet.sum";

/// A migration whose first line is exactly this runs every statement on its own, outside any
/// transaction block (for a DO block with COMMIT, or a series of concurrent index builds).
pub const NO_TRANSACTION: &str = "-- tenet:no-transaction";

/// Whether the first line of `sql` is the [`NO_TRANSACTION`] directive (trailing blanks
/// allowed).
pub fn no_transaction(sql: &str) -> bool {
    sql.lines().next().map(str::trim_end) == Some(NO_TRANSACTION)
}

/// `20240101120000_add_users.up.sql` -> (`20240101120000`, `add_users`); None for a file that
/// is not an up migration.
pub fn up_version(path: &Path) -> Option<(String, String)> {
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".up.sql")?;
    let (version, name) = stem.split_once('_').unwrap_or((stem, ""));
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((version.to_string(), name.to_string()))
}

/// The order key of a version: numeric, whatever its zero padding (`0001` < `00010`), and
/// without overflow for versions of any length.
pub fn version_key(version: &str) -> (usize, String) {
    let trimmed = version.trim_start_matches('0');
    (trimmed.len(), trimmed.to_string())
}

/// Sort up migration files in the order they run: by version, then by path.
pub fn sort_up_files(files: &mut [std::path::PathBuf]) {
    files.sort_by_cached_key(|path| {
        let version = up_version(path).map(|(v, _)| v).unwrap_or_default();
        (version_key(&version), path.clone())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn versions_order_numerically() {
        assert!(version_key("9") < version_key("10"));
        assert_eq!(version_key("0001"), version_key("1"));
        let mut files: Vec<PathBuf> = ["m/00010_x.up.sql", "m/0001_y.up.sql", "m/2_z.up.sql"]
            .iter()
            .map(PathBuf::from)
            .collect();
        sort_up_files(&mut files);
        assert_eq!(
            files,
            ["m/0001_y.up.sql", "m/2_z.up.sql", "m/00010_x.up.sql"]
                .iter()
                .map(PathBuf::from)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_directive_is_the_whole_first_line() {
        assert!(no_transaction("-- tenet:no-transaction\nVACUUM t;"));
        assert!(no_transaction("-- tenet:no-transaction  \nSELECT 1;"));
        assert!(!no_transaction("-- tenet:no-transaction (x)\nSELECT 1;"));
        assert!(!no_transaction("SELECT 1;\n-- tenet:no-transaction\n"));
    }
}

//! The persistence decision log: one Markdown entry per migration saying what it changes, what
//! the plan warned about, and why. `tenet docs` reads the entries back to link each table to
//! the decisions that touched it.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

use tenet_diff::Plan;

use crate::Error;

/// Where the log lives, relative to the project root.
pub const DEFAULT_PATH: &str = "docs/persistence-decisions.md";

/// Written where no `--why` was given, so the gap is easy to find (and grep for).
pub const PLACEHOLDER: &str = "TODO(decision): say why this change was made.";

const HEADER: &str = "# Persistence decisions\n\nOne entry per migration: what it changes, the \
hazards its plan reported, and why. Written by `tenet migrate new` and `tenet decisions add`; \
edit the rationale freely, keep the `tenet:decision` comment lines.\n";

/// One decision, about one migration.
pub struct Entry<'a> {
    pub version: i64,
    /// `<version>_<name>`.
    pub migration_id: &'a str,
    pub up_file: &'a Path,
    /// UTC date, yyyy-mm-dd.
    pub date: String,
    /// The plan the migration carries out (its up direction).
    pub plan: &'a Plan,
    pub why: Option<&'a str>,
}

impl Entry<'_> {
    /// The tables the plan touches, `schema.name`.
    pub fn tables(&self) -> BTreeSet<String> {
        self.plan
            .steps
            .iter()
            .filter_map(|s| s.object.strip_prefix("table "))
            .map(str::to_string)
            .collect()
    }

    /// The entry as Markdown; `log` is where it will be written, for the link to the file.
    pub fn render(&self, log: &Path) -> String {
        let mut out = String::new();
        let (version, name) = self
            .migration_id
            .split_once('_')
            .unwrap_or((self.migration_id, ""));
        writeln!(out, "## {version} {name}\n").unwrap();
        let tables: Vec<String> = self.tables().into_iter().collect();
        writeln!(
            out,
            "<!-- tenet:decision version={} tables={} -->\n",
            self.version,
            tables.join(",")
        )
        .unwrap();
        let file = self
            .up_file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let link = relative(log.parent().unwrap_or(Path::new(".")), self.up_file);
        writeln!(out, "- **Migration:** [`{file}`]({})", link.display()).unwrap();
        writeln!(out, "- **Date:** {}", self.date).unwrap();
        writeln!(out, "- **Changes:**").unwrap();
        for line in changes(self.plan) {
            writeln!(out, "  - {line}").unwrap();
        }
        let hazards = hazards(self.plan);
        if hazards.is_empty() {
            writeln!(out, "- **Hazards:** none reported by the plan").unwrap();
        } else {
            writeln!(out, "- **Hazards:**").unwrap();
            for line in hazards {
                writeln!(out, "  - {line}").unwrap();
            }
        }
        let why = self.why.map(str::trim).filter(|w| !w.is_empty());
        writeln!(out, "- **Rationale:** {}", why.unwrap_or(PLACEHOLDER)).unwrap();
        out
    }
}

/// One line per statement the plan runs (comments summed up per object), capped so a huge
/// first migration stays readable.
fn changes(plan: &Plan) -> Vec<String> {
    const MAX: usize = 60;
    let mut lines = Vec::new();
    let mut commented = BTreeSet::new();
    for step in &plan.steps {
        for statement in step.sql.lines().filter(|l| starts_statement(l)) {
            if statement.starts_with("COMMENT ON") {
                commented.insert(step.object.clone());
                continue;
            }
            let text = shorten(statement.trim_end_matches(['(', ' ']));
            lines.push(format!("`{}`: `{text}`", step.object));
        }
    }
    lines.extend(commented.into_iter().map(|o| format!("`{o}`: comments")));
    if lines.len() > MAX {
        let more = lines.len() - MAX;
        lines.truncate(MAX);
        lines.push(format!(
            "… and {more} more statements (see the migration file)"
        ));
    }
    lines
}

/// A statement cut to a readable length.
fn shorten(statement: &str) -> String {
    if statement.chars().count() > 110 {
        statement.chars().take(110).collect::<String>() + "…"
    } else {
        statement.to_string()
    }
}

fn starts_statement(line: &str) -> bool {
    [
        "CREATE ",
        "ALTER ",
        "DROP ",
        "COMMENT ON",
        "GRANT ",
        "REVOKE ",
        "DO ",
        "SELECT ",
    ]
    .iter()
    .any(|k| line.starts_with(k))
}

fn hazards(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| !s.hazards.is_empty() || s.lock.is_some() || !s.transactional)
        .map(|s| {
            let mut notes: Vec<String> = Vec::new();
            if let Some(lock) = s.lock {
                notes.push(format!("{} lock", lock.sql_name()));
            }
            notes.extend(s.hazards.iter().map(|h| h.describe().to_string()));
            if !s.transactional {
                notes.push("runs outside a transaction".into());
            }
            let first = shorten(s.sql.lines().next().unwrap_or_default());
            format!("`{}` (`{first}`): {}", s.object, notes.join(", "))
        })
        .collect()
}

/// Append an entry to the log, creating the file (with its header) when missing.
pub fn append(log: &Path, entry: &Entry) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: log.to_path_buf(),
        source,
    };
    let mut text = match std::fs::read_to_string(log) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_string(),
        Err(e) => return Err(io(e)),
    };
    if read_text(&text).iter().any(|d| d.version == entry.version) {
        return Err(Error::Invalid(format!(
            "{} already has an entry for migration {}; edit it there",
            log.display(),
            entry.migration_id
        )));
    }
    if !text.ends_with("\n\n") {
        text.push('\n');
    }
    text.push_str(&entry.render(log));
    if let Some(parent) = log.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(log, text).map_err(io)
}

/// The log's header alone, for `tenet init`.
pub fn empty_log() -> &'static str {
    HEADER
}

/// A decision as `tenet docs` links to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub version: i64,
    /// The heading text (`<version> <name>`).
    pub title: String,
    /// GitHub's anchor for the heading.
    pub anchor: String,
    pub tables: Vec<String>,
}

/// The entries of a log; a missing file has none.
pub fn read(log: &Path) -> Vec<Recorded> {
    std::fs::read_to_string(log)
        .map(|text| read_text(&text))
        .unwrap_or_default()
}

fn read_text(text: &str) -> Vec<Recorded> {
    let mut out = Vec::new();
    let mut title = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            title = Some(heading.trim().to_string());
        }
        let Some(rest) = line
            .strip_prefix("<!-- tenet:decision ")
            .and_then(|r| r.strip_suffix(" -->"))
        else {
            continue;
        };
        let field = |key: &str| {
            rest.split(' ')
                .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
                .unwrap_or_default()
        };
        let Ok(version) = field("version").parse::<i64>() else {
            continue;
        };
        let title = title.clone().unwrap_or_else(|| version.to_string());
        out.push(Recorded {
            version,
            anchor: github_anchor(&title),
            title,
            tables: field("tables")
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        });
    }
    out
}

/// GitHub's heading anchor: lower case, spaces to `-`, punctuation other than `-` and `_`
/// dropped.
fn github_anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// `to` relative to the directory `from` (both relative to the same root, or both absolute).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    fn normal(p: &Path) -> Vec<Component<'_>> {
        p.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    }
    let (from, to) = (normal(from), normal(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_anchors() {
        assert_eq!(
            relative(Path::new("./docs"), Path::new("migrations/1_a.up.sql")),
            PathBuf::from("../migrations/1_a.up.sql")
        );
        assert_eq!(
            relative(Path::new("p/docs"), Path::new("p/migrations/x.sql")),
            PathBuf::from("../migrations/x.sql")
        );
        assert_eq!(
            github_anchor("20261130061500 add_tasks"),
            "20261130061500-add_tasks"
        );
    }

    #[test]
    fn entries_read_back() {
        let text = "# x\n\n## 1 init\n\n<!-- tenet:decision version=1 tables=public.a,public.b -->\n- ...\n## 2 more\n<!-- tenet:decision version=2 tables= -->\n";
        let read = read_text(text);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].tables, vec!["public.a", "public.b"]);
        assert_eq!(read[0].anchor, "1-init");
        assert!(read[1].tables.is_empty());
    }
}

//! Findings: what lint, advise and the tenancy checks report, in one shape, so every command
//! prints, filters and exits the same way.
//!
//! Outputs:
//! - [`to_human`]: plain blocks, one per finding (no source needed);
//! - [`to_human_with`]: compiler-style diagnostics, the source line underlined when the caller
//!   hands the file's text in [`Sources`] (optionally in colour);
//! - [`to_json`]: a JSON array of [`Finding`];
//! - [`to_sarif`]: SARIF 2.1.0 with rule metadata, uploadable to GitHub code scanning.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod sarif;

pub use sarif::to_sarif;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a file a finding points: 1-based lines and columns (columns in characters).
/// `end_line`/`end_column` is the position just past the last character (exclusive), as in
/// SARIF regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Location {
    /// The location of the byte range `start..end` of `text` (a file's whole contents).
    /// Offsets are clamped to the text and moved back to character boundaries.
    pub fn from_span(file: impl Into<String>, text: &str, start: usize, end: usize) -> Location {
        let start = floor_boundary(text, start.min(text.len()));
        let end = floor_boundary(text, end.clamp(start, text.len()));
        let (line, column) = line_column(text, start);
        let (end_line, end_column) = line_column(text, end);
        Location {
            file: file.into(),
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// Byte range of this location in `text` (the inverse of [`Location::from_span`]); `None`
    /// when the line is past the end of the text.
    pub fn span_in(&self, text: &str) -> Option<(usize, usize)> {
        let start = offset_of(text, self.line, self.column)?;
        let end = offset_of(text, self.end_line, self.end_column)
            .unwrap_or(text.len())
            .max(start);
        Some((start, end))
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and character column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = memchr_count(before.as_bytes(), b'\n') + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn memchr_count(bytes: &[u8], needle: u8) -> usize {
    bytes.iter().filter(|&&b| b == needle).count()
}

/// Byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut line_start = 0;
    for _ in 1..line {
        line_start += text[line_start..].find('\n')? + 1;
    }
    let line_text = &text[line_start..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    let offset = line_text[..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_end, |(i, _)| i);
    Some(line_start + offset)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `rls-not-forced`.
    pub rule: String,
    pub severity: Severity,
    /// The object it names: `table public.tasks`, `role app_user`, `function public.f(uuid)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
    /// Why it matters.
    pub why: String,
    /// How to fix it.
    pub fix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// What a rule is, for SARIF's rule metadata (and for `--explain`-style listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The rule id findings carry, e.g. `index-not-concurrent`.
    pub id: String,
    /// Default severity.
    pub severity: Severity,
    /// One line: what the rule reports.
    pub summary: String,
    /// Why it matters and what to do instead.
    pub help: String,
}

/// Exit code for a set of findings: 1 when any is an error, else 0.
pub fn exit_code(findings: &[Finding]) -> i32 {
    i32::from(findings.iter().any(|f| f.severity == Severity::Error))
}

/// Findings as a JSON array (stable field names; see [`Finding`]).
pub fn to_json(findings: &[Finding]) -> String {
    let mut json = serde_json::to_string_pretty(findings).expect("findings serialize");
    json.push('\n');
    json
}

/// Findings for a person: one block per finding, most severe first as given.
pub fn to_human(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        if let Some(l) = &f.location {
            out.push_str(&format!("{}:{}:{}: ", l.file, l.line, l.column));
        }
        out.push_str(&format!("{}[{}]: {}\n", f.severity, f.rule, f.message));
        if let Some(object) = &f.object {
            out.push_str(&format!("  object: {object}\n"));
        }
        out.push_str(&format!("  why: {}\n  fix: {}\n", f.why, f.fix));
    }
    out
}

/// The text of the files findings point into, by the name used in [`Location::file`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: HashMap<String, String>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn insert(&mut self, file: impl Into<String>, text: impl Into<String>) {
        self.files.insert(file.into(), text.into());
    }

    pub fn get(&self, file: &str) -> Option<&str> {
        self.files.get(file).map(String::as_str)
    }
}

/// Findings as compiler-style diagnostics: `error[rule]: message`, the file, line and column,
/// the source line with the offending part underlined (when its text is in `sources`), then
/// the object, why it matters and how to fix it. `color` adds ANSI styles (for a terminal).
pub fn to_human_with(findings: &[Finding], sources: &Sources, color: bool) -> String {
    use annotate_snippets::{Level, Renderer, Snippet};

    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Info,
        };
        let object = f.object.as_ref().map(|o| format!("object: {o}"));
        let why = format!("why: {}", f.why);
        let mut message = level.title(&f.message).id(&f.rule);
        // Cut the source to the lines the finding spans: rendering stays proportional to the
        // finding, not to the file.
        let excerpt = f.location.as_ref().and_then(|l| {
            let text = sources.get(&l.file)?;
            let (start, end) = l.span_in(text)?;
            let first = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let last = text[end..].find('\n').map_or(text.len(), |i| end + i);
            let mut span = (start - first)..(end - first);
            let slice = &text[first..last];
            if span.is_empty() {
                // Point at one character (or one column past the end of the line).
                span.end = slice[span.start..]
                    .chars()
                    .next()
                    .map_or(span.start + 1, |c| span.start + c.len_utf8());
            }
            Some((l, slice, span))
        });
        let origin_line;
        match &excerpt {
            Some((l, slice, span)) => {
                message = message.snippet(
                    Snippet::source(slice)
                        .line_start(l.line)
                        .origin(&l.file)
                        .fold(true)
                        .annotation(level.span(span.clone())),
                );
            }
            None => {
                if let Some(l) = &f.location {
                    origin_line = format!("at: {}:{}:{}", l.file, l.line, l.column);
                    message = message.footer(Level::Note.title(&origin_line));
                }
            }
        }
        if let Some(object) = &object {
            message = message.footer(Level::Note.title(object));
        }
        message = message
            .footer(Level::Note.title(&why))
            .footer(Level::Help.title(&f.fix));
        out.push_str(&renderer.render(message).to_string());
        out.push_str("\n\n");
    }
    out
}

/// One line counting findings by severity: `2 errors, 1 warning, 0 infos`, or `no findings`.
pub fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".to_string();
    }
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ]
    .iter()
    .map(|(s, word)| plural(counts.get(s).copied().unwrap_or(0), word))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Order findings for output: by file, line and column (findings without a location last, by
/// object), then rule.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                f.location.is_none(),
                f.location
                    .as_ref()
                    .map(|l| (l.file.clone(), l.line, l.column)),
                f.object.clone(),
                f.rule.clone(),
                f.message.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// A JSON value for a finding list, for callers that embed findings in a larger document.
pub fn to_value(findings: &[Finding]) -> Value {
    serde_json::to_value(findings).unwrap_or_else(|_| json!([]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip_through_spans() {
        let text = "select 1;\ncreate index é_idx on t (x);\n";
        let start = text.find("é_idx").unwrap();
        let end = start + "é_idx".len();
        let l = Location::from_span("f.sql", text, start, end);
        assert_eq!((l.line, l.column, l.end_line, l.end_column), (2, 14, 2, 19));
        assert_eq!(l.span_in(text), Some((start, end)));
    }

    #[test]
    fn summary_counts_by_severity() {
        let f = |severity| Finding {
            rule: "r".into(),
            severity,
            object: None,
            message: "m".into(),
            why: "w".into(),
            fix: "f".into(),
            location: None,
        };
        assert_eq!(summary(&[]), "no findings");
        assert_eq!(
            summary(&[f(Severity::Error), f(Severity::Info), f(Severity::Info)]),
            "1 error, 0 warnings, 2 infos"
        );
    }
}

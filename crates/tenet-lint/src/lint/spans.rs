//! Where in the statement a finding points: pg_query gives byte offsets for most nodes but not
//! for every clause, so these helpers find the words that matter among the statement's tokens.

use super::Ctx;
use crate::lexer;

impl Ctx<'_> {
    /// From the first token through the first token equal to `last` (e.g. `CREATE ... INDEX`).
    pub(super) fn head_through(&self, last: &str) -> (usize, usize) {
        let end = self
            .view
            .tokens
            .iter()
            .find(|t| t.text == last)
            .map_or(self.view.code.1, |t| t.end);
        (self.view.code.0, end)
    }

    /// From `start` to the end of its line (or of the statement), trailing blanks trimmed.
    pub(super) fn to_line_end(&self, start: usize) -> (usize, usize) {
        let (code_start, code_end) = self.view.code;
        let start = start.clamp(code_start, code_end);
        let line_end = self.sql[start..]
            .find('\n')
            .map_or(self.sql.len(), |i| start + i);
        // The last token ending on this line.
        let end = self
            .view
            .tokens
            .iter()
            .filter(|t| t.start >= start && t.end <= line_end.min(code_end))
            .map(|t| t.end)
            .next_back()
            .unwrap_or_else(|| line_end.min(code_end));
        let end = if self.sql[start..end].ends_with(',') {
            end - 1
        } else {
            end
        };
        (start, end.max(start))
    }

    /// The first line of the statement.
    pub(super) fn first_line(&self) -> (usize, usize) {
        self.to_line_end(self.view.code.0)
    }

    /// Span of the token starting at `offset`.
    pub(super) fn token_at(&self, offset: usize) -> (usize, usize) {
        match lexer::at_offset(&self.view.tokens, offset) {
            Some(i) => (self.view.tokens[i].start, self.view.tokens[i].end),
            None => (offset, offset),
        }
    }

    /// The first token with this text, or the first line.
    pub(super) fn word(&self, word: &str) -> (usize, usize) {
        self.view
            .tokens
            .iter()
            .find(|t| t.text == word)
            .map_or_else(|| self.first_line(), |t| (t.start, t.end))
    }

    /// The words `seq` at or after the cursor; moves the cursor past them.
    pub(super) fn find_words(&mut self, seq: &[&str]) -> Option<(usize, usize)> {
        let tokens = &self.view.tokens;
        let i = lexer::find_seq(tokens, self.view.cursor, seq)
            .or_else(|| lexer::find_seq(tokens, 0, seq))?;
        self.view.cursor = i + seq.len();
        Some((tokens[i].start, tokens[i + seq.len() - 1].end))
    }

    /// A type name written at `offset`: its words, modifiers in parentheses and array bounds.
    pub(super) fn type_span(&self, offset: usize) -> (usize, usize) {
        let tokens = &self.view.tokens;
        let Some(mut i) = lexer::at_offset(tokens, offset) else {
            return (offset, offset);
        };
        let start = tokens[i].start;
        let mut end = tokens[i].end;
        const CONTINUES: &[&str] = &[
            "varying",
            "precision",
            "without",
            "with",
            "time",
            "zone",
            ".",
        ];
        i += 1;
        while i < tokens.len() {
            let t = &tokens[i];
            if t.text == "(" || t.text == "[" {
                let close = if t.text == "(" { ")" } else { "]" };
                match tokens[i..].iter().position(|t| t.text == close) {
                    Some(k) => {
                        end = tokens[i + k].end;
                        i += k + 1;
                    }
                    None => break,
                }
            } else if CONTINUES.contains(&t.text.as_str())
                || (tokens[i - 1].text == "." && !t.text.is_empty())
            {
                end = t.end;
                i += 1;
            } else {
                break;
            }
        }
        (start, end)
    }

    /// The text of a span.
    pub(super) fn text(&self, span: (usize, usize)) -> &str {
        &self.sql[span.0..span.1]
    }
}

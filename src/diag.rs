//! Diagnostics: problems found in user input, collected (never first-error-only) and
//! rendered with the file, line and column they point at, plus a hint on how to fix them.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What is shown where a sensitive value would stand.
pub const SENSITIVE: &str = "(sensitive value)";

/// Would `c` act on a terminal rather than show as itself: a control character (C0
/// other than newline and tab, DEL, C1: escape sequences start with ESC or CSI) or an
/// invisible formatting character that reorders or hides text (bidirectional overrides
/// and isolates, zero-width characters, the byte order mark).
fn acts(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `s` as it may be printed to a terminal: every character that would act on it instead of
/// showing ([`acts`]) written as its escape (`\u{1b}`), so text from a file, state or AWS
/// can neither move the cursor, erase what was printed, nor hide or reorder itself. Every
/// diagnostic, error and plan passes through it on the way out.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| if acts(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect())
}

/// A position in a source file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub file: Arc<PathBuf>,
    pub line: usize,
    pub col: usize,
}

impl Span {
    pub fn new(file: &Arc<PathBuf>, line: usize, col: usize) -> Span {
        Span { file: file.clone(), line, col }
    }

    /// A span for a whole file, when nothing more precise is known.
    pub fn file(path: &Path) -> Span {
        Span { file: Arc::new(path.to_path_buf()), line: 0, col: 0 }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem: a fixed short summary ("Unknown property"), a detail naming the
/// offending thing, where it is, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: &'static str,
    pub detail: String,
    pub span: Option<Span>,
    pub hint: Option<String>,
    /// The rule it is a finding of (`CB301`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// The resource it is about, for rules a resource may suppress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: &'static str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary,
            detail: detail.into(),
            span: None,
            hint: None,
            rule: None,
            resource: None,
        }
    }

    pub fn warning(summary: &'static str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(summary, detail) }
    }

    pub fn at(mut self, span: &Span) -> Diagnostic {
        self.span = Some(span.clone());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let sev = match self.rule {
            Some(id) => format!("{sev}[{id}]"),
            None => sev.to_string(),
        };
        let detail = printable(&self.detail);
        match &self.span {
            Some(span) => write!(f, "{sev}: {}\n  --> {}\n  {detail}", self.summary, printable(&span.to_string()))?,
            None => write!(f, "{sev}: {}\n  {detail}", self.summary)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {}", printable(h))?;
        }
        Ok(())
    }
}

/// An ordered collection of diagnostics produced by one stage.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Sort by location so the rendering is stable and follows the file.
    pub fn sorted(mut self) -> Diagnostics {
        self.0.sort_by(|a, b| {
            let ka = a.span.as_ref().map(|s| (s.file.clone(), s.line, s.col));
            let kb = b.span.as_ref().map(|s| (s.file.clone(), s.line, s.col));
            ka.cmp(&kb)
        });
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}\n")?;
        }
        let n = self.0.iter().filter(|d| d.severity == Severity::Error).count();
        let w = self.0.len() - n;
        write!(f, "{n} error{} found", if n == 1 { "" } else { "s" })?;
        if w > 0 {
            write!(f, " ({w} warning{})", if w == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name holding an escape sequence (`\x1b[2J` erases the screen) is shown as text;
    /// before, a diagnostic echoed it raw.
    #[test]
    fn nothing_printed_acts_on_the_terminal() {
        assert_eq!(printable("plain `name`\n\tnext"), "plain `name`\n\tnext");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("\u{9b}31m\u{7f}\r"), "\\u{9b}31m\\u{7f}\\u{d}");
        assert_eq!(printable("x\u{202e}gnp.exe"), "x\\u{202e}gnp.exe");
        assert_eq!(printable("a\u{61c}b\u{e0041}"), "a\\u{61c}b\\u{e0041}");
        let d = Diagnostic::error("Invalid name", "output name `a\u{1b}[1A\u{1b}[2K` is bad")
            .at(&Span::new(&Arc::new(PathBuf::from("stacks/\u{1b}]8;;x.yaml")), 1, 2))
            .hint("rename `\u{7}`");
        let shown = d.to_string();
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
        assert!(shown.contains("output name `a\\u{1b}[1A\\u{1b}[2K` is bad"), "{shown}");
    }
}

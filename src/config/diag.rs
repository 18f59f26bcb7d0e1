//! Config diagnostics: every problem found in one pass, each pointing at its source text.

use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable code, e.g. `config::unknown-key`.
    pub code: &'static str,
    pub message: String,
    pub span: Range<usize>,
    pub label: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: &'static str, span: Range<usize>, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            span,
            label: "here".into(),
            help: None,
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// All problems of one config file. Renders as one miette report with a related
/// diagnostic per problem, each showing `file:line:col`.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub path: String,
    pub source_text: Arc<String>,
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// `line:col` (1-based, in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source_text, offset)
    }

    /// One line per problem, `file:line:col: message (help)`, for logs and JSON.
    pub fn plain_lines(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| {
                let (l, c) = self.line_col(p.span.start);
                match &p.help {
                    Some(h) => format!("{}:{l}:{c}: {} (help: {h})", self.path, p.message),
                    None => format!("{}:{l}:{c}: {}", self.path, p.message),
                }
            })
            .collect()
    }
}

impl ConfigError {
    /// The error for `text` with every byte range of `secrets` replaced by `****` in the
    /// source it quotes (problem spans moved along), so a snippet never shows a secret.
    pub fn masked(
        path: &str,
        text: &str,
        mut problems: Vec<Problem>,
        secrets: &[Range<usize>],
    ) -> Self {
        let mut masks: Vec<Range<usize>> = secrets
            .iter()
            .filter(|r| r.start < r.end && r.end <= text.len())
            .cloned()
            .collect();
        masks.sort_by_key(|r| r.start);
        masks.dedup_by(|b, a| b.start < a.end);
        let mask = crate::secret::MASK;
        let remap = |off: usize| -> usize {
            let mut shift: isize = 0;
            for m in &masks {
                if off >= m.end {
                    shift += mask.len() as isize - m.len() as isize;
                } else if off > m.start {
                    return (m.start as isize + shift) as usize + mask.len().min(off - m.start);
                }
            }
            (off as isize + shift) as usize
        };
        let mut source = String::with_capacity(text.len());
        let mut last = 0;
        for m in &masks {
            // Cut at character boundaries only.
            let (start, end) = (
                (0..=m.start)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0),
                (m.end..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len()),
            );
            if start < last {
                continue;
            }
            source.push_str(&text[last..start]);
            source.push_str(mask);
            last = end;
        }
        source.push_str(&text[last..]);
        for p in &mut problems {
            p.span = remap(p.span.start)..remap(p.span.end).max(remap(p.span.start));
        }
        ConfigError {
            path: path.to_owned(),
            source_text: Arc::new(source),
            problems,
        }
    }
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{} has {n} problem{}",
            self.path,
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for ConfigError {}

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("neon_migrate::config"))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(
            "fix every problem listed, then run `neon-migrate check` again",
        ))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// A single problem renders with its own source snippet.
impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            self.span.clone(),
        ))))
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Problem {}

/// Wraps a problem with the file's source so miette can draw the snippet.
pub struct WithSource<'a> {
    pub problem: &'a Problem,
    pub source: NamedSource<String>,
}

impl std::fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.problem.fmt(f)
    }
}
impl std::fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.problem, f)
    }
}
impl std::error::Error for WithSource<'_> {}
impl Diagnostic for WithSource<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.problem.code()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.problem.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.problem.labels()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
}

/// Renders every problem as a miette report, without color and at a fixed width when
/// `plain` is set (tests, pipes).
pub fn render(err: &ConfigError, plain: bool) -> String {
    let handler = if plain {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
    } else {
        miette::GraphicalReportHandler::new().with_width(100)
    };
    let mut out = format!("error: {err}\n");
    for problem in &err.problems {
        let (line, col) = err.line_col(problem.span.start);
        let wrapped = WithSource {
            problem,
            source: NamedSource::new(err.path.clone(), err.source_text.as_str().to_owned()),
        };
        out.push_str(&format!("\n{}:{line}:{col}\n", err.path));
        let mut buf = String::new();
        let _ = handler.render_report(&mut buf, &wrapped);
        out.push_str(&buf);
    }
    out
}

/// The nearest valid name by edit distance, if it is near enough to be a likely typo.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given_l = given.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&given_l, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(given.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" plus the full list of valid names, for help lines.
pub fn suggest(given: &str, what: &str, candidates: &[&str]) -> String {
    let list = candidates
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match did_you_mean(given, candidates.iter().copied()) {
        Some(near) => format!("did you mean `{near}`? valid {what}: {list}"),
        None if candidates.is_empty() => format!("no {what} are accepted here"),
        None => format!("valid {what}: {list}"),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let names = ["migrate", "checks", "apply", "delete-neon-database-branch"];
        assert_eq!(did_you_mean("migrat", names), Some("migrate"));
        assert_eq!(did_you_mean("chekcs", names), Some("checks"));
        assert_eq!(
            did_you_mean("delete-neon-db-branch", names),
            Some("delete-neon-database-branch")
        );
        assert_eq!(did_you_mean("xyz", names), None);
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}

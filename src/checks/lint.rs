//! `lint`: zero-downtime hazards in the SQL that runs, with squawk's linter (the
//! `squawk-linter` crate, pinned) rather than a rewrite of its rules.
//!
//! For the built-in `sql` tool the migration files applied in this run are linted; tools
//! that generate SQL lint through their "print SQL" mode. Findings carry `file:line` and
//! squawk's help; rules can be ignored or downgraded to warnings in config. A rule that
//! predicts a table rewrite is downgraded when the locks check observed none.

use std::path::Path;

use squawk_linter::{Linter, Rule};

use super::{Finding, Observations, Severity};
use crate::config::LintCheck;

/// Every rule name squawk knows.
pub fn rule_names() -> Vec<&'static str> {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            enum_iterator::all::<Rule>()
                .map(|r| &*Box::leak(r.to_string().into_boxed_str()))
                .collect()
        })
        .clone()
}

/// What the rule is about, in zero-downtime terms, for findings' "why".
fn why(rule: &str) -> &'static str {
    match rule {
        "require-concurrent-index-creation" => "a plain CREATE INDEX holds a SHARE lock for the whole build: every write to the table waits",
        "require-concurrent-index-deletion" => "a plain DROP INDEX takes an ACCESS EXCLUSIVE lock: reads and writes wait",
        "constraint-missing-not-valid" => "adding a constraint scans the table while holding a lock that blocks writes",
        "adding-foreign-key-constraint" => "a foreign key scans the table under SHARE ROW EXCLUSIVE on both tables: writes wait",
        "changing-column-type" => "a type change takes ACCESS EXCLUSIVE and may rewrite the table: reads and writes wait",
        "adding-not-nullable-field" => "SET NOT NULL scans the table under ACCESS EXCLUSIVE",
        "adding-field-with-default" => "a volatile default rewrites the table under ACCESS EXCLUSIVE",
        "disallowed-unique-constraint" | "adding-serial-primary-key-field" => "the constraint's index is built under ACCESS EXCLUSIVE",
        "ban-drop-column" | "ban-drop-table" | "renaming-column" | "renaming-table" => "clients still running the old code break",
        "require-timeout-settings" | "require-lock-timeout" | "require-statement-timeout" => "without timeouts a statement queued behind a long transaction blocks everything queued behind it",
        _ => "it can block or break production traffic while the migration runs",
    }
}

/// Lints one migration file.
pub fn lint_text(
    file: &str,
    text: &str,
    cfg: &LintCheck,
    pg_major: i32,
    in_transaction: bool,
) -> Vec<Finding> {
    let parse = squawk_syntax::SourceFile::parse(text);
    let mut linter = Linter::with_default_rules();
    if let Ok(v) = format!("{pg_major}").parse() {
        linter.settings.pg_version = v;
    }
    linter.settings.assume_in_transaction = in_transaction;
    let mut out = Vec::new();
    for v in linter.lint(&parse, text) {
        let rule = v.code.to_string();
        if cfg.ignore.contains(&rule) {
            continue;
        }
        let offset: usize = v.text_range.start().into();
        let (line, col) = crate::config::diag::line_col(text, offset);
        let severity = if cfg.warn.contains(&rule) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let mut f = Finding::new(
            "lint",
            severity,
            format!("{rule}: {}", v.message),
            why(&rule),
        )
        .at(format!("{file}:{line}:{col}"));
        if let Some(h) = v.help {
            f = f.fix(h);
        }
        out.push(f);
    }
    out
}

/// Lints the files applied in this run; downgrades rewrite predictions the locks check
/// refuted.
pub fn lint_files(
    dir: &Path,
    obs: &Observations,
    cfg: &LintCheck,
    pg_major: i32,
) -> Result<Vec<Finding>, String> {
    let mut findings = Vec::new();
    for file in &obs.applied {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let in_tx = !text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
            .any(|l| l.contains(crate::tools::sql::NO_TRANSACTION));
        for mut f in lint_text(file, &text, cfg, pg_major, in_tx) {
            if f.what.starts_with("changing-column-type") {
                let line_text = f
                    .location
                    .as_deref()
                    .and_then(|l| l.split(':').nth(1))
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| text.lines().nth(n - 1))
                    .unwrap_or("");
                let rewritten = obs.locks.as_ref().map(|l| {
                    l.rewrites
                        .iter()
                        .any(|t| line_text.contains(t.rsplit('.').next().unwrap_or(t)))
                });
                if rewritten == Some(false) {
                    f.severity = Severity::Info;
                    f.what.push_str(
                        " — observed on the test Neon database branch: no table was rewritten",
                    );
                }
            }
            findings.push(f);
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LintCheck {
        LintCheck {
            enabled: true,
            ignore: Vec::new(),
            warn: Vec::new(),
        }
    }

    #[test]
    fn flags_a_blocking_index_build_with_its_line() {
        let f = lint_text(
            "0002_idx.sql",
            "-- comment\nCREATE INDEX i ON t (x);\n",
            &cfg(),
            15,
            true,
        );
        let idx = f
            .iter()
            .find(|f| f.what.starts_with("require-concurrent-index-creation"))
            .expect("rule fires");
        assert_eq!(idx.location.as_deref(), Some("0002_idx.sql:2:1"));
        assert_eq!(idx.severity, Severity::Error);
    }

    #[test]
    fn ignore_and_warn_lists_apply() {
        let mut c = cfg();
        c.ignore = vec!["require-concurrent-index-creation".into()];
        let f = lint_text("a.sql", "CREATE INDEX i ON t (x);", &c, 15, true);
        assert!(!f
            .iter()
            .any(|f| f.what.starts_with("require-concurrent-index-creation")));
        let mut c = cfg();
        c.warn = vec!["ban-drop-column".into()];
        let f = lint_text("a.sql", "ALTER TABLE t DROP COLUMN x;", &c, 15, true);
        assert!(
            f.iter()
                .any(|f| f.what.starts_with("ban-drop-column") && f.severity == Severity::Warning),
            "{f:?}"
        );
    }

    #[test]
    fn knows_rule_names() {
        assert!(rule_names().contains(&"changing-column-type"));
    }
}

//! The checks of the `checks` stage, one file each: declared SQL assertions, the schema diff
//! (what the migration really changed), zero-downtime lint, observed locks, data loss, and
//! reversibility.
//!
//! The test Neon database branch holds a copy of production data, so several checks measure
//! instead of guessing: the `migrate` stage records the schema, row counts and physical
//! files before the migration and samples the locks it takes while it runs
//! ([`Observations`]); the checks compare. Observed facts override static guesses — a
//! `varchar` widening that rewrote nothing is not reported as a rewrite. Every check runs,
//! even after another failed, so one failure never hides another. Each finding says what,
//! where, why it matters for zero downtime, and how to do it safely.

pub mod data;
pub mod integrity;
pub mod lint;
pub mod locks;
pub mod reversible;
pub mod schema;
pub mod shadowing;
pub mod sql;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::schema::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Fails the check.
    Error,
    /// Shown, does not fail.
    Warning,
    /// A fact worth knowing.
    Info,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub severity: Severity,
    /// What happened.
    pub what: String,
    /// Where: `file:line`, a table, a statement.
    pub location: Option<String>,
    /// Why it matters for zero downtime.
    pub why: String,
    /// How to do it safely.
    pub fix: Option<String>,
}

impl Finding {
    pub fn new(
        check: &str,
        severity: Severity,
        what: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Finding {
            check: check.into(),
            severity,
            what: what.into(),
            location: None,
            why: why.into(),
            fix: None,
        }
    }
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Nothing to check (no migration applied in this run).
    Skipped,
    /// Enabled, but could not run: nothing it guards was proven. Counted in the summary;
    /// with `required = true` the stage fails.
    NotRun,
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub status: CheckStatus,
    pub summary: String,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl CheckResult {
    /// Passed unless a finding is an error.
    pub fn from_findings(
        name: &str,
        summary: impl Into<String>,
        findings: Vec<Finding>,
        details: Vec<String>,
    ) -> Self {
        let failed = findings.iter().any(|f| f.severity == Severity::Error);
        CheckResult {
            name: name.into(),
            status: if failed {
                CheckStatus::Failed
            } else {
                CheckStatus::Passed
            },
            summary: summary.into(),
            findings,
            details,
        }
    }
    pub fn skipped(name: &str, why: impl Into<String>) -> Self {
        CheckResult {
            name: name.into(),
            status: CheckStatus::Skipped,
            summary: why.into(),
            findings: Vec::new(),
            details: Vec::new(),
        }
    }
    pub fn not_run(name: &str, why: impl Into<String>) -> Self {
        CheckResult {
            name: name.into(),
            status: CheckStatus::NotRun,
            summary: format!("NOT RUN: {}", why.into()),
            findings: Vec::new(),
            details: Vec::new(),
        }
    }
    pub fn failed(name: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        CheckResult {
            name: name.into(),
            status: CheckStatus::Failed,
            summary: why.clone(),
            findings: vec![Finding::new(
                name,
                Severity::Error,
                why,
                "the check could not run, so nothing it guards was proven",
            )],
            details: Vec::new(),
        }
    }
}

/// Row count of one table, and whether it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowCount {
    pub rows: i64,
    pub exact: bool,
}

/// What the `migrate` stage recorded for the checks.
#[derive(Debug, Default)]
pub struct Observations {
    /// Schema of the test Neon database branch before the migration (= the parent's).
    pub before: Option<Model>,
    /// Row counts before the migration.
    pub rows_before: Option<BTreeMap<String, RowCount>>,
    /// Locks, rewrites and statement durations seen while the migration ran.
    pub locks: Option<locks::LockReport>,
    /// Migrations applied in this run, in order.
    pub applied: Vec<String>,
    /// What the tool's print-SQL mode printed before the migration ran (the SQL of the
    /// pending migrations), or why it could not be had; `None` when not asked for.
    pub pending_sql: Option<Result<String, String>>,
    /// The tool's tracking rows before the migration (what `reversible` goes back to).
    pub tracked_before: Option<Vec<String>>,
    /// Functions and operators outside `pg_catalog` that share a built-in's name, before the
    /// migration (see [`shadowing`]).
    pub shadows_before: Option<BTreeSet<String>>,
    /// The `integrity` check's fingerprints, recorded before the migration.
    pub integrity: Option<integrity::Recorded>,
}

impl Observations {
    /// `Some(true)` if the table was observed to be rewritten, `Some(false)` if observed not
    /// to be, `None` when nothing was observed.
    pub fn rewritten(&self, table: &str) -> Option<bool> {
        self.locks.as_ref().map(|l| l.rewrites.contains(table))
    }
}

/// The table an `ALTER TABLE x …` / `CREATE INDEX … ON x` statement is about.
pub fn table_of(sql: &str) -> Option<String> {
    let s = sql.trim_start();
    let after = if let Some(rest) = s.strip_prefix("ALTER TABLE ") {
        rest.strip_prefix("ONLY ").unwrap_or(rest)
    } else if s.starts_with("CREATE") && s.contains(" INDEX ") {
        s.split(" ON ")
            .nth(1)
            .map(|r| r.strip_prefix("ONLY ").unwrap_or(r))?
    } else {
        return None;
    };
    after
        .split_whitespace()
        .next()
        .map(|t| t.trim_end_matches(';').to_owned())
}

/// Lock modes, weakest first.
pub const LOCK_MODES: &[&str] = &[
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// "ACCESS EXCLUSIVE" for "AccessExclusiveLock".
pub fn lock_name(mode: &str) -> String {
    let bare = mode.trim_end_matches("Lock");
    let mut out = String::new();
    for (i, c) in bare.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Tables named in `allow` lists may be written with or without `public.`.
pub fn table_listed(list: &[String], table: &str) -> bool {
    let bare = table.strip_prefix("public.").unwrap_or(table);
    list.iter()
        .any(|t| t == table || t == bare || t.trim_matches('"') == bare.trim_matches('"'))
}

/// Deduplicated, ordered set of strings (for details).
pub fn set<I: IntoIterator<Item = String>>(it: I) -> BTreeSet<String> {
    it.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_of_statements() {
        assert_eq!(
            table_of("ALTER TABLE public.t ADD COLUMN x int").as_deref(),
            Some("public.t")
        );
        assert_eq!(
            table_of("CREATE INDEX CONCURRENTLY i ON public.t USING btree (x)").as_deref(),
            Some("public.t")
        );
        assert_eq!(
            table_of("CREATE INDEX i ON ONLY public.p USING btree (x)").as_deref(),
            Some("public.p")
        );
        assert_eq!(table_of("DROP TABLE public.t"), None);
    }

    #[test]
    fn lock_names_read_like_the_docs() {
        assert_eq!(lock_name("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(lock_name("ShareLock"), "SHARE");
        assert_eq!(lock_name("ShareRowExclusiveLock"), "SHARE ROW EXCLUSIVE");
    }
}

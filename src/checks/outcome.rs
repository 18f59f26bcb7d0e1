//! What a check concludes: one [`CheckResult`] (status, summary, findings, details) per
//! check, the same shape in every output.

use serde::Serialize;

use super::sql::Assertion;

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
    /// The declared SQL assertions one by one (`sql` only): the report lists them under the
    /// stage's `checks`, not here.
    #[serde(skip)]
    pub assertions: Vec<Assertion>,
}

impl CheckResult {
    fn new(name: &str, status: CheckStatus, summary: String, findings: Vec<Finding>) -> Self {
        CheckResult {
            name: name.into(),
            status,
            summary,
            findings,
            details: Vec::new(),
            assertions: Vec::new(),
        }
    }
    /// Passed unless a finding is an error.
    pub fn from_findings(
        name: &str,
        summary: impl Into<String>,
        findings: Vec<Finding>,
        details: Vec<String>,
    ) -> Self {
        let failed = findings.iter().any(|f| f.severity == Severity::Error);
        let status = if failed {
            CheckStatus::Failed
        } else {
            CheckStatus::Passed
        };
        CheckResult {
            details,
            ..CheckResult::new(name, status, summary.into(), findings)
        }
    }
    pub fn skipped(name: &str, why: impl Into<String>) -> Self {
        CheckResult::new(name, CheckStatus::Skipped, why.into(), Vec::new())
    }
    pub fn not_run(name: &str, why: impl Into<String>) -> Self {
        let summary = format!("NOT RUN: {}", why.into());
        CheckResult::new(name, CheckStatus::NotRun, summary, Vec::new())
    }
    pub fn failed(name: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        let finding = Finding::new(
            name,
            Severity::Error,
            why.clone(),
            "the check could not run, so nothing it guards was proven",
        );
        CheckResult::new(name, CheckStatus::Failed, why, vec![finding])
    }
}

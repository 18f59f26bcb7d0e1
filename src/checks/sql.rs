//! `[[checks.sql]]`: declared queries must return what the config expects.

use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::{Check, CheckResult, Evaluation, Finding, Severity};
use crate::config::{Config, Expect, SqlCheck};
use crate::pg;

const NAME: &str = "sql";

/// The declared assertions, enabled by any `[[checks.sql]]`.
pub struct Assertions;

impl Assertions {
    pub fn new(config: &Config) -> Option<Self> {
        (!config.sql_checks.is_empty()).then_some(Assertions)
    }
}

#[async_trait::async_trait]
impl Check for Assertions {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let client = match cx.reader() {
            Ok(c) => c,
            Err(e) => return Some(CheckResult::failed(NAME, e.to_string())),
        };
        let mut assertions = Vec::new();
        for check in &cx.config().sql_checks {
            assertions.push(evaluate(client, check).await);
        }
        let failed = assertions.iter().filter(|r| !r.passed).count();
        let findings = assertions
            .iter()
            .filter(|r| !r.passed)
            .map(|r| {
                Finding::new(
                    NAME,
                    Severity::Error,
                    format!("`{}`: expected {}, got {}", r.name, r.expected, r.got),
                    "a declared invariant of the data does not hold after the migration",
                )
                .at(r.query.trim().lines().next().unwrap_or("").to_owned())
            })
            .collect();
        let summary = if failed == 0 {
            format!("{} assertion(s) hold", assertions.len())
        } else {
            format!("{failed} of {} assertion(s) failed", assertions.len())
        };
        Some(CheckResult {
            assertions,
            ..CheckResult::from_findings(NAME, summary, findings, Vec::new())
        })
    }
}

/// One declared assertion and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Assertion {
    pub name: String,
    pub passed: bool,
    pub query: String,
    pub expected: String,
    pub got: String,
}

/// Runs one assertion. The query goes through the simple protocol so every column arrives as
/// text, whatever its type — the same text psql would show.
pub async fn evaluate(client: &Client, check: &SqlCheck) -> Assertion {
    let mut report = Assertion {
        name: check.name.clone(),
        passed: false,
        query: check.query.clone(),
        expected: check.expect.to_string(),
        got: String::new(),
    };
    let rows: Vec<Vec<Option<String>>> = match client.simple_query(&check.query).await {
        Ok(messages) => messages
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect(),
        Err(e) => {
            report.got = format!("an error: {}", pg::describe(&e));
            return report;
        }
    };
    let first = rows.first().and_then(|r| r.first()).cloned().flatten();
    let shape = |rows: &[Vec<Option<String>>]| match rows.len() {
        0 => "no rows".to_owned(),
        1 => format!(
            "`{}`",
            rows[0]
                .first()
                .cloned()
                .flatten()
                .unwrap_or_else(|| "NULL".into())
        ),
        n => format!("{n} rows"),
    };
    match &check.expect {
        Expect::Rows(n) => {
            report.passed = rows.len() as i64 == *n;
            report.got = format!("{} row(s)", rows.len());
        }
        Expect::Value(v) => {
            report.passed = rows.len() == 1 && first.as_deref() == Some(v.as_str());
            report.got = shape(&rows);
        }
        Expect::True => {
            report.passed = rows.len() == 1 && matches!(first.as_deref(), Some("t") | Some("true"));
            report.got = match (rows.len(), first.as_deref()) {
                (1, Some("t")) => "`true`".into(),
                (1, Some("f")) => "`false`".into(),
                _ => shape(&rows),
            };
        }
    }
    report
}

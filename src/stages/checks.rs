//! `checks`: the declared SQL assertions, on the test Neon database branch after migrate.
//! Every check runs even when one fails, so one failure does not hide another.

use tokio_postgres::SimpleQueryMessage;

use crate::config::{Expect, SqlCheck};
use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::pg;
use crate::report::CheckReport;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    if ctx.config.sql_checks.is_empty() {
        return Ok(StageSuccess {
            summary: "no checks declared".into(),
            ..Default::default()
        });
    }
    let client = pg::connect(&target.url)
        .await
        .map_err(|e| StageFailure::new(exit::PROVIDER, e.message))?;
    let mut reports = Vec::new();
    for check in &ctx.config.sql_checks {
        reports.push(evaluate(&client, check).await);
    }
    let failed = reports.iter().filter(|r| !r.passed).count();
    let total = reports.len();
    if failed == 0 {
        Ok(StageSuccess {
            summary: format!("{total} check(s) passed"),
            checks: reports,
            ..Default::default()
        })
    } else {
        let mut f = StageFailure::new(
            exit::CHECK_FAILED,
            format!("{failed} of {total} check(s) failed on {}", target.name),
        );
        f.summary = format!("{failed} of {total} check(s) failed");
        f.checks = reports;
        Err(f)
    }
}

/// Runs one check. The query goes through the simple protocol so every column arrives as
/// text, whatever its type — the same text psql would show.
async fn evaluate(client: &tokio_postgres::Client, check: &SqlCheck) -> CheckReport {
    let mut report = CheckReport {
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

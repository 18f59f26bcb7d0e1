//! `[[checks.sql]]`: declared queries must return what the config expects.

use tokio_postgres::{Client, SimpleQueryMessage};

use crate::config::{Expect, SqlCheck};
use crate::pg;
use crate::report::CheckReport;

/// Runs one check. The query goes through the simple protocol so every column arrives as
/// text, whatever its type — the same text psql would show.
pub async fn evaluate(client: &Client, check: &SqlCheck) -> CheckReport {
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

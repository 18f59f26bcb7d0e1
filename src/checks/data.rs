//! `data`: no rows lost. Row counts of every table before and after the migration on the
//! test Neon database branch (before = the parent at the time of the copy): exact below a
//! threshold, planner estimates above it (refreshed with ANALYZE on the test Neon database
//! branch), and every finding says which.

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_postgres::Client;

use super::{table_listed, Check, CheckResult, Evaluation, Finding, Observations, QueryError};
use super::{RecordError, Recording, Severity};
use crate::config::{Config, DataCheck};
use crate::pg::ident;

const NAME: &str = "data";

/// Row count of one table, and whether it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowCount {
    pub rows: i64,
    pub exact: bool,
    /// The table's OID: another one under the same name is a new table (rebuilt).
    #[serde(skip)]
    pub oid: u32,
}

/// `[checks.data]`: row counts before and after.
pub struct RowCounts {
    before: Option<BTreeMap<String, RowCount>>,
}

impl RowCounts {
    pub fn new(config: &Config) -> Option<Self> {
        config
            .checks
            .data
            .enabled
            .then_some(RowCounts { before: None })
    }
}

#[async_trait::async_trait]
impl Check for RowCounts {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        let counts = count(cx.client, cx.config().checks.data.exact_below)
            .await
            .map_err(|e| cx.unrecorded("the row counts before the migration", e))?;
        self.before = Some(counts);
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let cfg = &cx.config().checks.data;
        let Some(before) = &self.before else {
            return Some(CheckResult::not_run(
                NAME,
                "row counts before the migration were not recorded (no migrate stage in this run)",
            ));
        };
        let client = match cx.reader() {
            Ok(c) => c,
            Err(e) => return Some(CheckResult::failed(NAME, e.to_string())),
        };
        Some(match count(client, cfg.exact_below).await {
            Ok(after) => {
                let (findings, details) = evaluate(before, &after, cfg);
                // Equal counts say nothing of the values: said where the check passes.
                let values = if cx.config().checks.integrity.enabled {
                    ""
                } else {
                    " (row counts only; values not compared: enable [checks.integrity])"
                };
                CheckResult::from_findings(
                    NAME,
                    format!("{} table(s) compared{values}", before.len()),
                    findings,
                    details,
                )
            }
            Err(e) => CheckResult::failed(NAME, format!("cannot count rows: {e}")),
        })
    }
}

const ESTIMATES: &str = r#"
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname, c.relname, c.reltuples::bigint, c.oid
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'neon_migrate_integrity')
   -- Of our own schema only the tracking table of the `sql` tool: a user's table there counts.
   AND NOT (n.nspname = 'neon_migrate' AND c.relname = 'schema_migrations')
   AND n.nspname NOT LIKE 'pg\_temp\_%'
 ORDER BY 1
"#;

/// Counts the rows of every table: exactly when the estimate is below `exact_below`.
pub async fn count(
    client: &Client,
    exact_below: i64,
) -> Result<BTreeMap<String, RowCount>, QueryError> {
    let rows = client.query(ESTIMATES, &[]).await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let key: String = r.get(0);
        let estimate: i64 = r.get(3);
        let oid: u32 = r.get(4);
        // -1: never analyzed; count it.
        if estimate < exact_below {
            let sql = format!(
                // ONLY: rows moved into an inheriting child table are not this table's.
                "SELECT pg_catalog.count(*) FROM ONLY {}.{}",
                ident(r.get(1)),
                ident(r.get(2))
            );
            let n: i64 = client.query_one(&sql, &[]).await?.get(0);
            out.insert(
                key,
                RowCount {
                    rows: n,
                    exact: true,
                    oid,
                },
            );
        } else {
            // `reltuples` moves only with VACUUM, ANALYZE and index builds: a DELETE leaves
            // it as it was. Refresh it — this is the test Neon database branch, never the
            // parent — so the estimate describes the rows that are there now.
            let table = format!("{}.{}", ident(r.get(1)), ident(r.get(2)));
            let fresh = match client.batch_execute(&format!("ANALYZE {table}")).await {
                Ok(()) => client
                    .query_one(
                        &format!(
                            "SELECT reltuples::bigint FROM pg_class WHERE oid = {}::regclass",
                            crate::pg::literal(&table)
                        ),
                        &[],
                    )
                    .await
                    .map(|row| row.get::<_, i64>(0))
                    .unwrap_or(estimate),
                // Not the owner, say: the planner's figure is still an estimate.
                Err(_) => estimate,
            };
            out.insert(
                key,
                RowCount {
                    rows: fresh,
                    exact: false,
                    oid,
                },
            );
        }
    }
    Ok(out)
}

/// Compares counts before and after.
pub fn evaluate(
    before: &BTreeMap<String, RowCount>,
    after: &BTreeMap<String, RowCount>,
    cfg: &DataCheck,
) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut details = Vec::new();
    for (table, b) in before {
        let allowed = table_listed(&cfg.allow_loss, table);
        let severity = if allowed {
            Severity::Info
        } else {
            Severity::Error
        };
        let fix = format!(
            "if this loss is intended, add \"{table}\" to `allow-loss` under [checks.data]"
        );
        match after.get(table) {
            None if b.rows > 0 => findings.push(
                Finding::new(NAME, severity, format!("table {table} disappeared with its {} row(s)", b.rows), "its rows are gone from production once this migration is applied, and old code still reading it breaks")
                    .at(table.clone())
                    .fix(fix),
            ),
            None => details.push(format!("{table}: dropped (it was empty)")),
            Some(a) if a.oid != b.oid => findings.push(
                Finding::new(NAME, Severity::Warning, format!("{table} is a new table under the old name: {} → {} row(s); the rows are those the migration copied into it, not the same rows", b.rows, a.rows), "the table's OID changed: the migration dropped it and created another under its name, so equal counts do not show that rows or values were kept (the schema check reports the rebuild)")
                    .at(table.clone())
                    .fix("change the table in place instead of rebuilding it, or compare the values with [checks.integrity]"),
            ),
            Some(a) => {
                let how = if a.exact && b.exact { "exact" } else { "estimate" };
                // Estimates move on their own; only a clear drop counts.
                let lost = if a.exact && b.exact { a.rows < b.rows } else { (a.rows as f64) < (b.rows as f64) * 0.9 };
                if lost {
                    findings.push(
                        Finding::new(NAME, severity, format!("{table} lost {} row(s): {} → {} ({how})", b.rows - a.rows, b.rows, a.rows), "rows a migration deletes on the test Neon database branch are deleted on production too")
                            .at(table.clone())
                            .fix(fix),
                    );
                } else {
                    details.push(format!("{table}: {} → {} row(s) ({how})", b.rows, a.rows));
                }
            }
        }
    }
    (findings, details)
}

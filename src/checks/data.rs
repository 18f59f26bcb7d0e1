//! `data`: no rows lost. Row counts of every table before and after the migration on the
//! test Neon database branch (before = the parent at the time of the copy): exact below a
//! threshold, planner estimates above it (refreshed with ANALYZE on the test Neon database
//! branch), and every finding says which.

use std::collections::{BTreeMap, BTreeSet};

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
    /// Row-level security would filter this role's reading: not counted.
    #[serde(skip)]
    pub hidden: bool,
}

/// `[checks.data]`: row counts before and after.
pub struct RowCounts {
    before: Option<Counts>,
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
                    format!("{} table(s) compared{values}", before.tables.len()),
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
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   -- Of our own schemas only the tracking table of the `sql` tool: a user's table there
   -- counts. (The integrity check's fingerprint tables are created after these counts.)
   AND NOT (n.nspname = 'neon_migrate' AND c.relname = 'schema_migrations')
   AND n.nspname NOT LIKE 'pg\_temp\_%'
 ORDER BY 1
"#;

/// Every table with partitions or inheriting tables, and each of its descendants (at every
/// level): the rows a query of the parent sees are those of its descendants.
const TREES: &str = r#"
WITH RECURSIVE tree(root, rel) AS (
  SELECT inhparent, inhrelid FROM pg_inherits
  UNION ALL
  SELECT t.root, i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.rel
)
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       coalesce(array_agg(quote_ident(dn.nspname) || '.' || quote_ident(d.relname) ORDER BY 1)
                FILTER (WHERE d.oid IS NOT NULL), '{}')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN tree ON tree.root = c.oid
  LEFT JOIN pg_class d ON d.oid = tree.rel LEFT JOIN pg_namespace dn ON dn.oid = d.relnamespace
 WHERE (c.relkind = 'p' OR tree.root IS NOT NULL)
   -- Tables: a partitioned index is in pg_inherits too.
   AND c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
 GROUP BY 1
"#;

/// Materialized views, whether populated, and their estimates.
const MATVIEWS: &str = r#"
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relispopulated, c.reltuples::bigint
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'm' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"#;

/// What the check counts: every table, the trees of partitioned and inherited tables, the
/// materialized views and the large objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows of each table alone (`ONLY`).
    pub tables: BTreeMap<String, RowCount>,
    /// Each parent's descendants: its own count plus theirs is what a query of it reads.
    pub trees: BTreeMap<String, Vec<String>>,
    /// Each materialized view: its row count, `None` when it is not populated.
    pub matviews: BTreeMap<String, Option<RowCount>>,
    /// Large objects (`pg_largeobject_metadata`), readable or not.
    pub large_objects: i64,
    /// Why the role the migration runs as on this local test copy is filtered by row-level
    /// security while the role that applies on main is not (see
    /// [`crate::providers::local::fidelity`]): a table it hides fails the check.
    pub row_security_differs: Option<String>,
}

/// Counts the rows of every table: exactly when the estimate is below `exact_below`. A table
/// whose rows row-level security would filter for this role (FORCE ROW LEVEL SECURITY, read
/// with `row_security = off`: see [`crate::pg::connect_checker`]) is counted as hidden.
pub async fn count(client: &Client, exact_below: i64) -> Result<Counts, QueryError> {
    let rows = client.query(ESTIMATES, &[]).await?;
    let mut out = Counts::default();
    for r in rows {
        let key: String = r.get(0);
        let table = format!("{}.{}", ident(r.get(1)), ident(r.get(2)));
        let n = count_one(client, &table, r.get(3), exact_below, r.get(4)).await?;
        out.tables.insert(key, n);
    }
    for r in client.query(TREES, &[]).await? {
        out.trees.insert(r.get(0), r.get(1));
    }
    for r in client.query(MATVIEWS, &[]).await? {
        let key: String = r.get(0);
        let populated: bool = r.get(1);
        let n = if populated {
            Some(count_one(client, &key, r.get(2), exact_below, 0).await?)
        } else {
            None
        };
        out.matviews.insert(key, n);
    }
    out.large_objects = client
        .query_one(
            "SELECT pg_catalog.count(*) FROM pg_catalog.pg_largeobject_metadata",
            &[],
        )
        .await?
        .get(0);
    if out.tables.values().any(|t| t.hidden) {
        out.row_security_differs =
            crate::providers::local::fidelity::row_security_note(client).await;
    }
    Ok(out)
}

/// The rows of one relation (`ONLY`): exact below `exact_below`, else a fresh estimate.
async fn count_one(
    client: &Client,
    table: &str,
    estimate: i64,
    exact_below: i64,
    oid: u32,
) -> Result<RowCount, QueryError> {
    // -1: never analyzed; count it.
    if estimate < exact_below {
        // ONLY: rows moved into an inheriting child table are not this table's.
        let sql = format!("SELECT pg_catalog.count(*) FROM ONLY {table}");
        return match client.query_one(&sql, &[]).await {
            Ok(row) => Ok(RowCount {
                rows: row.get(0),
                exact: true,
                oid,
                hidden: false,
            }),
            Err(e) if crate::pg::hidden_by_row_security(&e) => Ok(RowCount {
                rows: 0,
                exact: false,
                oid,
                hidden: true,
            }),
            Err(e) => Err(e.into()),
        };
    }
    // `reltuples` moves only with VACUUM, ANALYZE and index builds: a DELETE leaves it as it
    // was. Refresh it — this is the test Neon database branch, never the parent — so the
    // estimate describes the rows that are there now.
    let fresh = match client.batch_execute(&format!("ANALYZE {table}")).await {
        Ok(()) => client
            .query_one(
                &format!(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = {}::regclass",
                    crate::pg::literal(table)
                ),
                &[],
            )
            .await
            .map(|row| row.get::<_, i64>(0))
            .unwrap_or(estimate),
        // Not the owner, say: the planner's figure is still an estimate.
        Err(_) => estimate,
    };
    Ok(RowCount {
        rows: fresh,
        exact: false,
        oid,
        hidden: false,
    })
}

/// Compares counts before and after.
pub fn evaluate(before: &Counts, after: &Counts, cfg: &DataCheck) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut details = Vec::new();
    let kept = partitions_kept(before, after);
    for (table, b) in &before.tables {
        // Gone under its name (a view may stand there now): the same table renamed keeps
        // its OID, and is the one to compare (attack11 B1: a rename with a compatibility view
        // failed as "disappeared with its rows").
        let renamed = || {
            after
                .tables
                .iter()
                .find(|(name, a)| a.oid == b.oid && !before.tables.contains_key(*name))
        };
        let now = match after.tables.get(table) {
            Some(a) => Some(a),
            None => renamed().map(|(name, a)| {
                details.push(format!(
                    "{table} is now {name} (renamed: the same table, compared as one)"
                ));
                a
            }),
        };
        match now {
            // Rows that moved to another partition of the same table are no loss: a query
            // of the partitioned table reads them all (attack trial8 P3).
            Some(a) if kept.contains(table) && lost(b, a) => details.push(format!(
                "{table}: {} → {} row(s) ({}): moved within its partitioned table, whose rows were all kept",
                b.rows,
                a.rows,
                how(b, a)
            )),
            _ => compare_table(
                table,
                b,
                before.row_security_differs.as_deref(),
                now,
                cfg,
                &mut findings,
                &mut details,
            ),
        }
    }
    compare_trees(before, after, cfg, &mut findings, &mut details);
    compare_matviews(before, after, cfg, &mut findings, &mut details);
    let (b, a) = (before.large_objects, after.large_objects);
    if a < b {
        let what = format!("{} large object(s) deleted: {b} → {a} (exact)", b - a);
        findings.push(
            Finding::new(NAME, loss_severity(cfg, LARGE_OBJECTS), what, "a large object is data: the rows that hold its OID now point at nothing, on production too")
                .at(LARGE_OBJECTS.to_owned())
                .fix(allow_fix(LARGE_OBJECTS)),
        );
    } else if b > 0 || a > 0 {
        details.push(format!("large objects: {b} → {a} (exact)"));
    }
    (findings, details)
}

/// The name `allow-loss` takes for large objects.
const LARGE_OBJECTS: &str = "pg_catalog.pg_largeobject";

fn loss_severity(cfg: &DataCheck, table: &str) -> Severity {
    if table_listed(&cfg.allow_loss, table) {
        Severity::Info
    } else {
        Severity::Error
    }
}

fn allow_fix(table: &str) -> String {
    format!("if this loss is intended, add \"{table}\" to `allow-loss` under [checks.data]")
}

/// Whether `after` rows are clearly fewer than `before`: any drop when both are exact,
/// more than 10 % for estimates (they move on their own).
fn lost(b: &RowCount, a: &RowCount) -> bool {
    if a.exact && b.exact {
        a.rows < b.rows
    } else {
        (a.rows as f64) < (b.rows as f64) * 0.9
    }
}

fn how(b: &RowCount, a: &RowCount) -> &'static str {
    if a.exact && b.exact {
        "exact"
    } else {
        "estimate"
    }
}

fn compare_table(
    table: &str,
    b: &RowCount,
    row_security_differs: Option<&str>,
    after: Option<&RowCount>,
    cfg: &DataCheck,
    findings: &mut Vec<Finding>,
    details: &mut Vec<String>,
) {
    let severity = loss_severity(cfg, table);
    let fix = allow_fix(table);
    match after {
        _ if b.hidden && row_security_differs.is_some() => findings.push(
            Finding::new(NAME, Severity::Error, format!("{table}: NOT CHECKED: row-level security hides its rows on the test copy, but not from the role that applies on main"), format!("the table has FORCE ROW LEVEL SECURITY: the migration ran here filtered by its policies and will run unfiltered on main, so what it did here says nothing about what it will do to these rows there ({})", row_security_differs.unwrap_or_default()))
                .at(table.to_owned())
                .fix("run on the embedded cluster, or let the server's role (a superuser) give the test copy's role BYPASSRLS and connect only to its own database; or set `tool-role = \"server\"` under [provider]"),
        ),
        _ if b.hidden => findings.push(
            Finding::new(NAME, Severity::Warning, format!("{table}: NOT CHECKED: row-level security hides its rows from the role the checks read as"), "the table has FORCE ROW LEVEL SECURITY and a policy that applies to its owner, so no count of its rows is a count of all of them")
                .at(table.to_owned())
                .fix("run the checks as a role with BYPASSRLS, or count this table with a [[checks.sql]] assertion that does not depend on its policies"),
        ),
        None if b.rows > 0 => findings.push(
            Finding::new(NAME, severity, format!("table {table} disappeared with its {} row(s)", b.rows), "its rows are gone from production once this migration is applied, and old code still reading it breaks")
                .at(table.to_owned())
                .fix(fix),
        ),
        None => details.push(format!("{table}: dropped (it was empty)")),
        Some(a) if a.hidden => findings.push(
            Finding::new(NAME, Severity::Error, format!("{table}: NOT CHECKED: the migration hid its {} row(s) behind row-level security", b.rows), "after the migration a policy filters the rows of this table even for its owner (FORCE ROW LEVEL SECURITY), so nothing shows what happened to them — and the application's roles may stop seeing them too")
                .at(table.to_owned())
                .fix("leave FORCE ROW LEVEL SECURITY out of the migration, or give the policy a clause for the table's owner"),
        ),
        Some(a) if a.oid != b.oid => findings.push(
            Finding::new(NAME, Severity::Warning, format!("{table} is a new table under the old name: {} → {} row(s); the rows are those the migration copied into it, not the same rows", b.rows, a.rows), "the table's OID changed: the migration dropped it and created another under its name, so equal counts do not show that rows or values were kept (the schema check reports the rebuild)")
                .at(table.to_owned())
                .fix("change the table in place instead of rebuilding it, or compare the values with [checks.integrity]"),
        ),
        Some(a) if lost(b, a) => findings.push(
            Finding::new(NAME, severity, format!("{table} lost {} row(s): {} → {} ({})", b.rows - a.rows, b.rows, a.rows, how(b, a)), "rows a migration deletes on the test Neon database branch are deleted on production too")
                .at(table.to_owned())
                .fix(fix),
        ),
        Some(a) => details.push(format!("{table}: {} → {} row(s) ({})", b.rows, a.rows, how(b, a))),
    }
}

/// The rows a query of `root` reads: its own and its descendants'. `None` when one of them is
/// hidden by row-level security.
fn tree_rows(counts: &Counts, root: &str, members: &[String]) -> Option<RowCount> {
    let mut total = RowCount {
        rows: 0,
        exact: true,
        oid: 0,
        hidden: false,
    };
    for name in std::iter::once(root).chain(members.iter().map(String::as_str)) {
        // A partitioned table holds no rows itself; a foreign table is not counted.
        let Some(c) = counts.tables.get(name) else {
            continue;
        };
        if c.hidden {
            return None;
        }
        total.rows += c.rows;
        total.exact &= c.exact;
    }
    Some(total)
}

/// The partitions of partitioned tables that kept every row (exact counts of the whole tree,
/// before and after, none hidden): rows one of them lost moved to another.
fn partitions_kept(before: &Counts, after: &Counts) -> BTreeSet<String> {
    let mut kept = BTreeSet::new();
    for (root, members) in &before.trees {
        // A partitioned table holds no rows of its own: it is not among the counted tables.
        if before.tables.contains_key(root) || after.tables.contains_key(root) {
            continue;
        }
        let Some(now) = after.trees.get(root) else {
            continue;
        };
        let (Some(b), Some(a)) = (
            tree_rows(before, root, members),
            tree_rows(after, root, now),
        ) else {
            continue;
        };
        if b.exact && a.exact && a.rows >= b.rows {
            kept.extend(members.iter().filter(|m| now.contains(m)).cloned());
        }
    }
    kept
}

/// Rows that left a partitioned or inherited table without being deleted from any table: a
/// partition detached, `NO INHERIT`. A query of the parent no longer reads them.
fn compare_trees(
    before: &Counts,
    after: &Counts,
    cfg: &DataCheck,
    findings: &mut Vec<Finding>,
    details: &mut Vec<String>,
) {
    for (root, members) in &before.trees {
        let Some(b) = tree_rows(before, root, members) else {
            continue;
        };
        // A parent that is gone is reported as a table (or was partitioned: its partitions
        // are reported as tables).
        if !after.tables.contains_key(root.as_str()) && !after.trees.contains_key(root) {
            continue;
        }
        let now = after.trees.get(root).map(Vec::as_slice).unwrap_or(&[]);
        let Some(a) = tree_rows(after, root, now) else {
            continue;
        };
        // The rows the tree's own tables lost are reported for each table.
        let deleted: i64 = std::iter::once(root)
            .chain(members)
            .filter_map(|t| Some((before.tables.get(t)?, after.tables.get(t)?)))
            .filter(|(b, a)| !b.hidden && !a.hidden && b.oid == a.oid)
            .map(|(b, a)| (b.rows - a.rows).max(0))
            .sum();
        let left = b.rows - a.rows - deleted;
        let gone: Vec<&String> = members.iter().filter(|m| !now.contains(m)).collect();
        if left > 0 && lost(&b, &a) {
            let which = if gone.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = gone.iter().map(|s| s.as_str()).collect();
                format!(" ({} no longer part of it)", names.join(", "))
            };
            findings.push(
                Finding::new(NAME, loss_severity(cfg, root), format!("{left} row(s) left {root}: a query of it reads {} → {} ({}){which}", b.rows, a.rows, how(&b, &a)), "rows of a partition detached or a table taken out of the inheritance are no longer rows of the parent the application queries: for it they are deleted, on production too")
                    .at(root.clone())
                    .fix(allow_fix(root)),
            );
        } else {
            details.push(format!(
                "{root} with its partitions or inheriting tables: {} → {} row(s) ({})",
                b.rows,
                a.rows,
                how(&b, &a)
            ));
        }
    }
}

/// A materialized view emptied (`REFRESH … WITH NO DATA`, or recreated `WITH NO DATA`): every
/// read of it fails until it is refreshed.
fn compare_matviews(
    before: &Counts,
    after: &Counts,
    cfg: &DataCheck,
    findings: &mut Vec<Finding>,
    details: &mut Vec<String>,
) {
    for (view, b) in &before.matviews {
        match (b, after.matviews.get(view)) {
            (Some(b), Some(None)) => findings.push(
                Finding::new(NAME, loss_severity(cfg, view), format!("materialized view {view} is no longer populated: {} row(s) → none, and reading it fails", b.rows), "a materialized view left WITH NO DATA raises \"has not been populated\" on every query until a REFRESH, on production too")
                    .at(view.clone())
                    .fix(format!("refresh it in the migration (REFRESH MATERIALIZED VIEW {view}), or {}", allow_fix(view))),
            ),
            (Some(b), Some(Some(a))) => details.push(format!("materialized view {view}: {} → {} row(s) ({})", b.rows, a.rows, how(b, a))),
            _ => {}
        }
    }
}

//! Row locks: a row the migration updates or deletes stays locked until its transaction ends,
//! and every application write of that row (UPDATE, DELETE, SELECT … FOR UPDATE) waits that
//! long — while reads, and the table's lock (ROW EXCLUSIVE, which blocks no other write),
//! never show it. A mass `UPDATE` followed by more work in the same transaction is an outage
//! for the writers of that table.
//!
//! Which tables: those the locks check saw the migration hold ROW EXCLUSIVE on (that existed
//! before it; the lock is released with the transaction, as the row locks are, so its time is
//! theirs), where the table statistics say rows were updated or deleted while it ran
//! (`n_tup_upd + n_tup_del` of `pg_stat_user_tables`, read just before the migration starts and
//! after it ended — its backends have exited and flushed them by then). An INSERT-only
//! backfill, or an UPDATE that matched no row, holds no row an application writer could wait
//! for; a statement's text cannot tell either (dynamic SQL, functions, triggers). A table the
//! migration created is new (no writer before it), and a migration tool's own tracking table
//! ([`super::tracking`]) is the tool's bookkeeping.
//!
//! What covers it: a replayed write that updated or deleted rows of that table (seen in its
//! trial run's `pg_stat_xact_user_tables`): it waits for the migration's row locks as the
//! application's would, and the observer names the row's table and the migration's statement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::coverage::{bare, existed, has, Gap, GapKind, BLOCKS_WRITES};
use super::report::{Blocked, WorkloadReport};
use super::WorkloadConfig;
use crate::checks::locks::LockReport;

/// Rows updated and deleted so far, per table (each partition with its partitioned table).
const COUNTS: &str =
    "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
       pg_catalog.quote_ident(rn.nspname) || '.' || pg_catalog.quote_ident(r.relname),
       (s.n_tup_upd + s.n_tup_del)::bigint
  FROM pg_catalog.pg_stat_user_tables s
  JOIN pg_catalog.pg_class c ON c.oid = s.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_class r ON r.oid = coalesce(pg_catalog.pg_partition_root(s.relid), s.relid)
  JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace";

/// Each table's count of rows updated and deleted, with its partitioned table.
#[derive(Debug, Clone, Default)]
pub struct Counts(BTreeMap<String, (String, i64)>);

/// The counts now; `None` when they cannot be read.
pub async fn counts(client: &Client) -> Option<Counts> {
    let rows = client.query(COUNTS, &[]).await.ok()?;
    Some(Counts(
        rows.iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect(),
    ))
}

/// What the migration changed: rows updated or deleted per table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RowsChanged {
    /// Tables (a partitioned table for all its partitions) with rows updated or deleted while
    /// the migration ran, and how many.
    pub tables: BTreeMap<String, u64>,
    /// Each partition's partitioned table.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roots: BTreeMap<String, String>,
}

/// The rows updated or deleted between `before` and `after`, of the tables there before.
pub fn changed(before: &Counts, after: &Counts) -> RowsChanged {
    let mut out = RowsChanged::default();
    for (table, (root, n)) in &after.0 {
        if root != table {
            out.roots.insert(table.clone(), root.clone());
        }
        let Some((_, was)) = before.0.get(table) else {
            continue;
        };
        if n > was {
            *out.tables.entry(root.clone()).or_default() += (n - was) as u64;
        }
    }
    out
}

/// Row locks held no longer than this (two of the observer's samples) cannot be seen waited
/// for, and keep a writer waiting no longer: under the `max-p99-ratio` floor.
const UNSEEN_MS: u64 = 100;

/// The tables a row of which a replayed query was seen waiting for behind a session that is
/// not the workload's (the migration, the long transaction, a session the tool left open).
pub fn met(seen: &super::blocking::Seen) -> std::collections::BTreeSet<String> {
    use super::blocking::Who;
    seen.snapshots
        .iter()
        .flat_map(|s| &s.waiting)
        .filter(|w| w.who == Who::Workload)
        .filter(|w| w.blockers.iter().any(|b| seen.who(*b) != Who::Workload))
        .filter_map(|w| w.relation.strip_prefix("a row of ").map(str::to_owned))
        .collect()
}

/// The tables whose rows the migration changed and kept locked where no replayed write was
/// seen meeting one of them (beyond the gaps already in `out`).
pub(super) fn gaps(
    r: &WorkloadReport,
    locks: Option<&LockReport>,
    cfg: &WorkloadConfig,
    out: &mut Vec<Gap>,
) {
    let Some(locks) = locks else { return };
    let tool = super::tracking::names(&cfg.tool_tables);
    let changed = r.coverage.rows_changed.as_ref();
    // A locking read of the migration (`SELECT … FOR UPDATE`) locks rows and writes none: its
    // table shows ROW SHARE, and no statistic counts the rows.
    let locking_read = locks
        .statements
        .iter()
        .find(|(s, _)| super::parse::is_locking_read(s))
        .map(|(s, _)| super::sources::one_line(s));
    for (key, modes) in &locks.held_ms {
        let (ms, rows_locked) = match (modes.get("RowExclusiveLock"), modes.get("RowShareLock")) {
            (Some(ms), _) => (*ms, None),
            (None, Some(ms)) if locking_read.is_some() => (*ms, locking_read.as_deref()),
            _ => continue,
        };
        if key.starts_with("index ") || !existed(locks, key) {
            continue;
        }
        let table = changed
            .and_then(|c| c.roots.get(key))
            .cloned()
            .unwrap_or_else(|| key.clone());
        let met = r.coverage.rows_met.iter().any(|t| {
            let root = changed.and_then(|c| c.roots.get(t)).unwrap_or(t);
            bare(root) == bare(&table)
        });
        if super::tracking::is_tool_table(&tool, &table)
            || out.iter().any(|g| bare(&g.table) == bare(&table))
            || met
            || ms <= UNSEEN_MS
            || measured_otherwise(r, modes, ms, &table)
        {
            continue;
        }
        let lock = match rows_locked {
            Some(_) => "ROW SHARE",
            None => "ROW EXCLUSIVE",
        };
        let rows = match (rows_locked, changed) {
            (Some(stmt), _) => format!(
                "locked rows of {table} with a locking read (`{stmt}`) without changing them"
            ),
            (None, Some(c)) => match c.tables.get(&table) {
                Some(n) => format!("updated or deleted {n} row(s) of {table}"),
                None => continue,
            },
            (None, None) => format!(
                "wrote {table} (whether it updated or deleted rows there is not known: the table statistics could not be read)"
            ),
        };
        if has(&r.coverage.row_writes, &table) {
            // Writes of the table were replayed, but none was seen meeting a row the
            // migration kept locked: other rows, or not while they were locked.
            out.push(Gap {
                kind: GapKind::Rows,
                table: table.clone(),
                what: format!(
                    "the migration {rows}, holding {lock} on {key} for ~{ms} ms (locks check), and no replayed write was seen waiting for one of those rows"
                ),
                why: format!(
                    "every UPDATE, DELETE or SELECT … FOR UPDATE of a row the migration changed waits until its transaction ends; the replayed writes of {table} went to other rows, or came when none was locked, so how long writers of the changed rows would wait was not measured"
                ),
                fix: format!(
                    "aim the write's `params` at rows the migration changes (the same WHERE as its UPDATE or DELETE), at a `rate` that puts several requests inside ~{ms} ms"
                ),
            });
            continue;
        }
        out.push(Gap {
            kind: GapKind::Rows,
            table: table.clone(),
            what: format!(
                "the migration {rows}, holding {lock} on {key} for ~{ms} ms (locks check), and no replayed query updates or deletes rows of {table}"
            ),
            why: format!(
                "a row the migration changed stays locked until its transaction ends: every UPDATE, DELETE or SELECT … FOR UPDATE of that row waits that long, and reads never show it; no such write on {table} was replayed, so how long writers would wait was not measured"
            ),
            fix: format!(
                "declare a write of {table} under [[checks.workload.query]], e.g. `sql = \"UPDATE {table} SET <column> = <column> WHERE id = $1\"` with `params = \"SELECT id FROM {table} TABLESAMPLE SYSTEM (1) LIMIT 500\"` (it runs in a transaction that is rolled back)"
            ),
        });
    }
}

/// What the details say about the tool tables whose rows the migration changed: left out of
/// the rule, and why.
pub(super) fn notes(
    r: &WorkloadReport,
    locks: Option<&LockReport>,
    cfg: &WorkloadConfig,
) -> Option<String> {
    let tool = super::tracking::names(&cfg.tool_tables);
    let changed = r.coverage.rows_changed.as_ref();
    let left: Vec<&str> = locks?
        .held_ms
        .iter()
        .filter(|(k, m)| m.contains_key("RowExclusiveLock") && !k.starts_with("index "))
        .map(|(k, _)| k.as_str())
        .filter(|k| super::tracking::is_tool_table(&tool, k))
        .filter(|k| changed.is_none_or(|c| c.tables.contains_key(*k)))
        .collect();
    (!left.is_empty()).then(|| {
        format!(
            "the rows the migration changed in {} need no replayed write: a migration tool's own tracking table, the tool's bookkeeping, not the application's",
            left.join(", ")
        )
    })
}

/// A lock at least as long that blocks the table's writes too, which a replayed query there
/// measured: ACCESS EXCLUSIVE with a replayed read, or a lock that blocks writes with a
/// replayed write.
fn measured_otherwise(
    r: &WorkloadReport,
    modes: &BTreeMap<String, u64>,
    ms: u64,
    table: &str,
) -> bool {
    modes.iter().any(|(m, held)| {
        *held >= ms
            && ((m == "AccessExclusiveLock" && has(&r.coverage.reads, table))
                || (BLOCKS_WRITES.contains(&m.as_str()) && has(&r.coverage.writes, table)))
    })
}

/// How a request that waited for a row is told: the table whose row it waited for.
pub(super) fn row_table(b: &Blocked) -> Option<&str> {
    let t = b.table.as_deref()?;
    t.strip_prefix("a row of ")
        .or_else(|| (t == "a row").then_some(t))
}

/// The why and fix of a request that waited for a row the migration changed.
pub(super) fn blame(
    r: &WorkloadReport,
    b: &Blocked,
    locks: Option<&LockReport>,
) -> (String, String) {
    let table = row_table(b).unwrap_or("a table");
    let row = match table {
        "a row" => "a row".to_owned(),
        t => format!("a row of {t}"),
    };
    let held = locks
        .and_then(|l| {
            l.held_ms
                .iter()
                .find(|(k, _)| bare(k) == bare(table))
                .and_then(|(_, m)| m.get("RowExclusiveLock"))
        })
        .map(|ms| format!(", and its transaction held ROW EXCLUSIVE on {table} for ~{ms} ms (locks check): its row locks last as long"))
        .unwrap_or_default();
    let why = format!(
        "it waited for {row} that {} (`{}`) had changed and kept locked until its transaction ended{held}; {} request(s) queued behind it, up to {} at once — on production every write of a row the migration changed waits this long",
        b.behind.map_or("another session", |w| w.describe()),
        b.behind_statement.as_deref().unwrap_or("?"),
        r.queue.queued,
        r.queue.max_at_once
    );
    let fix = format!(
        "change the rows of {table} in batches, each committed on its own (`UPDATE … WHERE id BETWEEN … AND …` per batch; with the built-in `sql` tool, a file marked `-- neon-migrate: no-transaction` commits each statement), and do no long work after a mass UPDATE in the same transaction: then no row stays locked for long; or raise `max-blocked` under [checks.workload] if this wait is acceptable"
    );
    (why, fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(rows: &[(&str, &str, i64)]) -> Counts {
        Counts(
            rows.iter()
                .map(|(t, r, n)| (t.to_string(), (r.to_string(), *n)))
                .collect(),
        )
    }

    /// The check's status with the locks check having seen `held` (table, mode, ms), the
    /// migration having changed `changed` rows per table (`None`: not known), and a replayed
    /// write having changed rows of `row_writes` (`met public.t`: and having been seen waiting
    /// for a row of it behind the migration).
    fn judged(
        held: &[(&str, &str, u64)],
        changed: Option<&[(&str, u64)]>,
        row_writes: &[&str],
        tool: &[&str],
    ) -> crate::checks::CheckResult {
        let mut r = super::super::report::tests::report();
        r.coverage.migration_sql = None;
        r.coverage.rows_changed = changed.map(|c| RowsChanged {
            tables: c.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
            roots: BTreeMap::new(),
        });
        for w in row_writes {
            match w.strip_prefix("met ") {
                Some(t) => {
                    r.coverage.row_writes.insert(t.to_string());
                    r.coverage.rows_met.insert(t.to_string());
                }
                None => {
                    r.coverage.row_writes.insert(w.to_string());
                }
            }
        }
        let mut locks = LockReport {
            compared: true,
            tables_before: [
                ("public", "t"),
                ("public", "other"),
                ("public", "alembic_version"),
            ]
            .iter()
            .map(|(s, n)| (s.to_string(), n.to_string()))
            .collect(),
            ..Default::default()
        };
        for (t, m, ms) in held {
            locks
                .held_ms
                .entry(t.to_string())
                .or_default()
                .insert(m.to_string(), *ms);
        }
        let cfg = WorkloadConfig {
            max_p99_ratio: 1000.0,
            tool_tables: tool.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        super::super::report::evaluate(&r, &cfg, Some(&locks))
    }

    #[test]
    fn rows_the_migration_changed_need_a_replayed_write_that_changed_rows_there() {
        use crate::checks::CheckStatus::{NotRun, Passed};
        let row_ex = [("public.other", "RowExclusiveLock", 900)];
        // Rows changed, only a read replayed: not checked, naming the table and a write.
        let res = judged(&row_ex, Some(&[("public.other", 5000)]), &[], &[]);
        assert_eq!(res.status, NotRun, "{res:#?}");
        assert!(
            res.summary
                .starts_with("NOT CHECKED: the migration changed or locked rows of public.other"),
            "{}",
            res.summary
        );
        assert!(res.findings.iter().any(|f| f
            .fix
            .as_deref()
            .is_some_and(|x| x.contains("UPDATE public.other SET"))));
        // A replayed write that changed rows there but was never seen meeting a locked one
        // (other rows, or not while they were locked): not checked, saying where to aim it.
        let res = judged(
            &row_ex,
            Some(&[("public.other", 5000)]),
            &["public.other"],
            &[],
        );
        assert_eq!(res.status, NotRun, "{res:#?}");
        assert!(
            res.findings.iter().any(|f| f.fix.as_deref().is_some_and(
                |x| x.starts_with("aim the write's `params` at rows the migration changes")
            )),
            "{res:#?}"
        );
        // One seen waiting for a row the migration kept locked covers it: its wait is measured.
        let res = judged(
            &row_ex,
            Some(&[("public.other", 5000)]),
            &["met public.other"],
            &[],
        );
        assert_eq!(res.status, Passed, "{res:#?}");
        // Rows kept locked no longer than two samples: no wait could be seen, none is long.
        let short = [("public.other", "RowExclusiveLock", 80)];
        assert_eq!(
            judged(&short, Some(&[("public.other", 5000)]), &[], &[]).status,
            Passed
        );
        // Inserts only (no row updated or deleted): nothing an application writer waits for.
        assert_eq!(judged(&row_ex, Some(&[]), &[], &[]).status, Passed);
        // Whether rows changed not known: not checked, and said why.
        let res = judged(&row_ex, None, &[], &[]);
        assert_eq!(res.status, NotRun, "{res:#?}");
        assert!(res
            .findings
            .iter()
            .any(|f| f.what.contains("the table statistics could not be read")));
        // A tool's tracking table, built in or from the tool's tracking query.
        let held = [("public.alembic_version", "RowExclusiveLock", 900)];
        let res = judged(&held, Some(&[("public.alembic_version", 1)]), &[], &[]);
        assert_eq!(res.status, Passed, "{res:#?}");
        assert!(
            res.details.iter().any(|d| d.starts_with(
                "the rows the migration changed in public.alembic_version need no replayed write"
            )),
            "{res:#?}"
        );
        let held = [("public.other", "RowExclusiveLock", 900)];
        let res = judged(&held, Some(&[("public.other", 1)]), &[], &["other"]);
        assert_eq!(res.status, Passed, "{res:#?}");
        // ACCESS EXCLUSIVE held as long, on a table a replayed query reads: measured there.
        let held = [
            ("public.t", "RowExclusiveLock", 900),
            ("public.t", "AccessExclusiveLock", 950),
        ];
        assert_eq!(
            judged(&held, Some(&[("public.t", 10)]), &[], &[]).status,
            Passed
        );
        let held = [
            ("public.t", "RowExclusiveLock", 900),
            ("public.t", "AccessExclusiveLock", 20),
        ];
        assert_eq!(
            judged(&held, Some(&[("public.t", 10)]), &[], &[]).status,
            NotRun
        );
        // A table the migration created: no writer before it.
        let held = [("public.created", "RowExclusiveLock", 900)];
        assert_eq!(judged(&held, Some(&[]), &[], &[]).status, Passed);
    }

    #[test]
    fn rows_changed_sum_partitions_into_their_table_and_skip_new_tables() {
        let before = counts(&[
            ("public.a", "public.a", 5),
            ("public.e_1", "public.e", 0),
            ("public.e_2", "public.e", 10),
            ("public.same", "public.same", 3),
        ]);
        let after = counts(&[
            ("public.a", "public.a", 7),
            ("public.e_1", "public.e", 4),
            ("public.e_2", "public.e", 11),
            ("public.same", "public.same", 3),
            ("public.new", "public.new", 100),
        ]);
        let c = changed(&before, &after);
        assert_eq!(
            c.tables.into_iter().collect::<Vec<_>>(),
            [("public.a".to_owned(), 2), ("public.e".to_owned(), 5)]
        );
        assert_eq!(c.roots["public.e_1"], "public.e");
        assert!(!c.roots.contains_key("public.a"));
    }
}

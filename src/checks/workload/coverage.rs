//! The rehearsal's coverage: the tables the migration locked in a way the replayed queries
//! would have felt, had any of them gone there. A lock nobody replayed is "not checked",
//! never a pass.

use super::report::WorkloadReport;
use crate::checks::lock_name;
use crate::checks::locks::LockReport;

/// A table the migration locked in a way the replayed queries would have felt, had any of
/// them gone there.
pub(super) struct Gap {
    pub(super) table: String,
    pub(super) what: String,
    pub(super) why: String,
    pub(super) fix: &'static str,
}

/// Lock modes that block reads (`SELECT`'s ACCESS SHARE) and those that block writes
/// (ROW EXCLUSIVE), as the lock sampler names them.
const BLOCKS_READS: &[&str] = &["AccessExclusiveLock"];
const BLOCKS_WRITES: &[&str] = &[
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// Tables the lock sampler saw the migration lock in a mode that blocks reads (or writes)
/// while no replayed query reads (or writes) them, and, with `long-transaction`, tables it
/// locked ACCESS EXCLUSIVE that the long transaction did not read.
pub(super) fn uncovered(r: &WorkloadReport, locks: Option<&LockReport>) -> Vec<Gap> {
    let Some(locks) = locks else {
        return Vec::new();
    };
    let mut out: Vec<Gap> = Vec::new();
    let bare = |x: &str| x.strip_prefix("public.").unwrap_or(x).to_owned();
    let has =
        |set: &std::collections::BTreeSet<String>, t: &str| set.iter().any(|c| bare(c) == bare(t));
    for (key, modes) in &locks.held_ms {
        // An index's lock (`index public.i on t`) is felt by the queries on its table.
        let table = match key
            .strip_prefix("index ")
            .and_then(|k| k.split_once(" on "))
        {
            Some((_, t)) if t.contains('.') => t.to_owned(),
            Some((_, t)) => format!("public.{t}"),
            None => key.clone(),
        };
        // A table the migration created: no query could have gone there before.
        let existed = locks.tables_before.is_empty()
            || super::parse::plain_name(&table).is_some_and(|(schema, name)| {
                locks
                    .tables_before
                    .contains(&(schema.unwrap_or_else(|| "public".into()), name))
            });
        if !existed || out.iter().any(|g| bare(&g.table) == bare(&table)) {
            continue;
        }
        let table = &table;
        let longest = |set: &[&str]| {
            modes
                .iter()
                .filter(|(m, _)| set.contains(&m.as_str()))
                .max_by_key(|(_, ms)| **ms)
                .map(|(m, ms)| (lock_name(m), *ms))
        };
        let (reads, writes) = (longest(BLOCKS_READS), longest(BLOCKS_WRITES));
        if let Some((mode, ms)) = reads.clone().filter(|_| !has(&r.coverage.reads, table)) {
            out.push(Gap {
                table: table.clone(),
                what: format!("the migration held {mode} on {key} for ~{ms} ms (locks check) and no replayed query reads {table}"),
                why: format!("every query on {table} waits while this lock is held; none was replayed, so how long users would wait was not measured"),
                fix: "declare a query that reads this table under [[checks.workload.query]] (or leave the queries undeclared: the tables the migration names are then replayed)",
            });
        } else if let Some((mode, ms)) =
            writes.filter(|_| reads.is_none() && !has(&r.coverage.writes, table))
        {
            out.push(Gap {
                table: table.clone(),
                what: format!("the migration held {mode} on {key} for ~{ms} ms (locks check), which blocks writes, and no replayed query writes {table}"),
                why: format!("every INSERT, UPDATE and DELETE on {table} waits while this lock is held; none was replayed"),
                fix: "declare a write on this table under [[checks.workload.query]] (it runs in a transaction that is rolled back)",
            });
        }
        if let (Some(l), Some((mode, ms))) = (&r.long_transaction, reads) {
            let read = l.tables.iter().any(|t| bare(t) == bare(table));
            if !read && out.iter().all(|g| g.table != *table) {
                out.push(Gap {
                    table: table.clone(),
                    what: format!("the migration held {mode} on {key} for ~{ms} ms (locks check) and the long transaction did not read {table}"),
                    why: format!("`long-transaction` rehearses a long query ahead of the migration's lock request; on {table} it was not rehearsed"),
                    fix: "name the table in the migration's SQL, or declare queries that read it",
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::blocking::LongTxReport;
    use super::super::report::{evaluate, tests::report};
    use super::super::WorkloadConfig;
    use super::*;
    use crate::checks::{CheckResult, CheckStatus};

    /// Budgets met; the locks check saw `held` (table, mode, ms).
    fn judged(held: &[(&str, &str, u64)], long_tx: Option<&[&str]>) -> CheckResult {
        let mut r = report();
        if let Some(tables) = long_tx {
            r.long_transaction = Some(LongTxReport {
                tables: tables.iter().map(|t| t.to_string()).collect(),
                held_ms: 3000,
                opened_at_ms: 100,
            });
        }
        let cfg = WorkloadConfig {
            max_p99_ratio: 10.0,
            ..Default::default()
        };
        let mut locks = LockReport {
            tables_before: [("public", "t"), ("public", "other")]
                .iter()
                .map(|(s, n)| (s.to_string(), n.to_string()))
                .collect(),
            ..Default::default()
        };
        for (table, mode, ms) in held {
            locks
                .held_ms
                .entry(table.to_string())
                .or_default()
                .insert(mode.to_string(), *ms);
        }
        evaluate(&r, &cfg, Some(&locks))
    }

    #[test]
    fn a_lock_where_no_replayed_query_goes_is_not_checked_never_passed() {
        // The replayed query reads public.t only.
        let res = judged(&[("public.t", "AccessExclusiveLock", 180)], None);
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        let res = judged(&[("public.other", "AccessExclusiveLock", 2499)], None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(
            res.summary
                .starts_with("NOT CHECKED: the migration locked public.other"),
            "{}",
            res.summary
        );
        assert!(res.findings.iter().any(|f| f
            .what
            .contains("ACCESS EXCLUSIVE on public.other for ~2499 ms")));
        // SHARE blocks writes only: a read of the table does not cover it.
        let res = judged(&[("public.t", "ShareLock", 900)], None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(res
            .findings
            .iter()
            .any(|f| f.what.contains("no replayed query writes public.t")));
        // Locks that block nobody's reads or writes need no coverage.
        let res = judged(&[("public.other", "ShareUpdateExclusiveLock", 900)], None);
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        // A long transaction that did not read the locked table rehearsed nothing there.
        let res = judged(
            &[("public.t", "AccessExclusiveLock", 180)],
            Some(&["public.accounts"]),
        );
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        let res = judged(&[("public.t", "AccessExclusiveLock", 180)], Some(&["t"]));
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        // A table the migration created: nobody could have read it before.
        let res = judged(&[("public.created", "AccessExclusiveLock", 900)], None);
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        // An index's lock is felt on its table: covered by the reads of public.t, not of other.
        let res = judged(
            &[("index public.t_idx on t", "AccessExclusiveLock", 300)],
            None,
        );
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        let res = judged(
            &[("index public.o_idx on other", "AccessExclusiveLock", 300)],
            None,
        );
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(
            res.findings
                .iter()
                .any(|f| f.what.contains("on index public.o_idx on other")
                    && f.what.contains("no replayed query reads public.other")),
            "{res:#?}"
        );
    }
}

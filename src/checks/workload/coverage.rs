//! The rehearsal's coverage: the tables the migration locked in a way the replayed queries
//! would have felt, had any of them gone there. A lock nobody replayed is "not checked",
//! never a pass.
//!
//! The migration's tables come from two sources, combined: the locks the `locks` check saw
//! (with their time), and the statements of the migration's SQL (the pending files, or the
//! tool's print-SQL output) with the lock each is known to take — a lock shorter than the
//! sampler's interval is not seen, and the SQL names it anyway. Where neither says which tables
//! the migration touches, the coverage is NOT CHECKED.

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::parse;
use super::report::WorkloadReport;
use super::sources::Origin;
use crate::checks::lock_name;
use crate::checks::locks::LockReport;

/// What a "not checked" is about (the summary groups them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GapKind {
    /// A lock the locks check saw.
    Locked,
    /// A lock the migration's SQL takes, not seen.
    Sql,
    /// Which tables the migration locks is not known.
    Unknown,
    /// A table whose definition the migration changed (catalog before vs after), no lock
    /// of it seen and its SQL not naming it.
    Changed,
    /// A query whose requests waited for the generator's own connections.
    Generator,
    /// A table the migration locked that the long transaction did not hold (or not in a mode
    /// the migration's lock waits behind).
    LongTx,
    /// Rows of a table the migration changed (its transaction kept them locked), no
    /// replayed write of that table's rows ([`super::rows`]).
    Rows,
    /// A sequence the migration locked, no replayed INSERT taking values from it
    /// ([`super::sequences`]); the gap's table is the table whose column uses it.
    Sequence,
}

/// Something the rehearsal did not measure: a table the migration locked in a way the
/// replayed queries would have felt, had any of them gone there (or a query the generator
/// could not send on time).
pub(super) struct Gap {
    pub(super) kind: GapKind,
    /// The table (or the query's name); empty when not known.
    pub(super) table: String,
    pub(super) what: String,
    pub(super) why: String,
    pub(super) fix: String,
}

/// A lock the migration's SQL is known to take (or a table it names, the lock not known), on
/// a table that existed before it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqlLock {
    /// As the lock sampler names it: `public.accounts`.
    pub table: String,
    /// `pg_locks` mode; `None`: the statement's lock is not known.
    pub mode: Option<String>,
    /// The statement's first words (empty: named, the statement not told).
    pub statement: String,
}

/// The tables `sql` names that exist now (before the migration), resolved on `client` as the
/// server resolves them (`search_path`), with the lock each statement is known to take
/// ([`parse::expected_locks`]; ROW EXCLUSIVE for a table only a data change names) or, for the
/// other statements naming a table ([`parse::touched_tables`]), none known.
pub async fn sql_locks(client: &Client, sql: &str) -> Vec<SqlLock> {
    let mut out: Vec<SqlLock> = Vec::new();
    let changed = parse::changed_only(sql);
    for (st, path) in super::paths::with_paths(sql) {
        let expected = parse::expected_locks(st);
        let named = expected
            .iter()
            .map(|e| {
                let table = crate::schema::names::quote_ident(&e.table);
                let name = match &e.schema {
                    Some(s) => format!("{}.{table}", crate::schema::names::quote_ident(s)),
                    None => table,
                };
                (name, e.mode.map(str::to_owned), e.statement.clone())
            })
            .chain(parse::touched_tables(st).into_iter().map(|t| {
                let mode = changed.contains(&t).then(|| "RowExclusiveLock".to_owned());
                (t, mode, String::new())
            }));
        for (name, mode, statement) in named.collect::<Vec<_>>() {
            let Some(table) = super::paths::resolve(client, &name, path.as_deref()).await else {
                continue;
            };
            // A statement whose lock is known says more than the name alone.
            if statement.is_empty() && out.iter().any(|l| l.table == table) {
                continue;
            }
            let l = SqlLock {
                table,
                mode,
                statement,
            };
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    out
}

/// Lock modes that block reads (`SELECT`'s ACCESS SHARE) and those that block writes
/// (ROW EXCLUSIVE), as the lock sampler names them.
pub(super) const BLOCKS_READS: &[&str] = &["AccessExclusiveLock"];
pub(super) const BLOCKS_WRITES: &[&str] = &[
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

pub(super) fn bare(x: &str) -> &str {
    x.strip_prefix("public.").unwrap_or(x)
}

pub(super) fn has(set: &std::collections::BTreeSet<String>, t: &str) -> bool {
    set.iter().any(|c| bare(c) == bare(t))
}

/// Tables the migration locked (as the lock sampler saw, or as its SQL says) in a mode that
/// blocks reads (or writes) while no replayed query reads (or writes) them; with
/// `long-transaction`, tables it locked ACCESS EXCLUSIVE that the long transaction did not
/// read; and, when neither the locks check nor the SQL says which tables the migration
/// touches, that.
pub(super) fn uncovered(r: &WorkloadReport, locks: Option<&LockReport>) -> Vec<Gap> {
    let mut out: Vec<Gap> = Vec::new();
    if let Some(locks) = locks {
        observed(r, locks, &mut out);
    }
    if let Some(sql) = &r.coverage.migration_sql {
        expected(r, locks, sql, &mut out);
    }
    if let Some(locks) = locks {
        changed(r, locks, &mut out);
    }
    super::longtx::gaps(r, locks, &mut out);
    match (locks, &r.coverage.migration_sql) {
        (None, _) => out.push(Gap {
            kind: GapKind::Unknown,
            table: String::new(),
            what: "which tables the migration locks was not measured: the locks check is off (the migration's SQL, where known, can hide tables in dynamic SQL, in functions or behind another `search_path`)".into(),
            why: "whether the replayed queries go where the migration locks was not established".into(),
            fix: "turn the locks check on (`[checks.locks]`): it samples the locks the migration takes and reads which tables it changed".into(),
        }),
        (Some(_), None) if !established(locks) => out.push(Gap {
            kind: GapKind::Unknown,
            table: String::new(),
            what: "which tables the migration locks is not known: the locks check saw no lock on a table that existed before (one shorter than its sampling interval is not seen), and its SQL is not known (the tool has no `print-sql-command`)".into(),
            why: "whether the replayed queries go where the migration locks was not established".into(),
            fix: "give the tool a `print-sql-command` under [tool] so the migration's SQL is known".into(),
        }),
        _ => {}
    }
    out
}

/// The locks check read the tables' definitions before and after the migration (so every
/// table it changed is known, whether or not a sample caught its lock), or saw a lock on a
/// table that existed before.
fn established(locks: Option<&LockReport>) -> bool {
    locks.is_some_and(|l| l.compared || l.held_ms.keys().any(|k| existed(l, &table_of(k))))
}

/// Tables whose definition the migration changed (the locks check's catalog before vs after)
/// where no replayed query goes, beyond the gaps already found: a change takes a lock on its
/// table whether or not a sample caught it (one shorter than the sampling interval is not
/// seen), and the tool's own bookkeeping or the SQL may name other tables.
fn changed(r: &WorkloadReport, locks: &LockReport, out: &mut Vec<Gap>) {
    for table in &locks.changed {
        let goes = has(&r.coverage.reads, table) || has(&r.coverage.writes, table);
        if goes || out.iter().any(|g| bare(&g.table) == bare(table)) {
            continue;
        }
        out.push(Gap {
            kind: GapKind::Changed,
            table: table.clone(),
            what: format!("the migration changed the definition of {table} (its catalog differs after the migration) and no replayed query goes to {table}"),
            why: format!("changing {table} locks it, whether or not a lock sample caught it; what users of {table} would feel was not rehearsed"),
            fix: "declare a query that reads this table under [[checks.workload.query]]".into(),
        });
    }
}

/// The table a sampled lock is felt on: an index's lock (`index public.i on t`) on its table.
/// A sequence's (`sequence public.s feeding public.t`) stays its own: the sequences' gaps are
/// found apart, by what takes values from them ([`super::sequences`]).
pub(super) fn table_of(key: &str) -> String {
    match key
        .strip_prefix("index ")
        .and_then(|k| k.split_once(" on "))
    {
        Some((_, t)) if t.contains('.') => t.to_owned(),
        Some((_, t)) => format!("public.{t}"),
        None => key.to_owned(),
    }
}

/// How to get `table` replayed, given where this run's queries came from.
fn read_fix(r: &WorkloadReport, table: &str) -> String {
    // Its queries were found but not replayed (too low a total `rate`, …): that is why.
    if let Some(s) = r.skipped.iter().find(|s| {
        s.query
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
            .any(|w| !w.is_empty() && bare(w) == bare(table))
    }) {
        return format!("its queries were found and skipped: {}", s.why);
    }
    match r.source {
        Origin::Declared => "declare a query that reads this table under [[checks.workload.query]] (or leave the queries undeclared: the tables the migration names are then replayed)",
        Origin::PgStatStatements => "declare a query that reads this table under [[checks.workload.query]]: none of the statements pg_stat_statements ranks highest by calls reads it",
        Origin::PrimaryKey => "declare a query that reads this table under [[checks.workload.query]]: the tables the migration's SQL names were replayed, and this one is not named there (dynamic SQL, a function or a trigger reached it)",
    }
    .to_owned()
}

/// Whether `table` existed before the migration (a table it created: no query could have
/// gone there before).
pub(super) fn existed(locks: &LockReport, table: &str) -> bool {
    locks.tables_before.is_empty()
        || parse::plain_name(table).is_some_and(|(schema, name)| {
            locks
                .tables_before
                .contains(&(schema.unwrap_or_else(|| "public".into()), name))
        })
}

/// The gaps the locks check's samples show.
fn observed(r: &WorkloadReport, locks: &LockReport, out: &mut Vec<Gap>) {
    for (key, modes) in &locks.held_ms {
        let table = table_of(key);
        if !existed(locks, &table) || out.iter().any(|g| bare(&g.table) == bare(&table)) {
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
                kind: GapKind::Locked,
                table: table.clone(),
                what: format!("the migration held {mode} on {key} for ~{ms} ms (locks check) and no replayed query reads {table}"),
                why: format!("every query on {table} waits while this lock is held; none was replayed, so how long users would wait was not measured"),
                fix: read_fix(r, table),
            });
        } else if let Some((mode, ms)) =
            writes.filter(|_| reads.is_none() && !has(&r.coverage.writes, table))
        {
            out.push(Gap {
                kind: GapKind::Locked,
                table: table.clone(),
                what: format!("the migration held {mode} on {key} for ~{ms} ms (locks check), which blocks writes, and no replayed query writes {table}"),
                why: format!("every INSERT, UPDATE and DELETE on {table} waits while this lock is held; none was replayed"),
                fix: "declare a write on this table under [[checks.workload.query]] (it runs in a transaction that is rolled back)".into(),
            });
        }
    }
}

/// The gaps the migration's SQL shows beyond those the samples showed: its statements' locks
/// (seen or not), and the tables it names whose lock is not known.
fn expected(r: &WorkloadReport, locks: Option<&LockReport>, sql: &[SqlLock], out: &mut Vec<Gap>) {
    for l in sql {
        let table = l.table.as_str();
        if out.iter().any(|g| bare(&g.table) == bare(table)) {
            continue;
        }
        let unseen = match locks {
            None => "the locks check is off",
            Some(k)
                if k.held_ms
                    .keys()
                    .any(|key| bare(&table_of(key)) == bare(table)) =>
            {
                "the locks check saw only weaker locks there"
            }
            Some(_) => "not seen by the locks check: held for less than its sampling interval",
        };
        let from = match l.statement.as_str() {
            "" => "its SQL".to_owned(),
            s => format!("`{s}`"),
        };
        let mode = l.mode.as_deref();
        let (what, why, fix) = match mode {
            Some(m) if BLOCKS_READS.contains(&m) && !has(&r.coverage.reads, table) => (
                format!("the migration takes {} on {table} ({from}; {unseen}) and no replayed query reads {table}", lock_name(m)),
                format!("every query on {table} waits while this lock is held; none was replayed"),
                read_fix(r, table),
            ),
            Some(m) if !BLOCKS_READS.contains(&m) && BLOCKS_WRITES.contains(&m) && !has(&r.coverage.writes, table) => (
                format!("the migration takes {} on {table} ({from}; {unseen}), which blocks writes, and no replayed query writes {table}", lock_name(m)),
                format!("every INSERT, UPDATE and DELETE on {table} waits while this lock is held; none was replayed"),
                "declare a write on this table under [[checks.workload.query]] (it runs in a transaction that is rolled back)".to_owned(),
            ),
            None if !has(&r.coverage.reads, table) => (
                format!("the migration's SQL names {table} ({from}; the lock it takes there is not known) and no replayed query goes to {table}"),
                format!("what users of {table} would feel while the migration runs was not rehearsed"),
                read_fix(r, table),
            ),
            _ => continue,
        };
        out.push(Gap {
            kind: GapKind::Sql,
            table: table.to_owned(),
            what,
            why,
            fix,
        });
    }
}

/// The summary of a result that would have passed but for `gaps`.
pub(super) fn summary(gaps: &[Gap], rest: &str) -> String {
    let tables = |k: GapKind| {
        let mut t: Vec<String> = gaps
            .iter()
            .filter(|g| g.kind == k)
            .map(|g| match k {
                GapKind::Generator => format!("`{}`", g.table),
                _ => g.table.clone(),
            })
            .collect();
        t.dedup();
        t.join(", ")
    };
    let mut parts = Vec::new();
    for (kind, phrase) in [
        (
            GapKind::Locked,
            "the migration locked {} where no replayed query goes",
        ),
        (
            GapKind::Sql,
            "the migration's SQL locks {} where no replayed query goes",
        ),
        (
            GapKind::Changed,
            "the migration changed {} where no replayed query goes",
        ),
        (
            GapKind::Rows,
            "the migration changed or locked rows of {} (its transaction kept them locked) and no replayed write was seen waiting for one",
        ),
        (
            GapKind::Sequence,
            "the migration locked the sequence of {} where no replayed INSERT takes a value from it",
        ),
        (
            GapKind::Generator,
            "requests of {} waited for the generator's own connections",
        ),
        (
            GapKind::LongTx,
            "the long transaction did not rehearse the lock queue on {}",
        ),
    ] {
        let t = tables(kind);
        if !t.is_empty() {
            parts.push(phrase.replace("{}", &t));
        }
    }
    if gaps.iter().any(|g| g.kind == GapKind::Unknown) {
        parts.push("which tables the migration locks is not known".to_owned());
    }
    format!("NOT CHECKED: {}; {rest}", parts.join("; "))
}

/// What the details say about how the coverage was established.
pub(super) fn note(r: &WorkloadReport, locks: Option<&LockReport>) -> Option<String> {
    match (locks, &r.coverage.migration_sql) {
        (Some(_), None) => Some("the migration's SQL is not known (no `print-sql-command`): the replayed queries were checked against the locks the locks check saw only (a lock shorter than its sampling interval is not seen)".into()),
        _ => None,
    }
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
        judged_with(report(), Some(held), long_tx)
    }

    /// Budgets met on `r`; the locks check saw `held` (table, mode, ms), or is off (`None`).
    fn judged_with(
        mut r: WorkloadReport,
        held: Option<&[(&str, &str, u64)]>,
        long_tx: Option<&[&str]>,
    ) -> CheckResult {
        if let Some(tables) = long_tx {
            r.long_transaction = Some(LongTxReport {
                tables: tables.iter().map(|t| t.to_string()).collect(),
                mode: Default::default(),
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
        let Some(held) = held else {
            return evaluate(&r, &cfg, None);
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

    /// The report with the migration's SQL taking `sql` (table, mode, statement); `None`:
    /// its SQL not known.
    fn with_sql(sql: Option<&[(&str, Option<&str>, &str)]>) -> WorkloadReport {
        let mut r = report();
        r.coverage.migration_sql = sql.map(|s| {
            s.iter()
                .map(|(t, m, st)| SqlLock {
                    table: t.to_string(),
                    mode: m.map(str::to_owned),
                    statement: st.to_string(),
                })
                .collect()
        });
        r
    }

    #[test]
    fn a_lock_the_migrations_sql_takes_counts_when_no_sample_saw_it() {
        let alter = [(
            "public.other",
            Some("AccessExclusiveLock"),
            "ALTER TABLE other ADD COLUMN …",
        )];
        // Shorter than the sampling: the locks check saw nothing there.
        let res = judged_with(with_sql(Some(&alter)), Some(&[]), None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(
            res.summary.starts_with(
                "NOT CHECKED: the migration's SQL locks public.other where no replayed query goes"
            ),
            "{}",
            res.summary
        );
        assert!(res.findings.iter().any(|f| f.what
            == "not checked: the migration takes ACCESS EXCLUSIVE on public.other (`ALTER TABLE other ADD COLUMN …`; not seen by the locks check: held for less than its sampling interval) and no replayed query reads public.other"), "{res:#?}");
        // The declared queries' fix, and one that says its queries were skipped, and why.
        assert!(res.findings.iter().any(|f| f
            .fix
            .as_deref()
            .is_some_and(|x| x.contains("or leave the queries undeclared"))));
        let mut skipped = with_sql(Some(&alter));
        skipped.skipped.push(super::super::sources::Skipped {
            query: "SELECT * FROM public.other WHERE id = $1".into(),
            why: "raise `rate` to at least 4/s".into(),
        });
        let res = judged_with(skipped, Some(&[]), None);
        assert!(
            res.findings.iter().any(|f| f.fix.as_deref()
                == Some("its queries were found and skipped: raise `rate` to at least 4/s")),
            "{res:#?}"
        );
        // The locks check off: the SQL alone.
        let res = judged_with(with_sql(Some(&alter)), None, None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(res
            .findings
            .iter()
            .any(|f| f.what.contains("the locks check is off")));
        // SHARE blocks writes: the replayed read does not cover it.
        let index = [("public.t", Some("ShareLock"), "CREATE INDEX ON t …")];
        let res = judged_with(with_sql(Some(&index)), Some(&[]), None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(res
            .findings
            .iter()
            .any(|f| f.what.contains("no replayed query writes public.t")));
        // Named, its lock not known (`UPDATE other …`): some query must go there.
        let named = [("public.other", None, "")];
        let res = judged_with(with_sql(Some(&named)), Some(&[]), None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(res.findings.iter().any(|f| {
            f.what.contains(
            "the migration's SQL names public.other (its SQL; the lock it takes there is not known)"
        )
        }));
        // Weaker locks (CONCURRENTLY) block nobody; a covered table is covered.
        let fine = [
            (
                "public.other",
                Some("ShareUpdateExclusiveLock"),
                "CREATE INDEX CONCURRENTLY …",
            ),
            ("public.t", None, ""),
        ];
        let res = judged_with(with_sql(Some(&fine)), Some(&[]), None);
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        // With `long-transaction`, an ACCESS EXCLUSIVE the SQL takes is held against it too.
        let t = [("public.t", Some("AccessExclusiveLock"), "ALTER TABLE t …")];
        let res = judged_with(with_sql(Some(&t)), None, Some(&["public.accounts"]));
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
    }

    #[test]
    fn a_table_only_a_data_change_names_takes_row_exclusive_any_other_an_unknown_lock() {
        let sql = "UPDATE audit SET a = 1; INSERT INTO audit VALUES (1);\n\
                   DELETE FROM t WHERE false; CREATE TRIGGER g BEFORE UPDATE ON t EXECUTE FUNCTION f();\n\
                   DO $$ BEGIN UPDATE inside SET a = 1; END $$;\n\
                   INSERT INTO log VALUES (1) ON CONFLICT DO UPDATE SET a = 2;";
        assert_eq!(parse::changed_only(sql), ["audit", "log", "inside"]);
        assert_eq!(parse::touched_tables(sql), ["audit", "t", "log", "inside"]);
    }

    #[test]
    fn which_tables_the_migration_touches_unknown_is_not_checked() {
        // Neither the locks check (off) nor the SQL (not known) says.
        let res = judged_with(with_sql(None), None, None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(
            res.summary
                .starts_with("NOT CHECKED: which tables the migration locks is not known"),
            "{}",
            res.summary
        );
        // The locks check on, but it saw no lock on a table that existed before.
        let res = judged_with(
            with_sql(None),
            Some(&[("public.created", "AccessExclusiveLock", 40)]),
            None,
        );
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        // It saw one: that is the migration's table set.
        let res = judged_with(
            with_sql(None),
            Some(&[("public.t", "AccessExclusiveLock", 40)]),
            None,
        );
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        assert!(res
            .details
            .iter()
            .any(|d| d.contains("the migration's SQL is not known")));
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

//! The long transaction's settings and what it proved: which tables it holds
//! (`long-transaction-tables`, else those the migration's SQL names, resolved in its
//! `search_path`), in which mode (`long-transaction-mode`: a long report query reads, ACCESS
//! SHARE; a long write transaction holds ROW EXCLUSIVE, which `CREATE INDEX`'s SHARE waits
//! behind too), and after the run: a table the migration locked that the long transaction did
//! not hold, or held in a mode the migration's lock does not wait behind, is NOT CHECKED.

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::coverage::{bare, Gap, GapKind, SqlLock};
use super::report::WorkloadReport;
use super::{ConfigProblem, RawWorkloadConfig, WorkloadError};
use crate::checks::lock_name;
use crate::checks::locks::LockReport;

/// What the long transaction does on each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LongTxMode {
    /// Reads it (ACCESS SHARE): a long report query. Only ACCESS EXCLUSIVE waits behind it.
    #[default]
    Read,
    /// Reads it and takes ROW EXCLUSIVE (`LOCK TABLE … IN ROW EXCLUSIVE MODE`, on the test
    /// Neon database branch only, nothing written): a long write transaction. SHARE (`CREATE
    /// INDEX`), SHARE ROW EXCLUSIVE, EXCLUSIVE and ACCESS EXCLUSIVE wait behind it.
    Write,
}

impl LongTxMode {
    /// The lock it holds, as `pg_locks` names it.
    pub fn lock(self) -> &'static str {
        match self {
            LongTxMode::Read => "AccessShareLock",
            LongTxMode::Write => "RowExclusiveLock",
        }
    }

    /// Whether a migration's `mode` waits behind it.
    pub fn conflicts(self, mode: &str) -> bool {
        match self {
            LongTxMode::Read => mode == "AccessExclusiveLock",
            LongTxMode::Write => BLOCKS_WRITES.contains(&mode),
        }
    }
}

/// Lock modes that block the workload's writes (those above also block reads only when
/// ACCESS EXCLUSIVE).
const BLOCKS_WRITES: &[&str] = &[
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// `long-transaction-tables` and `long-transaction-mode`, validated; problems listed.
pub(super) fn settings(
    raw: &RawWorkloadConfig,
    problems: &mut Vec<ConfigProblem>,
) -> (Vec<String>, Option<LongTxMode>) {
    let needs_long = |key: &str, problems: &mut Vec<ConfigProblem>| {
        if raw.long_transaction.is_none() {
            problems.push(super::problem(
                key,
                format!("`checks.workload.{key}` needs `long-transaction`: without it no long transaction is opened, so this setting would do nothing"),
                "add `long-transaction = \"3s\"` under [checks.workload], or remove this key",
            ));
        }
    };
    let mut tables = Vec::new();
    if let Some(list) = &raw.long_transaction_tables {
        needs_long("long-transaction-tables", problems);
        if list.is_empty() {
            problems.push(super::problem(
                "long-transaction-tables",
                "`checks.workload.long-transaction-tables` is empty: the long transaction would hold no table",
                "name the tables the migration locks, schema-qualified: `long-transaction-tables = [\"app.accounts\"]`, or remove the key to take them from the migration's SQL",
            ));
        }
        for t in list {
            if super::parse::plain_name(t).is_none() {
                problems.push(super::problem(
                    "long-transaction-tables",
                    format!("`checks.workload.long-transaction-tables`: `{}` is not a table name", crate::schema::comment_text(t)),
                    "write each table as SQL names it, schema-qualified where it is not in `public`: `[\"app.accounts\", \"orders\"]`",
                ));
            } else if !tables.contains(t) {
                tables.push(t.clone());
            }
        }
    }
    let mode = match raw.long_transaction_mode.as_deref().map(str::trim) {
        None => None,
        Some(m) => {
            needs_long("long-transaction-mode", problems);
            match m {
                "read" => Some(LongTxMode::Read),
                "write" => Some(LongTxMode::Write),
                other => {
                    problems.push(super::problem(
                        "long-transaction-mode",
                        format!("`checks.workload.long-transaction-mode`: `{}` is not a mode", crate::schema::comment_text(other)),
                        "write `long-transaction-mode = \"read\"` (a long report query: ACCESS SHARE, which only ACCESS EXCLUSIVE waits behind) or `\"write\"` (a long write transaction: ROW EXCLUSIVE, which CREATE INDEX's SHARE waits behind too); leave it out to choose from the locks the migration's SQL takes",
                    ));
                    None
                }
            }
        }
    };
    (tables, mode)
}

/// The mode to rehearse: the configured one, else "write" when the migration's SQL takes a
/// lock that blocks writes but not reads (SHARE: `CREATE INDEX`; SHARE ROW EXCLUSIVE:
/// triggers, foreign keys; EXCLUSIVE) — a read would not make it wait, so it would prove
/// nothing — else "read" (the long report query of the classic outage).
pub(super) fn mode(configured: Option<LongTxMode>, sql: Option<&[SqlLock]>) -> LongTxMode {
    configured.unwrap_or_else(|| {
        let write_only = sql.into_iter().flatten().any(|l| {
            l.mode
                .as_deref()
                .is_some_and(|m| m != "AccessExclusiveLock" && BLOCKS_WRITES.contains(&m))
        });
        match write_only {
            true => LongTxMode::Write,
            false => LongTxMode::Read,
        }
    })
}

/// The tables of `long-transaction-tables` as the lock sampler names them; one that does not
/// exist is an error naming it and the key.
pub(super) async fn named_tables(
    client: &Client,
    names: &[String],
) -> Result<Vec<String>, WorkloadError> {
    let mut out = Vec::new();
    for n in names {
        match super::paths::resolve(client, n, None).await {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => {
                return Err(WorkloadError::Nothing(format!(
                    "`long-transaction-tables` names `{}`, which does not exist on the test Neon database branch before the migration: write each table schema-qualified (`app.accounts`), as it exists before the migration runs",
                    crate::schema::comment_text(n)
                )))
            }
        }
    }
    Ok(out)
}

/// A table the migration locked (or changed), the strongest lock known there, and how it is
/// known.
struct Locked {
    table: String,
    mode: Option<String>,
    how: String,
}

/// The tables the migration locked: seen by the lock sampler (SHARE and above), taken by its
/// SQL's statements, or whose definition it changed (a lock no sample caught, in dynamic SQL
/// or behind another `search_path`) — tables it created are not there before, so not here.
fn locked(r: &WorkloadReport, locks: Option<&LockReport>) -> Vec<Locked> {
    let mut out: Vec<Locked> = Vec::new();
    let mut add = |table: String, mode: Option<String>, how: String| match out
        .iter_mut()
        .find(|l| bare(&l.table) == bare(&table))
    {
        Some(l) => {
            let rank = |m: &Option<String>| m.as_deref().map_or(0, |m| super::report::rank(m) + 1);
            if rank(&mode) > rank(&l.mode) {
                (l.mode, l.how) = (mode, how);
            }
        }
        None => out.push(Locked { table, mode, how }),
    };
    if let Some(l) = locks {
        for (key, modes) in &l.held_ms {
            let table = super::coverage::table_of(key);
            if !super::coverage::existed(l, &table) {
                continue;
            }
            if let Some((m, ms)) = modes
                .iter()
                .filter(|(m, _)| BLOCKS_WRITES.contains(&m.as_str()))
                .max_by_key(|(m, _)| super::report::rank(m))
            {
                let how = format!("held {} on {key} for ~{ms} ms (locks check)", lock_name(m));
                add(table, Some(m.clone()), how);
            }
        }
    }
    for s in r.coverage.migration_sql.iter().flatten() {
        if let Some(m) = s.mode.as_deref().filter(|m| BLOCKS_WRITES.contains(m)) {
            let how = format!("takes {} on {} (`{}`)", lock_name(m), s.table, s.statement);
            add(s.table.clone(), Some(m.to_owned()), how);
        }
    }
    if let Some(l) = locks {
        for t in l.changed.iter().filter(|t| super::coverage::existed(l, t)) {
            let how = format!("changed the definition of {t} (its catalog differs after the migration), which locks it");
            add(t.clone(), None, how);
        }
    }
    out
}

/// With `long-transaction`: each table the migration locked that the long transaction did not
/// hold, or held in a mode the migration's lock does not wait behind — unless the migration
/// was seen waiting behind it there.
pub(super) fn gaps(r: &WorkloadReport, locks: Option<&LockReport>, out: &mut Vec<Gap>) {
    let Some(l) = &r.long_transaction else { return };
    for m in locked(r, locks) {
        let table = m.table.as_str();
        let waited = r.queue.migration_waits.iter().any(|w| {
            bare(&w.table) == bare(table) && w.behind == Some(super::blocking::Who::LongTransaction)
        });
        if waited {
            continue;
        }
        let held = l.tables.iter().any(|t| bare(t) == bare(table));
        let key = format!("long-transaction-tables = [\"{table}\"]");
        let (what, why, fix) = if !held {
            (
                format!("the migration {}, and the long transaction did not hold {table} (it held {})", m.how, l.tables.join(", ")),
                format!("`long-transaction` rehearses a long transaction ahead of the migration's lock request; on {table} it was not rehearsed, so how long the migration and every query behind it would wait there is not known"),
                format!("name the table for the long transaction: `{key}` under [checks.workload] (with the tables it already holds)"),
            )
        } else {
            match m.mode.as_deref() {
                Some(mode) if !l.mode.conflicts(mode) => (
                    format!("the migration {}, and the long transaction held {table} in {} mode ({}), which {} does not wait behind", m.how, mode_name(l.mode), lock_name(l.mode.lock()), lock_name(mode)),
                    format!("the migration never queued behind the long transaction on {table}, so the queue a long {} transaction causes there was not rehearsed", match l.mode { LongTxMode::Read => "write", LongTxMode::Write => "read" }),
                    format!("set `long-transaction-mode = \"write\"` under [checks.workload]: the long transaction then takes ROW EXCLUSIVE on {table}, which {} waits behind", lock_name(mode)),
                ),
                _ => continue,
            }
        };
        out.push(Gap {
            kind: GapKind::LongTx,
            table: table.to_owned(),
            what,
            why,
            fix,
        });
    }
}

fn mode_name(m: LongTxMode) -> &'static str {
    match m {
        LongTxMode::Read => "read",
        LongTxMode::Write => "write",
    }
}

/// The details' line about the long transaction.
pub(super) fn line(l: &super::blocking::LongTxReport) -> String {
    match l.mode {
        LongTxMode::Read => format!(
            "long transaction: read {} and stayed open {} ms",
            l.tables.join(", "),
            l.held_ms
        ),
        LongTxMode::Write => format!(
            "long transaction (write): read {} and held ROW EXCLUSIVE there (writing nothing) as a long write transaction does, and stayed open {} ms",
            l.tables.join(", "),
            l.held_ms
        ),
    }
}

/// Why "write" was chosen when `long-transaction-mode` is not set, for the report's notes.
pub(super) fn chosen_note(
    configured: Option<LongTxMode>,
    sql: Option<&[SqlLock]>,
) -> Option<String> {
    if configured.is_some() || mode(None, sql) != LongTxMode::Write {
        return None;
    }
    let l = sql?.iter().find(|l| {
        l.mode
            .as_deref()
            .is_some_and(|m| m != "AccessExclusiveLock" && BLOCKS_WRITES.contains(&m))
    })?;
    Some(format!(
        "the long transaction writes (ROW EXCLUSIVE, nothing written): the migration takes {} on {} (`{}`), which waits behind a long write transaction and not behind a long read; `long-transaction-mode = \"read\"` under [checks.workload] rehearses a long read instead",
        lock_name(l.mode.as_deref().unwrap_or_default()),
        l.table,
        l.statement
    ))
}

#[cfg(test)]
mod tests {
    use super::super::WorkloadConfig;
    use super::*;

    fn parse(toml: &str) -> Result<WorkloadConfig, Vec<ConfigProblem>> {
        let raw: RawWorkloadConfig = toml::from_str(&format!("enabled = true\n{toml}")).unwrap();
        WorkloadConfig::from_raw(&raw)
    }

    fn keys(e: Vec<ConfigProblem>) -> Vec<String> {
        e.into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn long_transaction_tables_and_mode_are_validated() {
        let c = parse(
            "long-transaction = \"3s\"\nlong-transaction-tables = [\"app.accounts\", \"orders\", \"orders\"]\nlong-transaction-mode = \"write\"",
        )
        .unwrap();
        assert_eq!(c.long_transaction_tables, ["app.accounts", "orders"]);
        assert_eq!(c.long_transaction_mode, Some(LongTxMode::Write));
        let c = parse("long-transaction = \"3s\"").unwrap();
        assert!(c.long_transaction_tables.is_empty());
        assert_eq!(c.long_transaction_mode, None);
        // Without `long-transaction` they would do nothing.
        let e = parse("long-transaction-tables = [\"t\"]\nlong-transaction-mode = \"read\"");
        assert_eq!(
            keys(e.unwrap_err()),
            [
                "checks.workload.long-transaction-tables",
                "checks.workload.long-transaction-mode"
            ]
        );
        // Empty, not a name, not a mode.
        let e = parse("long-transaction = \"3s\"\nlong-transaction-tables = []").unwrap_err();
        assert!(e[0].message.contains("is empty"), "{e:?}");
        let e = parse("long-transaction = \"3s\"\nlong-transaction-tables = [\"a b; drop\"]")
            .unwrap_err();
        assert!(e[0].message.contains("is not a table name"), "{e:?}");
        let e = parse("long-transaction = \"3s\"\nlong-transaction-mode = \"rw\"").unwrap_err();
        assert_eq!(keys(e), ["checks.workload.long-transaction-mode"]);
    }

    #[test]
    fn write_is_chosen_where_a_read_could_not_make_the_migration_wait() {
        let lock = |m: &str| SqlLock {
            table: "public.t".into(),
            mode: Some(m.into()),
            statement: "…".into(),
        };
        assert_eq!(mode(None, None), LongTxMode::Read);
        assert_eq!(
            mode(None, Some(&[lock("AccessExclusiveLock")])),
            LongTxMode::Read
        );
        for m in ["ShareLock", "ShareRowExclusiveLock", "ExclusiveLock"] {
            assert_eq!(mode(None, Some(&[lock(m)])), LongTxMode::Write, "{m}");
            assert!(!LongTxMode::Read.conflicts(m) && LongTxMode::Write.conflicts(m));
        }
        assert_eq!(
            mode(Some(LongTxMode::Read), Some(&[lock("ShareLock")])),
            LongTxMode::Read
        );
        assert!(!LongTxMode::Write.conflicts("ShareUpdateExclusiveLock"));
    }
}

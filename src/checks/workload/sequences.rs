//! Sequences: `ALTER SEQUENCE` (SHARE ROW EXCLUSIVE) and other sequence DDL lock the
//! sequence, and `nextval()` — every INSERT into a table whose column takes its default from
//! it (`serial`, identity, `DEFAULT nextval('s')`) — waits (ROW EXCLUSIVE) until the
//! migration's transaction ends. The lock is on the sequence, not on the table: the table's
//! readers never feel it, and the report must name the table and its INSERTs.
//!
//! Which tables use a sequence: `pg_depend` — a column default calling `nextval` (the
//! default's dependency on the sequence), a sequence owned by a column (`serial`, `OWNED BY`)
//! or an identity column's. Which sequences the migration locked: the workload observer's
//! samples (the locks check samples tables only). What covers it: a replayed query whose trial
//! run locked the sequence (an INSERT that took a value from it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::blocking::{Seen, Who};
use super::coverage::{bare, has, Gap, GapKind, BLOCKS_WRITES};
use super::report::{Blocked, WorkloadReport};
use crate::checks::lock_name;

/// Each sequence with the tables that take values from it.
const USERS: &str = "WITH uses AS (
  SELECT d.refobjid AS seq, ad.adrelid AS tbl
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_attrdef ad ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND ad.oid = d.objid
   WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
  UNION
  SELECT d.objid, d.refobjid
    FROM pg_catalog.pg_depend d
   WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.deptype IN ('a', 'i'))
SELECT pg_catalog.quote_ident(sn.nspname) || '.' || pg_catalog.quote_ident(s.relname),
       pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.relname)
  FROM uses u
  JOIN pg_catalog.pg_class s ON s.oid = u.seq AND s.relkind = 'S'
  JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_catalog.pg_class t ON t.oid = u.tbl AND t.relkind IN ('r', 'p')
  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
 WHERE tn.nspname NOT IN ('pg_catalog', 'information_schema', 'neon_migrate')
 ORDER BY 1, 2";

/// Each sequence with the tables whose columns take values from it (empty when they cannot
/// be read).
pub async fn users(client: &Client) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in client.query(USERS, &[]).await.unwrap_or_default() {
        let tables = out.entry(r.get(0)).or_default();
        let t: String = r.get(1);
        if !tables.contains(&t) {
            tables.push(t);
        }
    }
    out
}

/// A sequence the migration locked in a mode that blocks `nextval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceLock {
    pub sequence: String,
    /// `SHARE ROW EXCLUSIVE`, …
    pub lock: String,
    /// How long the workload's observer saw it held, ms.
    pub ms: u64,
    /// The tables whose columns take values from it.
    pub tables: Vec<String>,
    /// The migration's statement then.
    pub statement: String,
}

/// The sequences of `users` the migration was seen holding in a mode that blocks `nextval`.
pub fn locked(seen: &Seen, users: &BTreeMap<String, Vec<String>>) -> Vec<SequenceLock> {
    let mut out: Vec<SequenceLock> = Vec::new();
    let held = seen.snapshots.iter().flat_map(|s| &s.held).filter(|h| {
        h.who == Who::Migration
            && users.contains_key(&h.relation)
            && BLOCKS_WRITES.contains(&h.mode.as_str())
    });
    for h in held {
        let ms = seen.held_ms(h.pid, &h.relation).map_or(0, |(ms, _)| ms);
        let lock = lock_name(&h.mode);
        match out.iter_mut().find(|l| l.sequence == h.relation) {
            Some(l) => {
                if ms > l.ms {
                    l.ms = ms;
                }
                if super::report::rank(&h.mode) > rank_of(&l.lock) {
                    l.lock = lock;
                }
            }
            None => out.push(SequenceLock {
                sequence: h.relation.clone(),
                lock,
                ms,
                tables: users[&h.relation].clone(),
                statement: seen
                    .sessions
                    .get(&h.pid)
                    .map(|s| super::sources::one_line(&s.1))
                    .unwrap_or_default(),
            }),
        }
    }
    out
}

/// The rank of a lock by its shown name (`SHARE ROW EXCLUSIVE`).
fn rank_of(shown: &str) -> usize {
    crate::checks::LOCK_MODES
        .iter()
        .position(|m| lock_name(m) == shown)
        .unwrap_or(0)
}

/// The tables whose sequence the migration locked where no replayed INSERT took a value from
/// it (beyond the gaps already in `out`).
pub(super) fn gaps(r: &WorkloadReport, out: &mut Vec<Gap>) {
    for l in &r.coverage.sequence_locks {
        if has(&r.coverage.writes, &l.sequence) || has(&r.coverage.reads, &l.sequence) {
            continue;
        }
        for table in &l.tables {
            if out.iter().any(|g| bare(&g.table) == bare(table)) {
                continue;
            }
            out.push(Gap {
                kind: GapKind::Sequence,
                table: table.clone(),
                what: format!(
                    "the migration held {} on sequence {} for ~{} ms (`{}`), which {table} takes values from, and no replayed INSERT into {table} takes a value from it",
                    l.lock, l.sequence, l.ms, l.statement
                ),
                why: format!(
                    "every INSERT into {table} that takes its value from {} (nextval) waits while this lock is held; none was replayed",
                    l.sequence
                ),
                fix: format!(
                    "declare an INSERT into {table} that leaves the column to its default under [[checks.workload.query]], e.g. `sql = \"INSERT INTO {table} (<other columns>) VALUES ($1)\"` with `params` (it runs in a transaction that is rolled back)"
                ),
            });
        }
    }
}

/// The sequence lock a request waited for, if its table is a sequence the migration locked.
pub(super) fn waited_for<'a>(r: &'a WorkloadReport, b: &Blocked) -> Option<&'a SequenceLock> {
    let t = b.table.as_deref()?;
    r.coverage.sequence_locks.iter().find(|l| l.sequence == t)
}

/// The what-suffix, why and fix of a request that waited for a sequence the migration locked.
pub(super) fn blame(r: &WorkloadReport, b: &Blocked, l: &SequenceLock) -> (String, String) {
    let tables = l.tables.join(", ");
    let why = format!(
        "it waited for {} on sequence {} (nextval, for the default of {tables}) behind {} (`{}`), which held {}; {} request(s) queued behind it, up to {} at once — on production every INSERT into {tables} that takes a value from {} waits this long",
        b.lock.as_deref().unwrap_or("ROW EXCLUSIVE"),
        l.sequence,
        b.behind.map_or("the migration", |w| w.describe()),
        b.behind_statement.as_deref().unwrap_or(&l.statement),
        b.behind_lock.as_deref().unwrap_or(&l.lock),
        r.queue.queued,
        r.queue.max_at_once,
        l.sequence
    );
    let fix = format!(
        "run the sequence change in a transaction of its own that commits at once (the lock on {} lasts until its transaction ends, and INSERTs into {tables} wait for it), or raise `max-blocked` under [checks.workload] if this wait is acceptable",
        l.sequence
    );
    (why, fix)
}

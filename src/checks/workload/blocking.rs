//! The lock queue: a long transaction opened ahead of the migration, and an observer that
//! samples who waits for which lock, behind whom.
//!
//! An `ALTER TABLE` needs ACCESS EXCLUSIVE; while it waits for a transaction that read the
//! table, every later query on the table queues behind the waiting `ALTER` — a harmless
//! 300 ms lock becomes an outage as long as the long transaction. The observer samples
//! `pg_locks` with `pg_blocking_pids` (every [`INTERVAL`]) so the report can say which query
//! waited on which table and lock, and whether the blocker was the migration or the long
//! transaction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use super::WorkloadError;
use crate::pg;
use crate::secret::Secret;

/// How often the observer samples.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// Who a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Who {
    /// One of the generator's connections.
    Workload,
    /// The long transaction opened ahead of the migration.
    LongTransaction,
    /// Any other session on the test Neon database branch: the migration tool's.
    Migration,
    /// Such a session still there after the migration tool exited (one it left open in the
    /// background, or a statement its backend kept running): not the migration's run.
    OutlivedTool,
}

impl Who {
    pub fn describe(self) -> &'static str {
        match self {
            Who::Workload => "a replayed query",
            Who::LongTransaction => "the long transaction",
            Who::Migration => "the migration",
            Who::OutlivedTool => "a session that outlived the migration tool",
        }
    }
}

/// How long after the migration tool exited a session of its may still be seen (its backend
/// ending) before it counts as one that outlived the tool: two samples.
pub const OUTLIVED_AFTER: Duration = Duration::from_millis(100);

/// A lock request that was waiting when sampled.
#[derive(Debug, Clone)]
pub struct Wait {
    pub pid: i32,
    pub who: Who,
    /// `AccessExclusiveLock`, …
    pub mode: String,
    /// `public.t`, or for a row lock `a row`.
    pub relation: String,
    pub blockers: Vec<i32>,
    /// A lock on a relation (a table, an index), not a row's: every request of a query that
    /// asks for it in the same mode waits as this one does.
    pub table_lock: bool,
}

/// A strong lock (SHARE and above) granted to someone but the workload.
#[derive(Debug, Clone)]
pub struct Held {
    pub pid: i32,
    pub who: Who,
    pub mode: String,
    pub relation: String,
}

/// One sample.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// µs after the generator started.
    pub t_us: u64,
    pub waiting: Vec<Wait>,
    pub held: Vec<Held>,
}

/// What the observer saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub snapshots: Vec<Snapshot>,
    /// Every session seen: who it is and the last statement it ran.
    pub sessions: BTreeMap<i32, (Who, String)>,
    /// Time spent waiting for samples, in ms (the observer's own load on the server).
    pub busy_ms: u64,
    /// The generator's backends and the long transaction's.
    pub workload_pids: Vec<i32>,
    pub long_tx_pid: Option<i32>,
    /// Sessions seen after the migration tool exited ([`Seen::mark_outlived`]).
    pub outlived: Vec<i32>,
    /// When the migration ended, µs on the timeline (set by [`Seen::mark_outlived`]).
    pub migration_end_us: Option<u64>,
}

impl Seen {
    /// Who backend `pid` is.
    pub fn who(&self, pid: i32) -> Who {
        if self.workload_pids.contains(&pid) {
            Who::Workload
        } else if Some(pid) == self.long_tx_pid {
            Who::LongTransaction
        } else if self.outlived.contains(&pid) {
            Who::OutlivedTool
        } else {
            Who::Migration
        }
    }

    /// The migration ended at `end_us`: a session taken for the migration's that was still
    /// holding or waiting for a lock more than [`OUTLIVED_AFTER`] later outlived the tool.
    pub fn mark_outlived(&mut self, end_us: u64) {
        self.migration_end_us = Some(end_us);
        let after = end_us + OUTLIVED_AFTER.as_micros() as u64;
        for snap in self.snapshots.iter().filter(|s| s.t_us > after) {
            let pids = snap.held.iter().map(|h| (h.pid, h.who));
            for (pid, who) in pids.chain(snap.waiting.iter().map(|w| (w.pid, w.who))) {
                if who == Who::Migration && !self.outlived.contains(&pid) {
                    self.outlived.push(pid);
                }
            }
        }
        let outlived = self.outlived.clone();
        let mark = |pid: i32, who: &mut Who| {
            if outlived.contains(&pid) {
                *who = Who::OutlivedTool;
            }
        };
        for snap in &mut self.snapshots {
            snap.held.iter_mut().for_each(|h| mark(h.pid, &mut h.who));
            snap.waiting
                .iter_mut()
                .for_each(|w| mark(w.pid, &mut w.who));
        }
        for (pid, (who, _)) in self.sessions.iter_mut() {
            mark(*pid, who);
        }
    }

    /// How long `pid` was seen holding a lock on `relation` (from the first sample that saw it
    /// to the last, plus one interval), and how much of that after the migration ended, in ms.
    pub fn held_ms(&self, pid: i32, relation: &str) -> Option<(u64, u64)> {
        let seen = self.snapshots.iter().filter(|s| {
            s.held
                .iter()
                .any(|h| h.pid == pid && h.relation == relation)
        });
        let (mut first, mut last) = (None, 0);
        for s in seen {
            first.get_or_insert(s.t_us);
            last = s.t_us;
        }
        let first = first?;
        let until = last + INTERVAL.as_micros() as u64;
        let after = self
            .migration_end_us
            .map_or(0, |end| until.saturating_sub(end.max(first)));
        Some(((until - first) / 1000, after / 1000))
    }
}

const SAMPLE: &str = r#"
SELECT l.pid,
       l.mode,
       l.granted,
       CASE WHEN c.oid IS NOT NULL THEN quote_ident(n.nspname) || '.' || quote_ident(c.relname)
            WHEN l.locktype = 'relation' THEN l.relation::text
            WHEN l.locktype IN ('transactionid', 'tuple') THEN 'a row'
            ELSE l.locktype END,
       left(coalesce(a.query, ''), 300),
       CASE WHEN l.granted THEN '{}'::int4[] ELSE pg_blocking_pids(l.pid) END,
       l.locktype = 'relation'
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
  LEFT JOIN pg_class c ON c.oid = l.relation
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid <> pg_backend_pid()
   AND a.datname = current_database()
   AND NOT (l.pid = ANY ($1::int4[]))
   AND (NOT l.granted
        OR (l.locktype = 'relation'
            AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
            AND coalesce(n.nspname, '') NOT IN ('pg_catalog', 'pg_toast', 'neon_migrate')))
"#;

/// The observer, sampling.
pub struct Observer {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<Seen, WorkloadError>>,
}

impl Observer {
    /// Connects and starts sampling; `workload` are the generator's backends, `long_tx` the
    /// long transaction's.
    pub async fn start(
        url: &Secret<String>,
        t0: Instant,
        workload: Vec<i32>,
        long_tx: Option<i32>,
    ) -> Result<Observer, WorkloadError> {
        let client = own_session(url, "neon-migrate workload observer").await?.0;
        let stmt = client
            .prepare(SAMPLE)
            .await
            .map_err(|e| WorkloadError::db("cannot prepare the lock observer's query", &e))?;
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut seen = Seen {
                workload_pids: workload.clone(),
                long_tx_pid: long_tx,
                ..Default::default()
            };
            let mut busy = Duration::ZERO;
            let mut ticker = tokio::time::interval(INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = rx.changed() => break,
                }
                let now = Instant::now();
                // Our other sessions (the lock sampler, the witness) are not the migration.
                let own: Vec<i32> = pg::own_pids()
                    .into_iter()
                    .filter(|p| !workload.contains(p) && Some(*p) != long_tx)
                    .collect();
                let rows = client.query(&stmt, &[&own]).await;
                busy += now.elapsed();
                let Ok(rows) = rows else { continue };
                let mut snap = Snapshot {
                    t_us: now.saturating_duration_since(t0).as_micros() as u64,
                    ..Default::default()
                };
                for r in &rows {
                    let pid: i32 = r.get(0);
                    let mode: String = r.get(1);
                    let granted: bool = r.get(2);
                    let relation: String = r.get(3);
                    let query: String = r.get(4);
                    let w = seen.who(pid);
                    seen.sessions.insert(pid, (w, query));
                    if granted {
                        snap.held.push(Held {
                            pid,
                            who: w,
                            mode,
                            relation,
                        });
                    } else {
                        snap.waiting.push(Wait {
                            pid,
                            who: w,
                            mode,
                            relation,
                            blockers: r.get(5),
                            table_lock: r.get(6),
                        });
                    }
                }
                seen.snapshots.push(snap);
            }
            seen.busy_ms = busy.as_millis() as u64;
            Ok(seen)
        });
        Ok(Observer { stop, task })
    }

    pub async fn finish(self) -> Result<Seen, WorkloadError> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| WorkloadError::Stopped(format!("the lock observer failed: {e}")))?
    }
}

/// A session of ours on the target: named, its statistics flushed (the witness must not
/// count it as the tool's), its pid registered so the lock sampler leaves it out.
async fn own_session(url: &Secret<String>, app: &str) -> Result<(Client, i32), WorkloadError> {
    let client = pg::connect_observer(url)
        .await
        .map_err(WorkloadError::Connect)?;
    client
        .batch_execute(&format!(
            "SET application_name = {}; {}",
            pg::literal(app),
            pg::FLUSH_OWN_STATS
        ))
        .await
        .map_err(|e| WorkloadError::db(format!("cannot set up the {app}"), &e))?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(|e| WorkloadError::db(format!("cannot set up the {app}"), &e))?
        .get(0);
    pg::note_own_pid(pid);
    Ok((client, pid))
}

/// What the long transaction did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LongTxReport {
    pub tables: Vec<String>,
    /// How long it stayed open, in ms.
    pub held_ms: u64,
    /// When it opened, ms after the generator started.
    pub opened_at_ms: u64,
}

/// A transaction that reads each table and stays open: the classic outage ahead of a
/// migration's lock request.
pub struct LongTransaction {
    client: Arc<Client>,
    pid: i32,
    hold: Duration,
    tables: Vec<String>,
    task: Option<JoinHandle<Result<Duration, WorkloadError>>>,
    opened: Option<Instant>,
}

impl LongTransaction {
    /// Connects (before the migration starts); [`LongTransaction::open`] opens it.
    pub async fn connect(
        url: &Secret<String>,
        tables: &[String],
        hold: Duration,
    ) -> Result<LongTransaction, WorkloadError> {
        if tables.is_empty() {
            return Err(WorkloadError::Nothing(
                "the long transaction has no table to read: the migration names none and no table has a primary key".into(),
            ));
        }
        let (client, pid) = own_session(url, "neon-migrate workload long transaction").await?;
        Ok(LongTransaction {
            client: Arc::new(client),
            pid,
            hold,
            tables: tables.to_vec(),
            task: None,
            opened: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Begins, reads each table (an ACCESS SHARE lock held to the end), and commits after the
    /// hold time in the background.
    pub async fn open(&mut self) -> Result<(), WorkloadError> {
        let mut sql = String::from("BEGIN;");
        for t in &self.tables {
            sql.push_str(&format!(" SELECT 1 FROM {t} LIMIT 1;"));
        }
        self.client
            .batch_execute(&sql)
            .await
            .map_err(|e| WorkloadError::db("cannot open the long transaction", &e))?;
        let opened = Instant::now();
        self.opened = Some(opened);
        let client = Arc::clone(&self.client);
        let hold = self.hold;
        self.task = Some(tokio::spawn(async move {
            tokio::time::sleep_until((opened + hold).into()).await;
            client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| WorkloadError::db("cannot end the long transaction", &e))?;
            Ok(opened.elapsed())
        }));
        Ok(())
    }

    /// Waits for the commit; `t0` is the start of the timeline.
    pub async fn finish(mut self, t0: Instant) -> Result<LongTxReport, WorkloadError> {
        let held = match self.task.take() {
            Some(t) => t.await.map_err(|e| {
                WorkloadError::Stopped(format!("the long transaction failed: {e}"))
            })??,
            None => Duration::ZERO,
        };
        Ok(LongTxReport {
            tables: self.tables.clone(),
            held_ms: held.as_millis() as u64,
            opened_at_ms: self
                .opened
                .map(|o| o.saturating_duration_since(t0).as_millis() as u64)
                .unwrap_or(0),
        })
    }
}

/// A continuous episode of one session waiting for one lock.
#[derive(Debug, Clone)]
pub struct Episode {
    pub pid: i32,
    pub who: Who,
    pub mode: String,
    pub relation: String,
    /// µs after start: first and last sample it was seen waiting.
    pub first_us: u64,
    pub last_us: u64,
    /// The sessions it waited behind (union over the episode).
    pub blockers: Vec<i32>,
}

impl Episode {
    /// Its length as sampled, plus one interval (it started up to one interval earlier).
    pub fn ms(&self) -> u64 {
        (self.last_us - self.first_us) / 1000 + INTERVAL.as_millis() as u64
    }
}

/// The wait episodes in the samples.
pub fn episodes(seen: &Seen) -> Vec<Episode> {
    let mut open: BTreeMap<(i32, String, String), Episode> = BTreeMap::new();
    let mut done = Vec::new();
    for snap in &seen.snapshots {
        let mut present = Vec::new();
        for w in &snap.waiting {
            let key = (w.pid, w.mode.clone(), w.relation.clone());
            let e = open.entry(key.clone()).or_insert_with(|| Episode {
                pid: w.pid,
                who: w.who,
                mode: w.mode.clone(),
                relation: w.relation.clone(),
                first_us: snap.t_us,
                last_us: snap.t_us,
                blockers: Vec::new(),
            });
            e.last_us = snap.t_us;
            for b in &w.blockers {
                if !e.blockers.contains(b) {
                    e.blockers.push(*b);
                }
            }
            present.push(key);
        }
        let ended: Vec<_> = open
            .keys()
            .filter(|k| !present.contains(k))
            .cloned()
            .collect();
        for k in ended {
            if let Some(e) = open.remove(&k) {
                done.push(e);
            }
        }
    }
    done.extend(open.into_values());
    done.sort_by_key(|e| (e.first_us, e.pid));
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 50 ms from `from_ms` to `to_ms`, `pid` holding ACCESS EXCLUSIVE on `public.t`.
    fn holding(pid: i32, from_ms: u64, to_ms: u64) -> Vec<Snapshot> {
        (from_ms..=to_ms)
            .step_by(50)
            .map(|t| Snapshot {
                t_us: t * 1000,
                waiting: Vec::new(),
                held: vec![Held {
                    pid,
                    who: Who::Migration,
                    mode: "AccessExclusiveLock".into(),
                    relation: "public.t".into(),
                }],
            })
            .collect()
    }

    #[test]
    fn a_session_still_holding_its_lock_after_the_tool_exited_outlived_it() {
        // The tool exited at 1000 ms: 7 held until 1050 (its backend ending), 8 until 3000.
        let mut seen = Seen {
            snapshots: [holding(7, 500, 1050), holding(8, 600, 3000)].concat(),
            ..Default::default()
        };
        seen.sessions
            .insert(8, (Who::Migration, "select pg_sleep(2.5)".into()));
        seen.mark_outlived(1_000_000);
        assert_eq!(seen.outlived, [8]);
        assert_eq!(seen.who(7), Who::Migration);
        assert_eq!(seen.who(8), Who::OutlivedTool);
        assert_eq!(seen.sessions[&8].0, Who::OutlivedTool);
        assert!(seen
            .snapshots
            .iter()
            .flat_map(|s| &s.held)
            .all(|h| h.who == seen.who(h.pid)));
        // As observed: 600 → 3000 ms plus one interval, 2050 ms of it after the end.
        assert_eq!(seen.held_ms(8, "public.t"), Some((2450, 2050)));
        assert_eq!(seen.held_ms(7, "public.t"), Some((600, 100)));
        assert_eq!(seen.held_ms(8, "public.other"), None);
    }
}

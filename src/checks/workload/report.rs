//! What the rehearsal measured: per-query baseline vs during, a per-100 ms timeline, the lock
//! queue ([`super::render`] shows them, [`super::verdict`] judges them).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::blocking::{self, Episode, LongTxReport, Seen, Who};
use super::generator::{Recorded, Sample};
use super::sources::{Origin, Plan, Skipped};
use crate::checks::lock_name;

pub use super::verdict::{access_exclusive_ms, evaluate};

/// The start of the baseline window left out of it (at most a fifth of it), µs.
const WARM_UP_US: u64 = 200_000;

/// Width of one timeline tick.
pub const TICK_MS: u64 = 100;

/// Latency percentiles of one query in one window, in ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Every request: answered, failed (`errors`) or conflicting (`conflicts`).
    pub count: u64,
    pub errors: u64,
    /// Inserts with sampled values that hit a unique violation (a unique index the migration
    /// added on a sampled column): neither errors nor successes; their latencies are in the
    /// percentiles (the table's lock was waited for before the unique check).
    #[serde(default)]
    pub conflicts: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// A request that waited, and on what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocked {
    pub query: String,
    pub ms: f64,
    /// Its intended start, ms on the timeline.
    pub at_ms: u64,
    /// The table it waited on, the lock it asked for.
    pub table: Option<String>,
    pub lock: Option<String>,
    /// Who it waited behind, that session's statement and the lock it held or asked for.
    pub behind: Option<Who>,
    pub behind_statement: Option<String>,
    pub behind_lock: Option<String>,
    /// The blocker itself was waiting (behind the long transaction): the lock queue.
    pub behind_was_waiting: bool,
    /// How long the workload's observer saw the blocker hold its lock on the table, and how
    /// much of that after the migration tool exited, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behind_held_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behind_held_after_ms: Option<u64>,
}

/// One replayed query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryReport {
    pub name: String,
    pub sql: String,
    pub write: bool,
    /// Requests per second.
    pub rate: f64,
    pub baseline: Stats,
    pub during: Stats,
    /// Requests that prepared their statement again (the migration changed its result type).
    pub reprepared: u64,
    /// Distinct error messages (at most three).
    pub errors: Vec<String>,
    /// Its slowest request during the migration.
    pub slowest: Option<Blocked>,
    /// Waits for one of its connections that no lock explains (the generator's own limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_wait: Option<super::waits::GeneratorWait>,
}

/// The migration waiting for a lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockWait {
    pub table: String,
    pub lock: String,
    pub waited_ms: u64,
    pub behind: Option<Who>,
}

/// The lock queue, summed up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    /// Requests during the migration slower than `threshold_ms`.
    pub queued: u64,
    pub threshold_ms: f64,
    /// Most replayed queries seen waiting for a lock in one sample.
    pub max_at_once: u64,
    /// The migration's own lock waits.
    pub migration_waits: Vec<LockWait>,
    /// Whether the migration's lock requests gave up before the long transaction ended
    /// (`lock_timeout` bounded the damage); `None` without a long transaction or a wait.
    pub bounded_by_lock_timeout: Option<bool>,
}

/// One 100 ms tick of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub t_ms: u64,
    pub during: bool,
    /// Answers per second in this tick.
    pub qps: f64,
    /// p99 of the requests due in this tick, ms.
    pub p99_ms: f64,
    pub errors: u64,
    /// Replayed queries waiting for a lock (most in one sample).
    pub queued: u64,
    /// Strongest lock the migration held (`ACCESS EXCLUSIVE`).
    pub lock: Option<String>,
}

/// Evidence the generator itself kept up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneratorStats {
    /// Every request the generator sent.
    pub requests: u64,
    pub connections: usize,
    /// p99 of how late requests were issued while a connection was free, ms.
    pub issue_lag_p99_ms: f64,
    /// p99 of how late requests were sent during the baseline window (after its warm-up),
    /// ms: nothing blocks then, so lateness is the generator's own overload.
    #[serde(default)]
    pub baseline_lag_p99_ms: f64,
    /// Requests due in the warm-up, the first moments of the baseline window (connections'
    /// first executions): in neither the baseline nor during. `requests` is
    /// `warm_up_requests` + every query's `baseline.count` + `during.count`.
    #[serde(default)]
    pub warm_up_requests: u64,
    /// How long the warm-up lasted, ms (a fifth of the baseline window, at most 200 ms).
    #[serde(default)]
    pub warm_up_ms: u64,
    pub observer_samples: u64,
    pub observer_busy_ms: u64,
    /// How requests were spread in time: `fixed` or `poisson`.
    #[serde(default)]
    pub arrivals: super::Arrivals,
}

/// Everything the rehearsal measured (`--json`: `data` of the check named `workload`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    pub source: Origin,
    pub notes: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub baseline_ms: u64,
    pub migration_ms: u64,
    /// When the migration started, ms on the timeline.
    pub migration_start_ms: u64,
    pub queries: Vec<QueryReport>,
    /// The slowest request during the migration.
    pub longest: Option<Blocked>,
    pub queue: Queue,
    pub long_transaction: Option<LongTxReport>,
    pub timeline: Vec<Tick>,
    pub generator: GeneratorStats,
    /// The relations the replayed queries lock: what the rehearsal covers.
    #[serde(default)]
    pub coverage: super::generator::Coverage,
    /// Requests due inside each lock of the migration that blocks a query, and after it.
    #[serde(default)]
    pub windows: super::window::Windows,
}

fn ms(us: u64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

/// Percentiles from an HdrHistogram (3 significant digits: a value is read back as the top
/// of its bucket, up to 0.1 % above it); the max is the exact one recorded — the number the
/// longest request shows — and no percentile is shown above it.
fn stats(samples: &[&Sample], conflict: Option<u32>) -> Stats {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
    let mut errors = 0;
    let mut conflicts = 0;
    let mut max = 0;
    for s in samples {
        // A failed request counts in the latencies too: one that waited behind a lock and
        // then failed (a lock timeout, a cancelled statement) kept its user waiting as long.
        if s.error.is_some() && s.error == conflict {
            conflicts += 1;
        } else if s.error.is_some() {
            errors += 1;
        }
        h.saturating_record(s.latency_us.max(1));
        max = max.max(s.latency_us);
    }
    if h.is_empty() {
        return Stats {
            count: samples.len() as u64,
            errors,
            ..Default::default()
        };
    }
    let at = |q: f64| ms(h.value_at_quantile(q).min(max));
    Stats {
        count: samples.len() as u64,
        errors,
        conflicts,
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        max_ms: ms(max),
    }
}

/// What blocked a request: the longest wait episode of its backend within its window (or,
/// when it waited for a connection, of another of its query's own backends, `pids`).
fn blocked(s: &Sample, name: &str, pids: &[i32], eps: &[Episode], seen: &Seen) -> Blocked {
    let from = s.due_us;
    let to = s.due_us + s.latency_us;
    let pad = blocking::INTERVAL.as_micros() as u64;
    let overlaps = |e: &&Episode| e.first_us <= to + pad && e.last_us + pad >= from;
    let own = eps
        .iter()
        .filter(|e| e.pid == s.pid)
        .filter(overlaps)
        .max_by_key(|e| e.last_us - e.first_us);
    let any = || {
        eps.iter()
            .filter(|e| pids.contains(&e.pid))
            .filter(overlaps)
            .max_by_key(|e| e.last_us - e.first_us)
    };
    let mut b = Blocked {
        query: name.to_owned(),
        ms: ms(s.latency_us),
        at_ms: s.due_us / 1000,
        table: None,
        lock: None,
        behind: None,
        behind_statement: None,
        behind_lock: None,
        behind_was_waiting: false,
        behind_held_ms: None,
        behind_held_after_ms: None,
    };
    let Some(e) = own.or_else(any) else { return b };
    b.table = Some(e.relation.clone());
    b.lock = Some(lock_name(&e.mode));
    // The blocker that is not one of ours, if any (a replayed query can queue behind
    // another replayed query that queues behind the migration).
    let blocker = e
        .blockers
        .iter()
        .map(|p| {
            let q = match seen.who(*p) {
                Who::LongTransaction => {
                    "the long transaction opened ahead of the migration".to_owned()
                }
                _ => seen
                    .sessions
                    .get(p)
                    .map(|s| s.1.clone())
                    .unwrap_or_default(),
            };
            (*p, seen.who(*p), q)
        })
        .min_by_key(|(_, w, _)| match w {
            Who::Migration | Who::OutlivedTool => 0,
            Who::LongTransaction => 1,
            Who::Workload => 2,
        });
    if let Some((pid, who, q)) = blocker {
        b.behind = Some(who);
        b.behind_statement = Some(super::sources::one_line(&q));
        let held = seen
            .snapshots
            .iter()
            .flat_map(|s| &s.held)
            .filter(|h| h.pid == pid && Some(&h.relation) == b.table.as_ref())
            .map(|h| h.mode.clone())
            .max_by_key(|m| rank(m));
        let asked = eps
            .iter()
            .filter(|x| x.pid == pid && x.first_us <= to + pad && x.last_us + pad >= from)
            .map(|x| x.mode.clone())
            .max_by_key(|m| rank(m));
        b.behind_was_waiting = asked.is_some();
        b.behind_lock = held.or(asked).map(|m| lock_name(&m));
        if let Some((held, after)) = b.table.as_deref().and_then(|t| seen.held_ms(pid, t)) {
            b.behind_held_ms = Some(held);
            b.behind_held_after_ms = Some(after);
        }
    }
    b
}

pub(super) fn rank(mode: &str) -> usize {
    crate::checks::LOCK_MODES
        .iter()
        .position(|m| *m == mode)
        .unwrap_or(0)
}

/// Puts the measurements together.
pub fn build(plan: &Plan, rec: Recorded, seen: Seen, long: Option<LongTxReport>) -> WorkloadReport {
    let start = rec.migration_start_us;
    let warm = warm_up_us(start);
    let conflict = conflict_index(&rec);
    let eps = blocking::episodes(&seen);
    let mut queries = Vec::new();
    for (i, q) in plan.queries.iter().enumerate() {
        let mine: Vec<&Sample> = rec
            .samples
            .iter()
            .filter(|s| s.query as usize == i)
            .collect();
        let (base, during): (Vec<&Sample>, Vec<&Sample>) =
            mine.into_iter().partition(|s| s.due_us < start);
        // The first moments warm up (connections' first executions): not the baseline.
        let base: Vec<&Sample> = base.into_iter().filter(|s| s.due_us >= warm).collect();
        let mut errors: Vec<String> = Vec::new();
        for s in &during {
            if let Some(e) = s
                .error
                .filter(|e| Some(*e) != conflict)
                .and_then(|e| rec.errors.get(e as usize))
            {
                if errors.len() < 3 && !errors.contains(e) {
                    errors.push(e.clone());
                }
            }
        }
        // Judged by what locks explain: a wait for a connection that is the generator's own
        // limit is left out (see `waits`).
        let pids = rec.pids.get(i).map(Vec::as_slice).unwrap_or_default();
        let waits = super::waits::lock_waits(&seen, pids);
        let slowest = during
            .iter()
            .max_by_key(|s| super::waits::explained_us(s, &waits))
            .map(|s| Blocked {
                ms: ms(super::waits::explained_us(s, &waits)),
                ..blocked(s, &q.name, pids, &eps, &seen)
            });
        queries.push(QueryReport {
            name: q.name.clone(),
            sql: super::sources::one_line(&q.sql),
            write: q.write,
            rate: (q.rate * 100.0).round() / 100.0,
            baseline: stats(&base, conflict),
            during: stats(&during, conflict),
            reprepared: rec.reprepared.get(i).copied().unwrap_or(0),
            errors,
            slowest,
            generator_wait: super::waits::generator_wait(&during, &waits, pids.len()),
        });
    }
    let longest = queries
        .iter()
        .filter_map(|q| q.slowest.clone())
        .max_by(|a, b| a.ms.total_cmp(&b.ms));
    let queue = queue(&rec, &queries, &eps, &seen, long.as_ref());
    let mut lag = rec.issue_lag_us.clone();
    lag.sort_unstable();
    let mut baseline_lag: Vec<u64> = rec
        .samples
        .iter()
        .filter(|s| s.due_us >= warm && s.due_us < start)
        .map(|s| s.lag_us)
        .collect();
    baseline_lag.sort_unstable();
    WorkloadReport {
        source: plan.origin,
        notes: plan.notes.clone(),
        skipped: plan.skipped.clone(),
        baseline_ms: start / 1000,
        migration_ms: rec.migration_end_us.saturating_sub(start) / 1000,
        migration_start_ms: start / 1000,
        longest,
        queue,
        long_transaction: long,
        timeline: timeline(&rec, &seen),
        generator: GeneratorStats {
            requests: rec.samples.len() as u64,
            warm_up_requests: rec.samples.iter().filter(|s| s.due_us < warm).count() as u64,
            warm_up_ms: warm / 1000,
            connections: rec.connections,
            issue_lag_p99_ms: ms(percentile(&lag, 0.99)),
            baseline_lag_p99_ms: ms(percentile(&baseline_lag, 0.99)),
            observer_samples: seen.snapshots.len() as u64,
            observer_busy_ms: seen.busy_ms,
            arrivals: rec.arrivals,
        },
        queries,
        coverage: Default::default(),
        windows: Default::default(),
    }
}

/// The error index of [`super::sources::SAMPLING_CONFLICT`], if a request recorded it.
fn conflict_index(rec: &Recorded) -> Option<u32> {
    rec.errors
        .iter()
        .position(|e| e == super::sources::SAMPLING_CONFLICT)
        .map(|i| i as u32)
}

/// The warm-up at the start of a baseline window ending at `start_us`: a fifth of it, at most
/// [`WARM_UP_US`].
fn warm_up_us(start_us: u64) -> u64 {
    (start_us / 5).min(WARM_UP_US)
}

impl WorkloadReport {
    /// Every request, as the reader adds them up: warm-up, baseline, during.
    pub fn counts_line(&self) -> String {
        let base: u64 = self.queries.iter().map(|q| q.baseline.count).sum();
        format!(
            "{} request(s): {} warming up (the first {} ms, not measured), {base} in the baseline, {} during the migration",
            self.generator.requests,
            self.generator.warm_up_requests,
            self.generator.warm_up_ms,
            self.during_count()
        )
    }

    /// All requests during the migration.
    pub fn during_count(&self) -> u64 {
        self.queries.iter().map(|q| q.during.count).sum()
    }
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn queue(
    rec: &Recorded,
    queries: &[QueryReport],
    eps: &[Episode],
    seen: &Seen,
    long: Option<&LongTxReport>,
) -> Queue {
    let start = rec.migration_start_us;
    let base_p99 = queries
        .iter()
        .map(|q| q.baseline.p99_ms)
        .fold(0.0_f64, f64::max);
    let threshold = (base_p99 * 5.0).max(50.0);
    let queued = rec
        .samples
        .iter()
        .filter(|s| s.due_us >= start && ms(s.latency_us) > threshold)
        .count() as u64;
    let migration_waits: Vec<LockWait> = eps
        .iter()
        .filter(|e| e.who == Who::Migration)
        .map(|e| LockWait {
            table: e.relation.clone(),
            lock: lock_name(&e.mode),
            waited_ms: e.ms(),
            behind: e
                .blockers
                .iter()
                .map(|b| seen.who(*b))
                .min_by_key(|w| match w {
                    Who::LongTransaction => 0,
                    Who::Migration | Who::OutlivedTool => 1,
                    Who::Workload => 2,
                }),
        })
        .collect();
    let bounded = match long {
        Some(l) if !migration_waits.is_empty() => {
            // Bounded: no single wait of the migration lasted half the long transaction (its
            // lock requests gave up and were retried).
            let longest = migration_waits
                .iter()
                .map(|w| w.waited_ms)
                .max()
                .unwrap_or(0);
            Some(longest * 2 < l.held_ms)
        }
        _ => None,
    };
    // Per sample: the replayed queries then waiting in an episode behind someone else.
    let behind = blocking::behind_others(eps, seen);
    let queued_eps: Vec<&Episode> = eps
        .iter()
        .zip(behind)
        .filter(|(_, b)| *b)
        .map(|(e, _)| e)
        .collect();
    let max_at_once = seen
        .snapshots
        .iter()
        .map(|snap| {
            snap.waiting
                .iter()
                .filter(|w| {
                    queued_eps.iter().any(|e| {
                        e.pid == w.pid
                            && e.mode == w.mode
                            && e.relation == w.relation
                            && (e.first_us..=e.last_us).contains(&snap.t_us)
                    })
                })
                .count() as u64
        })
        .max()
        .unwrap_or(0);
    Queue {
        queued,
        threshold_ms: threshold,
        max_at_once,
        migration_waits,
        bounded_by_lock_timeout: bounded,
    }
}

fn timeline(rec: &Recorded, seen: &Seen) -> Vec<Tick> {
    let tick_us = TICK_MS * 1000;
    let n = (rec.stopped_us / tick_us + 1) as usize;
    let mut lat: Vec<Vec<u64>> = vec![Vec::new(); n];
    let mut done = vec![0u64; n];
    let mut errors = vec![0u64; n];
    let conflict = conflict_index(rec);
    for s in &rec.samples {
        let due = (s.due_us / tick_us) as usize;
        let at = ((s.due_us + s.latency_us) / tick_us) as usize;
        if let Some(v) = lat.get_mut(due) {
            v.push(s.latency_us);
        }
        if at < n {
            match s.error.filter(|e| Some(*e) != conflict) {
                Some(_) => errors[at] += 1,
                None => done[at] += 1,
            }
        }
    }
    let mut queued = vec![0u64; n];
    let mut lock: Vec<Option<String>> = vec![None; n];
    // The tick holding the migration's start is the migration's: it is drawn after the ┃.
    let first_during = (rec.migration_start_us / tick_us) as usize;
    let interval_us = blocking::INTERVAL.as_micros() as u64;
    for snap in &seen.snapshots {
        let i = (snap.t_us / tick_us) as usize;
        if i >= n {
            continue;
        }
        let q = snap
            .waiting
            .iter()
            .filter(|w| w.who == Who::Workload)
            .count() as u64;
        queued[i] = queued[i].max(q);
        // The migration holds nothing before it starts. A snapshot is stamped before its
        // query runs, so one stamped less than a sampling interval before the start can see
        // the lock the migration just took: drawn from the start on. A lock seen earlier is
        // another session's, not the migration's: not drawn.
        let at = if i >= first_during {
            i
        } else if snap.t_us + interval_us >= rec.migration_start_us {
            first_during.min(n - 1)
        } else {
            continue;
        };
        if let Some(m) = snap
            .held
            .iter()
            // A relation no other session can see yet (the index `CREATE INDEX` builds, shown
            // by its oid) blocks no query: the lock drawn is the one on the table.
            .filter(|h| matches!(h.who, Who::Migration | Who::OutlivedTool))
            .filter(|h| h.relation.parse::<u32>().is_err())
            .map(|h| h.mode.as_str())
            .max_by_key(|m| rank(m))
        {
            let cur = lock[at].as_deref().map(rank).unwrap_or(0);
            if lock[at].is_none() || rank(m) > cur {
                lock[at] = Some(m.to_owned());
            }
        }
    }
    (0..n)
        .map(|i| {
            let mut v = std::mem::take(&mut lat[i]);
            v.sort_unstable();
            Tick {
                t_ms: i as u64 * TICK_MS,
                during: i >= first_during,
                qps: done[i] as f64 * 1000.0 / TICK_MS as f64,
                p99_ms: ms(percentile(&v, 0.99)),
                errors: errors[i],
                queued: queued[i],
                lock: lock[i].as_deref().map(lock_name),
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::WorkloadConfig;
    use super::*;
    use crate::checks::CheckStatus;

    #[test]
    fn a_request_blocked_then_failed_counts_in_the_latencies() {
        let sample = |latency_us: u64, error: Option<u32>| Sample {
            query: 0,
            due_us: 0,
            latency_us,
            pid: 1,
            error,
            lag_us: 0,
            wait_us: 0,
        };
        let mut all: Vec<Sample> = (0..99).map(|_| sample(500, None)).collect();
        all.push(sample(958_700, Some(0)));
        let refs: Vec<&Sample> = all.iter().collect();
        let st = stats(&refs, None);
        assert_eq!((st.count, st.errors), (100, 1));
        assert_eq!(st.max_ms, 958.7);
        assert!(st.p99_ms >= 0.5 && st.max_ms > 900.0, "{st:?}");
    }

    pub(crate) fn report() -> WorkloadReport {
        let tick = |t: u64, during: bool, p99: f64, lock: Option<&str>| Tick {
            t_ms: t,
            during,
            qps: 100.0,
            p99_ms: p99,
            errors: 0,
            queued: 0,
            lock: lock.map(str::to_owned),
        };
        WorkloadReport {
            source: Origin::Declared,
            notes: Vec::new(),
            skipped: Vec::new(),
            baseline_ms: 200,
            migration_ms: 200,
            migration_start_ms: 200,
            queries: vec![QueryReport {
                name: "read".into(),
                sql: "SELECT 1".into(),
                write: false,
                rate: 100.0,
                baseline: Stats {
                    count: 20,
                    errors: 0,
                    p50_ms: 0.3,
                    p95_ms: 0.5,
                    p99_ms: 0.6,
                    max_ms: 0.7,
                    ..Default::default()
                },
                during: Stats {
                    count: 25,
                    errors: 0,
                    p50_ms: 0.4,
                    p95_ms: 150.0,
                    p99_ms: 180.0,
                    max_ms: 181.0,
                    ..Default::default()
                },
                reprepared: 0,
                errors: Vec::new(),
                slowest: None,
                generator_wait: None,
            }],
            longest: Some(Blocked {
                query: "read".into(),
                ms: 181.0,
                at_ms: 210,
                table: Some("public.t".into()),
                lock: Some("ACCESS SHARE".into()),
                behind: Some(Who::Migration),
                behind_statement: Some("ALTER TABLE t ALTER COLUMN n TYPE bigint".into()),
                behind_lock: Some("ACCESS EXCLUSIVE".into()),
                behind_was_waiting: false,
                behind_held_ms: None,
                behind_held_after_ms: None,
            }),
            queue: Queue::default(),
            long_transaction: None,
            timeline: vec![
                tick(0, false, 0.6, None),
                tick(100, false, 0.5, None),
                tick(200, true, 180.0, Some("ACCESS EXCLUSIVE")),
                tick(300, true, 0.4, None),
            ],
            generator: GeneratorStats::default(),
            coverage: super::super::generator::Coverage {
                reads: ["public.t".to_owned()].into(),
                migration_sql: Some(vec![super::super::coverage::SqlLock {
                    table: "public.t".into(),
                    mode: Some("AccessExclusiveLock".into()),
                    statement: "ALTER TABLE t ALTER COLUMN n TYPE …".into(),
                }]),
                ..Default::default()
            },
            windows: Default::default(),
        }
    }

    #[test]
    fn budgets_decide() {
        let r = report();
        let mut cfg = WorkloadConfig::default();
        let res = evaluate(&r, &cfg, None);
        // 181 ms < 1 s, but p99 180 ms > 3 × 20 ms.
        assert_eq!(res.status, crate::checks::CheckStatus::Failed);
        assert!(res.findings.iter().any(|f| f.what.contains("p99")));
        assert!(!res.findings.iter().any(|f| f.what.contains("was blocked")));
        cfg.max_p99_ratio = 10.0;
        cfg.max_blocked = std::time::Duration::from_millis(100);
        let res = evaluate(&r, &cfg, None);
        let f = res
            .findings
            .iter()
            .find(|f| f.what.contains("was blocked"))
            .expect("blocked");
        assert!(
            f.why
                .contains("ACCESS SHARE on public.t behind the migration"),
            "{}",
            f.why
        );
        // The locks check ran and read which tables changed (none): coverage is known.
        let measured = crate::checks::locks::LockReport {
            compared: true,
            ..Default::default()
        };
        cfg.max_blocked = std::time::Duration::from_secs(1);
        assert_eq!(
            evaluate(&r, &cfg, Some(&measured)).status,
            crate::checks::CheckStatus::Passed
        );
    }

    #[test]
    fn a_side_without_an_answered_request_shows_no_latency() {
        let mut r = report();
        // Every request during the migration failed: no latency to show, not "0".
        r.queries[0].during = Stats {
            count: 25,
            errors: 25,
            ..Default::default()
        };
        let text = super::super::render::terminal(&r);
        assert!(text.contains("0.6 → —"), "{text}");
        assert!(!text.contains("→ 0 "), "{text}");
    }

    #[test]
    fn an_overloaded_generator_measures_itself_and_judges_nothing() {
        let mut r = report();
        r.generator.baseline_lag_p99_ms = 920.0;
        let res = evaluate(&r, &WorkloadConfig::default(), None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(
            res.summary.contains("could not keep its own schedule"),
            "{}",
            res.summary
        );
        assert!(res.findings.is_empty(), "{res:#?}");
    }

    #[test]
    fn the_report_round_trips_through_json() {
        let r = report();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["queries"][0]["during"]["p99_ms"], 180.0);
        let back: WorkloadReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    /// One query's requests every 10 ms for 3 s, the migration starting at `start_ms`;
    /// the request due at `slow_ms` takes `slow_us`; the observer saw the migration hold
    /// ACCESS EXCLUSIVE in snapshots taken at `lock_ms`.
    fn measured(start_ms: u64, slow_ms: u64, slow_us: u64, lock_ms: &[u64]) -> WorkloadReport {
        use super::super::blocking::{Held, Snapshot};
        use super::super::sources::{Params, Query};
        let plan = Plan {
            origin: Origin::Declared,
            queries: vec![Query {
                name: "read".into(),
                sql: "SELECT 1".into(),
                write: false,
                rate: 100.0,
                params: Params::None,
                origin: Origin::Declared,
            }],
            skipped: Vec::new(),
            tables: Vec::new(),
            notes: Vec::new(),
        };
        let samples = (0..300u64)
            .map(|i| Sample {
                query: 0,
                due_us: i * 10_000,
                latency_us: if i * 10 == slow_ms { slow_us } else { 400 + i },
                pid: 1,
                error: None,
                lag_us: 20,
                wait_us: 0,
            })
            .collect();
        let rec = Recorded {
            samples,
            migration_start_us: start_ms * 1000,
            migration_end_us: 2_700_000,
            stopped_us: 3_000_000,
            connections: 4,
            ..Default::default()
        };
        let seen = Seen {
            snapshots: lock_ms
                .iter()
                .map(|t| Snapshot {
                    t_us: t * 1000,
                    waiting: Vec::new(),
                    held: vec![Held {
                        pid: 99,
                        who: Who::Migration,
                        mode: "AccessExclusiveLock".into(),
                        relation: "public.t".into(),
                    }],
                })
                .collect(),
            workload_pids: vec![1],
            ..Default::default()
        };
        build(&plan, rec, seen, None)
    }

    /// From an outside attacker: `generator.requests` counted the warm-up's requests, which
    /// are in neither the baseline nor "during". The counts add up in every view.
    #[test]
    fn the_request_counts_add_up_with_the_warm_up_reported_apart() {
        let r = measured(2_000, 2_500, 900, &[]);
        let v = serde_json::to_value(&r).unwrap();
        let q = &v["queries"][0];
        let counted =
            q["baseline"]["count"].as_u64().unwrap() + q["during"]["count"].as_u64().unwrap();
        let warm_up = v["generator"]["warm_up_requests"].as_u64().unwrap_or(0);
        assert_eq!(v["generator"]["requests"], 300, "{v:#}");
        // The first 200 ms (a fifth of the baseline at most) warm the connections up.
        assert_eq!(warm_up, 20, "{:#}", v["generator"]);
        assert_eq!(v["generator"]["warm_up_ms"], 200, "{:#}", v["generator"]);
        assert_eq!(warm_up + counted, 300, "{v:#}");
        let lines = super::super::verdict::evaluate(&r, &WorkloadConfig::default(), None).details;
        assert!(
            lines.iter().any(|l| l.contains("300 request(s): 20 warming up (the first 200 ms, not measured), 180 in the baseline, 100 during the migration")),
            "{lines:#?}"
        );
        let md = super::super::render::markdown(&r);
        assert!(md.contains("300 request(s): 20 warming up"), "{md}");
    }

    /// From an outside attacker: the longest request (exact) and the table's max (rounded by
    /// the histogram) differed by ~2 ms. Both are the exact recorded max; no percentile is
    /// above it.
    #[test]
    fn the_longest_request_and_the_max_column_are_the_same_number() {
        let r = measured(2_000, 2_500, 2_047_123, &[]);
        let longest = r.longest.as_ref().expect("a slowest request").ms;
        assert_eq!(longest, 2047.1);
        assert_eq!(
            r.queries[0].during.max_ms, longest,
            "{:?}",
            r.queries[0].during
        );
        assert!(
            r.queries[0].during.p99_ms <= longest,
            "{:?}",
            r.queries[0].during
        );
        let text = super::super::render::terminal(&r);
        assert!(text.contains("→ 2047.1"), "{text}");
    }

    /// From an outside attacker: the bucket holding the migration's start was drawn before the
    /// ┃, with the lock the migration took in it. The bucket is the migration's, and a lock seen
    /// by a snapshot that started just before the migration is drawn from its start on; one
    /// seen long before is another session's.
    #[test]
    fn no_lock_is_drawn_before_the_migration_started() {
        let r = measured(1_050, 2_500, 900, &[300, 1_020, 1_070, 1_120]);
        assert!(
            r.timeline.iter().all(|t| t.during || t.lock.is_none()),
            "{:#?}",
            &r.timeline[9..13]
        );
        assert!(r.timeline[10].during, "{:?}", r.timeline[10]);
        let text = super::super::render::terminal(&r);
        let lock_row = text
            .lines()
            .find(|l| l.starts_with("lock"))
            .expect("a lock row");
        let before = lock_row.split('┃').next().unwrap_or_default();
        assert!(!before.contains('X'), "{lock_row}");
        assert!(lock_row.contains("┃XX"), "{lock_row}");
    }

    /// An insert with sampled values that hits a unique violation (a unique index the
    /// migration added) is neither an error nor a success: counted apart, its latency kept.
    #[test]
    fn unique_violations_of_sampled_inserts_are_counted_apart() {
        use super::super::sources::SAMPLING_CONFLICT;
        let plan = Plan {
            origin: Origin::PgStatStatements,
            queries: vec![super::super::sources::Query {
                name: "pgss-1".into(),
                sql: "INSERT INTO t (id, email) VALUES ($1, $2)".into(),
                write: true,
                rate: 10.0,
                params: super::super::sources::Params::None,
                origin: Origin::PgStatStatements,
            }],
            skipped: Vec::new(),
            tables: Vec::new(),
            notes: Vec::new(),
        };
        let sample = |due_ms: u64, latency_us: u64, error: Option<u32>| Sample {
            query: 0,
            due_us: due_ms * 1000,
            latency_us,
            pid: 1,
            error,
            lag_us: 10,
            wait_us: 0,
        };
        let mut samples: Vec<Sample> = (0..20).map(|i| sample(300 + i * 50, 500, None)).collect();
        samples.push(sample(1_300, 400_000, Some(0)));
        samples.push(sample(1_400, 900, Some(0)));
        samples.push(sample(1_500, 700, None));
        let rec = Recorded {
            samples,
            errors: vec![SAMPLING_CONFLICT.to_owned()],
            migration_start_us: 1_250_000,
            migration_end_us: 1_450_000,
            stopped_us: 1_600_000,
            ..Default::default()
        };
        let r = build(&plan, rec, Seen::default(), None);
        let during = &r.queries[0].during;
        assert_eq!(
            (during.count, during.errors, during.conflicts),
            (4, 0, 2),
            "{during:?}"
        );
        assert_eq!(
            during.max_ms, 400.0,
            "the conflict's latency counts: {during:?}"
        );
        assert!(r.queries[0].errors.is_empty(), "{:?}", r.queries[0].errors);
        assert!(
            r.timeline.iter().all(|t| t.errors == 0),
            "{:#?}",
            r.timeline
        );
        let cfg = WorkloadConfig {
            max_p99_ratio: 100.0,
            ..Default::default()
        };
        let res = evaluate(&r, &cfg, None);
        assert!(
            !res.findings
                .iter()
                .any(|f| f.what.contains("failed while the migration ran")),
            "{:#?}",
            res.findings
        );
        assert!(
            res.details
                .iter()
                .any(|l| l
                    .contains("2 request(s) (2 while the migration ran) hit a unique violation")),
            "{:#?}",
            res.details
        );
        assert!(super::super::render::markdown(&r).contains("hit a unique violation"));
    }
}

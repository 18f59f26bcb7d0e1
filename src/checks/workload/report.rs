//! What the rehearsal measured and the verdicts: per-query baseline vs during, a per-100 ms
//! timeline, the lock queue ([`super::render`] shows them).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::blocking::{self, Episode, LongTxReport, Seen, Who};
use super::generator::{Recorded, Sample};
use super::sources::{Origin, Plan, Skipped};
use super::{WorkloadConfig, NAME, P99_FLOOR_MS};
use crate::checks::locks::LockReport;
use crate::checks::{lock_name, CheckResult, CheckStatus, Finding, Severity};

/// The start of the baseline window left out of it (at most a fifth of it), µs.
const WARM_UP_US: u64 = 200_000;

/// Width of one timeline tick.
pub const TICK_MS: u64 = 100;

/// Latency percentiles of one query in one window, in ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub count: u64,
    pub errors: u64,
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
    pub requests: u64,
    pub connections: usize,
    /// p99 of how late requests were issued while a connection was free, ms.
    pub issue_lag_p99_ms: f64,
    /// p99 of how late requests were sent during the baseline window (after its warm-up),
    /// ms: nothing blocks then, so lateness is the generator's own overload.
    #[serde(default)]
    pub baseline_lag_p99_ms: f64,
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
}

fn ms(us: u64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

fn stats(samples: &[&Sample]) -> Stats {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
    let mut errors = 0;
    for s in samples {
        if s.error.is_some() {
            errors += 1;
            continue;
        }
        h.saturating_record(s.latency_us.max(1));
    }
    if h.is_empty() {
        return Stats {
            count: samples.len() as u64,
            errors,
            ..Default::default()
        };
    }
    Stats {
        count: samples.len() as u64,
        errors,
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
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

fn rank(mode: &str) -> usize {
    crate::checks::LOCK_MODES
        .iter()
        .position(|m| *m == mode)
        .unwrap_or(0)
}

/// Puts the measurements together.
pub fn build(plan: &Plan, rec: Recorded, seen: Seen, long: Option<LongTxReport>) -> WorkloadReport {
    let start = rec.migration_start_us;
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
        let warm = (start / 5).min(WARM_UP_US);
        let base: Vec<&Sample> = base.into_iter().filter(|s| s.due_us >= warm).collect();
        let mut errors: Vec<String> = Vec::new();
        for s in &during {
            if let Some(e) = s.error.and_then(|e| rec.errors.get(e as usize)) {
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
            baseline: stats(&base),
            during: stats(&during),
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
    let warm = (start / 5).min(WARM_UP_US);
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
            connections: rec.connections,
            issue_lag_p99_ms: ms(percentile(&lag, 0.99)),
            baseline_lag_p99_ms: ms(percentile(&baseline_lag, 0.99)),
            observer_samples: seen.snapshots.len() as u64,
            observer_busy_ms: seen.busy_ms,
            arrivals: rec.arrivals,
        },
        queries,
        coverage: Default::default(),
    }
}

impl WorkloadReport {
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
    let mut max_at_once = 0;
    let mut counts: std::collections::BTreeMap<u64, u64> = Default::default();
    for e in eps.iter().filter(|e| e.who == Who::Workload) {
        let mut t = e.first_us;
        while t <= e.last_us {
            let c = counts.entry(t).or_insert(0);
            *c += 1;
            max_at_once = max_at_once.max(*c);
            t += blocking::INTERVAL.as_micros() as u64;
            if e.last_us == e.first_us {
                break;
            }
        }
    }
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
    for s in &rec.samples {
        let due = (s.due_us / tick_us) as usize;
        let at = ((s.due_us + s.latency_us) / tick_us) as usize;
        if let Some(v) = lat.get_mut(due) {
            v.push(s.latency_us);
        }
        if at < n {
            match s.error {
                Some(_) => errors[at] += 1,
                None => done[at] += 1,
            }
        }
    }
    let mut queued = vec![0u64; n];
    let mut lock: Vec<Option<String>> = vec![None; n];
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
        if let Some(m) = snap
            .held
            .iter()
            .filter(|h| matches!(h.who, Who::Migration | Who::OutlivedTool))
            .map(|h| h.mode.as_str())
            .max_by_key(|m| rank(m))
        {
            let cur = lock[i].as_deref().map(rank).unwrap_or(0);
            if lock[i].is_none() || rank(m) > cur {
                lock[i] = Some(m.to_owned());
            }
        }
    }
    (0..n)
        .map(|i| {
            let mut v = std::mem::take(&mut lat[i]);
            v.sort_unstable();
            Tick {
                t_ms: i as u64 * TICK_MS,
                during: i as u64 * tick_us >= rec.migration_start_us,
                qps: done[i] as f64 * 1000.0 / TICK_MS as f64,
                p99_ms: ms(percentile(&v, 0.99)),
                errors: errors[i],
                queued: queued[i],
                lock: lock[i].as_deref().map(lock_name),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Verdicts

/// How late the generator sent requests before the migration (p99), with nothing blocking,
/// above which what it measured is its own overload.
const GENERATOR_LAG_LIMIT_MS: f64 = 100.0;

/// The check's result: `max-blocked`, `max-p99-ratio` and `max-errors` against what was
/// measured; with the locks check's report, the longest block is compared with the ACCESS
/// EXCLUSIVE time it measured.
pub fn evaluate(
    r: &WorkloadReport,
    cfg: &WorkloadConfig,
    locks: Option<&LockReport>,
) -> CheckResult {
    if r.during_count() == 0 {
        return CheckResult::not_run(
            NAME,
            "no replayed request fell inside the migration (it ended before the first one was due)",
        );
    }
    if r.generator.baseline_lag_p99_ms > GENERATOR_LAG_LIMIT_MS {
        // Its latencies then measure the generator, not the migration: no verdict either way.
        let mut res = CheckResult::not_run(
            NAME,
            format!(
                "the load generator could not keep its own schedule: before the migration, with nothing blocking, it sent 1 request in 100 more than {} ms late (limit {GENERATOR_LAG_LIMIT_MS} ms), so the latencies measure it, not the migration — lower `rate` (or the queries' rates) under [checks.workload]",
                r.generator.baseline_lag_p99_ms
            ),
        );
        res.details = vec![super::render::terminal(r)];
        return res;
    }
    let mut findings = Vec::new();
    let budget_ms = cfg.max_blocked.as_millis() as f64;
    for q in &r.queries {
        if q.baseline.errors > 0 && q.baseline.errors == q.baseline.count {
            let sev = if r.source == Origin::Declared {
                Severity::Error
            } else {
                Severity::Warning
            };
            findings.push(
                Finding::new(
                    NAME,
                    sev,
                    format!(
                        "`{}` failed before the migration started: {}",
                        q.name,
                        q.errors.first().cloned().unwrap_or_default()
                    ),
                    "a query that fails undisturbed measures nothing about the migration",
                )
                .at(q.sql.clone())
                .fix("fix the query (or its `params`) under [[checks.workload.query]]"),
            );
        }
    }
    let errors: u64 = r.queries.iter().map(|q| q.during.errors).sum();
    if errors > cfg.max_errors {
        for q in r.queries.iter().filter(|q| q.during.errors > 0) {
            findings.push(
                Finding::new(
                    NAME,
                    Severity::Error,
                    format!("`{}`: {} of {} request(s) failed while the migration ran (max-errors = {})", q.name, q.during.errors, q.during.count, cfg.max_errors),
                    format!("users would see these errors: {}", q.errors.first().cloned().unwrap_or_default()),
                )
                .at(q.sql.clone())
                .fix("make the change in a form the application's queries survive (add, backfill, then switch; never drop or rename what a running version reads), or raise `max-errors` under [checks.workload]"),
            );
        }
    }
    if let Some(b) = r.longest.as_ref().filter(|b| b.ms > budget_ms) {
        findings.push(blocked_finding(r, b, cfg, locks));
    }
    for q in &r.queries {
        let base = q.baseline.p99_ms.max(P99_FLOOR_MS);
        let limit = base * cfg.max_p99_ratio;
        let p99 = super::waits::judged_p99(q);
        if q.during.count > 0 && p99 > limit {
            findings.push(
                Finding::new(
                    NAME,
                    Severity::Error,
                    format!(
                        "`{}`: p99 {} ms while the migration ran vs {} ms before (max-p99-ratio = {}; under {P99_FLOOR_MS} ms counts as {P99_FLOOR_MS} ms)",
                        q.name, p99, q.baseline.p99_ms, cfg.max_p99_ratio
                    ),
                    "one request in a hundred is this much slower for as long as the migration runs",
                )
                .at(q.sql.clone())
                .fix("see the lock findings above; or raise `max-p99-ratio` under [checks.workload]"),
            );
        }
    }
    if let Some(f) = lock_timeout_finding(r) {
        findings.push(f);
    }
    let mut gaps = super::coverage::uncovered(r, locks);
    gaps.extend(super::waits::gaps(r, cfg));
    for g in &gaps {
        let f = Finding::new(
            NAME,
            Severity::Warning,
            format!("not checked: {}", g.what),
            g.why.clone(),
        )
        .fix(g.fix);
        findings.push(match g.table.is_empty() {
            true => f,
            false => f.at(g.table.clone()),
        });
    }
    let mut details = vec![super::render::terminal(r)];
    details.extend(lines(r, locks));
    details.extend(super::coverage::note(r, locks));
    details.extend(super::waits::notes(r));
    let mut result = CheckResult::from_findings(NAME, summary(r), findings, details);
    if !gaps.is_empty() && result.status == CheckStatus::Passed {
        // Part of what users would feel was never measured: no pass.
        result.status = CheckStatus::NotRun;
        result.summary = super::coverage::summary(&gaps, &result.summary);
    }
    result
}

fn summary(r: &WorkloadReport) -> String {
    let base = r
        .queries
        .iter()
        .map(|q| q.baseline.p99_ms)
        .fold(0.0, f64::max);
    let during = r
        .queries
        .iter()
        .map(|q| q.during.p99_ms)
        .fold(0.0, f64::max);
    let errors: u64 = r.queries.iter().map(|q| q.during.errors).sum();
    format!(
        "{} request(s) of {} query(ies) ({}) during a {} ms migration; p99 {base} → {during} ms, longest {} ms, {errors} error(s)",
        r.during_count(),
        r.queries.len(),
        r.source.describe(),
        r.migration_ms,
        r.longest.as_ref().map(|b| b.ms).unwrap_or(0.0)
    )
}

fn blocked_finding(
    r: &WorkloadReport,
    b: &Blocked,
    cfg: &WorkloadConfig,
    locks: Option<&LockReport>,
) -> Finding {
    let table = b.table.clone().unwrap_or_else(|| "its table".into());
    let why = match (&b.lock, b.behind) {
        (Some(lock), Some(who)) => {
            let held = b.behind_lock.clone().unwrap_or_else(|| "a lock".into());
            let how = if b.behind_was_waiting { "asked for" } else { "held" };
            format!(
                "it waited for {lock} on {table} behind {} (`{}`), which {how} {held}; {} request(s) queued behind it, up to {} at once — on production every query on {table} waits this long",
                who.describe(),
                b.behind_statement.as_deref().unwrap_or("?"),
                r.queue.queued,
                r.queue.max_at_once
            )
        }
        _ => format!(
            "{} request(s) were slower than {} ms while the migration ran — on production users wait this long",
            r.queue.queued, r.queue.threshold_ms
        ),
    };
    let long_queue = r.long_transaction.is_some()
        && (b.behind == Some(Who::LongTransaction) || b.behind_was_waiting);
    let outlived = b.behind == Some(Who::OutlivedTool);
    let fix = if outlived {
        "make the migration tool end every session it opens before it exits (a connection left in the background keeps its locks after the migration, on production too), or raise `max-blocked` under [checks.workload] if this wait is acceptable"
    } else if long_queue {
        "set `lock_timeout` in the migration (`SET lock_timeout = '100ms';`) and retry it on timeout: its lock request then gives up instead of queueing every query behind it while a long transaction runs"
    } else {
        "use an online form (a new column and a batched backfill instead of a type change, CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE CONSTRAINT), or raise `max-blocked` under [checks.workload] if this wait is acceptable"
    };
    let held = locks.and_then(|l| access_exclusive_ms(l, &table));
    let what = match held {
        _ if outlived => super::render::outlived(b, cfg, &table, held),
        Some(h) => format!(
            "`{}` was blocked {} ms (max-blocked = {} ms); the locks check measured ACCESS EXCLUSIVE on {table} for ~{h} ms",
            b.query, b.ms, cfg.max_blocked.as_millis()
        ),
        None => format!("`{}` was blocked {} ms (max-blocked = {} ms)", b.query, b.ms, cfg.max_blocked.as_millis()),
    };
    let f = Finding::new(NAME, Severity::Error, what, why).fix(fix);
    match &b.table {
        Some(t) => f.at(t.clone()),
        None => f,
    }
}

/// ACCESS EXCLUSIVE time the locks check measured on `table`, in ms.
pub fn access_exclusive_ms(l: &LockReport, table: &str) -> Option<u64> {
    let bare = table.strip_prefix("public.").unwrap_or(table);
    l.held_ms
        .iter()
        .find(|(t, _)| *t == table || t.strip_prefix("public.") == Some(bare))
        .and_then(|(_, m)| m.get("AccessExclusiveLock").copied())
}

fn lock_timeout_finding(r: &WorkloadReport) -> Option<Finding> {
    let l = r.long_transaction.as_ref()?;
    let longest = r.queue.migration_waits.iter().max_by_key(|w| w.waited_ms)?;
    match r.queue.bounded_by_lock_timeout {
        Some(true) => Some(Finding::new(
            NAME,
            Severity::Info,
            format!(
                "the migration's lock requests gave up and retried: its longest wait for {} on {} was {} ms while the long transaction stayed open {} ms",
                longest.lock, longest.table, longest.waited_ms, l.held_ms
            ),
            "its `lock_timeout` bounded the lock queue: queries waited at most one timeout",
        )),
        _ => Some(
            Finding::new(
                NAME,
                Severity::Warning,
                format!(
                    "the migration waited {} ms for {} on {} behind the long transaction ({} ms)",
                    longest.waited_ms, longest.lock, longest.table, l.held_ms
                ),
                "while its lock request waits, every query on the table queues behind it",
            )
            .at(longest.table.clone())
            .fix("start the migration with `SET lock_timeout = '100ms';` (or a few seconds at most) and retry on timeout"),
        ),
    }
}

fn lines(r: &WorkloadReport, locks: Option<&LockReport>) -> Vec<String> {
    let mut out = Vec::new();
    out.push(format!(
        "queries {}; {} connection(s){}; baseline {} ms; the generator's own lag (p99, beyond waits for a connection) {} ms",
        r.source.describe(),
        r.generator.connections,
        match r.generator.arrivals {
            super::Arrivals::Fixed => "",
            super::Arrivals::Poisson => ", Poisson arrivals",
        },
        r.baseline_ms,
        r.generator.issue_lag_p99_ms
    ));
    for n in &r.notes {
        out.push(format!("note: {n}"));
    }
    for s in &r.skipped {
        out.push(format!("skipped `{}`: {}", s.query, s.why));
    }
    if let Some(l) = &r.long_transaction {
        out.push(format!(
            "long transaction: read {} and stayed open {} ms",
            l.tables.join(", "),
            l.held_ms
        ));
    }
    for w in &r.queue.migration_waits {
        out.push(format!(
            "the migration waited {} ms for {} on {}{}",
            w.waited_ms,
            w.lock,
            w.table,
            w.behind
                .map(|b| format!(" behind {}", b.describe()))
                .unwrap_or_default()
        ));
    }
    out.push(format!(
        "{} request(s) slower than {} ms while the migration ran; at most {} replayed queries waited for a lock at once",
        r.queue.queued, r.queue.threshold_ms, r.queue.max_at_once
    ));
    if let (Some(b), Some(l)) = (&r.longest, locks) {
        let by_tool = b.behind != Some(Who::OutlivedTool);
        if let Some(h) = b
            .table
            .as_deref()
            .and_then(|t| access_exclusive_ms(l, t))
            .filter(|_| by_tool)
        {
            out.push(format!(
                "longest blocked request: {} ms; ACCESS EXCLUSIVE on {} held ~{h} ms (locks check)",
                b.ms,
                b.table.as_deref().unwrap_or("?")
            ));
        }
    }
    for q in r.queries.iter().filter(|q| q.reprepared > 0) {
        out.push(format!(
            "`{}`: {} request(s) had to prepare the statement again (the migration changed its result type; drivers that cache prepared statements see `cached plan must not change result type` once per connection)",
            q.name, q.reprepared
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
                },
                during: Stats {
                    count: 25,
                    errors: 0,
                    p50_ms: 0.4,
                    p95_ms: 150.0,
                    p99_ms: 180.0,
                    max_ms: 181.0,
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
        cfg.max_blocked = std::time::Duration::from_secs(1);
        assert_eq!(
            evaluate(&r, &cfg, None).status,
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
}

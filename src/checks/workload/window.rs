//! Whether each query was measured where it mattered: inside every lock of the migration
//! that blocks it, and after the migration ended.
//!
//! A query replayed at a low rate may have no request due while the migration held a lock
//! that blocks it (ACCESS EXCLUSIVE on a table it reads; SHARE or stronger on one it writes):
//! nothing then measured what its users would feel, and its verdict would pass on nothing.
//! The lock's time comes from the workload's own observer ([`super::blocking`], a sample
//! every [`INTERVAL`]): a lock seen in two samples or more was held at least from the first
//! to the last, and the requests counted are those whose intended start fell in that
//! stretch. A lock seen in one sample only was held for less than the gap between the samples
//! around it — as the locks check says of a lock shorter than its own sampling interval, for
//! an unknown time, not none: no request can be asked to fall inside it (what users feel from
//! it is under that gap; the coverage rule still asks for a query on its table).
//!
//! A query the migration breaks (a renamed column) fails only when a request of it runs
//! after the migration: the load runs on until every query had [`AFTER_REQUESTS`] requests
//! due after the migration ended ([`tail`]); a query with none is NOT CHECKED.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::blocking::{Seen, Who, INTERVAL};
use super::generator::{Coverage, Recorded};
use super::report::WorkloadReport;
use super::sources::Query;
use super::{WorkloadConfig, NAME};
use crate::checks::{lock_name, CheckResult, CheckStatus, Finding, Severity};

/// Requests a fix asks to fall inside a lock: requests every 1/rate, so the first is due at
/// most 1/rate after the lock was taken, and the longest wait measured falls short of what a
/// request due the moment it was taken waits by at most that. With 5 in the lock that is a
/// fifth of it: the longest wait measured is at least 80 % of the lock's time (the issue's
/// tolerance: within 20 %).
pub const REQUESTS_IN_LOCK: u64 = 5;

/// Requests of each query due after the migration ended: a query the migration breaks is
/// seen failing (one request could still be the one sent just before the last statement
/// committed).
pub const AFTER_REQUESTS: f64 = 3.0;

/// The longest the load runs on after the migration (the lowest rate accepted, 1/s, needs
/// [`AFTER_REQUESTS`] s).
const MAX_TAIL: Duration = Duration::from_secs(5);

/// How long the load runs on after the migration ended: [`super::TAIL`], or long enough for
/// the slowest query to send [`AFTER_REQUESTS`] requests.
pub fn tail(queries: &[Query]) -> Duration {
    let slowest = queries
        .iter()
        .map(|q| q.rate)
        .filter(|r| *r > 0.0)
        .fold(f64::INFINITY, f64::min);
    let need = if slowest.is_finite() {
        // A little over: the schedule's next instant may be a hair after a whole gap.
        Duration::from_secs_f64(AFTER_REQUESTS / slowest) + INTERVAL
    } else {
        Duration::ZERO
    };
    need.clamp(super::TAIL, MAX_TAIL)
}

/// A lock the migration held that blocks a query, and how many of its requests were due in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockWindow {
    pub query: String,
    pub table: String,
    /// `ACCESS EXCLUSIVE`, …: the strongest mode seen in the stretch.
    pub lock: String,
    /// The first sample that saw it, ms on the timeline.
    pub from_ms: u64,
    /// From the first sample that saw it to the last, ms: the least it was held.
    pub held_ms: u64,
    /// The query's requests whose intended start fell in that stretch.
    pub due: u64,
    /// The query's rate, per second.
    pub rate: f64,
    /// The longest of those requests, ms (0 when none).
    pub longest_ms: f64,
}

/// What [`measure`] found (`--json`: `windows` in the workload check's `data`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Windows {
    /// Every lock of the migration, seen in two samples or more, that blocks a query.
    pub locks: Vec<LockWindow>,
    /// Per query (in the report's order): its requests due after the migration ended.
    pub after_migration: Vec<u64>,
    /// Locks that block a query seen in one sample only (held for an unknown time, under the
    /// gap between samples): `query`, `table`, `lock`.
    pub unmeasured: Vec<(String, String, String)>,
    /// How long the load ran on after the migration ended, ms.
    pub tail_ms: u64,
}

/// Whether a lock held in `mode` blocks a query that reads (`write`: writes) the table: a
/// read's ACCESS SHARE waits for ACCESS EXCLUSIVE only; a write's ROW EXCLUSIVE for SHARE and
/// stronger (the observer samples SHARE and stronger only).
fn blocks(mode: &str, write: bool) -> bool {
    write || mode == "AccessExclusiveLock"
}

/// The stretches of samples in which the migration (or a session that outlived its tool)
/// held a lock on `table` that blocks `write`: (first µs, last µs, strongest mode).
fn stretches(seen: &Seen, table: &str, write: bool, start_us: u64) -> Vec<(u64, u64, String)> {
    let mut out: Vec<(u64, u64, String)> = Vec::new();
    let mut open: Option<(u64, u64, String)> = None;
    let interval = INTERVAL.as_micros() as u64;
    for s in &seen.snapshots {
        let held = s
            .held
            .iter()
            .filter(|h| matches!(h.who, Who::Migration | Who::OutlivedTool))
            .filter(|h| h.relation == table && blocks(&h.mode, write))
            .map(|h| h.mode.clone())
            .max_by_key(|m| super::report::rank(m));
        // Before the migration started nothing is its (a snapshot stamped within an interval
        // of the start may see the lock it just took).
        let held = held.filter(|_| s.t_us + interval >= start_us);
        match (held, &mut open) {
            (Some(m), Some(o)) => {
                o.1 = s.t_us;
                if super::report::rank(&m) > super::report::rank(&o.2) {
                    o.2 = m;
                }
            }
            (Some(m), None) => open = Some((s.t_us.max(start_us), s.t_us.max(start_us), m)),
            (None, _) => out.extend(open.take()),
        }
    }
    out.extend(open);
    out
}

/// Counts, for each query, its requests due inside each lock that blocks it and after the
/// migration ended. `coverage.per_query` says which tables each query goes to.
pub fn measure(coverage: &Coverage, rec: &Recorded, seen: &Seen, queries: &[Query]) -> Windows {
    let mut w = Windows {
        tail_ms: rec.stopped_us.saturating_sub(rec.migration_end_us) / 1000,
        ..Windows::default()
    };
    for (qi, q) in queries.iter().enumerate() {
        let mine: Vec<_> = rec
            .samples
            .iter()
            .filter(|s| s.query as usize == qi)
            .collect();
        w.after_migration.push(
            mine.iter()
                .filter(|s| s.due_us >= rec.migration_end_us)
                .count() as u64,
        );
        let Some(tables) = coverage.per_query.get(qi) else {
            continue;
        };
        for (table, write) in tables {
            for (from, to, mode) in stretches(seen, table, *write, rec.migration_start_us) {
                if from == to {
                    w.unmeasured
                        .push((q.name.clone(), table.clone(), lock_name(&mode)));
                    continue;
                }
                let inside: Vec<_> = mine
                    .iter()
                    .filter(|s| s.due_us >= from && s.due_us <= to)
                    .collect();
                let longest = inside.iter().map(|s| s.latency_us).max().unwrap_or(0);
                w.locks.push(LockWindow {
                    query: q.name.clone(),
                    table: table.clone(),
                    lock: lock_name(&mode),
                    from_ms: from / 1000,
                    held_ms: (to - from) / 1000,
                    due: inside.len() as u64,
                    rate: q.rate,
                    longest_ms: (longest as f64 / 100.0).round() / 10.0,
                });
            }
        }
    }
    w
}

/// The rate at which [`REQUESTS_IN_LOCK`] requests fall in a lock held `held_ms`, per second
/// (rounded up).
pub fn rate_for(held_ms: u64) -> u64 {
    (REQUESTS_IN_LOCK as f64 * 1000.0 / held_ms.max(1) as f64).ceil() as u64
}

/// A query not measured where it mattered.
pub(super) struct Unmeasured {
    /// What the summary says of it.
    pub(super) short: String,
    /// The table, or empty.
    pub(super) table: String,
    pub(super) what: String,
    pub(super) why: String,
    pub(super) fix: String,
}

fn shown_rate(r: f64) -> String {
    let r = (r * 100.0).round() / 100.0;
    format!("{r}/s")
}

/// Each query with no request due inside a lock that blocks it, or after the migration; and
/// each whose requests in a lock held longer than `max-blocked` waited less than it (the
/// first was due late in the lock: a user arriving when it was taken waits longer).
fn unmeasured(r: &WorkloadReport, cfg: &WorkloadConfig) -> Vec<Unmeasured> {
    let mut out = Vec::new();
    let budget_ms = cfg.max_blocked.as_millis() as u64;
    let declared = r.source == super::sources::Origin::Declared;
    for l in &r.windows.locks {
        let q = crate::schema::comment_text(&l.query);
        let need = rate_for(l.held_ms);
        let whose = match declared {
            true => format!("`rate` of `{q}` under [[checks.workload.query]] to"),
            false => format!(
                "`rate` under [checks.workload] (the queries found share it) so that `{q}` gets"
            ),
        };
        let fix = format!(
            "raise {whose} at least {need}/s (now {}), so that ≥ {REQUESTS_IN_LOCK} requests fall in a lock of {} ms: the first is then due within its first fifth, and the longest wait measured is at least 80 % of what a request due when the lock was taken waits",
            shown_rate(l.rate),
            l.held_ms
        );
        let held = format!(
            "{} on {} (held ≥ {} ms, from {} ms on the timeline)",
            l.lock, l.table, l.held_ms, l.from_ms
        );
        let short = format!(
            "no request of `{q}` was due in the migration's {} on {} (≥ {} ms)",
            l.lock, l.table, l.held_ms
        );
        if l.due == 0 {
            out.push(Unmeasured {
                short,
                table: l.table.clone(),
                what: format!(
                    "no request of `{q}` was due while the migration held {held}: at {} it sends one every {} ms",
                    shown_rate(l.rate),
                    (1000.0 / l.rate.max(0.001)).round()
                ),
                why: format!(
                    "every request of `{q}` waits behind that lock; none was there to measure how long, so its verdict would pass on nothing"
                ),
                fix,
            });
        } else if l.held_ms > budget_ms && l.longest_ms <= budget_ms as f64 {
            out.push(Unmeasured {
                short: format!(
                    "`{q}`'s requests came late in the migration's {} on {} (≥ {} ms, over max-blocked)",
                    l.lock, l.table, l.held_ms
                ),
                table: l.table.clone(),
                what: format!(
                    "`{q}`: {} request(s) were due while the migration held {held}, the longest waited {} ms, under max-blocked = {budget_ms} ms: the first was due late in the lock",
                    l.due, l.longest_ms
                ),
                why: format!(
                    "a request of `{q}` due when the lock was taken waits ≥ {} ms, over max-blocked; the requests measured say less",
                    l.held_ms
                ),
                fix,
            });
        }
    }
    for (q, after) in r.queries.iter().zip(&r.windows.after_migration) {
        if *after == 0 && q.during.count + q.baseline.count > 0 {
            let name = crate::schema::comment_text(&q.name);
            out.push(Unmeasured {
                short: format!("no request of `{name}` was due after the migration ended"),
                table: String::new(),
                what: format!("no request of `{name}` was due after the migration ended"),
                why: "a query the migration breaks (a dropped or renamed column, a changed type) fails only when it runs after it: `{name}` was never seen then".replace("{name}", &name),
                fix: format!(
                    "raise `rate` of `{name}` (at {}, the load ran on for {} ms after the migration)",
                    shown_rate(q.rate),
                    r.windows.tail_ms
                ),
            });
        }
    }
    out
}

/// [`unmeasured`], each a finding (a warning: "not checked: …") added to `findings`.
pub(super) fn findings(
    r: &WorkloadReport,
    cfg: &WorkloadConfig,
    findings: &mut Vec<Finding>,
) -> Vec<Unmeasured> {
    let u = unmeasured(r, cfg);
    for x in &u {
        let f = Finding::new(
            NAME,
            Severity::Warning,
            format!("not checked: {}", x.what),
            x.why.clone(),
        )
        .fix(x.fix.clone());
        findings.push(match x.table.is_empty() {
            true => f,
            false => f.at(x.table.clone()),
        });
    }
    u
}

/// A result that did not fail is NOT CHECKED when a query was not measured where it
/// mattered (`u`): no pass on nothing.
pub(super) fn not_checked(result: &mut CheckResult, u: &[Unmeasured]) {
    if !u.is_empty() && result.status != CheckStatus::Failed {
        result.status = CheckStatus::NotRun;
        result.summary = summary(u, &result.summary);
    }
}

/// The summary of a result that would have passed but for `u`, before `rest` (a coverage
/// summary's `NOT CHECKED: ` merged).
fn summary(u: &[Unmeasured], rest: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for x in u {
        if !parts.contains(&x.short.as_str()) {
            parts.push(&x.short);
        }
    }
    let rest = rest.strip_prefix("NOT CHECKED: ").unwrap_or(rest);
    format!("NOT CHECKED: {}; {rest}", parts.join("; "))
}

/// The details' line on locks too short to ask requests of.
pub(super) fn note(r: &WorkloadReport) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for (q, t, l) in &r.windows.unmeasured {
        let s = format!("{l} on {t} (`{}`)", crate::schema::comment_text(q));
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    (!seen.is_empty()).then(|| {
        format!(
            "seen in one lock sample only, held for an unknown time under the gap between samples ({} ms apart): {} — no request was asked to fall inside",
            INTERVAL.as_millis(),
            seen.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::blocking::{Held, Snapshot};
    use super::super::generator::Sample;
    use super::super::sources::{Origin, Params};
    use super::*;

    fn query(name: &str, rate: f64, write: bool) -> Query {
        Query {
            name: name.into(),
            sql: "SELECT 1".into(),
            write,
            rate,
            params: Params::None,
            origin: Origin::Declared,
        }
    }

    /// The migration (pid 7) holds `mode` on public.t in the samples at `ms`.
    fn seen(mode: &str, ms: &[u64]) -> Seen {
        let mut s = Seen::default();
        for t in (0..60).map(|i| i * 50) {
            let held = ms.contains(&t).then(|| Held {
                pid: 7,
                who: Who::Migration,
                mode: mode.into(),
                relation: "public.t".into(),
            });
            s.snapshots.push(Snapshot {
                t_us: t * 1000,
                held: held.into_iter().collect(),
                ..Default::default()
            });
        }
        s
    }

    /// Requests of query 0 due at `ms`; the migration from 1 s to 2.5 s.
    fn recorded(ms: &[u64]) -> Recorded {
        Recorded {
            samples: ms
                .iter()
                .map(|t| Sample {
                    query: 0,
                    due_us: t * 1000,
                    latency_us: 1000,
                    pid: 1,
                    error: None,
                    lag_us: 0,
                    wait_us: 0,
                })
                .collect(),
            migration_start_us: 1_000_000,
            migration_end_us: 2_500_000,
            stopped_us: 2_800_000,
            ..Default::default()
        }
    }

    fn coverage(write: bool) -> Coverage {
        Coverage {
            per_query: vec![vec![("public.t".into(), write)]],
            ..Default::default()
        }
    }

    const LOCK: [u64; 9] = [1300, 1350, 1400, 1450, 1500, 1550, 1600, 1650, 1700];

    #[test]
    fn a_lock_no_request_of_the_query_was_due_in_is_counted_empty_with_the_rate_it_needs() {
        let w = measure(
            &coverage(false),
            &recorded(&[1000, 2000, 2600]),
            &seen("AccessExclusiveLock", &LOCK),
            &[query("read", 1.0, false)],
        );
        assert_eq!(w.locks.len(), 1, "{w:#?}");
        let l = &w.locks[0];
        assert_eq!((l.due, l.held_ms, l.from_ms), (0, 400, 1300));
        assert_eq!(l.lock, "ACCESS EXCLUSIVE");
        assert_eq!(w.after_migration, [1]);
        assert_eq!(rate_for(400), 13);
        // At 20/s the requests due in it are counted.
        let due: Vec<u64> = (0..60).map(|i| i * 50).collect();
        let w = measure(
            &coverage(false),
            &recorded(&due),
            &seen("AccessExclusiveLock", &LOCK),
            &[query("read", 20.0, false)],
        );
        assert_eq!(w.locks[0].due, 9, "{w:#?}");
    }

    #[test]
    fn a_share_lock_blocks_writes_only_and_a_lock_seen_once_asks_for_nothing() {
        let share = seen("ShareLock", &LOCK);
        let rec = recorded(&[1000, 2000]);
        let read = measure(&coverage(false), &rec, &share, &[query("r", 1.0, false)]);
        assert!(read.locks.is_empty(), "{read:#?}");
        let write = measure(&coverage(true), &rec, &share, &[query("w", 1.0, true)]);
        assert_eq!(write.locks.len(), 1, "{write:#?}");
        assert_eq!(write.locks[0].lock, "SHARE");
        let once = measure(
            &coverage(false),
            &rec,
            &seen("AccessExclusiveLock", &[1500]),
            &[query("r", 1.0, false)],
        );
        assert!(once.locks.is_empty(), "{once:#?}");
        assert_eq!(once.unmeasured.len(), 1);
        // Before the migration started, a lock is not its.
        let before = measure(
            &coverage(false),
            &rec,
            &seen("AccessExclusiveLock", &[300, 350, 400]),
            &[query("r", 1.0, false)],
        );
        assert!(before.locks.is_empty() && before.unmeasured.is_empty());
    }

    #[test]
    fn a_query_not_measured_in_a_lock_or_after_the_migration_is_not_checked() {
        use super::super::report::{evaluate, tests::report};
        use crate::checks::CheckStatus;
        let mut r = report();
        let lock = LockWindow {
            query: "read".into(),
            table: "public.t".into(),
            lock: "ACCESS EXCLUSIVE".into(),
            from_ms: 250,
            held_ms: 400,
            due: 0,
            rate: 1.0,
            longest_ms: 0.0,
        };
        r.windows.locks = vec![lock.clone()];
        r.windows.after_migration = vec![0];
        let cfg = WorkloadConfig {
            max_p99_ratio: 10.0,
            ..Default::default()
        };
        let res = evaluate(&r, &cfg, None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(res.summary.starts_with("NOT CHECKED: no request of `read` was due in the migration's ACCESS EXCLUSIVE on public.t (≥ 400 ms); no request of `read` was due after the migration ended; "), "{}", res.summary);
        let fixes: Vec<String> = res.findings.iter().filter_map(|f| f.fix.clone()).collect();
        assert!(
            fixes
                .iter()
                .any(|f| f.contains("to at least 13/s (now 1/s)")),
            "{fixes:?}"
        );
        // Requests due late in a lock longer than max-blocked say less than it: not checked.
        r.windows.locks = vec![LockWindow {
            due: 1,
            held_ms: 1500,
            longest_ms: 300.0,
            ..lock.clone()
        }];
        r.windows.after_migration = vec![3];
        let res = evaluate(&r, &cfg, None);
        assert!(res.summary.contains("`read`'s requests came late in the migration's ACCESS EXCLUSIVE on public.t (≥ 1500 ms, over max-blocked)"), "{}", res.summary);
        // Measured in the lock (the longest over max-blocked fails on its own) and after it.
        r.windows.locks = vec![LockWindow {
            due: 3,
            held_ms: 400,
            longest_ms: 350.0,
            ..lock
        }];
        let res = evaluate(&r, &cfg, None);
        assert!(!res.summary.contains("was due"), "{}", res.summary);
        assert!(
            res.findings.iter().all(|f| !f.what.contains("was due")),
            "{res:#?}"
        );
    }

    #[test]
    fn the_load_runs_on_until_the_slowest_query_sent_a_few_requests() {
        assert_eq!(tail(&[query("a", 100.0, false)]), super::super::TAIL);
        let slow = tail(&[query("a", 100.0, false), query("b", 1.0, false)]);
        assert_eq!(slow, Duration::from_secs(3) + INTERVAL);
        assert_eq!(tail(&[]), super::super::TAIL);
    }
}

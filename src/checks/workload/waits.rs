//! Waits for a connection: the lock's, or the generator's own limit.
//!
//! A request waits for one of its query's connections when all of them are busy. While one of
//! them waits for a lock on a relation, a request of the same query sent then would have
//! waited for the same lock: that wait for a connection is the lock's, and the request counts
//! from its intended start (no coordinated omission). When none of them was seen waiting for
//! a lock, the connections were busy for another reason — slow answers, too few connections
//! for the rate — and the wait is the generator's own limit, not the migration's: such a
//! request is counted from when it was sent, and where the verdict depends on which of the two
//! it is, the query is NOT CHECKED (never passed, never failed on the generator's account).

use serde::{Deserialize, Serialize};

use super::blocking::{Seen, INTERVAL};
use super::coverage::{Gap, GapKind};
use super::generator::Sample;
use super::report::WorkloadReport;
use super::{WorkloadConfig, P99_FLOOR_MS};

/// An unexplained part of a wait shorter than one sampling interval is within the observer's
/// resolution (a lock wait starts and ends up to one interval away from the samples that saw
/// it; the backlog behind a lock drains for a few ms after its release): it counts as the
/// lock's.
const NOISE_US: u64 = INTERVAL.as_micros() as u64;

/// What the generator's own limit added to a query's requests while the migration ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneratorWait {
    /// Requests that waited for a connection while none of the query's connections was seen
    /// waiting for a lock.
    pub requests: u64,
    /// The longest such wait, ms.
    pub longest_ms: f64,
    /// The query's connections.
    pub connections: usize,
    /// p99 and max of the query's requests during the migration with those waits left out
    /// (each such request counted from when a connection was free).
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// When (µs on the timeline) the observer saw one of `pids` wait for a lock on a relation,
/// in order.
pub fn lock_waits(seen: &Seen, pids: &[i32]) -> Vec<u64> {
    seen.snapshots
        .iter()
        .filter(|s| {
            s.waiting
                .iter()
                .any(|w| w.table_lock && pids.contains(&w.pid))
        })
        .map(|s| s.t_us)
        .collect()
}

/// The part of `s`'s wait for a connection that no lock wait of its query's connections
/// (`waits`, from [`lock_waits`]) explains, in µs: the wait outside the stretch from one
/// sampling interval before the first such lock wait seen during it to one interval after the
/// last (a wait starts and ends up to one interval away from the samples that saw it); 0 when
/// under one interval ([`NOISE_US`]).
pub fn unexplained_us(s: &Sample, waits: &[u64]) -> u64 {
    let u = outside(s, waits);
    if u < NOISE_US {
        0
    } else {
        u
    }
}

fn outside(s: &Sample, waits: &[u64]) -> u64 {
    if s.wait_us == 0 {
        return 0;
    }
    let (from, to) = (s.due_us, s.due_us + s.wait_us);
    let pad = INTERVAL.as_micros() as u64;
    let lo = waits.partition_point(|t| t + pad < from);
    let hi = waits.partition_point(|t| *t <= to);
    if lo >= hi {
        return s.wait_us;
    }
    let first = waits[lo].saturating_sub(pad).max(from);
    let last = (waits[hi - 1] + pad).min(to);
    s.wait_us - last.saturating_sub(first).min(s.wait_us)
}

/// `s`'s latency as far as locks explain it: from its intended start, less the part of its
/// wait for a connection that is the generator's own.
pub fn explained_us(s: &Sample, waits: &[u64]) -> u64 {
    s.latency_us.saturating_sub(unexplained_us(s, waits))
}

/// What the generator's own limit added to `during` (one query's requests while the migration
/// ran), `None` when nothing beyond noise.
pub fn generator_wait(
    during: &[&Sample],
    waits: &[u64],
    connections: usize,
) -> Option<GeneratorWait> {
    let unexplained: Vec<u64> = during.iter().map(|s| unexplained_us(s, waits)).collect();
    let requests = unexplained.iter().filter(|u| **u > 0).count() as u64;
    if requests == 0 {
        return None;
    }
    let mut kept: Vec<u64> = during
        .iter()
        .zip(&unexplained)
        .filter(|(s, _)| s.error.is_none())
        .map(|(s, u)| s.latency_us.saturating_sub(*u))
        .collect();
    kept.sort_unstable();
    let ms = |us: u64| (us as f64 / 100.0).round() / 10.0;
    let rank = |q: f64| match kept.len() {
        0 => 0,
        n => kept[((n as f64 * q).ceil() as usize).clamp(1, n) - 1],
    };
    Some(GeneratorWait {
        requests,
        longest_ms: ms(unexplained.iter().copied().max().unwrap_or(0)),
        connections,
        p99_ms: ms(rank(0.99)),
        max_ms: ms(kept.last().copied().unwrap_or(0)),
    })
}

/// The p99 a query is judged by: without the generator's own waits.
pub fn judged_p99(q: &super::report::QueryReport) -> f64 {
    q.generator_wait
        .as_ref()
        .map_or(q.during.p99_ms, |g| g.p99_ms)
}

/// A line per query whose requests waited for the generator's own connections.
pub(super) fn notes(r: &WorkloadReport) -> Vec<String> {
    r.queries
        .iter()
        .filter_map(|q| {
            let g = q.generator_wait.as_ref()?;
            Some(format!(
                "`{}`: {} request(s) waited up to {} ms for one of its {} connection(s) while none of them waited for a lock (the generator's own limit): judged without that wait — p99 {} ms, longest {} ms",
                q.name, g.requests, g.longest_ms, g.connections, g.p99_ms, g.max_ms
            ))
        })
        .collect()
}

/// Queries whose verdict depends on the generator's own waits: over `max-blocked` or
/// `max-p99-ratio` with them, within without. What users would feel there was not measured.
pub(super) fn gaps(r: &WorkloadReport, cfg: &WorkloadConfig) -> Vec<Gap> {
    let budget = cfg.max_blocked.as_millis() as f64;
    let mut out = Vec::new();
    for q in &r.queries {
        let Some(g) = &q.generator_wait else { continue };
        let limit = q.baseline.p99_ms.max(P99_FLOOR_MS) * cfg.max_p99_ratio;
        let over = if q.during.max_ms > budget && g.max_ms <= budget {
            Some(format!(
                "its longest request took {} ms from its intended start (max-blocked = {budget} ms), {} ms from when a connection was free",
                q.during.max_ms, g.max_ms
            ))
        } else if q.during.p99_ms > limit && g.p99_ms <= limit {
            Some(format!(
                "its p99 was {} ms from the intended starts (limit {limit} ms: max-p99-ratio × the baseline's), {} ms from when a connection was free",
                q.during.p99_ms, g.p99_ms
            ))
        } else {
            None
        };
        let Some(over) = over else { continue };
        out.push(Gap {
            kind: GapKind::Generator,
            table: q.name.clone(),
            what: format!(
                "`{}`: {} request(s) waited up to {} ms for one of its {} connection(s) while none of them waited for a lock — the generator's own limit, not the migration's; {over}",
                q.name, g.requests, g.longest_ms, g.connections
            ),
            why: "whether users would wait that long was not measured: the requests could not be sent on time".into(),
            fix: "give the generator more connections (`connections` under [checks.workload]) or lower the query's `rate`",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(due_ms: u64, latency_ms: u64, wait_ms: u64) -> Sample {
        Sample {
            query: 0,
            due_us: due_ms * 1000,
            latency_us: latency_ms * 1000,
            pid: 1,
            error: None,
            lag_us: wait_ms * 1000,
            wait_us: wait_ms * 1000,
        }
    }

    #[test]
    fn a_wait_behind_the_querys_own_lock_waits_is_the_locks_the_rest_the_generators() {
        // Its connections were seen waiting for a lock from 1000 to 1500 ms.
        let waits: Vec<u64> = (0..=10).map(|i| 1_000_000 + i * 50_000).collect();
        // Waited 400 ms for a connection, all inside the lock wait: the lock's.
        let s = sample(1050, 460, 400);
        assert_eq!(unexplained_us(&s, &waits), 0);
        assert_eq!(explained_us(&s, &waits), 460_000);
        // Waited from 1300 to 1900 ms: explained to 1550 (one interval after the last sample).
        let s = sample(1300, 620, 600);
        assert_eq!(unexplained_us(&s, &waits), 350_000);
        assert_eq!(explained_us(&s, &waits), 270_000);
        // A backlog drained 20 ms past that: within the observer's resolution, the lock's.
        assert_eq!(unexplained_us(&sample(1400, 175, 170), &waits), 0);
        // No lock wait seen: the whole wait is the generator's.
        assert_eq!(unexplained_us(&sample(3000, 500, 450), &waits), 450_000);
        // No wait at all.
        assert_eq!(unexplained_us(&sample(3000, 500, 0), &waits), 0);
    }

    #[test]
    fn a_verdict_only_the_generators_own_waits_decide_is_not_checked() {
        use super::super::report::{evaluate, tests::report};
        use crate::checks::CheckStatus;
        let cfg = WorkloadConfig {
            max_blocked: std::time::Duration::from_millis(100),
            max_p99_ratio: 10.0,
            ..Default::default()
        };
        // 181 ms from the intended start, 40 ms without the wait no lock explains.
        let mut r = report();
        r.queries[0].generator_wait = Some(GeneratorWait {
            requests: 3,
            longest_ms: 141.0,
            connections: 2,
            p99_ms: 30.0,
            max_ms: 40.0,
        });
        if let Some(b) = r.longest.as_mut() {
            b.ms = 40.0;
        }
        let res = evaluate(&r, &cfg, None);
        assert_eq!(res.status, CheckStatus::NotRun, "{res:#?}");
        assert!(
            res.summary.starts_with(
                "NOT CHECKED: requests of `read` waited for the generator's own connections"
            ),
            "{}",
            res.summary
        );
        assert!(res
            .findings
            .iter()
            .all(|f| f.severity == crate::checks::Severity::Warning));
        assert!(res
            .details
            .iter()
            .any(|d| d.contains("judged without that wait")));
        // Over the budget without the wait too: a failure, the lock's.
        if let Some(g) = r.queries[0].generator_wait.as_mut() {
            g.max_ms = 150.0;
        }
        if let Some(b) = r.longest.as_mut() {
            b.ms = 150.0;
        }
        assert_eq!(evaluate(&r, &cfg, None).status, CheckStatus::Failed);
        // Within the budget with the wait: a pass (the wait only made it look slower).
        let mut r = report();
        r.queries[0].generator_wait = Some(GeneratorWait {
            requests: 1,
            longest_ms: 5.0,
            connections: 2,
            p99_ms: 170.0,
            max_ms: 176.0,
        });
        let cfg = WorkloadConfig {
            max_p99_ratio: 10.0,
            ..Default::default()
        };
        // The locks check ran and read which tables changed (none): coverage is known.
        let measured = crate::checks::locks::LockReport {
            compared: true,
            ..Default::default()
        };
        assert_eq!(
            evaluate(&r, &cfg, Some(&measured)).status,
            CheckStatus::Passed
        );
    }

    #[test]
    fn the_generators_own_waits_are_left_out_of_what_the_query_is_judged_by() {
        let waits: Vec<u64> = Vec::new();
        let mut during: Vec<Sample> = (0..99).map(|i| sample(i * 10, 1, 0)).collect();
        during.push(sample(1000, 800, 790));
        let refs: Vec<&Sample> = during.iter().collect();
        let g = generator_wait(&refs, &waits, 4).expect("a wait");
        assert_eq!(g.requests, 1);
        assert_eq!(g.longest_ms, 790.0);
        assert_eq!(g.max_ms, 10.0);
        assert_eq!(g.p99_ms, 1.0);
        let refs: Vec<&Sample> = during[..99].iter().collect();
        assert_eq!(generator_wait(&refs, &waits, 4), None);
    }
}

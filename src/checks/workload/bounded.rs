//! The `max-p99-ratio` verdict, and the lock queue a `lock_timeout` bounded.
//!
//! With `SET lock_timeout` and retries (the pattern the check recommends), the migration's
//! lock request gives up after the timeout: the queries that queued behind it wait at most
//! that long, once per attempt. Their p99 then reaches the migration's longest lock wait, which
//! at the 50 ms floor × 3 fails `max-p99-ratio` for any timeout over ~150 ms — a false failure
//! of the very fix. A p99 within the migration's longest wait (each wait bounded by its
//! `lock_timeout`) plus the baseline is that bounded queue: reported, not failed.
//! `max-blocked` still bounds every single request, so a long timeout still fails there, and a
//! lock held long (a rewrite) is not a wait of the migration's: it is judged as before.

use super::report::{QueryReport, WorkloadReport};
use super::{WorkloadConfig, NAME, P99_FLOOR_MS};
use crate::checks::{Finding, Severity};

/// The migration's longest lock wait, in ms, when each of its waits was cut short by its
/// `lock_timeout` (it gave up and retried before the long transaction ended).
fn bounded_wait_ms(r: &WorkloadReport) -> Option<f64> {
    if r.queue.bounded_by_lock_timeout != Some(true) {
        return None;
    }
    r.queue
        .migration_waits
        .iter()
        .map(|w| w.waited_ms as f64)
        .reduce(f64::max)
}

/// `q`'s p99 against `max-p99-ratio`: an error over the limit, an info when it stays within
/// the lock queue the migration's `lock_timeout` bounded. `lock_findings`: findings about the
/// locks (a blocked request, the migration's unbounded wait) are in the report, so the fix may
/// point to them.
pub(super) fn p99_finding(
    r: &WorkloadReport,
    q: &QueryReport,
    cfg: &WorkloadConfig,
    lock_findings: bool,
) -> Option<Finding> {
    let base = q.baseline.p99_ms.max(P99_FLOOR_MS);
    let limit = base * cfg.max_p99_ratio;
    let p99 = super::waits::judged_p99(q);
    if q.during.count == 0 || p99 <= limit {
        return None;
    }
    let at = super::sources::shown(&q.sql);
    if let Some(wait) = bounded_wait_ms(r).filter(|w| p99 <= w + base) {
        return Some(
            Finding::new(
                NAME,
                Severity::Info,
                format!(
                    "`{}`: p99 {p99} ms while the migration ran vs {} ms before, over max-p99-ratio = {}, within the migration's longest lock wait ({wait} ms), which its `lock_timeout` cut short",
                    q.name, q.baseline.p99_ms, cfg.max_p99_ratio
                ),
                "queries queued behind the migration's lock request for at most one `lock_timeout` each time it tried: the bounded wait `lock_timeout` and retries trade for not queueing behind a long transaction (`max-blocked` still bounds every request)",
            )
            .at(at),
        );
    }
    let fix = if lock_findings {
        "see the lock findings above; or raise `max-p99-ratio` under [checks.workload]".to_owned()
    } else {
        fix_without_lock_findings(q)
    };
    Some(
        Finding::new(
            NAME,
            Severity::Error,
            format!(
                "`{}`: p99 {p99} ms while the migration ran vs {} ms before (max-p99-ratio = {}; under {P99_FLOOR_MS} ms counts as {P99_FLOOR_MS} ms)",
                q.name, q.baseline.p99_ms, cfg.max_p99_ratio
            ),
            "one request in a hundred is this much slower for as long as the migration runs",
        )
        .at(at)
        .fix(fix),
    )
}

/// The fix of a p99 failure with no lock finding to point to: what the slowest request waited
/// for, if a sample saw it.
fn fix_without_lock_findings(q: &QueryReport) -> String {
    match q.slowest.as_ref().and_then(|b| Some((b, b.table.as_ref()?, b.lock.as_ref()?))) {
        Some((b, table, lock)) => format!(
            "its slowest request ({} ms) waited for {lock} on {table}{}: use an online form of the change (a new column and a batched backfill instead of a type change, CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE CONSTRAINT) or a shorter `lock_timeout`; or raise `max-p99-ratio` under [checks.workload]",
            b.ms,
            b.behind.map(|w| format!(" behind {}", w.describe())).unwrap_or_default()
        ),
        None => "no sample saw its requests wait for a lock: the slowdown is the migration's load on the server (CPU, I/O); split the migration into smaller steps or run it when the load is lower, or raise `max-p99-ratio` under [checks.workload]".to_owned(),
    }
}

//! The verdicts of the `workload` check: `max-blocked`, `max-p99-ratio` and `max-errors`
//! against what the rehearsal measured ([`super::report`]), with the lock findings, the
//! coverage gaps, and the detail lines.

use super::blocking::Who;
use super::report::{Blocked, QueryReport, WorkloadReport};
use super::{WorkloadConfig, NAME};
use crate::checks::locks::LockReport;
use crate::checks::{CheckResult, CheckStatus, Finding, Severity};

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
    let broken = broken_queries(r, &mut findings);
    // A query that failed every request undisturbed fails during the migration for the same
    // reason: its errors are not the migration's.
    let judged = |q: &&super::report::QueryReport| !broken.contains(&q.name);
    let errors: u64 = r
        .queries
        .iter()
        .filter(judged)
        .map(|q| q.during.errors)
        .sum();
    if errors > cfg.max_errors {
        for q in r
            .queries
            .iter()
            .filter(judged)
            .filter(|q| q.during.errors > 0)
        {
            findings.push(
                Finding::new(
                    NAME,
                    Severity::Error,
                    format!("`{}`: {} of {} request(s) failed while the migration ran (max-errors = {})", q.name, q.during.errors, q.during.count, cfg.max_errors),
                    format!("users would see these errors: {}", q.errors.first().cloned().unwrap_or_default()),
                )
                .at(super::sources::shown(&q.sql))
                .fix("make the change in a form the application's queries survive (add, backfill, then switch; never drop or rename what a running version reads), or raise `max-errors` under [checks.workload]"),
            );
        }
    }
    let mut lock_findings = false;
    if let Some(b) = r.longest.as_ref().filter(|b| b.ms > budget_ms) {
        // A query slower than the budget undisturbed, and nothing seen blocking this request:
        // its own time, not the migration's.
        let own =
            r.queries.iter().find(|q| q.name == b.query).filter(|q| {
                b.behind.is_none() && b.table.is_none() && q.baseline.max_ms > budget_ms
            });
        match own {
            Some(q) => findings.push(
                Finding::new(
                    NAME,
                    Severity::Warning,
                    format!(
                        "`{}` took {} ms while the migration ran, nothing seen blocking it; it took up to {} ms before the migration too, over max-blocked = {budget_ms} ms",
                        q.name, b.ms, q.baseline.max_ms
                    ),
                    "a query slower than `max-blocked` undisturbed cannot be judged by it (its p99 against the baseline still is)",
                )
                .at(q.sql.clone())
                .fix("raise `max-blocked` under [checks.workload] above the query's own time, or replay a faster query"),
            ),
            None => {
                lock_findings = true;
                findings.push(blocked_finding(r, b, cfg, locks))
            }
        }
    }
    let lock_timeout = lock_timeout_finding(r);
    lock_findings |= lock_timeout
        .as_ref()
        .is_some_and(|f| f.severity == Severity::Warning);
    for q in &r.queries {
        if let Some(f) = super::bounded::p99_finding(r, q, cfg, lock_findings) {
            findings.push(f);
        }
    }
    findings.extend(lock_timeout);
    let mut gaps = super::coverage::uncovered(r, locks);
    super::rows::gaps(r, locks, cfg, &mut gaps);
    super::sequences::gaps(r, &mut gaps);
    gaps.extend(super::waits::gaps(r, cfg));
    for g in &gaps {
        let f = Finding::new(
            NAME,
            Severity::Warning,
            format!("not checked: {}", g.what),
            g.why.clone(),
        )
        .fix(g.fix.clone());
        findings.push(match g.table.is_empty() {
            true => f,
            false => f.at(g.table.clone()),
        });
    }
    let unmeasured = super::window::findings(r, cfg, &mut findings);
    let mut details = vec![super::render::terminal(r)];
    details.extend(lines(r, locks));
    details.extend(super::coverage::note(r, locks));
    details.extend(super::rows::notes(r, locks, cfg));
    details.extend(super::waits::notes(r));
    details.extend(super::window::note(r));
    let mut result = CheckResult::from_findings(NAME, summary(r), findings, details);
    if !gaps.is_empty() && result.status == CheckStatus::Passed {
        // Part of what users would feel was never measured: no pass.
        result.status = CheckStatus::NotRun;
        result.summary = super::coverage::summary(&gaps, &result.summary);
    }
    super::window::not_checked(&mut result, &unmeasured);
    if !broken.is_empty() && result.status == CheckStatus::Passed {
        // A query that cannot run measured nothing: the rehearsal could not run as declared.
        result.status = CheckStatus::NotRun;
        result.summary = format!(
            "NOT RUN: {} failed before the migration started, so it measured nothing; {}",
            broken
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            result.summary
        );
    }
    result
}

/// The queries that failed every request before the migration started (a broken query or
/// `params`), each with a finding: a rehearsal that could not run as declared, not the
/// migration's failure.
fn broken_queries(r: &WorkloadReport, findings: &mut Vec<Finding>) -> Vec<String> {
    let mut broken = Vec::new();
    for q in &r.queries {
        if q.baseline.errors > 0 && q.baseline.errors == q.baseline.count {
            broken.push(q.name.clone());
            findings.push(
                Finding::new(
                    NAME,
                    Severity::Warning,
                    format!(
                        "`{}` failed before the migration started: {}",
                        q.name,
                        q.errors.first().cloned().unwrap_or_default()
                    ),
                    "a query that fails undisturbed measures nothing about the migration; its errors while the migration ran are not counted against `max-errors`",
                )
                .at(super::sources::shown(&q.sql))
                .fix("fix the query (or its `params`) under [[checks.workload.query]]"),
            );
        }
    }
    broken
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
    } else if long_queue && r.queue.bounded_by_lock_timeout == Some(true) {
        // The migration has a `lock_timeout`: each wait still queued queries that long.
        "the migration's `lock_timeout` gave up its lock requests, but each wait still queued every query on the table for as long: make it shorter than `max-blocked` (e.g. `SET lock_timeout = '100ms';`) and keep retrying on timeout"
    } else if long_queue {
        "set `lock_timeout` in the migration (`SET lock_timeout = '100ms';`) and retry it on timeout: its lock request then gives up instead of queueing every query behind it while a long transaction runs"
    } else {
        "use an online form (a new column and a batched backfill instead of a type change, CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE CONSTRAINT), or raise `max-blocked` under [checks.workload] if this wait is acceptable"
    };
    // A row the migration changed, or a sequence it locked: named for what they block.
    let (why, fix, at) = match (
        super::rows::row_table(b),
        super::sequences::waited_for(r, b),
    ) {
        _ if outlived || long_queue => (why, fix.to_owned(), b.table.clone()),
        (Some(t), _) => {
            let (why, fix) = super::rows::blame(r, b, locks);
            (why, fix, Some(t.to_owned()))
        }
        (None, Some(l)) => {
            let (why, fix) = super::sequences::blame(r, b, l);
            let at = format!("{} (sequence {})", l.tables.join(", "), l.sequence);
            (why, fix, Some(at))
        }
        _ => (why, fix.to_owned(), b.table.clone()),
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
    match at {
        Some(t) => f.at(t),
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
    out.push(r.counts_line());
    for n in &r.notes {
        out.push(format!("note: {n}"));
    }
    for s in &r.skipped {
        out.push(format!("skipped `{}`: {}", s.query, s.why));
    }
    if let Some(l) = &r.long_transaction {
        out.push(super::longtx::line(l));
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
    for q in &r.queries {
        let conflicts = q.baseline.conflicts + q.during.conflicts;
        if conflicts > 0 {
            out.push(conflicts_line(q, conflicts));
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

/// What the inserts' unique violations with sampled values were, and why they are neither
/// errors nor successes.
pub(super) fn conflicts_line(q: &QueryReport, conflicts: u64) -> String {
    format!(
        "`{}`: {conflicts} request(s) ({} while the migration ran) hit a unique violation with values sampled from existing rows — a unique index the migration added on a sampled column makes them collide, where the application's new values would not: counted apart, neither errors nor successes; their latencies count (the table's lock was waited for before the unique check)",
        q.name, q.during.conflicts
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::locks::LockReport;

    #[test]
    fn a_query_slower_than_the_budget_undisturbed_is_not_blamed_on_the_migration() {
        let mut r = super::super::report::tests::report();
        let measured = LockReport {
            compared: true,
            ..Default::default()
        };
        let cfg = WorkloadConfig {
            max_blocked: std::time::Duration::from_millis(100),
            max_p99_ratio: 1000.0,
            ..Default::default()
        };
        // Blocked behind the migration: the budget fails.
        assert_eq!(
            evaluate(&r, &cfg, Some(&measured)).status,
            CheckStatus::Failed
        );
        // Nothing seen blocking it, and as slow before the migration: a warning, no failure.
        if let Some(b) = r.longest.as_mut() {
            (b.behind, b.table, b.lock, b.behind_statement, b.behind_lock) =
                (None, None, None, None, None);
        }
        r.queries[0].baseline.max_ms = 190.0;
        let res = evaluate(&r, &cfg, Some(&measured));
        assert_eq!(res.status, CheckStatus::Passed, "{res:#?}");
        assert!(res.findings.iter().any(|f| f.severity == Severity::Warning
            && f.what
                .contains("it took up to 190 ms before the migration too")));
        // Nothing seen blocking it but fast before: still the budget's failure.
        r.queries[0].baseline.max_ms = 0.7;
        assert_eq!(
            evaluate(&r, &cfg, Some(&measured)).status,
            CheckStatus::Failed
        );
    }
}

//! The generator's clock: a thread of its own that wakes at each request's intended start and
//! hands the request to the dispatcher at that instant.
//!
//! Tokio's timer has a 1 ms granularity (a deadline is rounded up to the next tick, and the
//! driver sleeps in whole milliseconds), so a request scheduled with `sleep_until` went out up
//! to ~1–2 ms after its intended start; measured from that start, as it must be (no coordinated
//! omission), the delay counted as latency: p50 1.5 ms where `pgbench --rate` measured 0.3 ms
//! on the same query. This thread sleeps with a 1 µs timer slack (a condition variable with a
//! timeout, so a stop wakes it too) until [`SPIN`] before the instant, then yields the CPU in a
//! loop until the instant itself. The requests it hands over keep their intended start; a
//! request the dispatcher cannot place (every connection busy) still counts from it.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::sources::Query;

/// How long before a request's instant the clock stops sleeping and yields in a loop instead
/// (a thread woken from a sleep is late by its timer slack plus the scheduler's wake-up).
pub const SPIN: Duration = Duration::from_micros(50);

/// Timer slack of the clock's thread, in ns (Linux's default is 50 µs).
const TIMER_SLACK_NS: u64 = 1_000;

/// One request, due now.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    pub query: usize,
    /// The query's `k`-th request (picks its parameters).
    pub k: u64,
    /// Its intended start.
    pub due: Instant,
}

/// Per-query schedule: a fixed interval per query, staggered so the queries' first requests
/// do not all fall on `t0`.
pub struct Schedule {
    next: Vec<Instant>,
    every: Vec<Duration>,
    issued: Vec<u64>,
}

impl Schedule {
    pub fn new(queries: &[Query], t0: Instant) -> Schedule {
        let n = queries.len().max(1) as u32;
        let every: Vec<Duration> = queries
            .iter()
            .map(|q| Duration::from_secs_f64(1.0 / q.rate.max(0.001)))
            .collect();
        let next = every
            .iter()
            .enumerate()
            .map(|(i, e)| t0 + *e * i as u32 / n)
            .collect();
        Schedule {
            next,
            issued: vec![0; queries.len()],
            every,
        }
    }

    /// The query due next, and when.
    pub fn due(&self) -> Option<(usize, Instant)> {
        self.next
            .iter()
            .enumerate()
            .min_by_key(|(_, t)| **t)
            .map(|(i, t)| (i, *t))
    }

    /// Moves query `qi` to its next request; returns the index of the one due now.
    pub fn advance(&mut self, qi: usize) -> u64 {
        self.next[qi] += self.every[qi];
        self.issued[qi] += 1;
        self.issued[qi] - 1
    }
}

/// When the schedule ends (`None`: it runs on), shared with the clock's thread.
#[derive(Default)]
struct End {
    at: Mutex<Option<Instant>>,
    changed: Condvar,
}

/// The clock, running.
pub struct Clock {
    end: Arc<End>,
    thread: Option<JoinHandle<()>>,
}

impl Clock {
    /// Starts handing `queries`' requests to `out`, each at its intended start. The thread
    /// ends at [`stop`](Clock::stop) (requests due before the end are all handed over), or when
    /// `out` is closed.
    pub fn start(queries: &[Query], t0: Instant, out: UnboundedSender<Tick>) -> Clock {
        let end = Arc::new(End::default());
        let schedule = Schedule::new(queries, t0);
        let shared = Arc::clone(&end);
        let thread = std::thread::Builder::new()
            .name("workload-clock".into())
            .spawn(move || run(schedule, &shared, &out))
            .ok();
        Clock { end, thread }
    }

    /// Requests due at or after `at` are not handed over.
    pub fn stop(&self, at: Instant) {
        if let Ok(mut end) = self.end.at.lock() {
            if end.is_none() {
                *end = Some(at);
            }
        }
        self.end.changed.notify_all();
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.stop(Instant::now());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(mut schedule: Schedule, end: &End, out: &UnboundedSender<Tick>) {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS);
    while let Some((query, due)) = schedule.due() {
        if !wait_until(due, end) {
            return;
        }
        let k = schedule.advance(query);
        if out.send(Tick { query, k, due }).is_err() {
            return;
        }
    }
}

/// Sleeps until [`SPIN`] before `due`, then yields until `due`; `false` when the schedule
/// ended before `due`.
fn wait_until(due: Instant, end: &End) -> bool {
    let ended_before = |e: &Option<Instant>| e.is_some_and(|e| due >= e);
    let Ok(mut guard) = end.at.lock() else {
        return false;
    };
    loop {
        if ended_before(&guard) {
            return false;
        }
        let now = Instant::now();
        let wake = due.checked_sub(SPIN).unwrap_or(due);
        if now >= wake {
            break;
        }
        guard = match end.changed.wait_timeout(guard, wake - now) {
            Ok((g, _)) => g,
            Err(_) => return false,
        };
    }
    drop(guard);
    while Instant::now() < due {
        std::thread::yield_now();
    }
    // A stop that came while yielding.
    !end.at.lock().map(|g| ended_before(&g)).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::workload::sources::{Origin, Params};

    fn query(name: &str, rate: f64) -> Query {
        Query {
            name: name.into(),
            sql: "SELECT 1".into(),
            write: false,
            rate,
            params: Params::None,
            origin: Origin::Declared,
        }
    }

    #[test]
    fn hands_over_every_request_due_before_the_stop_never_before_its_instant() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let t0 = Instant::now() + Duration::from_millis(300);
        let clock = Clock::start(&[query("a", 1000.0), query("b", 500.0)], t0, tx);
        // Stopped before the first instant: exactly the requests due in [t0, t0 + 10 ms).
        clock.stop(t0 + Duration::from_millis(10));
        let mut got = Vec::new();
        while let Some(t) = rx.blocking_recv() {
            assert!(Instant::now() >= t.due, "handed over before its instant");
            got.push((t.query, t.k, t.due.duration_since(t0).as_micros()));
        }
        drop(clock);
        let a: Vec<_> = got
            .iter()
            .filter(|g| g.0 == 0)
            .map(|g| (g.1, g.2))
            .collect();
        let b: Vec<_> = got
            .iter()
            .filter(|g| g.0 == 1)
            .map(|g| (g.1, g.2))
            .collect();
        assert_eq!(
            a,
            (0..10).map(|k| (k, k as u128 * 1000)).collect::<Vec<_>>()
        );
        // The second query is staggered by half its interval.
        assert_eq!(
            b,
            (0..5)
                .map(|k| (k, 1000 + k as u128 * 2000))
                .collect::<Vec<_>>()
        );
        let dues: Vec<u128> = got.iter().map(|g| g.2).collect();
        assert!(dues.windows(2).all(|w| w[0] <= w[1]), "in order: {dues:?}");
    }
}

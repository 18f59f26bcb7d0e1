//! `workload`: what users would feel while the migration runs.
//!
//! The locks check measures what the migration locks; this check measures what that means
//! for the application. While the `migrate` stage runs on the test Neon database branch
//! (never on the main Neon database branch), an open-loop load generator replays queries
//! against it; a short baseline window before the migration starts measures the same queries
//! undisturbed. Optionally a long transaction is opened first (`long-transaction = "3s"`), the
//! classic outage: the migration's lock request waits behind it and every query after it
//! queues too.
//!
//! - [`sources`]: where the queries come from — declared in `neon-migrate.toml`, the parent's
//!   `pg_stat_statements` (parameters sampled for `col = $1` / `col IN (…)`, and for the columns
//!   an `INSERT … VALUES` fills — [`insert`]), else primary-key
//!   reads and single-row updates on the tables the migration touches (or the largest ones).
//! - [`generator`]: a schedule per query, a fixed interval or Poisson arrivals ([`clock`]: a
//!   thread that hands each request over at its instant), latency measured from the intended
//!   start (no coordinated omission), HdrHistogram percentiles, a pool of connections per
//!   query ([`waits`]: a wait for a connection is the lock's or the generator's own limit).
//! - [`blocking`]: the long transaction, and an observer sampling `pg_locks` /
//!   `pg_blocking_pids` to name the table, the lock and the session that blocked each query.
//! - [`report`]: per-query baseline vs during, a per-100 ms timeline; [`render`]: a mermaid
//!   chart and a terminal sparkline; `verdict`: `max-blocked`, `max-p99-ratio`, `max-errors`;
//!   [`coverage`]: the tables the migration locks (seen, or as its SQL says) where no replayed
//!   query goes are NOT CHECKED.
//!
//! Writes are replayed inside a transaction that is rolled back: they take the same locks and
//! wait the same, and change no data the other checks compare.

pub mod blocking;
mod bounded;
mod check;
pub mod clock;
mod could_not_run;
pub mod coverage;
pub mod generator;
pub mod insert;
pub mod longtx;
pub mod parse;
pub mod paths;
pub mod render;
pub mod report;
pub mod rows;
pub mod sequences;
pub mod sources;
pub mod tracking;
mod verdict;
pub mod waits;
pub mod window;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::Deserialize;

pub use clock::Arrivals;

use crate::pg::PgError;
use crate::secret::Secret;

pub use check::Workload;
pub use report::{evaluate, WorkloadReport};

/// The check's name (in reports and `--json`).
pub const NAME: &str = "workload";

/// Defaults of the budgets and windows.
pub const DEFAULT_MAX_BLOCKED: Duration = Duration::from_secs(1);
pub const DEFAULT_MAX_P99_RATIO: f64 = 3.0;
pub const DEFAULT_BASELINE: Duration = Duration::from_secs(2);
/// Total rate of the queries found (not declared), per second.
pub const DEFAULT_RATE: f64 = 100.0;
/// p99 latencies below this are compared as this: under it the difference is scheduling
/// noise, not something a user feels.
pub const P99_FLOOR_MS: f64 = 50.0;
/// How long the load keeps running after the migration ended: requests issued right after it
/// (and those queued behind its locks) are part of what users feel.
pub const TAIL: Duration = Duration::from_millis(300);

/// `[checks.workload]` as written in `neon-migrate.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawWorkloadConfig {
    pub enabled: Option<bool>,
    pub required: Option<bool>,
    pub long_transaction: Option<String>,
    /// The tables the long transaction holds (default: those the migration's SQL names).
    pub long_transaction_tables: Option<Vec<String>>,
    /// `"read"` or `"write"` (default: from the locks the migration's SQL takes).
    pub long_transaction_mode: Option<String>,
    pub max_blocked: Option<String>,
    pub max_p99_ratio: Option<f64>,
    pub max_errors: Option<u64>,
    pub baseline: Option<String>,
    pub rate: Option<String>,
    pub connections: Option<u32>,
    #[serde(default)]
    pub query: Vec<RawQuery>,
    /// `"fixed"` (default) or `"poisson"`.
    pub arrivals: Option<String>,
}

/// One `[[checks.workload.query]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawQuery {
    pub name: Option<String>,
    pub sql: Option<String>,
    pub params: Option<String>,
    pub rate: Option<String>,
}

/// The validated settings of the check.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    pub enabled: bool,
    /// A run where this check could not run fails (default: shown as "not run").
    pub required: bool,
    /// Opens, before the migration starts, a transaction that reads each touched table and
    /// stays open this long.
    pub long_transaction: Option<Duration>,
    /// `long-transaction-tables`: the tables it holds, as written (empty: those the
    /// migration's SQL names, resolved in its `search_path`).
    pub long_transaction_tables: Vec<String>,
    /// `long-transaction-mode` (`None`: chosen from the locks the migration's SQL takes).
    pub long_transaction_mode: Option<longtx::LongTxMode>,
    /// Longest any query may take while the migration runs.
    pub max_blocked: Duration,
    /// Largest p99 during the migration, as a multiple of the baseline's.
    pub max_p99_ratio: f64,
    /// Errors allowed while the migration runs.
    pub max_errors: u64,
    /// The undisturbed window before the migration starts.
    pub baseline: Duration,
    /// Total rate of the queries found (not declared), per second.
    pub rate: f64,
    /// Connections of the generator in all, shared among the queries (each has its own);
    /// `None`: sized from each query's rate and `max-blocked`.
    pub connections: Option<usize>,
    pub queries: Vec<DeclaredQuery>,
    /// How each query's requests are spread in time.
    pub arrivals: Arrivals,
    /// Not written in `[checks.workload]`: the configured tool's tracking tables (from its
    /// `tracking-query`), left out as [`tracking::TOOL_TABLES`] are.
    pub tool_tables: Vec<String>,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            enabled: false,
            required: false,
            long_transaction: None,
            long_transaction_tables: Vec::new(),
            long_transaction_mode: None,
            max_blocked: DEFAULT_MAX_BLOCKED,
            max_p99_ratio: DEFAULT_MAX_P99_RATIO,
            max_errors: 0,
            baseline: DEFAULT_BASELINE,
            rate: DEFAULT_RATE,
            connections: None,
            queries: Vec::new(),
            arrivals: Arrivals::Fixed,
            tool_tables: Vec::new(),
        }
    }
}

/// A query declared in `neon-migrate.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredQuery {
    pub name: String,
    /// With `$1…` parameters.
    pub sql: String,
    /// A query whose rows supply the parameters (run on the test Neon database branch).
    pub params: Option<String>,
    /// Per second.
    pub rate: f64,
}

/// One problem in `[checks.workload]`: the key, what is wrong, how to fix it. The config
/// validator places it at the key; when the key is missing, at the `[[checks.workload.query]]`
/// entry (or table) it is missing from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigProblem {
    /// `checks.workload.max-blocked`, `checks.workload.query[2].rate`, …
    pub key: String,
    /// The whole message, naming the key.
    pub message: String,
    /// What the snippet's label says at the key.
    pub label: String,
    pub help: String,
}

fn problem(key: &str, message: impl Into<String>, help: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        key: format!("checks.workload.{key}"),
        message: message.into(),
        label: "here".into(),
        help: help.into(),
    }
}

impl ConfigProblem {
    fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
}

/// A bad rate: what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadRate(String);

/// The lowest rate accepted, per second: the rehearsal lasts seconds (the baseline window,
/// then the migration), so a query issued less often sends a request or two — no latency to
/// compare — or none at all.
pub const MIN_RATE: f64 = 1.0;

/// The help line shown with every rate error.
pub const RATE_HELP: &str =
    "write a number of queries per unit of time, at least `1/s` (`60/min`, `3600/h`): `200/s`, `1.5/s`, `6000/min`";

/// Parses `"200/s"`, `"6000/min"`, `"3600/h"` into queries per second; under [`MIN_RATE`] is
/// refused, never raised.
pub fn parse_rate(text: &str) -> Result<f64, BadRate> {
    let t = text.trim();
    let Some((n, unit)) = t.split_once('/') else {
        return Err(BadRate(format!(
            "`{t}` has no unit: a rate is a number per unit of time"
        )));
    };
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| BadRate(format!("`{}` is not a number", n.trim())))?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        other => return Err(BadRate(format!("unknown unit `/{other}` in `{t}`"))),
    };
    let rate = n / per;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(BadRate(format!("`{t}` is not a positive rate")));
    }
    if rate < MIN_RATE {
        return Err(BadRate(format!(
            "`{t}` is below 1 request per second, the least the rehearsal replays a query at: it lasts seconds (the baseline window, then the migration), so a slower query sends a request or two, or none — nothing to measure"
        )));
    }
    if rate > 100_000.0 {
        return Err(BadRate(format!(
            "`{t}` is more than 100,000 queries per second: the generator would measure itself"
        )));
    }
    Ok(rate)
}

fn duration(key: &str, text: &Option<String>, out: &mut Vec<ConfigProblem>) -> Option<Duration> {
    let t = text.as_ref()?;
    match crate::config::duration::parse(t) {
        Ok(d) => Some(d),
        Err(e) => {
            out.push(
                problem(
                    key,
                    format!("malformed duration for `checks.workload.{key}`: {e}"),
                    crate::config::duration::HELP,
                )
                .label("not a duration"),
            );
            None
        }
    }
}

/// A rate, or its problem at `key`.
fn rate(key: &str, text: &str, out: &mut Vec<ConfigProblem>) -> Option<f64> {
    match parse_rate(text) {
        Ok(r) => Some(r),
        Err(e) => {
            out.push(
                problem(key, format!("`checks.workload.{key}`: {e}"), RATE_HELP)
                    .label("not a usable rate"),
            );
            None
        }
    }
}

impl WorkloadConfig {
    /// Validates the raw settings; lists every problem at once.
    pub fn from_raw(raw: &RawWorkloadConfig) -> Result<WorkloadConfig, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let d = WorkloadConfig::default();
        let long_transaction = duration("long-transaction", &raw.long_transaction, &mut problems);
        if long_transaction.is_some_and(|l| l.is_zero() || l > Duration::from_secs(600)) {
            problems.push(problem(
                "long-transaction",
                "`checks.workload.long-transaction` must be between 1ms and 10m",
                "a few seconds is enough to show the lock queue: `long-transaction = \"3s\"`",
            ));
        }
        let (long_transaction_tables, long_transaction_mode) = longtx::settings(raw, &mut problems);
        let max_blocked = duration("max-blocked", &raw.max_blocked, &mut problems);
        if max_blocked.is_some_and(|m| m.is_zero()) {
            problems.push(problem(
                "max-blocked",
                "`checks.workload.max-blocked` must be more than 0: it is the longest any replayed query may take while the migration runs, and every request takes some time, so every run would fail",
                "write the longest wait users may feel, like `max-blocked = \"1s\"` (the default) or `max-blocked = \"200ms\"`",
            ).label("must be > 0"));
        }
        let baseline = duration("baseline", &raw.baseline, &mut problems);
        if baseline.is_some_and(|b| b < Duration::from_millis(200) || b > Duration::from_secs(600))
        {
            problems.push(problem(
                "baseline",
                "`checks.workload.baseline` must be between 200ms and 10m",
                "the default `2s` measures a few hundred requests before the migration starts",
            ));
        }
        let ratio = raw.max_p99_ratio.unwrap_or(d.max_p99_ratio);
        if !ratio.is_finite() || ratio < 1.0 {
            problems.push(problem(
                "max-p99-ratio",
                format!("`checks.workload.max-p99-ratio` must be a finite number ≥ 1, not {ratio}: it is the most the p99 during the migration may be, as a multiple of the baseline's (1: no slower at all)"),
                "write a number ≥ 1, like `max-p99-ratio = 3.0` (the default)",
            ).label("not a finite number ≥ 1"));
        }
        let rate = raw
            .rate
            .as_ref()
            .and_then(|r| rate("rate", r, &mut problems));
        let connections = raw.connections.map(|c| c as usize);
        if connections.is_some_and(|c| c == 0 || c > 100) {
            problems.push(problem(
                "connections",
                "`checks.workload.connections` must be between 1 and 100",
                "leave it out to size each query's connections from its rate and `max-blocked`",
            ));
        }
        let queries = declared(&raw.query, &mut problems);
        if let Some(c) = connections.filter(|c| *c >= 1 && *c < queries.len()) {
            problems.push(problem(
                "connections",
                format!("`checks.workload.connections = {c}` is fewer than the {} queries declared under [[checks.workload.query]]: each query has connections of its own (so that one blocked query never holds another's), at least one each", queries.len()),
                format!("write `connections = {}` or more, or leave it out to size each query's connections from its rate and `max-blocked`", queries.len()),
            ).label("fewer than the queries"));
        }
        off_with_settings(raw, &mut problems);
        let arrivals = match raw.arrivals.as_deref().map(str::trim) {
            None | Some("fixed") => Arrivals::Fixed,
            Some("poisson") => Arrivals::Poisson,
            Some(other) => {
                problems.push(problem(
                    "arrivals",
                    format!("`checks.workload.arrivals`: `{other}` is not a schedule"),
                    "write `arrivals = \"fixed\"` (one request every 1/rate, the default) or `arrivals = \"poisson\"` (random gaps with the same mean, as `pgbench --rate`)",
                ));
                Arrivals::Fixed
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(WorkloadConfig {
            enabled: raw.enabled.unwrap_or(d.enabled),
            required: raw.required.unwrap_or(d.required),
            long_transaction,
            long_transaction_tables,
            long_transaction_mode,
            max_blocked: max_blocked.unwrap_or(d.max_blocked),
            max_p99_ratio: ratio,
            max_errors: raw.max_errors.unwrap_or(d.max_errors),
            baseline: baseline.unwrap_or(d.baseline),
            rate: rate.unwrap_or(d.rate),
            connections,
            queries,
            arrivals,
            tool_tables: Vec::new(),
        })
    }

    /// Connections of each query (`rates`: per query, per second), a pool of its own each.
    /// Sized so that the query alone keeps sending while its requests are blocked up to
    /// `max-blocked`: `rate × max-blocked + 1`, between [`MIN_PER_QUERY`] and
    /// [`MAX_PER_QUERY`], [`MAX_CONNECTIONS`] in all (shared in proportion when more are
    /// wanted); with `connections`, that total is shared the same way, at least one each.
    pub fn pool_sizes(&self, rates: &[f64]) -> Vec<usize> {
        let want: Vec<usize> = rates
            .iter()
            .map(|r| {
                let n = (r.max(0.0) * self.max_blocked.as_secs_f64()).ceil() as usize + 1;
                n.clamp(MIN_PER_QUERY, MAX_PER_QUERY)
            })
            .collect();
        match self.connections {
            Some(total) => share(total, &want, 1),
            None if want.iter().sum::<usize>() > MAX_CONNECTIONS => {
                share(MAX_CONNECTIONS, &want, MIN_PER_QUERY)
            }
            None => want,
        }
    }
}

/// Settings or queries under `[checks.workload]` with no `enabled`: the check is off by
/// default, so they would do nothing and the run would pass without it. (With `required`,
/// the config's "required without enabled" error says so already; `enabled = false` is a
/// choice.)
fn off_with_settings(raw: &RawWorkloadConfig, problems: &mut Vec<ConfigProblem>) {
    if raw.enabled.is_some() || raw.required.is_some() {
        return;
    }
    let keys = [
        ("long-transaction", raw.long_transaction.is_some()),
        (
            "long-transaction-tables",
            raw.long_transaction_tables.is_some(),
        ),
        ("long-transaction-mode", raw.long_transaction_mode.is_some()),
        ("max-blocked", raw.max_blocked.is_some()),
        ("max-p99-ratio", raw.max_p99_ratio.is_some()),
        ("max-errors", raw.max_errors.is_some()),
        ("baseline", raw.baseline.is_some()),
        ("rate", raw.rate.is_some()),
        ("connections", raw.connections.is_some()),
        ("arrivals", raw.arrivals.is_some()),
    ];
    let mut set: Vec<String> = keys
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| format!("`{k}`"))
        .collect();
    if !raw.query.is_empty() {
        set.push(format!(
            "{} [[checks.workload.query]] entr{}",
            raw.query.len(),
            if raw.query.len() == 1 { "y" } else { "ies" }
        ));
    }
    let Some(last) = set.pop() else { return };
    let set = match set.is_empty() {
        true => last,
        false => format!("{} and {last}", set.join(", ")),
    };
    problems.push(
        problem(
            "enabled",
            format!(
                "[checks.workload] sets {set} but not `enabled = true`: the workload check is off by default, so it would not run at all and the run would pass without it"
            ),
            "add `enabled = true` under [checks.workload] (or remove the section)",
        )
        .label("settings, but the check is off"),
    );
}

/// How a `[[checks.workload.query]]` entry is named in a message: its `name`, else its place.
fn entry(i: usize, name: &str) -> String {
    if name.trim().is_empty() {
        format!("`[[checks.workload.query]]` #{}", i + 1)
    } else {
        // Control characters are written escaped: the name is refused for them, in a message.
        format!(
            "`[[checks.workload.query]]` `{}`",
            crate::schema::comment_text(name)
        )
    }
}

/// Fewest and most connections a query gets by default, and most in all.
pub const MIN_PER_QUERY: usize = 2;
pub const MAX_PER_QUERY: usize = 16;
pub const MAX_CONNECTIONS: usize = 32;

/// `total` shared: `min` each, the rest in proportion to what each wants beyond it (largest
/// remainders first) — never more than `total`, unless there are more than `total / min`
/// queries (then `min` each: the rehearsal refuses that many by default, see
/// `could_not_run::check_cap`).
fn share(total: usize, want: &[usize], min: usize) -> Vec<usize> {
    if want.len() * min >= total {
        return vec![min; want.len()];
    }
    let rest = total - want.len() * min;
    let extra: Vec<usize> = want.iter().map(|w| w.saturating_sub(min)).collect();
    let sum: usize = extra.iter().sum::<usize>().max(1);
    let exact: Vec<f64> = extra
        .iter()
        .map(|w| rest as f64 * *w as f64 / sum as f64)
        .collect();
    let mut out: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut left = rest.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..want.len()).collect();
    order.sort_by(|a, b| (exact[*b] - out[*b] as f64).total_cmp(&(exact[*a] - out[*a] as f64)));
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out.into_iter().map(|n| n + min).collect()
}

fn declared(raw: &[RawQuery], problems: &mut Vec<ConfigProblem>) -> Vec<DeclaredQuery> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for (i, q) in raw.iter().enumerate() {
        let key = |k: &str| format!("query[{i}].{k}");
        let name = q.name.clone().unwrap_or_default();
        let this = entry(i, &name);
        // A key left out is reported at the entry's header (the validator's fallback), with
        // the key named; a key written empty, at the key.
        let missing = |k: &str, help: &str| {
            problem(&key(k), format!("{this} has no `{k}`"), help)
                .label(format!("no `{k}` in this entry"))
        };
        let empty =
            |k: &str, help: &str| problem(&key(k), format!("{this} has an empty `{k}`"), help);
        let name_help = "add `name = \"read-account\"`: findings and the report name the query";
        match &q.name {
            None => problems.push(missing("name", name_help)),
            Some(n) if n.trim().is_empty() => problems.push(empty("name", name_help)),
            Some(n) if n.chars().any(crate::schema::unprintable) => problems.push(problem(
                &key("name"),
                format!(
                    "{} has a control character (a line break, tab, escape, or an invisible or text-direction mark such as U+202E) in its `name`",
                    entry(i, n)
                ),
                "write the name on one line with printable characters only: `name = \"read account\"` (it is printed in the terminal, the Markdown summary and GitHub Actions annotations)",
            )),
            Some(_) if !names.insert(name.clone()) => problems.push(problem(
                &key("name"),
                format!("{this} is declared twice"),
                "give each [[checks.workload.query]] its own name",
            )),
            Some(_) => {}
        }
        let sql = q.sql.clone().unwrap_or_default();
        let sql_help = "add the statement to replay, with `$1…` for its parameters: `sql = \"SELECT id, email FROM accounts WHERE id = $1\"`";
        match &q.sql {
            None => problems.push(missing("sql", sql_help)),
            Some(s) if s.trim().is_empty() => problems.push(empty("sql", sql_help)),
            Some(_) => {}
        }
        let n = sources::max_param(&sql);
        if n > 0 && q.params.as_deref().is_none_or(|p| p.trim().is_empty()) {
            problems.push(problem(
                &key("params"),
                format!("{this}: the statement has {n} parameter(s) and no `params` query supplies them"),
                "add `params = \"SELECT id FROM accounts TABLESAMPLE SYSTEM (1) LIMIT 500\"`: its rows fill $1…",
            ).label("nothing supplies $1…"));
        }
        let rate = match &q.rate {
            Some(r) => rate(&key("rate"), r, problems).unwrap_or(0.0),
            None => {
                problems.push(missing(
                    "rate",
                    "add `rate = \"200/s\"` (at least `1/s`): requests are issued on that schedule",
                ));
                0.0
            }
        };
        out.push(DeclaredQuery {
            name,
            sql,
            params: q.params.clone().filter(|p| !p.trim().is_empty()),
            rate,
        });
    }
    out
}

/// Why the rehearsal could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("cannot connect the workload to the test Neon database branch: {0}")]
    Connect(#[source] PgError),
    #[error("{context}: {message}")]
    Db { context: String, message: String },
    #[error("query `{name}`: {message}")]
    Query { name: String, message: String },
    #[error("nothing to replay: {0}")]
    Nothing(String),
    #[error("the workload generator stopped: {0}")]
    Stopped(String),
    /// Too few connections for the queries (the default cap, the server's free slots):
    /// what is missing and how to fix it.
    #[error("{what}")]
    Capacity { what: String, fix: String },
}

impl WorkloadError {
    pub(crate) fn db(context: impl Into<String>, e: &tokio_postgres::Error) -> Self {
        WorkloadError::Db {
            context: context.into(),
            message: crate::pg::describe(e),
        }
    }
}

/// What the migration is: where it runs and which tables its SQL names.
pub struct Target<'a> {
    /// The test Neon database branch.
    pub url: &'a Secret<String>,
    /// The parent (main) Neon database branch, read for its `pg_stat_statements` only (on
    /// Neon: the test Neon database branch's own compute starts with empty statistics).
    pub parent_url: Option<&'a Secret<String>>,
    /// The parent's database name, when its `pg_stat_statements` is read through the test
    /// Neon database branch's server (the local provider: one server, one cluster-wide view,
    /// and no session on the parent, which would block template copies).
    pub parent_database: Option<&'a str>,
    /// The SQL of the pending migrations, when known (files, the tool's print-SQL mode).
    pub pending_sql: Option<&'a str>,
    /// Why the parent could not be reached for its `pg_stat_statements` (the `neon` provider
    /// could not give its connection URI), shown in the report's notes.
    pub parent_error: Option<&'a str>,
}

/// A rehearsal in progress: baseline measured, load running, the migration may start.
pub struct Rehearsal {
    plan: sources::Plan,
    coverage: generator::Coverage,
    running: generator::Running,
    observer: blocking::Observer,
    long_tx: Option<blocking::LongTransaction>,
    started: Instant,
    /// A session of ours reading the table statistics, and the rows updated or deleted so far
    /// when the migration started ([`rows`]).
    stats: Option<(tokio_postgres::Client, Option<rows::Counts>)>,
}

impl Rehearsal {
    /// Finds the queries, connects the pool and the observer, runs the baseline window, opens
    /// the long transaction; returns when the migration may start. Every connection is opened
    /// here, before the migration tool starts (none of them counts as one of the tool's).
    pub async fn start(cfg: &WorkloadConfig, target: &Target<'_>) -> Result<Self, WorkloadError> {
        let mut plan = sources::plan(cfg, target).await?;
        let rates: Vec<f64> = plan.queries.iter().map(|q| q.rate).collect();
        could_not_run::check_cap(cfg, rates.len())?;
        let sizes = cfg.pool_sizes(&rates);
        if let Some(c) = cfg.connections.filter(|c| *c < sizes.len()) {
            // Declared queries are refused below one each (`from_raw`); found ones are
            // counted only now.
            plan.notes.push(format!(
                "`connections = {c}` is fewer than the {} queries found: each query has a connection of its own, so {} were opened",
                sizes.len(),
                sizes.iter().sum::<usize>()
            ));
        }
        // Every session of the rehearsal: the queries' pools, the observer, the long transaction.
        let pools: usize = sizes.iter().sum();
        let needed = pools + 1 + usize::from(cfg.long_transaction.is_some());
        could_not_run::check_slots(target.url, pools, needed).await?;
        let pool = generator::Pool::connect(target.url, &sizes, &plan.queries).await?;
        let pids = pool.pids();
        let mut coverage = pool.coverage(&plan.queries).await;
        if let (Some(sql), Some(client)) = (target.pending_sql, pool.client()) {
            coverage.migration_sql = Some(coverage::sql_locks(client, sql).await);
        }
        if let Some(client) = pool.client() {
            coverage.sequences = sequences::users(client).await;
        }
        let stats = blocking::own_session(target.url, "neon-migrate workload row counter")
            .await
            .ok()
            .map(|(c, _)| c);
        let long_tx = match cfg.long_transaction {
            Some(hold) => {
                let tables = match (cfg.long_transaction_tables.is_empty(), pool.client()) {
                    (false, Some(c)) => {
                        longtx::named_tables(c, &cfg.long_transaction_tables).await?
                    }
                    _ => plan.tables.clone(),
                };
                let sql = coverage.migration_sql.as_deref();
                let mode = longtx::mode(cfg.long_transaction_mode, sql);
                plan.notes
                    .extend(longtx::chosen_note(cfg.long_transaction_mode, sql));
                Some(blocking::LongTransaction::connect(target.url, &tables, hold, mode).await?)
            }
            None => None,
        };
        let started = Instant::now();
        let observer =
            blocking::Observer::start(target.url, started, pids, long_tx.as_ref().map(|l| l.pid()))
                .await?;
        let running = generator::Running::start(pool, plan.queries.clone(), started, cfg.arrivals);
        tokio::time::sleep(cfg.baseline).await;
        let mut long_tx = long_tx;
        if let Some(l) = &mut long_tx {
            l.open().await?;
        }
        let stats = match stats {
            Some(c) => {
                let before = rows::counts(&c).await;
                Some((c, before))
            }
            None => None,
        };
        running.mark_migration_start();
        Ok(Rehearsal {
            plan,
            coverage,
            running,
            observer,
            long_tx,
            started,
            stats,
        })
    }

    /// Call when the migration ended: keeps the load on for [`TAIL`] (longer for a slow query:
    /// [`window::tail`]), stops it, waits for the requests in flight, and returns what was
    /// measured.
    pub async fn finish(self) -> Result<WorkloadReport, WorkloadError> {
        let ended = Instant::now();
        tokio::time::sleep(window::tail(&self.plan.queries)).await;
        let recorded = self.running.finish(ended).await?;
        let long = match self.long_tx {
            Some(l) => Some(l.finish(self.started).await?),
            None => None,
        };
        let mut seen = self.observer.finish().await?;
        // A session still holding a lock well after the tool exited is not the migration's run.
        seen.mark_outlived(recorded.migration_end_us);
        let windows = window::measure(&self.coverage, &recorded, &seen, &self.plan.queries);
        let mut coverage = self.coverage;
        coverage.sequence_locks = sequences::locked(&seen, &coverage.sequences);
        coverage.rows_met = rows::met(&seen);
        if let Some((client, Some(before))) = &self.stats {
            coverage.rows_changed = rows::counts(client)
                .await
                .map(|after| rows::changed(before, &after));
        }
        let mut report = report::build(&self.plan, recorded, seen, long);
        report.coverage = coverage;
        report.windows = windows;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `toml` as the body of `[checks.workload]`, `enabled = true` added unless it says.
    fn parse(toml: &str) -> Result<WorkloadConfig, Vec<ConfigProblem>> {
        let text = if toml.contains("enabled") {
            toml.to_owned()
        } else {
            format!("enabled = true\n{toml}")
        };
        let raw: RawWorkloadConfig = toml::from_str(&text).expect("toml");
        WorkloadConfig::from_raw(&raw)
    }

    #[test]
    fn defaults_are_sensible() {
        let c = WorkloadConfig::from_raw(&RawWorkloadConfig::default()).unwrap();
        assert!(!c.enabled);
        assert_eq!(c.max_blocked, Duration::from_secs(1));
        assert_eq!(c.max_p99_ratio, 3.0);
        assert_eq!(c.max_errors, 0);
        assert_eq!(c.baseline, Duration::from_secs(2));
    }

    #[test]
    fn each_query_gets_connections_for_its_rate_over_max_blocked() {
        let c = parse("").unwrap();
        // 1 s of 10/s blocked: 11; of 100/s: 101, at most 16; at least 2.
        assert_eq!(c.pool_sizes(&[10.0, 100.0, 0.1]), [11, 16, 2]);
        // 32 in all: shared in proportion, at least 2 each.
        assert_eq!(c.pool_sizes(&[500.0, 500.0, 500.0]), [11, 11, 10]);
        // Never over the cap while 2 each fit (a query wanting 2 takes no one's share):
        // 16 + 15 × 2 wanted, 32 given; more than 16 queries are refused by the rehearsal.
        let mixed: Vec<f64> = [100.0].into_iter().chain([1.0; 15]).collect();
        assert_eq!(c.pool_sizes(&mixed), [2; 16]);
        let mixed: Vec<f64> = [100.0].into_iter().chain([10.0; 10]).collect();
        let sizes = c.pool_sizes(&mixed);
        assert_eq!(sizes.iter().sum::<usize>(), MAX_CONNECTIONS, "{sizes:?}");
        assert!(sizes.iter().all(|n| *n >= MIN_PER_QUERY), "{sizes:?}");
        assert_eq!(c.pool_sizes(&[1000.0; 20]), [2; 20]);
        let c = parse("max-blocked = \"100ms\"").unwrap();
        assert_eq!(c.pool_sizes(&[100.0, 20.0]), [11, 3]);
        // `connections`: the total, shared the same way, one each at least.
        let c = parse("connections = 8").unwrap();
        assert_eq!(c.pool_sizes(&[100.0]), [8]);
        assert_eq!(c.pool_sizes(&[100.0, 100.0]), [4, 4]);
        assert_eq!(c.pool_sizes(&[1.0; 10]), [1; 10]);
    }

    #[test]
    fn every_problem_is_listed_with_its_key() {
        let e = parse(
            r#"
long-transaction = "3"
max-p99-ratio = 0.5
rate = "fast"
[[query]]
name = "q"
sql = "SELECT * FROM t WHERE id = $1"
rate = "200"
[[query]]
name = "q"
sql = "SELECT 1"
rate = "10/s"
"#,
        )
        .unwrap_err();
        let keys: Vec<&str> = e.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "checks.workload.long-transaction",
                "checks.workload.max-p99-ratio",
                "checks.workload.rate",
                "checks.workload.query[0].params",
                "checks.workload.query[0].rate",
                "checks.workload.query[1].name",
            ]
        );
        assert!(e.iter().all(|p| !p.help.is_empty()));
    }

    #[test]
    fn a_query_name_with_control_characters_is_refused_and_shown_escaped() {
        let e = parse(
            "[[query]]\nname = \"rd\\n::warning::x\\u001b[2J\"\nsql = \"SELECT 1\"\nrate = \"10/s\"\n",
        )
        .unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].key, "checks.workload.query[0].name");
        assert!(e[0].message.contains("control character"), "{e:?}");
        assert!(
            e[0].message.contains("`rd\\n::warning::x\\u{1b}[2J`"),
            "{}",
            e[0].message
        );
        assert!(!e[0].message.chars().any(char::is_control), "{e:?}");
        // Invisible and text-direction marks spoof a report as control characters do.
        for mark in ["\\u202E", "\\u2028", "\\u200B", "\\u2066"] {
            let e = parse(&format!(
                "[[query]]\nname = \"rd{mark}x\"\nsql = \"SELECT 1\"\nrate = \"10/s\"\n"
            ))
            .unwrap_err();
            assert!(e[0].message.contains("control character"), "{mark}: {e:?}");
            assert!(
                !e[0].message.chars().any(crate::schema::unprintable),
                "{mark}: {e:?}"
            );
        }
    }

    #[test]
    fn arrivals_are_fixed_unless_poisson_is_asked_for() {
        assert_eq!(parse("").unwrap().arrivals, Arrivals::Fixed);
        assert_eq!(
            parse("arrivals = \"poisson\"").unwrap().arrivals,
            Arrivals::Poisson
        );
        let e = parse("arrivals = \"bursty\"").unwrap_err();
        assert_eq!(e[0].key, "checks.workload.arrivals");
        assert!(e[0].help.contains("poisson"), "{}", e[0].help);
    }

    #[test]
    fn rates_read_like_the_docs() {
        assert_eq!(parse_rate("200/s").unwrap(), 200.0);
        assert_eq!(parse_rate("90/min").unwrap(), 1.5);
        assert_eq!(parse_rate("1/s").unwrap(), 1.0);
        // Below 1/s: refused, never raised.
        for slow in ["30/min", "0.5/s", "1000/h", "0.999/s"] {
            let e = parse_rate(slow).unwrap_err();
            assert!(e.0.contains("below 1 request per second"), "{slow}: {e}");
        }
        assert!(parse_rate("200").is_err());
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("5/fortnight").is_err());
    }

    /// From an outside attacker: settings and queries under `[checks.workload]` without
    /// `enabled = true` passed `neon-migrate check`, and every run skipped the check.
    #[test]
    fn settings_without_enabled_are_refused() {
        let raw = |toml: &str| -> RawWorkloadConfig { toml::from_str(toml).expect("toml") };
        let e = WorkloadConfig::from_raw(&raw(
            "max-blocked = \"50ms\"\n[[query]]\nname = \"q\"\nsql = \"SELECT 1\"\nrate = \"1/s\"\n",
        ))
        .unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].key, "checks.workload.enabled");
        assert!(
            e[0].message.contains("`max-blocked`")
                && e[0].message.contains("1 [[checks.workload.query]] entry")
                && e[0].message.contains("would not run at all"),
            "{}",
            e[0].message
        );
        assert!(
            e[0].help.contains("`enabled = true`") && e[0].help.contains("remove the section"),
            "{}",
            e[0].help
        );
        // Queries alone, too.
        let e = WorkloadConfig::from_raw(&raw(
            "[[query]]\nname = \"q\"\nsql = \"SELECT 1\"\nrate = \"1/s\"\n",
        ))
        .unwrap_err();
        assert_eq!(e[0].key, "checks.workload.enabled", "{e:?}");
        // Said on or off, or only `required` (its own error): no such problem.
        assert!(WorkloadConfig::from_raw(&raw("enabled = false\nmax-blocked = \"50ms\"")).is_ok());
        assert!(WorkloadConfig::from_raw(&raw("enabled = true\nmax-blocked = \"50ms\"")).is_ok());
        assert!(WorkloadConfig::from_raw(&raw("required = true")).is_ok());
        assert!(WorkloadConfig::from_raw(&raw("")).is_ok());
    }

    /// From an outside attacker: `max-blocked = "0s"` was accepted, and every run failed.
    #[test]
    fn max_blocked_of_zero_is_refused() {
        for zero in ["0s", "0ms", "0h0m"] {
            let Err(e) = parse(&format!("max-blocked = \"{zero}\"")) else {
                panic!("{zero} accepted");
            };
            assert_eq!(e.len(), 1, "{zero}: {e:?}");
            assert_eq!(e[0].key, "checks.workload.max-blocked");
            assert!(e[0].message.contains("must be more than 0"), "{e:?}");
        }
        assert_eq!(
            parse("max-blocked = \"1ms\"").unwrap().max_blocked,
            Duration::from_millis(1)
        );
    }

    /// From an outside attacker: `connections = 1` with two queries was raised to 2 without a
    /// word (each query has connections of its own). It is refused, with the least accepted.
    #[test]
    fn fewer_connections_than_declared_queries_are_refused() {
        let two = "[[query]]\nname = \"a\"\nsql = \"SELECT 1\"\nrate = \"5/s\"\n\
                   [[query]]\nname = \"b\"\nsql = \"SELECT 2\"\nrate = \"5/s\"\n";
        let e = parse(&format!("connections = 1\n{two}")).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].key, "checks.workload.connections");
        assert!(
            e[0].message.contains("fewer than the 2 queries declared"),
            "{}",
            e[0].message
        );
        assert!(e[0].help.contains("`connections = 2`"), "{}", e[0].help);
        let c = parse(&format!("connections = 2\n{two}")).unwrap();
        assert_eq!(c.pool_sizes(&[5.0, 5.0]), [1, 1]);
    }
}

//! `locks`: what the migration really locked, and for how long, on production-sized data.
//!
//! While the migration runs on the test Neon database branch, a sidecar connection samples
//! `pg_locks` joined with `pg_stat_activity` every `sample-interval` (20 ms by default) and
//! records, per table, each continuous episode of each lock mode. Rewrites are detected
//! exactly: a table whose `relfilenode` changed was rewritten. Budgets turn the
//! measurements into verdicts: an ACCESS EXCLUSIVE lock held longer than its budget fails.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use super::workload::parse;
use super::CheckStatus;
use super::{lock_name, Check, CheckResult, Evaluation, Finding, Observations, QueryError};
use super::{RecordError, Recording, Severity, LOCK_MODES};
use crate::config::{Config, LocksCheck, ToolKind};
use crate::pg;
use crate::secret::Secret;
use crate::tools::ToolContext;

const NAME: &str = "locks";

/// `[checks.locks]`: a sampler runs beside the migration; its report is kept in
/// [`Observations::locks`] (lint and schema read the rewrites too).
pub struct Locks {
    /// The sidecar's connection, opened in the background while the other checks record what
    /// they compare against: its start then adds one round trip to the stage, not a connect.
    connecting: Option<JoinHandle<Result<Connected, QueryError>>>,
    sampler: Option<Sampler>,
}

impl Drop for Locks {
    fn drop(&mut self) {
        if let Some(c) = self.connecting.take() {
            c.abort();
        }
    }
}

impl Locks {
    pub fn new(config: &Config) -> Option<Self> {
        config.checks.locks.enabled.then_some(Locks {
            connecting: None,
            sampler: None,
        })
    }
}

#[async_trait::async_trait]
impl Check for Locks {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        let url = cx.tool.target.url.clone();
        self.connecting = Some(tokio::spawn(async move { Sampler::connect(&url).await }));
        Ok(())
    }

    async fn start(
        &mut self,
        cx: &ToolContext<'_>,
        _obs: &Observations,
    ) -> Result<(), RecordError> {
        let interval = cx.config.checks.locks.sample_interval;
        let failed = |e: SamplerError| RecordError::Before {
            what: "the locks the migration takes",
            target: cx.target.name.clone(),
            source: e.into(),
        };
        let connected = match self.connecting.take() {
            Some(handle) => handle.await.map_err(|e| failed(SamplerError::Task(e)))?,
            None => Sampler::connect(&cx.target.url).await,
        };
        let sampler = connected
            .map_err(|e| failed(e.into()))?
            .begin(interval)
            .await
            .map_err(|e| failed(e.into()))?;
        self.sampler = Some(sampler);
        Ok(())
    }

    async fn stop(&mut self, obs: &mut Observations) -> Result<(), RecordError> {
        let Some(sampler) = self.sampler.take() else {
            return Ok(());
        };
        let report = sampler.finish().await.map_err(|e| RecordError::During {
            what: "the lock sampler",
            source: e.into(),
        })?;
        obs.locks = Some(report);
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let Some(report) = &cx.obs.locks else {
            return Some(CheckResult::not_run(
                NAME,
                "no lock samples were recorded (no migrate stage in this run)",
            ));
        };
        let sql = migration_sql(cx);
        Some(judge(report, &cx.config().checks.locks, sql.as_deref()))
    }
}

/// The check's result from what the sampler saw; `sql`: the migration's, when known.
pub fn judge(report: &LockReport, cfg: &LocksCheck, sql: Option<&str>) -> CheckResult {
    let (findings, mut details) = evaluate(report, cfg);
    if report.samples == 0 {
        return CheckResult::not_run(
            NAME,
            format!(
                "the lock sampler took no sample ({} failed): nothing says what the migration locked",
                report.failed_samples
            ),
        );
    }
    // Locks the migration's statements are known to take on tables that existed before, and
    // that no sample saw: not observed, which is not "none".
    let unseen = sql.map(|s| not_observed(report, s)).unwrap_or_default();
    for (table, mode, statement) in &unseen {
        details.push(format!(
            "{table}: {} expected from `{statement}`, not observed: held for less than the gaps between samples (longest {} ms), so for an unknown time, not none",
            mode.map_or_else(|| "a table lock".to_owned(), lock_name),
            report.longest_gap_ms
        ));
    }
    // Indexes locked (rebuilt, reindexed, dropped) are listed in the details.
    let tables = report
        .held_ms
        .keys()
        .filter(|k| !k.starts_with("index ") && !k.starts_with("sequence "))
        .count();
    let mut summary = if tables == 0 {
        // Nothing seen is not "nothing locked": a lock held between two samples is missed.
        format!(
            "no table lock observed (sampled every {} ms; shorter locks are not seen)",
            report.interval_ms
        )
    } else {
        format!("{tables} table(s) locked")
    };
    if !unseen.is_empty() {
        let list: Vec<String> = unseen
            .iter()
            .map(|(t, m, _)| {
                format!(
                    "{} on {t}",
                    m.map_or_else(|| "a table lock".to_owned(), lock_name)
                )
            })
            .collect();
        summary.push_str(&format!("; expected, not observed: {}", list.join(", ")));
    }
    summary.push_str(&format!(", {} rewritten", report.rewrites.len()));
    if let Some(b) = finest_budget(cfg).filter(|b| *b < 2 * report.interval_ms) {
        details.push(format!(
            "the budget ({b} ms) is finer than the sampling (every {} ms): only the locks seen are held to it",
            report.interval_ms
        ));
    }
    let mut result = CheckResult::from_findings(NAME, summary, findings, details);
    if let Some(why) = unproven(report, cfg) {
        if result.status == CheckStatus::Passed {
            result.status = CheckStatus::NotRun;
            result.summary = format!("NOT RUN: {why}; {}", result.summary);
        }
    }
    result
}

/// Why a pass would prove nothing: the sampler went longer without a sample than the budget it
/// holds locks to (a lock over the budget could have started and ended in between) — also
/// when the budget is finer than the sampling itself (`1ms` at every 20 ms, or a `sample-interval`
/// coarser than the budget: attack11 A7 passed a 0.9 s lock at every 1.5 s). A run that saw a
/// lock over its budget fails whatever the gaps.
fn unproven(report: &LockReport, cfg: &LocksCheck) -> Option<String> {
    let budget = finest_budget(cfg)?;
    (report.longest_gap_ms >= budget).then(|| {
        format!(
            "the lock sampler went {} ms without a sample ({} failed), longer than the {budget} ms budget: a lock over the budget could have been missed",
            report.longest_gap_ms, report.failed_samples
        )
    })
}

/// The smallest budget a lock is held to, in ms.
fn finest_budget(cfg: &LocksCheck) -> Option<u64> {
    cfg.tables
        .values()
        .copied()
        .chain([cfg.access_exclusive_budget])
        .min()
        .map(|b| b.as_millis() as u64)
}

/// The SQL of the migrations applied in this run, when known: the built-in tool's files, else
/// the tool's print-SQL output.
fn migration_sql(cx: &Evaluation<'_>) -> Option<String> {
    if let ToolKind::Sql { migrations_dir } = &cx.config().tool.kind {
        let texts: Option<Vec<String>> = cx
            .obs
            .applied
            .iter()
            .map(|f| std::fs::read_to_string(migrations_dir.join(f)).ok())
            .collect();
        return texts.map(|t| t.join("\n;\n"));
    }
    match &cx.obs.pending_sql {
        Some(Ok(text)) => Some(text.clone()),
        _ => None,
    }
}

/// `schema.table` as the sampler writes it (`quote_ident`), unquoted.
fn unquoted(name: &str) -> Option<(String, String)> {
    match parse::plain_name(name)? {
        (Some(schema), table) => Some((schema, table)),
        (None, _) => None,
    }
}

/// Locks the statements in `sql` are known to take on tables that existed before the
/// migration, that no sample saw on that table: (table, mode, statement), each table once.
fn not_observed(report: &LockReport, sql: &str) -> Vec<(String, Option<&'static str>, String)> {
    let seen: BTreeSet<(String, String)> =
        report.held_ms.keys().filter_map(|k| unquoted(k)).collect();
    let mut out: Vec<(String, Option<&'static str>, String)> = Vec::new();
    for e in parse::expected_locks(sql) {
        let key = (e.schema.unwrap_or_else(|| "public".into()), e.table);
        if !report.tables_before.contains(&key) || seen.contains(&key) {
            continue;
        }
        let name = format!(
            "{}.{}",
            crate::schema::names::quote_ident(&key.0),
            crate::schema::names::quote_ident(&key.1)
        );
        match out.iter_mut().find(|o| o.0 == name) {
            // The strongest mode expected, once per table.
            Some(o) => {
                if e.mode.map_or(0, rank) > o.1.map_or(0, rank) {
                    o.1 = e.mode;
                    o.2 = e.statement;
                }
            }
            None => out.push((name, e.mode, e.statement)),
        }
    }
    out
}

/// Why the sampler failed.
#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    /// A query of the sampler failed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The sampling task itself failed.
    #[error("the lock sampler failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// What the sampler saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LockReport {
    /// Table → lock mode → longest continuous episode, in ms (at least one interval).
    pub held_ms: BTreeMap<String, BTreeMap<String, u64>>,
    /// Tables whose physical file changed: rewritten.
    pub rewrites: BTreeSet<String>,
    /// The slowest statements seen running, with their duration in ms.
    pub statements: Vec<(String, u64)>,
    pub samples: u64,
    pub interval_ms: u64,
    /// Time spent waiting for samples, in ms: the sampler's own load on the server.
    pub busy_ms: u64,
    /// The longest stretch the sampler went without a sample, in ms, from its start to its
    /// stop (a failed sample counts as none): a lock shorter than this can have been missed.
    pub longest_gap_ms: u64,
    /// Samples whose query failed.
    pub failed_samples: u64,
    /// Tables that existed when sampling started, as unquoted (schema, name).
    #[serde(skip)]
    pub tables_before: BTreeSet<(String, String)>,
    /// Tables that existed before whose definition (columns, constraints, indexes, triggers,
    /// rules, policies, options, privileges) differs after, as in `held_ms`: what the
    /// migration changed, whether or not a sample caught its lock.
    #[serde(skip)]
    pub changed: BTreeSet<String>,
    /// The tables' definitions were read before and after (`changed` is known).
    #[serde(skip)]
    pub compared: bool,
    /// Locks still held after the migration tool exited, by sessions that outlived it: their
    /// time in `held_ms` ends at the tool's exit, not at their release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outlived: Vec<OutlivedLock>,
    /// Materialized views among `held_ms`: nothing writes one but REFRESH, so locks that
    /// block writes (a concurrent refresh's EXCLUSIVE) block no one.
    #[serde(skip)]
    pub materialized: BTreeSet<String>,
}

/// A lock still held after the migration tool exited, by a session that outlived it (one it
/// left in the background, or a statement its backend kept running).
#[derive(Debug, Clone, Serialize)]
pub struct OutlivedLock {
    /// As in `held_ms`.
    pub table: String,
    pub mode: String,
    /// The session's statement.
    pub statement: String,
    /// How long it was seen holding the lock until the sampler stopped, ms.
    pub seen_ms: u64,
}

/// How long after the stop a lock seen at the stop must still be held to count as a session's
/// that outlived the tool (the tool's own backends end as it exits).
const OUTLIVED_SETTLE: Duration = Duration::from_millis(50);

const SAMPLE: &str = r#"
SELECT CASE c.relkind WHEN 'i' THEN 'index ' WHEN 'I' THEN 'index ' WHEN 'S' THEN 'sequence ' ELSE '' END
         || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
         || CASE WHEN c.relkind IN ('i', 'I') THEN ' on ' || i.indrelid::regclass::text
                 WHEN c.relkind = 'S' THEN coalesce(' feeding ' || (
                   SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname)
                     FROM pg_depend d
                     JOIN pg_class t ON t.oid = d.refobjid
                     JOIN pg_namespace tn ON tn.oid = t.relnamespace
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                    LIMIT 1), '')
                 ELSE '' END,
       l.mode, l.pid,
       left(coalesce(a.query, ''), 300),
       (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::bigint,
       c.relkind = 'm'
  FROM pg_locks l
  JOIN pg_class c ON c.oid = l.relation
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  LEFT JOIN pg_index i ON i.indexrelid = c.oid
 WHERE l.granted AND l.locktype = 'relation'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.pid <> pg_backend_pid()
   AND NOT (l.pid = ANY($1::int4[]))
   -- Indexes, views and sequences that existed before the migration: REINDEX and DROP INDEX
   -- lock an index ACCESS EXCLUSIVE (reads through it wait), ALTER VIEW or CREATE OR REPLACE
   -- VIEW a view (every read through it waits), ALTER SEQUENCE a sequence SHARE ROW EXCLUSIVE
   -- (every nextval, so every INSERT drawing from it, waits). A new one's lock blocks nobody.
   AND (c.relkind IN ('r', 'p', 'm') OR (c.relkind IN ('i', 'I', 'v', 'S') AND c.oid = ANY($2::oid[])))
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'neon_migrate', 'neon_migrate_integrity')
"#;

/// The indexes, views and sequences that exist before the migration.
const EXISTING: &str = r#"
SELECT coalesce(array_agg(c.oid), '{}')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('i', 'I', 'v', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'neon_migrate', 'neon_migrate_integrity')
"#;

/// The tables that exist, with their files (a partitioned parent has none: 0, never
/// "rewritten"), before and after the migration.
const FILES: &str = r#"
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relfilenode::bigint,
       md5(concat_ws('|', c.relkind, c.relpersistence, c.relreplident, c.relrowsecurity,
         c.relforcerowsecurity, c.reloptions::text, c.relowner, c.relacl::text, c.relispartition,
         (SELECT string_agg(concat_ws(',', a.attname, a.atttypid, a.atttypmod, a.attnotnull,
                  a.atthasdef, a.attisdropped, a.attidentity, a.attgenerated, a.attstorage,
                  a.attcollation, a.attacl::text), ';' ORDER BY a.attnum)
            FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0),
         (SELECT string_agg(concat_ws(',', d.adnum, d.adbin::text), ';' ORDER BY d.adnum)
            FROM pg_attrdef d WHERE d.adrelid = c.oid),
         (SELECT string_agg(concat_ws(',', k.conname, k.contype, k.convalidated, k.conkey::text,
                  k.confrelid, k.conbin::text), ';' ORDER BY k.conname)
            FROM pg_constraint k WHERE k.conrelid = c.oid),
         (SELECT string_agg(concat_ws(',', x.indexrelid, x.indisvalid, x.indisunique,
                  x.indkey::text), ';' ORDER BY x.indexrelid)
            FROM pg_index x WHERE x.indrelid = c.oid),
         (SELECT string_agg(concat_ws(',', t.tgname, t.tgenabled, t.tgfoid), ';' ORDER BY t.tgname)
            FROM pg_trigger t WHERE t.tgrelid = c.oid),
         (SELECT string_agg(concat_ws(',', r.rulename, r.ev_enabled), ';' ORDER BY r.rulename)
            FROM pg_rewrite r WHERE r.ev_class = c.oid),
         (SELECT string_agg(concat_ws(',', p.polname, p.polcmd, p.polqual::text), ';' ORDER BY p.polname)
            FROM pg_policy p WHERE p.polrelid = c.oid)))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'neon_migrate', 'neon_migrate_integrity')
"#;

/// A table's physical file and a digest of its definition (columns, defaults, constraints,
/// indexes, triggers, rules, policies, options, owner, privileges).
#[derive(Debug, Clone, PartialEq)]
struct Table {
    file: i64,
    definition: String,
}

async fn files(client: &Client) -> Result<BTreeMap<String, Table>, QueryError> {
    let rows = client.query(FILES, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let table = Table {
                file: r.get(1),
                definition: r.get(2),
            };
            (r.get(0), table)
        })
        .collect())
}

/// A running sampler.
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<LockReport, QueryError>>,
}

#[derive(Default)]
struct Episode {
    start: Option<Instant>,
    last: Option<Instant>,
}

/// A sampler's connection, ready to start: connected, named, its sample query planned. Opening
/// it does not depend on the state of the database, so it can happen while the other checks
/// record theirs; what does — the tables' files — is read by [`Connected::begin`].
pub struct Connected {
    client: Client,
    sample: tokio_postgres::Statement,
}

impl Sampler {
    /// Connects a sidecar to `url`, records the tables' files, and starts sampling.
    pub async fn start(url: &Secret<String>, interval: Duration) -> Result<Sampler, QueryError> {
        Sampler::connect(url).await?.begin(interval).await
    }

    /// The sidecar's connection, not sampling yet.
    pub async fn connect(url: &Secret<String>) -> Result<Connected, QueryError> {
        let client = pg::connect_observer(url).await?;
        // Sent together (tokio-postgres pipelines concurrent requests): one round trip.
        // The sample query is planned once: each sample is then only an execution, which
        // keeps the period close to `interval` and the sampler's own load low.
        let (_, sample) = tokio::try_join!(
            async {
                client
                    .batch_execute(&format!(
                        "SET application_name = 'neon-migrate lock sampler'; {}",
                        pg::FLUSH_OWN_STATS
                    ))
                    .await
                    .map_err(QueryError::from)
            },
            async { client.prepare(SAMPLE).await.map_err(QueryError::from) },
        )?;
        Ok(Connected { client, sample })
    }
}

impl Connected {
    /// Records the tables' files and which indexes, views and sequences exist (one round trip) and starts
    /// sampling every `interval`.
    pub async fn begin(self, interval: Duration) -> Result<Sampler, QueryError> {
        let Connected { client, sample } = self;
        let (before, existing) = tokio::try_join!(files(&client), async {
            client
                .query_one(EXISTING, &[])
                .await
                .map(|r| r.get::<_, Vec<u32>>(0))
                .map_err(QueryError::from)
        })?;
        // `tokio::time::interval` panics on a zero period.
        let interval = interval.max(Duration::from_millis(1));
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut report = LockReport {
                interval_ms: interval.as_millis() as u64,
                ..Default::default()
            };
            let mut open: BTreeMap<(String, String, i32), Episode> = BTreeMap::new();
            let mut statements: BTreeMap<(i32, String), u64> = BTreeMap::new();
            let mut busy = Duration::ZERO;
            // Coverage: a lock is missed when it starts after one sample's snapshot and ends
            // before the next one's; measured from the last good sample's request to the next
            // one's answer (a failed sample is no sample), and to the stop.
            let mut last_ok = Instant::now();
            let mut gap = Duration::ZERO;
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = rx.changed() => break,
                }
                let now = Instant::now();
                let rows = client.query(&sample, &[&pg::own_pids(), &existing]).await;
                busy += now.elapsed();
                let Ok(rows) = rows else {
                    report.failed_samples += 1;
                    continue;
                };
                gap = gap.max(last_ok.elapsed());
                last_ok = now;
                report.samples += 1;
                let mut seen = BTreeSet::new();
                for r in &rows {
                    let key: (String, String, i32) = (r.get(0), r.get(1), r.get(2));
                    if r.get::<_, bool>(5) {
                        report.materialized.insert(key.0.clone());
                    }
                    let e = open.entry(key.clone()).or_default();
                    e.start.get_or_insert(now);
                    e.last = Some(now);
                    seen.insert(key);
                    let query: String = r.get(3);
                    let ms: Option<i64> = r.get(4);
                    if let Some(ms) = ms {
                        let q = query.split_whitespace().collect::<Vec<_>>().join(" ");
                        let entry = statements.entry((r.get(2), q)).or_insert(0);
                        *entry = (*entry).max(ms.max(0) as u64);
                    }
                }
                // Episodes not seen in this sample have ended.
                let ended: Vec<_> = open
                    .keys()
                    .filter(|k| !seen.contains(*k))
                    .cloned()
                    .collect();
                for k in ended {
                    if let Some(e) = open.remove(&k) {
                        close(&mut report, &k, &e, interval);
                    }
                }
            }
            report.longest_gap_ms = gap.max(last_ok.elapsed()).as_millis() as u64;
            report.outlived = still_held(&client, &sample, &existing, &open).await;
            for (k, e) in std::mem::take(&mut open) {
                close(&mut report, &k, &e, interval);
            }
            report.busy_ms = busy.as_millis() as u64;
            report.tables_before = before.keys().filter_map(|t| unquoted(t)).collect();
            let after = files(&client).await?;
            report.rewrites = before
                .iter()
                .filter(|(t, f)| after.get(*t).is_some_and(|n| n.file != f.file))
                .map(|(t, _)| t.clone())
                .collect();
            report.changed = before
                .iter()
                .filter(|(t, f)| after.get(*t).is_some_and(|n| n.definition != f.definition))
                .map(|(t, _)| t.clone())
                .collect();
            report.compared = true;
            let mut st: Vec<(String, u64)> =
                statements.into_iter().map(|((_, q), ms)| (q, ms)).collect();
            st.sort_by_key(|s| std::cmp::Reverse(s.1));
            st.dedup_by(|a, b| a.0 == b.0);
            st.truncate(10);
            report.statements = st;
            Ok(report)
        });
        Ok(Sampler { stop, task })
    }
}

impl Sampler {
    /// Stops sampling and returns what was seen.
    pub async fn finish(self) -> Result<LockReport, SamplerError> {
        let _ = self.stop.send(true);
        Ok(self.task.await.map_err(SamplerError::Task)??)
    }
}

/// The locks still held once the tool exited, by sessions that outlived it: seen in a sample
/// at the stop and again [`OUTLIVED_SETTLE`] later; `open` gives how long each was seen.
async fn still_held(
    client: &Client,
    sample: &tokio_postgres::Statement,
    existing: &[u32],
    open: &BTreeMap<(String, String, i32), Episode>,
) -> Vec<OutlivedLock> {
    let take = || async {
        let rows = client
            .query(sample, &[&pg::own_pids(), &existing])
            .await
            .unwrap_or_default();
        rows.iter()
            .map(|r| ((r.get(0), r.get(1), r.get(2)), r.get(3)))
            .collect::<BTreeMap<(String, String, i32), String>>()
    };
    let first = take().await;
    if first.is_empty() {
        return Vec::new();
    }
    tokio::time::sleep(OUTLIVED_SETTLE).await;
    let second = take().await;
    first
        .into_iter()
        .filter(|(k, _)| second.contains_key(k))
        .map(|((table, mode, pid), statement)| OutlivedLock {
            seen_ms: open
                .get(&(table.clone(), mode.clone(), pid))
                .and_then(|e| e.start)
                .map_or(0, |s| s.elapsed().as_millis() as u64),
            table,
            mode,
            statement: statement.split_whitespace().collect::<Vec<_>>().join(" "),
        })
        .collect()
}

fn close(report: &mut LockReport, key: &(String, String, i32), e: &Episode, interval: Duration) {
    let (Some(start), Some(last)) = (e.start, e.last) else {
        return;
    };
    let ms = (last - start + interval).as_millis() as u64;
    let slot = report
        .held_ms
        .entry(key.0.clone())
        .or_default()
        .entry(key.1.clone())
        .or_insert(0);
    *slot = (*slot).max(ms);
}

/// Who waits while a lock on `key` (as the sampler names it) is held: `all` for a lock that
/// blocks reads too (ACCESS EXCLUSIVE), else one that blocks writes.
fn held_up(key: &str, all: bool) -> String {
    if let Some(seq) = key.strip_prefix("sequence ") {
        return match seq.split_once(" feeding ") {
            Some((s, t)) => {
                format!("every nextval() of {s}, so every INSERT into {t} that draws from it,")
            }
            None => format!("every nextval() of {seq}"),
        };
    }
    match (key.strip_prefix("index "), all) {
        (Some(_), _) => format!("every query that uses {key}"),
        (None, true) => format!("every read and write of {key}"),
        (None, false) => format!("every INSERT, UPDATE and DELETE on {key}"),
    }
}

fn rank(mode: &str) -> usize {
    LOCK_MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

/// Verdicts on a lock report.
pub fn evaluate(report: &LockReport, cfg: &LocksCheck) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut details = Vec::new();
    for (table, modes) in &report.held_ms {
        let Some((strongest, _)) = modes.iter().max_by_key(|(m, _)| rank(m)) else {
            continue;
        };
        let rewritten = report.rewrites.contains(table);
        details.push(format!(
            "{table}: strongest lock {} for ~{} ms{}",
            lock_name(strongest),
            modes[strongest],
            if rewritten {
                ", table rewritten"
            } else {
                ", no rewrite"
            }
        ));
        // A budget under `tables` is how long that table may be held up, by any lock.
        let own = cfg
            .tables
            .get(table)
            .or_else(|| {
                cfg.tables
                    .get(table.strip_prefix("public.").unwrap_or(table))
            })
            .copied();
        if let Some(ms) = modes.get("AccessExclusiveLock") {
            let budget = own.unwrap_or(cfg.access_exclusive_budget);
            let rewrite = if rewritten {
                " and the table was rewritten"
            } else {
                ""
            };
            if u128::from(*ms) > budget.as_millis() {
                findings.push(
                    Finding::new(
                        NAME,
                        Severity::Error,
                        format!("ACCESS EXCLUSIVE lock on {table} held ~{ms} ms{rewrite} (budget {} ms)", budget.as_millis()),
                        format!("while it is held {} waits: on production that is ~{ms} ms of downtime, longer under load", held_up(table, true)),
                    )
                    .at(table.clone())
                    .fix("use an online form (CONCURRENTLY, NOT VALID + VALIDATE, a new column and a backfill instead of a type change), or raise the budget under [checks.locks] if this is acceptable"),
                );
            } else if rewritten {
                findings.push(
                    Finding::new(NAME, Severity::Warning, format!("{table} was rewritten under ACCESS EXCLUSIVE in ~{ms} ms"), "a rewrite grows with the table: on a bigger or busier production table it takes longer")
                        .at(table.clone())
                        .fix("prefer a form that does not rewrite (a new column and a batched backfill instead of a type change, a constant instead of a volatile default), or schedule it when the table is quiet"),
                );
            }
        }
        let write_budget = own.map_or(cfg.write_lock_budget, |b| b.max(cfg.write_lock_budget));
        // A materialized view has no writers (attack11 B2: REFRESH … CONCURRENTLY's EXCLUSIVE
        // failed the write budget although it blocks no reader).
        let writers = !report.materialized.contains(table);
        for mode in ["ShareLock", "ShareRowExclusiveLock", "ExclusiveLock"]
            .into_iter()
            .filter(|_| writers)
        {
            let Some(&ms) = modes.get(mode) else {
                continue;
            };
            let over = u128::from(ms) > write_budget.as_millis();
            if !over && u128::from(ms) <= cfg.access_exclusive_budget.as_millis() {
                continue;
            }
            let (severity, budget) = if over {
                (
                    Severity::Error,
                    format!(
                        " (budget for locks that block writes: {} ms)",
                        write_budget.as_millis()
                    ),
                )
            } else {
                (Severity::Warning, String::new())
            };
            findings.push(
                Finding::new(
                    NAME,
                    severity,
                    format!("{} lock on {table} held ~{ms} ms{budget}", lock_name(mode)),
                    format!("{} waits while it is held: on production that is ~{ms} ms of write outage, longer under load", held_up(table, false)),
                )
                .at(table.clone())
                .fix(match mode {
                    "ShareLock" => "build indexes with CREATE INDEX CONCURRENTLY (a plain CREATE INDEX holds SHARE for the whole build), or raise `write-lock-budget` under [checks.locks] if this is acceptable",
                    "ShareRowExclusiveLock" => "CREATE TRIGGER, ENABLE/DISABLE TRIGGER, ADD FOREIGN KEY and ALTER SEQUENCE take it until commit: add foreign keys NOT VALID and VALIDATE them separately, keep the transaction that holds it short, or raise `write-lock-budget` under [checks.locks]",
                    _ => "`LOCK … IN EXCLUSIVE MODE` takes it until commit: lock less, keep the transaction that holds it short, or raise `write-lock-budget` under [checks.locks]",
                }),
            );
        }
    }
    for o in &report.outlived {
        findings.push(
            Finding::new(
                NAME,
                Severity::Warning,
                format!(
                    "{} on {} still held after the migration tool exited, by a session that outlived it (`{}`): ~{} ms seen until then, its full time not measured",
                    lock_name(&o.mode),
                    o.table,
                    o.statement.chars().take(120).collect::<String>(),
                    o.seen_ms
                ),
                "every query that conflicts with it keeps waiting after the migration ended, on production too; the times above end at the tool's exit (the `workload` check, when enabled, measures what the queries felt)",
            )
            .at(o.table.clone())
            .fix("make the migration tool end every session it opens before it exits (no connection left in the background)"),
        );
    }
    for t in &report.rewrites {
        if !report.held_ms.contains_key(t) {
            details.push(format!("{t}: table rewritten"));
        }
    }
    for (q, ms) in report.statements.iter().take(5) {
        details.push(format!(
            "statement ran ≥ {ms} ms: {}",
            q.chars().take(120).collect::<String>()
        ));
    }
    details.push(format!(
        "{} samples every {} ms{}; longest gap between samples {} ms: a lock shorter than that can be missed",
        report.samples,
        report.interval_ms,
        match report.failed_samples {
            0 => String::new(),
            n => format!(" ({n} failed)"),
        },
        report.longest_gap_ms
    ));
    (findings, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LocksCheck {
        LocksCheck {
            enabled: true,
            required: false,
            access_exclusive_budget: Duration::from_millis(500),
            write_lock_budget: Duration::from_millis(2000),
            sample_interval: Duration::from_millis(20),
            tables: BTreeMap::new(),
        }
    }

    /// attack10 F12, F13: a lock that blocks only writes, held for seconds, passed; and locks on
    /// a sequence (every INSERT drawing from it waits) or a view were not sampled at all.
    #[test]
    fn locks_that_block_writes_have_a_budget_and_say_who_waits() {
        let mut r = quiet();
        r.held_ms.insert(
            "public.accounts".into(),
            [("ExclusiveLock".to_string(), 3004)].into(),
        );
        r.held_ms.insert(
            "sequence public.accounts_id_seq feeding public.accounts".into(),
            [("ShareRowExclusiveLock".to_string(), 900)].into(),
        );
        r.held_ms.insert(
            "public.recent".into(),
            [("AccessExclusiveLock".to_string(), 600)].into(),
        );
        let (findings, _) = evaluate(&r, &cfg());
        let what: Vec<(Severity, &str, &str)> = findings
            .iter()
            .map(|f| (f.severity, f.what.as_str(), f.why.as_str()))
            .collect();
        assert_eq!(
            what,
            [
                (
                    Severity::Error,
                    "EXCLUSIVE lock on public.accounts held ~3004 ms (budget for locks that block writes: 2000 ms)",
                    "every INSERT, UPDATE and DELETE on public.accounts waits while it is held: on production that is ~3004 ms of write outage, longer under load"
                ),
                (
                    Severity::Error,
                    "ACCESS EXCLUSIVE lock on public.recent held ~600 ms (budget 500 ms)",
                    "while it is held every read and write of public.recent waits: on production that is ~600 ms of downtime, longer under load"
                ),
                (
                    Severity::Warning,
                    "SHARE ROW EXCLUSIVE lock on sequence public.accounts_id_seq feeding public.accounts held ~900 ms",
                    "every nextval() of public.accounts_id_seq, so every INSERT into public.accounts that draws from it, waits while it is held: on production that is ~900 ms of write outage, longer under load"
                ),
            ]
        );
        // A table's own budget under `tables` holds for locks that block writes too.
        let mut lenient = cfg();
        lenient
            .tables
            .insert("public.accounts".into(), Duration::from_secs(10));
        let (findings, _) = evaluate(&r, &lenient);
        assert!(findings
            .iter()
            .all(|f| !f.what.starts_with("EXCLUSIVE lock on public.accounts")
                || f.severity == Severity::Warning));
        // A materialized view has no writers: a concurrent refresh's EXCLUSIVE is no finding.
        let mut mv = quiet();
        mv.held_ms.insert(
            "public.totals".into(),
            [("ExclusiveLock".to_string(), 9000)].into(),
        );
        mv.materialized.insert("public.totals".into());
        assert!(evaluate(&mv, &cfg()).0.is_empty());
        // A sequence is not a table in the summary.
        assert!(judge(&r, &cfg(), None)
            .summary
            .starts_with("2 table(s) locked"));
    }

    /// 40 samples every 20 ms, nothing seen, on a database with `public.accounts` and
    /// `public."Orders"`.
    fn quiet() -> LockReport {
        LockReport {
            samples: 40,
            interval_ms: 20,
            longest_gap_ms: 25,
            tables_before: [("public", "accounts"), ("public", "Orders")]
                .iter()
                .map(|(s, t)| (s.to_string(), t.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn nothing_seen_is_said_as_not_observed_never_as_none() {
        let r = judge(&quiet(), &cfg(), None);
        assert_eq!(r.status, CheckStatus::Passed);
        assert_eq!(
            r.summary,
            "no table lock observed (sampled every 20 ms; shorter locks are not seen), 0 rewritten"
        );
        assert!(!r.summary.contains("0 table(s)"));
        assert_eq!(
            r.details.last().map(String::as_str),
            Some("40 samples every 20 ms; longest gap between samples 25 ms: a lock shorter than that can be missed")
        );
    }

    #[test]
    fn a_lock_the_statements_take_and_no_sample_saw_is_named_not_observed() {
        let sql = "ALTER TABLE accounts ADD COLUMN note text;\n\
                   CREATE INDEX ON \"Orders\" (id);\n\
                   CREATE TABLE fresh (id int); ALTER TABLE fresh ADD COLUMN x int;";
        let r = judge(&quiet(), &cfg(), Some(sql));
        assert_eq!(
            r.summary,
            "no table lock observed (sampled every 20 ms; shorter locks are not seen); expected, not observed: ACCESS EXCLUSIVE on public.accounts, SHARE on public.\"Orders\", 0 rewritten"
        );
        assert!(
            r.details.iter().any(|d| d
                == "public.accounts: ACCESS EXCLUSIVE expected from `ALTER TABLE accounts ADD COLUMN …`, not observed: held for less than the gaps between samples (longest 25 ms), so for an unknown time, not none"),
            "{:#?}",
            r.details
        );
        // A table created in the run was not there to be locked before; one seen is not unseen.
        assert!(!r.summary.contains("fresh"));
        let mut seen = quiet();
        seen.held_ms.insert(
            "public.accounts".into(),
            [("AccessExclusiveLock".to_string(), 40)].into(),
        );
        let r = judge(&seen, &cfg(), Some(sql));
        assert_eq!(
            r.summary,
            "1 table(s) locked; expected, not observed: SHARE on public.\"Orders\", 0 rewritten"
        );
    }

    #[test]
    fn a_sampler_that_stalled_longer_than_the_budget_proves_nothing() {
        let mut stalled = quiet();
        stalled.longest_gap_ms = 700;
        stalled.failed_samples = 3;
        let r = judge(&stalled, &cfg(), None);
        assert_eq!(r.status, CheckStatus::NotRun, "{}", r.summary);
        assert!(
            r.summary.starts_with("NOT RUN: the lock sampler went 700 ms without a sample (3 failed), longer than the 500 ms budget"),
            "{}",
            r.summary
        );
        // A sampling coarser than the budget proves nothing either (attack11 A7).
        let coarse = LockReport {
            interval_ms: 1500,
            longest_gap_ms: 1218,
            samples: 1,
            ..quiet()
        };
        assert_eq!(judge(&coarse, &cfg(), None).status, CheckStatus::NotRun);
        // A lock seen over its budget still fails.
        stalled.held_ms.insert(
            "public.accounts".into(),
            [("AccessExclusiveLock".to_string(), 900)].into(),
        );
        assert_eq!(judge(&stalled, &cfg(), None).status, CheckStatus::Failed);
        // No sample at all: nothing was observed.
        let none = LockReport {
            samples: 0,
            failed_samples: 5,
            ..quiet()
        };
        let r = judge(&none, &cfg(), None);
        assert_eq!(r.status, CheckStatus::NotRun);
        assert!(
            r.summary.contains("took no sample (5 failed)"),
            "{}",
            r.summary
        );
    }
}

//! The open-loop load generator.
//!
//! Each query has a schedule (`rate` per second: a fixed interval, or Poisson arrivals with
//! `arrivals = "poisson"`); a request is issued at its intended
//! time whatever happened to the earlier ones, and its latency is measured from that intended
//! time — as wrk2 and `pgbench --rate` do — so a request that waited for a free connection
//! behind a blocked one is counted as slow, not silently left out (no coordinated omission).
//! The instants come from a [`Clock`] thread (tokio's timer is 1 ms coarse, and that delay
//! would count as latency); each query's dispatcher puts its requests on a free connection of
//! that query's own pool.
//! One request at a time per connection (a blocked request must not hold others up on its
//! connection), and connections of their own per query: writes blocked by a SHARE lock hold
//! only the writes' connections, never those of the reads the lock lets through (a shared
//! pool made those reads wait for a connection, reported as blocked reads). A request that
//! waits for a connection still counts from its intended start; [`super::waits`] tells a wait
//! behind the query's own lock-blocked requests from a wait the generator's limit alone
//! explains. The pools are opened before the migration starts and never reconnect while it
//! runs (a new session then would be counted as one of the migration tool's).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::{CancelToken, Client, Statement};

use super::clock::{Arrivals, Clock, Tick};
use super::sources::Query;
use super::WorkloadError;
use crate::pg;
use crate::secret::Secret;

/// `application_name` of the generator's sessions (the witness counts no `neon-migrate…`
/// session as the tool's).
pub const APP: &str = "neon-migrate workload";

/// How long requests still in flight may take once the migration ended, before they are
/// cancelled and counted as errors.
pub const GRACE: Duration = Duration::from_secs(15);

/// A parameter sent as text: the server parses it as whatever type the statement needs
/// (`int8`, `uuid`, `timestamptz`, an enum, …), exactly as a value typed into psql.
#[derive(Debug)]
pub struct TextParam(pub Option<String>);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }
    to_sql_checked!();
}

/// The relations (tables, partitions, views, materialized views, foreign tables) this
/// session holds a lock on, named as the lock sampler names them, and whether it holds a
/// mode a write takes there (one SHARE — `CREATE INDEX` — blocks: ROW EXCLUSIVE or
/// stronger). A foreign-key check locks the referenced table ROW SHARE (`FOR KEY SHARE`):
/// it goes there, it does not write there. The catalog (this very query's own locks) is
/// left out.
const LOCKED: &str =
    "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
       pg_catalog.bool_or(l.mode IN ('RowExclusiveLock', 'ShareUpdateExclusiveLock',
                                     'ShareRowExclusiveLock', 'ExclusiveLock',
                                     'AccessExclusiveLock'))
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_class c ON c.oid = l.relation
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation'
   AND c.relkind IN ('r', 'p', 'm', 'v', 'f', 'S')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 GROUP BY 1";

/// The tables (a partition as its partitioned table) where this session's transaction updated
/// or deleted rows so far: rows it would have waited for had another transaction locked them.
const ROWS_WRITTEN: &str =
    "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
  FROM pg_catalog.pg_stat_xact_user_tables s
  JOIN pg_catalog.pg_class c ON c.oid = coalesce(pg_catalog.pg_partition_root(s.relid), s.relid)
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE s.n_tup_upd + s.n_tup_del > 0";

/// What the replayed queries touch ([`Pool::coverage`]).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Relations some replayed query locks (writes included: they wait behind a lock that
    /// blocks reads too).
    pub reads: std::collections::BTreeSet<String>,
    /// Relations some replayed write locks in a mode a write takes (ROW EXCLUSIVE or
    /// stronger): not those it only reads, nor those a foreign-key check locks ROW SHARE.
    pub writes: std::collections::BTreeSet<String>,
    /// Queries whose relations could not be read (the query failed before the migration).
    pub unknown: Vec<String>,
    /// The tables the migration's SQL names that existed before it, with the lock each of its
    /// statements is known to take; `None`: its SQL is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_sql: Option<Vec<super::coverage::SqlLock>>,
    /// Per query (in the plan's order): the relations it locks, and whether it writes there
    /// (what [`super::window`] asks requests inside the migration's locks of).
    #[serde(skip)]
    pub per_query: Vec<Vec<(String, bool)>>,
    /// Tables (a partition as its partitioned table) where a replayed write updated or deleted
    /// rows: a row the migration changed and kept locked makes such a write wait.
    #[serde(default)]
    pub row_writes: std::collections::BTreeSet<String>,
    /// Rows the migration updated or deleted, per table ([`super::rows`]); `None`: the
    /// table statistics could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_changed: Option<super::rows::RowsChanged>,
    /// Each sequence, with the tables whose columns take values from it (a `nextval`
    /// default, `serial`, identity): an INSERT there locks the sequence.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub sequences: std::collections::BTreeMap<String, Vec<String>>,
    /// The sequences the migration locked in a mode that blocks `nextval` ([`super::sequences`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequence_locks: Vec<super::sequences::SequenceLock>,
    /// Tables (as the observer names them) a row of which a replayed query was seen waiting
    /// for behind the migration ([`super::rows::met`]): evidence a replayed write met a row
    /// the migration kept locked.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub rows_met: std::collections::BTreeSet<String>,
}

/// One connection of a query's pool, the query prepared.
pub struct Conn {
    client: Client,
    pub pid: i32,
    stmt: Statement,
    cancel: CancelToken,
}

impl Conn {
    async fn open(url: &Secret<String>, q: &Query) -> Result<Conn, WorkloadError> {
        let client = pg::connect(url).await.map_err(WorkloadError::Connect)?;
        // Named as ours, and its own statistics out now (see `pg::FLUSH_OWN_STATS`). A read
        // runs read-only: a function it calls must not write for real (a write is replayed in
        // a transaction that is rolled back; a read is not, and would commit what it wrote).
        let read_only = if q.write {
            ""
        } else {
            " SET default_transaction_read_only = on;"
        };
        client
            .batch_execute(&format!(
                "SET application_name = '{APP}'; {};{read_only}",
                pg::FLUSH_OWN_STATS
            ))
            .await
            .map_err(|e| WorkloadError::db("cannot set up a workload session", &e))?;
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map_err(|e| WorkloadError::db("cannot set up a workload session", &e))?
            .get(0);
        // The lock sampler leaves our sessions out: their reads are not the migration's locks.
        pg::note_own_pid(pid);
        let cancel = client.cancel_token();
        let stmt = client
            .prepare(&q.sql)
            .await
            .map_err(|e| WorkloadError::Query {
                name: q.name.clone(),
                message: format!("does not prepare: {}", pg::describe(&e)),
            })?;
        Ok(Conn {
            client,
            pid,
            stmt,
            cancel,
        })
    }

    async fn exec(&self, write: bool, params: &[TextParam]) -> Result<(), tokio_postgres::Error> {
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let stmt = &self.stmt;
        if !write {
            return self.client.query(stmt, &refs).await.map(|_| ());
        }
        // Pipelined in this order on the one connection: a write takes its locks and waits
        // like the application's, and changes nothing.
        let (begin, run, rollback) = tokio::join!(
            self.client.batch_execute("BEGIN"),
            self.client.query(stmt, &refs),
            self.client.batch_execute("ROLLBACK"),
        );
        begin?;
        run?;
        rollback
    }

    /// Runs its query; `Ok(true)` when it had to be prepared again first (the migration
    /// changed its result type: drivers that cache prepared statements see that error once).
    async fn run(
        &mut self,
        q: &Query,
        params: &[TextParam],
    ) -> Result<bool, tokio_postgres::Error> {
        match self.exec(q.write, params).await {
            Ok(()) => Ok(false),
            Err(e) if e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED) => {
                self.stmt = self.client.prepare(&q.sql).await?;
                self.exec(q.write, params).await.map(|_| true)
            }
            Err(e) => Err(e),
        }
    }
}

/// The generator's connections: a pool of its own per query.
pub struct Pool {
    /// Per query, its connections.
    pools: Vec<Vec<Conn>>,
}

impl Pool {
    /// Opens `sizes[i]` connections (at least one) for query `i`, all in parallel, each with
    /// its query prepared.
    pub async fn connect(
        url: &Secret<String>,
        sizes: &[usize],
        queries: &[Query],
    ) -> Result<Pool, WorkloadError> {
        let wanted = queries.iter().enumerate().flat_map(|(qi, q)| {
            (0..sizes.get(qi).copied().unwrap_or(1).max(1)).map(move |_| (qi, q))
        });
        let opened = futures_util::future::join_all(
            wanted.map(|(qi, q)| async move { (qi, Conn::open(url, q).await) }),
        )
        .await;
        let mut pools: Vec<Vec<Conn>> = queries.iter().map(|_| Vec::new()).collect();
        for (qi, c) in opened {
            pools[qi].push(c?);
        }
        Ok(Pool { pools })
    }

    pub fn pids(&self) -> Vec<i32> {
        self.pools.iter().flatten().map(|c| c.pid).collect()
    }

    /// Per query, the backends of its connections.
    pub fn pids_per_query(&self) -> Vec<Vec<i32>> {
        self.pools
            .iter()
            .map(|p| p.iter().map(|c| c.pid).collect())
            .collect()
    }

    /// Which relations the replayed queries lock, read once each before the load starts:
    /// inside a transaction that is rolled back, the query runs with its first parameters and
    /// `pg_locks` says what this session locked (a view's tables, a partition, whatever the
    /// plan opened). What the migration locks outside these was not rehearsed.
    pub async fn coverage(&self, queries: &[Query]) -> Coverage {
        let mut out = Coverage::default();
        for (qi, q) in queries.iter().enumerate() {
            out.per_query.push(Vec::new());
            let Some(c) = self.pools.get(qi).and_then(|p| p.first()) else {
                out.unknown.push(q.name.clone());
                continue;
            };
            let params: Vec<TextParam> = q.params.pick(0).into_iter().map(TextParam).collect();
            let refs: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let locked = async {
                c.client.batch_execute("BEGIN").await?;
                c.client.query(&c.stmt, &refs).await?;
                let locked = c.client.query(LOCKED, &[]).await?;
                let rows = match q.write {
                    true => c.client.query(ROWS_WRITTEN, &[]).await?,
                    false => Vec::new(),
                };
                Ok::<_, tokio_postgres::Error>((locked, rows))
            }
            .await;
            let _ = c.client.batch_execute("ROLLBACK").await;
            match locked {
                Ok((locked, rows)) => {
                    for r in locked {
                        let rel: String = r.get(0);
                        let writes: bool = r.get(1);
                        out.per_query[qi].push((rel.clone(), q.write && writes));
                        if q.write && writes {
                            out.writes.insert(rel.clone());
                        }
                        out.reads.insert(rel);
                    }
                    out.row_writes
                        .extend(rows.iter().map(|r| r.get::<_, String>(0)));
                }
                Err(_) => out.unknown.push(q.name.clone()),
            }
        }
        out
    }

    /// One of the sessions (reads before the load starts).
    pub fn client(&self) -> Option<&Client> {
        self.pools.iter().flatten().next().map(|c| &c.client)
    }

    /// All connections, of every query.
    pub fn len(&self) -> usize {
        self.pools.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One request, as measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub query: u16,
    /// Intended start, µs after the generator started.
    pub due_us: u64,
    /// From the intended start to the answer.
    pub latency_us: u64,
    /// Backend that served it (to match with the lock observer's samples).
    pub pid: i32,
    /// Index into [`Recorded::errors`].
    pub error: Option<u32>,
    /// From the intended start to the moment the request was sent (a wait for a free
    /// connection included): the part of `latency_us` spent before the server saw it.
    pub lag_us: u64,
    /// From the intended start to the moment one of its query's connections was free (0: one
    /// was free at once): the wait for a connection, part of `lag_us`.
    pub wait_us: u64,
}

/// Everything the generator measured.
#[derive(Debug, Default)]
pub struct Recorded {
    pub samples: Vec<Sample>,
    /// Distinct error messages.
    pub errors: Vec<String>,
    /// Per query: requests that had to prepare their statement again.
    pub reprepared: Vec<u64>,
    /// µs after start: when the migration started, when it ended, when the load stopped.
    pub migration_start_us: u64,
    pub migration_end_us: u64,
    pub stopped_us: u64,
    /// How late requests were issued beyond any wait for a free connection, in µs (the generator's
    /// own lag: evidence it kept its schedule).
    pub issue_lag_us: Vec<u64>,
    /// All connections, of every query.
    pub connections: usize,
    /// Per query, the backends of its own connections.
    pub pids: Vec<Vec<i32>>,
    /// How the requests were spread in time.
    pub arrivals: Arrivals,
}

impl Recorded {
    fn error_index(&mut self, message: String) -> u32 {
        match self.errors.iter().position(|e| *e == message) {
            Some(i) => i as u32,
            None => {
                self.errors.push(message);
                (self.errors.len() - 1) as u32
            }
        }
    }

    fn record(
        &mut self,
        query: usize,
        due_us: u64,
        latency_us: u64,
        pid: i32,
        error: Option<String>,
    ) {
        let error = error.map(|e| self.error_index(e));
        self.samples.push(Sample {
            query: query as u16,
            due_us,
            latency_us,
            pid,
            error,
            lag_us: 0,
            wait_us: 0,
        });
    }
}

/// The generator, running.
pub struct Running {
    stop: watch::Sender<Option<Instant>>,
    clock: Clock,
    mark: Arc<Mutex<Option<Instant>>>,
    task: JoinHandle<Recorded>,
    t0: Instant,
    arrivals: Arrivals,
}

impl Running {
    /// Starts issuing requests; `t0` is the start of the timeline. The requests' instants come
    /// from a [`Clock`] thread of their own (tokio's timer is 1 ms coarse); each query has a
    /// dispatcher of its own, on its own connections.
    pub fn start(pool: Pool, queries: Vec<Query>, t0: Instant, arrivals: Arrivals) -> Running {
        let (stop, stop_rx) = watch::channel(None);
        let mark = Arc::new(Mutex::new(None));
        let rec = Arc::new(Mutex::new(Recorded {
            reprepared: vec![0; queries.len()],
            connections: pool.len(),
            pids: pool.pids_per_query(),
            ..Default::default()
        }));
        let queries = Arc::new(queries);
        let mut senders = Vec::new();
        let mut dispatchers = Vec::new();
        for conns in pool.pools {
            let (tx, ticks) = mpsc::unbounded_channel();
            senders.push(tx);
            let d = Dispatcher {
                queries: Arc::clone(&queries),
                t0,
                rec: Arc::clone(&rec),
            };
            dispatchers.push(tokio::spawn(d.run(conns, ticks, stop_rx.clone())));
        }
        let clock = Clock::start(&queries, t0, arrivals, move |t: Tick| {
            // One query's dispatcher gone does not stop the others'.
            senders.get(t.query).is_some_and(|s| s.send(t).is_ok())
                || senders.iter().any(|s| !s.is_closed())
        });
        let task = tokio::spawn(async move {
            for d in dispatchers {
                let _ = d.await;
            }
            rec.lock()
                .map(|mut r| std::mem::take(&mut *r))
                .unwrap_or_default()
        });
        Running {
            stop,
            clock,
            mark,
            task,
            t0,
            arrivals,
        }
    }

    /// From now on requests are "during the migration".
    pub fn mark_migration_start(&self) {
        if let Ok(mut m) = self.mark.lock() {
            *m = Some(Instant::now());
        }
    }

    /// Stops the schedule now (requests already due are still issued), waits for the answers,
    /// and returns the measurements; `ended` is when the migration ended.
    pub async fn finish(self, ended: Instant) -> Result<Recorded, WorkloadError> {
        let now = Instant::now();
        self.clock.stop(now);
        let _ = self.stop.send(Some(now));
        let mut rec = self
            .task
            .await
            .map_err(|e| WorkloadError::Stopped(e.to_string()))?;
        let us = |t: Instant| t.saturating_duration_since(self.t0).as_micros() as u64;
        let start = self.mark.lock().ok().and_then(|m| *m).unwrap_or(ended);
        rec.migration_start_us = us(start);
        rec.migration_end_us = us(ended);
        rec.stopped_us = us(now);
        rec.arrivals = self.arrivals;
        Ok(rec)
    }
}

/// A free connection for a request due now, or why there is none.
enum Free {
    /// Free at once, or after the wait until `at`.
    Conn(Box<Conn>, Option<Instant>),
    /// Every connection stayed busy past the grace period after the end.
    GaveUp,
    /// Every connection is gone.
    Closed,
}

/// Takes a free connection; waits for one while all are busy (a blocked stretch), up to the
/// grace period after the end of the schedule.
async fn free_conn(
    idle: &mut mpsc::UnboundedReceiver<Conn>,
    stop: &mut watch::Receiver<Option<Instant>>,
    end: &mut Option<Instant>,
) -> Free {
    if let Ok(c) = idle.try_recv() {
        return Free::Conn(Box::new(c), None);
    }
    loop {
        let give_up = end.map(|e| e + GRACE);
        tokio::select! {
            c = idle.recv() => return match c {
                Some(c) => Free::Conn(Box::new(c), Some(Instant::now())),
                None => Free::Closed,
            },
            changed = stop.changed(), if end.is_none() => {
                *end = if changed.is_ok() { *stop.borrow() } else { Some(Instant::now()) };
            }
            _ = sleep_until_opt(give_up) => return Free::GaveUp,
        }
    }
}

/// One query's dispatcher: puts each of its requests the clock hands over on a free
/// connection of its own pool.
struct Dispatcher {
    queries: Arc<Vec<Query>>,
    t0: Instant,
    rec: Arc<Mutex<Recorded>>,
}

impl Dispatcher {
    async fn run(
        self,
        conns: Vec<Conn>,
        mut ticks: mpsc::UnboundedReceiver<Tick>,
        mut stop: watch::Receiver<Option<Instant>>,
    ) {
        let tokens: Vec<CancelToken> = conns.iter().map(|c| c.cancel.clone()).collect();
        let total = conns.len();
        let (idle_tx, mut idle) = mpsc::unbounded_channel::<Conn>();
        for c in conns {
            let _ = idle_tx.send(c);
        }
        let mut end: Option<Instant> = None;
        while let Some(tick) = ticks.recv().await {
            let (conn, freed) = match free_conn(&mut idle, &mut stop, &mut end).await {
                Free::Conn(c, freed) => (*c, freed),
                Free::GaveUp => {
                    // The clock stops at the end: what it handed over and nobody issued is
                    // counted, with its latency up to the give-up.
                    let end = end.unwrap_or_else(Instant::now);
                    never_issued(&self.rec, tick, end, self.t0);
                    while let Some(t) = ticks.recv().await {
                        never_issued(&self.rec, t, end, self.t0);
                    }
                    break;
                }
                Free::Closed => break,
            };
            tokio::spawn(issue(
                conn,
                tick,
                freed,
                self.t0,
                Arc::clone(&self.queries),
                Arc::clone(&self.rec),
                idle_tx.clone(),
            ));
        }
        drop(idle_tx);
        let end = end.unwrap_or_else(Instant::now);
        drain(&mut idle, total, end + GRACE, &tokens).await;
    }
}

/// Runs one request on `conn` and records it; gives the connection back.
async fn issue(
    mut conn: Conn,
    tick: Tick,
    freed: Option<Instant>,
    t0: Instant,
    q: Arc<Vec<Query>>,
    rec: Arc<Mutex<Recorded>>,
    back: mpsc::UnboundedSender<Conn>,
) {
    let qi = tick.query;
    let params: Vec<TextParam> = q[qi]
        .params
        .pick(tick.k)
        .into_iter()
        .map(TextParam)
        .collect();
    let sent = Instant::now();
    let result = conn.run(&q[qi], &params).await;
    let latency = Instant::now().saturating_duration_since(tick.due);
    // The generator's own lag: how late beyond any wait for a connection (a backlog issued
    // right after a blocked stretch is late because of the block, not of us).
    let own = sent.saturating_duration_since(freed.map_or(tick.due, |f| f.max(tick.due)));
    let at = us_since(t0, tick.due);
    let lag_us = sent.saturating_duration_since(tick.due).as_micros() as u64;
    let wait_us = freed.map_or(0, |f| {
        f.saturating_duration_since(tick.due).as_micros() as u64
    });
    if let Ok(mut r) = rec.lock() {
        r.issue_lag_us.push(own.as_micros() as u64);
        let latency = latency.as_micros() as u64;
        match result {
            Ok(again) => {
                if again {
                    r.reprepared[qi] += 1;
                }
                r.record(qi, at, latency, conn.pid, None);
            }
            Err(e) if q[qi].sampling_conflict(&e) => {
                let why = super::sources::SAMPLING_CONFLICT.to_owned();
                r.record(qi, at, latency, conn.pid, Some(why));
            }
            Err(e) => r.record(qi, at, latency, conn.pid, Some(request_error(&e))),
        }
        if let Some(s) = r.samples.last_mut() {
            s.lag_us = lag_us;
            s.wait_us = wait_us;
        }
    }
    let _ = back.send(conn);
}

/// What a failed request reports, without the row values it may carry: its SQLSTATE and
/// condition name, never the server's words (a trigger's `RAISE` with any SQLSTATE, a
/// built-in `invalid input syntax … "user9"` or `date/time field value out of range:
/// 2020-13-09`, can print any value of the rows; see [`crate::sqlstate`]).
fn request_error(e: &tokio_postgres::Error) -> String {
    crate::sqlstate::without_values(e)
}

fn us_since(t0: Instant, t: Instant) -> u64 {
    t.saturating_duration_since(t0).as_micros() as u64
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// A request due before the end that was never issued (every connection of its query stayed
/// blocked past the grace period): an error, with its latency up to the give-up.
fn never_issued(rec: &Arc<Mutex<Recorded>>, tick: Tick, end: Instant, t0: Instant) {
    let Ok(mut r) = rec.lock() else { return };
    let latency = (end + GRACE).saturating_duration_since(tick.due);
    r.record(
        tick.query,
        us_since(t0, tick.due),
        latency.as_micros() as u64,
        0,
        Some(format!(
            "never issued: every connection of this query was still busy {} s after the migration ended",
            GRACE.as_secs()
        )),
    );
}

/// Waits for every connection to come back; past `deadline`, cancels what still runs.
async fn drain(
    idle: &mut mpsc::UnboundedReceiver<Conn>,
    total: usize,
    deadline: Instant,
    tokens: &[CancelToken],
) {
    let mut back = 0;
    let mut cancelled = false;
    // After a cancel, the answers have this long to come back; then the rest is left behind
    // (the test Neon database branch is deleted with its sessions).
    let last = deadline + Duration::from_secs(5);
    while back < total {
        tokio::select! {
            c = idle.recv() => match c {
                Some(_) => back += 1,
                None => return,
            },
            _ = tokio::time::sleep_until(deadline.into()), if !cancelled => {
                cancelled = true;
                for t in tokens {
                    let _ = t.cancel_query(tokio_postgres::NoTls).await;
                }
            }
            _ = tokio::time::sleep_until(last.into()) => return,
        }
    }
}

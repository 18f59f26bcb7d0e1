//! Evidence that a migration tool worked on the database it was given.
//!
//! A tool's exit code says nothing about *where* it worked: a project whose settings read a
//! variable we did not set migrates its default database, exits 0, and the target shows no
//! trace. So a run is judged on two facts read on the target itself, over one connection of
//! ours opened before the tool starts (so none of our own connections is counted as the
//! tool's):
//!
//! - **sessions**: `pg_stat_database.sessions` of the target before and after the run. Our
//!   own connection forces its statistics out before the first reading
//!   (`pg_stat_force_next_flush`, PostgreSQL ≥ 15), and a backend flushes its own when it
//!   exits, so after the tool exited the counter has risen if and only if someone connected.
//!   Before the first reading, the witness waits for every other backend on the database
//!   (the print-SQL run, our own observer connections) to be gone from `pg_stat_activity`:
//!   a backend flushes its statistics before it leaves that view, so nothing that ended
//!   earlier is counted later as the tool's. On older servers, or when another session
//!   stays connected, the counter is not trusted and this evidence is "not available".
//! - **tracking**: the rows of the tool's tracking query, told apart from "the tracking table
//!   does not exist" (the tool never created it here).

use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::pg;
use crate::secret::Secret;

/// What the tool's tracking query found on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracking {
    /// The tracking table (or its schema) does not exist.
    Absent,
    /// The rows, in the query's order.
    Rows(Vec<String>),
}

impl Tracking {
    pub fn rows(&self) -> &[String] {
        match self {
            Tracking::Absent => &[],
            Tracking::Rows(r) => r,
        }
    }
}

/// Why the witness could not read the target.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// It could not connect.
    #[error(transparent)]
    Connect(#[from] pg::PgError),
    /// A query failed.
    #[error("{}", pg::describe(.0))]
    Query(#[from] tokio_postgres::Error),
}

/// A connection to the target, opened before the tool runs.
pub struct Witness {
    client: Client,
    /// Our backend's pid, left out by the lock sampler while we exist.
    pid: Option<i32>,
    /// `sessions` before the run; `None` when the server cannot tell reliably.
    sessions_before: Option<i64>,
}

/// `application_name` prefix of our own long-lived connections to the target, each of which
/// forces its statistics out before the witness's first reading (see [`pg::FLUSH_OWN_STATS`]).
pub const OWN: &str = "neon-migrate";

/// How long, after the tool exited, its sessions may take to be counted (a backend flushes
/// its statistics while it exits, a moment after the client has gone).
const SETTLE: Duration = Duration::from_secs(5);

impl Witness {
    /// Connects to the target. With `count_sessions`, also takes the first reading of the
    /// sessions counter (only meaningful on a database nobody else uses: the test copy).
    pub async fn open(url: &Secret<String>, count_sessions: bool) -> Result<Witness, WitnessError> {
        let client = pg::connect_observer(url).await?;
        let mut w = Witness {
            client,
            pid: None,
            sessions_before: None,
        };
        let ids = w
            .scalar("select current_setting('server_version_num') || ' ' || pg_backend_pid()")
            .await?
            .unwrap_or_default();
        let mut ids = ids.split(' ').map(|v| v.parse::<i64>().unwrap_or(0));
        let version = ids.next().unwrap_or(0);
        if let Some(pid) = ids.next().and_then(|p| i32::try_from(p).ok()) {
            pg::note_own_pid(pid);
            w.pid = Some(pid);
        }
        if count_sessions && version >= 150_000 {
            // Our own session is counted now, not later while the tool runs.
            w.client
                .simple_query(&format!(
                    "set application_name = '{OWN}'; select pg_stat_force_next_flush()"
                ))
                .await?;
            if w.others_gone().await? {
                w.sessions_before = w.sessions().await?;
            }
        }
        Ok(w)
    }

    /// Waits until no backend but our own flushed ones is connected to the database.
    async fn others_gone(&self) -> Result<bool, WitnessError> {
        let deadline = Instant::now() + SETTLE;
        let sql = format!(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and pid <> pg_backend_pid() and backend_type = 'client backend' \
             and application_name not like '{OWN}%'"
        );
        loop {
            if self.scalar(&sql).await?.as_deref() == Some("0") {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The first column of the last row `sql` returns (of its last statement).
    async fn scalar(&self, sql: &str) -> Result<Option<String>, WitnessError> {
        let messages = self.client.simple_query(sql).await?;
        Ok(messages.into_iter().rev().find_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        }))
    }

    async fn sessions(&self) -> Result<Option<i64>, WitnessError> {
        Ok(self
            .scalar(
                "select pg_stat_clear_snapshot(); \
                 select sessions from pg_stat_database where datname = current_database()",
            )
            .await?
            .and_then(|v| v.parse().ok()))
    }

    /// Sessions opened on the target since [`Witness::open`], waiting briefly for the
    /// statistics of sessions that just ended; `None` when the server cannot tell.
    pub async fn sessions_since(&self) -> Result<Option<i64>, WitnessError> {
        let Some(before) = self.sessions_before else {
            return Ok(None);
        };
        let deadline = Instant::now() + SETTLE;
        loop {
            let now = self.sessions().await?.unwrap_or(before);
            if now > before || Instant::now() >= deadline {
                return Ok(Some((now - before).max(0)));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The tracking query's rows on the target.
    pub async fn tracked(&self, query: &str) -> Result<Tracking, WitnessError> {
        match self.client.simple_query(query).await {
            Ok(messages) => Ok(Tracking::Rows(
                messages
                    .into_iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("").to_owned()),
                        _ => None,
                    })
                    .collect(),
            )),
            Err(e)
                if e.code().is_some_and(|c| {
                    *c == SqlState::UNDEFINED_TABLE || *c == SqlState::INVALID_SCHEMA_NAME
                }) =>
            {
                Ok(Tracking::Absent)
            }
            Err(e) => Err(e.into()),
        }
    }
}

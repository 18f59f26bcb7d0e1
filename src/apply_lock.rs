//! The apply lock and the run lock: Postgres advisory locks that serialize `apply` and
//! `rollback` on one main Neon database branch, and runs of one test Neon database branch name.

use std::time::{Duration, Instant};

use crate::pg;

/// The apply lock: a Postgres advisory lock that serializes `apply` and `rollback` on one
/// main Neon database branch. It is taken where the provider says
/// ([`Provider::apply_lock_url`](crate::providers::Provider::apply_lock_url)) and keyed by
/// the main Neon database branch's name, so projects sharing a server (the local provider
/// takes it on the maintenance database) never wait for each other.
///
/// The same type holds the run lock ([`RUN_LOCK_CLASS`]): the engine takes it before it creates
/// a test Neon database branch and keeps it for the whole run, so runs of one test Neon
/// database branch name take turns instead of replacing each other's copy.
pub(crate) struct ApplyLock {
    client: tokio_postgres::Client,
    class: i32,
    key: String,
    /// Who held it when this session first asked; `None` when it was free at once.
    pub(crate) waited_for: Option<String>,
}

/// First half of the apply lock's key ("nmap"); the second is `hashtext(<main name>)`.
pub const APPLY_LOCK_CLASS: i32 = 0x6e6d_6170;
/// First half of the run lock's key ("nmrn"); the second is `hashtext(<main name> LF <test
/// Neon database branch name>)` (see [`run_lock_key`]).
pub const RUN_LOCK_CLASS: i32 = 0x6e6d_726e;

/// The text whose `hashtext` is the second half of the run lock's key.
pub fn run_lock_key(main: &str, db_branch: &str) -> String {
    format!("{main}\n{db_branch}")
}

/// Why the apply lock was not taken.
pub(crate) enum LockError {
    /// The lock's database could not be reached.
    Unavailable(String),
    /// Someone else held it for the whole wait: who.
    Held(String),
}

impl ApplyLock {
    /// Takes the lock, waiting up to `wait` for whoever holds it. `who` becomes the
    /// session's `application_name`, which is what a waiting run shows.
    pub(crate) async fn acquire(
        provider: &dyn crate::providers::Provider,
        main: &crate::providers::DbBranch,
        wait: Duration,
        who: &str,
    ) -> Result<(ApplyLock, Duration), LockError> {
        let url = provider.apply_lock_url(main);
        Self::acquire_key(&url, APPLY_LOCK_CLASS, &main.name, "apply lock", wait, who).await
    }

    /// Takes advisory lock (`class`, `hashtext(key)`) on the database of `url`, waiting up to
    /// `wait`; `what` names the lock in errors.
    pub(crate) async fn acquire_key(
        url: &crate::secret::Secret<String>,
        class: i32,
        key: &str,
        what: &str,
        wait: Duration,
        who: &str,
    ) -> Result<(ApplyLock, Duration), LockError> {
        let client = pg::connect(url).await.map_err(|e| {
            LockError::Unavailable(format!("cannot connect to take the {what}: {}", e))
        })?;
        // `application_name` holds at most 63 bytes.
        let mut name = who.to_owned();
        while name.len() > 63 {
            name.pop();
        }
        let _ = client
            .batch_execute(&format!("SET application_name = {}", pg::literal(&name)))
            .await;
        let started = Instant::now();
        let mut waited_for = None;
        loop {
            let got: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&class, &key],
                )
                .await
                .map_err(|e| {
                    LockError::Unavailable(format!("cannot take the {what}: {}", pg::describe(&e)))
                })?
                .get(0);
            if got {
                let lock = ApplyLock {
                    client,
                    class,
                    key: key.to_owned(),
                    waited_for,
                };
                return Ok((lock, started.elapsed()));
            }
            if waited_for.is_none() {
                waited_for = Some(holder_of(&client, class, key).await);
            }
            if started.elapsed() >= wait {
                return Err(LockError::Held(holder_of(&client, class, key).await));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits (at most `within`) until backend `pid` has left `pg_stat_activity`: a session
    /// just closed on the main database can linger and block a copy of it.
    pub(crate) async fn wait_session_gone(&self, pid: i32, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let n: i64 = match self
                .client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .await
            {
                Ok(r) => r.get(0),
                Err(_) => return,
            };
            if n == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) async fn release(self) {
        let _ = self
            .client
            .query_one(
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                &[&self.class, &self.key],
            )
            .await;
    }
}

/// The session holding advisory lock (`class`, `hashtext(key)`), described.
async fn holder_of(client: &tokio_postgres::Client, class: i32, key: &str) -> String {
    client
        .query_opt(
            "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), \
             coalesce(a.usename::text, ''), to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid = $1::int4::oid AND l.objid = hashtext($2)::oid LIMIT 1",
            &[&class, &key],
        )
        .await
        .ok()
        .flatten()
        .map(|r| {
            let app: String = r.get(1);
            format!(
                "session pid {} (application `{}`, client {}, user `{}`, connected since {})",
                r.get::<_, i32>(0),
                if app.is_empty() { "?" } else { &app },
                r.get::<_, String>(2),
                r.get::<_, String>(3),
                r.get::<_, String>(4)
            )
        })
        .unwrap_or_else(|| "a session that could not be identified".into())
}

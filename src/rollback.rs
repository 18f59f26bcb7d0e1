//! `neon-migrate rollback`: undo an apply on the main Neon database branch.
//!
//! Two ways back, and the command always says which it will take before doing anything:
//! restore main from a restore point (the default; the current state is kept as a Neon
//! database branch for 7 days), or run the tool's down migrations (`--down`, built-in `sql`
//! tool). It asks for confirmation unless `--yes`; without a terminal it refuses to guess.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::cli::open_provider;
use crate::config::{self, Config};
use crate::exit;
use crate::pg;
use crate::providers::{DbBranchInfo, RESTORE_PREFIX};
use crate::secret::Redactor;
use crate::tools::sql;

fn confirm(yes: bool) -> Result<bool, i32> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "error: rollback needs confirmation\n  help: run it in a terminal, or pass `--yes`"
        );
        return Err(exit::USAGE);
    }
    print!("Type `yes` to continue: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    Ok(line.trim() == "yes")
}

/// Runs `rollback`; returns the exit code.
pub async fn run(config: &Config, to: Option<&str>, down: bool, steps: usize, yes: bool) -> i32 {
    if down && to.is_some() {
        eprintln!("error: `--to` names a restore point, and `--down` does not use one\n  help: pass `--to NAME` to restore from a restore point, or `--down [--steps N]` to run down migrations");
        return exit::USAGE;
    }
    if down && steps == 0 {
        eprintln!("error: `--steps 0` rolls nothing back\n  help: pass `--steps N` with N ≥ 1 (default 1)");
        return exit::USAGE;
    }
    let redactor = Redactor::new();
    let provider = match open_provider(config, &redactor).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    let main = match provider.main_db_branch().await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    // Never at the same time as an apply (or another rollback) of this main Neon database
    // branch: the lock is held until the end.
    let lock = match ApplyLock::acquire(
        provider.as_ref(),
        &main,
        config.apply.lock_wait,
        "neon-migrate rollback",
    )
    .await
    {
        Ok((lock, _)) => lock,
        Err(LockError::Unavailable(m)) => {
            eprintln!("error: {}", redactor.redact(&m));
            return exit::PROVIDER;
        }
        Err(LockError::Held(holder)) => {
            eprintln!(
                "error: an apply or rollback holds the lock on the main Neon database branch {}: {holder}; waited {}\n  help: wait for it to finish and run again, or raise `lock-wait` under [apply]",
                main.name,
                crate::config::duration::format(config.apply.lock_wait)
            );
            return exit::APPLY_REFUSED;
        }
    };
    let code = run_locked(
        config,
        provider.as_ref(),
        &main,
        to,
        down,
        steps,
        yes,
        &redactor,
    )
    .await;
    lock.release().await;
    code
}

#[allow(clippy::too_many_arguments)]
async fn run_locked(
    config: &Config,
    provider: &dyn crate::providers::Provider,
    main: &crate::providers::DbBranch,
    to: Option<&str>,
    down: bool,
    steps: usize,
    yes: bool,
    redactor: &Redactor,
) -> i32 {
    if down {
        let config::ToolKind::Sql { migrations_dir } = &config.tool.kind else {
            eprintln!("error: `--down` runs the built-in `sql` tool's down migrations; this project uses `{}`\n  help: roll back from a restore point instead (without `--down`)", config.tool.name);
            return exit::USAGE;
        };
        let client = match pg::connect(&main.url).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {}", redactor.redact(&e.message));
                return exit::PROVIDER;
            }
        };
        let applied = match sql::applied(&client).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::PROVIDER;
            }
        };
        let last: Vec<String> = applied
            .iter()
            .rev()
            .take(steps)
            .map(|(_, f, _)| f.clone())
            .collect();
        if last.is_empty() {
            println!("nothing to roll back: no migration is recorded on the main Neon database branch {}", main.name);
            return exit::OK;
        }
        let missing: Vec<&String> = last
            .iter()
            .filter(|f| !sql::down_path(migrations_dir, f).is_file())
            .collect();
        if !missing.is_empty() {
            eprintln!("error: no down migration for {}\n  help: roll back from a restore point instead (without `--down`)", missing.iter().map(|f| sql::down_name(f)).collect::<Vec<_>>().join(", "));
            return exit::USAGE;
        }
        println!("This runs, on the main Neon database branch {}:", main.name);
        for f in &last {
            println!("  {}", sql::down_name(f));
        }
        match confirm(yes) {
            Ok(true) => {}
            Ok(false) => {
                println!("cancelled");
                return exit::OK;
            }
            Err(code) => return code,
        }
        let mut in_order = last.clone();
        in_order.reverse();
        return match sql::revert(migrations_dir, &main.url, &in_order).await {
            Ok(done) => {
                println!("rolled back: {}", done.join(", "));
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {}", redactor.redact(&e.to_string()));
                exit::MIGRATION_FAILED
            }
        };
    }

    let points: Vec<DbBranchInfo> = match provider.list().await {
        Ok(l) => l
            .into_iter()
            .filter(|b| b.name.starts_with(RESTORE_PREFIX))
            .collect(),
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    let chosen = match to {
        Some(name) => points.iter().find(|p| p.name == name || p.id == name),
        None => points.iter().max_by_key(|p| p.created_at),
    };
    let Some(point) = chosen else {
        let list = points
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        eprintln!(
            "error: no restore point{} of the main Neon database branch {}\n  help: restore points are created by `apply` (see `restore-point` under [apply]); existing: {}",
            to.map(|t| format!(" named `{t}`")).unwrap_or_default(),
            main.name,
            if list.is_empty() { "none".into() } else { list }
        );
        return exit::USAGE;
    };
    let keep = crate::naming::sanitize(
        &format!(
            "{}-before-rollback-{}",
            main.name,
            Utc::now().format("%Y%m%d-%H%M%S")
        ),
        63,
    );
    println!(
        "This restores the main Neon database branch {} from restore point {}",
        main.name, point.name
    );
    println!(
        "  created {} on git branch {} at {}",
        crate::providers::local::rfc3339(point.created_at),
        point.git_branch,
        &point.git_sha[..point.git_sha.len().min(7)]
    );
    // The local provider keeps the previous state with a TTL; Neon moves main's children
    // (restore points, test Neon database branches) onto it, and a Neon database branch with
    // children cannot expire.
    let kept_for = match &config.provider {
        config::ProviderConfig::Local(_) => " (expires in 7 days)",
        config::ProviderConfig::Neon(_) => " (no expiry: delete it when you no longer need it)",
    };
    println!(
        "  every change made to {} since then is undone; its current state is kept as {keep}{kept_for}",
        main.name
    );
    println!("  sessions connected to {} are ended", main.name);
    match confirm(yes) {
        Ok(true) => {}
        Ok(false) => {
            println!("cancelled");
            return exit::OK;
        }
        Err(code) => return code,
    }
    match provider.restore_main(point, &keep).await {
        Ok(()) => {
            println!(
                "restored {} from {}; the previous state is {keep}",
                main.name, point.name
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            if let Some(h) = e.help {
                eprintln!("  help: {h}");
            }
            exit::PROVIDER
        }
    }
}

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
            LockError::Unavailable(format!("cannot connect to take the {what}: {}", e.message))
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

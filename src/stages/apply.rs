//! `apply`: the same tool on the main Neon database branch — the one stage that touches
//! production, and the safest.
//!
//! The engine reaches it only when every earlier stage of this run passed. Then, in order:
//! policy (only from the git branches allowed), drift (the main Neon database branch must
//! still have the schema its test copy had when this run created it), serialization (a
//! Postgres advisory lock; a second apply waits, then stops naming the holder), a restore
//! point (a Neon database branch of main with a TTL, for `neon-migrate rollback`), and the
//! tool with `lock_timeout`/`statement_timeout`, retried with backoff after a lock timeout
//! (SQLSTATE 55P03) — the tools record progress per migration, so a retry resumes. Last,
//! main is held to the rehearsal: its schema must now equal the test copy's after the same
//! migrations ([`super::applied`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::apply_lock::{ApplyLock, LockError};
use crate::config::ToolKind;
use crate::engine::{RunContext, StageFailure, StageResult};
use crate::exit;
use crate::pg;
use crate::providers::DbBranch;
use crate::providers::{CreateRequest, RESTORE_PREFIX};
use crate::schema;
use crate::secret::Secret;
use crate::tools::handoff::PgUrl;
use crate::tools::{sql, Target};

fn refuse(message: impl Into<String>, help: impl Into<String>) -> StageFailure {
    StageFailure::new(exit::APPLY_REFUSED, message).help(Some(help.into()))
}

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let cfg = &ctx.config.apply;
    let mut details = Vec::new();

    // 1. Policy: which git branches may apply.
    if ctx.git.detached {
        return Err(refuse(
            "refusing to apply from a detached HEAD: policy names git branches",
            "check out an allowed git branch (see `git-branches` under [apply])",
        ));
    }
    let allowed: Vec<String> = match &cfg.git_branches {
        Some(list) => list.clone(),
        None => crate::git::default_git_branch(&ctx.git.root)
            .into_iter()
            .collect(),
    };
    if !allowed.iter().any(|b| b == &ctx.git.branch) {
        let rule = if cfg.git_branches.is_some() {
            "`git-branches` under [apply]"
        } else {
            "the default policy (only the repository's default git branch)"
        };
        return Err(refuse(
            format!("refusing to apply from git branch `{}`: {rule} allows only {}", ctx.git.branch, allowed.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")),
            format!("apply from an allowed git branch (usually in CI after the merge), or add `{}` to `git-branches` under [apply]", ctx.git.branch),
        ));
    }

    // The proof must be this run's: a copy still there is checked now; a deleted one was
    // checked by the delete stage, just before it deleted it.
    if !ctx.deleted {
        super::verify_ours(ctx, "before apply").await?;
    }

    let main = ctx.provider.main_db_branch().await.map_err(|e| {
        StageFailure::new(
            exit::PROVIDER,
            format!("cannot reach the main Neon database branch: {}", e),
        )
        .help(e.help_text())
    })?;
    let Some(expected) = ctx.observations.before.as_ref() else {
        return Err(refuse(
            "refusing to apply: the schema of the main Neon database branch at the time of the test copy was not recorded",
            "the pipeline must run `migrate` (with the `schema` or `reversible` check enabled) before `apply`",
        ));
    };

    // 2. Serialize applies with an advisory lock, held for the whole stage: the drift check
    // belongs under it too, or two runs could both pass it and then apply one after the other.
    let who = format!(
        "neon-migrate apply {}@{}",
        ctx.git.branch,
        &ctx.git.sha[..ctx.git.sha.len().min(7)]
    );
    let (lock, waited) = match ApplyLock::acquire(ctx.provider, &main, cfg.lock_wait, &who).await {
        Ok(l) => l,
        Err(LockError::Unavailable(m)) => return Err(StageFailure::new(exit::PROVIDER, m)),
        Err(LockError::Held(holder)) => {
            return Err(refuse(
                format!(
                    "another apply holds the lock on the main Neon database branch {}: {holder}; waited {}",
                    main.name,
                    crate::config::duration::format(cfg.lock_wait)
                ),
                "wait for it to finish and run again, or raise `lock-wait` under [apply]",
            ))
        }
    };
    if waited > Duration::from_millis(300) {
        details.push(format!(
            "waited {:.1} s for another apply",
            waited.as_secs_f64()
        ));
    }
    let expected = expected.clone();
    let result = match drift(ctx, &main, &expected, &lock).await {
        Ok((line, main_before)) => {
            details.push(line);
            match apply_locked(ctx, &main, details).await {
                Ok(out) => super::applied::verify(ctx, &main, &main_before, out).await,
                Err(f) => Err(f),
            }
        }
        Err(f) => Err(f),
    };
    ctx.apply_in_flight = None;
    lock.release().await;
    result
}

/// Step 3, drift: main must still be what the test Neon database branch was copied from.
/// Returns the line to show and main's schema as read (just before the apply, under the lock).
async fn drift(
    ctx: &RunContext<'_>,
    main: &crate::providers::DbBranch,
    expected: &schema::Model,
    lock: &ApplyLock,
) -> Result<(String, schema::Model), StageFailure> {
    let _ = ctx;
    let client = pg::connect(&main.url)
        .await
        .map_err(|e| StageFailure::new(exit::PROVIDER, e.to_string()))?;
    let pid: Option<i32> = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .ok()
        .map(|r| r.get(0));
    let now = schema::introspect(&client, &schema::default_excluded())
        .await
        .map_err(|e| {
            StageFailure::new(
                exit::PROVIDER,
                format!("cannot introspect the main Neon database branch: {}", e),
            )
        });
    drop(client);
    // A closed session lingers for a moment, and a copy of main (the restore point, on the
    // local provider) cannot start while it does.
    if let Some(pid) = pid {
        lock.wait_session_gone(pid, Duration::from_secs(5)).await;
    }
    let now = now?;
    let main_before = now.clone();
    let (now, expected, note) = comparable(ctx, now, expected);
    let expected = &expected;
    if schema::fingerprint(&now) != schema::fingerprint(expected) {
        let plan = schema::plan(expected, &now, &schema::PlanOptions::default());
        let changes: Vec<String> = plan
            .statements
            .iter()
            .map(|s| s.sql.lines().next().unwrap_or("").to_owned())
            .chain(plan.unsupported.clone())
            .take(10)
            .collect();
        let mut f = refuse(
            format!("refusing to apply: the main Neon database branch changed since this run copied it ({} change(s))", plan.statements.len() + plan.unsupported.len()),
            "someone changed production in between: run the pipeline again so the migrations are proven against the current schema",
        );
        f.shown.details = changes
            .into_iter()
            .map(|c| format!("changed on main: {c}"))
            .collect();
        return Err(f);
    }
    Ok((
        format!(
            "no drift: main's schema fingerprint is {}{note}",
            &schema::fingerprint(&now)[..12]
        ),
        main_before,
    ))
}

/// Main now and its test copy as they can be compared. On the local provider the copy was
/// handed to a role of its own (`tool-role = "copy-owner"`) that owns every object in it:
/// main's owners are not in the copy, so owners are left out of the comparison (privileges
/// stay in: grants survive the hand-over), and the copy's default privileges of the role
/// that reads main are that role's defaults. Anywhere else (Neon, `tool-role = "server"`)
/// both are read as the same role and compared whole.
pub(super) fn comparable(
    ctx: &RunContext<'_>,
    now: schema::Model,
    expected: &schema::Model,
) -> (schema::Model, schema::Model, &'static str) {
    let handed_over = matches!(&ctx.config.provider,
        crate::config::ProviderConfig::Local(l) if l.tool_role == crate::config::ToolRole::CopyOwner);
    let (now, expected) = (without_database(now), without_database(expected.clone()));
    let expected = &expected;
    if !handed_over || now.connected_as == expected.connected_as {
        return (now, expected.clone(), "");
    }
    let role = now.connected_as.clone();
    (
        schema::plan::without_owners(&now, &role),
        schema::plan::without_owners(expected, &role),
        " (owners not compared: the local test copy is owned by a role of its own)",
    )
}

/// `m` without the catalog net's row of the database itself (its privileges, comment and
/// owner): a test copy that is a database of its own (the local provider, Neon's emulator)
/// is made by `CREATE DATABASE … TEMPLATE`, which copies none of them, and the local
/// provider keeps its own metadata in the copy's comment. The schema check, which compares
/// one test copy before and after the migration, still sees them.
fn without_database(mut m: schema::Model) -> schema::Model {
    if let Some(c) = m.catalog.as_mut() {
        c.retain(|id, _| id.kind != schema::catalog::DATABASE);
    }
    m
}

async fn apply_locked(
    ctx: &mut RunContext<'_>,
    main: &crate::providers::DbBranch,
    mut details: Vec<String>,
) -> StageResult {
    let cfg = &ctx.config.apply;
    // 4. Restore point.
    if cfg.restore_point {
        // To the millisecond: two applies within one second must not share a name (the
        // second would replace the first's restore point, or be refused as someone else's).
        let stamp = Utc::now().format("%Y%m%d-%H%M%S-%3f");
        let req = CreateRequest {
            name: crate::naming::sanitize(
                &format!("{RESTORE_PREFIX}{}-{stamp}", main.name),
                crate::naming::MAX_LEN,
            ),
            ttl: cfg.restore_point_ttl,
            git_branch: ctx.git.branch.clone(),
            git_sha: ctx.git.sha.clone(),
            pipeline: "restore-point".into(),
            run_id: ctx.run_id.clone(),
        };
        let rp = ctx.provider.create(&req).await.map_err(|e| {
            StageFailure::new(exit::PROVIDER, format!("cannot create the restore point {}: {}", req.name, e))
                .help(Some("nothing was applied; set `restore-point = false` under [apply] only if you have another way back".into()))
        })?;
        let expires = rp.expires_at.map(crate::time::rfc3339).unwrap_or_default();
        details.push(format!(
            "restore point {} (expires {expires}); `neon-migrate rollback` restores from it",
            rp.name
        ));
        ctx.restore_point = Some(rp.name);
    }

    // 5. The tool, with timeouts, retried after lock timeouts. Every session of this apply
    // on main carries an application name of its own, so that an interrupt can find and
    // cancel them — the tool's too (libpq and most drivers read it from the URL, libpq also
    // from PGAPPNAME).
    ctx.tool_timeouts = Some((cfg.lock_timeout, cfg.statement_timeout));
    let tag = format!(
        "neon-migrate-apply-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    );
    let target = Target {
        name: format!("main Neon database branch {}", main.name),
        url: with_application_name(&main.url, &tag),
    };
    let flight = ApplyInFlight::start(ctx, main, tag).await;
    // On PostgreSQL 14+, a backend whose client died (the tool, killed on an interrupt)
    // notices within a second, aborts its statement and rolls back — a backend running a
    // simple-query string would otherwise run on, and commit, with nobody left to stop it.
    ctx.tool_connection_check = flight
        .server_version
        .filter(|v| *v >= 140_000)
        .map(|_| CONNECTION_CHECK);
    ctx.apply_in_flight = Some(flight);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = super::migrate::run_tool(ctx, target.clone(), true).await;
        match outcome.stage {
            Ok(mut s) => {
                if attempt > 1 {
                    details.push(format!(
                        "succeeded on attempt {attempt} after lock timeouts"
                    ));
                }
                details.append(&mut s.details);
                s.details = details;
                return Ok(s);
            }
            Err(_) if outcome.lock_timeout && attempt <= cfg.retries as usize => {
                let wait = Duration::from_millis(500 * (1 << (attempt - 1).min(5)));
                details.push(format!(
                    "attempt {attempt}: lock timeout; retrying in {:.1} s",
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
            }
            Err(mut f) => {
                if outcome.lock_timeout {
                    let who = match long_transactions(&main.url).await {
                        Some(list) if !list.is_empty() => format!(
                            " — open transactions on the main Neon database branch, oldest first: {}",
                            list.join("; ")
                        ),
                        _ => "; find it in pg_stat_activity".into(),
                    };
                    f.help = Some(format!(
                        "gave up after {attempt} attempt(s): a long transaction keeps a lock the migration needs{who}; end it, or raise `lock-timeout`/`retries` under [apply]"
                    ));
                }
                if let Some(rp) = &ctx.restore_point {
                    details.push(format!(
                        "restore point {rp} holds the state before this apply"
                    ));
                }
                details.append(&mut f.shown.details);
                f.shown.details = details;
                return Err(f);
            }
        }
    }
}

/// Sessions with an open transaction on the main Neon database branch (the likely holders of
/// the lock the migration waited for), oldest first; `None` when they cannot be read.
async fn long_transactions(url: &crate::secret::Secret<String>) -> Option<Vec<String>> {
    let client = pg::connect(url).await.ok()?;
    let rows = client
        .query(
            "SELECT pid, coalesce(application_name, ''), coalesce(usename::text, ''), coalesce(state, ''), \
             to_char(xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND xact_start IS NOT NULL ORDER BY xact_start LIMIT 3",
            &[],
        )
        .await
        .ok()?;
    Some(
        rows.iter()
            .map(|r| {
                let app: String = r.get(1);
                format!(
                    "pid {} (application `{}`, user `{}`, {}, in a transaction since {})",
                    r.get::<_, i32>(0),
                    if app.is_empty() { "?" } else { &app },
                    r.get::<_, String>(2),
                    r.get::<_, String>(3),
                    r.get::<_, Option<String>>(4).unwrap_or_default()
                )
            })
            .collect(),
    )
}

/// `url` with `application_name=<name>` (replacing any the URL had).
fn with_application_name(url: &Secret<String>, name: &str) -> Secret<String> {
    match PgUrl::parse(url.expose()) {
        Some(mut u) => {
            u.params.retain(|(k, _)| k != "application_name");
            u.params.push(("application_name".into(), name.into()));
            Secret::new(u.render())
        }
        None => url.clone(),
    }
}

/// The tool's run on the main Neon database branch, as an interrupt needs to know it: how
/// to find its sessions and what was applied before it started.
pub struct ApplyInFlight {
    main_url: Secret<String>,
    main_name: String,
    /// The application name of every session of this apply.
    tag: String,
    /// When the tool started, by the server's clock.
    since: Option<DateTime<Utc>>,
    /// The tool's tracking rows before it started (`None`: unknown).
    before: Option<Vec<String>>,
    /// `server_version_num` of main (`None`: unknown).
    server_version: Option<i32>,
}

/// `client_connection_check_interval` for the tool's sessions during apply.
const CONNECTION_CHECK: Duration = Duration::from_secs(1);

impl ApplyInFlight {
    async fn start(ctx: &RunContext<'_>, main: &DbBranch, tag: String) -> ApplyInFlight {
        let mut flight = ApplyInFlight {
            main_url: main.url.clone(),
            main_name: main.name.clone(),
            tag,
            since: None,
            before: None,
            server_version: None,
        };
        if let Ok(client) = pg::connect(&main.url).await {
            if let Ok(r) = client
                .query_one(
                    "SELECT clock_timestamp(), current_setting('server_version_num')::int",
                    &[],
                )
                .await
            {
                flight.since = Some(r.get(0));
                flight.server_version = Some(r.get(1));
            }
            flight.before = tracked(&client, ctx.config).await;
        }
        flight
    }
}

/// The names of applied migrations in the tool's tracking table, `None` when unknown.
async fn tracked(client: &Client, config: &crate::config::Config) -> Option<Vec<String>> {
    let query = match &config.tool.kind {
        ToolKind::Sql { .. } => format!(
            "SELECT file FROM {}.{} ORDER BY applied_at, version",
            sql::TRACKING_SCHEMA,
            sql::TRACKING_TABLE
        ),
        _ => config.tool.tracking.as_ref()?.query.clone(),
    };
    match client.simple_query(&query).await {
        Ok(messages) => Some(
            messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some(r.get(0).unwrap_or("").to_owned())
                    }
                    _ => None,
                })
                .collect(),
        ),
        Err(e)
            if e.code().is_some_and(|c| {
                *c == SqlState::UNDEFINED_TABLE || *c == SqlState::INVALID_SCHEMA_NAME
            }) =>
        {
            Some(Vec::new())
        }
        Err(_) => None,
    }
}

/// Sessions of an interrupted apply on main: tagged with its application name, or (for a
/// tool that set its own) opened by the same role since the tool started, not by
/// neon-migrate, and running a statement or inside a transaction — whatever they hold, or
/// would still commit. A tool that sets its own application name and holds only ROW
/// EXCLUSIVE (a data migration) is found too. On a role shared with an application, that
/// application's sessions opened during the apply are among them.
const SESSIONS: &str = "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''), \
    coalesce(a.wait_event_type, ''), left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 80) \
    FROM pg_stat_activity a \
    WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() \
    AND a.backend_type = 'client backend' \
    AND (a.application_name = $1 OR ($2::timestamptz IS NOT NULL AND a.backend_start >= $2 \
        AND a.usename = current_user \
        AND coalesce(a.application_name, '') NOT LIKE 'neon-migrate%' \
        AND (a.state = 'active' OR a.state LIKE 'idle in transaction%' OR a.xact_start IS NOT NULL)))";

/// After an interrupt during `apply`: cancels the tool's and our sessions on main (ending
/// those that keep their locks), verifies that none holds a lock any more, and says what
/// was rolled back and what stays applied.
pub async fn interrupted(
    ctx: &RunContext<'_>,
    flight: ApplyInFlight,
    mut f: StageFailure,
) -> StageFailure {
    let help = format!(
        "find what is left with `SELECT pid, state, query FROM pg_stat_activity WHERE application_name = '{}'` on the main Neon database branch and end it with `SELECT pg_cancel_backend(pid)`",
        flight.tag
    );
    let work = cancel_sessions(ctx, &flight);
    match tokio::time::timeout(Duration::from_secs(30), work).await {
        Ok(Ok(Cleanup {
            message,
            mut details,
        })) => {
            f.message = message;
            if let Some(rp) = &ctx.restore_point {
                details.push(format!(
                    "restore point {rp} holds the state before this apply"
                ));
            }
            f.shown.details = details;
        }
        Ok(Err(e)) => {
            f.message = format!(
                "interrupted by a signal during apply; the migration's sessions on the main Neon database branch {} may still run: {e}",
                flight.main_name
            );
            f.help = Some(help);
        }
        Err(_) => {
            f.message = format!(
                "interrupted by a signal during apply; the migration's sessions on the main Neon database branch {} did not end within 30 s",
                flight.main_name
            );
            f.help = Some(help);
        }
    }
    f
}

/// What the cleanup after an interrupted apply did: the stage's message, and the lines under it.
struct Cleanup {
    message: String,
    details: Vec<String>,
}

/// Why the sessions of an interrupted apply may still run on main.
#[derive(Debug, thiserror::Error)]
enum CancelError {
    #[error(transparent)]
    Connect(#[from] pg::PgError),
    #[error("{}", pg::describe(.0))]
    Query(#[from] tokio_postgres::Error),
    #[error("still there after cancel and terminate: {0}")]
    StillThere(String),
    #[error("session(s) came back after the cleanup: pid(s) {0}")]
    CameBack(String),
}

async fn cancel_sessions(
    ctx: &RunContext<'_>,
    flight: &ApplyInFlight,
) -> Result<Cleanup, CancelError> {
    let client = pg::connect(&flight.main_url).await?;
    let mut details = Vec::new();
    let cancelled = end_sessions(&client, flight, &mut details).await?;
    // Checked, not assumed: read once more, now that the loop saw none.
    let left = client
        .query(SESSIONS, &[&flight.tag, &flight.since])
        .await?;
    if !left.is_empty() {
        return Err(CancelError::CameBack(
            left.iter()
                .map(|r| r.get::<_, i32>(0).to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let role: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .map(|r| r.get(0))
        .unwrap_or_default();
    if flight.since.is_some() {
        details.push(format!(
            "checked after the cleanup: no session of neon-migrate's apply is left on the main Neon database branch, and no session role `{role}` opened there since the apply started is running a statement or inside a transaction"
        ));
    } else {
        details.push(format!(
            "checked after the cleanup: no session named `{}` is left on the main Neon database branch; sessions the tool opened under another application name could not be looked for (the start of the apply is unknown)",
            flight.tag
        ));
    }
    // What stays applied, what was rolled back.
    let (rolled_back, kept_line) = what_stays(ctx, flight, &client, cancelled == 0).await;
    details.push(rolled_back.clone());
    details.push(kept_line.clone());
    let sessions = if cancelled == 0 {
        "no session of the migration was running on it".to_owned()
    } else {
        format!("cancelled {cancelled} session(s) of the migration on it")
    };
    Ok(Cleanup {
        message: format!(
            "interrupted by a signal during apply to the main Neon database branch {}: {sessions}; {rolled_back}; {kept_line}",
            flight.main_name
        ),
        details,
    })
}

/// Cancels the apply's sessions on main until none is left, ending those still there after
/// 5 s; a line per session goes to `details`. Returns how many were cancelled.
async fn end_sessions(
    client: &Client,
    flight: &ApplyInFlight,
    details: &mut Vec<String>,
) -> Result<usize, CancelError> {
    let mut cancelled: Vec<i32> = Vec::new();
    let mut terminated: Vec<i32> = Vec::new();
    let started = std::time::Instant::now();
    loop {
        let rows = client
            .query(SESSIONS, &[&flight.tag, &flight.since])
            .await?;
        for r in &rows {
            let pid: i32 = r.get(0);
            if cancelled.contains(&pid) {
                continue;
            }
            let _ = client
                .query_one("SELECT pg_cancel_backend($1)", &[&pid])
                .await;
            cancelled.push(pid);
            let app: String = r.get(1);
            let wait: String = r.get(3);
            details.push(format!(
                "cancelled pid {pid} (application `{}`, {}{}): {}",
                if app.is_empty() { "?" } else { &app },
                r.get::<_, String>(2),
                if wait.is_empty() {
                    String::new()
                } else {
                    format!(", waiting on {wait}")
                },
                r.get::<_, String>(4)
            ));
        }
        // Done when the sessions are gone: a cancelled statement's session ends once its
        // client (the killed tool, our dropped connection) is gone.
        if rows.is_empty() {
            return Ok(cancelled.len());
        }
        if started.elapsed() > Duration::from_secs(5) {
            // A session still there after the cancel (idle in a transaction whose client is
            // gone, holding its locks) is ours or the tool's: end it.
            for r in &rows {
                let pid: i32 = r.get(0);
                if !terminated.contains(&pid) {
                    let _ = client
                        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                        .await;
                    terminated.push(pid);
                    details.push(format!(
                        "ended pid {pid}: it was still there after the cancel"
                    ));
                }
            }
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(CancelError::StillThere(
                rows.iter()
                    .map(|r| {
                        let app: String = r.get(1);
                        format!(
                            "pid {} (application `{}`, {}): {}",
                            r.get::<_, i32>(0),
                            if app.is_empty() { "?" } else { &app },
                            r.get::<_, String>(2),
                            r.get::<_, String>(4)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// After the cleanup: what was rolled back, and what stays applied (the "rolled back: …" and
/// "kept: …" lines). `none_cancelled`: the tool's sessions had already ended.
async fn what_stays(
    ctx: &RunContext<'_>,
    flight: &ApplyInFlight,
    client: &Client,
    none_cancelled: bool,
) -> (String, String) {
    let after = tracked(client, ctx.config).await;
    let kept: Option<Vec<String>> = match (&flight.before, &after) {
        (Some(b), Some(a)) => Some(a.iter().filter(|m| !b.contains(m)).cloned().collect()),
        _ => None,
    };
    let pending: Option<Vec<String>> = match (&ctx.config.tool.kind, &after) {
        (ToolKind::Sql { migrations_dir }, Some(a)) => sql::load(migrations_dir).ok().map(|all| {
            all.into_iter()
                .map(|m| m.file)
                .filter(|f| !a.contains(f))
                .collect()
        }),
        _ => None,
    };
    let rolled_back = match &pending {
        Some(p) if !p.is_empty() => format!(
            "rolled back: the open transaction of the migration in progress; not applied: {}",
            p.join(", ")
        ),
        _ => "rolled back: the open transaction of the migration in progress".into(),
    };
    // Nothing cancelled: the tool's sessions had already ended (a backend whose client died
    // aborts on its own, see `CONNECTION_CHECK`), and the server rolled back what they had
    // not committed.
    let rolled_back = if none_cancelled {
        rolled_back.replacen(
            "the open transaction of the migration in progress",
            "whatever the migration had not committed (its sessions had already ended)",
            1,
        )
    } else {
        rolled_back
    };
    let kept_line = match &kept {
        Some(k) if k.is_empty() => {
            "kept: nothing — no migration of this run was recorded as applied".to_owned()
        }
        Some(k) => format!(
            "kept: applied by this run before the interrupt: {}",
            k.join(", ")
        ),
        None => "kept: unknown — the tool's tracking table cannot be read".to_owned(),
    };
    (rolled_back, kept_line)
}

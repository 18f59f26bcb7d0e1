//! `apply`: the same tool on the main Neon database branch — the one stage that touches
//! production, and the safest.
//!
//! The engine reaches it only when every earlier stage of this run passed. Then, in order:
//! policy (only from the git branches allowed), drift (the main Neon database branch must
//! still have the schema its test copy had when this run created it), serialization (a
//! Postgres advisory lock; a second apply waits, then stops naming the holder), a restore
//! point (a Neon database branch of main with a TTL, for `neon-migrate rollback`), and the
//! tool with `lock_timeout`/`statement_timeout`, retried with backoff after a lock timeout
//! (SQLSTATE 55P03) — the tools record progress per migration, so a retry resumes.

use std::time::Duration;

use chrono::Utc;

use crate::engine::{RunContext, StageFailure, StageResult};
use crate::exit;
use crate::pg;
use crate::providers::{CreateRequest, RESTORE_PREFIX};
use crate::rollback::{ApplyLock, LockError};
use crate::schema;
use crate::tools::Target;

fn refuse(message: impl Into<String>, help: impl Into<String>) -> StageFailure {
    StageFailure::new(exit::APPLY_REFUSED, message).help(Some(help.into()))
}

fn is_lock_timeout(f: &StageFailure) -> bool {
    let text = format!("{}\n{}", f.message, f.output.as_deref().unwrap_or(""));
    text.contains("55P03") || text.contains("lock timeout")
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
            format!("cannot reach the main Neon database branch: {}", e.message),
        )
        .help(e.help)
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
        Ok(line) => {
            details.push(line);
            apply_locked(ctx, &main, details).await
        }
        Err(f) => Err(f),
    };
    lock.release().await;
    result
}

/// 3. Drift: main must still be what the test Neon database branch was copied from.
async fn drift(
    ctx: &RunContext<'_>,
    main: &crate::providers::DbBranch,
    expected: &schema::Model,
    lock: &ApplyLock,
) -> Result<String, StageFailure> {
    let _ = ctx;
    let client = pg::connect(&main.url)
        .await
        .map_err(|e| StageFailure::new(exit::PROVIDER, e.message))?;
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
                format!(
                    "cannot introspect the main Neon database branch: {}",
                    e.message
                ),
            )
        });
    drop(client);
    // A closed session lingers for a moment, and a copy of main (the restore point, on the
    // local provider) cannot start while it does.
    if let Some(pid) = pid {
        lock.wait_session_gone(pid, Duration::from_secs(5)).await;
    }
    let now = now?;
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
        f.details = changes
            .into_iter()
            .map(|c| format!("changed on main: {c}"))
            .collect();
        return Err(f);
    }
    Ok(format!(
        "no drift: main's schema fingerprint is {}",
        &schema::fingerprint(&now)[..12]
    ))
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
            StageFailure::new(exit::PROVIDER, format!("cannot create the restore point {}: {}", req.name, e.message))
                .help(Some("nothing was applied; set `restore-point = false` under [apply] only if you have another way back".into()))
        })?;
        let expires = rp
            .expires_at
            .map(crate::providers::local::rfc3339)
            .unwrap_or_default();
        details.push(format!(
            "restore point {} (expires {expires}); `neon-migrate rollback` restores from it",
            rp.name
        ));
        ctx.restore_point = Some(rp.name);
    }

    // 5. The tool, with timeouts, retried after lock timeouts.
    ctx.tool_timeouts = Some((cfg.lock_timeout, cfg.statement_timeout));
    let target = Target {
        name: format!("main Neon database branch {}", main.name),
        url: main.url.clone(),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (result, _) = super::migrate::run_tool(ctx, target.clone(), true).await;
        match result {
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
            Err(f) if is_lock_timeout(&f) && attempt <= cfg.retries as usize => {
                let wait = Duration::from_millis(500 * (1 << (attempt - 1).min(5)));
                details.push(format!(
                    "attempt {attempt}: lock timeout; retrying in {:.1} s",
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
            }
            Err(mut f) => {
                if is_lock_timeout(&f) {
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
                details.append(&mut f.details);
                f.details = details;
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

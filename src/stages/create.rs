//! `create-neon-database-branch`: a test Neon database branch of the main one, with a TTL.

use crate::apply_lock::{run_lock_key, ApplyLock, LockError, RUN_LOCK_CLASS};
use crate::engine::{RunContext, StageFailure, StageOutput, StageResult};
use crate::exit;
use crate::providers::CreateRequest;
use crate::template::DbBranchVars;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let mut details = Vec::new();
    if ctx.run_lock.is_none() {
        if let Some(line) = take_run_lock(ctx).await? {
            details.push(line);
        }
    }
    let req = CreateRequest {
        name: ctx.db_branch_name.clone(),
        ttl: ctx.config.db_branch.ttl,
        git_branch: ctx.git.branch.clone(),
        git_sha: ctx.git.sha.clone(),
        pipeline: ctx.pipeline.name.clone(),
        run_id: ctx.run_id.clone(),
    };
    let branch = ctx.provider.create(&req).await.map_err(|e| {
        StageFailure::new(
            exit::PROVIDER,
            format!(
                "cannot create the test Neon database branch {}: {}",
                req.name, e
            ),
        )
        .help(e.help_text())
    })?;
    ctx.redactor.add_url(branch.url.expose());
    ctx.vars.db_branch = Some(DbBranchVars {
        name: branch.name.clone(),
        url: branch.url.clone(),
        parent: branch.parent.clone(),
    });
    let expires = branch
        .expires_at
        .map(crate::time::rfc3339)
        .unwrap_or_else(|| "never".into());
    let summary = format!(
        "created {} from {} (expires {expires})",
        branch.name, branch.parent
    );
    ctx.db_branch = Some(branch);
    ctx.deleted = false;
    Ok(StageOutput {
        summary,
        details,
        ..Default::default()
    })
}

/// Takes the run lock of this test Neon database branch name, on the main Neon database
/// branch (the local provider: on the server's maintenance database, where a session does not
/// block copies of main), waiting up to `lock-wait` for the run that holds it. The engine
/// releases it when the run ends, so the next run copies main as this one left it; a run that
/// dies releases it with its session. Returns a line for the report when it waited.
async fn take_run_lock(ctx: &mut RunContext<'_>) -> Result<Option<String>, StageFailure> {
    let main = ctx.provider.main_db_branch().await.map_err(|e| {
        StageFailure::new(
            exit::PROVIDER,
            format!(
                "cannot reach the main Neon database branch to take the run lock of {}: {}",
                ctx.db_branch_name, e
            ),
        )
        .help(e.help_text())
    })?;
    let who = format!(
        "neon-migrate run {} {}@{}",
        ctx.pipeline.name,
        ctx.git.branch,
        &ctx.git.sha[..ctx.git.sha.len().min(7)]
    );
    let wait = ctx.config.db_branch.lock_wait;
    let key = run_lock_key(&main.name, &ctx.db_branch_name);
    let url = ctx.provider.apply_lock_url(&main);
    match ApplyLock::acquire_key(&url, RUN_LOCK_CLASS, &key, "run lock", wait, &who).await {
        Ok((lock, waited)) => {
            let line = lock.waited_for.as_ref().map(|holder| {
                format!(
                    "waited {:.1} s for another run of {} to finish ({holder}); then copied {} as that run left it",
                    waited.as_secs_f64(),
                    ctx.db_branch_name,
                    main.name
                )
            });
            ctx.run_lock = Some(lock);
            Ok(line)
        }
        Err(LockError::Unavailable(m)) => Err(StageFailure::new(exit::PROVIDER, m)),
        Err(LockError::Held(holder)) => Err(StageFailure::new(
            exit::PROVIDER,
            format!(
                "another run of the test Neon database branch {} is still running after {}: {holder}",
                ctx.db_branch_name,
                crate::config::duration::format(wait)
            ),
        )
        .help(Some(
            "runs of one test Neon database branch name take turns; wait for it and run again, or raise `lock-wait` under [neon-database-branch]".into(),
        ))),
    }
}

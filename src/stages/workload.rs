//! The `workload` check's part in the stages: `migrate` starts the rehearsal before the tool
//! runs and finishes it after; `checks` judges what it measured. The machinery is in
//! [`crate::checks::workload`].

use crate::checks::workload::{self, Rehearsal, Target, WorkloadError};
use crate::checks::{CheckResult, Observations};
use crate::config::{ProviderConfig, ToolKind};
use crate::engine::RunContext;
use crate::pg;
use crate::tools;

/// Starts the rehearsal on the test Neon database branch (baseline window included); `None`
/// when the check is off. Runs before the lock sampler starts and before the tool, so none
/// of its sessions is the tool's and none of its reads is counted as the migration's locks.
pub(super) async fn start(
    ctx: &RunContext<'_>,
    target: &tools::Target,
) -> Option<Result<Rehearsal, WorkloadError>> {
    let cfg = &ctx.config.checks.workload;
    if !cfg.enabled {
        return None;
    }
    let pending = pending_sql(ctx, target).await;
    let main = ctx.provider.main_db_branch().await.ok();
    // On the local provider the parent's statistics are read through the same server (a
    // session on the parent would block template copies); on Neon, on the parent itself.
    let (parent_url, parent_database) = match (&ctx.config.provider, &main) {
        (ProviderConfig::Local(_), Some(m)) => (None, Some(m.id.as_str())),
        (ProviderConfig::Neon(_), Some(m)) => (Some(&m.url), None),
        _ => (None, None),
    };
    let t = Target {
        url: &target.url,
        parent_url,
        parent_database,
        pending_sql: pending.as_deref(),
    };
    Some(Rehearsal::start(cfg, &t).await)
}

/// The SQL of the pending migrations: the built-in tool's files not yet applied, or what the
/// tool's print-SQL mode printed.
async fn pending_sql(ctx: &RunContext<'_>, target: &tools::Target) -> Option<String> {
    match &ctx.config.tool.kind {
        ToolKind::Sql { migrations_dir } => {
            let all = tools::sql::load(migrations_dir).ok()?;
            let client = pg::connect_observer(&target.url).await.ok()?;
            // Counted now, not later as one of the tool's sessions (see `pg::FLUSH_OWN_STATS`).
            client.batch_execute(pg::FLUSH_OWN_STATS).await.ok()?;
            let done: Vec<String> = tools::sql::applied(&client)
                .await
                .map(|a| a.into_iter().map(|(v, _, _)| v).collect())
                .unwrap_or_default();
            let text: Vec<String> = all
                .into_iter()
                .filter(|m| !done.contains(&m.version))
                .map(|m| m.sql)
                .collect();
            Some(text.join("\n;\n"))
        }
        ToolKind::Command { .. } => match &ctx.observations.pending_sql {
            Some(Ok(text)) => Some(text.clone()),
            _ => None,
        },
    }
}

/// Finishes the rehearsal (call when the tool returned).
pub(super) async fn finish(r: Option<Result<Rehearsal, WorkloadError>>, obs: &mut Observations) {
    obs.workload = match r {
        Some(Ok(r)) => Some(r.finish().await),
        Some(Err(e)) => Some(Err(e)),
        None => None,
    };
}

/// The check's result; `None` when it is off.
pub(super) fn result(ctx: &RunContext<'_>) -> Option<CheckResult> {
    let cfg = &ctx.config.checks.workload;
    if !cfg.enabled {
        return None;
    }
    let obs = &ctx.observations;
    Some(match &obs.workload {
        Some(Ok(report)) => {
            let mut r = workload::evaluate(report, cfg, obs.locks.as_ref());
            r.data = serde_json::to_value(report).ok();
            r
        }
        Some(Err(WorkloadError::Nothing(why))) => CheckResult::not_run(workload::NAME, why.clone()),
        Some(Err(e)) => CheckResult::failed(
            workload::NAME,
            format!("the workload rehearsal could not run: {e}"),
        ),
        None => CheckResult::not_run(
            workload::NAME,
            "nothing was rehearsed (no migrate stage in this run)",
        ),
    })
}

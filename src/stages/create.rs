//! `create-neon-database-branch`: a test Neon database branch of the main one, with a TTL.

use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::providers::CreateRequest;
use crate::template::DbBranchVars;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let req = CreateRequest {
        name: ctx.db_branch_name.clone(),
        ttl: ctx.config.db_branch.ttl,
        git_branch: ctx.git.branch.clone(),
        git_sha: ctx.git.sha.clone(),
        pipeline: ctx.pipeline.name.clone(),
    };
    let branch = ctx.provider.create(&req).await.map_err(|e| {
        StageFailure::new(
            exit::PROVIDER,
            format!(
                "cannot create the test Neon database branch {}: {}",
                req.name, e.message
            ),
        )
        .help(e.help)
    })?;
    ctx.redactor.add_url(branch.url.expose());
    ctx.vars.db_branch = Some(DbBranchVars {
        name: branch.name.clone(),
        url: branch.url.expose().clone(),
        parent: branch.parent.clone(),
    });
    let expires = branch
        .expires_at
        .map(crate::providers::local::rfc3339)
        .unwrap_or_else(|| "never".into());
    let summary = format!(
        "created {} from {} (expires {expires})",
        branch.name, branch.parent
    );
    ctx.db_branch = Some(branch);
    ctx.deleted = false;
    Ok(StageSuccess {
        summary,
        ..Default::default()
    })
}

//! `migrate`: the project's migration tool on the test Neon database branch.

use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::tools::{self, ToolContext};

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    run_tool(ctx, target, false).await
}

/// Runs the configured tool against `target`; shared with `apply`.
pub(crate) async fn run_tool(
    ctx: &RunContext<'_>,
    target: tools::Target,
    for_main: bool,
) -> StageResult {
    let tool = tools::from_config(ctx.config, for_main);
    let mut vars = ctx.vars.clone();
    if let Some(b) = &mut vars.db_branch {
        // In tool commands, `neon_database_branch.*` is the database being migrated.
        b.url = target.url.expose().clone();
    }
    let tctx = ToolContext {
        config: ctx.config,
        redactor: &ctx.redactor,
        vars: &vars,
        target: target.clone(),
    };
    let timeout = ctx.config.tool.timeout;
    let result = match tokio::time::timeout(timeout, tool.apply(&tctx)).await {
        Ok(r) => r,
        // Dropping the run closes its connection: the server rolls back the open transaction.
        Err(_) => Err(tools::ToolError::new(format!(
            "`{}` did not finish within {} on {}",
            tool.name(),
            crate::config::duration::format(timeout),
            target.name
        ))
        .help("raise `timeout` under [tool] if the migration is expected to take longer")),
    };
    match result {
        Ok(run) => {
            let summary = match run.applied.len() {
                0 => format!("{} is up to date", target.name),
                n => format!("applied {n} migration(s) with `{}`", tool.name()),
            };
            let mut details: Vec<String> =
                run.applied.iter().map(|m| format!("applied {m}")).collect();
            details.extend(run.notes);
            Ok(StageSuccess {
                summary,
                details,
                ..Default::default()
            })
        }
        Err(e) => {
            let mut f = StageFailure::new(exit::MIGRATION_FAILED, e.message).help(e.help);
            f.output = e.output.filter(|o| !o.trim().is_empty());
            f.details = e
                .applied
                .iter()
                .map(|m| format!("applied {m} before the failure"))
                .collect();
            Err(f)
        }
    }
}

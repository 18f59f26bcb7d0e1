//! `migrate`: the project's migration tool on the test Neon database branch.
//!
//! When the pipeline has a `checks` stage, this stage also records what the checks compare
//! against: the schema and row counts before the migration, and — while the tool runs — the
//! locks it takes (a sidecar sampler) and which tables it rewrites.

use crate::checks;
use crate::config::StageKind;
use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::pg;
use crate::schema;
use crate::tools::{self, ToolContext};

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    let observe = ctx.pipeline.has(|k| matches!(k, StageKind::Checks));
    let mut notes = Vec::new();
    let mut sampler = None;
    if observe {
        let cfg = &ctx.config.checks;
        match pg::connect(&target.url).await {
            Ok(client) => {
                if cfg.schema.enabled || cfg.reversible.enabled {
                    match schema::introspect(&client, &schema::default_excluded()).await {
                        Ok(m) => ctx.observations.before = Some(m),
                        Err(e) => notes.push(format!(
                            "schema before the migration not recorded: {}",
                            e.message
                        )),
                    }
                }
                if cfg.data.enabled {
                    match checks::data::count(&client, cfg.data.exact_below).await {
                        Ok(c) => ctx.observations.rows_before = Some(c),
                        Err(e) => {
                            notes.push(format!("row counts before the migration not recorded: {e}"))
                        }
                    }
                }
            }
            Err(e) => notes.push(format!("nothing recorded for the checks: {}", e.message)),
        }
        if cfg.locks.enabled {
            match checks::locks::Sampler::start(&target.url, cfg.locks.sample_interval).await {
                Ok(s) => sampler = Some(s),
                Err(e) => notes.push(format!("locks not sampled: {e}")),
            }
        }
    }
    let (result, applied) = run_tool(ctx, target, false).await;
    if let Some(s) = sampler {
        match s.finish().await {
            Ok(report) => ctx.observations.locks = Some(report),
            Err(e) => notes.push(format!("locks not sampled: {e}")),
        }
    }
    ctx.observations.applied = applied;
    result.map(|mut s| {
        s.details.extend(notes);
        s
    })
}

/// Runs the configured tool against `target`; shared with `apply`.
pub(crate) async fn run_tool(
    ctx: &RunContext<'_>,
    target: tools::Target,
    for_main: bool,
) -> (StageResult, Vec<String>) {
    let tool = tools::from_config(ctx.config, for_main);
    let mut vars = ctx.vars.clone();
    if let Some(b) = &mut vars.db_branch {
        // In tool commands, `neon_database_branch.*` is the database being migrated.
        b.url = target.url.expose().clone();
    }
    let tctx = ToolContext {
        timeouts: ctx.tool_timeouts,
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
    let applied = match &result {
        Ok(run) => run.applied.clone(),
        Err(e) => e.applied.clone(),
    };
    let stage = match result {
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
    };
    (stage, applied)
}

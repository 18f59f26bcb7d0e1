//! `migrate`: the project's migration tool on the test Neon database branch.
//!
//! When the pipeline has a `checks` stage, this stage also records what the checks compare
//! against: the schema and row counts before the migration, and — while the tool runs — the
//! locks it takes (a sidecar sampler) and which tables it rewrites.

use crate::checks;
use crate::config::StageKind;
use crate::config::ToolKind;
use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::pg;
use crate::schema;
use crate::tools::{self, command, ToolContext};

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    super::verify_ours(ctx, "before the migration").await?;
    let observe = ctx.pipeline.has(|k| matches!(k, StageKind::Checks));
    let mut sampler = None;
    if observe {
        // What the checks compare against must be recorded, or the checks would pass by being
        // skipped: a test Neon database branch that cannot be read (dropped, replaced by a
        // concurrent run of the same name, unreachable) stops the run before the tool starts.
        let unrecorded = |what: &str, why: &str| {
            StageFailure::new(
                exit::PROVIDER,
                format!("cannot record {what} on {}: {why}", target.name),
            )
            .help(Some(RECORD_HELP.to_owned()))
        };
        let cfg = &ctx.config.checks;
        let client = pg::connect_observer(&target.url)
            .await
            .map_err(|e| unrecorded("what the checks compare against", &e.message))?;
        if cfg.schema.enabled || cfg.reversible.enabled {
            let m = schema::introspect(&client, &schema::default_excluded())
                .await
                .map_err(|e| unrecorded("the schema before the migration", &e.message))?;
            ctx.observations.before = Some(m);
        }
        let shadows = checks::shadowing::read(&client)
            .await
            .map_err(|e| unrecorded("the functions and operators before the migration", &e))?;
        ctx.observations.shadows_before = Some(shadows);
        if cfg.data.enabled {
            let c = checks::data::count(&client, cfg.data.exact_below)
                .await
                .map_err(|e| unrecorded("the row counts before the migration", &e.to_string()))?;
            ctx.observations.rows_before = Some(c);
        }
        if cfg.integrity.enabled {
            let skip = checks::integrity::bookkeeping(
                ctx.config.tool.tracking.as_ref().map(|t| t.query.as_str()),
            );
            let r = checks::integrity::record(&client, &cfg.integrity, &skip)
                .await
                .map_err(|e| {
                    unrecorded(
                        "the fingerprints of the rows before the migration",
                        &e.to_string(),
                    )
                })?;
            ctx.observations.integrity = Some(r);
        }
        if cfg.locks.enabled {
            let s = checks::locks::Sampler::start(&target.url, cfg.locks.sample_interval)
                .await
                .map_err(|e| unrecorded("the locks the migration takes", &e.to_string()))?;
            sampler = Some(s);
        }
    }
    if observe && ctx.config.checks.lint.enabled {
        ctx.observations.pending_sql = print_sql(ctx, &target).await;
    }
    let (result, applied, tracked_before) = run_tool_observed(ctx, target, false).await;
    ctx.observations.applied = applied;
    ctx.observations.tracked_before = tracked_before;
    let sampled = match sampler {
        Some(s) => Some(s.finish().await),
        None => None,
    };
    // Whatever the tool said, it is about this run's copy only if the copy is still this run's.
    if let Err((unreachable, mut f)) = super::check_ours(ctx, "after the migration tool ran").await
    {
        if unreachable && matches!(&result, Err(t) if t.exit_code == exit::PROVIDER) {
            // The tool's failure already says the server went away.
            return result;
        }
        if let Err(tool) = &result {
            f.details
                .push(format!("the tool's own error: {}", tool.message));
            f.output = tool.output.clone();
        }
        return Err(f);
    }
    let success = result?;
    match sampled {
        Some(Ok(report)) => ctx.observations.locks = Some(report),
        Some(Err(e)) => {
            return Err(StageFailure::new(
                exit::PROVIDER,
                format!("the lock sampler stopped while the migration ran: {e}"),
            )
            .help(Some(RECORD_HELP.to_owned())))
        }
        None => {}
    }
    Ok(success)
}

const RECORD_HELP: &str = "the test Neon database branch must stay readable for the whole run: \
check that its Postgres server (or Neon compute) is up, then run again";

/// The SQL of the pending migrations, from the tool's print-SQL mode, before the tool runs
/// (`None`: the built-in `sql` tool lints its files, or the tool has no print-SQL mode).
async fn print_sql(ctx: &RunContext<'_>, target: &tools::Target) -> Option<Result<String, String>> {
    if !matches!(ctx.config.tool.kind, ToolKind::Command { .. })
        || ctx.config.tool.print_sql_command.is_none()
    {
        return None;
    }
    let vars = tool_vars(ctx, target);
    let tctx = ToolContext {
        timeouts: None,
        connection_check: None,
        config: ctx.config,
        redactor: &ctx.redactor,
        vars: &vars,
        target: target.clone(),
        on_main: false,
    };
    Some(
        match command::run_extra(&tctx, command::Extra::PrintSql).await {
            Ok(run) => Ok(run.output),
            Err(e) => Err(match e.output.filter(|o| !o.trim().is_empty()) {
                Some(o) => format!("{}; its output ends with: {}", e.message, tail(&o)),
                None => e.message,
            }),
        },
    )
}

/// The last few lines of a tool's output, for a one-line reason.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.trim_end().lines().collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// Template variables for a tool run on `target`: `neon_database_branch.*` is the database
/// being migrated.
pub(crate) fn tool_vars(ctx: &RunContext<'_>, target: &tools::Target) -> crate::template::Vars {
    let mut vars = ctx.vars.clone();
    if let Some(b) = &mut vars.db_branch {
        b.url = target.url.expose().clone();
    }
    vars
}

/// Runs the configured tool against `target`; shared with `apply`.
pub(crate) async fn run_tool(
    ctx: &RunContext<'_>,
    target: tools::Target,
    for_main: bool,
) -> (StageResult, Vec<String>) {
    let (result, applied, _) = run_tool_observed(ctx, target, for_main).await;
    (result, applied)
}

/// [`run_tool`], also returning the tool's tracking rows before the run.
async fn run_tool_observed(
    ctx: &RunContext<'_>,
    target: tools::Target,
    for_main: bool,
) -> (StageResult, Vec<String>, Option<Vec<String>>) {
    let tool = tools::from_config(ctx.config, for_main);
    let vars = tool_vars(ctx, &target);
    let tctx = ToolContext {
        timeouts: ctx.tool_timeouts,
        connection_check: ctx.tool_connection_check,
        config: ctx.config,
        redactor: &ctx.redactor,
        vars: &vars,
        target: target.clone(),
        on_main: for_main,
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
    let tracked_before = result.as_ref().ok().and_then(|r| r.tracked_before.clone());
    let stage = match result {
        Ok(run) => {
            let summary = match run.applied.len() {
                0 => format!("{} is up to date", target.name),
                n => format!("applied {n} migration(s) with `{}`", tool.name()),
            };
            let mut details = applied_lines(&run.applied, "");
            details.extend(run.notes);
            Ok(StageSuccess {
                summary,
                details,
                ..Default::default()
            })
        }
        Err(e) => {
            if let Some(down) = unreachable(&target).await {
                // The server went away under the tool: not the migration's failure.
                let mut f = StageFailure::new(
                    exit::PROVIDER,
                    format!(
                        "the Postgres server of the {} stopped answering while `{}` ran: {down}",
                        target.name,
                        tool.name()
                    ),
                )
                .help(Some(format!(
                    "the migration is not to blame; bring the server (or the Neon compute) back and run again. The tool's own error: {}",
                    e.message
                )));
                f.output = e.output.filter(|o| !o.trim().is_empty());
                f.details = e
                    .applied
                    .iter()
                    .map(|m| format!("applied {m} before the server went away"))
                    .collect();
                return (Err(f), applied, tracked_before);
            }
            let mut f = StageFailure::new(exit::MIGRATION_FAILED, e.message).help(e.help);
            f.output = e.output.filter(|o| !o.trim().is_empty());
            f.details = applied_lines(&e.applied, " before the failure");
            Err(f)
        }
    };
    (stage, applied, tracked_before)
}

/// "applied X" per migration — collapsed past a screenful (a first deploy can apply
/// hundreds; the JSON report's `applied` keeps them all).
fn applied_lines(applied: &[String], suffix: &str) -> Vec<String> {
    const MAX: usize = 15;
    if applied.len() <= MAX {
        return applied
            .iter()
            .map(|m| format!("applied {m}{suffix}"))
            .collect();
    }
    vec![format!(
        "applied {} migration(s){suffix}: {}",
        applied.len(),
        crate::report::collapse(applied, 5)
    )]
}

/// After a tool failed on `target`: why a new connection to it fails now (the server stopped,
/// the database is gone), or `None` when it connects.
async fn unreachable(target: &tools::Target) -> Option<String> {
    match tokio::time::timeout(std::time::Duration::from_secs(10), pg::connect(&target.url)).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.message),
        Err(_) => Some("a new connection did not succeed within 10 s".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::applied_lines;

    #[test]
    fn a_first_deploy_of_hundreds_of_migrations_is_one_line() {
        let few: Vec<String> = (1..=3).map(|i| format!("{i:04}_m.sql")).collect();
        assert_eq!(
            applied_lines(&few, ""),
            [
                "applied 0001_m.sql",
                "applied 0002_m.sql",
                "applied 0003_m.sql"
            ]
        );
        let many: Vec<String> = (1..=205).map(|i| format!("{i:04}_m.sql")).collect();
        assert_eq!(
            applied_lines(&many, " before the failure"),
            ["applied 205 migration(s) before the failure: 0001_m.sql, 0002_m.sql, 0003_m.sql, 0004_m.sql, 0005_m.sql … and 200 more"]
        );
    }
}

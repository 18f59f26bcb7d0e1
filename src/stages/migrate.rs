//! `migrate`: the project's migration tool on the test Neon database branch.
//!
//! When the pipeline has a `checks` stage, this stage also runs the checks' recording hooks
//! (see [`crate::checks::Check`]): what they compare against is recorded before the tool
//! starts (the schema and the SQL of the pending migrations when a check needs them, then each
//! check's own: row counts, …), and what runs beside the migration (the lock sampler) is
//! started just before it and stopped as soon as it exits.

use std::time::Duration;

use crate::checks::{Check, Observations, RecordError, Recording};
use crate::config::{StageKind, ToolKind};
use crate::engine::{RunContext, StageFailure, StageOutput, StageResult};
use crate::exit;
use crate::pg;
use crate::schema;
use crate::tools::{self, ToolContext};

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    super::verify_ours(ctx, "before the migration").await?;
    let observe = ctx.pipeline.has(|k| matches!(k, StageKind::Checks));
    let mut checks = std::mem::take(&mut ctx.checks);
    let mut obs = std::mem::take(&mut ctx.observations);
    // What the checks compare against must be recorded, or the checks would pass by being
    // skipped: a test Neon database branch that cannot be read (dropped, replaced by a
    // concurrent run of the same name, unreachable) stops the run before the tool starts.
    if observe {
        if let Err(e) = record(ctx, &target, &mut checks, &mut obs).await {
            (ctx.checks, ctx.observations) = (checks, obs);
            return Err(record_failure(&e));
        }
    }
    let outcome = run_retrying(ctx, &target).await;
    let stopped = match observe {
        true => stop(&mut checks, &mut obs).await,
        false => Ok(()),
    };
    (ctx.checks, ctx.observations) = (checks, obs);
    ctx.observations.applied = outcome.applied;
    ctx.observations.tracked_before = outcome.tracked_before;
    let result = outcome.stage;
    // Whatever the tool said, it is about this run's copy only if the copy is still this run's.
    if let Err((unreachable, mut f)) = super::check_ours(ctx, "after the migration tool ran").await
    {
        if unreachable && matches!(&result, Err(t) if t.exit_code == exit::PROVIDER) {
            // The tool's failure already says the server went away.
            return result;
        }
        if let Err(tool) = &result {
            f.shown
                .details
                .push(format!("the tool's own error: {}", tool.message));
            f.output = tool.output.clone();
        }
        return Err(f);
    }
    let success = result?;
    stopped.map_err(|e| record_failure(&e))?;
    Ok(success)
}

/// The tool on the test Neon database branch, retried after a lock timeout as `apply` retries
/// on the main Neon database branch (`[apply] retries`, the same backoff): a migration that
/// sets `lock_timeout` and gives up behind a long transaction (the `workload` check's
/// `long-transaction`) is rehearsed as it will run. Only an attempt that applied nothing is
/// retried: the tracking rows before the run stay those of the first attempt.
async fn run_retrying(ctx: &RunContext<'_>, target: &tools::Target) -> ToolOutcome {
    let mut attempt: u32 = 0;
    let mut waits = Vec::new();
    loop {
        attempt += 1;
        let mut outcome = run_tool(ctx, target.clone(), false).await;
        let retry = outcome.lock_timeout
            && outcome.applied.is_empty()
            && attempt <= ctx.config.apply.retries;
        if !retry {
            if let (Ok(s), false) = (&mut outcome.stage, waits.is_empty()) {
                s.details.push(format!(
                    "succeeded on attempt {attempt} after lock timeouts ({}; retried as `apply` will: [apply] retries)",
                    waits.join(", ")
                ));
            }
            return outcome;
        }
        let wait = Duration::from_millis(500 * (1 << (attempt - 1).min(5)));
        waits.push(format!(
            "attempt {attempt} gave up waiting for a lock, retried after {:.1} s",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
    }
}

/// The checks' hooks before the tool starts: the schema before the migration (when a check
/// reads it), each check's `record_before` over one reading connection, then each check's
/// `start`. When a `start` fails, what the others started is stopped again.
async fn record(
    ctx: &RunContext<'_>,
    target: &tools::Target,
    checks: &mut [Box<dyn Check>],
    obs: &mut Observations,
) -> Result<(), RecordError> {
    let vars = tool_vars(ctx, target);
    let tool = super::test_tool(ctx, target, &vars);
    let parent_url = match checks.iter().any(|c| c.needs().parent_url) {
        true => Some(
            ctx.provider
                .main_db_branch()
                .await
                .map(|b| b.url)
                .map_err(|e| crate::checks::ParentUrlUnavailable(e.to_string())),
        ),
        false => None,
    };
    {
        let client = pg::connect_checker(&target.url)
            .await
            .map_err(|e| RecordError::Before {
                what: "what the checks compare against",
                target: target.name.clone(),
                source: e.into(),
            })?;
        let cx = Recording {
            tool: &tool,
            client: &client,
            parent_url: parent_url.as_ref(),
        };
        if checks.iter().any(|c| c.needs().schema) {
            let m = schema::introspect(&client, &schema::default_excluded())
                .await
                .map_err(|e| cx.unrecorded("the schema before the migration", e))?;
            obs.before = Some(m);
        }
        for check in checks.iter_mut() {
            check.record_before(&cx, obs).await?;
        }
        // The reading connection is closed here: the tool's sessions are counted alone.
    }
    if checks.iter().any(|c| c.needs().pending_sql) {
        obs.pending_sql = print_sql(&tool).await;
    }
    for i in 0..checks.len() {
        if let Err(e) = checks[i].start(&tool, obs).await {
            let _ = stop(&mut checks[..i], obs).await;
            return Err(e);
        }
    }
    Ok(())
}

/// The SQL of the pending migrations, from the tool's print-SQL mode, before the tool runs
/// (`None`: the built-in `sql` tool lints its files, or the tool has no print-SQL mode).
async fn print_sql(tool: &ToolContext<'_>) -> Option<Result<String, tools::ToolError>> {
    let t = &tool.config.tool;
    if !matches!(t.kind, ToolKind::Command { .. }) || t.print_sql_command.is_none() {
        return None;
    }
    Some(
        tools::command::run_extra(tool, tools::command::Extra::PrintSql)
            .await
            .map(|run| run.output),
    )
}

/// The checks' `stop` hooks, all of them; the first error.
async fn stop(checks: &mut [Box<dyn Check>], obs: &mut Observations) -> Result<(), RecordError> {
    let mut first = Ok(());
    for check in checks.iter_mut() {
        if let Err(e) = check.stop(obs).await {
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}

/// A recording that failed, as the stage's failure.
fn record_failure(e: &RecordError) -> StageFailure {
    let help = miette::Diagnostic::help(e).map(|h| h.to_string());
    StageFailure::new(e.exit_code(), e.to_string()).help(help)
}

/// Template variables for a tool run on `target`: `neon_database_branch.*` is the database
/// being migrated.
pub(crate) fn tool_vars(ctx: &RunContext<'_>, target: &tools::Target) -> crate::template::Vars {
    let mut vars = ctx.vars.clone();
    if let Some(b) = &mut vars.db_branch {
        b.url = target.url.clone();
    }
    vars
}

/// What a run of the tool came to.
pub(crate) struct ToolOutcome {
    /// The stage's result.
    pub stage: StageResult,
    /// Migrations applied (before a failure too).
    pub applied: Vec<String>,
    /// The tool's tracking rows before the run.
    pub tracked_before: Option<Vec<String>>,
    /// The migration failed waiting for a lock (`lock_timeout`): `apply` retries.
    pub lock_timeout: bool,
}

/// Runs the configured tool against `target`; shared with `apply`.
pub(crate) async fn run_tool(
    ctx: &RunContext<'_>,
    target: tools::Target,
    for_main: bool,
) -> ToolOutcome {
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
        Err(_) => Err(tools::ToolError::TimedOut {
            tool: tool.name().to_owned(),
            limit: crate::config::duration::format(timeout),
            target: target.name.clone(),
        }),
    };
    match result {
        Ok(run) => {
            let summary = match run.applied.len() {
                0 => format!("{} is up to date", target.name),
                n => format!("applied {n} migration(s) with `{}`", tool.name()),
            };
            let mut details = applied_lines(&run.applied, "");
            details.extend(run.notes);
            ToolOutcome {
                stage: Ok(StageOutput {
                    details,
                    ..StageOutput::new(summary)
                }),
                applied: run.applied,
                tracked_before: run.tracked_before,
                lock_timeout: false,
            }
        }
        Err(e) => ToolOutcome {
            applied: e.applied().to_vec(),
            tracked_before: None,
            lock_timeout: false,
            stage: Err(tool_failure(&target, tool.name(), &e).await),
        }
        .lock_timeout_if(e.is_lock_timeout()),
    }
}

impl ToolOutcome {
    /// Marks a lock timeout, unless the server went away (then the failure is the provider's).
    fn lock_timeout_if(mut self, lock_timeout: bool) -> Self {
        self.lock_timeout =
            lock_timeout && matches!(&self.stage, Err(f) if f.exit_code != exit::PROVIDER);
        self
    }
}

/// The stage's failure for a failed tool run: the migration's, or the provider's when the
/// server stopped answering under the tool.
async fn tool_failure(target: &tools::Target, tool: &str, e: &tools::ToolError) -> StageFailure {
    let output = e
        .output()
        .filter(|o| !o.trim().is_empty())
        .map(str::to_owned);
    if let Some(down) = unreachable(target).await {
        // The server went away under the tool: not the migration's failure.
        let mut f = StageFailure::new(
            exit::PROVIDER,
            format!(
                "the Postgres server of the {} stopped answering while `{tool}` ran: {down}",
                target.name
            ),
        )
        .help(Some(format!(
            "the migration is not to blame; bring the server (or the Neon compute) back and run again. The tool's own error: {e}"
        )));
        f.output = output;
        f.shown.details = e
            .applied()
            .iter()
            .map(|m| format!("applied {m} before the server went away"))
            .collect();
        return f;
    }
    let text = format!("{e}\n{}", output.as_deref().unwrap_or_default());
    let help = copy_role_help(target, &text).or_else(|| e.help_text());
    let mut f = StageFailure::new(e.exit_code(), e.to_string()).help(help);
    f.output = output;
    f.shown.details = applied_lines(e.applied(), " before the failure");
    f
}

/// What Postgres says when a role may not act as another one or change another's object.
const NOT_AS_ANOTHER_ROLE: &[&str] = &[
    "must be member of role",
    "must be owner of",
    "permission denied to set role",
    "must have admin option on role",
    "permission denied to grant role",
    "must be able to SET ROLE",
];

/// The help for a migration that failed on a local test copy (its URL's user is the copy's
/// own role, `neon_migrate_copy_…`) because that role cannot act as one of main's roles (B5:
/// `OWNER TO app_owner`, `SET ROLE`, `GRANT app_admin TO …` work on main, where the server's
/// role applies).
fn copy_role_help(target: &tools::Target, text: &str) -> Option<String> {
    let user = crate::tools::handoff::PgUrl::parse(target.url.expose())?.user?;
    let user = pg::percent_decode(&user);
    if !user.starts_with("neon_migrate_copy_")
        || !NOT_AS_ANOTHER_ROLE.iter().any(|p| text.contains(p))
    {
        return None;
    }
    Some(format!(
        "on the local test copy the migration runs as the copy's own role `{user}`: it owns the copy's objects but is no member of main's roles, so it cannot act as one of them (`SET ROLE`, `OWNER TO`, `GRANT <role> TO`) or change an object another role owns there; `apply` runs on main as the server's role, where this works. To run it on the copy as the server's role, set `tool-role = \"server\"` under [provider] (that role can reach every database on the server: see the README)"
    ))
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
        Ok(Err(e)) => Some(e.to_string()),
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

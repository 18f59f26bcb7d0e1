//! Any migration tool, run as a command with the connection string in its environment.
//!
//! The tool gets the URL through every variable it may read (see [`crate::tools::handoff`]),
//! runs in its working folder, and is not trusted on its exit code alone: when the tool has a
//! tracking query, the rows before and after tell what it applied, and a run that exited 0
//! while recording fewer migrations than the project has files is a failure (tools can skip
//! migrations silently). The tool's whole output, redacted, goes with every failure, and the
//! preset's help when the output shows one of the tool's known failures.

use crate::config::{CommandSpec, Config};
use crate::pg;
use crate::runner::{self, Cmd, RunOutput};
use crate::secret::Secret;
use crate::template;
use crate::tools::detect::Tree;
use crate::tools::handoff::{self, PgUrl};
use crate::tools::presets;
use crate::tools::{Tool, ToolContext, ToolError, ToolRun};

pub struct CommandTool {
    name: String,
    apply: CommandSpec,
}

impl CommandTool {
    pub fn new(name: String, apply: CommandSpec) -> Self {
        CommandTool { name, apply }
    }
}

/// Renders every part of a command spec.
pub fn render_spec(spec: &CommandSpec, vars: &template::Vars) -> Result<CommandSpec, String> {
    Ok(match spec {
        CommandSpec::Argv(v) => CommandSpec::Argv(
            v.iter()
                .map(|p| template::render(p, vars))
                .collect::<Result<_, _>>()?,
        ),
        CommandSpec::Shell(s) => CommandSpec::Shell(template::render(s, vars)?),
    })
}

/// The child process that runs `spec` for `ctx`: rendered, in the tool's working folder,
/// with the connection string handed over. `neon_database_branch.url` in the command is the
/// URL in the tool's own form.
pub fn prepare(ctx: &ToolContext<'_>, spec: &CommandSpec) -> Result<Cmd, ToolError> {
    let tool = &ctx.config.tool;
    let plan = handoff::Plan::new(tool, &tool.working_dir);
    let (base, explicit) = plan
        .render(tool, ctx.target.url.expose())
        .map_err(ToolError::new)?;
    for (_, v) in base.iter().chain(&explicit) {
        ctx.redactor.add_url(v);
    }
    let mut vars = ctx.vars.clone();
    if let Some(b) = &mut vars.db_branch {
        if let Some((_, url)) = explicit
            .first()
            .filter(|_| !tool.handoff.url_env.is_empty())
        {
            b.url = url.clone();
        } else if let Some(u) = PgUrl::parse(ctx.target.url.expose()) {
            b.url = u.for_tool(&tool.handoff.drop_params).render();
        }
    }
    let spec = render_spec(spec, &vars).map_err(ToolError::new)?;
    let mut env: Vec<(String, String)> = base;
    for (k, v) in &tool.env {
        env.push((
            k.clone(),
            template::render(v, &vars).map_err(ToolError::new)?,
        ));
    }
    // libpq-based tools (psql, Django, Alembic, Rails, diesel, …) read PGOPTIONS; tools with
    // their own drivers need the settings in their config.
    if let Some((lock, statement)) = ctx.timeouts {
        let mut options = std::env::var("PGOPTIONS").unwrap_or_default();
        options.push_str(&format!(
            " -c lock_timeout={}ms -c statement_timeout={}ms",
            lock.as_millis(),
            statement.as_millis()
        ));
        env.push(("PGOPTIONS".into(), options.trim().to_owned()));
    }
    // The application name of an apply's sessions (see `stages::apply`), for libpq-based
    // tools that build their connection from the split variables.
    if let Some(app) = PgUrl::parse(ctx.target.url.expose())
        .and_then(|u| u.param("application_name").map(str::to_owned))
    {
        env.push(("PGAPPNAME".into(), app));
    }
    // Explicit variables win over anything the project's own files set.
    env.extend(explicit);
    Ok(Cmd {
        spec,
        env,
        cwd: tool.working_dir.clone(),
        timeout: tool.timeout,
    })
}

/// Runs a prepared command; a command that cannot start says how to install the tool.
async fn run(ctx: &ToolContext<'_>, cmd: &Cmd) -> Result<RunOutput, ToolError> {
    let tool = &ctx.config.tool;
    runner::run(cmd, ctx.redactor).await.map_err(|e| {
        let help = match &tool.install {
            Some(i) => format!("is `{}` installed? {i}", tool.name),
            None => format!("is `{}` installed and on PATH?", tool.name),
        };
        ToolError::new(e.to_string()).help(help)
    })
}

/// The tool's tracking rows on the target (`None`: no tracking query, or it cannot be read).
async fn tracked(ctx: &ToolContext<'_>) -> Result<Option<Vec<String>>, String> {
    let Some(t) = &ctx.config.tool.tracking else {
        return Ok(None);
    };
    let client = pg::connect(&ctx.target.url).await.map_err(|e| e.message)?;
    match client.simple_query(&t.query).await {
        Ok(messages) => Ok(Some(
            messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some(r.get(0).unwrap_or("").to_owned())
                    }
                    _ => None,
                })
                .collect(),
        )),
        // No tracking table (or schema) yet: nothing applied.
        Err(e)
            if e.code().is_some_and(|c| {
                *c == tokio_postgres::error::SqlState::UNDEFINED_TABLE
                    || *c == tokio_postgres::error::SqlState::INVALID_SCHEMA_NAME
            }) =>
        {
            Ok(Some(Vec::new()))
        }
        Err(e) => Err(pg::describe(&e)),
    }
}

/// Rows in `after` that are not in `before`, in order.
fn added(before: &[String], after: &[String]) -> Vec<String> {
    after
        .iter()
        .filter(|a| !before.contains(a))
        .cloned()
        .collect()
}

#[async_trait::async_trait]
impl Tool for CommandTool {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(&self, ctx: &ToolContext<'_>) -> Result<ToolRun, ToolError> {
        let cmd = prepare(ctx, &self.apply)?;
        let mut notes = Vec::new();
        let before = match tracked(ctx).await {
            Ok(b) => b,
            Err(e) => {
                notes.push(format!(
                    "the tracking table was not read before the run: {}",
                    ctx.redactor.redact(&e)
                ));
                None
            }
        };
        let out = run(ctx, &cmd).await?;
        let after = match (&before, tracked(ctx).await) {
            (Some(_), Ok(a)) => a,
            (_, Err(e)) => {
                notes.push(format!(
                    "the tracking table was not read after the run: {}",
                    ctx.redactor.redact(&e)
                ));
                None
            }
            _ => None,
        };
        let applied = match (&before, &after) {
            (Some(b), Some(a)) => added(b, a),
            _ => Vec::new(),
        };
        let shown = ctx.redactor.redact(&cmd.spec.display());
        if !out.success() {
            return Err(ToolError {
                message: format!(
                    "`{shown}` {} on {}",
                    out.describe(cmd.timeout),
                    ctx.target.name
                ),
                help: presets::failure_help(&ctx.config.tool.failure_hints, &out.output),
                output: Some(out.output),
                applied,
            });
        }
        // Exit code 0 is not proof: every migration file must be recorded by the tool.
        if let (Some(t), Some(rows)) = (&ctx.config.tool.tracking, &after) {
            if !t.migration_files.is_empty() {
                let files = Tree::new(&ctx.config.tool.working_dir).files(&t.migration_files);
                if rows.len() < files.len() {
                    return Err(ToolError {
                        message: format!(
                            "`{shown}` exited with code 0, but on {} the tool records {} applied migration(s) while the project has {} ({})",
                            ctx.target.name,
                            rows.len(),
                            files.len(),
                            t.migration_files.join(", ")
                        ),
                        output: Some(out.output),
                        help: Some(format!(
                            "the tool skipped migrations without failing; read its output above. Tracking query: `{}`. If these files are not all migrations, set `migration-files` under [tool] (`[]` turns this check off)",
                            t.query
                        )),
                        applied,
                    });
                }
            }
        }
        if after.is_some() && applied.is_empty() {
            notes.push("the tool's tracking table did not change: nothing was pending".into());
        }
        Ok(ToolRun {
            applied,
            notes,
            output: out.output,
        })
    }
}

/// The tool's other commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// `down-command`: reverts the last migration.
    Down,
    /// `print-sql-command`: prints the SQL of pending migrations without running it.
    PrintSql,
}

/// Runs the tool's `down-command` or `print-sql-command` against `ctx.target`. For `Down`,
/// `applied` of the result lists what the tracking table lost (the reverted migrations).
pub async fn run_extra(ctx: &ToolContext<'_>, which: Extra) -> Result<ToolRun, ToolError> {
    let tool = &ctx.config.tool;
    let (spec, key) = match which {
        Extra::Down => (&tool.down_command, "down-command"),
        Extra::PrintSql => (&tool.print_sql_command, "print-sql-command"),
    };
    let Some(spec) = spec else {
        return Err(
            ToolError::new(format!("tool `{}` has no `{key}`", tool.name))
                .help(format!("set `{key}` under [tool]")),
        );
    };
    let cmd = prepare(ctx, spec)?;
    let before = tracked(ctx).await.ok().flatten();
    let out = run(ctx, &cmd).await?;
    let after = tracked(ctx).await.ok().flatten();
    let reverted = match (&before, &after) {
        (Some(b), Some(a)) => added(a, b),
        _ => Vec::new(),
    };
    if !out.success() {
        return Err(ToolError {
            message: format!(
                "`{}` {} on {}",
                ctx.redactor.redact(&cmd.spec.display()),
                out.describe(cmd.timeout),
                ctx.target.name
            ),
            help: presets::failure_help(&tool.failure_hints, &out.output),
            output: Some(out.output),
            applied: Vec::new(),
        });
    }
    Ok(ToolRun {
        applied: reverted,
        notes: Vec::new(),
        output: out.output,
    })
}

/// The exact command and environment a tool would get for `url` (for `plan`, tests and
/// debugging), secrets in the clear: callers redact.
pub fn rendered(
    config: &Config,
    spec: &CommandSpec,
    url: &str,
) -> Result<(CommandSpec, Vec<(String, String)>), ToolError> {
    let redactor = crate::secret::Redactor::new();
    let vars = template::Vars {
        db_branch: Some(template::DbBranchVars {
            name: "test".into(),
            url: url.to_owned(),
            parent: "main".into(),
        }),
        ..Default::default()
    };
    let ctx = ToolContext {
        config,
        redactor: &redactor,
        vars: &vars,
        target: crate::tools::Target {
            name: "the test Neon database branch".into(),
            url: Secret::new(url.to_owned()),
        },
        timeouts: None,
    };
    let cmd = prepare(&ctx, spec)?;
    Ok((cmd.spec, cmd.env))
}

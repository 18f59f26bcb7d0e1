//! Any migration tool, run as a command with the connection string in its environment.

use crate::config::CommandSpec;
use crate::runner::{self, Cmd};
use crate::template;
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

#[async_trait::async_trait]
impl Tool for CommandTool {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(&self, ctx: &ToolContext<'_>) -> Result<ToolRun, ToolError> {
        let spec = render_spec(&self.apply, ctx.vars).map_err(ToolError::new)?;
        let mut env: Vec<(String, String)> = Vec::new();
        for (k, v) in &ctx.config.tool.env {
            env.push((
                k.clone(),
                template::render(v, ctx.vars).map_err(ToolError::new)?,
            ));
        }
        // libpq-based tools (psql, dbmate, golang-migrate, Django, Alembic, Rails, …) read
        // PGOPTIONS; tools with their own drivers need the settings in their config.
        if let Some((lock, statement)) = ctx.timeouts {
            let mut options = std::env::var("PGOPTIONS").unwrap_or_default();
            options.push_str(&format!(
                " -c lock_timeout={}ms -c statement_timeout={}ms",
                lock.as_millis(),
                statement.as_millis()
            ));
            env.push(("PGOPTIONS".into(), options.trim().to_owned()));
        }
        // Explicit variables win over anything the project's own files set.
        for name in &ctx.config.tool.url_env {
            env.push((name.clone(), ctx.target.url.expose().clone()));
        }
        let cmd = Cmd {
            spec: spec.clone(),
            env,
            cwd: ctx.config.root.clone(),
            timeout: ctx.config.tool.timeout,
        };
        let out = runner::run(&cmd, ctx.redactor).await.map_err(|e| {
            ToolError::new(e.to_string()).help(format!("is `{}` installed and on PATH?", self.name))
        })?;
        if !out.success() {
            return Err(ToolError {
                message: format!(
                    "`{}` {} on {}",
                    ctx.redactor.redact(&spec.display()),
                    out.describe(cmd.timeout),
                    ctx.target.name
                ),
                output: Some(out.output),
                help: None,
                applied: Vec::new(),
            });
        }
        Ok(ToolRun {
            applied: Vec::new(),
            notes: Vec::new(),
            output: out.output,
        })
    }
}

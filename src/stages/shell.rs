//! `shell`: a project-defined command, with templates and the connection string in `env`.

use crate::config::ShellStage;
use crate::engine::{RunContext, StageFailure, StageOutput, StageResult};
use crate::exit;
use crate::runner::{self, Cmd};
use crate::template;
use crate::tools::command::render_spec;

pub async fn run(ctx: &mut RunContext<'_>, stage: &ShellStage) -> StageResult {
    let rendered = render_spec(&stage.run, &ctx.vars)
        .map_err(|e| StageFailure::new(exit::CONFIG, e.to_string()))?;
    let mut env = Vec::new();
    for (k, v) in &stage.env {
        env.push((
            k.clone(),
            template::render(v, &ctx.vars).map_err(|e| StageFailure::new(exit::CONFIG, e))?,
        ));
    }
    if let (Some(b), false) = (&ctx.db_branch, ctx.deleted) {
        env.push(("DATABASE_URL".into(), b.url.expose().clone()));
    }
    env.extend(rendered.env);
    let shown = ctx.redactor.redact(&rendered.shown);
    let cmd = Cmd {
        spec: rendered.spec,
        shown: rendered.shown,
        env,
        cwd: ctx.config.root.clone(),
        timeout: stage.timeout,
    };
    let out = runner::run(&cmd, &ctx.redactor)
        .await
        .map_err(|e| StageFailure::new(exit::STAGE_FAILED, e.to_string()))?;
    if out.success() {
        let mut details = Vec::new();
        let lines: Vec<&str> = out.output.lines().collect();
        let tail = lines.len().saturating_sub(10);
        details.extend(lines[tail..].iter().map(|l| format!("│ {l}")));
        Ok(StageOutput {
            summary: format!("`{shown}` succeeded"),
            details,
            ..Default::default()
        })
    } else {
        let mut f = StageFailure::new(
            exit::STAGE_FAILED,
            format!("`{shown}` {}", out.describe(stage.timeout)),
        );
        f.output = Some(out.output);
        Err(f)
    }
}

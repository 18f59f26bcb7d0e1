//! `models`: the ORM models match what the migrations produce.
//!
//! A project whose tool generates migrations from ORM models (Django, Alembic, Prisma,
//! Drizzle) can change a model and forget to generate the migration: every migration then
//! applies, nothing is pending, and production lacks what the code needs. After the
//! migration, the tool's `model-check-command` compares the models with the migrated test
//! Neon database branch (`makemigrations --check`, `alembic check`, `prisma migrate diff
//! --exit-code`); it exits non-zero when they differ. The check runs whether or not this run
//! applied anything: a forgotten migration is exactly a run with nothing pending.
//!
//! A tool with models but no model-check command (Drizzle Kit has no way to compare without
//! writing) is NOT RUN, said and counted; the built-in `sql` tool and tools without models
//! have no such check.

use super::{Check, CheckResult, Evaluation, Finding, Severity};
use crate::config::Config;
use crate::runner;
use crate::tools::{command, presets, ToolContext};

pub const NAME: &str = "models";

/// The `models` check; present when the tool has ORM models or a `model-check-command`.
pub struct Models;

impl Models {
    pub fn new(config: &Config) -> Option<Self> {
        let tool = &config.tool;
        let has_models = tool.models.is_some() || tool.model_check_command.is_some();
        (config.checks.models.enabled && tool.kind_command().is_some() && has_models)
            .then_some(Models)
    }
}

#[async_trait::async_trait]
impl Check for Models {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        Some(compare(cx.tool).await)
    }
}

/// The fix a failed check names: the tool's own command that writes the migration.
fn fix(config: &Config) -> String {
    let tool = &config.tool;
    match &tool.models {
        Some(m) => format!("run `{}` and commit the migration it writes", m.generate),
        None => format!(
            "generate the migration for the model changes with `{}` and commit it",
            tool.name
        ),
    }
}

/// Runs the model-check command on the migrated test Neon database branch and reads its
/// verdict from its exit code.
pub async fn compare(tctx: &ToolContext<'_>) -> CheckResult {
    let tool = &tctx.config.tool;
    let Some(spec) = &tool.model_check_command else {
        return CheckResult::not_run(
            NAME,
            format!(
                "`{}` generates migrations from ORM models, but has no model-check command: nothing compared the models with the migrations. Set `model-check-command` under [tool] (a command that exits non-zero when the models differ from the migrated database)",
                tool.name
            ),
        );
    };
    let cmd = match command::prepare(tctx, spec) {
        Ok(c) => c,
        Err(e) => {
            return CheckResult::failed(NAME, format!("cannot prepare `model-check-command`: {e}"))
        }
    };
    let shown = tctx.redactor.redact(&cmd.shown);
    let out = match runner::run(&cmd, tctx.redactor).await {
        Ok(o) => o,
        Err(e) => {
            let help = tool
                .install
                .as_ref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default();
            return CheckResult::failed(
                NAME,
                format!(
                    "`{shown}` could not start: {}{help}",
                    tctx.redactor.redact(&e.to_string())
                ),
            );
        }
    };
    let output = tctx.redactor.redact(out.output.trim_end());
    let details = |mut r: CheckResult| {
        r.details.push(format!("command: `{shown}`"));
        if !output.is_empty() {
            r.details
                .push(format!("output of the model-check command:\n{output}"));
        }
        r
    };
    if out.success() {
        return details(CheckResult::from_findings(
            NAME,
            format!("`{shown}` found no model change without its migration"),
            Vec::new(),
            Vec::new(),
        ));
    }
    let described = out.describe(cmd.timeout);
    if out.timed_out || out.code.is_none() {
        return details(CheckResult::failed(
            NAME,
            format!("`{shown}` {described} on {}", tctx.target.name),
        ));
    }
    if let Some(failure) = presets::start_failure(&out.output, out.code) {
        return details(CheckResult::failed(
            NAME,
            format!(
                "`{shown}` could not start on {}: {}; the models were not compared",
                tctx.target.name, failure.why
            ),
        ));
    }
    let cannot = tool
        .models
        .as_ref()
        .and_then(|m| presets::failure_help(&m.not_run, &out.output));
    if let Some(why) = cannot {
        return details(CheckResult::not_run(
            NAME,
            format!("`{shown}` could not compare the models: {why}"),
        ));
    }
    let differ_code = tool.models.as_ref().and_then(|m| m.differ_exit_code);
    if differ_code.is_some_and(|c| out.code != Some(c)) {
        return details(CheckResult::failed(
            NAME,
            format!(
                "`{shown}` {described} on {}: it failed, so the models were not compared",
                tctx.target.name
            ),
        ));
    }
    let finding = Finding::new(
        NAME,
        Severity::Error,
        format!(
            "`{shown}` {described} on {}: the ORM models differ from what the migrations produce (a model change without its migration)",
            tctx.target.name
        ),
        "production would be migrated without what the changed models need: the code would query columns or tables that do not exist",
    )
    .fix(fix(tctx.config));
    details(CheckResult::from_findings(
        NAME,
        "the models differ from the migrations",
        vec![finding],
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Config, crate::config::ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::config::parse(crate::config::FILE_NAME, toml, dir.path())
    }

    fn parsed(toml: &str) -> Config {
        parse(toml).unwrap_or_else(|e| panic!("{toml}: {}", crate::config::diag::render(&e, true)))
    }

    fn present(toml: &str) -> bool {
        Models::new(&parsed(toml)).is_some()
    }

    #[test]
    fn the_check_exists_for_tools_with_models_or_a_model_check_command() {
        // The built-in `sql` tool has no ORM; plain SQL tools neither.
        assert!(!present(""));
        assert!(!present("[tool]\nname = \"dbmate\"\n"));
        assert!(!present("[tool]\nname = \"mine\"\ncommand = [\"true\"]\n"));
        // ORM presets, with or without a model-check command (Drizzle: NOT RUN).
        for tool in ["django", "alembic", "prisma", "drizzle"] {
            assert!(present(&format!("[tool]\nname = \"{tool}\"\n")), "{tool}");
        }
        assert!(present(
            "[tool]\nname = \"mine\"\ncommand = [\"true\"]\nmodel-check-command = [\"false\"]\n"
        ));
        assert!(!present(
            "[tool]\nname = \"django\"\n[checks.models]\nenabled = false\n"
        ));
    }

    #[test]
    fn presets_declare_their_model_check_and_fix() {
        let tool = |name: &str| parsed(&format!("[tool]\nname = \"{name}\"\n")).tool;
        let django = tool("django");
        assert_eq!(
            django.model_check_command.map(|c| c.display()).as_deref(),
            Some("python manage.py makemigrations --check --dry-run")
        );
        assert_eq!(
            fix(&parsed("[tool]\nname = \"django\"\n")),
            "run `python manage.py makemigrations` and commit the migration it writes"
        );
        assert_eq!(
            tool("alembic")
                .model_check_command
                .map(|c| c.display())
                .as_deref(),
            Some("alembic check")
        );
        assert!(tool("prisma")
            .model_check_command
            .is_some_and(|c| c.display().contains("--exit-code")));
        let drizzle = tool("drizzle");
        assert!(drizzle.models.is_some() && drizzle.model_check_command.is_none());
    }

    #[test]
    fn the_sql_tool_takes_no_model_check_command_and_required_is_read() {
        let e = parse("[tool]\nmodel-check-command = [\"false\"]\n").expect_err("refused");
        let e = crate::config::diag::render(&e, true);
        assert!(e.contains("takes no `model-check-command`"), "{e}");
        let c = parsed("[tool]\nname = \"django\"\n[checks.models]\nrequired = true\n");
        assert!(c.checks.required(NAME));
    }
}

//! Any migration tool, run as a command with the connection string in its environment.
//!
//! The tool gets the URL through every variable it may read (see [`crate::tools::handoff`]),
//! runs in its working folder, and is not trusted on its exit code alone: when the tool has a
//! tracking query, the rows before and after tell what it applied, and a run that exited 0
//! while recording fewer migrations than the project has files is a failure (tools can skip
//! migrations silently). The tool's whole output, redacted, goes with every failure, and the
//! preset's help when the output shows one of the tool's known failures.

use crate::config::{CommandSpec, Config, Tracking as TrackingConfig};
use crate::runner::{self, Cmd, RunOutput};
use crate::secret::Secret;
use crate::template;
use crate::tools::detect::Tree;
use crate::tools::handoff::{self, PgUrl};
use crate::tools::presets;
use crate::tools::recorded;
use crate::tools::revisions;
use crate::tools::witness::{Tracking, Witness};
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

/// A command spec with its templates rendered.
#[derive(Debug, Clone)]
pub struct RenderedSpec {
    /// What runs. In a shell string every template variable is a reference to one of `env`
    /// (see [`template::render_shell`]): a git branch named `x$(rm -rf ~)` is text, not code.
    pub spec: CommandSpec,
    /// The command with the values written in, for reports (not yet redacted).
    pub shown: String,
    /// Environment variables the shell string refers to.
    pub env: Vec<(String, String)>,
}

/// Renders every part of a command spec. Argv parts are rendered as text (no shell reads
/// them); a shell string gets its values through the environment.
pub fn render_spec(spec: &CommandSpec, vars: &template::Vars) -> Result<RenderedSpec, ToolError> {
    Ok(match spec {
        CommandSpec::Argv(v) => {
            let parts: Vec<String> = v
                .iter()
                .map(|p| render(p, vars))
                .collect::<Result<_, _>>()?;
            RenderedSpec {
                shown: parts.join(" "),
                spec: CommandSpec::Argv(parts),
                env: Vec::new(),
            }
        }
        CommandSpec::Shell(s) => {
            let r =
                template::render_shell(s, vars).map_err(|e| ToolError::Render(e.to_string()))?;
            RenderedSpec {
                spec: CommandSpec::Shell(r.exec),
                shown: r.shown,
                env: r.env,
            }
        }
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
        .map_err(|e| ToolError::Render(e.to_string()))?;
    for (_, v) in base.iter().chain(&explicit) {
        ctx.redactor.add_url(v);
    }
    let mut vars = ctx.vars.clone();
    if let Some(b) = &mut vars.db_branch {
        if let Some((_, url)) = explicit
            .first()
            .filter(|_| !tool.handoff.url_env.is_empty())
        {
            b.url = crate::secret::Secret::new(url.clone());
        } else if let Some(u) = PgUrl::parse(ctx.target.url.expose()) {
            b.url = crate::secret::Secret::new(u.for_tool(&tool.handoff.drop_params).render());
        }
    }
    let rendered = render_spec(spec, &vars)?;
    let mut env: Vec<(String, String)> = venv_env(&tool.working_dir);
    env.extend(base);
    // What reaches beyond the copy is withheld from the tool: the Neon API key (it can delete
    // any Neon database branch of the project, main included) and the variables the provider's
    // own URL is made of (the server's admin credentials). `[tool.env]` can still hand one
    // over on purpose.
    for name in withheld(ctx.config) {
        env.push((name, String::new()));
    }
    for (k, v) in &tool.env {
        env.push((k.clone(), render(v, &vars)?));
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
        if let Some(check) = ctx.connection_check {
            options.push_str(&format!(
                " -c client_connection_check_interval={}ms",
                check.as_millis()
            ));
        }
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
    env.extend(rendered.env);
    Ok(Cmd {
        spec: rendered.spec,
        shown: rendered.shown,
        env,
        cwd: tool.working_dir.clone(),
        timeout: tool.timeout,
    })
}

/// One template rendered as text.
fn render(text: &str, vars: &template::Vars) -> Result<String, ToolError> {
    template::render(text, vars).map_err(|e| ToolError::Render(e.to_string()))
}

/// Variables of our environment the tool must not inherit (see [`prepare`]).
fn withheld(config: &Config) -> Vec<String> {
    match &config.provider {
        crate::config::ProviderConfig::Neon(n) => vec![n.api_key_env.clone()],
        crate::config::ProviderConfig::Local(l) => {
            l.url.as_deref().map(template_env_names).unwrap_or_default()
        }
    }
}

/// The `X` of every `{{env.X}}` in a template.
fn template_env_names(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("env.") {
        let name: String = rest[at + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let opened = rest[..at]
            .rfind("{{")
            .is_some_and(|o| !rest[o..at].contains("}}"));
        if opened && !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
        rest = &rest[at + 4..];
    }
    out
}

/// The project's virtualenv: the nearest `.venv` or `venv` (one with `bin/python`) in the
/// tool's folder or a folder above it, up to the git work tree's root. `uv sync` in a uv
/// workspace and Poetry put it at the workspace's root, above the folder with `alembic.ini` or
/// `manage.py`; `uv run` and an activated virtualenv find it there, so the tool must too.
pub fn project_venv(working_dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let mut dir = Some(working_dir);
    for _ in 0..8 {
        let d = dir?;
        for name in [".venv", "venv"] {
            let venv = d.join(name);
            if venv.join("bin").join("python").exists() {
                return Some(venv);
            }
        }
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

/// `PATH` (the virtualenv's `bin` first) and `VIRTUAL_ENV` when the project has a virtualenv,
/// as `uv run` or an activated virtualenv set them; `[tool.env]` can still override both.
fn venv_env(working_dir: &std::path::Path) -> Vec<(String, String)> {
    let Some(venv) = project_venv(working_dir) else {
        return Vec::new();
    };
    let mut paths = vec![venv.join("bin")];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    let Ok(path) = std::env::join_paths(paths) else {
        return Vec::new();
    };
    vec![
        ("PATH".into(), path.to_string_lossy().into_owned()),
        ("VIRTUAL_ENV".into(), venv.to_string_lossy().into_owned()),
    ]
}

/// Runs a prepared command; a command that cannot start says how to install the tool.
async fn run(ctx: &ToolContext<'_>, cmd: &Cmd) -> Result<RunOutput, ToolError> {
    let tool = &ctx.config.tool;
    runner::run(cmd, ctx.redactor).await.map_err(|e| {
        crate::tools::note_start_failure();
        let help = match &tool.install {
            Some(i) => format!("is `{}` installed? {i}", tool.name),
            None => format!("is `{}` installed and on PATH?", tool.name),
        };
        ToolError::Spawn {
            source: Box::new(e),
            help,
        }
    })
}

/// Rows in `after` that are not in `before`, in order.
fn added(before: &[String], after: &[String]) -> Vec<String> {
    after
        .iter()
        .filter(|a| !before.contains(a))
        .cloned()
        .collect()
}

/// The names of the variables that carried the database to the tool, for messages.
fn given(cmd: &Cmd) -> String {
    let names: Vec<&str> = cmd
        .env
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "PGOPTIONS" && !k.starts_with("NEON_MIGRATE_VAR_"))
        .collect();
    crate::report::collapse(&names, 12)
}

/// Help for a tool that worked somewhere else than on the database it was given.
fn elsewhere_help(cmd: &Cmd) -> String {
    format!(
        "the project reads its database from a setting neon-migrate did not fill, so the tool \
         migrated its default database (or none). It was given: {}. Name the variable the \
         project reads in `url-env` under [tool] (or set it in [tool.env]); `neon-migrate plan` \
         shows the whole hand-off",
        given(cmd)
    )
}

#[async_trait::async_trait]
impl Tool for CommandTool {
    fn name(&self) -> &str {
        &self.name
    }

    /// Runs the tool, then demands evidence that it worked on the target: its sessions
    /// there (on the test copy) and its tracking table there. Exit code 0 alone proves
    /// nothing.
    async fn apply(&self, ctx: &ToolContext<'_>) -> Result<ToolRun, ToolError> {
        let cmd = prepare(ctx, &self.apply)?;
        let target = &ctx.target.name;
        let witness = Witness::open(&ctx.target.url, !ctx.on_main)
            .await
            .map_err(|e| ToolError::Evidence {
                message: format!(
                    "cannot connect to {target} before running the tool: {}",
                    ctx.redactor.redact(&e.to_string())
                ),
                help: None,
            })?;
        let before = read_tracking(ctx, &witness, "before").await?;
        let out = run(ctx, &cmd).await?;
        let after = read_tracking(ctx, &witness, "after").await;
        let applied = match (&before, &after) {
            (Some(b), Ok(Some(a))) => self.applied(ctx, b.rows(), a.rows()),
            _ => Vec::new(),
        };
        let shown = ctx.redactor.redact(&cmd.shown);
        if !out.success() {
            let known = presets::start_failure(&out.output, out.code);
            let traceback = presets::python_start_traceback(&out.output);
            if known.is_some() || traceback {
                // A tool that opened a session on the target has started: its failure is the
                // migration's, whatever its output quotes. One that provably opened none
                // (counted by the server) failed before any migration, whatever it says.
                let sessions = witness.sessions_since().await;
                let connected = matches!(sessions, Ok(Some(n)) if n > 0);
                let why = match known {
                    Some(why) if !connected => Some(why),
                    None if traceback && matches!(sessions, Ok(Some(0))) => {
                        Some(presets::FAILED_BEFORE_CONNECTING)
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    let how = out.describe(cmd.timeout);
                    return Err(start_error(
                        ctx,
                        &format!("`{shown}` {how}"),
                        &out,
                        why,
                        applied,
                    ));
                }
            }
            return Err(ToolError::Failed {
                message: format!("`{shown}` {} on {target}", out.describe(cmd.timeout)),
                help: presets::failure_help(&ctx.config.tool.failure_hints, &out.output),
                codes: crate::tools::sqlstates_in_output(&out.output),
                output: Some(out.output),
                applied,
            });
        }
        let after = after?;
        let evidence = Evidence {
            ctx,
            cmd: &cmd,
            shown: &shown,
            output: &out.output,
            applied: &applied,
        };
        // Evidence 1: the tool connected to the target at all.
        let mut notes = evidence.sessions(&witness).await?;
        // Evidence 2: the tool's own record, on the target.
        let (Some(t), Some(after)) = (ctx.config.tool.tracking.as_ref(), &after) else {
            notes.push(format!(
                "NOT PROVEN which migrations ran: `{}` has no `tracking-query` under [tool]",
                ctx.config.tool.name
            ));
            return Ok(ToolRun {
                applied,
                notes,
                output: out.output,
                tracked_before: None,
            });
        };
        notes.extend(evidence.tracking(t, after)?);
        Ok(ToolRun {
            applied,
            notes,
            output: out.output,
            tracked_before: before.map(|b| b.rows().to_vec()),
        })
    }
}

/// The tool's tracking rows on the target `when` (before, after) the run; `None` when the tool
/// has no tracking query.
async fn read_tracking(
    ctx: &ToolContext<'_>,
    witness: &Witness,
    when: &str,
) -> Result<Option<Tracking>, ToolError> {
    let Some(t) = ctx.config.tool.tracking.as_ref() else {
        return Ok(None);
    };
    witness
        .tracked(&t.query)
        .await
        .map(Some)
        .map_err(|e| ToolError::Evidence {
            message: format!(
                "cannot read the tool's tracking table on {} {when} the run: {}",
                ctx.target.name,
                ctx.redactor.redact(&e.to_string())
            ),
            help: Some(format!(
                "check `tracking-query` under [tool]: `{}`",
                t.query
            )),
        })
}

/// What a run that exited 0 is judged on: the tool's sessions on the target and its tracking
/// rows there.
struct Evidence<'a> {
    ctx: &'a ToolContext<'a>,
    cmd: &'a Cmd,
    /// The command, redacted.
    shown: &'a str,
    output: &'a str,
    applied: &'a [String],
}

impl Evidence<'_> {
    /// The run is refused: it exited 0, but the target says otherwise.
    fn refuse(&self, message: String, help: String) -> ToolError {
        ToolError::Unproven {
            message,
            help,
            output: self.output.to_owned(),
            applied: self.applied.to_vec(),
        }
    }

    /// The tool opened sessions on the target; notes on what could be counted.
    async fn sessions(&self, witness: &Witness) -> Result<Vec<String>, ToolError> {
        let (shown, target) = (self.shown, &self.ctx.target.name);
        let mut notes = Vec::new();
        match witness.sessions_since().await {
            Ok(Some(0)) => {
                return Err(self.refuse(
                    format!("`{shown}` exited with code 0, but it opened no session on {target}: it did not migrate the database it was given"),
                    elsewhere_help(self.cmd),
                ))
            }
            Ok(Some(n)) => notes.push(format!("the tool opened {n} session(s) on {target}")),
            Ok(None) if !self.ctx.on_main => notes.push(
                "the tool's sessions on the target were not counted (PostgreSQL < 15, or another client was connected)".into(),
            ),
            Ok(None) => {}
            Err(e) => notes.push(format!(
                "the tool's sessions on the target were not counted: {}",
                self.ctx.redactor.redact(&e.to_string())
            )),
        }
        Ok(notes)
    }

    /// The tracking table exists on the target and records every migration the project has,
    /// up to its head; notes on what was compared.
    fn tracking(&self, t: &TrackingConfig, after: &Tracking) -> Result<Vec<String>, ToolError> {
        let (shown, target) = (self.shown, &self.ctx.target.name);
        let mut notes = Vec::new();
        let rows = match after {
            Tracking::Absent => {
                return Err(self.refuse(
                    format!("`{shown}` exited with code 0, but {target} has no tracking table (`{}` found none): the tool did not migrate the database it was given", t.query),
                    elsewhere_help(self.cmd),
                ))
            }
            Tracking::Rows(rows) => rows,
        };
        notes.extend(
            crate::tools::strays::after_run(self.ctx.config, rows, self.applied)
                .map_err(|(m, h)| self.refuse(m, h))?,
        );
        // Every migration the project has must be recorded (tools can skip some silently):
        // as many rows as files, and every file named by a row.
        if !t.migration_files.is_empty() {
            notes.extend(self.every_file_recorded(t, rows)?);
        }
        if let Some(missing) = revisions::unreached_head(self.ctx.config, rows) {
            return Err(self.refuse(
                format!("`{shown}` exited with code 0, but on {target} the tool's head is not the project's: {missing}"),
                "the tool stopped before the newest migration; read its output above".into(),
            ));
        }
        if self.applied.is_empty() {
            notes.push(format!(
                "nothing was pending: the tracking table on {target} already records {} migration(s)",
                rows.len()
            ));
        }
        Ok(notes)
    }

    /// As many tracking rows as migration files, and every file named by a row.
    fn every_file_recorded(
        &self,
        t: &TrackingConfig,
        rows: &[String],
    ) -> Result<Vec<String>, ToolError> {
        let (shown, target) = (self.shown, &self.ctx.target.name);
        let dir = &self.ctx.config.tool.working_dir;
        let files = Tree::new(dir).files(&t.migration_files);
        if rows.len() < files.len() {
            return Err(self.refuse(
                format!(
                    "`{shown}` exited with code 0, but on {target} the tool records {} applied migration(s) while the project has {} ({})",
                    rows.len(),
                    files.len(),
                    t.migration_files.join(", ")
                ),
                format!(
                    "the tool skipped migrations without failing; read its output above. Tracking query: `{}`. If these files are not all migrations, set `migration-files` under [tool] (`[]` turns this check off)",
                    t.query
                ),
            ));
        }
        match recorded::unrecorded(&self.ctx.config.tool.name, dir, rows, &files) {
            Some(missing) if !missing.is_empty() => Err(self.refuse(
                format!(
                    "`{shown}` exited with code 0, but on {target} the tool's tracking table does not record {} of the project's migration(s): {}",
                    missing.len(),
                    crate::report::collapse(&missing, 8)
                ),
                format!(
                    "the tool did not apply them (an app it does not load, a migration older than the newest applied one, …); read its output above. Tracking query: `{}`",
                    t.query
                ),
            )),
            Some(_) => Ok(Vec::new()),
            None => Ok(vec![format!(
                "the tracking rows on {target} do not name the migration files: only their number ({}) was compared with the project's {} file(s)",
                rows.len(),
                files.len()
            )]),
        }
    }
}

impl CommandTool {
    /// What the run applied, from the tracking rows before and after. A tool that keeps only
    /// its head (Alembic) is read through its revision graph.
    fn applied(&self, ctx: &ToolContext<'_>, before: &[String], after: &[String]) -> Vec<String> {
        revisions::between(ctx.config, before, after).unwrap_or_else(|| added(before, after))
    }
}

/// A tool that could not start: said so, with how to install it (or the output's own fix),
/// without blaming the migration (nothing is known about it yet). `ran` is the command and
/// how it ended.
fn start_error(
    ctx: &ToolContext<'_>,
    ran: &str,
    out: &RunOutput,
    why: presets::StartFailure,
    applied: Vec<String>,
) -> ToolError {
    crate::tools::note_start_failure();
    let tool = &ctx.config.tool;
    let install = tool
        .install
        .as_ref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    let help = match (why.help, crate::tools::unset::from_traceback(&out.output)) {
        (_, Some(unset)) => unset.help(),
        (Some(h), None) => h.to_owned(),
        (None, None) => format!(
            "install `{}` and its dependencies where it runs ({}){install}; nothing is known about the migration yet",
            tool.name,
            tool.working_dir.display()
        ),
    };
    ToolError::NotStarted {
        message: format!(
            "{ran} and could not start on {}: {}; the migration was not tried",
            ctx.target.name, why.why
        ),
        output: out.output.clone(),
        help,
        applied,
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
        return Err(ToolError::NoCommand {
            tool: tool.name.clone(),
            key,
        });
    };
    let cmd = prepare(ctx, spec)?;
    let witness = Witness::open(&ctx.target.url, false).await.ok();
    let read = || async {
        match (&witness, &tool.tracking) {
            (Some(w), Some(t)) => w.tracked(&t.query).await.ok(),
            _ => None,
        }
    };
    let before = read().await;
    let out = run(ctx, &cmd).await?;
    let after = read().await;
    let reverted = match (&before, &after) {
        (Some(b), Some(a)) => added(a.rows(), b.rows()),
        _ => Vec::new(),
    };
    if !out.success() {
        return Err(ToolError::Failed {
            message: format!(
                "`{}` {} on {}",
                ctx.redactor.redact(&cmd.shown),
                out.describe(cmd.timeout),
                ctx.target.name
            ),
            help: presets::failure_help(&tool.failure_hints, &out.output),
            codes: crate::tools::sqlstates_in_output(&out.output),
            output: Some(out.output),
            applied: Vec::new(),
        });
    }
    Ok(ToolRun {
        applied: reverted,
        notes: Vec::new(),
        output: out.output,
        tracked_before: before.map(|b| b.rows().to_vec()),
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
            url: crate::secret::Secret::new(url.to_owned()),
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
        connection_check: None,
        on_main: false,
    };
    let cmd = prepare(&ctx, spec)?;
    Ok((cmd.spec, cmd.env))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_provider_url_s_variables_are_found() {
        assert_eq!(
            super::template_env_names(
                "postgres://adm:{{env.ADMIN_PW}}@{{ env.DB_HOST }}/x?a=env.NOT"
            ),
            ["ADMIN_PW", "DB_HOST"]
        );
    }
}

//! The command line: the clap types, and the dispatch to [`crate::commands`], each of which
//! prints its own output; their errors are rendered in one place ([`commands::finish`]).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{self, Context};
use crate::config;
use crate::exit;

#[derive(Debug, Parser)]
#[command(
    name = "neon-migrate",
    version,
    about = "Prove every schema change on a TTL'd test Neon database branch before it reaches the main Neon database branch.",
    after_help = exit_codes_help()
)]
pub struct Cli {
    /// Path to neon-migrate.toml (default: searched from the working directory up to the git root).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run as if started in DIR.
    #[arg(short = 'C', long = "dir", global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate neon-migrate.toml and print every problem at once.
    Check,
    /// Show what `run <PIPELINE>` would do, without touching any database.
    Plan {
        pipeline: String,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a pipeline: create a test Neon database branch, migrate, check, delete, (apply).
    Run {
        pipeline: String,
        /// Print the report as JSON (versioned; see the README).
        #[arg(long)]
        json: bool,
        /// Also write the report as Markdown to FILE (also appended to $GITHUB_STEP_SUMMARY when set).
        #[arg(long, value_name = "FILE")]
        summary_md: Option<PathBuf>,
    },
    /// Install, remove or inspect the git pre-push hook that runs the `pre-push` pipeline.
    Hooks {
        #[command(subcommand)]
        action: HooksAction,
    },
    /// What the installed git hooks call (reads the pushed refs from stdin).
    Hook {
        #[command(subcommand)]
        hook: HookName,
    },
    /// Delete expired test Neon database branches left by killed runs.
    Gc {
        /// List what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Delete every test Neon database branch neon-migrate created, expired or not.
        #[arg(long)]
        all: bool,
    },
    /// Serve an emulation of the Neon API v2, backed by a local Postgres (for tests and offline rehearsals).
    Emulator {
        /// Address to listen on; port 0 picks a free one (the URL is printed on the first line).
        #[arg(long, default_value = "127.0.0.1:4444")]
        listen: std::net::SocketAddr,
        /// The id of the emulated project.
        #[arg(long, default_value = "emulated-project-00000001")]
        project_id: String,
        /// Accept only the API key in this environment variable (default: any non-empty key).
        #[arg(long, value_name = "ENV")]
        api_key_env: Option<String>,
        /// How long each operation takes to go scheduling → running → finished.
        #[arg(long, default_value = "300ms", value_parser = parse_duration)]
        operation_delay: std::time::Duration,
        /// Faults to inject, a JSON array of {method, path_contains, times, status | retry_after | delay_ms | drop | fail_next_operation}.
        #[arg(long, value_name = "FILE")]
        faults: Option<PathBuf>,
        /// Backing Postgres server (default: the embedded one).
        #[arg(long, value_name = "URL", env = "NEON_MIGRATE_EMULATOR_BACKING_URL")]
        backing_url: Option<String>,
        /// Folder of the embedded Postgres.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Diff two schemas into an online-safe plan (SQL, JSON or Markdown).
    Diff {
        /// Current schema: a postgres:// URL, `main`, a .sql file, or a Neon database branch name.
        #[arg(long, default_value = "main")]
        from: String,
        /// Desired schema: a postgres:// URL, a .sql file, or a Neon database branch name.
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "sql")]
        format: commands::diff::Format,
        /// Plain DDL instead of online-safe forms (for empty databases).
        #[arg(long)]
        offline: bool,
    },
    /// Write the next migration for the built-in `sql` tool from a desired schema file.
    Generate {
        /// Name of the migration (becomes part of the file name).
        name: String,
        /// The desired schema.
        #[arg(long, default_value = "schema.sql")]
        schema: PathBuf,
        /// Allow a plan that drops tables, columns or other data.
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Undo an apply: restore the main Neon database branch from a restore point, or run down migrations.
    Rollback {
        /// The restore point to restore from (default: the newest).
        #[arg(long, value_name = "NAME")]
        to: Option<String>,
        /// Run the `sql` tool's down migrations instead of restoring.
        #[arg(long)]
        down: bool,
        /// With `--down`: how many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: usize,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Detect the project's migration tool and write a commented neon-migrate.toml.
    Init {
        /// The tool preset to use instead of detecting one (e.g. `drizzle`, `sql`).
        #[arg(long, value_name = "NAME")]
        tool: Option<String>,
        /// Replace an existing neon-migrate.toml.
        #[arg(long)]
        force: bool,
    },
    /// Build a sample repository and run the whole workflow on an embedded Postgres.
    Demo {
        /// Folder for the sample repository (default: a new temporary folder).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HooksAction {
    /// Write the git pre-push hook (honours core.hooksPath; a hook already there is kept as pre-push.old).
    Install,
    /// Remove the git pre-push hook and restore a kept pre-push.old.
    Uninstall,
    /// Show where the git pre-push hook is, whether it is current, what it runs and watches.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum HookName {
    /// Run the `pre-push` pipeline for each pushed git branch whose watched paths changed.
    PrePush {
        /// The remote's name (git passes it; default: $PRE_COMMIT_REMOTE_NAME, else origin).
        remote: Option<String>,
        /// The remote's URL (git passes it).
        url: Option<String>,
    },
}

fn parse_duration(s: &str) -> Result<std::time::Duration, config::duration::DurationError> {
    config::duration::parse(s)
}

fn exit_codes_help() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, name, what) in exit::TABLE {
        s.push_str(&format!("  {code:>3}  {name:<17} {what}\n"));
    }
    s
}

/// Runs the command line `args` (including the program name); returns the exit code.
pub fn run_from<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    quiet_on_closed_output();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let cx = Context::new(cli.dir, cli.config);
    // The hook decides whether there is anything to do before any runtime starts: a push
    // that changes no watched path must cost milliseconds.
    if let Command::Hook {
        hook: HookName::PrePush { remote, url },
    } = &cli.command
    {
        return commands::finish(commands::pre_push::run(&commands::pre_push::Options {
            cwd: &cx.cwd,
            explicit_config: cx.config.as_deref(),
            remote: remote.as_deref(),
            url: url.as_deref(),
        }));
    }
    if matches!(cli.command, Command::Diff { .. }) {
        crate::app::one_malloc_arena();
    }
    match crate::app::runtime() {
        Ok(runtime) => runtime.block_on(dispatch(cli.command, &cx)),
        Err(e) => commands::report(&e),
    }
}

/// `neon-migrate plan pre-push | head`: once the reader has gone, printing fails, and
/// `println!` panics. That is the reader's choice, not our failure: end quietly, with no
/// panic message (exit 0, as `head` wanted no more). A run still finishes and cleans up
/// first, because its own output ignores write errors ([`crate::output::out`]).
fn quiet_on_closed_output() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(exit::OK);
        }
        default(info);
    }));
}

/// Runs `command`; returns the exit code.
async fn dispatch(command: Command, cx: &Context) -> i32 {
    use commands::finish;
    match command {
        Command::Check => finish(commands::check::run(cx)),
        Command::Plan { pipeline, json } => finish(commands::plan::run(cx, &pipeline, json)),
        Command::Run {
            pipeline,
            json,
            summary_md,
        } => commands::run::run(cx, &pipeline, json, summary_md).await,
        Command::Hooks { action } => finish(match action {
            HooksAction::Install => commands::hooks::install(&cx.cwd),
            HooksAction::Uninstall => commands::hooks::uninstall(&cx.cwd),
            HooksAction::Status => commands::hooks::status(&cx.cwd, cx.config.as_deref()),
        }),
        // Handled in `run_from`, before the runtime starts.
        Command::Hook { .. } => exit::INTERNAL,
        Command::Gc { dry_run, all } => finish(commands::gc::run(cx, dry_run, all).await),
        Command::Emulator {
            listen,
            project_id,
            api_key_env,
            operation_delay,
            faults,
            backing_url,
            data_dir,
        } => finish(
            commands::emulator::run(commands::emulator::Options {
                listen,
                project_id,
                api_key_env,
                operation_delay,
                faults,
                backing_url,
                data_dir,
            })
            .await,
        ),
        Command::Diff {
            from,
            to,
            format,
            offline,
        } => finish(commands::diff::run(cx, &from, &to, format, offline).await),
        Command::Generate {
            name,
            schema,
            allow_destructive,
        } => finish(
            commands::generate::run(
                cx,
                &commands::generate::Options {
                    name,
                    schema,
                    allow_destructive,
                },
            )
            .await,
        ),
        Command::Rollback {
            to,
            down,
            steps,
            yes,
        } => finish(
            commands::rollback::run(
                cx,
                &commands::rollback::Options {
                    to,
                    down,
                    steps,
                    yes,
                },
            )
            .await,
        ),
        Command::Init { tool, force } => {
            finish(commands::init::run(&cx.cwd, tool.as_deref(), force))
        }
        Command::Demo { dir } => finish(commands::demo::run(dir).await),
    }
}

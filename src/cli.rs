//! The command line: parse, dispatch, print. All printing of the product happens here (and
//! in the demo), never in the engine.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use tokio::sync::watch;

use crate::config::{self, Config, StageKind};
use crate::engine::{self, EventSink};
use crate::exit;
use crate::git::{self, GitInfo};
use crate::output::Outputs;
use crate::providers::local::LocalProvider;
use crate::providers::{self, Provider};
use crate::report;
use crate::secret::Redactor;

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
        format: crate::diffcmd::Format,
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
    // The hook decides whether there is anything to do before any runtime starts: a push
    // that changes no watched path must cost milliseconds.
    if let Command::Hook {
        hook: HookName::PrePush { remote, url },
    } = &cli.command
    {
        let cwd = match &cli.dir {
            Some(d) => d.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        return crate::hooks::pre_push(
            &cwd,
            cli.config.as_deref(),
            remote.as_deref(),
            url.as_deref(),
        );
    }
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(dispatch(cli))
}

/// `neon-migrate plan pre-push | head`: once the reader has gone, printing fails, and
/// `println!` panics. That is the reader's choice, not our failure: end quietly, with no
/// panic message (exit 0, as `head` wanted no more). A run still finishes and cleans up
/// first, because its own output ignores write errors ([`out`]).
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

/// Prints `text` on stdout, ignoring a reader that has gone (see [`quiet_on_closed_output`]).
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// The async runtime of a command; `Err` is the exit code.
pub fn runtime() -> Result<tokio::runtime::Runtime, i32> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            exit::INTERNAL
        })
}

async fn dispatch(cli: Cli) -> i32 {
    let cwd = match &cli.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    match cli.command {
        Command::Demo { dir } => crate::demo::run(dir).await,
        Command::Init { tool, force } => crate::init::run(&cwd, tool.as_deref(), force),
        Command::Rollback {
            to,
            down,
            steps,
            yes,
        } => {
            let git = git::discover(&cwd).ok();
            match load_config(cli.config.as_deref(), &cwd, git.as_ref()) {
                Ok(config) => crate::rollback::run(&config, to.as_deref(), down, steps, yes).await,
                Err(code) => code,
            }
        }
        Command::Diff {
            from,
            to,
            format,
            offline,
        } => {
            let git = git::discover(&cwd).ok();
            match load_config(cli.config.as_deref(), &cwd, git.as_ref()) {
                Ok(config) => crate::diffcmd::diff(&config, &from, &to, format, offline).await,
                Err(code) => code,
            }
        }
        Command::Generate {
            name,
            schema,
            allow_destructive,
        } => match setup(cli.config.as_deref(), &cwd) {
            Ok((config, git)) => {
                crate::diffcmd::generate(&config, &git, &name, &schema, allow_destructive).await
            }
            Err(code) => code,
        },
        Command::Emulator {
            listen,
            project_id,
            api_key_env,
            operation_delay,
            faults,
            backing_url,
            data_dir,
        } => {
            emulator(
                listen,
                project_id,
                api_key_env,
                operation_delay,
                faults,
                backing_url,
                data_dir,
            )
            .await
        }
        Command::Check => {
            let git = git::discover(&cwd).ok();
            match load_config(cli.config.as_deref(), &cwd, git.as_ref()) {
                Ok(c) => {
                    let file = c
                        .path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "(defaults)".into());
                    println!(
                        "{file}: ok — tool `{}`, provider `{}`, pipelines: {}",
                        c.tool.name,
                        c.provider.kind(),
                        c.pipelines.keys().cloned().collect::<Vec<_>>().join(", ")
                    );
                    if let Some(w) = crate::init::working_dir_warning(&c) {
                        eprintln!("warning: {w}");
                    }
                    exit::OK
                }
                Err(code) => code,
            }
        }
        Command::Plan { pipeline, json } => match setup(cli.config.as_deref(), &cwd) {
            Ok((config, git)) => plan(&config, &git, &pipeline, json),
            Err(code) => code,
        },
        Command::Run {
            pipeline,
            json,
            summary_md,
        } => match try_setup(cli.config.as_deref(), &cwd) {
            Ok((config, git)) => {
                let outputs = Outputs::from_env(json, summary_md, Some(&git.root));
                run_with(&config, &git, &pipeline, &outputs).await
            }
            // `--json` promises a report on stdout, also when the run cannot start.
            Err(failure) => {
                let (f, git) = *failure;
                f.report(&pipeline, git.as_ref(), json)
            }
        },
        Command::Hooks { action } => match action {
            HooksAction::Install => crate::hooks::install(&cwd),
            HooksAction::Uninstall => crate::hooks::uninstall(&cwd),
            HooksAction::Status => crate::hooks::status(&cwd, cli.config.as_deref()),
        },
        // Handled in `run_from`, before the runtime starts.
        Command::Hook { .. } => exit::INTERNAL,
        Command::Gc { dry_run, all } => {
            let git = git::discover(&cwd).ok();
            let config = match load_config(cli.config.as_deref(), &cwd, git.as_ref()) {
                Ok(c) => c,
                Err(code) => return code,
            };
            gc(&config, dry_run, all).await
        }
    }
}

/// Why a command could not start: the exit code, what to print, and the same as one
/// message with a line per problem (for `run --json`).
pub struct SetupFailure {
    pub code: i32,
    /// The `setup` stage's name in a JSON report.
    pub stage: &'static str,
    /// What stderr shows (a config error's snippets included).
    pub printed: String,
    pub message: String,
    pub help: Option<String>,
    pub details: Vec<String>,
}

impl SetupFailure {
    fn simple(code: i32, stage: &'static str, message: String, help: Option<String>) -> Self {
        let mut printed = format!("error: {message}\n");
        if let Some(h) = &help {
            printed.push_str(&format!("  help: {h}\n"));
        }
        SetupFailure {
            code,
            stage,
            printed,
            message,
            help,
            details: Vec::new(),
        }
    }

    fn config(e: &config::ConfigError) -> Self {
        let plain = !std::io::stderr().is_terminal() || std::env::var_os("NO_COLOR").is_some();
        SetupFailure {
            code: exit::CONFIG,
            stage: "load-config",
            printed: config::diag::render(e, plain),
            message: e.to_string(),
            help: Some("fix every problem listed, then run `neon-migrate check` again".into()),
            details: e.plain_lines(),
        }
    }

    /// Prints the failure on stderr, and with `json` its report on stdout; returns the code.
    pub fn report(self, pipeline: &str, git: Option<&GitInfo>, json: bool) -> i32 {
        eprint!("{}", self.printed);
        if json {
            let r = report::setup_failure(
                pipeline,
                git,
                self.stage,
                self.code,
                self.message,
                self.help,
                self.details,
            );
            println!("{}", report::render_json(&r));
        }
        self.code
    }
}

/// Loads the config found from `cwd` (or `explicit`), printing problems; `Err` is the exit code.
pub fn load_config(
    explicit: Option<&Path>,
    cwd: &Path,
    git: Option<&GitInfo>,
) -> Result<Config, i32> {
    try_load_config(explicit, cwd, git).map_err(|f| {
        eprint!("{}", f.printed);
        f.code
    })
}

/// [`load_config`] without printing the failure.
pub fn try_load_config(
    explicit: Option<&Path>,
    cwd: &Path,
    git: Option<&GitInfo>,
) -> Result<Config, SetupFailure> {
    let path = match explicit {
        Some(p) => Some(p.to_owned()),
        None => config::discover(cwd, git.map(|g| g.root.as_path())),
    };
    let Some(path) = path else {
        let root = git
            .map(|g| g.root.clone())
            .unwrap_or_else(|| cwd.to_owned());
        let config = match config::try_defaults(&root) {
            Ok(c) => c,
            Err(e) => return Err(SetupFailure::config(&e)),
        };
        eprintln!(
            "note: no {} found from {} up to {}; using the defaults (embedded Postgres, tool `{}`)",
            config::FILE_NAME,
            cwd.display(),
            root.display(),
            config.tool.name
        );
        return Ok(config);
    };
    match config::load(&path) {
        Ok(c) => Ok(c),
        Err(config::LoadError::Io { path, source }) => Err(SetupFailure::simple(
            exit::CONFIG,
            "load-config",
            format!("cannot read {}: {source}", path.display()),
            None,
        )),
        Err(config::LoadError::Invalid(e)) => Err(SetupFailure::config(&e)),
    }
}

fn setup(explicit: Option<&Path>, cwd: &Path) -> Result<(Config, GitInfo), i32> {
    try_setup(explicit, cwd).map_err(|failure| {
        eprint!("{}", failure.0.printed);
        failure.0.code
    })
}

/// Why [`try_setup`] failed, with the git facts when they were found.
type SetupError = Box<(SetupFailure, Option<GitInfo>)>;

/// [`setup`] without printing the failure.
fn try_setup(explicit: Option<&Path>, cwd: &Path) -> Result<(Config, GitInfo), SetupError> {
    let git = match git::discover(cwd) {
        Ok(g) => g,
        Err(e) => {
            return Err(Box::new((
                SetupFailure::simple(
                    exit::GIT,
                    "find-git-repository",
                    e.to_string(),
                    Some("neon-migrate names test Neon database branches after the git branch; run it inside a git repository".into()),
                ),
                None,
            )))
        }
    };
    match try_load_config(explicit, cwd, Some(&git)) {
        Ok(config) => Ok((config, git)),
        Err(f) => Err(Box::new((f, Some(git)))),
    }
}

fn plan(config: &Config, git: &GitInfo, pipeline: &str, json: bool) -> i32 {
    let Some(p) = find_pipeline(config, pipeline) else {
        return exit::CONFIG;
    };
    let vars = engine::base_vars(git, pipeline);
    let name = match engine::db_branch_name(config, &vars) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: cannot name the test Neon database branch: {e}");
            return exit::CONFIG;
        }
    };
    let ttl = config::duration::format(config.db_branch.ttl);
    let stages: Vec<serde_json::Value> = p
        .stages
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "kind": s.kind.as_str(),
                "always": s.always,
                "description": describe_stage(config, &s.kind),
            })
        })
        .collect();
    if json {
        let v = serde_json::json!({
            "schema_version": report::SCHEMA_VERSION,
            "pipeline": p.name,
            "origin": p.origin,
            "git": { "branch": git.branch, "sha": git.sha, "detached": git.detached },
            "neon_database_branch": { "name": name, "ttl": ttl },
            "provider": config.provider.kind(),
            "tool": config.tool.name,
            "migration_tool": crate::tools::explain::json(config),
            "stages": stages,
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return exit::OK;
    }
    let detached = if git.detached {
        " (detached HEAD: the short sha stands in for the git branch)"
    } else {
        ""
    };
    println!(
        "pipeline `{}` ({}){}",
        p.name,
        p.origin,
        if p.description.is_empty() {
            String::new()
        } else {
            format!(": {}", p.description)
        }
    );
    println!("  git branch            {}{detached}", git.branch);
    println!("  commit                {}", git.sha);
    println!("  Neon database branch  {name} (TTL {ttl})");
    for (label, value) in crate::tools::explain::lines(config) {
        println!("  {label:<22}{value}");
    }
    println!("  provider              {}", config.provider.kind());
    println!("  stages:");
    for (i, s) in p.stages.iter().enumerate() {
        let always = if s.always { " [always runs]" } else { "" };
        println!(
            "    {}. {:<30} {}{always}",
            i + 1,
            s.name,
            describe_stage(config, &s.kind)
        );
    }
    exit::OK
}

fn describe_stage(config: &Config, kind: &StageKind) -> String {
    match kind {
        StageKind::CreateDbBranch => {
            "create a test Neon database branch from the main Neon database branch".into()
        }
        StageKind::Migrate => format!(
            "run `{}` on the test Neon database branch",
            config.tool.name
        ),
        StageKind::Checks => format!(
            "run {} SQL check(s) on the test Neon database branch",
            config.sql_checks.len()
        ),
        StageKind::DeleteDbBranch => "delete the test Neon database branch".into(),
        StageKind::Apply => format!(
            "run `{}` on the main Neon database branch, if every earlier stage passed",
            config.tool.name
        ),
        StageKind::Shell(s) => format!("run `{}`", s.run.display()),
    }
}

fn find_pipeline<'c>(config: &'c Config, name: &str) -> Option<&'c config::Pipeline> {
    let found = config.pipelines.get(name);
    if found.is_none() {
        let names: Vec<&str> = config.pipelines.keys().map(String::as_str).collect();
        eprintln!(
            "error: unknown pipeline `{name}`\n  help: {}",
            config::diag::suggest(name, "pipelines", &names)
        );
    }
    found
}

/// Opens the configured provider.
pub async fn open_provider(
    config: &Config,
    redactor: &Redactor,
) -> Result<Box<dyn Provider>, providers::ProviderError> {
    match &config.provider {
        config::ProviderConfig::Local(l) => {
            let url = match &l.url {
                Some(t) => {
                    let mut vars = engine::base_vars(&empty_git(), "");
                    vars.secrets = redactor.clone();
                    let url = crate::template::render(t, &vars)
                        .map_err(|e| providers::ProviderError::new(format!("provider.url: {e}")))?;
                    // Its password, also one given as `?password=…`, is masked everywhere.
                    redactor.add_url(&url);
                    crate::pg::check_url_form(&url).map_err(|e| {
                        providers::ProviderError::new(format!("provider.url: {e}")).help(
                            "write the server as a URL: `postgresql://USER@HOST:PORT/DATABASE` (the password in `PGPASSWORD`, or in the URL through `{{env.X}}`)",
                        )
                    })?;
                    Some(url)
                }
                None => None,
            };
            Ok(Box::new(LocalProvider::open(l, url, redactor).await?))
        }
        config::ProviderConfig::Neon(n) => Ok(Box::new(
            providers::neon::NeonProvider::open(n, redactor).await?,
        )),
    }
}

/// Git facts for templates rendered outside a run (`provider.url`).
pub(crate) fn empty_git() -> GitInfo {
    GitInfo {
        root: PathBuf::new(),
        branch: String::new(),
        detached: false,
        sha: String::new(),
    }
}

/// Ctrl-C and SIGTERM flip the returned flag; the engine then stops and cleans up.
fn interrupt_flag() -> watch::Receiver<bool> {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, rx) = watch::channel(false);
    // Registered here, before returning: a signal that comes right after (say, once the
    // emulator printed its URL) is caught, not the default action that ends the process.
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return rx;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        let _ = tx.send(true);
        // Keep the sender alive so the flag stays set.
        std::future::pending::<()>().await;
    });
    rx
}

/// Runs a pipeline and prints its report; returns the exit code.
pub async fn run(config: &Config, git: &GitInfo, pipeline: &str, json: bool) -> i32 {
    run_with(
        config,
        git,
        pipeline,
        &Outputs::from_env(json, None, Some(&git.root)),
    )
    .await
}

/// Runs a pipeline and produces every output `outputs` asks for; returns the exit code.
pub async fn run_with(config: &Config, git: &GitInfo, pipeline: &str, outputs: &Outputs) -> i32 {
    let Some(p) = find_pipeline(config, pipeline) else {
        if outputs.json {
            let names: Vec<&str> = config.pipelines.keys().map(String::as_str).collect();
            let r = report::setup_failure(
                pipeline,
                Some(git),
                "find-pipeline",
                exit::CONFIG,
                format!("unknown pipeline `{pipeline}`"),
                Some(config::diag::suggest(pipeline, "pipelines", &names)),
                Vec::new(),
            );
            println!("{}", report::render_json(&r));
        }
        return exit::CONFIG;
    };
    let redactor = Redactor::new();
    let provider = match open_provider(config, &redactor).await {
        Ok(p) => p,
        Err(e) => {
            let failure = SetupFailure::simple(
                exit::PROVIDER,
                "open-provider",
                redactor.redact(&e.message),
                e.help.map(|h| redactor.redact(&h)),
            );
            return failure.report(pipeline, Some(git), outputs.json);
        }
    };
    let live = crate::output::Live::new(outputs.style);
    let sink: &dyn EventSink = if outputs.json { &engine::Silent } else { &live };
    let result = engine::run(
        config,
        git,
        provider.as_ref(),
        p,
        redactor.clone(),
        sink,
        interrupt_flag(),
    )
    .await;
    let report = match &result {
        Ok(r) => r,
        Err(f) => &f.report,
    };
    drop(live);
    if outputs.json {
        out(&format!("{}\n", report::render_json(report)));
    } else {
        let footer = report::render_footer(report);
        if outputs.style.color {
            out(&crate::output::colorize(&footer));
        } else {
            out(&footer);
        }
    }
    crate::output::finish(report, config, outputs);
    report.exit_code
}

async fn gc(config: &Config, dry_run: bool, all: bool) -> i32 {
    let redactor = Redactor::new();
    let provider = match open_provider(config, &redactor).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    let list = match provider.list().await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    let now = chrono::Utc::now();
    let mut code = exit::OK;
    let mut n = 0;
    for info in &list {
        let expired = info.expires_at <= now;
        if !expired && !all {
            continue;
        }
        n += 1;
        let why = if expired { "expired" } else { "--all" };
        let when = providers::local::rfc3339(info.expires_at);
        if dry_run {
            println!(
                "would delete {} (git branch {}, expires {when}, {why})",
                info.name, info.git_branch
            );
            continue;
        }
        match provider.delete(&info.id).await {
            Ok(_) => println!(
                "deleted {} (git branch {}, expires {when}, {why})",
                info.name, info.git_branch
            ),
            Err(e) => {
                eprintln!(
                    "error: cannot delete {}: {}",
                    info.name,
                    redactor.redact(&e.message)
                );
                code = exit::PROVIDER;
            }
        }
    }
    let kept = list.len() - n;
    println!(
        "{n} test Neon database branch(es) {}; {kept} not expired kept",
        if dry_run { "to delete" } else { "deleted" }
    );
    code
}

async fn emulator(
    listen: std::net::SocketAddr,
    project_id: String,
    api_key_env: Option<String>,
    operation_delay: std::time::Duration,
    faults: Option<PathBuf>,
    backing_url: Option<String>,
    data_dir: Option<PathBuf>,
) -> i32 {
    use crate::emulator::{Emulator, EmulatorOptions, FaultSpec};
    let api_key = match &api_key_env {
        Some(name) => match std::env::var(name) {
            Ok(k) if !k.is_empty() => Some(k),
            _ => {
                eprintln!("error: --api-key-env {name}: the variable is not set");
                return exit::USAGE;
            }
        },
        None => None,
    };
    let mut injected = Vec::new();
    if let Some(path) = &faults {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Vec<FaultSpec>>(&t).map_err(|e| e.to_string()))
            .and_then(|specs| {
                specs
                    .into_iter()
                    .map(FaultSpec::into_fault)
                    .collect::<Result<Vec<_>, _>>()
            });
        match parsed {
            Ok(f) => injected = f,
            Err(e) => {
                eprintln!("error: --faults {}: {e}", path.display());
                return exit::USAGE;
            }
        }
    }
    let local = config::LocalConfig {
        url: backing_url,
        main_database: None,
        data_dir,
        busy_parent: config::BusyParent::Fail,
        tool_role: config::ToolRole::default(),
    };
    let opts = EmulatorOptions {
        listen,
        project_id,
        api_key,
        operation_delay,
        local,
    };
    let emu = match Emulator::start(opts).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the emulator: {}", e.message);
            if let Some(h) = e.help {
                eprintln!("  help: {h}");
            }
            return exit::PROVIDER;
        }
    };
    for f in injected {
        emu.inject(f);
    }
    let mut rx = interrupt_flag();
    println!("Neon API emulator listening on {}", emu.base_url());
    println!("  project id            {}", emu.project_id());
    println!("  API base URLs         {0} and {0}/api/v2", emu.base_url());
    println!(
        "  main Neon database branch `main`: {}",
        crate::secret::mask_url_passwords(&emu.main_url())
    );
    println!(
        "  faults                POST/GET/DELETE {}/_emulator/faults (with the API key)",
        emu.base_url()
    );
    println!(
        "  request log           GET/DELETE {}/_emulator/requests (with the API key)",
        emu.base_url()
    );
    println!("Ctrl-C stops it and deletes every Neon database branch but `main`.");
    let _ = std::io::stdout().flush();
    let _ = rx.wait_for(|v| *v).await;
    emu.shutdown().await;
    exit::OK
}

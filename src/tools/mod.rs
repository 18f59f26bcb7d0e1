//! Migration tools: the project's own migration system, run against a Neon database branch.
//!
//! One trait, one file per implementation: the built-in `sql` tool (plain `migrations/*.sql`
//! with a tracking table) and `command` (any tool, run as a child process with the
//! connection string in its environment). `presets` and `detect` say which tool a project
//! uses and how to run it; `handoff` says how the connection string reaches it.

pub mod command;
pub mod detect;
pub mod explain;
pub mod handoff;
pub mod layout;
pub mod presets;
pub mod recorded;
pub mod revisions;
pub mod split;
pub mod sql;
pub mod witness;

use crate::config::{Config, ToolKind};
use crate::secret::{Redactor, Secret};
use crate::template::Vars;

/// The database a tool runs against.
#[derive(Debug, Clone)]
pub struct Target {
    /// Neon database branch name, for messages.
    pub name: String,
    pub url: Secret<String>,
}

/// What a tool needs to run.
pub struct ToolContext<'a> {
    pub config: &'a Config,
    pub redactor: &'a Redactor,
    /// Template variables; `neon_database_branch` is the target.
    pub vars: &'a Vars,
    pub target: Target,
    /// `lock_timeout` and `statement_timeout` for the tool's sessions (apply only).
    pub timeouts: Option<(std::time::Duration, std::time::Duration)>,
    /// `client_connection_check_interval` for the tool's sessions (apply on PostgreSQL 14+):
    /// a backend whose client died (an interrupted apply) notices, aborts and rolls back.
    pub connection_check: Option<std::time::Duration>,
    /// The target is the main Neon database branch: other clients use it too, so the
    /// sessions the tool opened there cannot be told apart (see [`witness`]).
    pub on_main: bool,
}

/// What a successful run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ToolRun {
    /// Migrations applied, in order (empty when the target was up to date).
    pub applied: Vec<String>,
    /// Notes worth showing (skipped files, warnings).
    pub notes: Vec<String>,
    /// The tool's redacted output.
    pub output: String,
    /// The tracking query's rows before the run (`None`: the tool has no tracking query).
    pub tracked_before: Option<Vec<String>>,
}

/// A failed run: what failed, the tool's output, and how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    pub message: String,
    pub output: Option<String>,
    pub help: Option<String>,
    /// Migrations applied before the failure.
    pub applied: Vec<String>,
}

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
            output: None,
            help: None,
            applied: Vec::new(),
        }
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

static START_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records that a migration tool could not start in this process (its program or modules are
/// missing): the git hook then says so instead of blaming the migration.
pub fn note_start_failure() {
    START_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a migration tool could not start in this process.
pub fn start_failed() -> bool {
    START_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

#[async_trait::async_trait]
pub trait Tool: Send + Sync {
    fn name(&self) -> &str;
    /// Applies pending migrations to the target.
    async fn apply(&self, ctx: &ToolContext<'_>) -> Result<ToolRun, ToolError>;
}

/// The tool the config declares; `for_main` selects `apply-command` when one is given.
pub fn from_config(config: &Config, for_main: bool) -> Box<dyn Tool> {
    match &config.tool.kind {
        ToolKind::Sql { migrations_dir } => Box::new(sql::SqlTool::new(migrations_dir.clone())),
        ToolKind::Command { apply } => {
            let spec = match (&config.tool.apply_command, for_main) {
                (Some(main), true) => main.clone(),
                _ => apply.clone(),
            };
            Box::new(command::CommandTool::new(config.tool.name.clone(), spec))
        }
    }
}

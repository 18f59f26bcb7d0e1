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
pub mod pyimports;
pub mod recorded;
pub mod revisions;
pub mod split;
pub mod sql;
pub mod strays;
pub mod unset;
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

/// A boxed error from a layer below (the runner, a template), kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A failed run: what failed, and — through [`ToolError::help_text`], [`ToolError::output`]
/// and [`ToolError::applied`] — how to fix it, the tool's output, and what was applied before
/// the failure. Each variant renders the one-line message users have always read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ToolError {
    /// A template or the connection hand-off could not be rendered: nothing ran.
    #[error("{0}")]
    #[diagnostic(code(neon_migrate::tool::render))]
    Render(String),
    /// The built-in tool's migrations folder cannot be read.
    #[error("cannot read the migrations folder {}: {source}", .dir.display())]
    #[diagnostic(
        code(neon_migrate::tool::migrations_dir),
        help("create it, or set `migrations-dir` under [tool] (relative to `working-dir`)")
    )]
    MigrationsDir {
        dir: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A migration file cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    #[diagnostic(code(neon_migrate::tool::read_file))]
    ReadFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The migration files themselves are wrong (names, versions, a file changed after it
    /// was applied): nothing ran.
    #[error("{message}")]
    #[diagnostic(code(neon_migrate::tool::files))]
    Files {
        message: String,
        #[help]
        help: Option<String>,
    },
    /// The target cannot be connected to.
    #[error(transparent)]
    #[diagnostic(code(neon_migrate::tool::connect))]
    Connect(#[from] crate::pg::PgError),
    /// A statement of the tool's own bookkeeping failed (tracking table, migration lock,
    /// timeouts); `context` says which.
    #[error("{}", query_message(.context, .source))]
    #[diagnostic(code(neon_migrate::tool::query))]
    Query {
        context: Option<&'static str>,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The tool's program could not be started.
    #[error("{source}")]
    #[diagnostic(code(neon_migrate::tool::spawn))]
    Spawn {
        #[source]
        source: BoxError,
        #[help]
        help: String,
    },
    /// The tool started but could not run (its program or modules are missing): the migration
    /// was not tried.
    #[error("{message}")]
    #[diagnostic(code(neon_migrate::tool::not_started))]
    NotStarted {
        message: String,
        #[help]
        help: String,
        output: String,
        applied: Vec<String>,
    },
    /// What proves the run (a connection to the target, the tracking table) could not be read.
    #[error("{message}")]
    #[diagnostic(code(neon_migrate::tool::evidence))]
    Evidence {
        message: String,
        #[help]
        help: Option<String>,
    },
    /// The tool, or one of the migrations, failed. `codes` are the SQLSTATEs of the failure:
    /// the server's for the built-in tool, those the tool printed for a command (see
    /// [`sqlstates_in_output`]).
    #[error("{message}")]
    #[diagnostic(code(neon_migrate::tool::failed))]
    Failed {
        message: String,
        #[help]
        help: Option<String>,
        output: Option<String>,
        applied: Vec<String>,
        codes: Vec<tokio_postgres::error::SqlState>,
    },
    /// The tool exited 0, but what the target shows says it did not migrate it (or not all).
    #[error("{message}")]
    #[diagnostic(code(neon_migrate::tool::unproven))]
    Unproven {
        message: String,
        #[help]
        help: String,
        output: String,
        applied: Vec<String>,
    },
    /// The tool has no such command configured.
    #[error("tool `{tool}` has no `{key}`")]
    #[diagnostic(code(neon_migrate::tool::no_command), help("set `{key}` under [tool]"))]
    NoCommand { tool: String, key: &'static str },
    /// The tool ran longer than `timeout` under `[tool]`.
    #[error("`{tool}` did not finish within {limit} on {target}")]
    #[diagnostic(
        code(neon_migrate::tool::timed_out),
        help("raise `timeout` under [tool] if the migration is expected to take longer")
    )]
    TimedOut {
        tool: String,
        limit: String,
        target: String,
    },
}

fn query_message(context: &Option<&'static str>, e: &tokio_postgres::Error) -> String {
    match context {
        Some(c) => format!("{c}: {}", crate::pg::describe(e)),
        None => crate::pg::describe(e),
    }
}

impl ToolError {
    /// How to fix it, when known.
    pub fn help_text(&self) -> Option<String> {
        miette::Diagnostic::help(self).map(|h| h.to_string())
    }
    /// The tool's redacted output, when it ran.
    pub fn output(&self) -> Option<&str> {
        match self {
            ToolError::NotStarted { output, .. } | ToolError::Unproven { output, .. } => {
                Some(output)
            }
            ToolError::Failed { output, .. } => output.as_deref(),
            _ => None,
        }
    }
    /// Migrations applied before the failure.
    pub fn applied(&self) -> &[String] {
        match self {
            ToolError::NotStarted { applied, .. }
            | ToolError::Unproven { applied, .. }
            | ToolError::Failed { applied, .. } => applied,
            _ => &[],
        }
    }
    /// Whether the migration gave up waiting for a lock (SQLSTATE `lock_not_available`, what
    /// `lock_timeout` raises): `apply` retries those.
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self, ToolError::Failed { codes, .. }
            if codes.contains(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE))
    }
    /// The exit code of a run that stops on this error.
    pub fn exit_code(&self) -> i32 {
        crate::exit::MIGRATION_FAILED
    }
}

/// The SQLSTATEs a migration tool reported in its output: every five-character code token
/// (`ERROR:  55P03: …` in psql's verbose form, `(SQLSTATE 55P03)`, `code: '55P03'` from a
/// Node driver) parsed into a [`SqlState`](tokio_postgres::error::SqlState). Postgres' own
/// message for a lock timeout ("canceling statement due to lock timeout"), which psql prints
/// without the code at its default verbosity, counts as `lock_not_available`.
pub fn sqlstates_in_output(output: &str) -> Vec<tokio_postgres::error::SqlState> {
    use tokio_postgres::error::SqlState;
    let mut codes: Vec<SqlState> = Vec::new();
    let tokens = output.split(|c: char| !c.is_ascii_alphanumeric());
    for t in tokens {
        let code_like = t.len() == 5
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            && t.bytes().any(|b| b.is_ascii_digit());
        if code_like {
            let code = SqlState::from_code(t);
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    if output.contains("lock timeout") && !codes.contains(&SqlState::LOCK_NOT_AVAILABLE) {
        codes.push(SqlState::LOCK_NOT_AVAILABLE);
    }
    codes
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

#[cfg(test)]
mod tests {
    use tokio_postgres::error::SqlState;

    use super::sqlstates_in_output;

    #[test]
    fn sqlstates_are_read_from_a_tool_s_output() {
        let lock = SqlState::LOCK_NOT_AVAILABLE;
        for out in [
            "ERROR:  55P03: canceling statement due to lock timeout",
            "error: canceling statement (SQLSTATE 55P03)",
            "{ code: '55P03', severity: 'ERROR' }",
            "psql:m.sql:3: ERROR:  canceling statement due to lock timeout",
        ] {
            assert!(sqlstates_in_output(out).contains(&lock), "{out}");
        }
        for out in [
            "ERROR:  42P07: relation \"t\" already exists",
            "migrated 155P031 rows",
            "ERROR: deadlock detected",
        ] {
            assert!(!sqlstates_in_output(out).contains(&lock), "{out}");
        }
        assert_eq!(
            sqlstates_in_output("ERROR:  42P07: relation exists"),
            [SqlState::DUPLICATE_TABLE]
        );
    }
}

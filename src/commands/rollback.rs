//! `neon-migrate rollback`: undo an apply on the main Neon database branch.
//!
//! Two ways back, and the command always says which it will take before doing anything:
//! restore main from a restore point (the default; the current state is kept as a Neon
//! database branch for 7 days), or run the tool's down migrations (`--down`, built-in `sql`
//! tool). It asks for confirmation unless `--yes`; without a terminal it refuses to guess.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::Utc;

use crate::app::{self, SetupError};
use crate::apply_lock::{ApplyLock, LockError};
use crate::config::{self, Config};
use crate::exit::{self, Failure};
use crate::pg;
use crate::providers::{DbBranch, DbBranchInfo, Provider, ProviderError, RESTORE_PREFIX};
use crate::secret::Redactor;
use crate::tools::sql;

use super::Context;

/// The flags of `rollback`.
pub(crate) struct Options {
    pub to: Option<String>,
    pub down: bool,
    pub steps: usize,
    pub yes: bool,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum RollbackError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    #[error("`--to` names a restore point, and `--down` does not use one")]
    #[diagnostic(help("pass `--to NAME` to restore from a restore point, or `--down [--steps N]` to run down migrations"))]
    DownWithTo,
    #[error("`--steps 0` rolls nothing back")]
    #[diagnostic(help("pass `--steps N` with N ≥ 1 (default 1)"))]
    NoSteps,
    /// The provider or the main Neon database branch failed (redacted).
    #[error("{message}")]
    Provider {
        message: String,
        #[help]
        help: Option<String>,
    },
    #[error("an apply or rollback holds the lock on the main Neon database branch {main}: {holder}; waited {waited}")]
    #[diagnostic(help("wait for it to finish and run again, or raise `lock-wait` under [apply]"))]
    LockHeld {
        main: String,
        holder: String,
        waited: String,
    },
    #[error("`--down` runs the built-in `sql` tool's down migrations; this project uses `{0}`")]
    #[diagnostic(help("roll back from a restore point instead (without `--down`)"))]
    NotSqlTool(String),
    #[error("no down migration for {0}")]
    #[diagnostic(help("roll back from a restore point instead (without `--down`)"))]
    NoDownMigration(String),
    #[error("rollback needs confirmation")]
    #[diagnostic(help("run it in a terminal, or pass `--yes`"))]
    NeedsConfirmation,
    #[error("no restore point{named} of the main Neon database branch {main}")]
    #[diagnostic(help("restore points are created by `apply` (see `restore-point` under [apply]); existing: {existing}"))]
    NoRestorePoint {
        named: String,
        main: String,
        existing: String,
    },
    /// The down migrations failed (redacted).
    #[error("{0}")]
    Revert(String),
}

impl Failure for RollbackError {
    fn exit_code(&self) -> i32 {
        match self {
            RollbackError::Setup(e) => e.exit_code(),
            RollbackError::Provider { .. } => exit::PROVIDER,
            RollbackError::LockHeld { .. } => exit::APPLY_REFUSED,
            RollbackError::Revert(_) => exit::MIGRATION_FAILED,
            RollbackError::DownWithTo
            | RollbackError::NoSteps
            | RollbackError::NotSqlTool(_)
            | RollbackError::NoDownMigration(_)
            | RollbackError::NeedsConfirmation
            | RollbackError::NoRestorePoint { .. } => exit::USAGE,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            RollbackError::Setup(e) => e.rendered(),
            _ => None,
        }
    }
}

impl RollbackError {
    fn provider(redactor: &Redactor, message: &str) -> Self {
        RollbackError::Provider {
            message: redactor.redact(message),
            help: None,
        }
    }

    /// A provider failure, with its help line.
    fn from_provider(redactor: &Redactor, e: &ProviderError) -> Self {
        RollbackError::Provider {
            message: redactor.redact(&e.to_string()),
            help: e.help_text(),
        }
    }
}

fn confirm(yes: bool) -> Result<bool, RollbackError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(RollbackError::NeedsConfirmation);
    }
    print!("Type `yes` to continue: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    Ok(line.trim() == "yes")
}

/// Runs `rollback`; returns the exit code.
pub(crate) async fn run(cx: &Context, o: &Options) -> Result<i32, RollbackError> {
    let config = cx.load_config()?;
    if o.down && o.to.is_some() {
        return Err(RollbackError::DownWithTo);
    }
    if o.down && o.steps == 0 {
        return Err(RollbackError::NoSteps);
    }
    let redactor = Redactor::new();
    let failed = |e: ProviderError| RollbackError::from_provider(&redactor, &e);
    let provider = app::open_provider(&config, &redactor)
        .await
        .map_err(failed)?;
    let main = provider.main_db_branch().await.map_err(failed)?;
    // Never at the same time as an apply (or another rollback) of this main Neon database
    // branch: the lock is held until the end.
    let lock = match ApplyLock::acquire(
        provider.as_ref(),
        &main,
        config.apply.lock_wait,
        "neon-migrate rollback",
    )
    .await
    {
        Ok((lock, _)) => lock,
        Err(LockError::Unavailable(m)) => return Err(RollbackError::provider(&redactor, &m)),
        Err(LockError::Held(holder)) => {
            return Err(RollbackError::LockHeld {
                main: main.name.clone(),
                holder,
                waited: config::duration::format(config.apply.lock_wait),
            })
        }
    };
    let result = if o.down {
        match &config.tool.kind {
            config::ToolKind::Sql { migrations_dir } => {
                down(&main, migrations_dir, o, &redactor).await
            }
            _ => Err(RollbackError::NotSqlTool(config.tool.name.clone())),
        }
    } else {
        restore(&config, provider.as_ref(), &main, o, &redactor).await
    };
    lock.release().await;
    result
}

/// `--down`: the last `steps` down migrations of the built-in `sql` tool, on main.
async fn down(
    main: &DbBranch,
    migrations_dir: &Path,
    o: &Options,
    redactor: &Redactor,
) -> Result<i32, RollbackError> {
    let client = pg::connect(&main.url)
        .await
        .map_err(|e| RollbackError::provider(redactor, &e.to_string()))?;
    let applied = sql::applied(&client)
        .await
        .map_err(|e| RollbackError::Provider {
            message: e.to_string(),
            help: None,
        })?;
    let last: Vec<String> = applied
        .iter()
        .rev()
        .take(o.steps)
        .map(|(_, f, _)| f.clone())
        .collect();
    if last.is_empty() {
        println!(
            "nothing to roll back: no migration is recorded on the main Neon database branch {}",
            main.name
        );
        return Ok(exit::OK);
    }
    let missing: Vec<String> = last
        .iter()
        .filter(|f| !sql::down_path(migrations_dir, f).is_file())
        .map(|f| sql::down_name(f))
        .collect();
    if !missing.is_empty() {
        return Err(RollbackError::NoDownMigration(missing.join(", ")));
    }
    println!("This runs, on the main Neon database branch {}:", main.name);
    for f in &last {
        println!("  {}", sql::down_name(f));
    }
    if !confirm(o.yes)? {
        println!("cancelled");
        return Ok(exit::OK);
    }
    let mut in_order = last;
    in_order.reverse();
    let done = sql::revert(migrations_dir, &main.url, &in_order)
        .await
        .map_err(|e| RollbackError::Revert(redactor.redact(&e.to_string())))?;
    println!("rolled back: {}", done.join(", "));
    Ok(exit::OK)
}

/// The default: restore main from a restore point, keeping its current state.
async fn restore(
    config: &Config,
    provider: &dyn Provider,
    main: &DbBranch,
    o: &Options,
    redactor: &Redactor,
) -> Result<i32, RollbackError> {
    let points: Vec<DbBranchInfo> = provider
        .list()
        .await
        .map_err(|e| RollbackError::provider(redactor, &e.to_string()))?
        .into_iter()
        .filter(|b| b.name.starts_with(RESTORE_PREFIX))
        .collect();
    let to = o.to.as_deref();
    let chosen = match to {
        Some(name) => points.iter().find(|p| p.name == name || p.id == name),
        None => points.iter().max_by_key(|p| p.created_at),
    };
    let Some(point) = chosen else {
        let list = points
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(RollbackError::NoRestorePoint {
            named: to.map(|t| format!(" named `{t}`")).unwrap_or_default(),
            main: main.name.clone(),
            existing: if list.is_empty() { "none".into() } else { list },
        });
    };
    let keep = crate::naming::sanitize(
        &format!(
            "{}-before-rollback-{}",
            main.name,
            Utc::now().format("%Y%m%d-%H%M%S")
        ),
        63,
    );
    announce(config, main, point, &keep);
    if !confirm(o.yes)? {
        println!("cancelled");
        return Ok(exit::OK);
    }
    provider
        .restore_main(point, &keep)
        .await
        .map_err(|e| RollbackError::Provider {
            message: redactor.redact(&e.to_string()),
            help: e.help_text(),
        })?;
    println!(
        "restored {} from {}; the previous state is {keep}",
        main.name, point.name
    );
    Ok(exit::OK)
}

/// What a restore will do, before it asks.
fn announce(config: &Config, main: &DbBranch, point: &DbBranchInfo, keep: &str) {
    println!(
        "This restores the main Neon database branch {} from restore point {}",
        main.name, point.name
    );
    println!(
        "  created {} on git branch {} at {}",
        crate::time::rfc3339(point.created_at),
        point.git_branch,
        &point.git_sha[..point.git_sha.len().min(7)]
    );
    // The local provider keeps the previous state with a TTL; Neon moves main's children
    // (restore points, test Neon database branches) onto it, and a Neon database branch with
    // children cannot expire.
    let kept_for = match &config.provider {
        config::ProviderConfig::Local(_) => " (expires in 7 days)",
        config::ProviderConfig::Neon(_) => " (no expiry: delete it when you no longer need it)",
    };
    println!(
        "  every change made to {} since then is undone; its current state is kept as {keep}{kept_for}",
        main.name
    );
    println!("  sessions connected to {} are ended", main.name);
}

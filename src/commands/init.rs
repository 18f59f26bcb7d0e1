//! `neon-migrate init [--tool NAME] [--force]`: detect the project's migration tool and write
//! a commented neon-migrate.toml that `check` accepts.

use std::path::{Path, PathBuf};

use crate::config::{self, FILE_NAME};
use crate::exit::{self, Failure};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum InitError {
    #[error("{} already exists", .0.display())]
    #[diagnostic(help(
        "`neon-migrate check` validates it; `neon-migrate init --force` replaces it"
    ))]
    Exists(PathBuf),
    #[error("{message}")]
    NoChoice {
        message: String,
        #[help]
        help: String,
    },
    #[error("the generated {} is invalid (a bug in neon-migrate):\n{}", FILE_NAME, .0)]
    Invalid(String),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Failure for InitError {
    fn exit_code(&self) -> i32 {
        match self {
            InitError::Exists(_) => exit::USAGE,
            InitError::NoChoice { .. } => exit::CONFIG,
            InitError::Invalid(_) | InitError::Write { .. } => exit::INTERNAL,
        }
    }
}

/// `init` in `dir`.
pub(crate) fn run(dir: &Path, tool: Option<&str>, force: bool) -> Result<i32, InitError> {
    let path = dir.join(FILE_NAME);
    if path.exists() && !force {
        return Err(InitError::Exists(path));
    }
    let choice = crate::init::choose(dir, tool)
        .map_err(|(message, help)| InitError::NoChoice { message, help })?;
    let text = crate::init::render(&choice, dir);
    // Never write a file `check` would reject.
    let parsed = config::parse(FILE_NAME, &text, dir)
        .map_err(|e| InitError::Invalid(config::diag::render(&e, true)))?;
    // Never a config whose tool would pass over the project's migrations.
    if let Some((message, help)) = crate::tools::strays::strays(&parsed) {
        return Err(InitError::NoChoice { message, help });
    }
    std::fs::write(&path, &text).map_err(|source| InitError::Write {
        path: path.clone(),
        source,
    })?;
    println!(
        "wrote {FILE_NAME}: tool `{}` ({}), {}",
        choice.name, choice.title, choice.why
    );
    for w in crate::init::watch_warnings(&parsed) {
        eprintln!("warning: {w}");
    }
    println!("next:");
    println!("  neon-migrate plan pre-push   # what a push will run, and why this tool");
    println!(
        "  neon-migrate run pre-push    # prove the migrations on a test Neon database branch"
    );
    Ok(exit::OK)
}

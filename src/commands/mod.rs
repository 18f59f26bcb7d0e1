//! One file per subcommand. Each calls the library ([`crate::app`], [`crate::engine`],
//! [`crate::config`], …), prints its own output, and returns `Ok(exit code)` or a typed
//! error ([`Failure`]) that [`finish`] renders: the one place that writes `error:` lines.
//! Commands never call each other.

use std::path::{Path, PathBuf};

use crate::app::{self, SetupError};
use crate::config::Config;
use crate::exit::{self, Failure};
use crate::git::GitInfo;

pub(crate) mod check;
pub(crate) mod demo;
pub(crate) mod diff;
pub(crate) mod emulator;
pub(crate) mod gc;
pub(crate) mod generate;
pub(crate) mod hooks;
pub(crate) mod init;
pub(crate) mod plan;
pub(crate) mod pre_push;
pub(crate) mod rollback;
pub(crate) mod run;

/// Where a command runs: the working folder (`-C`) and the config `--config` names.
pub(crate) struct Context {
    pub cwd: PathBuf,
    pub config: Option<PathBuf>,
}

impl Context {
    pub fn new(dir: Option<PathBuf>, config: Option<PathBuf>) -> Self {
        let cwd =
            dir.unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
        Context { cwd, config }
    }

    /// The config of this folder (no git repository needed), the defaults' note printed.
    pub fn load_config(&self) -> Result<Config, SetupError> {
        let git = crate::git::discover(&self.cwd).ok();
        load_config(self.config.as_deref(), &self.cwd, git.as_ref())
    }

    /// The git repository and the config, the defaults' note printed.
    pub fn setup(&self) -> Result<(Config, GitInfo), SetupError> {
        let (loaded, git) = app::setup(self.config.as_deref(), &self.cwd)?;
        Ok((noted(loaded), git))
    }
}

/// [`app::load_config`], printing the note when the defaults stand in.
pub(crate) fn load_config(
    explicit: Option<&Path>,
    cwd: &Path,
    git: Option<&GitInfo>,
) -> Result<Config, SetupError> {
    app::load_config(explicit, cwd, git).map(noted)
}

fn noted(loaded: app::Loaded) -> Config {
    if let Some(note) = &loaded.note {
        eprintln!("note: {note}");
    }
    loaded.config
}

/// Prints `e` on stderr; returns its exit code.
pub(crate) fn report(e: &dyn Failure) -> i32 {
    eprint!("{}", exit::render(e));
    e.exit_code()
}

/// The exit code of a command's result, its error printed.
pub(crate) fn finish<E: Failure>(result: Result<i32, E>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

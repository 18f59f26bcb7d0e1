//! Finding the git repository and the config a command works on.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::exit::{self, Failure};
use crate::git::{self, GitError, GitInfo};
use crate::report::{self, Report};

/// Why a command could not start. In a `run --json` report it becomes a failed `setup` stage.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SetupError {
    #[error(transparent)]
    #[diagnostic(help(
        "neon-migrate names test Neon database branches after the git branch; run it inside a git repository"
    ))]
    Git(#[from] GitError),
    #[error("cannot read {}: {source}", path.display())]
    ConfigIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(help("fix every problem listed, then run `neon-migrate check` again"))]
    Config(Box<config::ConfigError>),
    #[error("unknown pipeline `{name}`")]
    UnknownPipeline {
        name: String,
        #[help]
        suggestion: String,
    },
    /// The provider did not open; the message and help are redacted already.
    #[error("{message}")]
    Provider {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl Failure for SetupError {
    fn exit_code(&self) -> i32 {
        match self {
            SetupError::Git(_) => exit::GIT,
            SetupError::ConfigIo { .. }
            | SetupError::Config(_)
            | SetupError::UnknownPipeline { .. } => exit::CONFIG,
            SetupError::Provider { .. } => exit::PROVIDER,
        }
    }

    fn rendered(&self) -> Option<String> {
        let SetupError::Config(e) = self else {
            return None;
        };
        let plain = !std::io::stderr().is_terminal() || std::env::var_os("NO_COLOR").is_some();
        Some(config::diag::render(e, plain))
    }
}

impl From<config::ConfigError> for SetupError {
    fn from(e: config::ConfigError) -> Self {
        SetupError::Config(Box::new(e))
    }
}

impl SetupError {
    /// The `setup` stage's name in a JSON report.
    pub fn stage(&self) -> &'static str {
        match self {
            SetupError::Git(_) => "find-git-repository",
            SetupError::ConfigIo { .. } | SetupError::Config(_) => "load-config",
            SetupError::UnknownPipeline { .. } => "find-pipeline",
            SetupError::Provider { .. } => "open-provider",
        }
    }

    /// The failure as a report of `pipeline` (for `run --json`): one line per problem.
    pub fn report(&self, pipeline: &str, git: Option<&GitInfo>) -> Report {
        use miette::Diagnostic;
        let details = match self {
            SetupError::Config(e) => e.plain_lines(),
            _ => Vec::new(),
        };
        report::setup_failure(
            pipeline,
            git,
            self.stage(),
            self.exit_code(),
            self.to_string(),
            self.help().map(|h| h.to_string()),
            details,
        )
    }

    /// An unknown pipeline of `config`, with the nearest names.
    pub fn unknown_pipeline(config: &Config, name: &str) -> Self {
        let names: Vec<&str> = config.pipelines.keys().map(String::as_str).collect();
        SetupError::UnknownPipeline {
            name: name.to_owned(),
            suggestion: config::diag::suggest(name, "pipelines", &names),
        }
    }
}

/// A config, and the note to show when none was found and the defaults stand in.
pub struct Loaded {
    pub config: Config,
    pub note: Option<String>,
}

/// Loads the config `explicit` names, else the one found from `cwd` up to the git root, else
/// the defaults (with a note saying so).
pub fn load_config(
    explicit: Option<&Path>,
    cwd: &Path,
    git: Option<&GitInfo>,
) -> Result<Loaded, SetupError> {
    let path = match explicit {
        Some(p) => Some(p.to_owned()),
        None => config::discover(cwd, git.map(|g| g.root.as_path())),
    };
    let Some(path) = path else {
        let root = git
            .map(|g| g.root.clone())
            .unwrap_or_else(|| cwd.to_owned());
        let config = config::try_defaults(&root)?;
        let note = format!(
            "no {} found from {} up to {}; using the defaults (embedded Postgres, tool `{}`)",
            config::FILE_NAME,
            cwd.display(),
            root.display(),
            config.tool.name
        );
        return Ok(Loaded {
            config,
            note: Some(note),
        });
    };
    load_file(&path)
}

/// Loads the config file at `path`.
pub fn load_file(path: &Path) -> Result<Loaded, SetupError> {
    match config::load(path) {
        Ok(config) => Ok(Loaded { config, note: None }),
        Err(config::LoadError::Io { path, source }) => Err(SetupError::ConfigIo { path, source }),
        Err(config::LoadError::Invalid(e)) => Err(e.into()),
    }
}

/// The git repository around `cwd`, and the config of [`load_config`].
pub fn setup(explicit: Option<&Path>, cwd: &Path) -> Result<(Loaded, GitInfo), SetupError> {
    let git = git::discover(cwd)?;
    let loaded = load_config(explicit, cwd, Some(&git))?;
    Ok((loaded, git))
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

//! Finding and reading `neon-migrate.toml`: layers 1 (TOML syntax) and 2 (the raw serde
//! types, unknown keys collected) here, layer 3 in `validate/`.

use std::path::{Path, PathBuf};

use super::diag::{ConfigError, Problem};
use super::raw::RawConfig;
use super::validate::{segments, Seg, Validator};
use super::{Config, ToolOrigin};

/// The file name looked up from the working directory to the git root.
pub const FILE_NAME: &str = "neon-migrate.toml";

/// Finds `neon-migrate.toml` from `start` up to `stop` (the git root), inclusive.
pub fn discover(start: &Path, stop: Option<&Path>) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if Some(d) == stop {
            break;
        }
        dir = d.parent();
    }
    None
}

/// Errors loading a config: I/O (the file cannot be read) or its problems.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let root = config_root(path);
    let display = display_path(path);
    let mut config = parse(&display, &text, &root)?;
    config.path = Some(path.to_owned());
    Ok(config)
}

/// The project folder of the config file at `path`, absolute: `--config neon-migrate.toml`
/// has the empty path as its parent, which as a tool's working folder cannot be entered.
pub(super) fn config_root(path: &Path) -> PathBuf {
    std::path::absolute(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.and_then(|c| path.strip_prefix(&c).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

/// The configuration used when a project has no `neon-migrate.toml`: embedded Postgres,
/// built-in `sql` tool over `migrations/`, the preset pipelines.
/// When the project's files show more than one migration tool, the built-in `sql` tool is
/// used and `tool.origin` says why; [`try_defaults`] reports the problem instead.
pub fn defaults(root: &Path) -> Config {
    try_defaults(root).unwrap_or_else(|e| {
        let mut c = parse(FILE_NAME, "[tool]\nname = \"sql\"\n", root)
            .expect("the built-in sql config is valid");
        c.tool.origin = ToolOrigin::Default {
            note: e
                .problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        };
        c
    })
}

/// The configuration without a `neon-migrate.toml`; `Err` when the migration tool cannot
/// be told from the project's files (two candidates).
pub fn try_defaults(root: &Path) -> Result<Config, ConfigError> {
    parse(FILE_NAME, "", root)
}

/// Parses and validates config text. `name` is used in messages.
pub fn parse(name: &str, text: &str, root: &Path) -> Result<Config, ConfigError> {
    let doc = toml_edit::ImDocument::parse(text).ok();
    let mut v = Validator {
        source: text,
        doc: doc.as_ref().map(|d| d.as_table()),
        problems: Vec::new(),
        secrets: Vec::new(),
    };

    // Layer 1 + 2: syntax and structure; unknown keys are collected, not fatal.
    let mut unknown: Vec<Vec<Seg>> = Vec::new();
    let de = toml::Deserializer::new(text);
    let parsed: Result<RawConfig, _> =
        serde_ignored::deserialize(de, |path| unknown.push(segments(&path)));
    for path in &unknown {
        v.unknown_key(path);
    }
    let raw = match parsed {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_owned();
            let problem = Problem::new("config::syntax", span, message)
                .label("cannot read this")
                .help("see neon-migrate.toml.example for every key and its type");
            v.problems.insert(0, problem);
            return Err(ConfigError::masked(name, text, v.problems, &v.secrets));
        }
    };

    // Layer 3: meaning.
    let config = v.validate(raw, root);
    if v.problems.is_empty() {
        Ok(config)
    } else {
        v.problems.sort_by_key(|p| p.span.start);
        // Snippets never show a secret written in the file.
        Err(ConfigError::masked(name, text, v.problems, &v.secrets))
    }
}

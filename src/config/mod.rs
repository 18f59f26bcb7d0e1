//! `neon-migrate.toml`: discovery, parsing in layers, and the validated model.
//!
//! Layers, as cargo-nextest does it: (1) TOML syntax; (2) raw serde types, with unknown keys
//! collected rather than fatal; (3) validation into the model below — durations, templates,
//! names, references between stages and pipelines. Every problem from (2) and (3) is
//! reported at once with its span. Nothing outside this module sees the raw types.

pub mod diag;
pub mod duration;
pub(crate) mod raw;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use raw::{RawCommand, RawConfig, RawPipeline, RawStage, S};

pub use diag::{ConfigError, Problem};

use crate::template::{self, Scope};

/// The file name looked up from the working directory to the git root.
pub const FILE_NAME: &str = "neon-migrate.toml";

/// Default Neon database branch name template.
pub const DEFAULT_NAME_TEMPLATE: &str = "migrate/{{git.branch}}";
/// Default time to live of a test Neon database branch.
pub const DEFAULT_TTL: Duration = Duration::from_secs(4 * 3600);
/// How long a run waits, by default, for another run of the same test Neon database branch
/// name to finish.
pub const DEFAULT_DB_BRANCH_LOCK_WAIT: Duration = Duration::from_secs(3600);
/// Longest TTL accepted (Neon's own limit for `expires_at` is 30 days).
pub const MAX_TTL: Duration = Duration::from_secs(30 * 86_400);
/// The longest PostgreSQL identifier, in bytes (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Default timeout of the migration tool.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default timeout of shell stages.
pub const DEFAULT_SHELL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Pipelines shipped with the binary (`pipelines/*.toml`).
pub const PRESETS: &[(&str, &str)] = &[
    ("pre-push", include_str!("../../pipelines/pre-push.toml")),
    ("ci", include_str!("../../pipelines/ci.toml")),
    ("deploy", include_str!("../../pipelines/deploy.toml")),
];

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file (absent when running on defaults).
    pub path: Option<PathBuf>,
    /// The project folder: relative paths in the config are resolved against it.
    pub root: PathBuf,
    pub db_branch: DbBranchSettings,
    pub provider: ProviderConfig,
    pub tool: ToolConfig,
    pub sql_checks: Vec<SqlCheck>,
    /// The other checks of the `checks` stage.
    pub checks: ChecksConfig,
    /// Policy and safety settings of the `apply` stage.
    pub apply: ApplyConfig,
    pub pipelines: BTreeMap<String, Pipeline>,
}

#[derive(Debug, Clone)]
pub struct DbBranchSettings {
    /// Template of the test Neon database branch name.
    pub name_template: String,
    pub ttl: Duration,
    /// How long a run waits for another run of the same test Neon database branch name.
    pub lock_wait: Duration,
}

#[derive(Debug, Clone)]
pub enum ProviderConfig {
    Local(LocalConfig),
    Neon(NeonConfig),
}

impl ProviderConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderConfig::Local(_) => "local",
            ProviderConfig::Neon(_) => "neon",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// A server to use instead of the embedded cluster (a template: may use `{{env.X}}`).
    pub url: Option<String>,
    /// The database that plays the main Neon database branch.
    pub main_database: Option<String>,
    /// Folder of the embedded cluster (default: per-user cache folder).
    pub data_dir: Option<PathBuf>,
    pub busy_parent: BusyParent,
    /// The role the tool (and every check) gets on a test Neon database branch.
    pub tool_role: ToolRole,
}

/// Default base URL of the Neon API.
pub const NEON_API_HOST: &str = "https://console.neon.tech/api/v2";
/// Default environment variable holding the Neon API key.
pub const NEON_API_KEY_ENV: &str = "NEON_API_KEY";
/// Default time to wait for Neon operations.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// `provider.kind = "neon"`: Neon database branches through the Neon API v2.
#[derive(Debug, Clone)]
pub struct NeonConfig {
    /// Project id; `None` means `$NEON_PROJECT_ID` at run time.
    pub project_id: Option<String>,
    /// Name of the environment variable that holds the API key (never the key itself).
    pub api_key_env: String,
    /// Base URL; `None` means `$NEON_API_HOST`, else [`NEON_API_HOST`].
    pub api_host: Option<String>,
    /// Parent Neon database branch by exact name; `None` means the default one.
    pub parent: Option<String>,
    /// Database and role the connection string is for.
    pub database: String,
    pub role: String,
    pub operation_timeout: Duration,
}

/// The role a test Neon database branch's URL carries on the `local` provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolRole {
    /// A role of its own that owns the copy and nothing else (like Neon's `neondb_owner`).
    #[default]
    CopyOwner,
    /// The server URL's own role (on the embedded Postgres, its superuser).
    Server,
}

/// What to do when the parent database has other sessions (they block a template copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BusyParent {
    /// Stop at once and name the sessions.
    Fail,
    /// Clone from a golden template that nobody connects to.
    GoldenTemplate,
}

#[derive(Debug, Clone)]
pub struct ToolConfig {
    pub name: String,
    /// The preset's title (`Drizzle Kit`), when the tool has a preset.
    pub title: Option<String>,
    /// How to install the tool (a hint shown when its command is missing).
    pub install: Option<String>,
    /// The preset's help for the tool's known failures.
    pub failure_hints: Vec<crate::tools::presets::FailureHint>,
    /// Why this tool: named in the config, detected from files, or the default.
    pub origin: ToolOrigin,
    pub kind: ToolKind,
    /// Where the tool's commands run (absolute; default: the project folder).
    pub working_dir: PathBuf,
    pub timeout: Duration,
    pub env: Vec<(String, String)>,
    /// A different command for the main Neon database branch (`apply-command`).
    pub apply_command: Option<CommandSpec>,
    /// Reverts the last migration (`down-command`), where the tool has one.
    pub down_command: Option<CommandSpec>,
    /// Prints the SQL of pending migrations without running it (`print-sql-command`).
    pub print_sql_command: Option<CommandSpec>,
    /// How the connection string reaches the tool.
    pub handoff: Handoff,
    /// Paths whose changes need a migration run (absolute); `None`: unknown, every change counts.
    pub watch: Option<Vec<PathBuf>>,
    /// How to confirm on the database that the tool did what it said.
    pub tracking: Option<Tracking>,
}

impl ToolConfig {
    /// The apply command of a command tool.
    pub fn kind_command(&self) -> Option<&CommandSpec> {
        match &self.kind {
            ToolKind::Command { apply } => Some(apply),
            ToolKind::Sql { .. } => None,
        }
    }
}

/// Why the project uses its tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOrigin {
    /// `[tool] name` in the config; `evidence` is what the preset's detection finds anyway.
    Config {
        evidence: Vec<crate::tools::detect::Evidence>,
    },
    /// No name in the config: these files decided it.
    Detected {
        evidence: Vec<crate::tools::detect::Evidence>,
    },
    /// Nothing decided it: the built-in `sql` tool, and why.
    Default { note: String },
}

/// How the connection string is handed to the tool (see [`crate::tools::handoff`]).
#[derive(Debug, Clone, Default)]
pub struct Handoff {
    /// Variables that receive the URL in the tool's format (they win over everything).
    pub url_env: Vec<String>,
    pub format: UrlFormat,
    /// SQLAlchemy driver suffix (`psycopg`); default: the one the config files use.
    pub driver: Option<String>,
    /// Variables that receive the user and the password apart (JDBC tools).
    pub user_env: Vec<String>,
    pub password_env: Vec<String>,
    /// URL parameters the tool cannot take (`channel_binding` for lib/pq).
    pub drop_params: Vec<String>,
    /// The tool's config files (globs under the working folder), read for the variables they use.
    pub config_files: Vec<String>,
}

/// Shape of the URL in `url-env`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlFormat {
    /// `postgresql://…`
    #[default]
    Url,
    /// `postgresql+<driver>://…`
    Sqlalchemy,
    /// `jdbc:postgresql://…`, credentials apart.
    Jdbc,
}

pub const URL_FORMATS: &[&str] = &["url", "sqlalchemy", "jdbc"];

/// The tool's own record of applied migrations.
#[derive(Debug, Clone)]
pub struct Tracking {
    /// One row per applied migration, its first column naming it; a missing table is no rows.
    pub query: String,
    /// Globs (under the working folder) of files that are one migration each: after a run
    /// that exited 0, the query must return at least as many rows.
    pub migration_files: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum ToolKind {
    /// The built-in `sql` tool.
    Sql { migrations_dir: PathBuf },
    /// Any other tool, run as a command.
    Command { apply: CommandSpec },
}

/// A command: argv (preferred) or a shell string run by `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSpec {
    Argv(Vec<String>),
    Shell(String),
}

impl CommandSpec {
    /// The templates inside, for checks and rendering.
    pub fn parts(&self) -> Vec<&str> {
        match self {
            CommandSpec::Argv(v) => v.iter().map(String::as_str).collect(),
            CommandSpec::Shell(s) => vec![s.as_str()],
        }
    }
    pub fn display(&self) -> String {
        match self {
            CommandSpec::Argv(v) => v.join(" "),
            CommandSpec::Shell(s) => s.clone(),
        }
    }
}

/// The `apply` stage: who may apply, and how safely.
#[derive(Debug, Clone)]
pub struct ApplyConfig {
    /// Git branches allowed to apply; `None` means the repository's default git branch.
    pub git_branches: Option<Vec<String>>,
    /// How long to wait for another apply holding the lock on the main Neon database branch.
    pub lock_wait: Duration,
    /// `lock_timeout` handed to the migration tool.
    pub lock_timeout: Duration,
    /// `statement_timeout` handed to the migration tool (zero: none).
    pub statement_timeout: Duration,
    /// Retries after a lock timeout (SQLSTATE 55P03).
    pub retries: u32,
    /// Create a restore point (a Neon database branch of main) before applying.
    pub restore_point: bool,
    pub restore_point_ttl: Duration,
}

/// Settings of the schema, lint, locks, data and reversible checks.
#[derive(Debug, Clone)]
pub struct ChecksConfig {
    pub schema: SchemaCheck,
    pub lint: LintCheck,
    pub locks: LocksCheck,
    pub data: DataCheck,
    pub reversible: ReversibleCheck,
    pub integrity: crate::checks::integrity::IntegrityConfig,
}

impl ChecksConfig {
    /// Whether the check of this name has `required = true`.
    pub fn required(&self, check: &str) -> bool {
        match check {
            "schema" => self.schema.required,
            "lint" => self.lint.required,
            "locks" => self.locks.required,
            "data" => self.data.required,
            "reversible" => self.reversible.required,
            "integrity" => self.integrity.required,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SchemaCheck {
    pub enabled: bool,
    /// A run where this check could not run fails (default: shown as "not run").
    pub required: bool,
    /// Hazard kinds that fail the check (default: `deletes_data`).
    pub deny: Vec<crate::schema::HazardKind>,
    /// Migration files allowed to carry denied hazards.
    pub allow_migrations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LintCheck {
    pub enabled: bool,
    /// A run where this check could not run fails (default: shown as "not run").
    pub required: bool,
    /// Rule names that are not reported.
    pub ignore: Vec<String>,
    /// Rule names reported as warnings (they do not fail the check).
    pub warn: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LocksCheck {
    pub enabled: bool,
    /// A run where this check could not run fails (default: shown as "not run").
    pub required: bool,
    /// Longest ACCESS EXCLUSIVE lock allowed on any table.
    pub access_exclusive_budget: Duration,
    pub sample_interval: Duration,
    /// Per-table budgets (`schema.table` → budget), overriding the default.
    pub tables: BTreeMap<String, Duration>,
}

#[derive(Debug, Clone)]
pub struct DataCheck {
    pub enabled: bool,
    /// A run where this check could not run fails (default: shown as "not run").
    pub required: bool,
    /// Tables with fewer estimated rows are counted exactly.
    pub exact_below: i64,
    /// Tables allowed to lose rows or disappear.
    pub allow_loss: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ReversibleCheck {
    pub enabled: bool,
    /// Fail when a migration has no down migration, or the round trip could not run
    /// (default: shown as "not run").
    pub required: bool,
}

/// Lint rules reported as warnings unless `warn` is set: style and robustness advice that
/// does not block production traffic by itself.
pub const LINT_WARN_DEFAULT: &[&str] = &[
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-robust-stmts",
    "prefer-text-field",
    "prefer-timestamp-tz",
    "ban-char-field",
    "require-timeout-settings",
    "require-lock-timeout",
    "require-statement-timeout",
];

/// Hazard kinds as written in config.
pub const HAZARD_KINDS: &[&str] = &[
    "access_exclusive_lock",
    "share_lock",
    "share_row_exclusive_lock",
    "table_rewrite",
    "deletes_data",
    "index_build",
    "index_dropped",
    "authz_update",
    "correctness",
    "untrackable_dependencies",
];

#[derive(Debug, Clone)]
pub struct SqlCheck {
    pub name: String,
    pub query: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The query returns exactly this many rows.
    Rows(i64),
    /// The query returns one row whose first column, as text, equals this.
    Value(String),
    /// The query returns one row whose first column is `true`.
    True,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Rows(n) => write!(f, "{n} row(s)"),
            Expect::Value(v) => write!(f, "the value `{v}`"),
            Expect::True => f.write_str("`true`"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub description: String,
    pub stages: Vec<Stage>,
    /// `preset` or the config file that declared it.
    pub origin: String,
}

impl Pipeline {
    pub fn has(&self, kind: fn(&StageKind) -> bool) -> bool {
        self.stages.iter().any(|s| kind(&s.kind))
    }
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub kind: StageKind,
    /// Runs even when an earlier stage failed (cleanup).
    pub always: bool,
}

#[derive(Debug, Clone)]
pub enum StageKind {
    CreateDbBranch,
    Migrate,
    Checks,
    DeleteDbBranch,
    Apply,
    Shell(ShellStage),
}

impl StageKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            StageKind::CreateDbBranch => "create-neon-database-branch",
            StageKind::Migrate => "migrate",
            StageKind::Checks => "checks",
            StageKind::DeleteDbBranch => "delete-neon-database-branch",
            StageKind::Apply => "apply",
            StageKind::Shell(_) => "shell",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ShellStage {
    pub run: CommandSpec,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

/// Built-in stage names (they are also stage kinds).
pub const BUILTIN_STAGES: &[&str] = &[
    "create-neon-database-branch",
    "migrate",
    "checks",
    "delete-neon-database-branch",
    "apply",
];
/// Kinds a `[stages.NAME]` table may have.
pub const STAGE_KINDS: &[&str] = &[
    "create-neon-database-branch",
    "migrate",
    "checks",
    "delete-neon-database-branch",
    "apply",
    "shell",
];
const PROVIDER_KINDS: &[&str] = &["local", "neon"];
const LOCAL_ONLY: &[&str] = &[
    "url",
    "main-database",
    "data-dir",
    "busy-parent",
    "tool-role",
];
const NEON_ONLY: &[&str] = &[
    "project-id",
    "api-key-env",
    "api-host",
    "parent",
    "database",
    "role",
    "operation-timeout",
];
const BUSY_PARENT: &[&str] = &["fail", "golden-template"];
const TOOL_ROLES: &[&str] = &["copy-owner", "server"];

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
fn config_root(path: &Path) -> PathBuf {
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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path as P;
    match path {
        P::Root => Vec::new(),
        P::Seq { parent, index } => {
            let mut v = segments(parent);
            v.push(Seg::Index(*index));
            v
        }
        P::Map { parent, key } => {
            let mut v = segments(parent);
            v.push(Seg::Key(key.clone()));
            v
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            segments(parent)
        }
    }
}

struct Validator<'s> {
    source: &'s str,
    /// The document with spans, to point at keys (serde only spans values).
    doc: Option<&'s toml_edit::Table>,
    problems: Vec<Problem>,
    /// Byte ranges of secrets written in the file, masked in every snippet.
    secrets: Vec<Range<usize>>,
}

fn span<T>(s: &S<T>) -> Range<usize> {
    s.span()
}

impl Validator<'_> {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// The span of the key at `path` (keys given as strings).
    fn key_at(&self, path: &[&str]) -> Range<usize> {
        let segs: Vec<Seg> = path.iter().map(|k| Seg::Key((*k).to_owned())).collect();
        self.doc.and_then(|d| key_span(d, &segs)).unwrap_or(0..0)
    }

    fn unknown_key(&mut self, path: &[Seg]) {
        let Some(Seg::Key(key)) = path.last() else {
            return;
        };
        let parent = &path[..path.len() - 1];
        // Table names chosen by the user (stages.NAME, pipelines.NAME) are wildcards.
        let user_named =
            matches!(parent.first(), Some(Seg::Key(k)) if k == "stages" || k == "pipelines");
        let shape: Vec<&str> = parent
            .iter()
            .enumerate()
            .map(|(i, seg)| match seg {
                Seg::Index(_) => "*",
                Seg::Key(_) if i == 1 && user_named => "*",
                Seg::Key(k) => k.as_str(),
            })
            .collect();
        let known = raw::known_keys(&shape);
        let span = self.doc.and_then(|d| key_span(d, path)).unwrap_or(0..0);
        let where_ = if shape.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in `[{}]`", dotted(parent))
        };
        self.push(
            Problem::new(
                "config::unknown-key",
                span,
                format!("unknown key `{key}` {where_}"),
            )
            .label("not a known key")
            .help(diag::suggest(key, "keys", known)),
        );
    }

    fn duration(&mut self, s: &Option<S<String>>, what: &str, default: Duration) -> Duration {
        let Some(s) = s else { return default };
        match duration::parse(s.get_ref()) {
            Ok(d) => d,
            Err(e) => {
                self.push(
                    Problem::new(
                        "config::duration",
                        span(s),
                        format!("malformed duration for `{what}`: {e}"),
                    )
                    .label("not a duration")
                    .help(duration::HELP),
                );
                default
            }
        }
    }

    /// A duration that must not be zero (a timeout of `0s` would fail every run).
    fn timeout(&mut self, s: &Option<S<String>>, what: &str, default: Duration) -> Duration {
        let d = self.duration(s, what, default);
        if let Some(given) = s.as_ref().filter(|_| d.is_zero()) {
            if duration::parse(given.get_ref()).is_ok() {
                self.push(
                    Problem::new(
                        "config::duration",
                        span(given),
                        format!("`{what}` is zero: everything would time out at once"),
                    )
                    .label("zero")
                    .help(format!(
                        "give a positive duration, e.g. `{}` (the default)",
                        duration::format(default)
                    )),
                );
            }
            return default;
        }
        d
    }

    fn template(&mut self, s: &S<String>, scope: Scope, what: &str) {
        for p in template::check(s.get_ref(), scope) {
            let mut sp = span(s);
            if let Some(needle) = &p.needle {
                // Narrow the span to the variable when the source spells it literally.
                if let Some(slice) = self.source.get(sp.clone()) {
                    if let Some(off) = slice.find(needle.as_str()) {
                        sp = sp.start + off..sp.start + off + needle.len();
                    }
                }
            }
            self.push(
                Problem::new("config::template", sp, format!("{what}: {}", p.message))
                    .label("in this template")
                    .help(p.help),
            );
        }
    }

    fn command(&mut self, c: &S<RawCommand>, scope: Scope, what: &str) -> CommandSpec {
        let spec = match c.get_ref() {
            RawCommand::Shell(s) => CommandSpec::Shell(s.clone()),
            RawCommand::Argv(v) => CommandSpec::Argv(v.clone()),
        };
        let empty = match &spec {
            CommandSpec::Shell(s) => s.trim().is_empty(),
            CommandSpec::Argv(v) => v.is_empty() || v[0].trim().is_empty(),
        };
        if empty {
            self.push(
                Problem::new("config::command", span(c), format!("{what} is empty"))
                    .help("give a command, e.g. `[\"npx\", \"prisma\", \"migrate\", \"deploy\"]`"),
            );
        }
        for part in spec.parts() {
            for p in template::check(part, scope) {
                self.push(
                    Problem::new(
                        "config::template",
                        span(c),
                        format!("{what}: {}", p.message),
                    )
                    .label("in this command")
                    .help(p.help),
                );
            }
        }
        spec
    }

    fn env(&mut self, env: &BTreeMap<String, S<String>>, table: &[&str]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let what = table.join(".");
        for (k, val) in env {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                let mut path = table.to_vec();
                path.push(k);
                let sp = self.key_at(&path);
                self.push(
                    Problem::new(
                        "config::env",
                        sp,
                        format!("`{k}` is not a valid environment variable name"),
                    )
                    .help("use letters, digits and `_`"),
                );
            }
            self.template(val, Scope::Command, &format!("{what}.{k}"));
            out.push((k.clone(), val.get_ref().clone()));
        }
        out
    }

    fn one_of(&mut self, s: &S<String>, valid: &[&str], what: &str) -> bool {
        if valid.contains(&s.get_ref().as_str()) {
            return true;
        }
        self.push(
            Problem::new(
                "config::value",
                span(s),
                format!("unknown {what} `{}`", s.get_ref()),
            )
            .label(format!("not a valid {what}"))
            .help(diag::suggest(s.get_ref(), &format!("{what}s"), valid)),
        );
        false
    }

    fn validate(&mut self, raw: RawConfig, root: &Path) -> Config {
        if let Some(version) = &raw.version {
            if *version.get_ref() != 1 {
                self.push(
                    Problem::new(
                        "config::version",
                        span(version),
                        format!("unsupported config version {}", version.get_ref()),
                    )
                    .help("this neon-migrate understands `version = 1`"),
                );
            }
        }

        // Neon database branch naming and TTL.
        let rb = raw.neon_database_branch.unwrap_or_default();
        let name_template = match &rb.name {
            Some(n) => {
                self.template(n, Scope::DbBranchName, "neon-database-branch.name");
                let text = n.get_ref();
                let fixed = !text.contains("{{");
                if fixed
                    && crate::naming::sanitize(text, crate::naming::MAX_LEN) == "unnamed"
                    && !text.to_ascii_lowercase().contains("unnamed")
                {
                    self.push(
                        Problem::new(
                            "config::name",
                            span(n),
                            "`neon-database-branch.name` is empty (once sanitized, nothing is left of it)",
                        )
                        .label("no name in here")
                        .help(format!(
                            "name the test Neon database branch after the git branch, e.g. `name = \"{DEFAULT_NAME_TEMPLATE}\"` (the default)"
                        )),
                    );
                }
                text.clone()
            }
            None => DEFAULT_NAME_TEMPLATE.to_owned(),
        };
        let ttl = self.duration(&rb.ttl, "neon-database-branch.ttl", DEFAULT_TTL);
        if let Some(t) = &rb.ttl {
            if ttl > MAX_TTL || ttl.is_zero() {
                self.push(
                    Problem::new(
                        "config::ttl",
                        span(t),
                        format!("TTL `{}` is out of range", t.get_ref()),
                    )
                    .help(
                        "a test Neon database branch lives between 1s and 30d; the default is `4h`",
                    ),
                );
            }
        }

        let db_branch_lock_wait = self.duration(
            &rb.lock_wait,
            "neon-database-branch.lock-wait",
            DEFAULT_DB_BRANCH_LOCK_WAIT,
        );

        // Provider.
        let rp = raw.provider.unwrap_or_default();
        if let Some(kind) = &rp.kind {
            self.one_of(kind, PROVIDER_KINDS, "provider kind");
        }
        if let Some(url) = &rp.url {
            self.template(url, Scope::Command, "provider.url");
            let literal_password = crate::secret::url_password(url.get_ref())
                .filter(|p| !(p.starts_with("{{") && p.ends_with("}}")));
            if let Some(password) = &literal_password {
                let sp = span(url);
                let at = self
                    .source
                    .get(sp.clone())
                    .and_then(|v| v.find(password.as_str()))
                    .map(|off| sp.start + off..sp.start + off + password.len())
                    .unwrap_or(sp);
                self.secrets.push(at);
            }
            // Only the literal text before the first template can be judged here; the
            // rendered URL is checked again when the provider opens.
            let literal = url
                .get_ref()
                .split("{{")
                .next()
                .unwrap_or_default()
                .trim_start();
            let url_like = ["postgres://", "postgresql://"]
                .iter()
                .any(|s| literal.starts_with(s) || s.starts_with(literal));
            if !url_like {
                let why = crate::pg::check_url_form(literal).err().unwrap_or_default();
                self.push(
                    Problem::new("config::url", span(url), format!("`provider.url`: {why}"))
                        .label("not a postgresql:// URL")
                        .help("write the server as a URL, e.g. `url = \"postgresql://USER@HOST:5432/DATABASE\"`, with the password in `PGPASSWORD` or through `{{env.X}}`"),
                );
            }
            if literal_password.is_some() {
                self.push(
                    Problem::new("config::secret", span(url), "a password is written in `provider.url`")
                        .label("secret in the repository")
                        .help("secrets do not go in the repository: write `url = \"{{env.DATABASE_URL}}\"` and set the variable"),
                );
            }
        }
        if let Some(m) = &rp.main_database {
            let db = m.get_ref();
            let problem = if db.trim().is_empty() {
                Some("`main-database` is empty".to_owned())
            } else if db.len() > MAX_IDENTIFIER_BYTES {
                Some(format!(
                    "`main-database` is {} bytes long; PostgreSQL names are at most {MAX_IDENTIFIER_BYTES} bytes",
                    db.len()
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                self.push(
                    Problem::new("config::main-database", span(m), message)
                        .label("not a usable database name")
                        .help(format!(
                            "give the name of the database that plays the main Neon database branch, 1 to {MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would cut a longer one, and then not find it)"
                        )),
                );
            }
        }
        let busy_parent = match &rp.busy_parent {
            Some(b)
                if self.one_of(b, BUSY_PARENT, "busy-parent policy")
                    && b.get_ref() == "golden-template" =>
            {
                BusyParent::GoldenTemplate
            }
            _ => BusyParent::Fail,
        };
        let tool_role = match &rp.tool_role {
            Some(r) if self.one_of(r, TOOL_ROLES, "tool role") && r.get_ref() == "server" => {
                ToolRole::Server
            }
            _ => ToolRole::CopyOwner,
        };
        if let Some(key) = &rp.api_key {
            self.secrets.push(span(key));
            self.push(
                Problem::new("config::secret", span(key), "an API key is written in `neon-migrate.toml`")
                    .label("secret in the repository")
                    .help(format!(
                        "secrets do not go in the repository: remove `api-key`, set the key in the environment variable `{NEON_API_KEY_ENV}` (or name another with `api-key-env`), and rotate the key if this file was ever committed"
                    )),
            );
        }
        let is_neon = rp.kind.as_ref().is_some_and(|k| k.get_ref() == "neon");
        // Keys of the other provider kind are mistakes, not silently ignored settings.
        let given: [(&str, Option<Range<usize>>); 12] = [
            ("url", rp.url.as_ref().map(span)),
            ("main-database", rp.main_database.as_ref().map(span)),
            ("data-dir", rp.data_dir.as_ref().map(span)),
            ("busy-parent", rp.busy_parent.as_ref().map(span)),
            ("tool-role", rp.tool_role.as_ref().map(span)),
            ("project-id", rp.project_id.as_ref().map(span)),
            ("api-key-env", rp.api_key_env.as_ref().map(span)),
            ("api-host", rp.api_host.as_ref().map(span)),
            ("parent", rp.parent.as_ref().map(span)),
            ("database", rp.database.as_ref().map(span)),
            ("role", rp.role.as_ref().map(span)),
            ("operation-timeout", rp.operation_timeout.as_ref().map(span)),
        ];
        for (key, sp) in given {
            let Some(sp) = sp else { continue };
            let (wrong, kind) = if is_neon {
                (LOCAL_ONLY, "neon")
            } else {
                (NEON_ONLY, "local")
            };
            if wrong.contains(&key) {
                let other = if is_neon { "local" } else { "neon" };
                self.push(
                    Problem::new(
                        "config::provider",
                        sp,
                        format!("`{key}` is a `{other}` provider setting, but `kind` is `{kind}`"),
                    )
                    .label("not used by this provider")
                    .help(format!("remove `{key}`, or set `kind = \"{other}\"`")),
                );
            }
        }
        if let Some(host) = &rp.api_host {
            if !(host.get_ref().starts_with("https://") || host.get_ref().starts_with("http://")) {
                self.push(
                    Problem::new(
                        "config::provider",
                        span(host),
                        format!(
                            "`api-host` must be an http(s) URL, not `{}`",
                            host.get_ref()
                        ),
                    )
                    .help(format!("the default is `{NEON_API_HOST}`")),
                );
            }
        }
        if let Some(env) = &rp.api_key_env {
            let e = env.get_ref();
            if e.is_empty()
                || !e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || e.starts_with("napi_")
            {
                self.push(
                    Problem::new(
                        "config::provider",
                        span(env),
                        "`api-key-env` names an environment variable, not the key itself",
                    )
                    .help(
                        "write `api-key-env = \"NEON_API_KEY\"` and put the key in that variable",
                    ),
                );
            }
        }
        let operation_timeout = self.timeout(
            &rp.operation_timeout,
            "provider.operation-timeout",
            DEFAULT_OPERATION_TIMEOUT,
        );
        let provider = if is_neon {
            ProviderConfig::Neon(NeonConfig {
                project_id: rp.project_id.map(|p| p.into_inner()),
                api_key_env: rp
                    .api_key_env
                    .map(|e| e.into_inner())
                    .unwrap_or_else(|| NEON_API_KEY_ENV.into()),
                api_host: rp
                    .api_host
                    .map(|h| h.into_inner().trim_end_matches('/').to_owned()),
                parent: rp.parent.map(|p| p.into_inner()),
                database: rp
                    .database
                    .map(|d| d.into_inner())
                    .unwrap_or_else(|| "neondb".into()),
                role: rp
                    .role
                    .map(|r| r.into_inner())
                    .unwrap_or_else(|| "neondb_owner".into()),
                operation_timeout,
            })
        } else {
            // Without `url` (the embedded Postgres), every repository gets a main database of
            // its own; with one, the URL's database is the default (see LocalProvider::open).
            let main_database = match (&rp.main_database, &rp.url) {
                (Some(m), _) => Some(m.get_ref().clone()),
                (None, None) => Some(crate::providers::local::role::default_main_database(root)),
                (None, Some(_)) => None,
            };
            ProviderConfig::Local(LocalConfig {
                url: rp.url.map(|u| u.into_inner()),
                main_database,
                data_dir: rp.data_dir.map(|d| root.join(d.into_inner())),
                busy_parent,
                tool_role,
            })
        };

        // Tool.
        let tool = self.tool(raw.tool, root);

        // SQL checks.
        let raw_checks = raw.checks.unwrap_or_default();
        let checks = self.checks(&raw_checks);
        let mut sql_checks = Vec::new();
        let mut check_names: Vec<String> = Vec::new();
        for (i, c) in raw_checks.sql.into_iter().enumerate() {
            let name = match &c.name {
                Some(n) => {
                    if check_names.contains(n.get_ref()) {
                        self.push(
                            Problem::new(
                                "config::duplicate",
                                span(n),
                                format!("two SQL checks are named `{}`", n.get_ref()),
                            )
                            .help("give each check a distinct name"),
                        );
                    }
                    n.get_ref().clone()
                }
                None => format!("sql check #{}", i + 1),
            };
            check_names.push(name.clone());
            let Some(query) = &c.query else {
                let sp = c.name.as_ref().map(span).unwrap_or(0..0);
                self.push(
                    Problem::new(
                        "config::check",
                        sp,
                        format!("SQL check `{name}` has no `query`"),
                    )
                    .help("add `query = \"select …\"`"),
                );
                continue;
            };
            if query.get_ref().trim().is_empty() {
                self.push(
                    Problem::new(
                        "config::check",
                        span(query),
                        format!("SQL check `{name}` has an empty `query`"),
                    )
                    .label("no SQL here")
                    .help("write the query the check runs, e.g. `query = \"select count(*) = 0 from orders where total < 0\"`"),
                );
            }
            if let Some(r) = c.expect_rows.as_ref().filter(|r| *r.get_ref() < 0) {
                self.push(
                    Problem::new(
                        "config::check",
                        span(r),
                        format!(
                            "SQL check `{name}`: `expect-rows = {}` can never match",
                            r.get_ref()
                        ),
                    )
                    .label("a negative row count")
                    .help("`expect-rows` is the number of rows the query must return: 0 or more"),
                );
            }
            let given = [
                c.expect_rows.is_some(),
                c.expect_value.is_some(),
                c.expect_true.is_some(),
            ];
            if given.iter().filter(|g| **g).count() > 1 {
                self.push(
                    Problem::new(
                        "config::check",
                        span(query),
                        format!("SQL check `{name}` has more than one expectation"),
                    )
                    .help("give exactly one of `expect-rows`, `expect-value`, `expect-true`"),
                );
            }
            let expect = if let Some(r) = &c.expect_rows {
                Expect::Rows(*r.get_ref())
            } else if let Some(val) = &c.expect_value {
                Expect::Value(val.get_ref().clone())
            } else {
                if let Some(t) = &c.expect_true {
                    if !t.get_ref() {
                        self.push(
                            Problem::new(
                                "config::check",
                                span(t),
                                "`expect-true = false` expects nothing",
                            )
                            .help("use `expect-value = \"false\"` to expect false"),
                        );
                    }
                }
                Expect::True
            };
            sql_checks.push(SqlCheck {
                name,
                query: query.get_ref().clone(),
                expect,
            });
        }

        // Apply policy.
        let ra = raw.apply.unwrap_or_default();
        let git_branches = ra
            .git_branches
            .as_ref()
            .map(|v| v.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>());
        if let Some(list) = &ra.git_branches {
            if list.is_empty() {
                self.push(
                    Problem::new(
                        "config::apply",
                        0..0,
                        "`git-branches` under [apply] is empty: nothing could ever apply",
                    )
                    .help(
                        "list the git branches allowed to apply, e.g. `git-branches = [\"main\"]`",
                    ),
                );
            }
        }
        let retries = match &ra.retries {
            Some(r) if !(0..=20).contains(r.get_ref()) => {
                self.push(
                    Problem::new(
                        "config::value",
                        span(r),
                        "`retries` must be between 0 and 20",
                    )
                    .help("the default is 5"),
                );
                5
            }
            Some(r) => *r.get_ref() as u32,
            None => 5,
        };
        let restore_point_ttl = self.duration(
            &ra.restore_point_ttl,
            "apply.restore-point-ttl",
            Duration::from_secs(7 * 86_400),
        );
        if let Some(t) = &ra.restore_point_ttl {
            if restore_point_ttl > MAX_TTL || restore_point_ttl.is_zero() {
                self.push(
                    Problem::new(
                        "config::ttl",
                        span(t),
                        "`restore-point-ttl` is out of range",
                    )
                    .help("between 1s and 30d; the default is `7d`"),
                );
            }
        }
        let apply = ApplyConfig {
            git_branches,
            lock_wait: self.duration(&ra.lock_wait, "apply.lock-wait", Duration::from_secs(300)),
            lock_timeout: self.duration(
                &ra.lock_timeout,
                "apply.lock-timeout",
                Duration::from_secs(3),
            ),
            statement_timeout: self.duration(
                &ra.statement_timeout,
                "apply.statement-timeout",
                Duration::ZERO,
            ),
            retries,
            restore_point: ra.restore_point.unwrap_or(true),
            restore_point_ttl,
        };

        // Stages declared by the project.
        let mut stage_defs: BTreeMap<String, Stage> = BTreeMap::new();
        for (name, rs) in &raw.stages {
            if BUILTIN_STAGES.contains(&name.as_str()) {
                let sp = self.key_at(&["stages", name]);
                self.push(
                    Problem::new(
                        "config::stage",
                        sp,
                        format!("`{name}` is a built-in stage and cannot be redefined"),
                    )
                    .help("choose another name for your stage"),
                );
                continue;
            }
            if let Some(stage) = self.stage(name, rs) {
                stage_defs.insert(name.clone(), stage);
            }
        }

        // Pipelines: presets, then the project's (which replace presets of the same name).
        let mut pipelines = BTreeMap::new();
        for (pname, text) in PRESETS {
            let preset: RawPipeline = toml::from_str(text).expect("presets are valid (tested)");
            let p = self.pipeline(pname, None, &preset, &stage_defs, "preset");
            pipelines.insert(pname.to_string(), p);
        }
        for (pname, rp) in &raw.pipelines {
            let sp = self.key_at(&["pipelines", pname]);
            let p = self.pipeline(pname, Some(sp), rp, &stage_defs, "project");
            pipelines.insert(pname.clone(), p);
        }

        Config {
            path: None,
            root: root.to_owned(),
            db_branch: DbBranchSettings {
                name_template,
                ttl,
                lock_wait: db_branch_lock_wait,
            },
            provider,
            tool,
            sql_checks,
            checks,
            apply,
            pipelines,
        }
    }

    /// `[tool]`: the preset named (or detected), with the project's keys over it.
    fn tool(&mut self, user: Option<raw::RawTool>, root: &Path) -> ToolConfig {
        use crate::tools::{detect::Tree, presets};
        let table_span = self.key_at(&["tool"]);
        let user = user.unwrap_or_default();
        let working_dir = match &user.working_dir {
            Some(d) => root.join(d.get_ref()),
            None => root.to_owned(),
        };
        let tree = Tree::new(&working_dir);
        let (preset, origin) = match user.name.as_ref().map(|n| n.get_ref().clone()) {
            Some(name) => {
                let resolved = presets::get(&name).map(|p| p.resolve(&tree));
                let evidence = resolved
                    .as_ref()
                    .map(|r| r.evidence.clone())
                    .unwrap_or_default();
                (resolved, ToolOrigin::Config { evidence })
            }
            None => {
                let candidates = presets::detect(&tree);
                match candidates.as_slice() {
                    [] => {
                        let note = if working_dir.join("migrations").is_dir() {
                            "no other migration tool detected: the built-in `sql` tool applies migrations/*.sql".to_owned()
                        } else {
                            presets::NONE_FOUND_HELP.to_owned()
                        };
                        (
                            presets::get("sql").map(|p| p.resolve(&tree)),
                            ToolOrigin::Default { note },
                        )
                    }
                    [one] => {
                        let resolved = presets::get(one.name).map(|p| p.resolve(&tree));
                        (
                            resolved,
                            ToolOrigin::Detected {
                                evidence: one.evidence.clone(),
                            },
                        )
                    }
                    many => {
                        let (message, help) = presets::ambiguity(many);
                        self.push(
                            Problem::new("config::tool", table_span.clone(), message)
                                .label("more than one candidate")
                                .help(help),
                        );
                        (
                            presets::get("sql").map(|p| p.resolve(&tree)),
                            ToolOrigin::Default {
                                note: "more than one migration tool detected".into(),
                            },
                        )
                    }
                }
            }
        };
        let (title, install, failure_hints) = match &preset {
            Some(p) => (
                Some(p.title.clone()),
                p.install.clone(),
                p.failure_hints.clone(),
            ),
            None => (None, None, Vec::new()),
        };
        let rt = match &preset {
            Some(p) => {
                let mut base: raw::RawTool = toml::to_string(&p.tool)
                    .ok()
                    .and_then(|t| toml::from_str(&t).ok())
                    .unwrap_or_else(|| panic!("preset `{}` has a valid [tool] (tested)", p.name));
                base.name = Some(S::new(0..0, p.name.to_owned()));
                user.over(base)
            }
            None => user,
        };
        let tool_name = rt
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| "sql".into());
        let name_span = rt.name.as_ref().map(span).unwrap_or(table_span);
        let is_sql = tool_name == "sql";
        if is_sql {
            for (key, c) in [
                ("command", &rt.command),
                ("apply-command", &rt.apply_command),
                ("down-command", &rt.down_command),
                ("print-sql-command", &rt.print_sql_command),
            ] {
                if let Some(c) = c {
                    self.push(
                        Problem::new(
                            "config::tool",
                            span(c),
                            format!("the built-in `sql` tool takes no `{key}`"),
                        )
                        .help(if key == "command" {
                            "remove `command`, or set `name` to your tool's name to run a command"
                        } else {
                            "remove it: the `sql` tool applies the same files to the main Neon database branch, and reverts with its own NNNN_name.down.sql files"
                        }),
                    );
                }
            }
        }
        let kind = if is_sql {
            let dir = rt
                .migrations_dir
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_else(|| "migrations".into());
            ToolKind::Sql {
                migrations_dir: root.join(dir),
            }
        } else {
            match &rt.command {
                Some(c) => ToolKind::Command {
                    apply: self.command(c, Scope::Command, "tool.command"),
                },
                None => {
                    let mut known = presets::names();
                    known.retain(|n| *n != "sql");
                    let near = diag::suggest(&tool_name, "tool presets", &known);
                    self.push(
                        Problem::new("config::tool", name_span.clone(), format!("tool `{tool_name}` has no preset and no `command`"))
                            .label("unknown tool")
                            .help(format!("{near}; or add `command = [\"…\"]` (your tool's apply command), or use `name = \"sql\"` for plain SQL files")),
                    );
                    ToolKind::Command {
                        apply: CommandSpec::Argv(vec!["true".into()]),
                    }
                }
            }
        };
        let mut optional = |c: &Option<S<RawCommand>>, what: &str| {
            c.as_ref()
                .filter(|_| !is_sql)
                .map(|c| self.command(c, Scope::Command, what))
        };
        let apply_command = optional(&rt.apply_command, "tool.apply-command");
        let down_command = optional(&rt.down_command, "tool.down-command");
        let print_sql_command = optional(&rt.print_sql_command, "tool.print-sql-command");
        let strings = |v: &Option<Vec<S<String>>>| -> Option<Vec<String>> {
            v.as_ref()
                .map(|l| l.iter().map(|s| s.get_ref().clone()).collect())
        };
        let url_env = strings(&rt.url_env).unwrap_or_else(|| vec!["DATABASE_URL".into()]);
        let mut names: Vec<(&str, Vec<S<String>>)> = Vec::new();
        for (key, list) in [
            ("url-env", &rt.url_env),
            ("user-env", &rt.user_env),
            ("password-env", &rt.password_env),
        ] {
            names.push((key, list.clone().unwrap_or_default()));
        }
        for (key, list) in names {
            for n in list {
                let v = n.get_ref();
                if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.push(
                        Problem::new(
                            "config::env",
                            span(&n),
                            format!("`{v}` in `{key}` is not a valid environment variable name"),
                        )
                        .help("use letters, digits and `_`"),
                    );
                }
            }
        }
        let format = match &rt.url_format {
            Some(f) if self.one_of(f, URL_FORMATS, "URL format") => match f.get_ref().as_str() {
                "sqlalchemy" => UrlFormat::Sqlalchemy,
                "jdbc" => UrlFormat::Jdbc,
                _ => UrlFormat::Url,
            },
            _ => UrlFormat::Url,
        };
        let handoff = Handoff {
            url_env,
            format,
            driver: rt.url_driver.as_ref().map(|d| d.get_ref().clone()),
            user_env: strings(&rt.user_env).unwrap_or_default(),
            password_env: strings(&rt.password_env).unwrap_or_default(),
            drop_params: strings(&rt.drop_url_params).unwrap_or_default(),
            config_files: strings(&rt.config_files).unwrap_or_default(),
        };
        let watch = match (&kind, strings(&rt.watch)) {
            // Globs name what exists now; literal paths are kept even before they exist.
            (_, Some(list)) => Some(
                list.iter()
                    .flat_map(|p| {
                        if p.contains(['*', '?', '{']) {
                            tree.matches(p)
                        } else {
                            vec![p.clone()]
                        }
                    })
                    .map(|p| working_dir.join(p))
                    .collect(),
            ),
            (ToolKind::Sql { migrations_dir }, None) => Some(vec![migrations_dir.clone()]),
            (ToolKind::Command { .. }, None) => None,
        };
        let tracking = rt.tracking_query.as_ref().map(|q| Tracking {
            query: q.get_ref().clone(),
            migration_files: strings(&rt.migration_files).unwrap_or_default(),
        });
        let timeout = self.timeout(&rt.timeout, "tool.timeout", DEFAULT_TOOL_TIMEOUT);
        let env = self.env(&rt.env, &["tool", "env"]);
        ToolConfig {
            name: tool_name,
            title,
            install,
            failure_hints,
            origin,
            kind,
            working_dir,
            timeout,
            env,
            apply_command,
            down_command,
            print_sql_command,
            handoff,
            watch,
            tracking: tracking.filter(|_| !is_sql),
        }
    }

    fn checks(&mut self, raw: &raw::RawChecks) -> ChecksConfig {
        let rs = raw.schema.as_ref();
        let mut deny = Vec::new();
        let deny_raw: Vec<S<String>> = rs
            .and_then(|s| s.deny.clone())
            .unwrap_or_else(|| vec![S::new(0..0, "deletes_data".into())]);
        for d in &deny_raw {
            if self.one_of(d, HAZARD_KINDS, "hazard kind") {
                let kind: crate::schema::HazardKind =
                    serde_json::from_value(serde_json::Value::String(d.get_ref().clone()))
                        .expect("listed kinds parse");
                deny.push(kind);
            }
        }
        let schema = SchemaCheck {
            enabled: rs.and_then(|s| s.enabled).unwrap_or(true),
            required: rs.and_then(|s| s.required).unwrap_or(false),
            deny,
            allow_migrations: rs
                .and_then(|s| s.allow_migrations.clone())
                .unwrap_or_default(),
        };
        let rl = raw.lint.as_ref();
        let mut names = |list: Option<&Vec<S<String>>>| -> Vec<String> {
            let mut out = Vec::new();
            for r in list.into_iter().flatten() {
                if crate::checks::lint::rule_names().contains(&r.get_ref().as_str()) {
                    out.push(r.get_ref().clone());
                } else {
                    let known = crate::checks::lint::rule_names();
                    self.push(
                        Problem::new(
                            "config::lint-rule",
                            span(r),
                            format!("unknown lint rule `{}`", r.get_ref()),
                        )
                        .label("not a squawk rule")
                        .help(diag::suggest(r.get_ref(), "rules", &known)),
                    );
                }
            }
            out
        };
        let warn = match rl.and_then(|l| l.warn.as_ref()) {
            Some(list) => names(Some(list)),
            None => LINT_WARN_DEFAULT.iter().map(|s| s.to_string()).collect(),
        };
        let lint = LintCheck {
            enabled: rl.and_then(|l| l.enabled).unwrap_or(true),
            required: rl.and_then(|l| l.required).unwrap_or(false),
            ignore: names(rl.and_then(|l| l.ignore.as_ref())),
            warn,
        };
        let rk = raw.locks.as_ref();
        let default_budget = Duration::from_millis(500);
        let access_exclusive_budget = match rk {
            Some(k) => self.duration(
                &k.access_exclusive_budget,
                "checks.locks.access-exclusive-budget",
                default_budget,
            ),
            None => default_budget,
        };
        let sample_interval = match rk {
            Some(k) => self.duration(
                &k.sample_interval,
                "checks.locks.sample-interval",
                Duration::from_millis(20),
            ),
            None => Duration::from_millis(20),
        };
        let mut tables = BTreeMap::new();
        for (t, d) in rk.map(|k| &k.tables).into_iter().flatten() {
            let budget = self.duration(
                &Some(d.clone()),
                &format!("checks.locks.tables.{t}"),
                default_budget,
            );
            tables.insert(t.clone(), budget);
        }
        let locks = LocksCheck {
            enabled: rk.and_then(|k| k.enabled).unwrap_or(true),
            required: rk.and_then(|k| k.required).unwrap_or(false),
            access_exclusive_budget,
            sample_interval,
            tables,
        };
        let rd = raw.data.as_ref();
        let exact_below = rd
            .and_then(|d| d.exact_below.as_ref())
            .map(|e| *e.get_ref())
            .unwrap_or(1_000_000);
        if let Some(e) = rd.and_then(|d| d.exact_below.as_ref()) {
            if *e.get_ref() < 0 {
                self.push(
                    Problem::new("config::value", span(e), "`exact-below` cannot be negative")
                        .help("a row count, e.g. `exact-below = 1000000`"),
                );
            }
        }
        let data = DataCheck {
            enabled: rd.and_then(|d| d.enabled).unwrap_or(true),
            required: rd.and_then(|d| d.required).unwrap_or(false),
            exact_below,
            allow_loss: rd.and_then(|d| d.allow_loss.clone()).unwrap_or_default(),
        };
        let rr = raw.reversible.as_ref();
        let reversible = ReversibleCheck {
            enabled: rr.and_then(|r| r.enabled).unwrap_or(true),
            required: rr.and_then(|r| r.required).unwrap_or(false),
        };
        ChecksConfig {
            schema,
            lint,
            locks,
            data,
            reversible,
            integrity: raw.integrity.clone().unwrap_or_default(),
        }
    }

    fn stage(&mut self, name: &str, rs: &RawStage) -> Option<Stage> {
        let Some(kind) = &rs.kind else {
            let sp = self.key_at(&["stages", name]);
            self.push(
                Problem::new("config::stage", sp, format!("stage `{name}` has no `kind`"))
                    .help(diag::suggest("", "kinds", STAGE_KINDS)),
            );
            return None;
        };
        if !self.one_of(kind, STAGE_KINDS, "stage kind") {
            return None;
        }
        let timeout = self.timeout(
            &rs.timeout,
            &format!("stages.{name}.timeout"),
            DEFAULT_SHELL_TIMEOUT,
        );
        let env = self.env(&rs.env, &["stages", name, "env"]);
        let stage_kind = match kind.get_ref().as_str() {
            "shell" => {
                let Some(run) = &rs.run else {
                    self.push(
                        Problem::new(
                            "config::stage",
                            span(kind),
                            format!("shell stage `{name}` has no `run`"),
                        )
                        .help(
                            "add `run = \"…\"` (a shell command) or `run = [\"program\", \"arg\"]`",
                        ),
                    );
                    return None;
                };
                let run = self.command(run, Scope::Command, &format!("stages.{name}.run"));
                StageKind::Shell(ShellStage { run, env, timeout })
            }
            other => {
                if let Some(run) = &rs.run {
                    self.push(
                        Problem::new(
                            "config::stage",
                            span(run),
                            format!("`run` is only for shell stages, not `{other}`"),
                        )
                        .help("remove `run`, or set `kind = \"shell\"`"),
                    );
                }
                builtin_kind(other).expect("checked against STAGE_KINDS")
            }
        };
        let always = rs
            .always
            .unwrap_or(matches!(stage_kind, StageKind::DeleteDbBranch));
        Some(Stage {
            name: name.to_owned(),
            kind: stage_kind,
            always,
        })
    }

    fn pipeline(
        &mut self,
        name: &str,
        name_span: Option<Range<usize>>,
        rp: &RawPipeline,
        defs: &BTreeMap<String, Stage>,
        origin: &str,
    ) -> Pipeline {
        let mut stages = Vec::new();
        let whole = rp
            .stages
            .as_ref()
            .map(span)
            .or(name_span.clone())
            .unwrap_or(0..0);
        match &rp.stages {
            None => self.push(
                Problem::new("config::pipeline", whole.clone(), format!("pipeline `{name}` has no `stages`"))
                    .help("add `stages = [\"create-neon-database-branch\", \"migrate\", \"checks\", \"delete-neon-database-branch\"]`"),
            ),
            Some(list) => {
                for s in list.get_ref() {
                    let sname = s.get_ref();
                    if let Some(kind) = builtin_kind(sname) {
                        let always = matches!(kind, StageKind::DeleteDbBranch);
                        stages.push(Stage { name: sname.clone(), kind, always });
                    } else if let Some(stage) = defs.get(sname) {
                        stages.push(stage.clone());
                    } else {
                        let mut known: Vec<&str> = BUILTIN_STAGES.to_vec();
                        known.extend(defs.keys().map(String::as_str));
                        self.push(
                            Problem::new("config::unknown-stage", span(s), format!("unknown stage `{sname}` in pipeline `{name}`"))
                                .label("no stage has this name")
                                .help(diag::suggest(sname, "stages", &known)),
                        );
                    }
                }
            }
        }
        // Order rules: what needs a test Neon database branch comes after it is created,
        // and one that is created is also deleted.
        let pos = |k: fn(&StageKind) -> bool| stages.iter().position(|s| k(&s.kind));
        let create = pos(|k| matches!(k, StageKind::CreateDbBranch));
        let delete = pos(|k| matches!(k, StageKind::DeleteDbBranch));
        for (i, s) in stages.iter().enumerate() {
            if matches!(s.kind, StageKind::Migrate | StageKind::Checks)
                && create.is_none_or(|c| c > i)
            {
                self.push(
                    Problem::new("config::pipeline", whole.clone(), format!("in pipeline `{name}`, `{}` runs on a test Neon database branch, but none is created before it", s.name))
                        .help("put `create-neon-database-branch` before it"),
                );
            }
            if matches!(s.kind, StageKind::Migrate | StageKind::Checks)
                && delete.is_some_and(|d| d < i)
            {
                self.push(
                    Problem::new("config::pipeline", whole.clone(), format!("in pipeline `{name}`, `{}` comes after the test Neon database branch is deleted", s.name))
                        .help("move `delete-neon-database-branch` after it"),
                );
            }
        }
        if create.is_some() && delete.is_none() {
            self.push(
                Problem::new("config::pipeline", whole.clone(), format!("pipeline `{name}` creates a test Neon database branch but never deletes it"))
                    .help("add `delete-neon-database-branch` (it runs even when an earlier stage fails)"),
            );
        }
        // Production is touched only after the proof: migrate and checks must come first.
        if let Some(apply_at) = pos(|k| matches!(k, StageKind::Apply)) {
            let migrate = pos(|k| matches!(k, StageKind::Migrate));
            let checks = pos(|k| matches!(k, StageKind::Checks));
            if migrate.is_none_or(|m| m > apply_at) || checks.is_none_or(|c| c > apply_at) {
                self.push(
                    Problem::new("config::pipeline", whole.clone(), format!("in pipeline `{name}`, `apply` does not follow `migrate` and `checks`"))
                        .help("apply runs only after the migrations were proven on a test Neon database branch: put `create-neon-database-branch`, `migrate` and `checks` before it"),
                );
            }
        }
        Pipeline {
            name: name.to_owned(),
            description: rp.description.clone().unwrap_or_default(),
            stages,
            origin: origin.to_owned(),
        }
    }
}

fn builtin_kind(name: &str) -> Option<StageKind> {
    Some(match name {
        "create-neon-database-branch" => StageKind::CreateDbBranch,
        "migrate" => StageKind::Migrate,
        "checks" => StageKind::Checks,
        "delete-neon-database-branch" => StageKind::DeleteDbBranch,
        "apply" => StageKind::Apply,
        _ => return None,
    })
}

fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The span of the key at `path` in the document.
fn key_span(root: &toml_edit::Table, path: &[Seg]) -> Option<Range<usize>> {
    use toml_edit::{Item, TableLike, Value};
    enum Node<'a> {
        Table(&'a dyn TableLike),
        Item(&'a Item),
        Value(&'a Value),
    }
    let mut node = Node::Table(root as &dyn TableLike);
    let (last, parents) = path.split_last()?;
    for seg in parents {
        node = match (node, seg) {
            (Node::Table(t), Seg::Key(k)) => Node::Item(t.get_key_value(k)?.1),
            (Node::Item(Item::Table(t)), Seg::Key(k)) => Node::Item(t.get_key_value(k)?.1),
            (Node::Item(Item::Value(Value::InlineTable(t))), Seg::Key(k)) => {
                Node::Item(t.get_key_value(k)?.1)
            }
            (Node::Value(Value::InlineTable(t)), Seg::Key(k)) => Node::Item(t.get_key_value(k)?.1),
            (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => {
                Node::Table(a.get(*i)? as &dyn TableLike)
            }
            (Node::Item(Item::Value(Value::Array(a))), Seg::Index(i)) => Node::Value(a.get(*i)?),
            (Node::Value(Value::Array(a)), Seg::Index(i)) => Node::Value(a.get(*i)?),
            _ => return None,
        };
    }
    let Seg::Key(k) = last else { return None };
    let table: &dyn TableLike = match node {
        Node::Table(t) => t,
        Node::Item(i) => i.as_table_like()?,
        Node::Value(Value::InlineTable(t)) => t as &dyn TableLike,
        Node::Value(_) => return None,
    };
    table.get_key_value(k)?.0.span()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--config neon-migrate.toml` (no folder): the project folder is the current one, as an
    /// absolute path a tool can be started in, not the empty path.
    #[test]
    fn a_bare_config_file_name_has_the_current_folder_as_its_root() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(config_root(Path::new("neon-migrate.toml")), cwd);
        assert_eq!(
            config_root(Path::new("backend/neon-migrate.toml")),
            cwd.join("backend")
        );
        assert_eq!(
            config_root(Path::new("/repo/neon-migrate.toml")),
            Path::new("/repo")
        );
    }

    fn problems(text: &str) -> Vec<Problem> {
        match parse(FILE_NAME, text, Path::new("/repo")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems,
        }
    }

    #[test]
    fn the_example_documents_a_valid_config() {
        let text = include_str!("../../neon-migrate.toml.example");
        let config = parse("neon-migrate.toml.example", text, Path::new("/repo"))
            .unwrap_or_else(|e| panic!("{}", diag::render(&e, true)));
        assert_eq!(config.sql_checks.len(), 3);
        assert_eq!(config.pipelines["pre-push"].stages.len(), 5);
        assert_eq!(config.pipelines["pre-push"].origin, "project");
        assert_eq!(config.db_branch.ttl, DEFAULT_TTL);
        let ProviderConfig::Local(local) = &config.provider else {
            panic!("the example's provider is local")
        };
        assert_eq!(local.tool_role, ToolRole::CopyOwner);
    }

    #[test]
    fn tool_role_defaults_to_the_copy_owner_and_server_opts_out() {
        let local = |text: &str| match parse(FILE_NAME, text, Path::new("/repo")) {
            Ok(Config {
                provider: ProviderConfig::Local(l),
                ..
            }) => l,
            Ok(_) => panic!("not local"),
            Err(e) => panic!("{}", diag::render(&e, true)),
        };
        assert_eq!(local("").tool_role, ToolRole::CopyOwner);
        assert_eq!(
            local("[provider]\ntool-role = \"server\"\n").tool_role,
            ToolRole::Server
        );
        let p = problems("[provider]\ntool-role = \"superuser\"\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].message.contains("unknown tool role `superuser`"),
            "{p:?}"
        );
        let p = problems("[provider]\nkind = \"neon\"\ntool-role = \"server\"\n");
        assert!(
            p.iter().any(|p| p
                .message
                .contains("`tool-role` is a `local` provider setting")),
            "{p:?}"
        );
        // Without `url`, the main database is the repository's own; with one, the URL's.
        let main = local("").main_database.expect("a default main database");
        assert!(main.starts_with("main_repo_"), "{main}");
        assert_eq!(
            local("[provider]\nurl = \"{{env.DATABASE_URL}}\"\n").main_database,
            None
        );
    }

    #[test]
    fn the_example_mentions_every_key() {
        let text = include_str!("../../neon-migrate.toml.example");
        for path in [
            &[][..],
            &["neon-database-branch"],
            &["provider"],
            &["tool"],
            &["checks"],
            &["checks", "sql", "*"],
            &["apply"],
            &["checks", "schema"],
            &["checks", "lint"],
            &["checks", "locks"],
            &["checks", "data"],
            &["checks", "reversible"],
            &["stages", "*"],
            &["pipelines", "*"],
        ] {
            for key in raw::known_keys(path) {
                let documented = text.lines().any(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.starts_with(&format!("{key} ="))
                        || l.starts_with(&format!("[{key}"))
                        || l.starts_with(&format!("[[{key}"))
                        || l.contains(&format!(".{key}]"))
                        || l.contains(&format!("[{}.{key}", path.join(".")))
                });
                assert!(
                    documented,
                    "key `{key}` of {path:?} is not documented in neon-migrate.toml.example"
                );
            }
        }
    }

    #[test]
    fn presets_are_valid() {
        let config = parse(FILE_NAME, "", Path::new("/repo")).expect("defaults");
        for name in ["pre-push", "ci", "deploy"] {
            assert_eq!(config.pipelines[name].origin, "preset");
        }
        let deploy = &config.pipelines["deploy"];
        assert_eq!(deploy.stages.last().map(|s| s.name.as_str()), Some("apply"));
        assert!(deploy
            .stages
            .iter()
            .any(|s| s.always && matches!(s.kind, StageKind::DeleteDbBranch)));
    }

    #[test]
    fn reports_every_problem_at_once_with_positions() {
        let text = "[neon-database-branch]\nttl = \"4 hours\"\ncolor = 1\n\n[pipelines.x]\nstages = [\"create-neon-database-branch\", \"migrat\", \"delete-neon-database-branch\"]\n";
        let err = parse(FILE_NAME, text, Path::new("/repo")).unwrap_err();
        let lines = err.plain_lines();
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(
            lines[0].starts_with("neon-migrate.toml:2:7: malformed duration"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("neon-migrate.toml:3:1: unknown key `color`"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("neon-migrate.toml:6:42: unknown stage `migrat`"),
            "{}",
            lines[2]
        );
        assert!(lines[2].contains("did you mean `migrate`?"), "{}", lines[2]);
    }

    #[test]
    fn pipeline_order_rules() {
        let p =
            problems("[pipelines.x]\nstages = [\"migrate\", \"create-neon-database-branch\"]\n");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p
            .iter()
            .any(|p| p.message.contains("none is created before it")));
        assert!(p.iter().any(|p| p.message.contains("never deletes it")));
    }

    #[test]
    fn secrets_and_values_are_checked() {
        let p =
            problems("[provider]\nurl = \"postgres://u:hunter2@h/db\"\nbusy-parent = \"wait\"\n");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].message.contains("password"));
        assert!(p[1].help.as_deref().unwrap_or("").contains("`fail`"));
    }

    #[test]
    fn neon_provider_settings() {
        let text = "[provider]\nkind = \"neon\"\nproject-id = \"p-1\"\nparent = \"production\"\noperation-timeout = \"2m\"\n";
        let c = parse(FILE_NAME, text, Path::new("/repo"))
            .unwrap_or_else(|e| panic!("{:?}", e.plain_lines()));
        let ProviderConfig::Neon(n) = c.provider else {
            panic!("neon expected")
        };
        assert_eq!(n.project_id.as_deref(), Some("p-1"));
        assert_eq!(n.parent.as_deref(), Some("production"));
        assert_eq!(n.api_key_env, "NEON_API_KEY");
        assert_eq!(
            (n.database.as_str(), n.role.as_str()),
            ("neondb", "neondb_owner")
        );
        assert_eq!(n.operation_timeout, Duration::from_secs(120));

        let p = problems(
            "[provider]\nkind = \"neon\"\napi-key = \"napi_abc\"\nmain-database = \"x\"\n",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].message.contains("API key is written"),
            "{}",
            p[0].message
        );
        assert!(
            p[1].message
                .contains("`main-database` is a `local` provider setting"),
            "{}",
            p[1].message
        );
        let p = problems("[provider]\nproject-id = \"x\"\n");
        assert!(
            p[0].message
                .contains("`project-id` is a `neon` provider setting"),
            "{p:#?}"
        );
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let err = parse(
            FILE_NAME,
            "[neon-database-branch]\nttl = 4\n",
            Path::new("/repo"),
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.line_col(err.problems[0].span.start), (2, 7));
    }

    #[test]
    fn an_unknown_tool_needs_a_command_and_a_typo_gets_the_nearest_preset() {
        let p = problems("[tool]\nname = \"prisa\"\n");
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].message.contains("has no preset and no `command`"));
        assert!(
            p[0].help
                .as_deref()
                .unwrap_or("")
                .contains("did you mean `prisma`?"),
            "{p:#?}"
        );
        assert!(problems("[tool]\nname = \"acme\"\ncommand = \"acme migrate\"\n").is_empty());
    }

    #[test]
    fn a_preset_supplies_every_key_and_the_project_overrides_any() {
        let c = parse(FILE_NAME, "[tool]\nname = \"knex\"\n", Path::new("/repo")).unwrap();
        assert_eq!(
            c.tool.kind_command().map(|c| c.display()),
            Some("npx --no -- knex migrate:latest".into())
        );
        assert_eq!(
            c.tool.down_command.as_ref().map(CommandSpec::display),
            Some("npx --no -- knex migrate:down".into())
        );
        assert_eq!(c.tool.title.as_deref(), Some("Knex"));
        let text = "[tool]\nname = \"knex\"\ncommand = [\"npx\", \"knex\", \"migrate:latest\", \"--env\", \"production\"]\ntracking-query = \"select name from app.knex_migrations\"\n[tool.env]\nNODE_ENV = \"production\"\n";
        let c = parse(FILE_NAME, text, Path::new("/repo")).unwrap();
        assert_eq!(
            c.tool.kind_command().map(|c| c.display()),
            Some("npx knex migrate:latest --env production".into())
        );
        assert_eq!(c.tool.env, vec![("NODE_ENV".into(), "production".into())]);
        assert_eq!(
            c.tool.tracking.as_ref().map(|t| t.query.as_str()),
            Some("select name from app.knex_migrations")
        );
        // Keys the project did not give still come from the preset.
        assert!(c.tool.down_command.is_some());
        let p = problems("[tool]\nname = \"sql\"\ndown-command = \"x\"\nurl-format = \"odbc\"\n");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].message.contains("takes no `down-command`"));
        assert!(p[1].message.contains("unknown URL format `odbc`"));
    }

    #[test]
    fn every_tool_preset_is_valid_and_documents_only_known_keys() {
        for preset in crate::tools::presets::all() {
            // Unknown keys in a preset's [tool] (and its variants) would be silently ignored.
            let name = preset.name;
            let text = crate::tools::presets::PRESETS
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1;
            let doc: toml::Table = toml::from_str(text).unwrap();
            let mut tables: Vec<toml::Table> = Vec::new();
            if let Some(t) = doc.get("tool").and_then(|t| t.as_table()) {
                tables.push(t.clone());
            }
            for v in doc
                .get("variant")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let mut t = v.as_table().unwrap().clone();
                t.remove("when");
                tables.push(t);
            }
            for t in tables {
                let mut unknown = Vec::new();
                let text = toml::to_string(&t).unwrap();
                let _: raw::RawTool =
                    serde_ignored::deserialize(toml::Deserializer::new(&text), |p| {
                        unknown.push(p.to_string())
                    })
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(unknown.is_empty(), "{name}: unknown keys {unknown:?}");
            }
            let c = parse(
                FILE_NAME,
                &format!("[tool]\nname = \"{name}\"\n"),
                Path::new("/repo"),
            )
            .unwrap_or_else(|e| panic!("{name}: {:?}", e.plain_lines()));
            assert_eq!(c.tool.name, name);
            if name != "sql" {
                assert!(c.tool.tracking.is_some(), "{name} has no tracking-query");
                assert!(preset.detectable(), "{name} has no detection rules");
            }
        }
    }
}

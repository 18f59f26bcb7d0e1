//! The validated configuration: what the rest of neon-migrate reads, with its defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use enum_iterator::{all, Sequence};

use crate::schema::HazardKind;

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
            ProviderConfig::Local(_) => ProviderKind::Local.name(),
            ProviderConfig::Neon(_) => ProviderKind::Neon.name(),
        }
    }
}

/// `provider.kind`: which provider makes the test Neon database branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Sequence)]
pub enum ProviderKind {
    /// Databases on a PostgreSQL server (the embedded one by default).
    Local,
    /// Neon database branches through the Neon API.
    Neon,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Sequence)]
#[serde(rename_all = "kebab-case")]
pub enum ToolRole {
    /// A role of its own that owns the copy and nothing else (like Neon's `neondb_owner`).
    #[default]
    CopyOwner,
    /// The server URL's own role (on the embedded Postgres, its superuser).
    Server,
}

/// What to do when the parent database has other sessions (they block a template copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Sequence)]
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
    /// Exits non-zero when the ORM models differ from what the migrations produce, run on the
    /// migrated test Neon database branch (`model-check-command`).
    pub model_check_command: Option<CommandSpec>,
    /// The tool generates its migrations from ORM models (its preset says how); `None`: it
    /// has no models (the built-in `sql` tool, plain SQL tools, a tool without a preset).
    pub models: Option<crate::tools::presets::Models>,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Sequence)]
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

/// Settings of the schema, lint, locks, data, reversible and models checks.
#[derive(Debug, Clone)]
pub struct ChecksConfig {
    pub schema: SchemaCheck,
    pub lint: LintCheck,
    pub locks: LocksCheck,
    pub data: DataCheck,
    pub reversible: ReversibleCheck,
    pub workload: crate::checks::workload::WorkloadConfig,
    pub models: ModelsCheck,
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
            "workload" => self.workload.required,
            "models" => self.models.required,
            "integrity" => self.integrity.required,
            _ => false,
        }
    }

    /// Whether the check of this name runs.
    pub fn enabled(&self, check: &str) -> bool {
        match check {
            "schema" => self.schema.enabled,
            "lint" => self.lint.enabled,
            "locks" => self.locks.enabled,
            "data" => self.data.enabled,
            "reversible" => self.reversible.enabled,
            "workload" => self.workload.enabled,
            "models" => self.models.enabled,
            "integrity" => self.integrity.enabled,
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
    pub deny: Vec<HazardKind>,
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
    /// Longest SHARE, SHARE ROW EXCLUSIVE or EXCLUSIVE lock allowed (they block writes, not
    /// reads); by default four times `access_exclusive_budget`.
    pub write_lock_budget: Duration,
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

#[derive(Debug, Clone)]
pub struct ModelsCheck {
    pub enabled: bool,
    /// Fail when the models could not be compared with the migrations (default: shown as
    /// "not run").
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
        match self.builtin() {
            Some(b) => b.name(),
            None => StageKindName::Shell.name(),
        }
    }

    /// The built-in stage this is; `None` for a shell stage.
    pub fn builtin(&self) -> Option<BuiltinStage> {
        Some(match self {
            StageKind::CreateDbBranch => BuiltinStage::CreateDbBranch,
            StageKind::Migrate => BuiltinStage::Migrate,
            StageKind::Checks => BuiltinStage::Checks,
            StageKind::DeleteDbBranch => BuiltinStage::DeleteDbBranch,
            StageKind::Apply => BuiltinStage::Apply,
            StageKind::Shell(_) => return None,
        })
    }
}

/// The built-in stages: a pipeline names them directly, and they are also stage kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Sequence)]
pub enum BuiltinStage {
    CreateDbBranch,
    Migrate,
    Checks,
    DeleteDbBranch,
    Apply,
}

impl BuiltinStage {
    /// The stage kind it runs as.
    pub fn kind(self) -> StageKind {
        match self {
            BuiltinStage::CreateDbBranch => StageKind::CreateDbBranch,
            BuiltinStage::Migrate => StageKind::Migrate,
            BuiltinStage::Checks => StageKind::Checks,
            BuiltinStage::DeleteDbBranch => StageKind::DeleteDbBranch,
            BuiltinStage::Apply => StageKind::Apply,
        }
    }
}

/// The `kind` a `[stages.NAME]` table may have: a built-in stage, or `shell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Sequence)]
pub enum StageKindName {
    Builtin(BuiltinStage),
    Shell,
}

#[derive(Debug, Clone)]
pub struct ShellStage {
    pub run: CommandSpec,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

/// An enum written in `neon-migrate.toml` by name. The names accepted for it come from the
/// enum itself (every variant, in declaration order), so no list of names can drift from it.
pub trait ConfigName: Sequence + Copy + 'static {
    /// The name as written in the config.
    fn name(self) -> &'static str;

    /// Every accepted name, in the enum's order.
    fn names() -> Vec<&'static str> {
        all::<Self>().map(Self::name).collect()
    }

    /// The value written as `name`.
    fn from_name(name: &str) -> Option<Self> {
        all::<Self>().find(|v| v.name() == name)
    }
}

impl ConfigName for ProviderKind {
    fn name(self) -> &'static str {
        match self {
            ProviderKind::Local => "local",
            ProviderKind::Neon => "neon",
        }
    }
}

impl ConfigName for ToolRole {
    fn name(self) -> &'static str {
        match self {
            ToolRole::CopyOwner => "copy-owner",
            ToolRole::Server => "server",
        }
    }
}

impl ConfigName for BusyParent {
    fn name(self) -> &'static str {
        match self {
            BusyParent::Fail => "fail",
            BusyParent::GoldenTemplate => "golden-template",
        }
    }
}

impl ConfigName for UrlFormat {
    fn name(self) -> &'static str {
        match self {
            UrlFormat::Url => "url",
            UrlFormat::Sqlalchemy => "sqlalchemy",
            UrlFormat::Jdbc => "jdbc",
        }
    }
}

impl ConfigName for BuiltinStage {
    fn name(self) -> &'static str {
        match self {
            BuiltinStage::CreateDbBranch => "create-neon-database-branch",
            BuiltinStage::Migrate => "migrate",
            BuiltinStage::Checks => "checks",
            BuiltinStage::DeleteDbBranch => "delete-neon-database-branch",
            BuiltinStage::Apply => "apply",
        }
    }
}

impl ConfigName for StageKindName {
    fn name(self) -> &'static str {
        match self {
            StageKindName::Builtin(b) => b.name(),
            StageKindName::Shell => "shell",
        }
    }
}

/// Hazard kinds as written in `[checks.schema] deny` (their JSON names, tested).
impl ConfigName for HazardKind {
    fn name(self) -> &'static str {
        match self {
            HazardKind::AccessExclusiveLock => "access_exclusive_lock",
            HazardKind::ShareLock => "share_lock",
            HazardKind::ShareRowExclusiveLock => "share_row_exclusive_lock",
            HazardKind::TableRewrite => "table_rewrite",
            HazardKind::DeletesData => "deletes_data",
            HazardKind::IndexBuild => "index_build",
            HazardKind::IndexDropped => "index_dropped",
            HazardKind::AuthzUpdate => "authz_update",
            HazardKind::Correctness => "correctness",
            HazardKind::UntrackableDependencies => "untrackable_dependencies",
            HazardKind::Replication => "replication",
            HazardKind::BreaksWrites => "breaks_writes",
        }
    }
}

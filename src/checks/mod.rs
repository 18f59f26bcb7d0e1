//! The checks of the `checks` stage, one file each behind one trait, [`Check`]: shadowed
//! built-ins, declared SQL assertions, the schema diff (what the migration really changed),
//! zero-downtime lint, observed locks, data loss, every value changed (integrity), ORM models
//! without their migration, and
//! reversibility.
//!
//! The test Neon database branch holds a copy of production data, so several checks measure
//! instead of guessing: before the migration they record what they compare against (the
//! schema, row counts, physical files), while it runs they watch it (the locks it takes), and
//! afterwards they compare. Facts more than one check reads are kept in [`Observations`];
//! observed facts override static guesses — a `varchar` widening that rewrote nothing is not
//! reported as a rewrite. Every check runs, even after another failed, so one failure never
//! hides another. Each finding says what, where, why it matters for zero downtime, and how to
//! do it safely.

pub mod data;
pub mod integrity;
pub mod lint;
mod lint_names;
pub mod locks;
pub mod models;
mod narrowed;
mod outcome;
mod rebuilt;
mod renames;
pub mod reversible;
pub mod schema;
mod seq_limits;
pub mod shadowing;
pub mod sql;
mod tool_roles;
pub mod workload;

use tokio_postgres::Client;

use crate::config::Config;
use crate::schema::Model;
use crate::tools::ToolContext;

pub use outcome::{CheckResult, CheckStatus, Finding, Severity};

/// Every check the config enables, in the order they record and report. Adding a check is a
/// file implementing [`Check`] and one line here.
pub fn enabled(config: &Config) -> Vec<Box<dyn Check>> {
    [
        boxed(shadowing::Shadowing::new(config)),
        boxed(sql::Assertions::new(config)),
        boxed(schema::SchemaDiff::new(config)),
        boxed(lint::Lint::new(config)),
        boxed(locks::Locks::new(config)),
        boxed(data::RowCounts::new(config)),
        boxed(workload::Workload::new(config)),
        boxed(models::Models::new(config)),
        boxed(integrity::Integrity::new(config)),
        // Last: it runs the migrations down and up again.
        boxed(reversible::Reversible::new(config)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn boxed<C: Check + 'static>(check: Option<C>) -> Option<Box<dyn Check>> {
    check.map(|c| Box::new(c) as Box<dyn Check>)
}

/// One check of the `checks` stage.
///
/// A check is built once per run by [`enabled`] (its `new(config)` returns `None` when the
/// config disables it) and lives in the run context from stage to stage, so it can keep what
/// it recorded in its own fields. Its life has four hooks, each with a default that does
/// nothing but [`evaluate`](Check::evaluate):
///
/// 1. **[`record_before`](Check::record_before)** — in the `migrate` stage, on the test Neon
///    database branch while it is still the parent's copy, before the tool starts (and only
///    when the pipeline has a `checks` stage). Record what `evaluate` compares against: in
///    `self` when only this check reads it (row counts; an `integrity` check's per-row
///    fingerprints, written to a scratch schema), in [`Observations`] when other checks or
///    stages read it too. An error stops the run before the tool starts: a check whose
///    baseline is missing would pass by being skipped.
/// 2. **[`start`](Check::start)** — right after every check recorded, the instant before the
///    tool starts: start what must run beside the migration, on its own connections (the
///    lock sampler; a `workload` check's baseline window, then its load generator and the
///    long transaction it holds open). The shared reading connection is closed by then.
/// 3. **[`stop`](Check::stop)** — as soon as the tool exits, passed or failed: join what
///    `start` started and keep what it saw. An error (the sampler died mid-run) fails the
///    `migrate` stage once the tool itself passed: what the check watches was not watched.
///    These hooks run on the test Neon database branch only — `apply` never calls them.
/// 4. **[`evaluate`](Check::evaluate)** — in the `checks` stage, once the tool ran: compare,
///    and conclude in one [`CheckResult`] (`None`: nothing worth a line, as `shadowing` when
///    nothing shadows a built-in). A check that cannot conclude returns
///    [`CheckResult::not_run`] (nothing was recorded, the tool has no print-SQL mode, …) or
///    [`CheckResult::failed`]; it never passes by default.
///
/// Before the hooks, `migrate` records the shared facts an enabled check [`needs`](Check::needs)
/// (the schema before; the tool's print-SQL output, after the `record_before`s). When one
/// `start` fails, `stop` is called on the checks before it (with nothing started, `stop` does
/// nothing). The `checks` stage evaluates in registration order, with one reading connection
/// shared by the checks that only read ([`Access::Reads`]); a check that changes the database
/// ([`Access::ChangesDatabase`]) is evaluated after that connection is closed.
///
/// # Adding a check
///
/// A file under `src/checks/` with a type, its `new(config) -> Option<Self>`, this trait, and
/// one line in [`enabled`]. Two checks show the hooks at work:
///
/// - **`workload`** (runs a load generator while the tool runs, [`workload`]): `needs` the
///   pending SQL (the tables the migration touches); `record_before` reads the built-in
///   tool's pending files; `start` (which sees the print-SQL output in [`Observations`])
///   picks its queries, measures the baseline window, opens the long transaction and starts
///   the generator on a pool of its own; `stop` joins them and keeps the report in `self`;
///   `evaluate` compares during with baseline — it reads no database.
/// - **`integrity`** (per-row fingerprints): `record_before` writes the fingerprints to its
///   scratch schema over [`Recording::client`]; `evaluate` joins them with the migrated rows
///   over [`Evaluation::reader`].
#[async_trait::async_trait]
pub trait Check: Send + Sync {
    /// The check's name: its table under `[checks]`, and `name` of its result in every output.
    fn name(&self) -> &'static str;

    /// The shared facts it reads, which the stages record only when an enabled check needs
    /// them.
    fn needs(&self) -> Needs {
        Needs::default()
    }

    /// What `evaluate` does to the test Neon database branch.
    fn access(&self) -> Access {
        Access::Reads
    }

    /// Before the migration: record what `evaluate` compares against (see the trait's docs).
    async fn record_before(
        &mut self,
        _cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        Ok(())
    }

    /// The instant before the tool starts: start what runs beside the migration.
    /// `obs` holds the shared facts recorded by then (the SQL of the pending migrations).
    async fn start(
        &mut self,
        _cx: &ToolContext<'_>,
        _obs: &Observations,
    ) -> Result<(), RecordError> {
        Ok(())
    }

    /// As soon as the tool exits: stop what [`start`](Check::start) started and keep what it
    /// saw, here or in `obs`.
    async fn stop(&mut self, _obs: &mut Observations) -> Result<(), RecordError> {
        Ok(())
    }

    /// After the migration: the verdict.
    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult>;
}

/// Shared facts a check reads, recorded by the stages for every check that needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The schema before the migration ([`Observations::before`], by `migrate`) and after it
    /// ([`Evaluation::after`], by `checks`).
    pub schema: bool,
    /// The SQL of the pending migrations, from the tool's print-SQL mode, before the tool ran
    /// ([`Observations::pending_sql`]).
    pub pending_sql: bool,
    /// The parent (main) Neon database branch's connection URI, for reading only
    /// ([`Recording::parent_url`]; the `neon` provider's, asked of the provider).
    pub parent_url: bool,
}

impl Needs {
    /// The schema before and after.
    pub const SCHEMA: Needs = Needs {
        schema: true,
        pending_sql: false,
        parent_url: false,
    };
    /// The SQL of the pending migrations.
    pub const PENDING_SQL: Needs = Needs {
        schema: false,
        pending_sql: true,
        parent_url: false,
    };
}

/// What a check's `evaluate` does to the test Neon database branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It only reads, over the shared connection ([`Evaluation::client`]).
    Reads,
    /// It changes the database (runs migrations down and up again), over connections of its
    /// own or the tool's; the shared connection is closed first so the tool's sessions can be
    /// told apart.
    ChangesDatabase,
}

/// What `record_before` sees: the tool as it runs on the test Neon database branch, and a
/// reading connection to it.
pub struct Recording<'a> {
    /// The tool's context on the test Neon database branch: config, target (its URL is a
    /// secret), template variables, redactor — enough to run the tool's other commands.
    pub tool: &'a ToolContext<'a>,
    /// A connection for reading (its `search_path` is pinned, see
    /// [`crate::pg::connect_observer`]), closed before the tool starts.
    pub client: &'a Client,
    /// The main Neon database branch's connection URI when a check [`Needs::parent_url`] (or
    /// why the provider could not give it); `None` otherwise.
    pub parent_url: Option<&'a ParentUrl>,
}

/// The main Neon database branch's connection URI, or why the provider could not give it.
pub type ParentUrl = Result<crate::secret::Secret<String>, ParentUrlUnavailable>;

/// Why the provider could not give the main Neon database branch's connection URI.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ParentUrlUnavailable(pub String);

impl Recording<'_> {
    pub fn config(&self) -> &Config {
        self.tool.config
    }
    /// "cannot record {what} on {the test Neon database branch}: {source}".
    pub fn unrecorded(
        &self,
        what: &'static str,
        source: impl Into<crate::tools::BoxError>,
    ) -> RecordError {
        RecordError::Before {
            what,
            target: self.tool.target.name.clone(),
            source: source.into(),
        }
    }
}

/// What `evaluate` sees.
pub struct Evaluation<'a> {
    /// The tool's context on the test Neon database branch (see [`Recording::tool`]).
    pub tool: &'a ToolContext<'a>,
    /// What the `migrate` stage and the checks recorded.
    pub obs: &'a Observations,
    /// The schema after the migration, when a check [`needs`](Check::needs) it and the schema
    /// before was recorded.
    pub after: Option<&'a Model>,
    /// The shared reading connection; `None` for a check that changes the database (see
    /// [`Evaluation::reader`]).
    pub client: Option<&'a Client>,
}

impl Evaluation<'_> {
    pub fn config(&self) -> &Config {
        self.tool.config
    }
    /// The shared reading connection, for a check that [`Access::Reads`]; a check that changes
    /// the database has none.
    pub fn reader(&self) -> Result<&Client, NoReader> {
        self.client.ok_or(NoReader)
    }
}

/// A check that changes the database asked for the shared reading connection.
#[derive(Debug, thiserror::Error)]
#[error("no reading connection: a check that changes the database cannot read over the shared one")]
pub struct NoReader;

/// Why a check could not record what it needs around the migration. The `migrate` stage fails
/// with it (exit code [`exit_code`](RecordError::exit_code)): the checks would prove nothing.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Before the migration.
    #[error("cannot record {what} on {target}: {source}")]
    Before {
        what: &'static str,
        target: String,
        #[source]
        source: crate::tools::BoxError,
    },
    /// While it ran: what `start` started stopped early.
    #[error("{what} stopped while the migration ran: {source}")]
    During {
        what: &'static str,
        #[source]
        source: crate::tools::BoxError,
    },
}

impl RecordError {
    /// The database stopped answering: a provider failure, not the migration's.
    pub fn exit_code(&self) -> i32 {
        crate::exit::PROVIDER
    }
}

impl miette::Diagnostic for RecordError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self {
            RecordError::Before { .. } => "neon_migrate::checks::unrecorded",
            RecordError::During { .. } => "neon_migrate::checks::stopped",
        }))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(
            "the test Neon database branch must stay readable for the whole run: \
             check that its Postgres server (or Neon compute) is up, then run again",
        ))
    }
}

/// A query a check runs failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// It could not connect.
    #[error(transparent)]
    Connect(#[from] crate::pg::PgError),
    /// The query failed.
    #[error("{}", crate::pg::describe(.0))]
    Query(#[from] tokio_postgres::Error),
}

/// What the `migrate` stage recorded, for more than one check (and `apply`).
#[derive(Debug, Default)]
pub struct Observations {
    /// Schema of the test Neon database branch before the migration (= the parent's), when a
    /// check [`needs`](Check::needs) it; `apply` compares main with it.
    pub before: Option<Model>,
    /// What the tool's print-SQL mode printed before the migration ran (the SQL of the
    /// pending migrations), or why it could not be had; `None` when not asked for (no check
    /// needs it, the built-in `sql` tool, a tool without a print-SQL mode).
    pub pending_sql: Option<Result<String, crate::tools::ToolError>>,
    /// Locks, rewrites and statement durations seen while the migration ran.
    pub locks: Option<locks::LockReport>,
    /// Migrations applied in this run, in order.
    pub applied: Vec<String>,
    /// The tool's tracking rows before the migration (what `reversible` goes back to).
    pub tracked_before: Option<Vec<String>>,
    /// Schema of the test Neon database branch after the migration, read before any check
    /// changed it (`None`: no check read it); `apply` holds main to it afterwards.
    pub after: Option<Model>,
}

impl Observations {
    /// `Some(true)` if the table was observed to be rewritten, `Some(false)` if observed not
    /// to be, `None` when nothing was observed.
    pub fn rewritten(&self, table: &str) -> Option<bool> {
        self.locks.as_ref().map(|l| l.rewrites.contains(table))
    }
}

/// The table an `ALTER TABLE x …` / `CREATE INDEX … ON x` statement is about.
pub fn table_of(sql: &str) -> Option<String> {
    let s = sql.trim_start();
    let after = if let Some(rest) = s.strip_prefix("ALTER TABLE ") {
        rest.strip_prefix("ONLY ").unwrap_or(rest)
    } else if s.starts_with("CREATE") && s.contains(" INDEX ") {
        s.split(" ON ")
            .nth(1)
            .map(|r| r.strip_prefix("ONLY ").unwrap_or(r))?
    } else {
        return None;
    };
    after
        .split_whitespace()
        .next()
        .map(|t| t.trim_end_matches(';').to_owned())
}

/// Lock modes, weakest first.
pub const LOCK_MODES: &[&str] = &[
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// "ACCESS EXCLUSIVE" for "AccessExclusiveLock".
pub fn lock_name(mode: &str) -> String {
    let bare = mode.trim_end_matches("Lock");
    let mut out = String::new();
    for (i, c) in bare.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Tables named in `allow` lists may be written with or without `public.`.
pub fn table_listed(list: &[String], table: &str) -> bool {
    let bare = table.strip_prefix("public.").unwrap_or(table);
    list.iter()
        .any(|t| t == table || t == bare || t.trim_matches('"') == bare.trim_matches('"'))
}

/// Deduplicated, ordered set of strings (for details).
pub fn set<I: IntoIterator<Item = String>>(it: I) -> std::collections::BTreeSet<String> {
    it.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_checks_run_in_the_order_they_report() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = |toml: &str| -> Vec<&'static str> {
            let config = crate::config::parse(crate::config::FILE_NAME, toml, dir.path())
                .unwrap_or_else(|e| panic!("{toml}: {e}"));
            enabled(&config).iter().map(|c| c.name()).collect()
        };
        assert_eq!(
            names("[[checks.sql]]\nname = \"one\"\nquery = \"select true\"\n"),
            [
                "shadowing",
                "sql",
                "schema",
                "lint",
                "locks",
                "data",
                "reversible"
            ]
        );
        assert_eq!(
            names("[checks.lint]\nenabled = false\n[checks.data]\nenabled = false\n"),
            ["shadowing", "schema", "locks", "reversible"]
        );
    }

    #[test]
    fn tables_of_statements() {
        assert_eq!(
            table_of("ALTER TABLE public.t ADD COLUMN x int").as_deref(),
            Some("public.t")
        );
        assert_eq!(
            table_of("CREATE INDEX CONCURRENTLY i ON public.t USING btree (x)").as_deref(),
            Some("public.t")
        );
        assert_eq!(
            table_of("CREATE INDEX i ON ONLY public.p USING btree (x)").as_deref(),
            Some("public.p")
        );
        assert_eq!(table_of("DROP TABLE public.t"), None);
    }

    #[test]
    fn lock_names_read_like_the_docs() {
        assert_eq!(lock_name("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(lock_name("ShareLock"), "SHARE");
        assert_eq!(lock_name("ShareRowExclusiveLock"), "SHARE ROW EXCLUSIVE");
    }
}

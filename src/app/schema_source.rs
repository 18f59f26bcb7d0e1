//! Schemas from where the user says they are: a `postgres://` URL, `main`, a `.sql` file
//! (loaded into a scratch database), or a Neon database branch name. `diff` and `generate`
//! read both their sides through here.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::config::{self, Config};
use crate::git::GitInfo;
use crate::pg::{self, PgError};
use crate::providers::local::{local_db_name, LocalProvider};
use crate::providers::{CreateRequest, ProviderError};
use crate::schema::{self, Model};
use crate::secret::{Redactor, Secret};

use super::run::open_provider;
use super::setup::empty_git;

/// Why a schema could not be read. The texts may hold a server's address: redact them.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `provider.url` did not render.
    #[error("{0}")]
    Template(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Postgres(#[from] PgError),
    #[error(transparent)]
    Tool(#[from] crate::tools::ToolError),
    #[error("{}", pg::describe(.0))]
    Statement(#[from] tokio_postgres::Error),
    #[error("{} does not load: {}", file.display(), pg::describe(source))]
    DoesNotLoad {
        file: PathBuf,
        source: tokio_postgres::Error,
    },
    #[error("no Neon database branch (database) named `{0}`: use a URL, `main`, a .sql file, or an existing Neon database branch")]
    NoSuchDbBranch(String),
    #[error("`{0}`: naming a Neon database branch other than `main` is not supported with the neon provider yet; pass its connection URL")]
    NeonDbBranchByName(String),
    /// The `.sql` file did something its unprivileged loader may not do.
    #[error("{} does not load: {}\n  {help}", file.display(), pg::describe(source))]
    NotAllowed {
        file: PathBuf,
        source: tokio_postgres::Error,
        help: String,
    },
}

/// A scratch database on the embedded (or configured local) server, dropped on `finish`.
pub struct Scratch {
    provider: LocalProvider,
    name: String,
}

/// `provider.url` rendered, for a local provider opened outside a run.
fn local_url(l: &config::LocalConfig) -> Result<Option<String>, SourceError> {
    l.url
        .as_ref()
        .map(|t| {
            crate::template::render(t, &crate::engine::base_vars(&empty_git(), ""))
                .map_err(|e| SourceError::Template(e.to_string()))
        })
        .transpose()
}

impl Scratch {
    /// A new empty scratch database on the embedded (or configured local) server, and the
    /// URL of the role that owns it and nothing else. Its name is unique to this process
    /// and call.
    pub async fn empty(
        config: &Config,
        redactor: &Redactor,
    ) -> Result<(Scratch, Secret<String>), SourceError> {
        let local = match &config.provider {
            config::ProviderConfig::Local(l) => l.clone(),
            // A Neon project has no scratch server of ours: use the embedded one.
            config::ProviderConfig::Neon(_) => config::LocalConfig {
                url: None,
                main_database: Some(crate::providers::local::role::default_main_database(
                    &config.root,
                )),
                data_dir: None,
                busy_parent: config::BusyParent::Fail,
                tool_role: config::ToolRole::default(),
            },
        };
        let url = local_url(&local)?;
        let provider = LocalProvider::open(&local, url, redactor).await?;
        // Both sides of one `diff` may be files, loaded at once: the same microsecond gave
        // them one name (a duplicate-key failure in CI). A counter of this process tells them
        // apart.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = local_db_name(&format!(
            "neon_migrate_scratch_{}_{}_{}",
            std::process::id(),
            Utc::now().timestamp_micros(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        // The file is repository content and runs as SQL: it is loaded by a role that owns
        // the scratch database and nothing else (see `LocalProvider::create_scratch`).
        let load_url = provider.create_scratch(&name).await?;
        redactor.add_url(load_url.expose());
        Ok((Scratch { provider, name }, load_url))
    }

    /// Loads the SQL file `file` into a new scratch database and introspects it.
    pub async fn load_sql(
        config: &Config,
        file: &Path,
        redactor: &Redactor,
    ) -> Result<(Scratch, Model), SourceError> {
        let sql = std::fs::read_to_string(file).map_err(|source| SourceError::Read {
            path: file.to_owned(),
            source,
        })?;
        let (scratch, load_url) = Scratch::empty(config, redactor).await?;
        let client = match pg::connect(&load_url).await {
            Ok(c) => c,
            Err(e) => {
                scratch.finish().await;
                return Err(e.into());
            }
        };
        if let Err((source, line)) = run_like_psql(&client, &without_restrict(&sql)).await {
            scratch.finish().await;
            let file = at_line(file, line);
            return Err(
                match refusal_help(&source).or_else(|| meta_command_help(&source, &sql)) {
                    Some(help) => SourceError::NotAllowed { file, source, help },
                    None => SourceError::DoesNotLoad { file, source },
                },
            );
        }
        // The scratch database is not the file's: its comment, owner and privileges say
        // nothing (a schema dump leaves the database's out).
        let model = schema::introspect(&client, &schema::default_excluded())
            .await
            .map(|mut m| {
                without_database(&mut m);
                m
            });
        drop(client);
        match model {
            Ok(m) => Ok((scratch, m)),
            Err(e) => {
                scratch.finish().await;
                Err(e.into())
            }
        }
    }

    /// Drops the scratch database and its roles.
    pub async fn finish(self) {
        self.provider.drop_scratch(&self.name).await;
    }
}

/// Runs a schema file as `psql -f` (what every migration runner does) would. Sent whole, a
/// file runs as one implicit transaction, which a `BEGIN … ROLLBACK` in it turns into an
/// explicit one: everything before the `ROLLBACK` was silently thrown away, and a `SET
/// LOCAL` held for the rest of the file. So a file with any transaction control runs
/// statement by statement, each its own transaction, as psql runs it; any other file goes
/// whole (one round trip). The error comes with the line of the statement that failed.
async fn run_like_psql(
    client: &tokio_postgres::Client,
    sql: &str,
) -> Result<(), (tokio_postgres::Error, Option<usize>)> {
    let statements = crate::tools::split::split(sql);
    if !statements.iter().any(|s| controls_transaction(&s.sql)) {
        return client.batch_execute(sql).await.map_err(|e| (e, None));
    }
    // One commit per statement: not one flush per statement too.
    client
        .batch_execute("SET synchronous_commit = off")
        .await
        .map_err(|e| (e, None))?;
    for s in &statements {
        client
            .batch_execute(&s.sql)
            .await
            .map_err(|e| (e, Some(s.line)))?;
    }
    Ok(())
}

/// Whether `statement` begins or ends a transaction, or sets something only for the
/// transaction it runs in (which psql, running it alone, leaves without effect).
fn controls_transaction(statement: &str) -> bool {
    let words = crate::tools::split::leading_words(statement, 2);
    let first = words.first().map(String::as_str).unwrap_or_default();
    let second = words.get(1).map(String::as_str).unwrap_or_default();
    match first {
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" => {
            true
        }
        "PREPARE" => second == "TRANSACTION",
        "SET" => matches!(second, "LOCAL" | "TRANSACTION" | "CONSTRAINTS"),
        _ => false,
    }
}

/// `file`, or `file:line` when the failing statement's line is known.
fn at_line(file: &Path, line: Option<usize>) -> PathBuf {
    match line {
        Some(n) => PathBuf::from(format!("{}:{n}", file.display())),
        None => file.to_owned(),
    }
}

/// What to do about a `.sql` file the server refused for want of privilege: it is loaded by
/// a role that owns only its scratch database. `None` for any other error.
/// A dump of pg_dump 18, 17.6, 16.10, 15.14 or 14.19 (and later) opens with `\restrict KEY` and
/// ends with `\unrestrict KEY`: psql meta-commands that keep a hostile server from smuggling in
/// others. The file runs here as SQL, not through psql, so those two lines become blank ones
/// (line numbers in errors stay right). Only a whole line of exactly that form goes.
fn without_restrict(sql: &str) -> std::borrow::Cow<'_, str> {
    let is_restrict = |line: &str| {
        let mut words = line.trim_end_matches('\r').split(' ');
        matches!(words.next(), Some("\\restrict" | "\\unrestrict"))
            && words
                .next()
                .is_some_and(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()))
            && words.next().is_none()
    };
    if !sql.lines().any(is_restrict) {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len());
    for line in sql.split_inclusive('\n') {
        if is_restrict(line.trim_end_matches('\n')) {
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    out.into()
}

/// A syntax error in a file with a line that starts with a backslash: most likely a psql
/// meta-command (`\connect`, `\set`, …), which Postgres itself does not understand.
fn meta_command_help(e: &tokio_postgres::Error, sql: &str) -> Option<String> {
    if e.as_db_error()?.code() != &tokio_postgres::error::SqlState::SYNTAX_ERROR {
        return None;
    }
    let (n, line) = sql
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with('\\') && !l.starts_with("\\."))?;
    // The file's own text: no control or direction marks reach the terminal.
    let command: String = line
        .split_whitespace()
        .next()
        .unwrap_or(line)
        .chars()
        .filter(|c| !schema::unprintable(*c))
        .take(40)
        .collect();
    Some(format!(
        "help: line {} is the psql meta-command `{}`: a .sql schema runs as SQL on the server, \
         not through psql, so remove the line (pg_dump's `\\restrict`/`\\unrestrict` lines are \
         skipped for you)",
        n + 1,
        command
    ))
}

fn refusal_help(e: &tokio_postgres::Error) -> Option<String> {
    let db = e.as_db_error()?;
    if db.code() != &tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE {
        return None;
    }
    let why = "a .sql schema is loaded by a role that owns its scratch database and nothing else \
               (not a superuser; it cannot read server files, run programs or reach other \
               databases), because the file runs as SQL on a server other projects share";
    let opt_out = "or set `tool-role = \"server\"` under [provider] to load it as the server's \
                   own role (then the file can reach every database and file of the server)";
    let message = db.message();
    let quoted = message.split('"').nth(1).filter(|_| message.contains('"'));
    let what = if message.contains("create extension") {
        let ext = quoted.unwrap_or("?");
        format!(
            "extension `{ext}` is not a trusted extension, so only a superuser can create it \
             (trusted ones, such as pgcrypto, citext, hstore or uuid-ossp, load): compare \
             against a database that has it (`--to <URL>`, or a Neon database branch), {opt_out}"
        )
    } else if message.contains("create role") {
        "roles are server-wide, so a schema file cannot create them: create the role on the \
         server first and drop `CREATE ROLE` from the file (its GRANTs to existing roles load), "
            .to_owned()
            + opt_out
    } else {
        format!(
            "the file needs a privilege its loader does not have; remove that statement, {opt_out}"
        )
    };
    Some(format!("help: {why}; {what}"))
}

/// Introspects a source: a URL, `main`, a `.sql` file, or a Neon database branch name. A
/// `.sql` file leaves a scratch database for the caller to [`Scratch::finish`].
pub async fn load(
    source: &str,
    config: &Config,
    redactor: &Redactor,
) -> Result<(Model, Option<Scratch>), SourceError> {
    if source.ends_with(".sql") {
        let path = config.root.join(source);
        let path = if Path::new(source).is_absolute() {
            PathBuf::from(source)
        } else if path.exists() {
            path
        } else {
            PathBuf::from(source)
        };
        let (s, m) = Scratch::load_sql(config, &path, redactor).await?;
        return Ok((m, Some(s)));
    }
    let is_url = source.starts_with("postgres://") || source.starts_with("postgresql://");
    let url = if is_url {
        redactor.add_url(source);
        Secret::new(source.to_owned())
    } else {
        db_branch_url(source, config, redactor).await?
    };
    let client = pg::connect(&url).await?;
    let mut model = schema::introspect(&client, &schema::default_excluded()).await?;
    if !is_url {
        // A Neon database branch of the local provider (or Neon's emulator) is a database
        // made by `CREATE DATABASE … TEMPLATE`: the database's own privileges, owner and
        // comment (the provider's metadata) are not main's.
        without_database(&mut model);
    }
    Ok((model, None))
}

/// Leaves out the catalog net's row of the database itself: a side without it is not
/// compared (see [`schema::catalog::DATABASE`]).
fn without_database(m: &mut Model) {
    if let Some(c) = m.catalog.as_mut() {
        c.retain(|id, _| id.kind != schema::catalog::DATABASE);
    }
}

/// The URL of a source that is a database (a URL, `main`, a Neon database branch name);
/// `None` for a `.sql` file.
pub async fn database_url(
    source: &str,
    config: &Config,
    redactor: &Redactor,
) -> Result<Option<Secret<String>>, SourceError> {
    if source.ends_with(".sql") {
        return Ok(None);
    }
    if source.starts_with("postgres://") || source.starts_with("postgresql://") {
        redactor.add_url(source);
        return Ok(Some(Secret::new(source.to_owned())));
    }
    db_branch_url(source, config, redactor).await.map(Some)
}

/// The URL of `main` or of the Neon database branch named `source`.
async fn db_branch_url(
    source: &str,
    config: &Config,
    redactor: &Redactor,
) -> Result<Secret<String>, SourceError> {
    let provider = open_provider(config, redactor).await?;
    if source == "main" {
        return Ok(provider.main_db_branch().await?.url);
    }
    match &config.provider {
        config::ProviderConfig::Local(l) => {
            let url = local_url(l)?;
            let local = LocalProvider::open(l, url, redactor).await?;
            let db = local_db_name(source);
            let admin = local.admin().await?;
            let exists = admin
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&db])
                .await?
                .is_some();
            if !exists {
                return Err(SourceError::NoSuchDbBranch(source.to_owned()));
            }
            Ok(local.url_of(&db))
        }
        config::ProviderConfig::Neon(_) => Err(SourceError::NeonDbBranchByName(source.to_owned())),
    }
}

/// The main Neon database branch plus the built-in `sql` tool's pending migrations in
/// `migrations_dir`, introspected on a test Neon database branch (main itself is never
/// touched). The caller reads its rows, then deletes it with [`PendingCopy::finish`]; on an
/// error it is deleted before this returns.
pub async fn with_pending_migrations(
    config: &Config,
    git: &GitInfo,
    migrations_dir: &Path,
    redactor: &Redactor,
) -> Result<(PendingCopy, Model), SourceError> {
    let provider = open_provider(config, redactor).await?;
    let req = CreateRequest {
        name: crate::naming::sanitize(
            &format!("migrate/generate-{}", git.short_sha()),
            crate::naming::MAX_LEN,
        ),
        ttl: std::time::Duration::from_secs(3600),
        git_branch: git.branch.clone(),
        git_sha: git.sha.clone(),
        pipeline: "generate".into(),
        run_id: crate::providers::new_run_id(),
    };
    let branch = provider.create(&req).await?;
    redactor.add_url(branch.url.expose());
    let result: Result<(tokio_postgres::Client, Model), SourceError> = async {
        use crate::tools::Tool;
        let tool = crate::tools::sql::SqlTool::new(migrations_dir.to_owned());
        let vars = crate::template::Vars::default();
        let target = crate::tools::Target {
            name: format!("test Neon database branch {}", branch.name),
            url: branch.url.clone(),
        };
        // No migrations folder yet (the first `generate` of a project): nothing is pending.
        if migrations_dir.exists() {
            tool.apply(&crate::tools::ToolContext {
                timeouts: None,
                connection_check: None,
                on_main: false,
                config,
                redactor,
                vars: &vars,
                target,
            })
            .await?;
        }
        let client = pg::connect(&branch.url).await?;
        let model = schema::introspect(&client, &schema::default_excluded()).await?;
        Ok((client, model))
    }
    .await;
    match result {
        Ok((client, model)) => Ok((
            PendingCopy {
                provider,
                id: branch.id,
                client,
            },
            model,
        )),
        Err(e) => {
            let _ = provider.delete(&branch.id).await;
            Err(e)
        }
    }
}

/// The test Neon database branch [`with_pending_migrations`] loaded: the main Neon database
/// branch's rows under the pending migrations, readable over `client` until [`finish`]
/// deletes it.
///
/// [`finish`]: PendingCopy::finish
pub struct PendingCopy {
    provider: Box<dyn crate::providers::Provider>,
    id: String,
    pub client: tokio_postgres::Client,
}

impl PendingCopy {
    /// Deletes the test Neon database branch.
    pub async fn finish(self) {
        drop(self.client);
        let _ = self.provider.delete(&self.id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::without_restrict;

    #[test]
    fn pg_dumps_restrict_lines_become_blank_and_nothing_else_changes() {
        let dump = "--\n\\restrict AbC123\n\nCREATE TABLE t (x text DEFAULT '\\restrict a');\r\n\\unrestrict AbC123\r\n";
        assert_eq!(
            without_restrict(dump),
            "--\n\n\nCREATE TABLE t (x text DEFAULT '\\restrict a');\r\n\n"
        );
        for kept in [
            "\\restrict",
            "\\restrict a b",
            "\\restrict a;drop",
            "x \\restrict a",
        ] {
            assert_eq!(
                without_restrict(kept),
                kept,
                "{kept:?} is not pg_dump's line"
            );
        }
    }
}

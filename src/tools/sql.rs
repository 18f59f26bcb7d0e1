//! The built-in `sql` tool: `migrations/*.sql` applied in version order, recorded in a
//! tracking table with checksum and duration.
//!
//! Files are sent to the server whole (one simple-query message), so `$$` bodies and any
//! other syntax work exactly as in psql. Each file runs in one transaction unless its
//! leading comments say `-- neon-migrate: no-transaction` (needed for `CREATE INDEX
//! CONCURRENTLY`); only then is it split into statements, by a real lexer. A file whose
//! content changed after it was applied is an error: history is not rewritten silently.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::pg;
use crate::secret::Redactor;
use crate::tools::split;
use crate::tools::{Tool, ToolContext, ToolError, ToolRun};

/// Schema and table of the tracking table.
pub const TRACKING_SCHEMA: &str = "neon_migrate";
pub const TRACKING_TABLE: &str = "schema_migrations";
/// Directive that makes a file run outside a transaction.
pub const NO_TRANSACTION: &str = "neon-migrate: no-transaction";
/// Advisory lock key serializing runs of the `sql` tool on one database ("nmsql").
const LOCK_KEY: i64 = 0x6e6d_7371_6c00;

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: String,
    pub file: String,
    pub path: PathBuf,
    pub sql: String,
    pub checksum: String,
    pub transactional: bool,
}

pub struct SqlTool {
    dir: PathBuf,
}

impl SqlTool {
    pub fn new(dir: PathBuf) -> Self {
        SqlTool { dir }
    }
}

/// Reads and orders the migration files of `dir`.
pub fn load(dir: &Path) -> Result<Vec<Migration>, ToolError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ToolError::MigrationsDir {
        dir: dir.to_owned(),
        source,
    })?;
    let mut migrations: Vec<(u128, Migration)> = Vec::new();
    let mut bad = Vec::new();
    let mut miscased = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        // `0003_x.SQL` looks like a migration but is not read: say so rather than skip it.
        if file.to_ascii_lowercase().ends_with(".sql") && !file.ends_with(".sql") {
            miscased.push(file);
            continue;
        }
        if !file.ends_with(".sql") || file.ends_with(".down.sql") || !path.is_file() {
            continue;
        }
        let digits: String = file.chars().take_while(|c| c.is_ascii_digit()).collect();
        let Ok(number) = digits.parse::<u128>() else {
            bad.push(file);
            continue;
        };
        let sql = std::fs::read_to_string(&path).map_err(|source| ToolError::ReadFile {
            path: path.clone(),
            source,
        })?;
        let checksum = hex(&Sha256::digest(sql.as_bytes()));
        let transactional = !header_comments(&sql).contains(NO_TRANSACTION);
        migrations.push((
            number,
            Migration {
                version: digits,
                file,
                path,
                sql,
                checksum,
                transactional,
            },
        ));
    }
    // Another tool's migrations, or code files the sql tool does not run: never "up to date".
    if let Some((message, help)) = crate::tools::strays::sql_dir_strays(dir) {
        return Err(ToolError::Files {
            message,
            help: Some(help),
        });
    }
    if !miscased.is_empty() {
        miscased.sort();
        let renamed: Vec<String> = miscased
            .iter()
            .map(|f| format!("{}.sql", &f[..f.len() - 4]))
            .collect();
        return Err(ToolError::Files {
            message: format!(
                "migration files in {} end in `.sql` spelled in another case, and the sql tool reads only lower-case `.sql`: {}",
                dir.display(),
                miscased.join(", ")
            ),
            help: Some(format!(
                "rename them ({}), so that they run instead of being skipped",
                miscased
                    .iter()
                    .zip(&renamed)
                    .map(|(a, b)| format!("`{a}` → `{b}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    }
    if !bad.is_empty() {
        bad.sort();
        return Err(ToolError::Files {
            message: format!(
                "migration files without a version prefix in {}: {}",
                dir.display(),
                bad.join(", ")
            ),
            help: Some("name files `<version>_<name>.sql`, e.g. `0003_add_orders.sql` or `20261125120000_add_orders.sql`".into()),
        });
    }
    migrations.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.file.cmp(&b.1.file)));
    for pair in migrations.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(ToolError::Files {
                message: format!(
                    "two migrations share version {}: {} and {}",
                    pair[0].1.version, pair[0].1.file, pair[1].1.file
                ),
                help: Some("give each file its own version prefix".into()),
            });
        }
    }
    Ok(migrations.into_iter().map(|(_, m)| m).collect())
}

/// The comment lines before the first statement.
fn header_comments(sql: &str) -> String {
    sql.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 1-based line and column of a 1-based character position in `sql`.
fn position(sql: &str, char_pos: usize) -> (usize, usize) {
    let byte = sql
        .char_indices()
        .nth(char_pos.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(sql.len());
    crate::config::diag::line_col(sql, byte)
}

/// A migration that failed: the message (file, line, Postgres' error) and the SQLSTATE the
/// server gave.
struct Failure {
    message: String,
    code: Option<SqlState>,
}

impl Failure {
    fn new(message: String, e: &tokio_postgres::Error) -> Self {
        Failure {
            message,
            code: e.code().cloned(),
        }
    }
    /// As the tool's error, `message` redacted.
    fn into_error(
        self,
        redactor: Option<&Redactor>,
        output: Option<String>,
        applied: Vec<String>,
    ) -> ToolError {
        ToolError::Failed {
            message: match redactor {
                Some(r) => r.redact(&self.message),
                None => self.message,
            },
            help: None,
            output,
            applied,
            codes: self.code.into_iter().collect(),
        }
    }
}

fn sql_error(m: &Migration, e: &tokio_postgres::Error, offset_line: usize) -> Failure {
    let mut msg = format!("{} failed: {}", m.file, pg::describe(e));
    if let Some(db) = e.as_db_error() {
        if let Some(tokio_postgres::error::ErrorPosition::Original(p)) = db.position() {
            let (line, col) = position(&m.sql, *p as usize);
            msg = format!(
                "{}:{}:{col}: {}",
                m.file,
                line + offset_line,
                pg::describe(e)
            );
        }
    }
    Failure::new(msg, e)
}

async fn ensure_tracking(client: &Client) -> Result<(), ToolError> {
    client
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {TRACKING_SCHEMA};
             CREATE TABLE IF NOT EXISTS {TRACKING_SCHEMA}.{TRACKING_TABLE} (
                 version     text PRIMARY KEY,
                 file        text NOT NULL,
                 checksum    text NOT NULL,
                 applied_at  timestamptz NOT NULL DEFAULT now(),
                 duration_ms bigint NOT NULL
             )"
        ))
        .await
        .map_err(|source| ToolError::Query {
            context: Some("cannot create the tracking table"),
            source,
        })
}

/// Versions and checksums already applied.
pub async fn applied(client: &Client) -> Result<Vec<(String, String, String)>, ToolError> {
    let rows = client
        .query(&format!("SELECT version, file, checksum FROM {TRACKING_SCHEMA}.{TRACKING_TABLE} ORDER BY applied_at, version"), &[])
        .await
        .map_err(|source| ToolError::Query {
            context: Some("cannot read the tracking table"),
            source,
        })?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// A file that runs in the tool's transaction but ends it itself (`COMMIT`, `ROLLBACK`,
/// `END`, `ABORT`): what ran before was committed or thrown away behind the tool's back,
/// and recording the file as applied would claim statements that never took effect (a
/// `BEGIN; … ROLLBACK;` in it silently undid everything above). Refused, naming the fix.
async fn own_transaction_ended(client: &Client, m: &Migration, xid: i64) -> Option<Failure> {
    let same = match client
        .query_one("SELECT txid_current_if_assigned() = $1", &[&xid])
        .await
    {
        Ok(r) => r.get::<_, Option<bool>>(0) == Some(true),
        Err(e) => return Some(Failure::new(pg::describe(&e), &e)),
    };
    if same {
        return None;
    }
    let _ = client.batch_execute("ROLLBACK").await;
    Some(Failure {
        message: format!(
            "{}: the file ends the transaction the sql tool runs it in (a COMMIT, ROLLBACK, END \
         or ABORT of its own): the statements before it were committed or rolled back on \
         their own, so the file is not recorded as applied; remove its transaction control, \
         or mark it `-- neon-migrate: no-transaction` to run it statement by statement as \
         written",
            m.file
        ),
        code: None,
    })
}

async fn run_one(client: &Client, m: &Migration) -> Result<u128, Failure> {
    let started = Instant::now();
    let record = format!("INSERT INTO {TRACKING_SCHEMA}.{TRACKING_TABLE} (version, file, checksum, duration_ms) VALUES ($1, $2, $3, $4)");
    if m.transactional {
        client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| Failure::new(pg::describe(&e), &e))?;
        // The transaction's id, to see it is still the one the file ends in.
        let xid: i64 = match client.query_one("SELECT txid_current()", &[]).await {
            Ok(r) => r.get(0),
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(Failure::new(pg::describe(&e), &e));
            }
        };
        if let Err(e) = client.batch_execute(&m.sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(sql_error(m, &e, 0));
        }
        if let Some(f) = own_transaction_ended(client, m, xid).await {
            return Err(f);
        }
        let ms = started.elapsed().as_millis() as i64;
        if let Err(e) = client
            .execute(&record, &[&m.version, &m.file, &m.checksum, &ms])
            .await
        {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(Failure::new(
                format!("{}: cannot record it: {}", m.file, pg::describe(&e)),
                &e,
            ));
        }
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| sql_error(m, &e, 0))?;
    } else {
        let statements = split::split(&m.sql);
        for (i, s) in statements.iter().enumerate() {
            if let Err(e) = client.batch_execute(&s.sql).await {
                let mut msg = format!(
                    "{}:{}: statement {} of {} failed: {}",
                    m.file,
                    s.line,
                    i + 1,
                    statements.len(),
                    pg::describe(&e)
                );
                if i > 0 {
                    msg.push_str(&format!(
                        " (this file runs without a transaction: its first {i} statement(s) stay applied; make the rest idempotent, e.g. `IF NOT EXISTS`, and rerun)"
                    ));
                }
                return Err(Failure::new(msg, &e));
            }
        }
        let ms = started.elapsed().as_millis() as i64;
        client
            .execute(&record, &[&m.version, &m.file, &m.checksum, &ms])
            .await
            .map_err(|e| {
                Failure::new(
                    format!("{}: cannot record it: {}", m.file, pg::describe(&e)),
                    &e,
                )
            })?;
    }
    Ok(started.elapsed().as_millis())
}

#[async_trait::async_trait]
impl Tool for SqlTool {
    fn name(&self) -> &str {
        "sql"
    }

    async fn apply(&self, ctx: &ToolContext<'_>) -> Result<ToolRun, ToolError> {
        let migrations = load(&self.dir)?;
        let client = pg::connect(&ctx.target.url).await?;
        client
            .query_one("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
            .await
            .map_err(|source| ToolError::Query {
                context: Some("cannot take the migration lock"),
                source,
            })?;
        if let Some((lock, statement)) = ctx.timeouts {
            client
                .batch_execute(&format!(
                    "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
                    lock.as_millis(),
                    statement.as_millis()
                ))
                .await
                .map_err(|source| ToolError::Query {
                    context: Some("cannot set timeouts"),
                    source,
                })?;
        }
        let result = self.apply_locked(&client, &migrations, ctx).await;
        let _ = client
            .query_one("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
            .await;
        result
    }
}

impl SqlTool {
    async fn apply_locked(
        &self,
        client: &Client,
        migrations: &[Migration],
        ctx: &ToolContext<'_>,
    ) -> Result<ToolRun, ToolError> {
        ensure_tracking(client).await?;
        let done = applied(client).await?;
        let mut run = ToolRun::default();

        // Verify history before touching anything.
        let mut changed = Vec::new();
        for (version, file, checksum) in &done {
            match migrations.iter().find(|m| &m.version == version) {
                Some(m) if &m.checksum != checksum => {
                    changed.push(format!("{} (applied as {file})", m.file))
                }
                Some(_) => {}
                None => run.notes.push(format!(
                    "{file} is applied on {} but no longer in {}",
                    ctx.target.name,
                    self.dir.display()
                )),
            }
        }
        if !changed.is_empty() {
            return Err(ToolError::Files {
                message: format!(
                    "checksum mismatch: {} changed after being applied to {}",
                    changed.join(", "),
                    ctx.target.name
                ),
                help: Some("never edit an applied migration: restore the file from git and put the change in a new migration".into()),
            });
        }

        let mut log = String::new();
        for m in migrations
            .iter()
            .filter(|m| !done.iter().any(|(v, _, _)| v == &m.version))
        {
            match run_one(client, m).await {
                Ok(ms) => {
                    let how = if m.transactional {
                        ""
                    } else {
                        ", no transaction"
                    };
                    log.push_str(&format!("applied {} ({ms} ms{how})\n", m.file));
                    run.applied.push(m.file.clone());
                }
                Err(failure) => {
                    return Err(failure.into_error(Some(ctx.redactor), Some(log), run.applied))
                }
            }
        }
        if run.applied.is_empty() {
            log.push_str(&format!(
                "{} is up to date ({} migration(s))\n",
                ctx.target.name,
                migrations.len()
            ));
        }
        run.output = log;
        Ok(run)
    }
}

/// `0003_add_orders.sql` → `0003_add_orders.down.sql`.
pub fn down_name(file: &str) -> String {
    format!("{}.down.sql", file.strip_suffix(".sql").unwrap_or(file))
}

pub fn down_path(dir: &Path, file: &str) -> PathBuf {
    dir.join(down_name(file))
}

/// Runs the down migrations of `files` in reverse order, each in a transaction with the
/// tracking row removed; returns the down files run.
pub async fn revert(
    dir: &Path,
    url: &crate::secret::Secret<String>,
    files: &[String],
) -> Result<Vec<String>, ToolError> {
    let client = pg::connect(url).await?;
    let mut done = Vec::new();
    let bare = |source| ToolError::Query {
        context: None,
        source,
    };
    for file in files.iter().rev() {
        let path = down_path(dir, file);
        let sql = std::fs::read_to_string(&path).map_err(|source| ToolError::ReadFile {
            path: path.clone(),
            source,
        })?;
        client.batch_execute("BEGIN").await.map_err(bare)?;
        let result = async {
            client.batch_execute(&sql).await.map_err(|e| {
                Failure::new(
                    format!("{} failed: {}", down_name(file), pg::describe(&e)),
                    &e,
                )
            })?;
            client
                .execute(
                    &format!("DELETE FROM {TRACKING_SCHEMA}.{TRACKING_TABLE} WHERE file = $1"),
                    &[file],
                )
                .await
                .map_err(|e| {
                    Failure::new(format!("cannot unrecord {file}: {}", pg::describe(&e)), &e)
                })?;
            Ok::<(), Failure>(())
        }
        .await;
        match result {
            Ok(()) => client.batch_execute("COMMIT").await.map_err(bare)?,
            Err(failure) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(failure.into_error(None, None, Vec::new()));
            }
        }
        done.push(down_name(file));
    }
    Ok(done)
}

/// Applies exactly `files` (already pending) again, in order.
pub async fn apply_files(
    dir: &Path,
    url: &crate::secret::Secret<String>,
    files: &[String],
) -> Result<Vec<String>, ToolError> {
    let all = load(dir)?;
    let client = pg::connect(url).await?;
    let mut done = Vec::new();
    for file in files {
        let m = all
            .iter()
            .find(|m| &m.file == file)
            .ok_or_else(|| ToolError::Files {
                message: format!("{file} is no longer in {}", dir.display()),
                help: None,
            })?;
        run_one(&client, m)
            .await
            .map_err(|f| f.into_error(None, None, Vec::new()))?;
        done.push(file.clone());
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_only_counts_in_the_header() {
        assert!(header_comments(
            "-- neon-migrate: no-transaction\ncreate index concurrently i on t(x);"
        )
        .contains(NO_TRANSACTION));
        assert!(
            !header_comments("select 1;\n-- neon-migrate: no-transaction").contains(NO_TRANSACTION)
        );
    }

    #[test]
    fn error_positions_become_line_and_column() {
        assert_eq!(position("select 1;\nselct 2;", 11), (2, 1));
    }
}

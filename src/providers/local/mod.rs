//! The `local` provider: Neon database branches emulated on a plain Postgres server.
//!
//! A test Neon database branch is `CREATE DATABASE <child> TEMPLATE <parent> STRATEGY
//! FILE_COPY` — a full, consistent copy of schema and data, like Neon's copy-on-write
//! branches but paid for in bytes (on PG ≥ 18 over XFS/btrfs, `file_copy_method = clone`
//! makes it copy-on-write too). Its metadata (Neon database branch name, parent, created,
//! expires) is a JSON `COMMENT ON DATABASE`: it lives and dies with the database, so it can
//! never be orphaned, and one catalog query lists every test Neon database branch.

pub mod cluster;
mod create;
pub mod fidelity;
pub(crate) use create::drop_force;
pub mod dump;
mod reaper;
mod restore;
pub mod role;
pub(crate) mod settings;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::config::{BusyParent, LocalConfig, ToolRole};
use crate::pg::{self, ident, literal};
use crate::providers::{
    CreateRequest, DbBranch, DbBranchInfo, DeleteOutcome, Owner, Provider, ProviderError,
};
use crate::secret::{Redactor, Secret};

/// Postgres limits database names to 63 bytes.
const MAX_DB_NAME: usize = 63;
/// Database that plays the main Neon database branch on the embedded cluster when the config
/// names none (a parsed config always does: see [`role::default_main_database`]).
pub const DEFAULT_MAIN: &str = "main";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Meta {
    neon_migrate: u32,
    name: String,
    parent: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    #[serde(default)]
    git_branch: String,
    #[serde(default)]
    git_sha: String,
    #[serde(default)]
    pipeline: String,
    /// The id of the run that created it (empty for databases of older versions).
    #[serde(default)]
    run: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct GoldenMeta {
    neon_migrate_golden: u32,
    parent: String,
    fingerprint: String,
}

pub struct LocalProvider {
    /// URL of the maintenance database (`postgres`) on the server.
    admin_url: Secret<String>,
    /// One maintenance connection, reused: a new one per call costs ~10 ms of the copy.
    admin_client: tokio::sync::Mutex<Option<std::sync::Arc<Client>>>,
    /// URL template: the server URL whose database part we swap.
    server_url: Secret<String>,
    main: String,
    busy_parent: BusyParent,
    tool_role: ToolRole,
    server_version: i32,
    cluster: Option<cluster::Cluster>,
    describe: String,
}

impl LocalProvider {
    /// Opens the provider: the configured server, or the embedded cluster (started on demand).
    /// `url` is the already rendered `provider.url`, if any.
    pub async fn open(
        cfg: &LocalConfig,
        url: Option<String>,
        redactor: &Redactor,
    ) -> Result<Self, ProviderError> {
        let (server_url, main, cluster, where_) = match url {
            Some(url) => {
                redactor.add_url(&url);
                let main = cfg
                    .main_database
                    .clone()
                    .or_else(|| pg::database_of(&url))
                    .ok_or_else(|| {
                        ProviderError::new("`provider.url` names no database")
                            .help("end the URL with `/<database>` or set `main-database`")
                    })?;
                let where_ = crate::secret::mask_url_passwords(&url);
                (url, main, None, where_)
            }
            None => {
                let dir = cfg.data_dir.clone();
                let c = tokio::task::spawn_blocking(move || cluster::ensure(dir.as_deref()))
                    .await
                    .map_err(|e| {
                        ProviderError::new(format!("embedded cluster set-up panicked: {e}"))
                    })??;
                redactor.add(c.password());
                let main = cfg
                    .main_database
                    .clone()
                    .unwrap_or_else(|| DEFAULT_MAIN.into());
                let where_ = format!(
                    "embedded PostgreSQL {} at 127.0.0.1:{} ({})",
                    c.major,
                    c.port,
                    c.dir.display()
                );
                (c.url("postgres"), main, Some(c), where_)
            }
        };
        let admin_url = Secret::new(pg::with_database(&server_url, "postgres"));
        let client = pg::connect(&admin_url).await?;
        let server_version: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .await
            .map_err(|e| pg::PgError::new("cannot read the server version", e))?
            .get(0);
        let provider = LocalProvider {
            admin_url,
            admin_client: tokio::sync::Mutex::new(None),
            server_url: Secret::new(server_url),
            main,
            busy_parent: cfg.busy_parent,
            tool_role: cfg.tool_role,
            server_version,
            cluster,
            describe: where_,
        };
        if provider.cluster.is_some() {
            // On our own cluster the main database is ours to create on first use.
            let exists = client
                .query_opt(
                    "SELECT 1 FROM pg_database WHERE datname = $1",
                    &[&provider.main],
                )
                .await
                .map_err(|e| pg::PgError::new("cannot list databases", e))?
                .is_some();
            if !exists {
                let created = client
                    .batch_execute(&format!("CREATE DATABASE {}", ident(&provider.main)))
                    .await;
                // Two openers at once (`diff --from main`, a hook and a run) both saw it
                // missing; the one that lost the race finds it made, which is all it wanted.
                let raced = |e: &tokio_postgres::Error| {
                    e.code() == Some(&SqlState::DUPLICATE_DATABASE)
                        || e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                };
                match created {
                    // Only the server's role (and whoever it hands main to) connects to main:
                    // not the roles of test copies and scratch databases.
                    Ok(()) => role::revoke_public_connect(&client, &provider.main).await?,
                    Err(e) if raced(&e) => {}
                    Err(e) => {
                        return Err(pg::PgError::new("cannot create the main database", e).into())
                    }
                }
            }
        }
        Ok(provider)
    }

    /// The embedded cluster, when this provider runs one.
    pub fn cluster(&self) -> Option<&cluster::Cluster> {
        self.cluster.as_ref()
    }

    /// The main database's name.
    pub fn main_database(&self) -> &str {
        &self.main
    }

    /// URL of any database on this server.
    pub fn url_of(&self, db: &str) -> Secret<String> {
        Secret::new(pg::with_database(self.server_url.expose(), db))
    }

    /// Host and port of the server (for the emulator's endpoint proxies).
    pub fn server_addr(&self) -> Result<(String, u16), ProviderError> {
        let config: tokio_postgres::Config = self
            .server_url
            .expose()
            .parse()
            .map_err(|e| ProviderError::new(format!("invalid server URL: {e}")))?;
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        Ok((host, port))
    }

    pub fn server_version(&self) -> i32 {
        self.server_version
    }

    /// The connection to the server's maintenance database (reconnected when it dropped).
    pub async fn admin(&self) -> Result<std::sync::Arc<Client>, ProviderError> {
        let mut slot = self.admin_client.lock().await;
        if let Some(c) = slot.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let c = std::sync::Arc::new(pg::connect(&self.admin_url).await?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Sessions other than ours connected to `db`: they would block a template copy.
    async fn sessions_on(&self, client: &Client, db: &str) -> Result<Vec<String>, ProviderError> {
        let rows = client
            .query(
                "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), \
                 coalesce(host(client_addr), 'local socket'), coalesce(state, '') \
                 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() \
                 AND backend_type = 'client backend'",
                &[&db],
            )
            .await
            .map_err(|e| pg::PgError::new("cannot read pg_stat_activity", e))?;
        Ok(rows
            .iter()
            .map(|r| {
                let app: String = r.get(2);
                format!(
                    "pid {} (user `{}`, application `{}`, client {}, {})",
                    r.get::<_, i32>(0),
                    r.get::<_, String>(1),
                    if app.is_empty() { "?" } else { &app },
                    r.get::<_, String>(3),
                    r.get::<_, String>(4)
                )
            })
            .collect())
    }

    async fn comment_of(
        &self,
        client: &Client,
        db: &str,
    ) -> Result<Option<Option<String>>, ProviderError> {
        let row = client
            .query_opt(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                &[&db],
            )
            .await
            .map_err(|e| pg::PgError::new("cannot read database comments", e))?;
        Ok(row.map(|r| r.get::<_, Option<String>>(0)))
    }

    pub(crate) async fn copy_database(
        &self,
        client: &Client,
        child: &str,
        template: &str,
    ) -> Result<(), ProviderError> {
        if self.server_version >= 180_000 {
            let reflink = self
                .cluster
                .as_ref()
                .map(|c| cluster::supports_reflink(&c.data_dir()))
                .unwrap_or(false);
            if reflink {
                client
                    .batch_execute("SET file_copy_method = clone")
                    .await
                    .map_err(|e| pg::PgError::new("cannot enable copy-on-write clones", e))?;
            }
        }
        let strategy = if self.server_version >= 150_000 {
            " STRATEGY FILE_COPY"
        } else {
            ""
        };
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy}",
            ident(child),
            ident(template)
        );
        client.batch_execute(&sql).await.map_err(|e| {
            let code = e.code();
            if code == Some(&SqlState::DUPLICATE_DATABASE) || code == Some(&SqlState::UNIQUE_VIOLATION) {
                ProviderError::new(format!(
                    "another session created a database named `{child}` at the same moment: {}",
                    pg::describe(&e)
                ))
                .help("runs of the same test Neon database branch name wait for each other; another program (or an older neon-migrate) created it: run again")
            } else if code == Some(&SqlState::OBJECT_IN_USE) {
                ProviderError::new(format!(
                    "`{template}` gained a connection while being copied: {}",
                    pg::describe(&e)
                ))
                .help("retry, or set `busy-parent = \"golden-template\"` under [provider]")
            } else {
                pg::PgError::new(format!("cannot copy `{template}`"), e).into()
            }
        })
    }

    /// Copies database `from` into a new database `to` with `pg_dump | psql`: an MVCC
    /// snapshot, so `from` may be in use meanwhile (a template copy needs it idle). Owners
    /// and privileges are kept (both live on this server).
    pub(crate) async fn dump_copy(
        &self,
        client: &Client,
        from: &str,
        to: &str,
    ) -> Result<(), ProviderError> {
        let owner: String = client
            .query_one(
                "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = $1",
                &[&from],
            )
            .await
            .map_err(|e| pg::PgError::new(format!("cannot read the owner of `{from}`"), e))?
            .get(0);
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} OWNER {} TEMPLATE template0",
                ident(to),
                ident(&owner)
            ))
            .await
            .map_err(|e| pg::PgError::new(format!("cannot create `{to}`"), e))?;
        let copied =
            dump::dump_restore(&self.bin()?, &self.url_of(from), &self.url_of(to), &[]).await;
        if let Err(e) = copied {
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(to)
                ))
                .await;
            return Err(match e {
                dump::DumpError::Failed(why) => {
                    ProviderError::new(format!("copying `{from}` with pg_dump failed: {why}"))
                }
                start => start.into(),
            });
        }
        Ok(())
    }

    /// The folder of the server's `pg_dump` and `psql`.
    pub(crate) fn bin(&self) -> Result<std::path::PathBuf, ProviderError> {
        Ok(match &self.cluster {
            Some(c) => c.bin.clone(),
            None => cluster::find_bin()?.0,
        })
    }

    /// A copy of the parent that nobody connects to, refreshed when the parent's schema
    /// fingerprint changes. Cloning from it never waits for the parent's sessions.
    async fn golden_template(&self, client: &Client) -> Result<String, ProviderError> {
        let golden = local_db_name(&format!("{}__neon_migrate_golden", self.main));
        let parent_client = pg::connect(&self.url_of(&self.main)).await?;
        let fingerprint = crate::fingerprint::of(&parent_client).await?;
        if let Some(Some(comment)) = self.comment_of(client, &golden).await? {
            if let Ok(meta) = serde_json::from_str::<GoldenMeta>(&comment) {
                if meta.fingerprint == fingerprint && meta.parent == self.main {
                    return Ok(golden);
                }
            }
        }
        if self.comment_of(client, &golden).await?.is_some() {
            // DROP DATABASE cannot share a transaction (or a multi-statement query) with anything.
            for sql in [
                format!("ALTER DATABASE {} IS_TEMPLATE false", ident(&golden)),
                format!("DROP DATABASE {} WITH (FORCE)", ident(&golden)),
            ] {
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| pg::PgError::new("cannot drop the stale golden template", e))?;
            }
        }
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                ident(&golden)
            ))
            .await
            .map_err(|e| pg::PgError::new("cannot create the golden template", e))?;
        // pg_dump takes an MVCC snapshot: the parent's sessions keep working meanwhile.
        let copied = dump::dump_restore(
            &self.bin()?,
            &self.url_of(&self.main),
            &self.url_of(&golden),
            &["--no-owner", "--no-acl"],
        )
        .await;
        if let Err(e) = copied {
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(&golden)
                ))
                .await;
            return Err(match e {
                dump::DumpError::Failed(why) => ProviderError::new(format!(
                    "refreshing the golden template of `{}` failed: {why}",
                    self.main
                )),
                start => start.into(),
            });
        }
        let meta = GoldenMeta {
            neon_migrate_golden: 1,
            parent: self.main.clone(),
            fingerprint,
        };
        let json = serde_json::to_string(&meta).expect("serializable");
        client
            .batch_execute(&format!(
                "COMMENT ON DATABASE {0} IS {1}; ALTER DATABASE {0} IS_TEMPLATE true; ALTER DATABASE {0} ALLOW_CONNECTIONS false",
                ident(&golden),
                literal(&json)
            ))
            .await
            .map_err(|e| pg::PgError::new("cannot seal the golden template", e))?;
        Ok(golden)
    }
}

/// The database name for a Neon database branch name: itself when it fits in 63 bytes,
/// else cut with a stable hash suffix.
pub fn local_db_name(name: &str) -> String {
    if name.len() <= MAX_DB_NAME {
        return name.to_owned();
    }
    let hash = crate::naming::short_hash(name);
    let mut cut = MAX_DB_NAME - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{hash}", &name[..cut])
}

#[async_trait::async_trait]
impl Provider for LocalProvider {
    fn describe(&self) -> String {
        format!("local ({})", self.describe)
    }

    async fn main_db_branch(&self) -> Result<DbBranch, ProviderError> {
        Ok(DbBranch {
            name: self.main.clone(),
            id: self.main.clone(),
            parent: String::new(),
            url: self.url_of(&self.main),
            expires_at: None,
        })
    }

    async fn create(&self, req: &CreateRequest) -> Result<DbBranch, ProviderError> {
        self.create_db_branch(req).await
    }

    async fn delete(&self, id: &str) -> Result<DeleteOutcome, ProviderError> {
        let client = self.admin().await?;
        let seen = self.seen(&client).await?;
        match seen.iter().find(|(d, _)| d.datname == id) {
            None => Ok(DeleteOutcome::AlreadyGone),
            Some((_, meta)) => {
                // Its comment alone proves nothing: a migration can write one.
                if meta.is_none() {
                    return Err(ProviderError::new(format!(
                        "refusing to drop database `{id}`: it is not provably a test Neon database branch or restore point created by neon-migrate (a main database, or not owned as neon-migrate's are)"
                    )));
                }
                create::drop_force(&client, id).await.map_err(|e| {
                    pg::PgError::new(
                        format!("cannot drop the test Neon database branch `{id}`"),
                        e,
                    )
                })?;
                role::drop_roles(&client, id).await;
                Ok(DeleteOutcome::Deleted)
            }
        }
    }

    async fn owner(&self, b: &DbBranch, run_id: &str) -> Result<Owner, ProviderError> {
        let client = self.admin().await?;
        // The metadata the reaper trusts: a copy handed to its own role keeps it in the
        // role's comment, which its migration cannot change (`COMMENT ON DATABASE` in a
        // migration made the run take its own copy for another's).
        let seen = self.seen(&client).await?;
        Ok(match seen.into_iter().find(|(d, _)| d.datname == b.id) {
            None => Owner::Gone,
            Some((_, meta)) => match meta {
                Some(meta) if meta.run == run_id && !run_id.is_empty() => Owner::ThisRun,
                Some(meta) => Owner::Other(format!(
                    "run {} of git branch `{}` (pipeline {}, created {})",
                    if meta.run.is_empty() { "?" } else { &meta.run },
                    meta.git_branch,
                    meta.pipeline,
                    rfc3339(meta.created_at)
                )),
                None => Owner::Other(format!(
                    "database `{}`, which neon-migrate did not create (or whose comment, where neon-migrate keeps its record of a copy made with `tool-role = \"server\"`, a migration replaced)",
                    b.id
                )),
            },
        })
    }

    fn apply_lock_url(&self, _main: &DbBranch) -> Secret<String> {
        // A session on the main database would block the restore point's template copy.
        self.admin_url.clone()
    }

    async fn restore_main(
        &self,
        from: &DbBranchInfo,
        preserve_as: &str,
    ) -> Result<(), ProviderError> {
        self.restore_main_from(from, preserve_as).await
    }

    async fn list(&self) -> Result<Vec<DbBranchInfo>, ProviderError> {
        let client = self.admin().await?;
        Ok(self
            .seen(&client)
            .await?
            .into_iter()
            .filter_map(|(d, meta)| {
                let meta = meta?;
                // Only this project's: other projects on the same server (another
                // `main-database`) have their own, maybe in use right now (`gc --all`).
                if meta.parent != self.main {
                    return None;
                }
                Some(DbBranchInfo {
                    name: meta.name,
                    id: d.datname,
                    parent: meta.parent,
                    created_at: meta.created_at,
                    expires_at: meta.expires_at,
                    git_branch: meta.git_branch,
                    git_sha: meta.git_sha,
                })
            })
            .collect())
    }
}

use crate::time::rfc3339;

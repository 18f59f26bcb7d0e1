//! The `local` provider: Neon database branches emulated on a plain Postgres server.
//!
//! A test Neon database branch is `CREATE DATABASE <child> TEMPLATE <parent> STRATEGY
//! FILE_COPY` — a full, consistent copy of schema and data, like Neon's copy-on-write
//! branches but paid for in bytes (on PG ≥ 18 over XFS/btrfs, `file_copy_method = clone`
//! makes it copy-on-write too). Its metadata (Neon database branch name, parent, created,
//! expires) is a JSON `COMMENT ON DATABASE`: it lives and dies with the database, so it can
//! never be orphaned, and one catalog query lists every test Neon database branch.

pub mod cluster;
pub mod role;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
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
            .map_err(|e| pg::PgError::new("cannot read the server version", &e))?
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
                .map_err(|e| pg::PgError::new("cannot list databases", &e))?
                .is_some();
            if !exists {
                client
                    .batch_execute(&format!("CREATE DATABASE {}", ident(&provider.main)))
                    .await
                    .map_err(|e| pg::PgError::new("cannot create the main database", &e))?;
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
            .map_err(|e| pg::PgError::new("cannot read pg_stat_activity", &e))?;
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

    /// Every database of the server with its metadata when it is provably ours (see
    /// [`provably_ours`]).
    async fn seen(&self, client: &Client) -> Result<Vec<(Seen, Option<Meta>)>, ProviderError> {
        let rows = client
            .query(SEEN, &[&role::GROUP])
            .await
            .map_err(|e| pg::PgError::new("cannot list the server's databases", &e))?;
        let server_role: String = client
            .query_one("SELECT current_user::text", &[])
            .await
            .map_err(|e| pg::PgError::new("cannot read the server's role", &e))?
            .get(0);
        let all: Vec<Seen> = rows
            .iter()
            .map(|r| Seen {
                datname: r.get(0),
                comment: r.get(1),
                owner: r.get(2),
                owner_in_group: r.get(3),
                owner_comment: r.get(4),
            })
            .collect();
        let protected = protected(&all, &self.main);
        Ok(all
            .into_iter()
            .map(|d| {
                let meta = provably_ours(&d, &protected, &server_role);
                (d, meta)
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
            .map_err(|e| pg::PgError::new("cannot read database comments", &e))?;
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
                    .map_err(|e| pg::PgError::new("cannot enable copy-on-write clones", &e))?;
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
            if matches!(e.code().map(|c| c.code()), Some("42P04" | "23505")) {
                ProviderError::new(format!(
                    "another session created a database named `{child}` at the same moment: {}",
                    pg::describe(&e)
                ))
                .help("runs of the same test Neon database branch name wait for each other; another program (or an older neon-migrate) created it: run again")
            } else if e.code().map(|c| c.code()) == Some("55006") {
                ProviderError::new(format!(
                    "`{template}` gained a connection while being copied: {}",
                    pg::describe(&e)
                ))
                .help("retry, or set `busy-parent = \"golden-template\"` under [provider]")
            } else {
                pg::PgError::new(&format!("cannot copy `{template}`"), &e).into()
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
            .map_err(|e| pg::PgError::new(&format!("cannot read the owner of `{from}`"), &e))?
            .get(0);
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} OWNER {} TEMPLATE template0",
                ident(to),
                ident(&owner)
            ))
            .await
            .map_err(|e| pg::PgError::new(&format!("cannot create `{to}`"), &e))?;
        let bin = match &self.cluster {
            Some(c) => c.bin.clone(),
            None => cluster::find_bin()?.0,
        };
        let dump = format!(
            "set -o pipefail; {} -d \"$SRC\" | {} -q -v ON_ERROR_STOP=1 -d \"$DST\"",
            bin.join("pg_dump").display(),
            bin.join("psql").display()
        );
        let out = tokio::process::Command::new("bash")
            .args(["-c", &dump])
            .env("SRC", self.url_of(from).expose())
            .env("DST", self.url_of(to).expose())
            .output()
            .await
            .map_err(|e| ProviderError::new(format!("cannot run pg_dump: {e}")))?;
        if !out.status.success() {
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(to)
                ))
                .await;
            return Err(ProviderError::new(format!(
                "copying `{from}` with pg_dump failed: {}",
                crate::secret::mask_url_passwords(&String::from_utf8_lossy(&out.stderr))
            )));
        }
        Ok(())
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
                    .map_err(|e| pg::PgError::new("cannot drop the stale golden template", &e))?;
            }
        }
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                ident(&golden)
            ))
            .await
            .map_err(|e| pg::PgError::new("cannot create the golden template", &e))?;
        // pg_dump takes an MVCC snapshot: the parent's sessions keep working meanwhile.
        let bin = match &self.cluster {
            Some(c) => c.bin.clone(),
            None => cluster::find_bin()?.0,
        };
        let dump = format!(
            "{} --no-owner --no-acl -d \"$SRC\" | {} -q -v ON_ERROR_STOP=1 -d \"$DST\"",
            bin.join("pg_dump").display(),
            bin.join("psql").display()
        );
        let out = tokio::process::Command::new("sh")
            .args(["-c", &dump])
            .env("SRC", self.url_of(&self.main).expose())
            .env("DST", self.url_of(&golden).expose())
            .output()
            .await
            .map_err(|e| ProviderError::new(format!("cannot run pg_dump: {e}")))?;
        if !out.status.success() {
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(&golden)
                ))
                .await;
            return Err(ProviderError::new(format!(
                "refreshing the golden template of `{}` failed: {}",
                self.main,
                crate::secret::mask_url_passwords(&String::from_utf8_lossy(&out.stderr))
            )));
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
            .map_err(|e| pg::PgError::new("cannot seal the golden template", &e))?;
        Ok(golden)
    }
}

/// The database name for a Neon database branch name: itself when it fits in 63 bytes,
/// else cut with a stable hash suffix.
/// A database as the reaper sees it: what a migration cannot forge — its name, its owner,
/// the owner's membership in [`role::GROUP`] and the owner role's comment (a copy's own role
/// has no CREATEROLE, so it cannot change them) — and what it can: the database comment (a
/// copy's owner may rewrite its own; a migration applied to main as the server's role may
/// write main's).
struct Seen {
    datname: String,
    comment: Option<String>,
    owner: String,
    owner_in_group: bool,
    owner_comment: Option<String>,
}

/// Every database of the server, as [`Seen`] (`$1`: [`role::GROUP`]).
const SEEN: &str =
    "SELECT d.datname::text, shobj_description(d.oid, 'pg_database'), r.rolname::text, \
    EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
        WHERE m.member = r.oid AND g.rolname = $1), \
    shobj_description(r.oid, 'pg_authid') \
    FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba ORDER BY d.datname";

fn parse_meta(comment: &Option<String>) -> Option<Meta> {
    comment
        .as_deref()
        .and_then(|c| serde_json::from_str::<Meta>(c).ok())
}

/// Databases never to drop: `main`, and the parent of every test Neon database branch,
/// restore point or kept state on the server as recorded where a copy's migration cannot
/// write (the main databases of this project and of the others sharing the server).
fn protected(all: &[Seen], main: &str) -> std::collections::HashSet<String> {
    let mut set = std::collections::HashSet::from([main.to_owned()]);
    for d in all {
        let copy_role = d.owner == role::login_role(&d.datname) && d.owner_in_group;
        if let Some(m) = parse_meta(&d.owner_comment) {
            set.insert(m.parent);
        }
        if !copy_role {
            if let Some(m) = parse_meta(&d.comment) {
                set.insert(m.parent);
            }
        }
    }
    set
}

/// The metadata of `d` when it is provably a database neon-migrate created, `None` for
/// anything else — above all the main database of any project, whatever its comment says:
/// - a test copy handed to its own role: owned by [`role::login_role`] of its name, a member
///   of [`role::GROUP`]; its metadata is the role's comment (the database's, for copies of
///   older versions);
/// - a restore point (`restore/…`) or a state kept by `rollback` (`…-before-rollback-…`);
/// - a test copy made with `tool-role = "server"`: owned by the server's role `server_role`;
///
/// In every case it must be named after its metadata's name.
fn provably_ours(
    d: &Seen,
    protected: &std::collections::HashSet<String>,
    server_role: &str,
) -> Option<Meta> {
    if protected.contains(&d.datname) {
        return None;
    }
    let named = |m: &Meta| local_db_name(&m.name) == d.datname;
    if d.owner == role::login_role(&d.datname) && d.owner_in_group {
        return parse_meta(&d.owner_comment)
            .or_else(|| parse_meta(&d.comment))
            .filter(named);
    }
    let meta = parse_meta(&d.comment).filter(named)?;
    let restore_point = meta.name.starts_with(crate::providers::RESTORE_PREFIX);
    let kept = meta.pipeline == "rollback" && meta.name.contains("-before-rollback-");
    let server_copy = d.owner == server_role && !d.owner.starts_with("neon_migrate_copy_");
    (restore_point || kept || server_copy).then_some(meta)
}

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
        let client = self.admin().await?;
        let db = local_db_name(&req.name);
        if db == self.main {
            return Err(ProviderError::new(format!(
                "the test Neon database branch name `{}` is the main database's name",
                req.name
            ))
            .help("change `name` under [neon-database-branch]"));
        }
        // One round trip for everything the copy depends on. Autovacuum workers are not
        // counted as sessions: Postgres stops them itself for the copy.
        let look = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1), \
                        (SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $2), \
                        (SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() \
                            AND backend_type = 'client backend')",
                &[&self.main, &db],
            )
            .await
            .map_err(|e| pg::PgError::new("cannot read the server's databases", &e))?;
        let (main_exists, existing, busy): (bool, Option<String>, i64) =
            (look.get(0), look.get(1), look.get(2));
        if !main_exists {
            return Err(ProviderError::new(format!("the main Neon database branch (database `{}`) does not exist", self.main))
                .help("create it, or point `main-database` under [provider] at the database your migrations target"));
        }
        // A leftover from an interrupted run of the same git branch is ours to replace;
        // anything else with this name is not ours to touch.
        if let Some(comment) = existing {
            match serde_json::from_str::<Meta>(&comment).ok() {
                // Another project on this server (another main database) may be using it.
                Some(meta) if meta.parent != self.main => {
                    return Err(ProviderError::new(format!(
                        "database `{db}` is a test Neon database branch of another main database (`{}`), created for git branch `{}`",
                        meta.parent, meta.git_branch
                    ))
                    .help("two projects share this server and a Neon database branch name: make `name` under [neon-database-branch] unique per project, e.g. `migrate/<project>/{{git.branch}}`"))
                }
                Some(_)
                    if !self
                        .seen(&client)
                        .await?
                        .iter()
                        .any(|(d, m)| d.datname == db && m.is_some()) =>
                {
                    return Err(ProviderError::new(format!(
                        "database `{db}` already exists and is not provably a test Neon database branch created by neon-migrate (its comment says so, but a migration can write that)"
                    ))
                    .help("rename it, or change `name` under [neon-database-branch]"))
                }
                Some(_) => {
                    client
                        .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", ident(&db)))
                        .await
                        .map_err(|e| {
                            pg::PgError::new(
                                "cannot replace the leftover test Neon database branch",
                                &e,
                            )
                        })?;
                }
                None => {
                    return Err(ProviderError::new(format!(
                        "database `{db}` already exists and was not created by neon-migrate"
                    ))
                    .help("rename it, or change `name` under [neon-database-branch]"))
                }
            }
        }
        if req.name.starts_with(crate::providers::RESTORE_PREFIX) {
            // A restore point must hold main's data as it is now: never the golden template
            // (its data is as of the last schema change). A busy main is copied through an
            // MVCC snapshot instead of refused: its sessions are the application's.
            let copied = if busy == 0 {
                self.copy_database(&client, &db, &self.main).await
            } else {
                Err(ProviderError::new("busy"))
            };
            if copied.is_err() {
                self.dump_copy(&client, &self.main, &db).await?;
            }
        } else {
            let template = {
                let sessions = if busy == 0 {
                    Vec::new()
                } else {
                    self.sessions_on(&client, &self.main).await?
                };
                if sessions.is_empty() {
                    self.main.clone()
                } else {
                    match self.busy_parent {
                    BusyParent::GoldenTemplate => self.golden_template(&client).await?,
                    BusyParent::Fail => {
                        return Err(ProviderError::new(format!(
                            "the main Neon database branch (database `{}`) has {} other session(s), and Postgres cannot copy a database while it is in use:\n  {}",
                            self.main,
                            sessions.len(),
                            sessions.join("\n  ")
                        ))
                        .help("close those sessions (or `SELECT pg_terminate_backend(pid)` them), or set `busy-parent = \"golden-template\"` under [provider] to copy from a template nobody connects to"))
                    }
                }
                }
            };
            self.copy_database(&client, &db, &template).await?;
        }
        let created_at = Utc::now();
        let expires_at =
            created_at + chrono::Duration::from_std(req.ttl).unwrap_or(chrono::Duration::hours(4));
        let meta = Meta {
            neon_migrate: 1,
            name: req.name.clone(),
            parent: self.main.clone(),
            created_at,
            expires_at,
            git_branch: req.git_branch.clone(),
            git_sha: req.git_sha.clone(),
            pipeline: req.pipeline.clone(),
            run: req.run_id.clone(),
        };
        let json = serde_json::to_string(&meta).expect("serializable");
        if let Err(e) = client
            .batch_execute(&format!(
                "COMMENT ON DATABASE {} IS {}",
                ident(&db),
                literal(&json)
            ))
            .await
        {
            // Without metadata it could never be found again: do not leave it behind.
            let _ = client
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(&db)
                ))
                .await;
            return Err(pg::PgError::new(
                "cannot record the test Neon database branch's metadata",
                &e,
            )
            .into());
        }
        // The tool gets a role that owns the copy and nothing else (restore points are never
        // handed to a tool).
        let url = if self.tool_role == ToolRole::CopyOwner
            && !req.name.starts_with(crate::providers::RESTORE_PREFIX)
        {
            let handed = async {
                let url = role::hand_over(
                    &client,
                    self.server_url.expose(),
                    &self.url_of(&db),
                    &db,
                    None,
                )
                .await?;
                // The record the reaper trusts: on the copy's role, which the copy's
                // migrations cannot change (the database comment they can).
                client
                    .batch_execute(&format!(
                        "COMMENT ON ROLE {} IS {}",
                        ident(&role::login_role(&db)),
                        literal(&json)
                    ))
                    .await
                    .map_err(|e| {
                        pg::PgError::new("cannot record the copy's metadata on its role", &e)
                    })?;
                Ok::<_, ProviderError>(url)
            };
            match handed.await {
                Ok(url) => url,
                Err(e) => {
                    let _ = client
                        .batch_execute(&format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            ident(&db)
                        ))
                        .await;
                    role::drop_roles(&client, &db).await;
                    return Err(ProviderError::new(format!(
                        "cannot give the test Neon database branch a role of its own: {}",
                        e.message
                    ))
                    .help("the server's role needs CREATEROLE (or to be a superuser); or set `tool-role = \"server\"` under [provider] to hand the tool the server's own role, which can reach every database on the server"));
                }
            }
        } else {
            self.url_of(&db)
        };
        Ok(DbBranch {
            name: req.name.clone(),
            id: db.clone(),
            parent: self.main.clone(),
            url,
            expires_at: Some(expires_at),
        })
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
                client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        ident(id)
                    ))
                    .await
                    .map_err(|e| {
                        pg::PgError::new(
                            &format!("cannot drop the test Neon database branch `{id}`"),
                            &e,
                        )
                    })?;
                role::drop_roles(&client, id).await;
                Ok(DeleteOutcome::Deleted)
            }
        }
    }

    async fn owner(&self, b: &DbBranch, run_id: &str) -> Result<Owner, ProviderError> {
        let client = self.admin().await?;
        Ok(match self.comment_of(&client, &b.id).await? {
            None => Owner::Gone,
            Some(comment) => match comment.and_then(|c| serde_json::from_str::<Meta>(&c).ok()) {
                Some(meta) if meta.run == run_id && !run_id.is_empty() => Owner::ThisRun,
                Some(meta) => Owner::Other(format!(
                    "run {} of git branch `{}` (pipeline {}, created {})",
                    if meta.run.is_empty() { "?" } else { &meta.run },
                    meta.git_branch,
                    meta.pipeline,
                    rfc3339(meta.created_at)
                )),
                None => Owner::Other(format!(
                    "database `{}`, which neon-migrate did not create",
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
        let client = self.admin().await?;
        let ours = self
            .comment_of(&client, &from.id)
            .await?
            .flatten()
            .and_then(|c| serde_json::from_str::<Meta>(&c).ok());
        if ours.is_none() {
            return Err(ProviderError::new(format!(
                "`{}` is not a restore point created by neon-migrate",
                from.id
            )));
        }
        let keep = local_db_name(preserve_as);
        if self.comment_of(&client, &keep).await?.is_some() {
            return Err(
                ProviderError::new(format!("database `{keep}` already exists"))
                    .help("pick another name for the preserved state"),
            );
        }
        let exec = |sql: String| {
            let client = &client;
            async move {
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| ProviderError::from(pg::PgError::new("restore failed", &e)))
            }
        };
        async fn reopen(client: &Client, dbs: [&String; 2]) {
            for db in dbs {
                let _ = client
                    .batch_execute(&format!(
                        "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                        ident(db)
                    ))
                    .await;
            }
        }
        // Nobody may hold the databases being renamed: stop new sessions, end the others,
        // and wait until they are gone (a terminated backend takes a moment to exit, and
        // RENAME refuses a database that is still being accessed).
        for db in [&self.main, &from.id] {
            if let Err(e) = exec(format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS false",
                ident(db)
            ))
            .await
            {
                reopen(&client, [&self.main, &from.id]).await;
                return Err(e);
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = self.sessions_on(&client, &self.main).await;
            let left = match left {
                Ok(mut l) => {
                    match self.sessions_on(&client, &from.id).await {
                        Ok(more) => l.extend(more),
                        Err(e) => {
                            reopen(&client, [&self.main, &from.id]).await;
                            return Err(e);
                        }
                    }
                    l
                }
                Err(e) => {
                    reopen(&client, [&self.main, &from.id]).await;
                    return Err(e);
                }
            };
            if left.is_empty() {
                break;
            }
            if std::time::Instant::now() > deadline {
                reopen(&client, [&self.main, &from.id]).await;
                return Err(ProviderError::new(format!(
                    "sessions on `{}` or `{}` did not end within 10 s: {}",
                    self.main,
                    from.id,
                    left.join("; ")
                )));
            }
            for db in [&self.main, &from.id] {
                let _ = exec(format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()", literal(db))).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if let Err(e) = exec(format!(
            "ALTER DATABASE {} RENAME TO {}",
            ident(&self.main),
            ident(&keep)
        ))
        .await
        {
            reopen(&client, [&self.main, &from.id]).await;
            return Err(e);
        }
        if let Err(e) = exec(format!(
            "ALTER DATABASE {} RENAME TO {}",
            ident(&from.id),
            ident(&self.main)
        ))
        .await
        {
            // Put main back where it was.
            let _ = exec(format!(
                "ALTER DATABASE {} RENAME TO {}",
                ident(&keep),
                ident(&self.main)
            ))
            .await;
            reopen(&client, [&self.main, &from.id]).await;
            return Err(e);
        }
        let now = Utc::now();
        let meta = Meta {
            neon_migrate: 1,
            name: preserve_as.to_owned(),
            parent: self.main.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::days(7),
            git_branch: String::new(),
            git_sha: String::new(),
            pipeline: "rollback".into(),
            run: String::new(),
        };
        let json = serde_json::to_string(&meta).expect("serializable");
        exec(format!("COMMENT ON DATABASE {} IS NULL", ident(&self.main))).await?;
        exec(format!(
            "COMMENT ON DATABASE {} IS {}",
            ident(&keep),
            literal(&json)
        ))
        .await?;
        for db in [&self.main, &keep] {
            exec(format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                ident(db)
            ))
            .await?;
        }
        Ok(())
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

#[cfg(test)]
mod reaper_tests {
    use super::*;

    fn meta(name: &str, parent: &str, pipeline: &str) -> String {
        serde_json::to_string(&Meta {
            neon_migrate: 1,
            name: name.into(),
            parent: parent.into(),
            created_at: Utc::now(),
            expires_at: Utc::now(),
            git_branch: String::new(),
            git_sha: String::new(),
            pipeline: pipeline.into(),
            run: String::new(),
        })
        .unwrap()
    }

    fn seen(db: &str, comment: Option<String>, owner: &str, role_comment: Option<String>) -> Seen {
        Seen {
            datname: db.into(),
            comment,
            owner: owner.into(),
            owner_in_group: owner.starts_with("neon_migrate_copy_"),
            owner_comment: role_comment,
        }
    }

    fn verdicts(all: &[Seen]) -> Vec<bool> {
        let p = protected(all, "main");
        all.iter()
            .map(|d| provably_ours(d, &p, "postgres").is_some())
            .collect()
    }

    #[test]
    fn a_forged_comment_never_makes_a_main_database_reapable() {
        let copy = "migrate/x";
        let all = [
            // main, its comment forged by a migration applied as the server's role
            seen(
                "main",
                Some(meta("main", "main", "deploy")),
                "postgres",
                None,
            ),
            // another project's main, named as the parent of its copy's role record
            seen(
                "other",
                Some(meta("other", "main", "deploy")),
                "postgres",
                None,
            ),
            seen(
                "migrate/y",
                Some(meta("migrate/y", "other", "pre-push")),
                &role::login_role("migrate/y"),
                Some(meta("migrate/y", "other", "pre-push")),
            ),
            // a copy whose migration rewrote its comment: its role's record decides
            seen(
                copy,
                Some(meta("elsewhere", "someone_else", "x")),
                &role::login_role(copy),
                Some(meta(copy, "main", "pre-push")),
            ),
            // restore point and kept state: named as neon-migrate names them
            seen(
                "restore/main-1",
                Some(meta("restore/main-1", "main", "restore-point")),
                "postgres",
                None,
            ),
            seen(
                "main-before-rollback-1",
                Some(meta("main-before-rollback-1", "main", "rollback")),
                "app",
                None,
            ),
            // a database of someone else with a comment copied from a copy
            seen("app", Some(meta("app", "main", "pre-push")), "app", None),
            // a database named unlike its metadata
            seen(
                "misnamed",
                Some(meta("migrate/z", "main", "pre-push")),
                "postgres",
                None,
            ),
        ];
        assert_eq!(
            verdicts(&all),
            [false, false, true, true, true, true, false, false]
        );
    }
}

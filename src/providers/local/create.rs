//! Creating a test Neon database branch on the local server: check the name is free (or a
//! leftover of ours), copy the main database (a template copy, a golden template or an MVCC
//! dump, depending on its sessions), record the metadata, hand the copy to a role of its own.

use chrono::Utc;
use tokio_postgres::Client;

use super::{local_db_name, role, LocalProvider, Meta};
use crate::config::{BusyParent, ToolRole};
use crate::pg::{self, ident, literal};
use crate::providers::{CreateRequest, DbBranch, ProviderError, RESTORE_PREFIX};
use crate::secret::Secret;

impl LocalProvider {
    pub(super) async fn create_db_branch(
        &self,
        req: &CreateRequest,
    ) -> Result<DbBranch, ProviderError> {
        let client = self.admin().await?;
        let db = local_db_name(&req.name);
        if db == self.main {
            return Err(ProviderError::new(format!(
                "the test Neon database branch name `{}` is the main database's name",
                req.name
            ))
            .help("change `name` under [neon-database-branch]"));
        }
        let busy = self.make_room(&client, &db).await?;
        if req.name.starts_with(RESTORE_PREFIX) {
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
            let template = self.template_for(&client, busy).await?;
            self.copy_database(&client, &db, &template).await?;
        }
        // As a Neon database branch does, the copy keeps main's database settings (a
        // template or a dump copies none).
        super::settings::copy(&client, &self.main, &db).await?;
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
            drop_database(&client, &db).await;
            return Err(pg::PgError::new(
                "cannot record the test Neon database branch's metadata",
                e,
            )
            .into());
        }
        // The tool gets a role that owns the copy and nothing else (restore points are never
        // handed to a tool).
        let url = if self.tool_role == ToolRole::CopyOwner && !req.name.starts_with(RESTORE_PREFIX)
        {
            self.hand_over_copy(&client, &db, &json).await?
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

    /// Checks that the main database exists and that `db` is free, dropping a leftover of an
    /// interrupted run of the same git branch (anything else with this name is not ours to
    /// touch). Returns how many sessions the main database has.
    async fn make_room(&self, client: &Client, db: &str) -> Result<i64, ProviderError> {
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
            .map_err(|e| pg::PgError::new("cannot read the server's databases", e))?;
        let (main_exists, existing, busy): (bool, Option<String>, i64) =
            (look.get(0), look.get(1), look.get(2));
        if !main_exists {
            return Err(ProviderError::new(format!("the main Neon database branch (database `{}`) does not exist", self.main))
                .help("create it, or point `main-database` under [provider] at the database your migrations target"));
        }
        let Some(comment) = existing else {
            return Ok(busy);
        };
        // What the reaper trusts first: a copy handed to its own role keeps its record in the
        // role's comment, which its migration cannot rewrite (`COMMENT ON DATABASE` can).
        let provable = self
            .seen(client)
            .await?
            .into_iter()
            .find(|(d, _)| d.datname == db)
            .and_then(|(_, m)| m);
        let claimed = match &provable {
            Some(m) => Some(m.clone()),
            None => serde_json::from_str::<Meta>(&comment).ok(),
        };
        match claimed {
            // Another project on this server (another main database) may be using it.
            Some(meta) if meta.parent != self.main => {
                Err(ProviderError::new(format!(
                    "database `{db}` is a test Neon database branch of another main database (`{}`), created for git branch `{}`",
                    meta.parent, meta.git_branch
                ))
                .help("two projects share this server and a Neon database branch name: make `name` under [neon-database-branch] unique per project, e.g. `migrate/<project>/{{git.branch}}`"))
            }
            Some(_) if provable.is_none() => {
                Err(ProviderError::new(format!(
                    "database `{db}` already exists and is not provably a test Neon database branch created by neon-migrate (its comment says so, but a migration can write that)"
                ))
                .help("rename it, or change `name` under [neon-database-branch]"))
            }
            Some(_) => {
                drop_force(client, db)
                    .await
                    .map_err(|e| {
                        pg::PgError::new(
                            "cannot replace the leftover test Neon database branch",
                            e,
                        )
                    })?;
                Ok(busy)
            }
            None => Err(ProviderError::new(format!(
                "database `{db}` already exists and was not created by neon-migrate"
            ))
            .help("rename it, or change `name` under [neon-database-branch]")),
        }
    }

    /// The database a test copy is made from: main when nobody else is connected, else the
    /// golden template or a refusal, as `busy-parent` says.
    async fn template_for(&self, client: &Client, busy: i64) -> Result<String, ProviderError> {
        let sessions = if busy == 0 {
            Vec::new()
        } else {
            self.sessions_on(client, &self.main).await?
        };
        if sessions.is_empty() {
            return Ok(self.main.clone());
        }
        match self.busy_parent {
            BusyParent::GoldenTemplate => self.golden_template(client).await,
            BusyParent::Fail => Err(ProviderError::new(format!(
                "the main Neon database branch (database `{}`) has {} other session(s), and Postgres cannot copy a database while it is in use:\n  {}",
                self.main,
                sessions.len(),
                sessions.join("\n  ")
            ))
            .help("close those sessions (or `SELECT pg_terminate_backend(pid)` them), or set `busy-parent = \"golden-template\"` under [provider] to copy from a template nobody connects to")),
        }
    }

    /// Gives copy `db` a login role that owns it and nothing else, recording `json` (its
    /// metadata) on the role; on failure the copy is dropped.
    async fn hand_over_copy(
        &self,
        client: &Client,
        db: &str,
        json: &str,
    ) -> Result<Secret<String>, ProviderError> {
        let handed = async {
            // Main's owners, before the copy's role owns everything in the copy.
            let copy = pg::connect(&self.url_of(db)).await?;
            let owners = super::fidelity::main_owners(&copy).await?;
            let url = role::hand_over(client, self.server_url.expose(), &self.url_of(db), db, None)
                .await?;
            // The tool runs as that role on the copy, as the server's role on main: it gets
            // the settings the server's role has there…
            super::settings::copy_role(client, &self.main, db, &role::login_role(db)).await?;
            // …and, where that gives it no power outside the copy, how it sees row-level
            // security, its default privileges and the publications.
            super::fidelity::mirror(client, &copy, db, self.cluster.is_some(), owners).await?;
            drop(copy);
            // Other roles (another copy's, on a server whose pg_hba.conf is not ours) must not
            // connect to this copy: Postgres grants CONNECT on a new database to PUBLIC.
            role::revoke_public_connect(client, db).await?;
            // The record the reaper trusts: on the copy's role, which the copy's
            // migrations cannot change (the database comment they can).
            client
                .batch_execute(&format!(
                    "COMMENT ON ROLE {} IS {}",
                    ident(&role::login_role(db)),
                    literal(json)
                ))
                .await
                .map_err(|e| {
                    pg::PgError::new("cannot record the copy's metadata on its role", e)
                })?;
            Ok::<_, ProviderError>(url)
        };
        match handed.await {
            Ok(url) => Ok(url),
            Err(e) => {
                drop_database(client, db).await;
                role::drop_roles(client, db).await;
                Err(ProviderError::new(format!(
                    "cannot give the test Neon database branch a role of its own: {}",
                    e
                ))
                .help("the server's role needs CREATEROLE (or to be a superuser); or set `tool-role = \"server\"` under [provider] to hand the tool the server's own role, which can reach every database on the server"))
            }
        }
    }
}

impl LocalProvider {
    /// Creates the empty scratch database `db` for untrusted SQL (a `.sql` schema file) and
    /// returns the URL it is loaded through: a login role of its own that owns `db` and
    /// nothing else (not a superuser, no CREATEDB or CREATEROLE, none of the `pg_*` roles that
    /// read server files or run programs), which no other database lets connect (our
    /// `pg_hba.conf` on the embedded server, and `CONNECT` taken from `PUBLIC` on every
    /// database neon-migrate creates). `tool-role = "server"` loads it as the server's role.
    /// On failure nothing is left.
    pub async fn create_scratch(&self, db: &str) -> Result<Secret<String>, ProviderError> {
        let client = self.admin().await?;
        client
            .batch_execute(&format!("CREATE DATABASE {} TEMPLATE template0", ident(db)))
            .await
            .map_err(|e| pg::PgError::new("cannot create a scratch database", e))?;
        if self.tool_role == ToolRole::Server {
            return Ok(self.url_of(db));
        }
        match role::hand_over_empty(&client, self.server_url.expose(), db).await {
            Ok(url) => Ok(url),
            Err(e) => {
                self.drop_scratch(db).await;
                Err(ProviderError::new(format!(
                    "cannot give the scratch database a role of its own: {e}"
                ))
                .help("the server's role needs CREATEROLE (or to be a superuser); or set `tool-role = \"server\"` under [provider] to load .sql files as the server's own role, which can reach every database on the server"))
            }
        }
    }

    /// Drops scratch database `db` and its roles, best effort.
    pub async fn drop_scratch(&self, db: &str) {
        if let Ok(client) = self.admin().await {
            drop_database(&client, db).await;
            role::drop_roles(&client, db).await;
        }
    }
}

/// Drops `db` if it exists, best effort: the clean-up of a failed creation.
pub(super) async fn drop_database(client: &Client, db: &str) {
    let _ = drop_force(client, db).await;
}

/// `DROP DATABASE IF EXISTS db WITH (FORCE)` of a test copy, made an ordinary database first
/// when a migration made it a template: its owner may run `ALTER DATABASE … IS_TEMPLATE true`,
/// and Postgres refuses to drop a template (the copy was left behind, undeletable by `gc`).
pub(crate) async fn drop_force(client: &Client, db: &str) -> Result<(), tokio_postgres::Error> {
    let template = client
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate",
            &[&db],
        )
        .await?;
    if template.is_some() {
        client
            .batch_execute(&format!("ALTER DATABASE {} IS_TEMPLATE false", ident(db)))
            .await?;
    }
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(db)
        ))
        .await
}

//! `neon-migrate emulator`: the subset of Neon API v2 that neon-migrate and `neonctl` use,
//! served over HTTP and backed by a real Postgres.
//!
//! Neon cannot be reached from where this product is tested (and users rehearse offline), so
//! the `neon` provider is proven against this emulator, and the emulator against Neon's own
//! CLI and OpenAPI document. It keeps Neon's paths, JSON keys, id shapes, status codes and
//! asynchronous operations; every Neon database branch is a real database (a template copy
//! of its parent), reached through a per-endpoint proxy so connection strings look like
//! Neon's (`postgresql://neondb_owner:npg_…@host/neondb`). Faults can be injected (status
//! codes with `Retry-After`, delays, dropped connections before or after the request is
//! applied, failed operations) for the reliability tests, and every API request is recorded
//! with the fault it consumed and what it was answered (`GET /_emulator/requests`), so a test
//! can assert on what a client sent, not only on the final state. The admin routes need the
//! API key like every other route. Request bodies are read whole, within [`BODY_TIMEOUT`]
//! and [`MAX_BODY_BYTES`], before anything is applied. State is in memory: a restarted
//! emulator is a fresh project whose default Neon database branch keeps its data.

mod proxy;
mod routes;
pub mod state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{BusyParent, LocalConfig};
use crate::pg::{self, ident, literal};
use crate::providers::local::{dump, local_db_name, role, LocalProvider};
use crate::providers::ProviderError;
use crate::secret::Redactor;

use state::{Branch, Endpoint, Project};

/// The largest request body the emulator reads (larger ones get 413). Neon API bodies are a
/// few kilobytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// How long the emulator waits for a whole request body (a slower one gets 408, and nothing
/// is applied).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest delay a fault may inject (`delay_ms`).
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(300);
/// The largest `Retry-After` a fault may send, in seconds.
pub const MAX_RETRY_AFTER: u64 = 3600;
/// How many requests the log keeps (later ones are counted, not kept).
pub const MAX_LOGGED_REQUESTS: usize = 10_000;

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// The one project it serves (`^[a-z0-9-]{1,60}$`).
    pub project_id: String,
    /// The accepted API key; `None` accepts any non-empty Bearer token.
    pub api_key: Option<String>,
    /// How long each operation takes to go `scheduling` → `running` → `finished`.
    pub operation_delay: Duration,
    /// The backing Postgres (embedded cluster or `url`); `main_database` defaults to
    /// `neon_emu_<project id>`.
    pub local: LocalConfig,
}

/// A fault to inject into the next matching requests.
#[derive(Debug, Clone)]
pub struct Fault {
    /// HTTP method to match; `None` matches any.
    pub method: Option<String>,
    /// Substring of the path to match (`""` matches every path).
    pub path_contains: String,
    /// How many matching requests get the fault.
    pub times: u32,
    pub action: FaultAction,
}

#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Answer with this status and Neon's error body, optionally with `Retry-After` seconds.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Close the connection without an answer; the request is not applied.
    Drop,
    /// Apply the request, then close the connection without its answer (a lost answer).
    DropAnswer,
    /// Let the request through, but its operations end `failed`.
    FailNextOperation,
}

/// The JSON form of a fault (admin route `POST /_emulator/faults`, `--faults FILE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub method: Option<String>,
    #[serde(default)]
    pub path_contains: String,
    #[serde(default = "one")]
    pub times: u32,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub drop: bool,
    #[serde(default)]
    pub drop_answer: bool,
    #[serde(default)]
    pub fail_next_operation: bool,
}

fn one() -> u32 {
    1
}

/// Why a fault spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error(
        "give exactly one of `status`, `delay_ms`, `drop`, `drop_answer`, `fail_next_operation`"
    )]
    NotOneAction,
    #[error("`retry_after` goes only with `status`")]
    RetryAfterWithoutStatus,
    #[error("`status` {0} is not an HTTP status")]
    NotAStatus(u16),
    #[error("`retry_after` {0} is more than {limit} seconds; give at most {limit}", limit = MAX_RETRY_AFTER)]
    RetryAfterTooLong(u64),
    #[error("`delay_ms` {ms} is more than {max} ms ({secs} s); give at most {max}", secs = MAX_FAULT_DELAY.as_secs())]
    DelayTooLong { ms: u64, max: u128 },
}

/// For callers that carry messages (the `--faults` file's read and parse errors).
impl From<FaultError> for String {
    fn from(e: FaultError) -> String {
        e.to_string()
    }
}

impl FaultSpec {
    pub fn into_fault(self) -> Result<Fault, FaultError> {
        let actions = [
            self.status.is_some(),
            self.delay_ms.is_some(),
            self.drop,
            self.drop_answer,
            self.fail_next_operation,
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err(FaultError::NotOneAction);
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return Err(FaultError::RetryAfterWithoutStatus);
        }
        let action = if let Some(status) = self.status {
            if !(100..=599).contains(&status) {
                return Err(FaultError::NotAStatus(status));
            }
            if let Some(s) = self.retry_after.filter(|s| *s > MAX_RETRY_AFTER) {
                return Err(FaultError::RetryAfterTooLong(s));
            }
            FaultAction::Status {
                status,
                retry_after: self.retry_after,
            }
        } else if let Some(ms) = self.delay_ms {
            let max = MAX_FAULT_DELAY.as_millis();
            if u128::from(ms) > max {
                return Err(FaultError::DelayTooLong { ms, max });
            }
            FaultAction::Delay(Duration::from_millis(ms))
        } else if self.drop {
            FaultAction::Drop
        } else if self.drop_answer {
            FaultAction::DropAnswer
        } else {
            FaultAction::FailNextOperation
        };
        Ok(Fault {
            method: self.method.map(|m| m.to_uppercase()),
            path_contains: self.path_contains,
            times: self.times,
            action,
        })
    }
}

impl FaultAction {
    /// The fault in its JSON form (the keys of [`FaultSpec`]), as the request log shows it.
    pub fn to_json(&self) -> Value {
        match self {
            FaultAction::Status {
                status,
                retry_after,
            } => json!({ "status": status, "retry_after": retry_after }),
            FaultAction::Delay(d) => json!({ "delay_ms": d.as_millis() as u64 }),
            FaultAction::Drop => json!({ "drop": true }),
            FaultAction::DropAnswer => json!({ "drop_answer": true }),
            FaultAction::FailNextOperation => json!({ "fail_next_operation": true }),
        }
    }
}

/// What became of a recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Answered with this status.
    Status(u16),
    /// The connection was closed without an answer (a `drop` or `drop_answer` fault).
    Dropped,
    /// The client went away before the answer was ready.
    Abandoned,
}

/// One API request as the emulator saw it (admin routes are not recorded).
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Arrival order, from 1.
    pub seq: u64,
    pub method: String,
    /// The path as sent (`/api/v2` included if it was).
    pub path: String,
    /// The query string as sent (`""` if none).
    pub query: String,
    /// The JSON body (`null` when there was none or it could not be read).
    pub body: Value,
    /// The fault this request consumed, if any.
    pub fault: Option<FaultAction>,
    /// Whether the request reached the route (was applied, for a mutation).
    pub applied: bool,
    pub answer: Answer,
}

impl RequestRecord {
    pub fn to_json(&self) -> Value {
        let answer = match &self.answer {
            Answer::Status(s) => json!(s),
            Answer::Dropped => json!("dropped"),
            Answer::Abandoned => json!("abandoned"),
        };
        json!({
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "fault": self.fault.as_ref().map(FaultAction::to_json),
            "applied": self.applied,
            "answer": answer,
        })
    }
}

/// The request log: records in arrival order, up to [`MAX_LOGGED_REQUESTS`].
#[derive(Default)]
pub(crate) struct RequestLog {
    pub records: Vec<RequestRecord>,
    /// Requests that were not kept because the log was full.
    pub not_kept: u64,
}

/// State shared by the HTTP server, the proxies and the reaper.
pub(crate) struct Shared {
    pub project_id: String,
    pub api_key: Option<String>,
    pub delay: Duration,
    pub project: Mutex<Project>,
    pub faults: Mutex<Vec<Fault>>,
    pub log: Mutex<RequestLog>,
    pub next_seq: AtomicU64,
    pub backend: LocalProvider,
    pub backend_addr: (String, u16),
    /// The physical role behind `neondb_owner` on the default Neon database branch's first
    /// database, and its password (every Neon database branch's role has the same password).
    pub role: String,
    pub password: String,
    /// That first database; every other one is owned by a role of its own (see
    /// [`Shared::role_of`]), so a migration on one Neon database branch cannot reach another.
    main_physical: String,
    proxies: Mutex<HashMap<String, JoinHandle<()>>>,
}

/// A running emulator. Dropping it stops serving; [`Emulator::shutdown`] also drops the
/// databases of its non-default Neon database branches.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Ok(proxies) = self.shared.proxies.lock() {
            for p in proxies.values() {
                p.abort();
            }
        }
    }
}

fn sanitize_ident(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl Emulator {
    /// Starts the emulator: backing database, default Neon database branch `main` with its
    /// endpoint, the HTTP server and the expiry reaper.
    pub async fn start(opts: EmulatorOptions) -> Result<Emulator, ProviderError> {
        let valid = !opts.project_id.is_empty()
            && opts.project_id.len() <= 60
            && opts
                .project_id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(ProviderError::new(format!(
                "project id `{}` must match ^[a-z0-9-]{{1,60}}$",
                opts.project_id
            )));
        }
        let tag = sanitize_ident(&opts.project_id);
        let main_db = opts
            .local
            .main_database
            .clone()
            .unwrap_or_else(|| local_db_name(&format!("neon_emu_{tag}")));
        let local = LocalConfig {
            main_database: Some(main_db.clone()),
            busy_parent: BusyParent::Fail,
            ..opts.local.clone()
        };
        // The address first: an emulator that cannot listen (another one runs there) must not
        // touch the backing database — it would reset the running one's role password.
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|e| ProviderError::new(format!("cannot listen on {}: {e}", opts.listen)))?;
        let redactor = Redactor::new();
        let url = local.url.clone();
        let backend = LocalProvider::open(&local, url, &redactor).await?;
        let backend_addr = backend.server_addr()?;
        let mut project = Project::new();
        let password = project.password();
        let role = local_db_name(&format!("neon_emu_{tag}_owner"));

        let admin = backend.admin().await?;
        let exists = admin
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .await
            .map_err(|e| pg::PgError::new("cannot read roles", e))?
            .is_some();
        let verb = if exists { "ALTER" } else { "CREATE" };
        admin
            .batch_execute(&format!(
                "{verb} ROLE {} LOGIN PASSWORD {}",
                ident(&role),
                literal(&password)
            ))
            .await
            .map_err(|e| pg::PgError::new("cannot set up the emulator's role", e))?;
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {} OWNER TO {}",
                ident(&main_db),
                ident(&role)
            ))
            .await
            .map_err(|e| {
                pg::PgError::new("cannot hand the main database to the emulator's role", e)
            })?;
        // Leftovers of an earlier run of this project: its state is gone, so are they.
        for db in physical_children(&admin, &opts.project_id).await? {
            let _ = admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(&db)
                ))
                .await;
            role::drop_roles(&admin, &db).await;
        }

        let now = Utc::now();
        let main = Branch {
            id: project.new_id("br"),
            name: "main".into(),
            parent_id: None,
            default: true,
            protected: false,
            created_at: now,
            updated_at: now,
            state_changed_at: now,
            expires_at: None,
            ttl_interval_seconds: None,
            last_reset_at: None,
            init_source: "parent-data".into(),
            creation_source: "console".into(),
            annotation: Default::default(),
            physical: main_db,
            logical_size: 0,
        };
        let main_id = main.id.clone();
        let main_id_physical = main.physical.clone();
        project.branches.insert(main.id.clone(), main);

        let addr = listener
            .local_addr()
            .map_err(|e| ProviderError::new(e.to_string()))?;
        let shared = Arc::new(Shared {
            project_id: opts.project_id.clone(),
            api_key: opts.api_key.clone(),
            delay: opts.operation_delay,
            project: Mutex::new(project),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(RequestLog::default()),
            next_seq: AtomicU64::new(0),
            backend,
            backend_addr,
            role,
            password,
            main_physical: main_id_physical,
            proxies: Mutex::new(HashMap::new()),
        });
        shared.add_endpoint(&main_id, 0.25, 0.25, 0).await?;

        let server = tokio::spawn(routes::serve(listener, shared.clone()));
        let reaper = tokio::spawn(reap(shared.clone()));
        Ok(Emulator {
            addr,
            shared,
            tasks: vec![server, reaper],
        })
    }

    /// `http://127.0.0.1:PORT` — the API is served here and under `/api/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn project_id(&self) -> &str {
        &self.shared.project_id
    }

    /// The password of `neondb_owner` (a secret; for tests that build URLs themselves).
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// Connection string of the default Neon database branch.
    pub fn main_url(&self) -> String {
        let project = self.shared.project.lock().expect("state lock");
        let main = project
            .default_branch()
            .expect("a default Neon database branch exists");
        let host = project
            .endpoint_of(&main.id)
            .map(Endpoint::host)
            .unwrap_or_default();
        self.shared.uri(&host)
    }

    /// Injects a fault into the next matching requests.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().expect("faults lock").push(fault);
    }

    /// Every API request so far, in arrival order, with the fault it consumed and its answer.
    pub fn requests(&self) -> Vec<RequestRecord> {
        let mut records = self.shared.log.lock().expect("log lock").records.clone();
        records.sort_by_key(|r| r.seq);
        records
    }

    /// Stops serving and drops the databases of every non-default Neon database branch.
    pub async fn shutdown(self) {
        let ids: Vec<String> = {
            let project = self.shared.project.lock().expect("state lock");
            project
                .branches
                .values()
                .filter(|b| !b.default)
                .map(|b| b.id.clone())
                .collect()
        };
        for id in ids {
            let _ = self.shared.remove_branch(&id).await;
        }
    }

    /// Like [`Emulator::shutdown`], and also drops the default Neon database branch's database
    /// and the emulator's role (tests).
    pub async fn destroy(self) {
        let shared = self.shared.clone();
        let main = {
            let project = shared.project.lock().expect("state lock");
            project.default_branch().map(|b| b.physical.clone())
        };
        self.shutdown().await;
        if let Ok(admin) = shared.backend.admin().await {
            if let Some(db) = main {
                let _ = admin
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        ident(&db)
                    ))
                    .await;
                role::drop_roles(&admin, &db).await;
            }
            let _ = admin
                .batch_execute(&format!("DROP ROLE IF EXISTS {}", ident(&shared.role)))
                .await;
        }
    }
}

/// Databases the emulator created for `project_id` (their comment says so).
async fn physical_children(
    admin: &tokio_postgres::Client,
    project_id: &str,
) -> Result<Vec<String>, ProviderError> {
    let rows = admin
        .query(
            "SELECT d.datname FROM pg_database d JOIN pg_shdescription s ON s.objoid = d.oid \
             AND s.classoid = 'pg_database'::regclass WHERE s.description = $1",
            &[&marker(project_id)],
        )
        .await
        .map_err(|e| pg::PgError::new("cannot list the emulator's databases", e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn marker(project_id: &str) -> String {
    serde_json::json!({ "neon_emulator": 1, "project_id": project_id }).to_string()
}

impl Shared {
    /// A connection URI for `host`, the way Neon writes them (no TLS on loopback).
    pub fn uri(&self, host: &str) -> String {
        format!(
            "postgresql://{}:{}@{host}/{}",
            state::ROLE,
            self.password,
            state::DATABASE
        )
    }

    /// Starts the proxy of a new endpoint of `branch_id`; returns its id.
    pub async fn add_endpoint(
        self: &Arc<Self>,
        branch_id: &str,
        min_cu: f64,
        max_cu: f64,
        suspend: i64,
    ) -> Result<String, ProviderError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ProviderError::new(format!("cannot open an endpoint port: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| ProviderError::new(e.to_string()))?
            .port();
        let id = {
            let mut project = self.project.lock().expect("state lock");
            let id = project.new_id("ep");
            let ep = Endpoint {
                id: id.clone(),
                branch_id: branch_id.to_owned(),
                port,
                created_at: Utc::now(),
                suspend_timeout_seconds: suspend,
                min_cu,
                max_cu,
            };
            project.endpoints.insert(id.clone(), ep);
            id
        };
        let weak = Arc::downgrade(self);
        let resolve: proxy::Resolver = Arc::new(move |endpoint_id: &str, database: &str| {
            let shared = weak.upgrade().ok_or(proxy::Refusal {
                sqlstate: "57P01",
                message: "the emulator is shutting down".into(),
            })?;
            let project = shared.project.lock().expect("state lock");
            let ep = project.endpoints.get(endpoint_id).ok_or(proxy::Refusal {
                sqlstate: "XX000",
                message: "endpoint not found".into(),
            })?;
            let branch = project.branches.get(&ep.branch_id).ok_or(proxy::Refusal {
                sqlstate: "XX000",
                message: "endpoint not found".into(),
            })?;
            if project.branch_state(&branch.id) != "ready" {
                return Err(proxy::Refusal { sqlstate: "57P03", message: "the endpoint is not ready yet: wait for the Neon database branch's operations to finish".into() });
            }
            if database != state::DATABASE {
                return Err(proxy::Refusal {
                    sqlstate: "3D000",
                    message: format!("database \"{database}\" does not exist"),
                });
            }
            Ok(proxy::Target {
                database: branch.physical.clone(),
                user: shared.role_of(&branch.physical),
            })
        });
        let task = tokio::spawn(proxy::serve(
            listener,
            id.clone(),
            self.backend_addr.clone(),
            resolve,
        ));
        self.proxies
            .lock()
            .expect("proxies lock")
            .insert(id.clone(), task);
        Ok(id)
    }

    /// Copies `parent`'s database into a new one for `branch_id`.
    pub async fn copy_physical(
        &self,
        parent: &str,
        branch_id: &str,
    ) -> Result<String, ProviderError> {
        let generation = {
            let mut project = self.project.lock().expect("state lock");
            project.generation += 1;
            project.generation
        };
        let db = local_db_name(&format!(
            "neon_emu_{}_{}_{generation}",
            sanitize_ident(&self.project_id),
            sanitize_ident(branch_id)
        ));
        let admin = self.backend.admin().await?;
        // Neon branches from a parent in use; Postgres cannot template-copy one. Wait briefly
        // for sessions that are closing, then copy through an MVCC snapshot (pg_dump) instead.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        let idle = loop {
            let row = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
                    &[&parent],
                )
                .await
                .map_err(|e| pg::PgError::new("cannot read pg_stat_activity", e))?;
            if row.get::<_, i64>(0) == 0 {
                break true;
            }
            if tokio::time::Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let copied = if idle {
            self.backend
                .copy_database(&admin, &db, parent)
                .await
                .is_ok()
        } else {
            false
        };
        if !copied {
            self.dump_copy(&admin, parent, &db).await?;
        }
        // A Neon database branch keeps its parent's database settings.
        crate::providers::local::settings::copy(&admin, parent, &db).await?;
        admin
            .batch_execute(&format!(
                "COMMENT ON DATABASE {0} IS {1}",
                ident(&db),
                literal(&marker(&self.project_id))
            ))
            .await
            .map_err(|e| pg::PgError::new("cannot hand over the copied database", e))?;
        // On Neon a Neon database branch is a Postgres of its own: here, the copy and every
        // object in it belong to a role of its own (with the project's password), which
        // cannot touch the other Neon database branches' databases.
        if let Err(e) = role::hand_over(
            &admin,
            self.backend.url_of("postgres").expose(),
            &self.backend.url_of(&db),
            &db,
            Some(&self.password),
        )
        .await
        {
            let _ = self.drop_physical(&db).await;
            return Err(e);
        }
        Ok(db)
    }

    /// The physical role behind `neondb_owner` on database `physical`.
    pub fn role_of(&self, physical: &str) -> String {
        if physical == self.main_physical {
            self.role.clone()
        } else {
            role::login_role(physical)
        }
    }

    /// A logical copy (`pg_dump | psql`) for a parent that has sessions.
    async fn dump_copy(
        &self,
        admin: &tokio_postgres::Client,
        from: &str,
        to: &str,
    ) -> Result<(), ProviderError> {
        admin
            .batch_execute(&format!("CREATE DATABASE {} TEMPLATE template0", ident(to)))
            .await
            .map_err(|e| pg::PgError::new(format!("cannot create `{to}`"), e))?;
        let copied = dump::dump_restore(
            &self.backend.bin()?,
            &self.backend.url_of(from),
            &self.backend.url_of(to),
            &[],
        )
        .await;
        if let Err(e) = copied {
            let _ = admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(to)
                ))
                .await;
            return Err(match e {
                dump::DumpError::Failed(why) => {
                    ProviderError::new(format!("copying `{from}` failed: {why}"))
                }
                start => start.into(),
            });
        }
        Ok(())
    }

    pub async fn drop_physical(&self, db: &str) -> Result<(), ProviderError> {
        let admin = self.backend.admin().await?;
        crate::providers::local::drop_force(&admin, db)
            .await
            .map_err(|e| pg::PgError::new("cannot drop a Neon database branch's database", e))?;
        role::drop_roles(&admin, db).await;
        Ok(())
    }

    /// Removes a Neon database branch, its endpoint and its database.
    pub async fn remove_branch(&self, id: &str) -> Result<(), ProviderError> {
        let (physical, endpoints) = {
            let mut project = self.project.lock().expect("state lock");
            let Some(b) = project.branches.remove(id) else {
                return Ok(());
            };
            let eps: Vec<String> = project
                .endpoints
                .values()
                .filter(|e| e.branch_id == id)
                .map(|e| e.id.clone())
                .collect();
            for e in &eps {
                project.endpoints.remove(e);
            }
            (b.physical, eps)
        };
        {
            let mut proxies = self.proxies.lock().expect("proxies lock");
            for e in endpoints {
                if let Some(task) = proxies.remove(&e) {
                    task.abort();
                }
            }
        }
        self.drop_physical(&physical).await
    }

    /// The SQL schema of a Neon database branch (`pg_dump --schema-only`).
    pub async fn schema_sql(&self, physical: &str) -> Result<String, ProviderError> {
        Ok(dump::schema_sql(&self.backend.bin()?, &self.backend.url_of(physical)).await?)
    }
}

/// Deletes Neon database branches past `expires_at`, like Neon's background job.
async fn reap(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let expired: Vec<String> = {
            let project = shared.project.lock().expect("state lock");
            let now = Utc::now();
            project
                .branches
                .values()
                .filter(|b| {
                    !b.default
                        && b.expires_at.is_some_and(|e| e <= now)
                        && project.children_of(&b.id) == 0
                })
                .map(|b| b.id.clone())
                .collect()
        };
        for id in expired {
            let _ = shared.remove_branch(&id).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fault of `json`, or the message of why not.
    fn fault(json: &str) -> Result<Fault, Box<dyn std::error::Error>> {
        Ok(serde_json::from_str::<FaultSpec>(json)?.into_fault()?)
    }

    #[test]
    fn fault_specs_are_bounded_and_unambiguous() {
        assert!(matches!(
            fault(r#"{"drop_answer":true}"#).map(|f| f.action),
            Ok(FaultAction::DropAnswer)
        ));
        assert!(matches!(
            fault(r#"{"delay_ms":300000}"#).map(|f| f.action),
            Ok(FaultAction::Delay(d)) if d == MAX_FAULT_DELAY
        ));
        for (bad, needle) in [
            (r#"{"delay_ms":300001}"#, "at most 300000"),
            (r#"{"delay_ms":100800000}"#, "at most 300000"),
            (r#"{"status":429,"retry_after":3601}"#, "at most 3600"),
            (r#"{"delay_ms":5,"retry_after":1}"#, "only with `status`"),
            (r#"{"drop":true,"drop_answer":true}"#, "exactly one"),
            (r#"{}"#, "exactly one"),
        ] {
            let err = fault(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} was accepted"));
            assert!(err.to_string().contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn request_records_show_their_fault_in_the_specs_keys() {
        let r = RequestRecord {
            seq: 1,
            method: "POST".into(),
            path: "/projects/p/branches".into(),
            query: String::new(),
            body: json!({ "branch": { "name": "x" } }),
            fault: Some(FaultAction::DropAnswer),
            applied: true,
            answer: Answer::Dropped,
        };
        let v = r.to_json();
        assert_eq!(v["fault"], json!({ "drop_answer": true }));
        assert_eq!(v["answer"], "dropped");
        assert_eq!(v["applied"], true);
        // What the log shows can be injected again as it is.
        let again: FaultSpec = serde_json::from_value(v["fault"].clone()).expect("a spec");
        assert!(matches!(
            again.into_fault().map(|f| f.action),
            Ok(FaultAction::DropAnswer)
        ));
    }
}

//! The `neon` provider: test Neon database branches through the Neon API v2.
//!
//! A test Neon database branch is a copy-on-write child of the main Neon database branch
//! (the project's `default: true` one, or the configured `parent` by exact name), created
//! with an `expires_at` (so it dies on its own even if neon-migrate is killed), one
//! `read_write` endpoint, and annotations that say who made it: `created-by: neon-migrate`,
//! the git branch, the commit sha, the pipeline, and a per-run id. Those annotations are the
//! only thing that lets neon-migrate touch a Neon database branch again: `list` and `gc` see
//! only annotated ones, and `delete` refuses anything else.
//!
//! Neon's API is asynchronous: a create or delete answers at once with `operations` that run
//! in the background, and a connection before they finish fails in odd ways (wrong-password
//! errors, dropped sockets). So every mutation waits until each of its operations is
//! `finished` or `skipped`, polling with backoff, bounded by `operation-timeout`; `failed`,
//! `error` and `cancelled` stop with Neon's own error text.
//!
//! Retries (see `api.rs`): 423 and 503 always, 429 after its `Retry-After`, GETs also after
//! network errors — but a create or delete whose answer was lost is never simply sent again,
//! because Neon may have applied it. We look first: a create looks its name up (the per-run
//! annotation tells our own lost create from a leftover of an earlier run), a delete gets the
//! Neon database branch (404 means it is gone).
//!
//! The never-fall-back rule: a connection string is used only when its host is the
//! `read_write` endpoint of the Neon database branch it is for. When anything is unclear —
//! no endpoint, several, a URI with several hosts or a `host=` override, another host — we
//! refuse. An earlier Neon GitHub action handed out the main Neon database branch's URL when
//! its lookup failed, and migrations meant for a test ran on production; a refusal costs a
//! rerun, that mistake costs a production database.

mod api;
mod create;
mod model;
mod settings;
mod uri;

pub use settings::NeonSettings;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::config::{duration, NeonConfig, NEON_API_HOST};
use crate::providers::{
    CreateRequest, DbBranch, DbBranchInfo, DeleteOutcome, Owner, Provider, ProviderError,
};
use crate::secret::{Redactor, Secret};
pub use api::REQUEST_TIMEOUT;

/// A new random run id (see [`crate::providers::new_run_id`]).
pub(crate) fn new_run_id() -> String {
    api::new_request_id()
}
use api::{Api, ApiError, Reply};
use model::*;

/// Environment variable with the project id when the config has none.
pub const ENV_PROJECT_ID: &str = "NEON_PROJECT_ID";
/// Environment variable with the API base URL when the config has none.
pub const ENV_API_HOST: &str = "NEON_API_HOST";

/// Annotation key and value that mark a Neon database branch as neon-migrate's.
pub const CREATED_BY_KEY: &str = "created-by";
pub const CREATED_BY: &str = "neon-migrate";
/// Annotation keys: the git branch and commit a test Neon database branch was made for.
pub const GIT_BRANCH_KEY: &str = "neon-migrate-git-branch";
pub const GIT_SHA_KEY: &str = "neon-migrate-git-sha";
/// Annotation key: the pipeline that made it.
pub const PIPELINE_KEY: &str = "neon-migrate-pipeline";
/// Annotation key: the id of the run that created it. It tells a create of ours whose answer
/// was lost from a leftover of an earlier run, and lets every later stage check that the Neon
/// database branch it is about to use is still this run's.
pub const RUN_KEY: &str = "neon-migrate-run";

/// Page size when listing Neon database branches (Neon caps pages at 100).
const PAGE_LIMIT: &str = "100";
/// Guard against a server whose cursors never end.
const MAX_PAGES: usize = 10_000;
/// First and longest pause between polls of an operation.
const POLL_START: Duration = Duration::from_millis(100);
const POLL_CAP: Duration = Duration::from_secs(2);
/// Create attempts: a lost answer or a leftover to replace each cost one.
const CREATE_ROUNDS: u32 = 4;
/// Delete attempts after lost answers.
const DELETE_ROUNDS: u32 = 3;

pub struct NeonProvider {
    api: Api,
    project: String,
    key_env: String,
    parent: Parent,
    database: String,
    role: String,
    operation_timeout: Duration,
    redactor: Redactor,
}

/// The parent of test Neon database branches: the main Neon database branch.
#[derive(Debug, Clone, Default)]
struct Parent {
    id: String,
    name: String,
}

/// How an operation stands (Neon's SDK reads the statuses the same way).
#[derive(Debug, PartialEq, Eq)]
enum OpState {
    Done,
    Failed,
    Pending,
}

fn op_state(status: &str) -> OpState {
    match status {
        "finished" | "skipped" => OpState::Done,
        "failed" | "error" | "cancelled" => OpState::Failed,
        // `scheduling`, `running`, `cancelling`, and anything new.
        _ => OpState::Pending,
    }
}

/// `now + ttl` as Neon's `expires_at`: RFC 3339 UTC, second precision (`2026-11-25T16:02:16Z`).
pub fn expires_at(now: DateTime<Utc>, ttl: Duration) -> String {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(4));
    (now + ttl).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Ids go into URL paths: only the characters Neon's ids are made of.
fn check_id(what: &str, id: &str) -> Result<(), ProviderError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ProviderError::new(format!(
            "`{id}` is not a Neon {what} (only letters, digits, `-` and `_`)"
        )))
    }
}

fn prefix(e: ProviderError, context: &str) -> ProviderError {
    e.context(context)
}

impl NeonProvider {
    /// Opens the provider from the config: reads the project id, base URL and API key (see
    /// [`NeonSettings::from_config`]), then [`NeonProvider::open_with`].
    pub async fn open(
        cfg: &NeonConfig,
        redactor: &Redactor,
    ) -> Result<NeonProvider, ProviderError> {
        let settings = NeonSettings::from_config(cfg)?;
        NeonProvider::open_with(settings, redactor).await
    }

    /// Opens the provider from resolved settings: registers the key with the redactor and
    /// resolves the parent Neon database branch (which also proves the key works).
    pub async fn open_with(
        settings: NeonSettings,
        redactor: &Redactor,
    ) -> Result<NeonProvider, ProviderError> {
        redactor.add(settings.api_key.expose());
        check_id("project id", &settings.project_id)?;
        let base = settings.api_host.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ProviderError::new(format!(
                "the Neon API base URL `{base}` is not an http(s) URL"
            ))
            .help(format!(
                "fix `api-host` under [provider] or {ENV_API_HOST}; the default is `{NEON_API_HOST}`"
            )));
        }
        let api = Api::new(
            &base,
            settings.api_key,
            settings.request_timeout,
            redactor.clone(),
        )
        .map_err(|e| {
            ProviderError::new(format!(
                "cannot set up the HTTP client for the Neon API: {e}"
            ))
        })?;
        let mut provider = NeonProvider {
            api,
            project: settings.project_id,
            key_env: settings.api_key_env,
            parent: Parent::default(),
            database: settings.database,
            role: settings.role,
            operation_timeout: settings.operation_timeout,
            redactor: redactor.clone(),
        };
        provider.parent = provider.resolve_parent(settings.parent.as_deref()).await?;
        Ok(provider)
    }

    fn path(&self, rest: &str) -> String {
        format!("/projects/{}{rest}", self.project)
    }

    /// A failed call as a provider error, with help where we know the fix.
    fn api_error(&self, e: ApiError) -> ProviderError {
        let text = self.redactor.redact(&e.to_string());
        match e.status() {
            Some(401 | 403) => ProviderError::new(format!(
                "the Neon API rejected the API key in ${}: {text}",
                self.key_env
            ))
            .help(format!(
                "put a valid Neon API key with access to project `{}` in the environment variable {} \
                 (Neon Console → Account settings → API keys)",
                self.project, self.key_env
            )),
            // Listing a project's Neon database branches only fails so when the project is not there.
            Some(404) if e.path().split('?').next() == Some(self.path("/branches").as_str()) => {
                ProviderError::new(text).help(format!(
                    "check `project-id` under [provider] (or {ENV_PROJECT_ID}): the key in {} has no project `{}`",
                    self.key_env, self.project
                ))
            }
            _ if e.is_transport() => ProviderError::new(text).help(format!(
                "check the network, and that {} is the Neon API (`api-host` under [provider], or {ENV_API_HOST})",
                self.api.base()
            )),
            _ => ProviderError::new(text),
        }
    }

    /// The body of an answer as `T`.
    fn decode<T: DeserializeOwned>(&self, reply: Reply) -> Result<T, ProviderError> {
        serde_json::from_value(reply.body).map_err(|e| {
            ProviderError::new(self.redactor.redact(&format!(
                "unexpected answer to {} {} ({}): {e} (request id {})",
                reply.method, reply.path, reply.status, reply.request_id
            )))
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ProviderError> {
        let reply = self
            .api
            .get(path, query)
            .await
            .map_err(|e| self.api_error(e))?;
        self.decode(reply)
    }

    /// Every Neon database branch matching `search` (a substring of name or id), following
    /// `pagination.next` until it is empty or a page is.
    async fn list_db_branches(&self, search: Option<&str>) -> Result<Listing, ProviderError> {
        let path = self.path("/branches");
        let mut listing = Listing::default();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("limit", PAGE_LIMIT)];
            if let Some(s) = search {
                query.push(("search", s));
            }
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            let page: ListReply = self.get(&path, &query).await?;
            let empty = page.branches.is_empty();
            for b in page.branches {
                if seen.insert(b.id.clone()) {
                    listing.db_branches.push(b);
                }
            }
            listing.annotations.extend(page.annotations);
            let next = page
                .pagination
                .and_then(|p| p.next)
                .filter(|n| !n.is_empty());
            match next {
                Some(next) if !empty && cursor.as_deref() != Some(next.as_str()) => {
                    cursor = Some(next)
                }
                _ => return Ok(listing),
            }
        }
        Err(ProviderError::new(format!(
            "listing the Neon database branches of project `{}` did not end after {MAX_PAGES} pages",
            self.project
        )))
    }

    /// The Neon database branch named exactly `name`, with its annotation.
    async fn find_by_name(
        &self,
        name: &str,
    ) -> Result<Option<(ApiDbBranch, Annotation)>, ProviderError> {
        let listing = self.list_db_branches(Some(name)).await?;
        let mut exact = listing.db_branches.iter().filter(|b| b.name == name);
        let Some(found) = exact.next() else {
            return Ok(None);
        };
        if exact.next().is_some() {
            return Err(ProviderError::new(format!(
                "several Neon database branches are named `{name}` in project `{}`",
                self.project
            )));
        }
        Ok(Some((found.clone(), listing.annotation(&found.id))))
    }

    async fn resolve_parent(&self, name: Option<&str>) -> Result<Parent, ProviderError> {
        let context = "cannot find the main Neon database branch";
        let found = match name {
            Some(name) => self
                .find_by_name(name)
                .await
                .map_err(|e| prefix(e, context))?
                .map(|(b, _)| b)
                .ok_or_else(|| {
                    ProviderError::new(format!(
                        "{context}: project `{}` has no Neon database branch named `{name}`",
                        self.project
                    ))
                    .help("`parent` under [provider] is an exact name, as the Neon Console shows it; remove it to use the project's default Neon database branch")
                })?,
            None => {
                let listing = self
                    .list_db_branches(None)
                    .await
                    .map_err(|e| prefix(e, context))?;
                let mut defaults = listing.db_branches.into_iter().filter(|b| b.is_default());
                let first = defaults.next().ok_or_else(|| {
                    ProviderError::new(format!(
                        "{context}: project `{}` has no default Neon database branch",
                        self.project
                    ))
                    .help("name the parent with `parent` under [provider]")
                })?;
                if defaults.next().is_some() {
                    return Err(ProviderError::new(format!(
                        "{context}: project `{}` has several default Neon database branches",
                        self.project
                    ))
                    .help("name the parent with `parent` under [provider]"));
                }
                first
            }
        };
        check_id("Neon database branch id", &found.id)?;
        Ok(Parent {
            id: found.id,
            name: found.name,
        })
    }

    /// `GET …/branches/{id}`; `None` when it does not exist.
    async fn get_db_branch(
        &self,
        id: &str,
    ) -> Result<Option<(ApiDbBranch, Annotation)>, ProviderError> {
        match self
            .api
            .get(&self.path(&format!("/branches/{id}")), &[])
            .await
        {
            Ok(reply) => {
                let r: GetReply = self.decode(reply)?;
                let annotation = Annotation::of(r.annotation.as_ref());
                Ok(Some((r.branch, annotation)))
            }
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(self.api_error(e)),
        }
    }

    /// Waits until every operation is `finished` or `skipped`.
    async fn wait_operations(&self, ops: &[Operation], what: &str) -> Result<(), ProviderError> {
        let deadline = Instant::now() + self.operation_timeout;
        let mut pending: Vec<Operation> = Vec::new();
        for op in ops {
            match op_state(&op.status) {
                OpState::Done => {}
                OpState::Failed => return Err(self.operation_failed(op, what)),
                OpState::Pending => pending.push(op.clone()),
            }
        }
        let mut pause = POLL_START;
        while !pending.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                let list: Vec<String> = pending
                    .iter()
                    .map(|op| format!("`{}` ({}, id {})", op.action, op.status, op.id))
                    .collect();
                return Err(ProviderError::new(format!(
                    "Neon's operations for {what} did not finish within {}: {} still pending",
                    duration::format(self.operation_timeout),
                    list.join(", ")
                ))
                .help("raise `operation-timeout` under [provider], or look at the project's operations in the Neon Console"));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(POLL_CAP);
            let mut still = Vec::new();
            for op in pending {
                check_id("operation id", &op.id)?;
                let r: OperationReply = self
                    .get(&self.path(&format!("/operations/{}", op.id)), &[])
                    .await?;
                match op_state(&r.operation.status) {
                    OpState::Done => {}
                    OpState::Failed => return Err(self.operation_failed(&r.operation, what)),
                    OpState::Pending => still.push(r.operation),
                }
            }
            pending = still;
        }
        Ok(())
    }

    fn operation_failed(&self, op: &Operation, what: &str) -> ProviderError {
        let error = op
            .error
            .as_deref()
            .filter(|e| !e.is_empty())
            .unwrap_or("Neon gave no error text");
        ProviderError::new(self.redactor.redact(&format!(
            "Neon's operation `{}` for {what} ended `{}`: {error} (operation id {})",
            op.action, op.status, op.id
        )))
    }

    /// Waits until the Neon database branch has left `init`/`resetting`; returns it as it
    /// is then.
    async fn wait_ready(&self, id: &str, what: &str) -> Result<ApiDbBranch, ProviderError> {
        let deadline = Instant::now() + self.operation_timeout;
        let mut pause = POLL_START;
        loop {
            let (b, _) = self.get_db_branch(id).await?.ok_or_else(|| {
                ProviderError::new(format!("{what} ({id}) vanished while it was being created"))
            })?;
            let state = b.current_state.clone().unwrap_or_default();
            if !matches!(state.as_str(), "init" | "resetting") {
                return Ok(b);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ProviderError::new(format!(
                    "{what} ({id}) is still `{state}` after {}",
                    duration::format(self.operation_timeout)
                ))
                .help("raise `operation-timeout` under [provider]"));
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(POLL_CAP);
        }
    }

    /// The host of the one `read_write` endpoint of Neon database branch `id`: from `known`
    /// (a create answer) when it is there, else from `GET …/branches/{id}/endpoints`.
    async fn rw_endpoint_host(
        &self,
        id: &str,
        known: &[Endpoint],
        what: &str,
    ) -> Result<String, ProviderError> {
        let pick = |endpoints: &[Endpoint]| -> Vec<Endpoint> {
            endpoints
                .iter()
                .filter(|e| e.kind == "read_write" && e.branch_id == id)
                .cloned()
                .collect()
        };
        let mut rw = pick(known);
        if rw.is_empty() {
            let r: EndpointsReply = self
                .get(&self.path(&format!("/branches/{id}/endpoints")), &[])
                .await?;
            rw = pick(&r.endpoints);
        }
        let help = "neon-migrate only connects through the read_write endpoint of the Neon database branch it means, and never falls back to another one";
        match rw.as_slice() {
            [one] if !one.host.trim().is_empty() => Ok(one.host.trim().to_owned()),
            [one] => Err(ProviderError::new(format!(
                "refusing to connect to {what}: its read_write endpoint {} has no host",
                one.id
            ))
            .help(help)),
            [] => Err(ProviderError::new(format!(
                "refusing to connect to {what}: Neon lists no read_write endpoint for it ({id})"
            ))
            .help(help)),
            many => Err(ProviderError::new(format!(
                "refusing to connect to {what}: Neon lists {} read_write endpoints for it ({id})",
                many.len()
            ))
            .help(help)),
        }
    }

    /// `GET /connection_uri` for Neon database branch `id` with the configured database and
    /// role (never pooled: migrations need a session).
    async fn connection_uri(&self, id: &str, what: &str) -> Result<String, ProviderError> {
        let query = [
            ("branch_id", id),
            ("database_name", self.database.as_str()),
            ("role_name", self.role.as_str()),
        ];
        match self.api.get(&self.path("/connection_uri"), &query).await {
            Ok(reply) => {
                let r: UriReply = self.decode(reply)?;
                self.redactor.add_url(r.uri.expose());
                Ok(r.uri.expose().clone())
            }
            Err(e) => {
                let not_found = e.status() == Some(404);
                let err = prefix(
                    self.api_error(e),
                    &format!("cannot get the connection string of {what}"),
                );
                Err(if not_found && err.help_text().is_none() {
                    err.help(format!(
                        "check `database` (now `{}`) and `role` (now `{}`) under [provider]",
                        self.database, self.role
                    ))
                } else {
                    err
                })
            }
        }
    }

    /// The connection string, once it is proven to lead to `endpoint_host`; TLS added when
    /// it leaves the machine.
    fn checked_url(
        &self,
        uri: &str,
        endpoint_host: &str,
        what: &str,
    ) -> Result<Secret<String>, ProviderError> {
        self.redactor.add_url(uri);
        let help = "neon-migrate only uses a connection string whose host is the read_write endpoint of the Neon database branch it means, and never falls back to another one";
        let target = uri::target_of(uri).map_err(|why| {
            ProviderError::new(format!(
                "refusing the connection string Neon gave for {what}: {why}"
            ))
            .help(help)
        })?;
        if !uri::is_endpoint(&target, endpoint_host) {
            return Err(ProviderError::new(format!(
                "refusing the connection string Neon gave for {what}: it leads to `{}:{}`, but the read_write endpoint of {what} is `{endpoint_host}`",
                target.host, target.port
            ))
            .help(help));
        }
        let url = uri::with_tls(uri, &target);
        self.redactor.add_url(&url);
        Ok(Secret::new(url))
    }

    /// `DELETE …/branches/{id}` and wait for its operations. A lost answer is followed by a
    /// look, not by a blind resend.
    async fn delete_and_wait(&self, id: &str) -> Result<DeleteOutcome, ProviderError> {
        check_id("Neon database branch id", id)?;
        if id == self.parent.id {
            return Err(ProviderError::new(format!(
                "refusing to delete {id}: it is the main Neon database branch"
            )));
        }
        let path = self.path(&format!("/branches/{id}"));
        let mut last = None;
        for round in 1..=DELETE_ROUNDS {
            match self.api.call(Method::DELETE, &path, &[], None).await {
                Ok(reply) if reply.status == 204 => return Ok(DeleteOutcome::AlreadyGone),
                Ok(reply) => {
                    let r: DeleteReply = self.decode(reply)?;
                    self.wait_operations(&r.operations, &format!("deleting {id}"))
                        .await?;
                    return Ok(DeleteOutcome::Deleted);
                }
                Err(e) if e.status() == Some(404) => return Ok(DeleteOutcome::AlreadyGone),
                Err(e) if e.maybe_applied() => {
                    // Neon may have applied it: look before sending it again.
                    if self.get_db_branch(id).await?.is_none() {
                        return Ok(DeleteOutcome::Deleted);
                    }
                    last = Some(e);
                    tokio::time::sleep(api::backoff(round, api::random_u64())).await;
                }
                Err(e) => return Err(self.api_error(e)),
            }
        }
        Err(match last {
            Some(e) => self.api_error(e),
            None => ProviderError::new(format!("cannot delete {id}")),
        })
    }
}

#[async_trait::async_trait]
impl Provider for NeonProvider {
    fn describe(&self) -> String {
        format!(
            "neon (project {}, API {}, parent {})",
            self.project,
            self.api.base(),
            self.parent.name
        )
    }

    async fn main_db_branch(&self) -> Result<DbBranch, ProviderError> {
        let what = format!("the main Neon database branch {}", self.parent.name);
        let host = self.rw_endpoint_host(&self.parent.id, &[], &what).await?;
        let uri = self.connection_uri(&self.parent.id, &what).await?;
        let url = self.checked_url(&uri, &host, &what)?;
        Ok(DbBranch {
            name: self.parent.name.clone(),
            id: self.parent.id.clone(),
            parent: String::new(),
            url,
            expires_at: None,
        })
    }

    async fn create(&self, req: &CreateRequest) -> Result<DbBranch, ProviderError> {
        self.create_db_branch(req).await
    }

    async fn delete(&self, id: &str) -> Result<DeleteOutcome, ProviderError> {
        check_id("Neon database branch id", id)?;
        let Some((b, annotation)) = self.get_db_branch(id).await? else {
            return Ok(DeleteOutcome::AlreadyGone);
        };
        let refusal = if id == self.parent.id || b.is_default() {
            Some("it is the main Neon database branch")
        } else if b.is_protected() {
            Some("it is protected")
        } else if !annotation.is_ours() {
            Some("it was not created by neon-migrate")
        } else {
            None
        };
        if let Some(why) = refusal {
            return Err(ProviderError::new(format!(
                "refusing to delete the Neon database branch {} ({id}): {why}",
                b.name
            )));
        }
        self.delete_and_wait(id).await
    }

    async fn owner(&self, b: &DbBranch, run_id: &str) -> Result<Owner, ProviderError> {
        check_id("Neon database branch id", &b.id)?;
        let Some((found, annotation)) = self.get_db_branch(&b.id).await? else {
            return Ok(Owner::Gone);
        };
        if annotation.is_ours() && annotation.get(RUN_KEY) == Some(run_id) {
            return Ok(Owner::ThisRun);
        }
        Ok(Owner::Other(if annotation.is_ours() {
            format!(
                "run {} of git branch `{}` (pipeline {}, created {})",
                annotation.get(RUN_KEY).unwrap_or("?"),
                annotation.get(GIT_BRANCH_KEY).unwrap_or("?"),
                annotation.get(PIPELINE_KEY).unwrap_or("?"),
                found.created_at.as_deref().unwrap_or("?")
            )
        } else {
            format!(
                "a Neon database branch neon-migrate did not create ({})",
                found.name
            )
        }))
    }

    /// `POST …/branches/{main}/restore` from the restore point, keeping main's current
    /// state under `preserve_as`; waits for its operations.
    async fn restore_main(
        &self,
        from: &DbBranchInfo,
        preserve_as: &str,
    ) -> Result<(), ProviderError> {
        check_id("Neon database branch id", &from.id)?;
        let path = self.path(&format!("/branches/{}/restore", self.parent.id));
        let body =
            serde_json::json!({ "source_branch_id": from.id, "preserve_under_name": preserve_as });
        let reply = self
            .api
            .call(Method::POST, &path, &[], Some(&body))
            .await
            .map_err(|e| self.api_error(e))?;
        let r: DeleteReply = self.decode(reply)?;
        self.wait_operations(
            &r.operations,
            &format!("restoring {} from {}", self.parent.name, from.name),
        )
        .await
    }

    /// Test Neon database branches of this parent that carry our `created-by` annotation.
    /// One without `expires_at` is skipped: neon-migrate always sets one, so it was changed
    /// by hand (someone wants to keep it), and `gc` could not judge it anyway.
    async fn list(&self) -> Result<Vec<DbBranchInfo>, ProviderError> {
        let listing = self
            .list_db_branches(None)
            .await
            .map_err(|e| prefix(e, "cannot list Neon database branches"))?;
        let mut out: Vec<DbBranchInfo> = listing
            .db_branches
            .iter()
            .filter(|b| b.parent_id.as_deref() == Some(self.parent.id.as_str()))
            .filter_map(|b| {
                let annotation = listing.annotation(&b.id);
                if !annotation.is_ours() || b.is_default() || b.is_protected() {
                    return None;
                }
                let expires_at = parse_time(b.expires_at.as_deref())?;
                Some(DbBranchInfo {
                    name: b.name.clone(),
                    id: b.id.clone(),
                    parent: self.parent.name.clone(),
                    created_at: parse_time(b.created_at.as_deref()).unwrap_or(expires_at),
                    expires_at,
                    git_branch: annotation
                        .get(GIT_BRANCH_KEY)
                        .unwrap_or_default()
                        .to_owned(),
                    git_sha: annotation.get(GIT_SHA_KEY).unwrap_or_default().to_owned(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::create::create_body;
    use super::*;
    use serde_json::Value;

    #[test]
    fn expires_at_is_rfc3339_utc_with_second_precision() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:02:16.987654+00:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            expires_at(now, Duration::from_secs(4 * 3600)),
            "2026-11-25T16:02:16Z"
        );
        assert_eq!(
            expires_at(now, Duration::from_secs(30 * 86_400)),
            "2026-12-25T12:02:16Z"
        );
    }

    fn config(key_env: &str, project_id: Option<&str>) -> NeonConfig {
        NeonConfig {
            project_id: project_id.map(Into::into),
            api_key_env: key_env.into(),
            api_host: None,
            parent: None,
            database: "neondb".into(),
            role: "neondb_owner".into(),
            operation_timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn settings_need_a_key_from_the_environment_and_a_project_id() {
        let missing = "NEON_MIGRATE_UNIT_TEST_NO_SUCH_VARIABLE";
        let e = NeonSettings::from_config(&config(missing, Some("p-1")))
            .err()
            .expect("no key, no settings");
        assert!(
            e.to_string().contains(&format!("`{missing}` is not set")),
            "{e}"
        );
        let help = e.help_text().unwrap_or_default();
        assert!(help.contains(&format!("export {missing}=<key>")), "{help}");
        // PATH is always set: it stands in for a key here.
        if std::env::var_os(ENV_PROJECT_ID).is_none() {
            let e = NeonSettings::from_config(&config("PATH", None))
                .err()
                .expect("no project id, no settings");
            assert_eq!(e.to_string(), "no Neon project id");
            assert!(e
                .help_text()
                .unwrap_or_default()
                .contains("`project-id` under [provider]"));
        }
        if std::env::var_os(ENV_API_HOST).is_none() {
            let s = NeonSettings::from_config(&config("PATH", Some("p-1"))).expect("settings");
            assert_eq!(s.api_host, NEON_API_HOST);
            assert_eq!(s.project_id, "p-1");
        }
    }

    #[test]
    fn operation_statuses() {
        for s in ["finished", "skipped"] {
            assert_eq!(op_state(s), OpState::Done, "{s}");
        }
        for s in ["failed", "error", "cancelled"] {
            assert_eq!(op_state(s), OpState::Failed, "{s}");
        }
        for s in ["scheduling", "running", "cancelling", "something-new", ""] {
            assert_eq!(op_state(s), OpState::Pending, "{s}");
        }
    }

    fn request() -> CreateRequest {
        CreateRequest {
            name: "migrate/feature/x".into(),
            ttl: Duration::from_secs(3600),
            git_branch: "feature/x".into(),
            git_sha: "0123456789abcdef".into(),
            pipeline: "pre-push".into(),
            run_id: "run-1".into(),
        }
    }

    #[test]
    fn create_body_has_the_documented_shape() {
        let body = create_body("br-main-1", &request(), "run-1", "2026-11-25T16:02:16Z");
        assert_eq!(
            body,
            serde_json::json!({
                "branch": {
                    "parent_id": "br-main-1",
                    "name": "migrate/feature/x",
                    "expires_at": "2026-11-25T16:02:16Z"
                },
                "endpoints": [{"type": "read_write"}],
                "annotation_value": {
                    "created-by": "neon-migrate",
                    "neon-migrate-git-branch": "feature/x",
                    "neon-migrate-git-sha": "0123456789abcdef",
                    "neon-migrate-pipeline": "pre-push",
                    "neon-migrate-run": "run-1"
                }
            })
        );
    }

    #[test]
    fn annotations_are_read_from_the_value_object() {
        let listed = serde_json::json!({
            "object": {"type": "console/branch", "id": "br-a"},
            "value": {"created-by": "neon-migrate", "neon-migrate-git-branch": "main"},
            "created_at": "2026-11-25T12:00:00Z"
        });
        let a = Annotation::of(Some(&listed));
        assert!(a.is_ours());
        assert_eq!(a.get(GIT_BRANCH_KEY), Some("main"));
        assert!(!Annotation::of(None).is_ours());
        assert!(!Annotation::of(Some(&Value::Null)).is_ours());
        let foreign = serde_json::json!({"value": {"created-by": "someone"}});
        assert!(!Annotation::of(Some(&foreign)).is_ours());
    }

    #[test]
    fn neon_json_with_nulls_and_missing_fields_decodes() {
        let reply: CreateReply = serde_json::from_value(serde_json::json!({
            "branch": {"id": "br-a-b-c", "name": "n", "parent_id": "br-p", "default": false,
                       "expires_at": null, "created_by": null, "current_state": "init"},
            "endpoints": [{"id": "ep-a", "host": "ep-a.example", "branch_id": "br-a-b-c", "type": "read_write"}],
            "operations": [{"id": "op-1", "action": "create_branch", "status": "running"}],
            "roles": [], "databases": [], "connection_uris": null
        }))
        .unwrap();
        assert_eq!(reply.endpoints[0].kind, "read_write");
        assert!(reply.connection_uris.is_empty());
        assert!(!reply.branch.is_default());
        let listing: ListReply = serde_json::from_value(serde_json::json!({
            "branches": [{"id": "br-a", "name": "main", "primary": true}]
        }))
        .unwrap();
        assert!(listing.branches[0].is_default());
        assert!(listing.pagination.is_none());
    }

    #[test]
    fn ids_are_checked_before_they_go_into_paths() {
        for ok in ["br-quiet-river-a1b2c3d4", "test-project-123", "p_1"] {
            assert!(check_id("id", ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", "a/b", "br a", "x?y=1", "%2F"] {
            assert!(check_id("id", bad).is_err(), "{bad}");
        }
    }
}

//! Creating a test Neon database branch: the request, the look under its name after a 409
//! or a lost answer, and the checks between Neon's answer and a connection string we trust.

use chrono::Utc;
use reqwest::Method;
use serde_json::{Map, Value};

use super::model::*;
use super::{
    api, check_id, expires_at, op_state, parse_time, prefix, NeonProvider, OpState, CREATED_BY,
    CREATED_BY_KEY, CREATE_ROUNDS, GIT_BRANCH_KEY, GIT_SHA_KEY, PAGE_LIMIT, PIPELINE_KEY, RUN_KEY,
};
use crate::providers::{CreateRequest, DbBranch, ProviderError};

/// What a create found under its name after a 409 or a lost answer.
enum Existing {
    /// Nothing: the name is free (again).
    None,
    /// Made by this very create call (its answer was lost).
    ThisRun(ApiDbBranch),
    /// A leftover of an earlier run for the same git branch: ours to replace.
    Leftover(ApiDbBranch),
    /// Somebody else's.
    Foreign(ApiDbBranch, Annotation),
}

/// What a create answered (or what we found for a create whose answer was lost).
struct Created {
    db_branch: ApiDbBranch,
    endpoints: Vec<Endpoint>,
    operations: Vec<Operation>,
    connection_uris: Vec<ConnectionDetails>,
}

/// The annotation we give a test Neon database branch.
pub(super) fn annotation_value(req: &CreateRequest, run: &str) -> Map<String, Value> {
    let mut value = Map::new();
    for (k, v) in [
        (CREATED_BY_KEY, CREATED_BY),
        (GIT_BRANCH_KEY, req.git_branch.as_str()),
        (GIT_SHA_KEY, req.git_sha.as_str()),
        (PIPELINE_KEY, req.pipeline.as_str()),
        (RUN_KEY, run),
    ] {
        value.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    value
}

/// The body of `POST /projects/{p}/branches`.
pub(super) fn create_body(parent_id: &str, req: &CreateRequest, run: &str, expires: &str) -> Value {
    let mut db_branch = Map::new();
    db_branch.insert("parent_id".into(), parent_id.into());
    db_branch.insert("name".into(), req.name.clone().into());
    db_branch.insert("expires_at".into(), expires.into());
    let mut endpoint = Map::new();
    endpoint.insert("type".into(), "read_write".into());
    let mut body = Map::new();
    body.insert("branch".into(), Value::Object(db_branch));
    body.insert(
        "endpoints".into(),
        Value::Array(vec![Value::Object(endpoint)]),
    );
    body.insert(
        "annotation_value".into(),
        Value::Object(annotation_value(req, run)),
    );
    Value::Object(body)
}

impl NeonProvider {
    /// `POST …/branches` with a TTL, one `read_write` endpoint and our annotations; a 409 or
    /// a lost answer is followed by a look under the name (ours from this run, a leftover of
    /// this git branch to replace, or somebody else's to refuse), never a blind resend.
    pub(super) async fn create_db_branch(
        &self,
        req: &CreateRequest,
    ) -> Result<DbBranch, ProviderError> {
        if req.name == self.parent.name {
            return Err(ProviderError::new(format!(
                "the test Neon database branch name `{}` is the main Neon database branch's name",
                req.name
            ))
            .help("change `name` under [neon-database-branch]"));
        }
        let run = req.run_id.clone();
        let expires = expires_at(Utc::now(), req.ttl);
        let body = create_body(&self.parent.id, req, &run, &expires);
        let path = self.path("/branches");
        let mut last = None;
        for round in 1..=CREATE_ROUNDS {
            let err = match self.api.call(Method::POST, &path, &[], Some(&body)).await {
                Ok(reply) => match self.decode::<CreateReply>(reply) {
                    Ok(r) => {
                        let created = Created {
                            db_branch: r.branch,
                            endpoints: r.endpoints,
                            operations: r.operations,
                            connection_uris: r.connection_uris,
                        };
                        return self.finish(req, created).await;
                    }
                    // Created, but we cannot read what: find it by name below.
                    Err(e) => e,
                },
                Err(e) if e.status() == Some(409) || e.maybe_applied() => self.api_error(e),
                Err(e) => return Err(self.api_error(e)),
            };
            match self.existing(req, &run).await? {
                Existing::None => {
                    // The name is free: the lost create was not applied, or the holder is gone.
                    last = Some(err);
                    tokio::time::sleep(api::backoff(round, api::random_u64())).await;
                }
                Existing::ThisRun(b) => {
                    let operations = self.operations_of(&b.id).await?;
                    let created = Created {
                        db_branch: b,
                        endpoints: Vec::new(),
                        operations,
                        connection_uris: Vec::new(),
                    };
                    return self.finish(req, created).await;
                }
                Existing::Leftover(b) => {
                    // A rerun: the earlier run of this git branch left it (interrupted, or
                    // its delete failed). Replace it.
                    self.delete_and_wait(&b.id).await.map_err(|e| {
                        prefix(
                            e,
                            &format!(
                                "cannot replace the leftover test Neon database branch {} ({})",
                                b.name, b.id
                            ),
                        )
                    })?;
                    last = Some(err);
                }
                Existing::Foreign(b, annotation) => {
                    return Err(self.foreign(req, &b, &annotation));
                }
            }
        }
        Err(last.unwrap_or_else(|| ProviderError::new("cannot create it")))
    }

    /// After a 409 or a lost answer: what is there under `req.name` now.
    async fn existing(&self, req: &CreateRequest, run: &str) -> Result<Existing, ProviderError> {
        let Some((b, annotation)) = self.find_by_name(&req.name).await? else {
            return Ok(Existing::None);
        };
        if b.id == self.parent.id || b.is_default() || b.is_protected() {
            return Ok(Existing::Foreign(b, annotation));
        }
        if annotation.is_ours() && annotation.get(RUN_KEY) == Some(run) {
            return Ok(Existing::ThisRun(b));
        }
        if annotation.is_ours() && annotation.get(GIT_BRANCH_KEY) == Some(req.git_branch.as_str()) {
            return Ok(Existing::Leftover(b));
        }
        Ok(Existing::Foreign(b, annotation))
    }

    /// Why a Neon database branch that holds our name is not ours to replace.
    fn foreign(
        &self,
        req: &CreateRequest,
        b: &ApiDbBranch,
        annotation: &Annotation,
    ) -> ProviderError {
        let whose = if b.id == self.parent.id || b.is_default() {
            "it is the main Neon database branch".to_owned()
        } else if b.is_protected() {
            "it is protected".to_owned()
        } else if annotation.is_ours() {
            let sha = annotation
                .get(GIT_SHA_KEY)
                .filter(|s| !s.is_empty())
                .map(|s| format!(" at commit {}", &s[..s.len().min(12)]))
                .unwrap_or_default();
            format!(
                "neon-migrate created it for git branch `{}`{sha}, not for this git branch `{}`",
                annotation.get(GIT_BRANCH_KEY).unwrap_or("?"),
                req.git_branch
            )
        } else {
            let mut facts = Vec::new();
            if let Some(s) = b.creation_source.as_deref().filter(|s| !s.is_empty()) {
                facts.push(format!("creation source `{s}`"));
            }
            if let Some(n) = b
                .created_by
                .as_ref()
                .and_then(|c| c.name.as_deref())
                .filter(|n| !n.is_empty())
            {
                facts.push(format!("created by {n}"));
            }
            if let Some(t) = b.created_at.as_deref() {
                facts.push(format!("created {t}"));
            }
            let facts = if facts.is_empty() {
                String::new()
            } else {
                format!(" ({})", facts.join(", "))
            };
            format!("neon-migrate did not create it{facts}")
        };
        ProviderError::new(format!(
            "a Neon database branch named `{}` already exists ({}), and {whose}; neon-migrate only replaces its own leftovers of the same git branch",
            req.name, b.id
        ))
        .help(format!(
            "give test Neon database branches another name with `name` under [neon-database-branch] (e.g. \"migrate/{{{{git.branch}}}}-{{{{git.short_sha}}}}\"), or rename or delete `{}` in the Neon Console if nobody needs it",
            req.name
        ))
    }

    /// Operations that still run on Neon database branch `id` (for a create whose answer,
    /// and so whose operations, were lost).
    async fn operations_of(&self, id: &str) -> Result<Vec<Operation>, ProviderError> {
        let r: OperationsReply = self
            .get(&self.path("/operations"), &[("limit", PAGE_LIMIT)])
            .await?;
        Ok(r.operations
            .into_iter()
            .filter(|op| {
                op.branch_id.as_deref() == Some(id) && op_state(&op.status) != OpState::Done
            })
            .collect())
    }

    /// From a create answer to a connection string we trust. On any failure, deletes what
    /// was created: the TTL is the safety net, not the plan.
    async fn finish(
        &self,
        req: &CreateRequest,
        created: Created,
    ) -> Result<DbBranch, ProviderError> {
        let id = created.db_branch.id.clone();
        let expires = created.db_branch.expires_at.clone();
        match self.ready(req, created).await {
            Ok(b) => Ok(b),
            Err(e) => {
                let cleanup = match self.delete_and_wait(&id).await {
                    Ok(_) => format!("; {id} was deleted again"),
                    Err(d) => format!(
                        "; deleting {id} again failed too ({}), it expires at {}",
                        d,
                        expires.as_deref().unwrap_or("its TTL")
                    ),
                };
                let help = e.help_text();
                let failed = ProviderError::new(format!("{e}{cleanup}"));
                Err(match help {
                    Some(h) => failed.help(h),
                    None => failed,
                })
            }
        }
    }

    async fn ready(&self, req: &CreateRequest, c: Created) -> Result<DbBranch, ProviderError> {
        let b = &c.db_branch;
        let what = format!("the test Neon database branch {}", req.name);
        if b.name != req.name {
            return Err(ProviderError::new(format!(
                "Neon answered the create of {what} with a Neon database branch named `{}` ({})",
                b.name, b.id
            )));
        }
        if b.parent_id.as_deref() != Some(self.parent.id.as_str()) {
            return Err(ProviderError::new(format!(
                "{what} ({}) has parent `{}`, not the main Neon database branch {} ({})",
                b.id,
                b.parent_id.as_deref().unwrap_or("none"),
                self.parent.name,
                self.parent.id
            )));
        }
        check_id("Neon database branch id", &b.id)?;
        self.wait_operations(&c.operations, &format!("creating {what}"))
            .await?;
        let fresh = self.wait_ready(&b.id, &what).await?;
        let host = self.rw_endpoint_host(&b.id, &c.endpoints, &what).await?;
        let from_create = c.connection_uris.iter().find(|u| {
            u.connection_parameters.as_ref().is_some_and(|p| {
                p.database.as_deref() == Some(self.database.as_str())
                    && p.role.as_deref() == Some(self.role.as_str())
            })
        });
        let uri = match from_create {
            Some(u) => u.connection_uri.expose().clone(),
            None => self.connection_uri(&b.id, &what).await?,
        };
        let url = self.checked_url(&uri, &host, &what)?;
        Ok(DbBranch {
            name: req.name.clone(),
            id: b.id.clone(),
            parent: self.parent.name.clone(),
            url,
            expires_at: parse_time(fresh.expires_at.as_deref())
                .or_else(|| parse_time(b.expires_at.as_deref())),
        })
    }
}

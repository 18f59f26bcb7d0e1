//! The Neon database branch routes: list, count, create, update, delete, restore.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::super::state::{Branch, DATABASE, ROLE};
use super::{empty, json_response, Ctx, Resp};

pub(super) fn list_branches(c: &Ctx<'_>) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    let search = c.query.get("search").map(String::as_str).unwrap_or("");
    let sort_by = c
        .query
        .get("sort_by")
        .map(String::as_str)
        .unwrap_or("updated_at");
    let sort_order = c
        .query
        .get("sort_order")
        .map(String::as_str)
        .unwrap_or("desc");
    if !["name", "created_at", "updated_at"].contains(&sort_by) {
        return c.err(400, format!("invalid sort_by `{sort_by}`"));
    }
    if !["asc", "desc"].contains(&sort_order) {
        return c.err(400, format!("invalid sort_order `{sort_order}`"));
    }
    let limit: usize = match c.query.get("limit").map(|l| l.parse::<usize>()) {
        None => 10_000,
        Some(Ok(l)) if (1..=10_000).contains(&l) => l,
        Some(_) => return c.err(400, "limit must be between 1 and 10000"),
    };
    let offset: usize = match c.query.get("cursor") {
        None => 0,
        Some(cur) => match cur.strip_prefix("offset-").and_then(|o| o.parse().ok()) {
            Some(o) => o,
            None => return c.err(400, "invalid cursor"),
        },
    };
    let mut all: Vec<&Branch> = p
        .branches
        .values()
        .filter(|b| b.name.contains(search) || b.id.contains(search))
        .collect();
    all.sort_by(|a, b| {
        let o = match sort_by {
            "name" => a.name.cmp(&b.name),
            "created_at" => a.created_at.cmp(&b.created_at),
            _ => a.updated_at.cmp(&b.updated_at),
        }
        .then_with(|| a.id.cmp(&b.id));
        if sort_order == "desc" {
            o.reverse()
        } else {
            o
        }
    });
    let page: Vec<&Branch> = all.iter().skip(offset).take(limit).copied().collect();
    let mut pagination = json!({ "sort_by": sort_by, "sort_order": sort_order });
    if offset + page.len() < all.len() {
        pagination["next"] = json!(format!("offset-{}", offset + page.len()));
    }
    let annotations: serde_json::Map<String, Value> = page
        .iter()
        .filter(|b| !b.annotation.is_empty())
        .map(|b| (b.id.clone(), p.annotation_json(b)))
        .collect();
    let branches: Vec<Value> = page.iter().map(|b| p.branch_json(b, c.pid())).collect();
    json_response(
        200,
        json!({ "branches": branches, "annotations": annotations, "pagination": pagination }),
    )
}

pub(super) fn count_branches(c: &Ctx<'_>) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    let search = c.query.get("search").map(String::as_str).unwrap_or("");
    let n = p
        .branches
        .values()
        .filter(|b| b.name.contains(search) || b.id.contains(search))
        .count();
    json_response(200, json!({ "count": n }))
}

/// Why `expires_at` was refused (the text is Neon's answer body).
#[derive(Debug, thiserror::Error)]
enum ExpiryError {
    #[error("invalid expires_at `{0}`: use RFC 3339 with a time zone, e.g. 2026-06-09T18:02:16Z")]
    Invalid(String),
    #[error("expires_at `{0}` is in the past")]
    Past(String),
    #[error("expires_at `{0}` is more than 30 days from now")]
    TooFar(String),
    #[error("expires_at must be a string")]
    NotAString,
}

/// Validates `expires_at` the way Neon documents it.
fn parse_expiry(v: &Value) -> Result<Option<DateTime<Utc>>, ExpiryError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|_| ExpiryError::Invalid(s.clone()))?
                .with_timezone(&Utc);
            let now = Utc::now();
            if t <= now {
                return Err(ExpiryError::Past(s.clone()));
            }
            if t > now + chrono::Duration::days(30) {
                return Err(ExpiryError::TooFar(s.clone()));
            }
            // Stored at second precision.
            Ok(DateTime::from_timestamp(t.timestamp(), 0))
        }
        _ => Err(ExpiryError::NotAString),
    }
}

/// What a valid create request asks for.
struct CreateAsk {
    parent: Branch,
    name: String,
    expires_at: Option<DateTime<Utc>>,
    protected: bool,
    endpoints: Vec<Value>,
}

pub(super) async fn create_branch(c: &Ctx<'_>) -> Resp {
    let ask = match create_ask(c) {
        Ok(ask) => ask,
        Err(refusal) => return *refusal,
    };
    let CreateAsk {
        parent,
        name,
        expires_at,
        protected,
        endpoints,
    } = ask;
    let id = c.shared.project.lock().expect("state lock").new_id("br");
    let physical = match c.shared.copy_physical(&parent.physical, &id).await {
        Ok(db) => db,
        Err(e) => return c.err(503, e.to_string()),
    };
    let now = Utc::now();
    let branch = Branch {
        id: id.clone(),
        name: name.clone(),
        parent_id: Some(parent.id.clone()),
        default: false,
        protected,
        created_at: now,
        updated_at: now,
        state_changed_at: now,
        expires_at,
        ttl_interval_seconds: expires_at.map(|e| (e - now).num_seconds()),
        last_reset_at: None,
        init_source: "parent-data".into(),
        creation_source: "neon-migrate-emulator".into(),
        annotation: annotation_of(&c.body["annotation_value"]),
        physical: physical.clone(),
        logical_size: parent.logical_size,
    };
    let taken = {
        let mut p = c.shared.project.lock().expect("state lock");
        // A concurrent create may have taken the name while the copy ran.
        let taken = p.branches.values().any(|x| x.name == name);
        if !taken {
            p.branches.insert(id.clone(), branch);
        }
        taken
    };
    if taken {
        let _ = c.shared.drop_physical(&physical).await;
        return c.err(
            409,
            format!("branch already exists; branch_name:\"{name}\""),
        );
    }
    let endpoint_id = match endpoints.first() {
        Some(e) => {
            let min = e["autoscaling_limit_min_cu"].as_f64().unwrap_or(0.25);
            let max = e["autoscaling_limit_max_cu"]
                .as_f64()
                .unwrap_or(min.max(0.25));
            let suspend = e["suspend_timeout_seconds"].as_i64().unwrap_or(0);
            match c.shared.add_endpoint(&id, min, max, suspend).await {
                Ok(eid) => Some(eid),
                Err(e) => return c.err(500, e.to_string()),
            }
        }
        None => None,
    };
    created(c, &id, endpoint_id)
}

/// Checks a create request against the project the way Neon does; the refusal is the answer.
fn create_ask(c: &Ctx<'_>) -> Result<CreateAsk, Box<Resp>> {
    let b = &c.body["branch"];
    let mut p = c.shared.project.lock().expect("state lock");
    if p.busy() {
        return Err(Box::new(c.err(423, "project already has running conflicting operations, scheduling of new ones is prohibited")));
    }
    let parent = match b["parent_id"].as_str().filter(|s| !s.is_empty()) {
        Some(id) => match p.branches.get(id) {
            Some(b) => b.clone(),
            None => {
                return Err(Box::new(
                    c.err(404, format!("parent branch {id} not found")),
                ))
            }
        },
        None => match p.default_branch() {
            Some(b) => b.clone(),
            None => return Err(Box::new(c.err(400, "the project has no default branch"))),
        },
    };
    for unsupported in ["parent_lsn", "parent_timestamp"] {
        if !b[unsupported].is_null() {
            return Err(Box::new(c.err(400, format!("{unsupported} is not supported by the neon-migrate emulator (only the parent's head)"))));
        }
    }
    if b["init_source"]
        .as_str()
        .is_some_and(|s| s != "parent-data")
    {
        return Err(Box::new(c.err(
            400,
            "init_source other than parent-data is not supported by the neon-migrate emulator",
        )));
    }
    let name = match b["name"].as_str() {
        Some(n) if n.is_empty() || n.chars().count() > 256 => {
            return Err(Box::new(
                c.err(400, "branch name must be 1 to 256 characters"),
            ))
        }
        Some(n) => n.to_owned(),
        None => p.new_id("br"),
    };
    if p.branches.values().any(|x| x.name == name) {
        return Err(Box::new(c.err(
            409,
            format!("branch already exists; branch_name:\"{name}\""),
        )));
    }
    let expires_at =
        parse_expiry(&b["expires_at"]).map_err(|e| Box::new(c.err(400, e.to_string())))?;
    let protected = b["protected"].as_bool().unwrap_or(false);
    if expires_at.is_some() && protected {
        return Err(Box::new(
            c.err(400, "expires_at cannot be set on a protected branch"),
        ));
    }
    if parent.expires_at.is_some() {
        return Err(Box::new(c.err(
            400,
            "cannot create a child of a branch that has an expiration time",
        )));
    }
    drop(p);
    let endpoints: Vec<Value> = c.body["endpoints"].as_array().cloned().unwrap_or_default();
    if endpoints
        .iter()
        .filter(|e| e["type"] == "read_write")
        .count()
        > 1
    {
        return Err(Box::new(
            c.err(400, "a branch can have only one read_write endpoint"),
        ));
    }
    if endpoints.iter().any(|e| e["type"] != "read_write") {
        return Err(Box::new(c.err(
            400,
            "only read_write endpoints are supported by the neon-migrate emulator",
        )));
    }
    Ok(CreateAsk {
        parent,
        name,
        expires_at,
        protected,
        endpoints,
    })
}

/// `annotation_value` as stored: every value a string.
fn annotation_of(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The 201 answer of a create: the Neon database branch, its endpoint, operations, role,
/// database and connection URI.
fn created(c: &Ctx<'_>, id: &str, endpoint_id: Option<String>) -> Resp {
    let mut p = c.shared.project.lock().expect("state lock");
    let delay = c.shared.delay;
    let mut ops = vec![p.operation("create_timeline", Some(id), None, delay)];
    if let Some(eid) = &endpoint_id {
        ops.push(p.operation("start_compute", Some(id), Some(eid), delay));
    }
    let b = p.branches.get(id).expect("just inserted").clone();
    let eps: Vec<Value> = p
        .endpoints
        .values()
        .filter(|e| e.branch_id == id)
        .map(|e| p.endpoint_json(e, c.pid()))
        .collect();
    let mut body = json!({
        "branch": p.branch_json(&b, c.pid()),
        "endpoints": eps,
        "operations": ops.iter().map(|o| o.to_json(c.pid())).collect::<Vec<_>>(),
        "roles": [p.role_json(&b)],
        "databases": [p.database_json(&b)],
    });
    if let Some(ep) = endpoint_id.and_then(|eid| p.endpoints.get(&eid)) {
        let host = ep.host();
        body["connection_uris"] = json!([{
            "connection_uri": c.shared.uri(&host),
            "connection_parameters": {
                "database": DATABASE, "password": c.shared.password, "role": ROLE,
                "host": host, "pooler_host": host,
            }
        }]);
    }
    json_response(201, body)
}

pub(super) fn update_branch(c: &Ctx<'_>, id: &str) -> Resp {
    let mut p = c.shared.project.lock().expect("state lock");
    if p.busy() {
        return c.err(423, "project already has running conflicting operations, scheduling of new ones is prohibited");
    }
    let children = p.children_of(id);
    let Some(existing) = p.branches.get(id).cloned() else {
        return c.err(404, "branch not found");
    };
    let Some(req) = c.body["branch"].as_object() else {
        return c.err(400, "body must be {\"branch\": {…}}");
    };
    let mut b = existing;
    if let Some(n) = req.get("name") {
        let Some(n) = n
            .as_str()
            .filter(|n| !n.is_empty() && n.chars().count() <= 256)
        else {
            return c.err(400, "branch name must be 1 to 256 characters");
        };
        if p.branches.values().any(|x| x.name == n && x.id != b.id) {
            return c.err(409, format!("branch already exists; branch_name:\"{n}\""));
        }
        b.name = n.to_owned();
    }
    if let Some(prot) = req.get("protected") {
        b.protected = prot.as_bool().unwrap_or(b.protected);
    }
    if let Some(e) = req.get("expires_at") {
        let expires = match parse_expiry(e) {
            Ok(x) => x,
            Err(msg) => return c.err(400, msg.to_string()),
        };
        if expires.is_some() {
            if b.default {
                return c.err(400, "expires_at cannot be set on the default branch");
            }
            if children > 0 {
                return c.err(
                    400,
                    "expires_at cannot be set on a branch that has children",
                );
            }
            if b.protected {
                return c.err(400, "expires_at cannot be set on a protected branch");
            }
        }
        let now = Utc::now();
        b.ttl_interval_seconds = expires.map(|x| (x - now).num_seconds());
        b.expires_at = expires;
    }
    b.updated_at = Utc::now();
    p.branches.insert(b.id.clone(), b.clone());
    json_response(
        200,
        json!({ "branch": p.branch_json(&b, c.pid()), "operations": [] }),
    )
}

pub(super) async fn delete_branch(c: &Ctx<'_>, id: &str) -> Resp {
    let (json_before, endpoint) = {
        let p = c.shared.project.lock().expect("state lock");
        let Some(b) = p.branches.get(id).cloned() else {
            return empty(204);
        };
        if b.default {
            return c.err(400, "cannot delete the default branch");
        }
        if p.children_of(id) > 0 {
            return c.err(400, "cannot delete a branch that has children");
        }
        if p.busy() {
            return c.err(423, "project already has running conflicting operations, scheduling of new ones is prohibited");
        }
        let ep = p.endpoint_of(id).map(|e| e.id.clone());
        (p.branch_json(&b, c.pid()), ep)
    };
    if let Err(e) = c.shared.remove_branch(id).await {
        return c.err(500, e.to_string());
    }
    let mut p = c.shared.project.lock().expect("state lock");
    let delay = c.shared.delay;
    let mut ops = Vec::new();
    if let Some(eid) = &endpoint {
        ops.push(p.operation("suspend_compute", Some(id), Some(eid), delay));
    }
    ops.push(p.operation("delete_timeline", Some(id), None, delay));
    json_response(
        200,
        json!({ "branch": json_before, "operations": ops.iter().map(|o| o.to_json(c.pid())).collect::<Vec<_>>() }),
    )
}

pub(super) async fn restore_branch(c: &Ctx<'_>, id: &str) -> Resp {
    let Some(source_id) = c.body["source_branch_id"].as_str() else {
        return c.err(400, "source_branch_id is required");
    };
    if !c.body["source_lsn"].is_null() || !c.body["source_timestamp"].is_null() {
        return c.err(400, "source_lsn and source_timestamp are not supported by the neon-migrate emulator (only the source's head)");
    }
    let preserve = c.body["preserve_under_name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let (target, source_physical) = {
        let p = c.shared.project.lock().expect("state lock");
        if p.busy() {
            return c.err(423, "project already has running conflicting operations, scheduling of new ones is prohibited");
        }
        let Some(target) = p.branches.get(id).cloned() else {
            return c.err(404, "branch not found");
        };
        let Some(source) = p.branches.get(source_id) else {
            return c.err(404, format!("source branch {source_id} not found"));
        };
        if source_id == id {
            return c.err(400, "restoring a branch from itself needs source_lsn or source_timestamp, which the emulator does not support");
        }
        if p.children_of(id) > 0 && preserve.is_none() {
            return c.err(
                400,
                "the branch has children: preserve_under_name is required",
            );
        }
        if let Some(n) = &preserve {
            if p.branches.values().any(|b| &b.name == n) {
                return c.err(409, format!("branch already exists; branch_name:\"{n}\""));
            }
        }
        (target, source.physical.clone())
    };
    let physical = match c.shared.copy_physical(&source_physical, id).await {
        Ok(db) => db,
        Err(e) => return c.err(503, e.to_string()),
    };
    let old_physical = target.physical.clone();
    let now = Utc::now();
    let result = {
        let mut p = c.shared.project.lock().expect("state lock");
        reset_in_state(
            &mut p,
            c,
            id,
            &target,
            preserve.as_deref(),
            source_id,
            physical,
            &old_physical,
            now,
        )
    };
    let Some((b, op)) = result else {
        return c.err(404, "branch not found");
    };
    if preserve.is_none() {
        let _ = c.shared.drop_physical(&old_physical).await;
    }
    let p = c.shared.project.lock().expect("state lock");
    json_response(
        200,
        json!({ "branch": p.branch_json(&b, c.pid()), "operations": [op.to_json(c.pid())] }),
    )
}

/// The state half of a restore, under the lock.
#[allow(clippy::too_many_arguments)]
fn reset_in_state(
    p: &mut super::super::state::Project,
    c: &Ctx<'_>,
    id: &str,
    target: &Branch,
    preserve: Option<&str>,
    source_id: &str,
    physical: String,
    old_physical: &str,
    now: DateTime<Utc>,
) -> Option<(Branch, super::super::state::Operation)> {
    if let Some(name) = preserve {
        let pid = p.new_id("br");
        let old = Branch {
            id: pid.clone(),
            name: name.to_owned(),
            default: false,
            expires_at: None,
            ttl_interval_seconds: None,
            created_at: now,
            updated_at: now,
            state_changed_at: now,
            annotation: Default::default(),
            physical: old_physical.to_owned(),
            ..target.clone()
        };
        let children: Vec<String> = p
            .branches
            .values()
            .filter(|b| b.parent_id.as_deref() == Some(id))
            .map(|b| b.id.clone())
            .collect();
        for ch in children {
            if let Some(b) = p.branches.get_mut(&ch) {
                b.parent_id = Some(pid.clone());
            }
        }
        p.branches.insert(pid, old);
    }
    let b = p.branches.get_mut(id)?;
    b.physical = physical;
    b.last_reset_at = Some(now);
    b.updated_at = now;
    b.state_changed_at = now;
    // A reset restarts the TTL countdown with the same interval.
    if let Some(ttl) = b.ttl_interval_seconds {
        b.expires_at = Some(now + chrono::Duration::seconds(ttl));
    }
    if source_id != target.parent_id.as_deref().unwrap_or("") {
        b.parent_id = Some(source_id.to_owned());
    }
    let b = b.clone();
    let op = p.operation("create_timeline", Some(id), None, c.shared.delay);
    Some((b, op))
}

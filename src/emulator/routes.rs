//! HTTP: the router, fault injection, auth, and one handler per Neon API route.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::state::{Branch, DATABASE, ROLE};
use super::{
    Answer, FaultAction, FaultSpec, RequestRecord, Shared, BODY_TIMEOUT, MAX_BODY_BYTES,
    MAX_LOGGED_REQUESTS,
};
use crate::time::rfc3339;

type Resp = Response<Full<Bytes>>;

/// Returned by the service to make hyper close the connection without an answer.
#[derive(Debug)]
struct DropConnection;
impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for DropConnection {}

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Neon's error body.
fn error(status: u16, request_id: &str, message: impl Into<String>) -> Resp {
    json_response(
        status,
        json!({ "request_id": request_id, "code": "", "message": message.into() }),
    )
}

fn json_response(status: u16, body: Value) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

fn empty(status: u16) -> Resp {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .expect("valid response")
}

fn query_map(q: Option<&str>) -> BTreeMap<String, String> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Query-string decoding: `+` is a space, then `%XX` escapes.
fn decode(s: &str) -> String {
    crate::pg::percent_decode(&s.replace('+', " "))
}

/// Why a request body could not be read.
enum BodyError {
    /// Larger than [`MAX_BODY_BYTES`] (by `Content-Length`, or as it streamed in).
    TooLarge,
    /// Not complete within [`BODY_TIMEOUT`].
    TimedOut,
    /// The connection ended (or broke) before the body was complete.
    Incomplete(String),
}

impl BodyError {
    fn answer(&self, request_id: &str) -> Resp {
        match self {
            BodyError::TooLarge => error(
                413,
                request_id,
                format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            ),
            BodyError::TimedOut => error(
                408,
                request_id,
                format!(
                    "the request body did not arrive whole within {} s; nothing was applied",
                    BODY_TIMEOUT.as_secs()
                ),
            ),
            BodyError::Incomplete(why) => error(
                400,
                request_id,
                format!("the request body is incomplete ({why}); nothing was applied"),
            ),
        }
    }
}

/// Reads the whole body, or says why not: nothing is applied from a partial body.
async fn read_body(req: Request<Incoming>) -> Result<Bytes, BodyError> {
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(BodyError::TooLarge);
    }
    let limited = Limited::new(req.into_body(), MAX_BODY_BYTES);
    match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Err(_) => Err(BodyError::TimedOut),
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Ok(Err(e)) => Err(BodyError::Incomplete(e.to_string())),
    }
}

/// Whether the request carries the API key (any non-empty Bearer token when none is set).
fn authorized(shared: &Shared, req: &Request<Incoming>) -> bool {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = auth.strip_prefix("Bearer ").unwrap_or("").trim();
    !token.is_empty() && shared.api_key.as_deref().is_none_or(|k| k == token)
}

fn unauthorized(request_id: &str) -> Resp {
    error(
        401,
        request_id,
        "authorization failed: missing or invalid API key",
    )
}

/// A request being served; recorded in the log when it is done — also when the client went
/// away and the handler was dropped.
struct Recording {
    shared: Arc<Shared>,
    record: Option<RequestRecord>,
}

impl Recording {
    fn finish(&mut self, answer: Answer) {
        if let Some(r) = self.record.as_mut() {
            r.answer = answer;
        }
    }
    fn record(&mut self) -> &mut RequestRecord {
        self.record.as_mut().expect("recording")
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let Some(record) = self.record.take() else {
            return;
        };
        let Ok(mut log) = self.shared.log.lock() else {
            return;
        };
        if log.records.len() < MAX_LOGGED_REQUESTS {
            log.records.push(record);
        } else {
            log.not_kept += 1;
        }
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = query_map(req.uri().query());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| shared.project.lock().expect("state lock").uuid());

    if let Some(admin) = path.strip_prefix("/_emulator/") {
        if !authorized(&shared, &req) {
            return Ok(unauthorized(&request_id));
        }
        let body = match read_body(req).await {
            Ok(b) => b,
            Err(e) => return Ok(e.answer(&request_id)),
        };
        return Ok(admin_route(&shared, &method, admin, &body, &request_id));
    }

    let mut rec = Recording {
        shared: shared.clone(),
        record: Some(RequestRecord {
            seq: shared.next_seq.fetch_add(1, Ordering::SeqCst) + 1,
            method: method.to_string(),
            path: path.clone(),
            query: req.uri().query().unwrap_or("").to_owned(),
            body: Value::Null,
            fault: None,
            applied: false,
            answer: Answer::Abandoned,
        }),
    };

    // Fault injection comes first: it stands in for the network and Neon's front door.
    let fault = {
        let mut faults = shared.faults.lock().expect("faults lock");
        let pos = faults.iter().position(|f| {
            f.times > 0
                && f.method.as_deref().is_none_or(|m| m == method.as_str())
                && path.contains(&f.path_contains)
        });
        pos.map(|i| {
            faults[i].times -= 1;
            let action = faults[i].action.clone();
            if faults[i].times == 0 {
                faults.remove(i);
            }
            action
        })
    };
    rec.record().fault = fault.clone();
    if let Some(early @ (FaultAction::Status { .. } | FaultAction::Drop)) = &fault {
        // The route is not reached; the body is still recorded (what would have been sent).
        if let Ok(b) = read_body(req).await {
            rec.record().body = serde_json::from_slice(&b).unwrap_or(Value::Null);
        }
        let FaultAction::Status {
            status,
            retry_after,
        } = early
        else {
            rec.finish(Answer::Dropped);
            return Err(DropConnection);
        };
        let message = match status {
            423 => "project already has running conflicting operations, scheduling of new ones is prohibited",
            429 => "too many requests",
            503 => "service temporarily unavailable",
            _ => "injected failure",
        };
        let mut resp = error(*status, &request_id, message);
        if let Some(s) = retry_after {
            resp.headers_mut()
                .insert("retry-after", s.to_string().parse().expect("header value"));
        }
        rec.finish(Answer::Status(*status));
        return Ok(resp);
    }
    let mut drop_answer = false;
    match fault {
        Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultAction::DropAnswer) => drop_answer = true,
        Some(FaultAction::FailNextOperation) => {
            shared
                .project
                .lock()
                .expect("state lock")
                .fail_next_operation = true
        }
        Some(FaultAction::Status { .. } | FaultAction::Drop) | None => {}
    }

    if !authorized(&shared, &req) {
        rec.finish(Answer::Status(401));
        return Ok(unauthorized(&request_id));
    }

    let body = match read_body(req).await {
        Ok(b) => b,
        Err(e) => {
            let resp = e.answer(&request_id);
            rec.finish(Answer::Status(resp.status().as_u16()));
            return Ok(resp);
        }
    };
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                rec.finish(Answer::Status(400));
                return Ok(error(400, &request_id, format!("invalid JSON body: {e}")));
            }
        }
    };
    rec.record().body = body.clone();
    let trimmed = path.strip_prefix("/api/v2").unwrap_or(&path);
    let segs: Vec<String> = trimmed
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let ctx = Ctx {
        shared: &shared,
        rid: &request_id,
        query: &query,
        body: &body,
    };
    rec.record().applied = true;
    let resp = route(&ctx, &method, &segs).await;
    if drop_answer {
        rec.finish(Answer::Dropped);
        return Err(DropConnection);
    }
    rec.finish(Answer::Status(resp.status().as_u16()));
    Ok(resp)
}

fn admin_route(shared: &Shared, method: &Method, path: &str, body: &[u8], rid: &str) -> Resp {
    match (method.as_str(), path) {
        ("POST", "faults") => {
            let specs: Vec<FaultSpec> = match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(a)) => match a.into_iter().map(serde_json::from_value).collect() {
                    Ok(s) => s,
                    Err(e) => return error(400, rid, format!("invalid fault: {e}")),
                },
                Ok(v) => match serde_json::from_value(v) {
                    Ok(s) => vec![s],
                    Err(e) => return error(400, rid, format!("invalid fault: {e}")),
                },
                Err(e) => return error(400, rid, format!("invalid JSON body: {e}")),
            };
            let mut faults = Vec::new();
            for s in specs {
                match s.into_fault() {
                    Ok(f) => faults.push(f),
                    Err(e) => return error(400, rid, e),
                }
            }
            let n = faults.len();
            shared.faults.lock().expect("faults lock").extend(faults);
            json_response(200, json!({ "injected": n }))
        }
        ("DELETE", "faults") => {
            shared.faults.lock().expect("faults lock").clear();
            empty(204)
        }
        ("GET", "faults") => {
            let pending: Vec<Value> = shared
                .faults
                .lock()
                .expect("faults lock")
                .iter()
                .map(|f| {
                    let mut v = f.action.to_json();
                    v["method"] = json!(f.method);
                    v["path_contains"] = json!(f.path_contains);
                    v["times"] = json!(f.times);
                    v
                })
                .collect();
            json_response(200, json!({ "faults": pending }))
        }
        ("GET", "requests") => {
            let log = shared.log.lock().expect("log lock");
            let mut records: Vec<&RequestRecord> = log.records.iter().collect();
            records.sort_by_key(|r| r.seq);
            let requests: Vec<Value> = records.iter().map(|r| r.to_json()).collect();
            json_response(
                200,
                json!({ "requests": requests, "not_kept": log.not_kept }),
            )
        }
        ("DELETE", "requests") => {
            let mut log = shared.log.lock().expect("log lock");
            log.records.clear();
            log.not_kept = 0;
            empty(204)
        }
        _ => error(
            404,
            rid,
            "unknown emulator admin route; use POST, GET or DELETE /_emulator/faults, GET or DELETE /_emulator/requests",
        ),
    }
}

struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    rid: &'a str,
    query: &'a BTreeMap<String, String>,
    body: &'a Value,
}

impl Ctx<'_> {
    fn err(&self, status: u16, message: impl Into<String>) -> Resp {
        error(status, self.rid, message)
    }
    fn pid(&self) -> &str {
        &self.shared.project_id
    }
}

async fn route(c: &Ctx<'_>, m: &Method, s: &[&str]) -> Resp {
    let get = m == Method::GET;
    match s {
        ["projects", pid, ..] if *pid != c.pid() => c.err(404, format!("project {pid} not found")),
        ["projects", _] if get => project(c),
        ["projects", _, "branches"] if get => list_branches(c),
        ["projects", _, "branches"] if m == Method::POST => create_branch(c).await,
        ["projects", _, "branches", "count"] if get => count_branches(c),
        ["projects", _, "branches", id] if get => with_branch(c, id, |p, b| {
            json_response(
                200,
                json!({ "branch": p.branch_json(b, c.pid()), "annotation": p.annotation_json(b) }),
            )
        }),
        ["projects", _, "branches", id] if m == Method::PATCH => update_branch(c, id),
        ["projects", _, "branches", id] if m == Method::DELETE => delete_branch(c, id).await,
        ["projects", _, "branches", id, "restore"] if m == Method::POST => {
            restore_branch(c, id).await
        }
        ["projects", _, "branches", id, "endpoints"] if get => with_branch(c, id, |p, b| {
            let eps: Vec<Value> = p
                .endpoints
                .values()
                .filter(|e| e.branch_id == b.id)
                .map(|e| p.endpoint_json(e, c.pid()))
                .collect();
            json_response(200, json!({ "endpoints": eps }))
        }),
        ["projects", _, "branches", id, "databases"] if get => with_branch(c, id, |p, b| {
            json_response(200, json!({ "databases": [p.database_json(b)] }))
        }),
        ["projects", _, "branches", id, "databases", db] if get => with_branch(c, id, |p, b| {
            if *db == DATABASE {
                json_response(200, json!({ "database": p.database_json(b) }))
            } else {
                c.err(404, format!("database {db} not found"))
            }
        }),
        ["projects", _, "branches", id, "roles"] if get => with_branch(c, id, |p, b| {
            json_response(200, json!({ "roles": [p.role_json(b)] }))
        }),
        ["projects", _, "branches", id, "roles", role] if get => with_branch(c, id, |p, b| {
            if *role == ROLE {
                json_response(200, json!({ "role": p.role_json(b) }))
            } else {
                c.err(404, format!("role {role} not found"))
            }
        }),
        ["projects", _, "branches", id, "roles", role, "reveal_password"] if get => {
            with_branch(c, id, |_, _| {
                if *role == ROLE {
                    json_response(200, json!({ "password": c.shared.password }))
                } else {
                    c.err(404, format!("role {role} not found"))
                }
            })
        }
        ["projects", _, "branches", id, "schema"] if get => schema(c, id).await,
        ["projects", _, "endpoints"] if get => {
            let p = c.shared.project.lock().expect("state lock");
            let eps: Vec<Value> = p
                .endpoints
                .values()
                .map(|e| p.endpoint_json(e, c.pid()))
                .collect();
            json_response(200, json!({ "endpoints": eps }))
        }
        ["projects", _, "endpoints", id] if get => {
            let p = c.shared.project.lock().expect("state lock");
            match p.endpoints.get(*id) {
                Some(e) => json_response(200, json!({ "endpoint": p.endpoint_json(e, c.pid()) })),
                None => c.err(404, format!("endpoint {id} not found")),
            }
        }
        ["projects", _, "connection_uri"] if get => connection_uri(c),
        ["projects", _, "operations"] if get => list_operations(c),
        ["projects", _, "operations", id] if get => {
            let p = c.shared.project.lock().expect("state lock");
            match p.operations.iter().find(|o| o.id == *id) {
                Some(o) => json_response(200, json!({ "operation": o.to_json(c.pid()) })),
                None => c.err(404, format!("operation {id} not found")),
            }
        }
        ["projects", ..] => c.err(
            405,
            format!("{m} is not supported on this route by the emulator"),
        ),
        _ => c.err(404, "not found"),
    }
}

/// Newest first; `limit` (1..1000) per page, `cursor` = the last operation id of the previous
/// page (Neon's older pagination shape: `pagination.cursor`, never empty).
fn list_operations(c: &Ctx<'_>) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    let limit: usize = match c.query.get("limit").map(|l| l.parse::<usize>()) {
        None => 1000,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => return c.err(400, "limit must be between 1 and 1000"),
    };
    let newest_first: Vec<&super::state::Operation> = p.operations.iter().rev().collect();
    let start = match c.query.get("cursor") {
        None => 0,
        Some(cur) => match newest_first.iter().position(|o| &o.id == cur) {
            Some(i) => i + 1,
            None => return c.err(400, "invalid cursor"),
        },
    };
    let page: Vec<&super::state::Operation> = newest_first
        .iter()
        .skip(start)
        .take(limit)
        .copied()
        .collect();
    // Past the end the cursor stays where it was, so a client that pages until an empty page
    // stops.
    let cursor = page
        .last()
        .map(|o| o.id.clone())
        .or_else(|| c.query.get("cursor").cloned())
        .or_else(|| p.operations.first().map(|o| o.id.clone()))
        .unwrap_or_else(|| "none".into());
    let ops: Vec<Value> = page.iter().map(|o| o.to_json(c.pid())).collect();
    json_response(
        200,
        json!({ "operations": ops, "pagination": { "cursor": cursor } }),
    )
}

fn with_branch(
    c: &Ctx<'_>,
    id: &str,
    f: impl FnOnce(&super::state::Project, &Branch) -> Resp,
) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    match p.branches.get(id) {
        Some(b) => f(&p, b),
        None => c.err(404, "branch not found"),
    }
}

fn project(c: &Ctx<'_>) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    let created = p
        .default_branch()
        .map(|b| rfc3339(b.created_at))
        .unwrap_or_else(|| rfc3339(Utc::now()));
    let now = rfc3339(Utc::now());
    json_response(
        200,
        json!({ "project": {
            "id": c.pid(), "platform_id": "aws", "region_id": super::state::REGION, "name": c.pid(),
            "provisioner": "k8s-neonvm", "pg_version": c.shared.backend.server_version() / 10_000,
            "proxy_host": "127.0.0.1", "branch_logical_size_limit": 0, "branch_logical_size_limit_bytes": 0,
            "store_passwords": true, "cpu_used_sec": 0, "creation_source": "neon-migrate-emulator",
            "history_retention_seconds": 86400, "created_at": created, "updated_at": now,
            "consumption_period_start": created, "consumption_period_end": now,
            "active_time_seconds": 0, "compute_time_seconds": 0, "written_data_bytes": 0,
            "data_transfer_bytes": 0, "data_storage_bytes_hour": 0, "owner_id": "emulator",
        }}),
    )
}

fn list_branches(c: &Ctx<'_>) -> Resp {
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

fn count_branches(c: &Ctx<'_>) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    let search = c.query.get("search").map(String::as_str).unwrap_or("");
    let n = p
        .branches
        .values()
        .filter(|b| b.name.contains(search) || b.id.contains(search))
        .count();
    json_response(200, json!({ "count": n }))
}

/// Validates `expires_at` the way Neon documents it.
fn parse_expiry(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|_| format!("invalid expires_at `{s}`: use RFC 3339 with a time zone, e.g. 2026-06-09T18:02:16Z"))?
                .with_timezone(&Utc);
            let now = Utc::now();
            if t <= now {
                return Err(format!("expires_at `{s}` is in the past"));
            }
            if t > now + chrono::Duration::days(30) {
                return Err(format!("expires_at `{s}` is more than 30 days from now"));
            }
            // Stored at second precision.
            Ok(DateTime::from_timestamp(t.timestamp(), 0))
        }
        _ => Err("expires_at must be a string".into()),
    }
}

async fn create_branch(c: &Ctx<'_>) -> Resp {
    let b = &c.body["branch"];
    let (parent, name, expires_at, protected) = {
        let mut p = c.shared.project.lock().expect("state lock");
        if p.busy() {
            return c.err(423, "project already has running conflicting operations, scheduling of new ones is prohibited");
        }
        let parent = match b["parent_id"].as_str().filter(|s| !s.is_empty()) {
            Some(id) => match p.branches.get(id) {
                Some(b) => b.clone(),
                None => return c.err(404, format!("parent branch {id} not found")),
            },
            None => match p.default_branch() {
                Some(b) => b.clone(),
                None => return c.err(400, "the project has no default branch"),
            },
        };
        for unsupported in ["parent_lsn", "parent_timestamp"] {
            if !b[unsupported].is_null() {
                return c.err(400, format!("{unsupported} is not supported by the neon-migrate emulator (only the parent's head)"));
            }
        }
        if b["init_source"]
            .as_str()
            .is_some_and(|s| s != "parent-data")
        {
            return c.err(
                400,
                "init_source other than parent-data is not supported by the neon-migrate emulator",
            );
        }
        let name = match b["name"].as_str() {
            Some(n) if n.is_empty() || n.chars().count() > 256 => {
                return c.err(400, "branch name must be 1 to 256 characters")
            }
            Some(n) => n.to_owned(),
            None => p.new_id("br"),
        };
        if p.branches.values().any(|x| x.name == name) {
            return c.err(
                409,
                format!("branch already exists; branch_name:\"{name}\""),
            );
        }
        let expires_at = match parse_expiry(&b["expires_at"]) {
            Ok(e) => e,
            Err(e) => return c.err(400, e),
        };
        let protected = b["protected"].as_bool().unwrap_or(false);
        if expires_at.is_some() && protected {
            return c.err(400, "expires_at cannot be set on a protected branch");
        }
        if parent.expires_at.is_some() {
            return c.err(
                400,
                "cannot create a child of a branch that has an expiration time",
            );
        }
        (parent, name, expires_at, protected)
    };
    let endpoints: Vec<Value> = c.body["endpoints"].as_array().cloned().unwrap_or_default();
    if endpoints
        .iter()
        .filter(|e| e["type"] == "read_write")
        .count()
        > 1
    {
        return c.err(400, "a branch can have only one read_write endpoint");
    }
    if endpoints.iter().any(|e| e["type"] != "read_write") {
        return c.err(
            400,
            "only read_write endpoints are supported by the neon-migrate emulator",
        );
    }
    let id = c.shared.project.lock().expect("state lock").new_id("br");
    let physical = match c.shared.copy_physical(&parent.physical, &id).await {
        Ok(db) => db,
        Err(e) => return c.err(503, e.message),
    };
    let now = Utc::now();
    let annotation: BTreeMap<String, String> = c.body["annotation_value"]
        .as_object()
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
        .unwrap_or_default();
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
        annotation,
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
                Err(e) => return c.err(500, e.message),
            }
        }
        None => None,
    };
    let mut p = c.shared.project.lock().expect("state lock");
    let delay = c.shared.delay;
    let mut ops = vec![p.operation("create_timeline", Some(&id), None, delay)];
    if let Some(eid) = &endpoint_id {
        ops.push(p.operation("start_compute", Some(&id), Some(eid), delay));
    }
    let b = p.branches.get(&id).expect("just inserted").clone();
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

fn update_branch(c: &Ctx<'_>, id: &str) -> Resp {
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
            Err(msg) => return c.err(400, msg),
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

async fn delete_branch(c: &Ctx<'_>, id: &str) -> Resp {
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
        return c.err(500, e.message);
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

async fn restore_branch(c: &Ctx<'_>, id: &str) -> Resp {
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
        Err(e) => return c.err(503, e.message),
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
    p: &mut super::state::Project,
    c: &Ctx<'_>,
    id: &str,
    target: &Branch,
    preserve: Option<&str>,
    source_id: &str,
    physical: String,
    old_physical: &str,
    now: DateTime<Utc>,
) -> Option<(Branch, super::state::Operation)> {
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

fn connection_uri(c: &Ctx<'_>) -> Resp {
    let p = c.shared.project.lock().expect("state lock");
    let (Some(db), Some(role)) = (c.query.get("database_name"), c.query.get("role_name")) else {
        return c.err(400, "database_name and role_name are required");
    };
    let branch = match c.query.get("branch_id") {
        Some(id) => p.branches.get(id),
        None => p.default_branch(),
    };
    let Some(branch) = branch else {
        return c.err(404, "branch not found");
    };
    if db != DATABASE {
        return c.err(404, format!("database {db} not found"));
    }
    if role != ROLE {
        return c.err(404, format!("role {role} not found"));
    }
    let ep = match c.query.get("endpoint_id") {
        Some(eid) => p.endpoints.get(eid).filter(|e| e.branch_id == branch.id),
        None => p.endpoint_of(&branch.id),
    };
    let Some(ep) = ep else {
        return c.err(404, "the branch has no read_write endpoint");
    };
    json_response(200, json!({ "uri": c.shared.uri(&ep.host()) }))
}

async fn schema(c: &Ctx<'_>, id: &str) -> Resp {
    let Some(db) = c.query.get("db_name") else {
        return c.err(400, "db_name is required");
    };
    if db != DATABASE {
        return c.err(404, format!("database {db} not found"));
    }
    let physical = {
        let p = c.shared.project.lock().expect("state lock");
        match p.branches.get(id) {
            Some(b) => b.physical.clone(),
            None => return c.err(404, "branch not found"),
        }
    };
    let sql = match c.shared.schema_sql(&physical).await {
        Ok(s) => s,
        Err(e) => return c.err(500, e.message),
    };
    let mut body = json!({ "sql": sql });
    if c.query.get("format").map(String::as_str) == Some("json") {
        match schema_json(c.shared, &physical).await {
            Ok(j) => body["json"] = j,
            Err(e) => return c.err(500, e),
        }
    }
    json_response(200, body)
}

async fn schema_json(shared: &Shared, physical: &str) -> Result<Value, String> {
    let client = crate::pg::connect(&shared.backend.url_of(physical))
        .await
        .map_err(|e| e.message)?;
    let rows = client
        .query(
            "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text, \
             c.is_nullable = 'YES', c.is_generated = 'ALWAYS' \
             FROM information_schema.columns c JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
             WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') \
             ORDER BY 1, 2, c.ordinal_position",
            &[],
        )
        .await
        .map_err(|e| crate::pg::describe(&e))?;
    let mut tables: Vec<Value> = Vec::new();
    for r in rows {
        let (schema, table): (String, String) = (r.get(0), r.get(1));
        let col = json!({ "name": r.get::<_, String>(2), "type": r.get::<_, String>(3), "nullable": r.get::<_, bool>(4), "generated": r.get::<_, bool>(5) });
        match tables.last_mut() {
            Some(t) if t["schema"] == schema.as_str() && t["name"] == table.as_str() => {
                t["columns"].as_array_mut().expect("array").push(col);
            }
            _ => tables.push(json!({ "schema": schema, "name": table, "columns": [col] })),
        }
    }
    Ok(json!({ "tables": tables }))
}

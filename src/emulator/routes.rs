//! HTTP: the router, fault injection, auth, and one handler per Neon API route.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
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
use crate::providers::ProviderError;
use crate::time::rfc3339;

mod branches;
use branches::{
    count_branches, create_branch, delete_branch, list_branches, restore_branch, update_branch,
};

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
                    Err(e) => return error(400, rid, e.to_string()),
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
        Err(e) => return c.err(500, e.to_string()),
    };
    let mut body = json!({ "sql": sql });
    if c.query.get("format").map(String::as_str) == Some("json") {
        match schema_json(c.shared, &physical).await {
            Ok(j) => body["json"] = j,
            Err(e) => return c.err(500, e.to_string()),
        }
    }
    json_response(200, body)
}

async fn schema_json(shared: &Shared, physical: &str) -> Result<Value, ProviderError> {
    let client = crate::pg::connect(&shared.backend.url_of(physical)).await?;
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
        .map_err(|e| ProviderError::new(crate::pg::describe(&e)))?;
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

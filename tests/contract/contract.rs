//! The contract test: every route the emulator serves, exercised at the root and under
//! `/api/v2`, and every answer (status and body) validated against Neon's OpenAPI document as
//! shipped in the npm package `@neondatabase/api-client` (pinned in tests/tools/, installed by
//! scripts/test, never committed).
//!
//! The exchanges are recorded here and handed to tests/contract/validate.py (openapi-core,
//! pinned in tests/tools/requirements.txt), which also rejects keys the document does not
//! define. Any mismatch is an emulator bug. Compiled into the integration test binary
//! (tests/integration/main.rs), so it shares the suite's cluster and its leftover check.

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use crate::emulator::{neon_time, Emu, KEY, LOCKED};
use crate::neonctl::{skip_reason, tool, Tool};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        contract_every_emulator_route_validates_against_neons_openapi_document => skip_reason(&[Tool::OpenApiDocument, Tool::Validator]),
    ]
}

/// Records every exchange for the validator.
struct Recorder<'a> {
    e: &'a Emu,
    prefix: &'static str,
    log: RefCell<Vec<Value>>,
}

impl Recorder<'_> {
    /// Sends `method path` (path relative to the prefix, query included) with the key and
    /// asserts the status; returns the JSON body.
    #[track_caller]
    fn call(&self, name: &str, method: &str, path: &str, body: Option<Value>, want: u16) -> Value {
        self.exchange(
            name,
            method,
            path,
            body,
            Some(&format!("Bearer {KEY}")),
            want,
        )
    }

    #[track_caller]
    fn exchange(
        &self,
        name: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        authorization: Option<&str>,
        want: u16,
    ) -> Value {
        let full = format!("{}{path}", self.prefix);
        let a = self
            .e
            .send(method, &full, body.as_ref(), authorization, &[])
            .unwrap_or_else(|err| panic!("{method} {full}: no answer: {err}"));
        assert_eq!(a.status, want, "{name}: {method} {full}: {}", a.text);
        let (route, query) = full.split_once('?').unwrap_or((&full, ""));
        self.log.borrow_mut().push(json!({
            "name": name,
            "method": method,
            "path": route,
            "query": query,
            "request_body": body.map(|b| b.to_string()),
            "valid_request": true,
            "status": a.status,
            "content_type": a.content_type,
            "retry_after": a.retry_after,
            "body": a.text,
        }));
        a.json
    }
}

/// Every route, at one prefix. Names are unique per prefix (`tag`).
fn exercise(r: &Recorder<'_>, tag: &str) {
    let e = r.e;
    let p = |rest: &str| e.p(rest);
    let main = e.default_db_branch();
    let main_id = main["id"].as_str().expect("id").to_owned();
    let name = |n: &str| format!("ct-{tag}/{n}");

    r.call("project get", "GET", &p(""), None, 200);
    r.call("list (defaults)", "GET", &p("/branches"), None, 200);

    // Create with an endpoint (and annotations); a mutation meanwhile is 423.
    let a = r.call(
        "create with endpoints",
        "POST",
        &p("/branches"),
        Some(json!({
            "branch": { "name": name("a"), "parent_id": main_id },
            "endpoints": [{ "type": "read_write", "autoscaling_limit_min_cu": 0.25, "autoscaling_limit_max_cu": 0.25 }],
            "annotation_value": { "git-branch": "feature/contract" },
        })),
        201,
    );
    let a_id = a["branch"]["id"].as_str().expect("id").to_owned();
    let a_uri = a["connection_uris"][0]["connection_uri"]
        .as_str()
        .expect("a connection URI")
        .to_owned();
    let locked = r.call(
        "423 while operations run",
        "PATCH",
        &p(&format!("/branches/{a_id}")),
        Some(json!({ "branch": { "name": name("a-renamed") } })),
        423,
    );
    assert_eq!(locked["message"], LOCKED);
    e.wait_idle();
    // Tables with columns and constraints, for the schema routes.
    e.block_on(async {
        let client = neon_migrate::pg::connect(&neon_migrate::secret::Secret::new(a_uri))
            .await
            .unwrap_or_else(|err| panic!("cannot connect: {}", err));
        client
            .batch_execute(
                "CREATE TABLE authors (id bigint PRIMARY KEY, email text UNIQUE NOT NULL);
                 CREATE TABLE books (id serial PRIMARY KEY, author_id bigint REFERENCES authors (id),
                   title text, slug text GENERATED ALWAYS AS (lower(title)) STORED)",
            )
            .await
            .unwrap_or_else(|err| panic!("{}", neon_migrate::pg::describe(&err)));
    });

    // Create without endpoints: no body key at all, and an empty list.
    let b = r.call(
        "create without endpoints",
        "POST",
        &p("/branches"),
        Some(json!({ "branch": { "name": name("b") } })),
        201,
    );
    let b_id = b["branch"]["id"].as_str().expect("id").to_owned();
    e.wait_idle();
    let c = r.call(
        "create child, endpoints []",
        "POST",
        &p("/branches"),
        Some(json!({ "branch": { "name": name("c"), "parent_id": a_id }, "endpoints": [] })),
        201,
    );
    let c_id = c["branch"]["id"].as_str().expect("id").to_owned();
    e.wait_idle();
    r.call("create with no body", "POST", &p("/branches"), None, 201);
    e.wait_idle();

    // Errors: 409, 400, 401, 404.
    r.call(
        "409 duplicate name",
        "POST",
        &p("/branches"),
        Some(json!({ "branch": { "name": name("a") } })),
        409,
    );
    r.call(
        "400 expires_at in the past",
        "POST",
        &p("/branches"),
        Some(json!({ "branch": { "name": name("past"), "expires_at": neon_time(Utc::now() - chrono::Duration::hours(1)) } })),
        400,
    );
    r.call(
        "400 expires_at on a Neon database branch with children",
        "PATCH",
        &p(&format!("/branches/{a_id}")),
        Some(json!({ "branch": { "expires_at": neon_time(Utc::now() + chrono::Duration::days(1)) } })),
        400,
    );
    r.exchange("401 without a key", "GET", &p("/branches"), None, None, 401);
    r.call(
        "404 Neon database branch",
        "GET",
        &p("/branches/br-no-such-thing-00000000"),
        None,
        404,
    );
    r.call(
        "404 project",
        "GET",
        "/projects/no-such-project/branches",
        None,
        404,
    );

    // List: search, sort, limit, cursor pagination.
    let search = format!("ct-{tag}/");
    let q = |extra: &str| format!("/branches?search={}{extra}", search.replace('/', "%2F"));
    let page1 = r.call(
        "list page 1",
        "GET",
        &p(&q("&sort_by=name&sort_order=asc&limit=2")),
        None,
        200,
    );
    let names = |v: &Value| -> Vec<String> {
        v["branches"]
            .as_array()
            .expect("branches")
            .iter()
            .map(|b| b["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names(&page1), [name("a"), name("b")]);
    let next = page1["pagination"]["next"]
        .as_str()
        .expect("pagination.next")
        .to_owned();
    let page2 = r.call(
        "list page 2 (cursor)",
        "GET",
        &p(&q(&format!(
            "&sort_by=name&sort_order=asc&limit=2&cursor={next}"
        ))),
        None,
        200,
    );
    assert_eq!(names(&page2), [name("c")]);
    assert!(
        page2["pagination"].get("next").is_none(),
        "last page: {page2}"
    );
    let by_created = r.call(
        "list by created_at desc",
        "GET",
        &p(&q("&sort_by=created_at&sort_order=desc")),
        None,
        200,
    );
    assert_eq!(names(&by_created), [name("c"), name("b"), name("a")]);
    r.call(
        "list by updated_at",
        "GET",
        &p("/branches?sort_by=updated_at&limit=10000"),
        None,
        200,
    );
    let count = r.call(
        "count",
        "GET",
        &p(&format!(
            "/branches/count?search={}",
            search.replace('/', "%2F")
        )),
        None,
        200,
    );
    assert_eq!(count["count"], 3);

    // One Neon database branch and everything under it.
    r.call("get", "GET", &p(&format!("/branches/{a_id}")), None, 200);
    let eps = r.call(
        "endpoints of a Neon database branch",
        "GET",
        &p(&format!("/branches/{a_id}/endpoints")),
        None,
        200,
    );
    let ep_id = eps["endpoints"][0]["id"]
        .as_str()
        .expect("endpoint")
        .to_owned();
    r.call(
        "endpoint get",
        "GET",
        &p(&format!("/endpoints/{ep_id}")),
        None,
        200,
    );
    r.call("endpoint list", "GET", &p("/endpoints"), None, 200);
    r.call(
        "databases",
        "GET",
        &p(&format!("/branches/{a_id}/databases")),
        None,
        200,
    );
    r.call(
        "database get",
        "GET",
        &p(&format!("/branches/{a_id}/databases/neondb")),
        None,
        200,
    );
    r.call(
        "roles",
        "GET",
        &p(&format!("/branches/{a_id}/roles")),
        None,
        200,
    );
    r.call(
        "role get",
        "GET",
        &p(&format!("/branches/{a_id}/roles/neondb_owner")),
        None,
        200,
    );
    r.call(
        "reveal_password",
        "GET",
        &p(&format!(
            "/branches/{a_id}/roles/neondb_owner/reveal_password"
        )),
        None,
        200,
    );
    r.call(
        "connection_uri",
        "GET",
        &p(&format!(
            "/connection_uri?branch_id={a_id}&database_name=neondb&role_name=neondb_owner"
        )),
        None,
        200,
    );
    r.call(
        "connection_uri of the default",
        "GET",
        &p("/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=false"),
        None,
        200,
    );
    r.call(
        "schema (sql)",
        "GET",
        &p(&format!("/branches/{a_id}/schema?db_name=neondb")),
        None,
        200,
    );
    r.call(
        "schema (json)",
        "GET",
        &p(&format!(
            "/branches/{a_id}/schema?db_name=neondb&format=json"
        )),
        None,
        200,
    );

    // Update expires_at and name.
    let expires = neon_time(Utc::now() + chrono::Duration::days(1));
    let updated = r.call(
        "update expires_at",
        "PATCH",
        &p(&format!("/branches/{b_id}")),
        Some(json!({ "branch": { "expires_at": expires } })),
        200,
    );
    assert_eq!(updated["branch"]["expires_at"], expires.as_str());
    e.wait_idle();
    r.call(
        "update name",
        "PATCH",
        &p(&format!("/branches/{b_id}")),
        Some(json!({ "branch": { "name": name("b-renamed") } })),
        200,
    );
    e.wait_idle();

    // Restore from the parent, without and with preserve_under_name.
    r.call(
        "restore from parent",
        "POST",
        &p(&format!("/branches/{b_id}/restore")),
        Some(json!({ "source_branch_id": main_id })),
        200,
    );
    e.wait_idle();
    let restored = r.call(
        "restore with preserve_under_name",
        "POST",
        &p(&format!("/branches/{a_id}/restore")),
        Some(json!({ "source_branch_id": main_id, "preserve_under_name": name("a-old") })),
        200,
    );
    assert_eq!(restored["branch"]["id"], a_id.as_str());
    e.wait_idle();

    // Operations.
    let ops = r.call("operations list", "GET", &p("/operations"), None, 200);
    let op_id = ops["operations"][0]["id"].as_str().expect("op").to_owned();
    r.call(
        "operations list (limit)",
        "GET",
        &p("/operations?limit=5"),
        None,
        200,
    );
    r.call(
        "operation get",
        "GET",
        &p(&format!("/operations/{op_id}")),
        None,
        200,
    );

    // Delete: 200, then 204.
    r.call(
        "delete",
        "DELETE",
        &p(&format!("/branches/{c_id}")),
        None,
        200,
    );
    e.wait_idle();
    r.call(
        "delete again",
        "DELETE",
        &p(&format!("/branches/{c_id}")),
        None,
        204,
    );
    r.call(
        "delete (another)",
        "DELETE",
        &p(&format!("/branches/{b_id}")),
        None,
        200,
    );
    e.wait_idle();
}

fn contract_every_emulator_route_validates_against_neons_openapi_document() {
    let spec = tool(Tool::OpenApiDocument);
    let python = tool(Tool::Validator);
    // Long enough for a mutation right after a create to meet a pending operation (423).
    let e = Emu::start("contract", Duration::from_millis(600));
    let mut all = Vec::new();
    for (prefix, tag) in [("", "root"), ("/api/v2", "v2")] {
        let r = Recorder {
            e: &e,
            prefix,
            log: RefCell::new(Vec::new()),
        };
        exercise(&r, tag);
        all.extend(r.log.into_inner());
    }
    e.finish();

    let dir = tempfile::Builder::new()
        .prefix("nm-it-contract-")
        .tempdir()
        .expect("temp dir");
    let exchanges = dir.path().join("exchanges.json");
    std::fs::write(
        &exchanges,
        serde_json::to_string_pretty(&all).expect("json"),
    )
    .expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract/validate.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&spec)
        .arg(&exchanges)
        .output()
        .expect("run the validator");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the emulator's answers do not match Neon's OpenAPI document ({}):\n{stdout}\n{stderr}",
        spec.display()
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        format!("contract: {0} of {0} exchanges match", all.len()),
        "{stdout}"
    );
}

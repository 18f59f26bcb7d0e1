//! The Neon API emulator on its own, over real HTTP: id shapes, asynchronous operations and the
//! 423 they cause, the error statuses Neon answers (400 for bad `expires_at`, 401, 404, 409),
//! the expiry reaper, fault injection (in-process and through the admin route), and the
//! endpoint proxy that refuses connections until a Neon database branch is ready.
//!
//! Each test starts its own emulator ([`Emu`]) with its own project id on the shared test
//! cluster and ends with [`Emu::finish`], which destroys it and asserts that none of its
//! databases is left; a panicking test still destroys its emulator (on drop). [`Emu`] is also
//! the harness of the neonctl tests and of the contract test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use neon_migrate::emulator::{Emulator, Fault, FaultAction};
use neon_migrate::pg;
use neon_migrate::secret::Secret;
use serde_json::{json, Value};

use crate::support::{start_emulator, cluster, query, MAIN_DB_PREFIX};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        emulator_ids_have_neons_shapes_and_operation_ids_are_uuids,
        emulator_operations_go_scheduling_running_finished_and_mutations_meanwhile_get_423,
        emulator_operations_list_pages_with_limit_and_cursor,
        emulator_duplicate_neon_database_branch_name_is_409,
        emulator_invalid_expires_at_is_400_past_too_far_default_with_children_child_of_expiring,
        emulator_401_without_a_bearer_key,
        emulator_404_for_unknown_project_and_neon_database_branch_and_204_on_delete,
        emulator_reaper_deletes_an_expired_neon_database_branch_and_its_database,
        emulator_faults_status_with_retry_after_delay_dropped_connection_failed_operation,
        emulator_admin_route_injects_and_clears_faults_from_json,
        emulator_admin_routes_need_the_api_key_and_fault_delays_are_bounded,
        emulator_incomplete_or_late_request_body_is_400_or_408_and_applies_nothing,
        emulator_request_body_over_1_mib_is_413_by_content_length_or_as_it_streams,
        emulator_records_requests_and_consumed_faults_drop_answer_applies_then_drops,
        emulator_proxy_refuses_connections_until_operations_finish_57p03,
        emulator_cli_prints_its_url_first_takes_a_faults_file_and_a_key_and_cleans_up_on_ctrl_c,
        emulator_cli_ctrl_c_right_after_its_url_is_printed_stops_it_cleanly,
    ]
}

/// The key every test emulator accepts.
pub const KEY: &str = "it-emulator-key-5b0e97";
/// Neon's 423 message.
pub const LOCKED: &str =
    "project already has running conflicting operations, scheduling of new ones is prohibited";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One HTTP answer of the emulator.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
    pub took: Duration,
}

impl Answer {
    /// Asserts the status; returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        &self.json
    }

    /// Asserts Neon's error body (`{request_id, code, message}`) with this status and a
    /// message containing `needle`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, needle: &str) {
        let body = self.expect(status);
        assert!(
            body["request_id"].as_str().is_some_and(|s| !s.is_empty()),
            "error body lacks request_id: {body}"
        );
        assert!(body["code"].is_string(), "error body lacks code: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "error message {message:?} lacks {needle:?}"
        );
    }
}

/// An emulator in this process on its own multi-threaded runtime (it keeps serving while a
/// test blocks on a child process), backed by the shared test cluster.
pub struct Emu {
    rt: tokio::runtime::Runtime,
    emu: Option<Emulator>,
    pub project: String,
    pub base: String,
    main_db: String,
    http: reqwest::Client,
}

impl Emu {
    /// Starts an emulator whose project id and main database are unique to this test.
    pub fn start(tag: &str, operation_delay: Duration) -> Emu {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let project = format!("it-{tag}-{pid}-{n}");
        assert!(project.len() <= 60, "project id too long: {project}");
        let main_db = format!("{MAIN_DB_PREFIX}emu_{}_{pid}_{n}", tag.replace('-', "_"));
        let (rt, emu) = start_emulator(&project, KEY, &main_db, operation_delay);
        let base = emu.base_url();
        let http = reqwest::Client::builder()
            // A dropped-connection fault must not poison a pooled connection for the next call.
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        Emu {
            rt,
            emu: Some(emu),
            project,
            base,
            main_db,
            http,
        }
    }

    pub fn emulator(&self) -> &Emulator {
        self.emu.as_ref().expect("the emulator runs")
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// `/projects/<this project><rest>`.
    pub fn p(&self, rest: &str) -> String {
        format!("/projects/{}{rest}", self.project)
    }

    /// Sends a request with the right key; `path` is relative to the base URL (query included).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        self.send(method, path, body, Some(&format!("Bearer {KEY}")), &[])
            .unwrap_or_else(|e| panic!("{method} {path}: no answer: {e}"))
    }

    /// Sends a request exactly as given: `authorization` header (or none), extra headers.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        authorization: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.block_on(async {
            let mut req = self.http.request(method, &url);
            if let Some(a) = authorization {
                req = req.header("authorization", a);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let started = Instant::now();
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let retry_after = header("retry-after");
            let content_type = header("content-type");
            let text = resp.text().await?;
            let json = serde_json::from_str(&text).unwrap_or(Value::Null);
            Ok(Answer {
                status,
                retry_after,
                content_type,
                text,
                json,
                took: started.elapsed(),
            })
        })
    }

    /// The default Neon database branch, as listed.
    pub fn default_db_branch(&self) -> Value {
        let list = self.call("GET", &self.p("/branches"), None);
        list.expect(200)["branches"]
            .as_array()
            .and_then(|a| a.iter().find(|b| b["default"] == true).cloned())
            .unwrap_or_else(|| panic!("no default Neon database branch: {}", list.text))
    }

    /// Creates a Neon database branch (`POST …/branches` with `branch` and, when
    /// `endpoint`, one read_write endpoint); asserts 201 and returns the body.
    #[track_caller]
    pub fn create(&self, branch: Value, endpoint: bool) -> Value {
        let mut body = json!({ "branch": branch });
        if endpoint {
            body["endpoints"] = json!([{ "type": "read_write" }]);
        }
        self.call("POST", &self.p("/branches"), Some(&body))
            .expect(201)
            .clone()
    }

    /// Waits until no operation of the project is pending (at most 30 s).
    #[track_caller]
    pub fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ops = self.call("GET", &self.p("/operations"), None);
            let pending = ops.expect(200)["operations"]
                .as_array()
                .expect("operations")
                .iter()
                .any(|o| o["status"] == "scheduling" || o["status"] == "running");
            if !pending {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "operations still pending: {}",
                ops.text
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Databases of the shared cluster that belong to this emulator: its main database and
    /// every Neon database branch's copy (marked by the emulator's database comment).
    pub fn physical_dbs(&self) -> Vec<String> {
        let marker = json!({ "neon_emulator": 1, "project_id": self.project }).to_string();
        let sql = format!(
            "SELECT d.datname FROM pg_database d LEFT JOIN pg_shdescription s ON s.objoid = d.oid \
             AND s.classoid = 'pg_database'::regclass WHERE s.description = {} OR d.datname = {} \
             ORDER BY 1",
            pg::literal(&marker),
            pg::literal(&self.main_db)
        );
        self.block_on(query("postgres", &sql))
            .expect("list the emulator's databases")
            .into_iter()
            .map(|r| r[0].clone().unwrap_or_default())
            .collect()
    }

    /// Destroys the emulator and asserts that none of its databases is left on the cluster.
    pub fn finish(mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.destroy());
        }
        let left = self.physical_dbs();
        assert!(
            left.is_empty(),
            "the emulator of {} left databases behind: {left:?}",
            self.project
        );
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.destroy());
        }
    }
}

/// `^<prefix>-[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$`: how neonctl tells an id from a name.
pub fn has_id_shape(id: &str, prefix: &str) -> bool {
    let Some(rest) = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// A UUID in its canonical lowercase text form.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// RFC 3339 in UTC at second precision, the way Neon writes timestamps.
pub fn neon_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether `s` is a timestamp the way Neon writes them (`2022-11-30T20:09:48Z`).
fn is_neon_time(s: &str) -> bool {
    s.len() == 20 && s.ends_with('Z') && DateTime::parse_from_rfc3339(s).is_ok()
}

fn emulator_ids_have_neons_shapes_and_operation_ids_are_uuids() {
    let e = Emu::start("emu-ids", Duration::from_millis(100));
    let main = e.default_db_branch();
    assert!(
        has_id_shape(main["id"].as_str().unwrap_or_default(), "br"),
        "{main}"
    );
    assert_eq!(main["name"], "main");

    let created = e.create(
        json!({ "name": "it/shapes", "parent_id": main["id"] }),
        true,
    );
    let b = &created["branch"];
    let id = b["id"].as_str().expect("id");
    assert!(has_id_shape(id, "br"), "Neon database branch id {id}");
    assert_eq!(b["parent_id"], main["id"]);
    for key in ["created_at", "updated_at", "state_changed_at"] {
        let t = b[key].as_str().unwrap_or_default();
        assert!(is_neon_time(t), "{key} = {t:?}");
    }
    let ep = &created["endpoints"][0];
    let ep_id = ep["id"].as_str().expect("endpoint id");
    assert!(has_id_shape(ep_id, "ep"), "endpoint id {ep_id}");
    assert_eq!(ep["branch_id"], id);
    assert_eq!(ep["type"], "read_write");
    let ops = created["operations"].as_array().expect("operations");
    assert!(!ops.is_empty(), "{created}");
    for op in ops {
        let op_id = op["id"].as_str().unwrap_or_default();
        assert!(is_uuid(op_id), "operation id {op_id}");
        assert_eq!(op["project_id"], e.project.as_str());
        assert_eq!(op["branch_id"], id);
    }
    assert_eq!(created["databases"][0]["name"], "neondb");
    assert!(created["databases"][0]["id"].is_i64(), "{created}");
    assert_eq!(created["roles"][0]["name"], "neondb_owner");
    let uri = created["connection_uris"][0]["connection_uri"]
        .as_str()
        .expect("a connection URI");
    assert!(
        uri.starts_with("postgresql://neondb_owner:npg_") && uri.ends_with("/neondb"),
        "{uri}"
    );
    // Ids are unique across Neon database branches and endpoints; operations of a later
    // mutation have new ids too.
    e.wait_idle();
    let second = e.create(json!({}), false);
    let second_id = second["branch"]["id"].as_str().expect("id");
    assert!(has_id_shape(second_id, "br"), "{second_id}");
    assert_ne!(second_id, id);
    assert!(
        !second["branch"]["name"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "a generated name: {second}"
    );
    assert_eq!(second["endpoints"], json!([]), "no endpoint asked for");
    assert!(second.get("connection_uris").is_none(), "{second}");
    let got = e.call(
        "GET",
        &e.p(&format!("/operations/{}", ops[0]["id"].as_str().unwrap())),
        None,
    );
    assert_eq!(got.expect(200)["operation"]["id"], ops[0]["id"]);
    e.finish();
}

fn emulator_operations_go_scheduling_running_finished_and_mutations_meanwhile_get_423() {
    // Long enough that every step below happens while the operations are pending, also on
    // a loaded machine (each of the three states lasts a third of it).
    let delay = Duration::from_millis(6000);
    let e = Emu::start("emu-ops", delay);
    let before = e.call("GET", &e.p("/branches"), None);
    before.expect(200);

    let created = e.create(json!({ "name": "it/ops" }), true);
    // The operations start when the answer is sent (after the database copy).
    let started = Instant::now();
    let id = created["branch"]["id"].as_str().expect("id").to_owned();
    let ops = created["operations"]
        .as_array()
        .expect("operations")
        .clone();
    let actions: Vec<&str> = ops.iter().filter_map(|o| o["action"].as_str()).collect();
    assert!(actions.contains(&"start_compute"), "{actions:?}");
    for op in &ops {
        assert_eq!(op["status"], "scheduling", "{op}");
    }
    assert_eq!(created["branch"]["current_state"], "init");
    assert_eq!(created["endpoints"][0]["current_state"], "init");

    // Mutations meanwhile: 423 with Neon's message, nothing changed.
    let patch = json!({ "branch": { "name": "it/ops-renamed" } });
    e.call("PATCH", &e.p(&format!("/branches/{id}")), Some(&patch))
        .expect_error(423, LOCKED);
    e.call(
        "POST",
        &e.p("/branches"),
        Some(&json!({ "branch": { "name": "it/ops-2" } })),
    )
    .expect_error(423, LOCKED);
    e.call("DELETE", &e.p(&format!("/branches/{id}")), None)
        .expect_error(423, LOCKED);
    let restore = json!({ "source_branch_id": created["branch"]["parent_id"] });
    e.call(
        "POST",
        &e.p(&format!("/branches/{id}/restore")),
        Some(&restore),
    )
    .expect_error(423, LOCKED);
    // Reads still work.
    e.call("GET", &e.p(&format!("/branches/{id}")), None)
        .expect(200);
    // Each operation goes scheduling → running → finished, in that order and over the delay.
    let op_id = ops[0]["id"].as_str().expect("op id");
    let mut seen = vec!["scheduling".to_owned()];
    let deadline = Instant::now() + delay * 4;
    loop {
        let got = e.call("GET", &e.p(&format!("/operations/{op_id}")), None);
        let status = got.expect(200)["operation"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        // The 423s above came while it was pending, or they would have been 200s.
        if status == "finished" {
            let op = &got.json["operation"];
            assert_eq!(op["failures_count"], 0, "{op}");
            assert!(op["total_duration_ms"].as_i64().unwrap_or(0) > 0, "{op}");
            break;
        }
        assert!(Instant::now() < deadline, "not finished: {seen:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen, ["scheduling", "running", "finished"]);
    assert!(
        started.elapsed() >= delay * 9 / 10,
        "finished after {:?}, before the delay",
        started.elapsed()
    );
    e.wait_idle();

    let b = e.call("GET", &e.p(&format!("/branches/{id}")), None);
    assert_eq!(b.expect(200)["branch"]["current_state"], "ready");
    assert!(
        b.json["branch"].get("pending_state").is_none(),
        "{}",
        b.text
    );
    let eps = e.call("GET", &e.p(&format!("/branches/{id}/endpoints")), None);
    assert_eq!(eps.expect(200)["endpoints"][0]["current_state"], "active");
    // Now the same mutation goes through.
    let renamed = e.call("PATCH", &e.p(&format!("/branches/{id}")), Some(&patch));
    assert_eq!(renamed.expect(200)["branch"]["name"], "it/ops-renamed");
    e.finish();
}

fn emulator_operations_list_pages_with_limit_and_cursor() {
    let e = Emu::start("emu-op-pages", Duration::from_millis(50));
    // Three creates with an endpoint and a delete: seven operations.
    let mut ids = Vec::new();
    for n in 0..3 {
        let b = e.create(json!({ "name": format!("it/pages-{n}") }), true);
        ids.push(b["branch"]["id"].as_str().expect("id").to_owned());
        e.wait_idle();
    }
    e.call("DELETE", &e.p(&format!("/branches/{}", ids[0])), None)
        .expect(200);
    e.wait_idle();
    let all = e.call("GET", &e.p("/operations"), None);
    let all: Vec<String> = all.expect(200)["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(all.len(), 8, "{all:?}");
    // Pages of three, newest first, following `pagination.cursor` until a page is empty.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => format!("/operations?limit=3&cursor={c}"),
            None => "/operations?limit=3".to_owned(),
        };
        let page = e.call("GET", &e.p(&q), None);
        let ops = page.expect(200)["operations"]
            .as_array()
            .expect("ops")
            .clone();
        assert!(ops.len() <= 3, "{}", page.text);
        let next = page.json["pagination"]["cursor"]
            .as_str()
            .expect("cursor")
            .to_owned();
        assert!(!next.is_empty());
        if ops.is_empty() {
            break;
        }
        paged.extend(
            ops.iter()
                .map(|o| o["id"].as_str().unwrap_or_default().to_owned()),
        );
        cursor = Some(next);
    }
    assert_eq!(paged, all, "paging yields every operation once, in order");
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "cursor=not-an-operation",
    ] {
        e.call("GET", &e.p(&format!("/operations?{bad}")), None)
            .expect_error(400, "");
    }
    e.finish();
}

fn emulator_duplicate_neon_database_branch_name_is_409() {
    let e = Emu::start("emu-dup", Duration::from_millis(100));
    let first = e.create(json!({ "name": "it/dup" }), false);
    e.wait_idle();
    let again = e.send(
        "POST",
        &e.p("/branches"),
        Some(&json!({ "branch": { "name": "it/dup" }, "endpoints": [{ "type": "read_write" }] })),
        Some(&format!("Bearer {KEY}")),
        &[("x-request-id", "it-request-409")],
    );
    let again = again.expect("an answer");
    again.expect_error(409, "branch already exists; branch_name:\"it/dup\"");
    assert_eq!(
        again.json["request_id"], "it-request-409",
        "X-Request-ID is echoed"
    );
    // Also on rename, and for the default's name.
    let other = e.create(json!({ "name": "it/other" }), false);
    e.wait_idle();
    let other_id = other["branch"]["id"].as_str().expect("id");
    for name in ["it/dup", "main"] {
        e.call(
            "PATCH",
            &e.p(&format!("/branches/{other_id}")),
            Some(&json!({ "branch": { "name": name } })),
        )
        .expect_error(409, &format!("branch_name:\"{name}\""));
    }
    // Nothing was created by the refused calls.
    let list = e.call("GET", &e.p("/branches?search=it/dup"), None);
    let found = list.expect(200)["branches"].as_array().expect("branches");
    assert_eq!(found.len(), 1, "{}", list.text);
    assert_eq!(found[0]["id"], first["branch"]["id"]);
    assert_eq!(e.physical_dbs().len(), 3, "main and two copies");
    e.finish();
}

fn emulator_invalid_expires_at_is_400_past_too_far_default_with_children_child_of_expiring() {
    let e = Emu::start("emu-ttl", Duration::from_millis(100));
    let main = e.default_db_branch();
    let main_id = main["id"].as_str().expect("id").to_owned();
    let now = Utc::now();
    let post = |branch: Value| {
        e.call(
            "POST",
            &e.p("/branches"),
            Some(&json!({ "branch": branch })),
        )
    };

    post(json!({ "name": "it/past", "expires_at": neon_time(now - chrono::Duration::hours(1)) }))
        .expect_error(400, "in the past");
    post(json!({ "name": "it/far", "expires_at": neon_time(now + chrono::Duration::days(31)) }))
        .expect_error(400, "30 days");
    post(json!({ "name": "it/zoneless", "expires_at": "2030-01-01T00:00:00" }))
        .expect_error(400, "RFC 3339");
    post(json!({ "name": "it/number", "expires_at": 1_900_000_000 }))
        .expect_error(400, "expires_at");

    // Fractional seconds and offsets are accepted, stored in UTC at second precision.
    let soon = now + chrono::Duration::hours(2);
    let offset = soon
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).expect("offset"))
        .to_rfc3339_opts(SecondsFormat::Millis, false);
    let expiring = e.create(
        json!({ "name": "it/expiring", "expires_at": offset }),
        false,
    );
    let want = neon_time(DateTime::from_timestamp(soon.timestamp(), 0).expect("time"));
    assert_eq!(
        expiring["branch"]["expires_at"],
        want.as_str(),
        "sent {offset}"
    );
    let ttl = expiring["branch"]["ttl_interval_seconds"]
        .as_i64()
        .expect("ttl");
    assert!((7190..=7200).contains(&ttl), "ttl_interval_seconds {ttl}");
    e.wait_idle();
    let expiring_id = expiring["branch"]["id"].as_str().expect("id").to_owned();

    // No children for an expiring Neon database branch.
    post(json!({ "name": "it/child-of-expiring", "parent_id": expiring_id }))
        .expect_error(400, "expiration");

    // PATCH: not on the default one, not on one with children, not past / too far.
    let patch = |id: &str, expires: Value| {
        e.call(
            "PATCH",
            &e.p(&format!("/branches/{id}")),
            Some(&json!({ "branch": { "expires_at": expires } })),
        )
    };
    let in_a_day = json!(neon_time(now + chrono::Duration::days(1)));
    patch(&main_id, in_a_day.clone()).expect_error(400, "default");
    let parent = e.create(json!({ "name": "it/parent" }), false);
    e.wait_idle();
    let parent_id = parent["branch"]["id"].as_str().expect("id").to_owned();
    e.create(json!({ "name": "it/child", "parent_id": parent_id }), false);
    e.wait_idle();
    patch(&parent_id, in_a_day.clone()).expect_error(400, "children");
    patch(
        &expiring_id,
        json!(neon_time(now - chrono::Duration::minutes(1))),
    )
    .expect_error(400, "in the past");
    patch(
        &expiring_id,
        json!(neon_time(now + chrono::Duration::days(40))),
    )
    .expect_error(400, "30 days");
    // Nothing changed by the refusals; `null` clears the expiration.
    let got = e.call("GET", &e.p(&format!("/branches/{expiring_id}")), None);
    assert_eq!(got.expect(200)["branch"]["expires_at"], want.as_str());
    let cleared = patch(&expiring_id, Value::Null);
    assert!(
        cleared.expect(200)["branch"].get("expires_at").is_none(),
        "{}",
        cleared.text
    );
    e.finish();
}

fn emulator_401_without_a_bearer_key() {
    let e = Emu::start("emu-401", Duration::from_millis(100));
    let path = e.p("/branches");
    let wrong = "Bearer wrong-key-d41d8c";
    for auth in [None, Some("Basic aXQ6aXQ="), Some("Bearer "), Some(wrong)] {
        for prefix in ["", "/api/v2"] {
            let a = e
                .send("GET", &format!("{prefix}{path}"), None, auth, &[])
                .expect("an answer");
            a.expect_error(401, "API key");
            assert!(
                !a.text.contains("wrong-key"),
                "the key is echoed: {}",
                a.text
            );
        }
    }
    // Mutations are refused before anything happens.
    let a = e
        .send(
            "POST",
            &path,
            Some(&json!({ "branch": { "name": "it/x" } })),
            None,
            &[],
        )
        .expect("an answer");
    a.expect_error(401, "API key");
    e.call("GET", &path, None).expect(200);
    assert_eq!(e.physical_dbs().len(), 1, "only main");
    e.finish();
}

fn emulator_404_for_unknown_project_and_neon_database_branch_and_204_on_delete() {
    let e = Emu::start("emu-404", Duration::from_millis(100));
    for prefix in ["", "/api/v2"] {
        for path in [
            "/projects/no-such-project/branches".to_owned(),
            "/projects/no-such-project".to_owned(),
        ] {
            e.call("GET", &format!("{prefix}{path}"), None)
                .expect_error(404, "not found");
        }
        let unknown = "br-no-such-thing-00000000";
        for rest in [
            "",
            "/endpoints",
            "/databases",
            "/roles",
            "/roles/neondb_owner/reveal_password",
        ] {
            e.call(
                "GET",
                &format!("{prefix}{}", e.p(&format!("/branches/{unknown}{rest}"))),
                None,
            )
            .expect_error(404, "not found");
        }
        e.call(
            "PATCH",
            &format!("{prefix}{}", e.p(&format!("/branches/{unknown}"))),
            Some(&json!({ "branch": { "name": "x" } })),
        )
        .expect_error(404, "not found");
        e.call(
            "GET",
            &format!(
                "{prefix}{}",
                e.p("/operations/00000000-0000-4000-8000-000000000000")
            ),
            None,
        )
        .expect_error(404, "not found");
        e.call(
            "GET",
            &format!("{prefix}{}", e.p("/endpoints/ep-no-such-thing-0000")),
            None,
        )
        .expect_error(404, "not found");
        // Deleting what is not there is 204 without a body (Neon's "already deleted").
        let gone = e.call(
            "DELETE",
            &format!("{prefix}{}", e.p(&format!("/branches/{unknown}"))),
            None,
        );
        assert_eq!(gone.status, 204, "{}", gone.text);
        assert!(gone.text.is_empty(), "{}", gone.text);
    }
    // A real one: 200 with the Neon database branch, then 204; its database is gone.
    let created = e.create(json!({ "name": "it/delete-me" }), true);
    let id = created["branch"]["id"].as_str().expect("id").to_owned();
    e.wait_idle();
    assert_eq!(e.physical_dbs().len(), 2);
    let deleted = e.call("DELETE", &e.p(&format!("/branches/{id}")), None);
    assert_eq!(deleted.expect(200)["branch"]["id"], id.as_str());
    assert!(!deleted.json["operations"]
        .as_array()
        .expect("ops")
        .is_empty());
    e.wait_idle();
    assert_eq!(
        e.call("DELETE", &e.p(&format!("/branches/{id}")), None)
            .status,
        204
    );
    e.call("GET", &e.p(&format!("/branches/{id}")), None)
        .expect_error(404, "not found");
    assert_eq!(e.physical_dbs().len(), 1, "its database is gone");
    e.finish();
}

fn emulator_reaper_deletes_an_expired_neon_database_branch_and_its_database() {
    let e = Emu::start("emu-reaper", Duration::from_millis(100));
    // Second precision; eight seconds ahead is still in the future when the request lands,
    // and after the second create below, also on a loaded machine.
    let expires = DateTime::from_timestamp(Utc::now().timestamp() + 8, 0).expect("time");
    let created = e.create(
        json!({ "name": "it/short-lived", "expires_at": neon_time(expires) }),
        true,
    );
    let id = created["branch"]["id"].as_str().expect("id").to_owned();
    let keep = e.create_after_idle(json!({ "name": "it/kept" }));
    assert_eq!(e.physical_dbs().len(), 3, "main and two copies");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = e.call("GET", &e.p(&format!("/branches/{id}")), None);
        if got.status == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not reaped within 20 s: {}",
            got.text
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        Utc::now() >= expires,
        "reaped before its expires_at {}",
        neon_time(expires)
    );
    // Its database goes from the backing server right after (the reaper drops it once the
    // Neon database branch is out of the state), and so does its endpoint; the other stays.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dbs = e.physical_dbs();
        if dbs.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "its database survived: {dbs:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let eps = e.call("GET", &e.p("/endpoints"), None);
    assert!(!eps.text.contains(&id), "{}", eps.text);
    let kept = e.call(
        "GET",
        &e.p(&format!(
            "/branches/{}",
            keep["branch"]["id"].as_str().unwrap()
        )),
        None,
    );
    kept.expect(200);
    e.finish();
}

impl Emu {
    /// Waits for pending operations, then creates (no endpoint).
    fn create_after_idle(&self, branch: Value) -> Value {
        self.wait_idle();
        let v = self.create(branch, false);
        self.wait_idle();
        v
    }

    fn inject(&self, method: &str, path_contains: &str, times: u32, action: FaultAction) {
        self.emulator().inject(Fault {
            method: Some(method.into()),
            path_contains: path_contains.into(),
            times,
            action,
        });
    }
}

fn emulator_faults_status_with_retry_after_delay_dropped_connection_failed_operation() {
    let e = Emu::start("emu-faults", Duration::from_millis(100));
    let list = e.p("/branches");

    // Status with Retry-After, twice, then the route answers normally again.
    e.inject(
        "GET",
        "/branches",
        2,
        FaultAction::Status {
            status: 429,
            retry_after: Some(7),
        },
    );
    // A fault for another method does not fire on GET.
    e.inject(
        "POST",
        "/branches",
        1,
        FaultAction::Status {
            status: 503,
            retry_after: None,
        },
    );
    for _ in 0..2 {
        let a = e.call("GET", &list, None);
        a.expect_error(429, "");
        assert_eq!(a.retry_after.as_deref(), Some("7"));
    }
    e.call("GET", &list, None).expect(200);
    let a = e.call(
        "POST",
        &list,
        Some(&json!({ "branch": { "name": "it/not-made" } })),
    );
    a.expect_error(503, "");
    assert_eq!(a.retry_after, None);
    assert_eq!(e.physical_dbs().len(), 1, "the 503 made nothing");

    // 423 with Neon's own message.
    e.inject(
        "DELETE",
        "",
        1,
        FaultAction::Status {
            status: 423,
            retry_after: None,
        },
    );
    e.call("DELETE", &e.p("/branches/br-a-b-c"), None)
        .expect_error(423, LOCKED);

    // Delay: the answer comes late but whole.
    e.inject(
        "GET",
        "/endpoints",
        1,
        FaultAction::Delay(Duration::from_millis(800)),
    );
    let slow = e.call("GET", &e.p("/endpoints"), None);
    slow.expect(200);
    assert!(
        slow.took >= Duration::from_millis(800),
        "took {:?}",
        slow.took
    );
    e.call("GET", &e.p("/endpoints"), None).expect(200);
    // Only the first one was delayed: the log says which request consumed the fault.
    let log = e.request_log();
    let last: Vec<&Value> = log[log.len() - 2..].iter().map(|r| &r["fault"]).collect();
    assert_eq!(
        last,
        [&json!({ "delay_ms": 800 }), &Value::Null],
        "{log:#?}"
    );

    // Dropped connection: no HTTP answer at all.
    e.inject("GET", "/branches", 1, FaultAction::Drop);
    let dropped = e.send("GET", &list, None, Some(&format!("Bearer {KEY}")), &[]);
    let err = dropped.expect_err("the connection is dropped");
    assert!(err.status().is_none(), "{err}");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    e.call("GET", &list, None).expect(200);

    // FailNextOperation: the create is accepted, its operation ends `failed`.
    e.inject("POST", "/branches", 1, FaultAction::FailNextOperation);
    let created = e.create(json!({ "name": "it/doomed" }), true);
    let id = created["branch"]["id"].as_str().expect("id").to_owned();
    let op_id = created["operations"][0]["id"]
        .as_str()
        .expect("op")
        .to_owned();
    e.wait_idle();
    let op = e.call("GET", &e.p(&format!("/operations/{op_id}")), None);
    let op = op.expect(200)["operation"].clone();
    assert_eq!(op["status"], "failed", "{op}");
    assert!(op["error"].as_str().is_some_and(|s| !s.is_empty()), "{op}");
    assert_eq!(op["failures_count"], 1, "{op}");
    // Only the next operation fails: the others of that create, and later ones, finish.
    let others = e.call("GET", &e.p("/operations"), None);
    let statuses: Vec<(String, String)> = others.expect(200)["operations"]
        .as_array()
        .expect("ops")
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap_or_default().to_owned(),
                o["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|(_, s)| s == "failed").count(),
        1,
        "{statuses:?}"
    );
    e.call("DELETE", &e.p(&format!("/branches/{id}")), None)
        .expect(200);
    e.wait_idle();
    let ok = e.create(json!({ "name": "it/fine" }), false);
    e.wait_idle();
    let op_id = ok["operations"][0]["id"].as_str().expect("op");
    let op = e.call("GET", &e.p(&format!("/operations/{op_id}")), None);
    assert_eq!(op.expect(200)["operation"]["status"], "finished");
    e.finish();
}

fn emulator_admin_route_injects_and_clears_faults_from_json() {
    let e = Emu::start("emu-admin", Duration::from_millis(100));
    let list = e.p("/branches");
    let admin = |method: &str, body: &str| {
        let url = format!("{}/_emulator/faults", e.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        e.block_on(async {
            let resp = reqwest::Client::new()
                .request(method, &url)
                .bearer_auth(KEY)
                .header("content-type", "application/json")
                .body(body.to_owned())
                .send()
                .await
                .expect("the admin route answers");
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        })
    };

    // One fault as an object.
    let (status, text) = admin(
        "POST",
        r#"{"method":"get","path_contains":"/branches","status":503,"retry_after":2}"#,
    );
    assert_eq!((status, text.as_str()), (200, r#"{"injected":1}"#));
    let a = e.call("GET", &list, None);
    a.expect_error(503, "");
    assert_eq!(a.retry_after.as_deref(), Some("2"));
    e.call("GET", &list, None).expect(200);

    // Several as an array: a delay and a dropped connection, each once.
    let (status, text) = admin(
        "POST",
        r#"[{"path_contains":"/endpoints","delay_ms":600},{"method":"GET","path_contains":"/roles","drop":true,"times":1}]"#,
    );
    assert_eq!((status, text.as_str()), (200, r#"{"injected":2}"#));
    let main = e.default_db_branch();
    let main_id = main["id"].as_str().expect("id");
    let slow = e.call("GET", &e.p(&format!("/branches/{main_id}/endpoints")), None);
    slow.expect(200);
    assert!(
        slow.took >= Duration::from_millis(600),
        "took {:?}",
        slow.took
    );
    let roles = e.p(&format!("/branches/{main_id}/roles"));
    assert!(e
        .send("GET", &roles, None, Some(&format!("Bearer {KEY}")), &[])
        .is_err());
    e.call("GET", &roles, None).expect(200);

    // A failed operation, by JSON.
    let (status, _) = admin(
        "POST",
        r#"{"method":"POST","path_contains":"/branches","fail_next_operation":true}"#,
    );
    assert_eq!(status, 200);
    let created = e.create(json!({ "name": "it/admin-doomed" }), false);
    e.wait_idle();
    let op_id = created["operations"][0]["id"].as_str().expect("op");
    let op = e.call("GET", &e.p(&format!("/operations/{op_id}")), None);
    assert_eq!(op.expect(200)["operation"]["status"], "failed");

    // Invalid faults are refused with Neon's error body and change nothing.
    for bad in [
        "not json",
        r#"{"status":503,"drop":true}"#,
        r#"{"path_contains":"/x"}"#,
        r#"{"status":999}"#,
        r#"{"status":503,"colour":"red"}"#,
        r#"[{"status":503},{"delay_ms":"soon"}]"#,
        r#"{"delay_ms":100800000}"#,
        r#"{"status":503,"retry_after":86400}"#,
        r#"{"delay_ms":10,"retry_after":1}"#,
    ] {
        let (status, text) = admin("POST", bad);
        assert_eq!(status, 400, "{bad} → {text}");
        let body: Value = serde_json::from_str(&text).expect("JSON error body");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{text}"
        );
    }
    e.call("GET", &list, None).expect(200);

    // DELETE clears every pending fault.
    let (status, _) = admin(
        "POST",
        r#"{"path_contains":"/branches","status":500,"times":5}"#,
    );
    assert_eq!(status, 200);
    let (status, text) = admin("GET", "");
    assert_eq!(status, 200, "{text}");
    let pending: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        pending["faults"],
        json!([{ "method": null, "path_contains": "/branches", "status": 500, "retry_after": null, "times": 5 }]),
        "{text}"
    );
    let (status, text) = admin("DELETE", "");
    assert_eq!((status, text.as_str()), (204, ""));
    e.call("GET", &list, None).expect(200);
    let (status, text) = admin("GET", "");
    assert_eq!((status, text.as_str()), (200, r#"{"faults":[]}"#));
    let (status, _) = admin("PUT", "");
    assert_eq!(status, 404);
    e.finish();
}

impl Emu {
    /// `(status, body)` of an admin route (`/_emulator/<route>`), sent with `authorization`.
    fn admin(
        &self,
        method: &str,
        route: &str,
        body: Option<&str>,
        authorization: Option<&str>,
    ) -> (u16, String) {
        let url = format!("{}/_emulator/{route}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        self.block_on(async {
            let mut req = self.http.request(method, &url);
            if let Some(a) = authorization {
                req = req.header("authorization", a);
            }
            if let Some(b) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(b.to_owned());
            }
            let resp = req.send().await.expect("the admin route answers");
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap_or_default())
        })
    }

    /// The request log (`GET /_emulator/requests`), checked against the in-process one.
    fn request_log(&self) -> Vec<Value> {
        let (status, text) = self.admin("GET", "requests", None, Some(&format!("Bearer {KEY}")));
        assert_eq!(status, 200, "{text}");
        let log: Value = serde_json::from_str(&text).expect("JSON request log");
        assert_eq!(log["not_kept"], 0, "{text}");
        let requests = log["requests"].as_array().expect("requests").clone();
        let in_process: Vec<Value> = self
            .emulator()
            .requests()
            .iter()
            .map(|r| r.to_json())
            .collect();
        assert_eq!(
            requests, in_process,
            "the admin route and the emulator disagree"
        );
        requests
    }

    /// Sends raw bytes to the emulator's HTTP port (`shutdown_write`: then closes the sending
    /// half) and returns everything it answers until it closes the connection (at most 60 s).
    fn raw(&self, bytes: &[u8], shutdown_write: bool) -> String {
        use std::io::{Read, Write};
        let addr = self.base.strip_prefix("http://").expect("http base URL");
        let mut s = std::net::TcpStream::connect(addr).expect("connect to the emulator");
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        // The emulator may refuse before it read everything: a broken pipe then is fine.
        let _ = s.write_all(bytes);
        if shutdown_write {
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    panic!(
                        "no end of the answer within 60 s; got so far: {:?}",
                        String::from_utf8_lossy(&got)
                    )
                }
                // A reset after the answer (the emulator did not read the rest).
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// Names of every Neon database branch of the project.
    fn db_branch_names(&self) -> Vec<String> {
        let list = self.call("GET", &self.p("/branches"), None);
        let mut names: Vec<String> = list.expect(200)["branches"]
            .as_array()
            .expect("branches")
            .iter()
            .map(|b| b["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names
    }
}

/// The admin routes answer only with the API key (401 otherwise, nothing injected), and a
/// fault cannot hold a request for hours.
fn emulator_admin_routes_need_the_api_key_and_fault_delays_are_bounded() {
    let e = Emu::start("emu-admin-key", Duration::from_millis(100));
    let list = e.p("/branches");
    let fault = r#"{"method":"GET","path_contains":"/branches","status":503}"#;
    let wrong = "Bearer wrong-key-3f2a1c";
    for auth in [None, Some("Bearer "), Some("Basic aXQ6aXQ="), Some(wrong)] {
        for (method, route, body) in [
            ("POST", "faults", Some(fault)),
            ("GET", "faults", None),
            ("DELETE", "faults", None),
            ("GET", "requests", None),
            ("DELETE", "requests", None),
        ] {
            let (status, text) = e.admin(method, route, body, auth);
            assert_eq!(
                status, 401,
                "{method} /_emulator/{route} with {auth:?}: {text}"
            );
            assert!(text.contains("API key"), "{text}");
            assert!(!text.contains("wrong-key"), "the key is echoed: {text}");
        }
    }
    // Nothing was injected: the route answers.
    e.call("GET", &list, None).expect(200);
    let key = format!("Bearer {KEY}");
    let (status, text) = e.admin("POST", "faults", Some(fault), Some(&key));
    assert_eq!((status, text.as_str()), (200, r#"{"injected":1}"#));
    e.call("GET", &list, None).expect_error(503, "");

    // A 28-hour delay (or a day of Retry-After) is refused with the bound, and not injected.
    for (bad, needle) in [
        (r#"{"delay_ms":100800000}"#, "at most 300000"),
        (r#"{"status":429,"retry_after":86400}"#, "at most 3600"),
    ] {
        let (status, text) = e.admin("POST", "faults", Some(bad), Some(&key));
        assert_eq!(status, 400, "{bad} → {text}");
        assert!(text.contains(needle), "{bad} → {text}");
    }
    let (status, text) = e.admin("GET", "faults", None, Some(&key));
    assert_eq!((status, text.as_str()), (200, r#"{"faults":[]}"#));
    // The bound itself is accepted (and cleared again).
    let (status, _) = e.admin(
        "POST",
        "faults",
        Some(r#"{"path_contains":"/nowhere","delay_ms":300000}"#),
        Some(&key),
    );
    assert_eq!(status, 200);
    assert_eq!(e.admin("DELETE", "faults", None, Some(&key)).0, 204);
    e.finish();
}

/// A create whose body does not arrive whole creates nothing: cut off (the client closed
/// its side) it is 400, never finished it is 408 after the body timeout.
fn emulator_incomplete_or_late_request_body_is_400_or_408_and_applies_nothing() {
    let e = Emu::start("emu-partial-body", Duration::from_millis(100));
    let path = e.p("/branches");
    let body = json!({ "branch": { "name": "it/partial" } }).to_string();
    let partial = &body[..body.len() / 2];
    let head = |len: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nhost: emulator\r\nauthorization: Bearer {KEY}\r\n\
             content-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n"
        )
    };

    // Cut off: half the body, then the client's side closes.
    let answer = e.raw(format!("{}{partial}", head(body.len())).as_bytes(), true);
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "a cut-off body must be refused: {answer:?}"
    );
    assert!(answer.contains("nothing was applied"), "{answer}");
    // Never finished: half the body, and the connection stays open.
    let answer = e.raw(format!("{}{partial}", head(body.len())).as_bytes(), false);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "a body that never arrives must time out: {answer:?}"
    );
    assert!(
        answer.contains("did not arrive whole within 10 s"),
        "{answer}"
    );

    // Nothing was created, and no operation started.
    assert_eq!(e.db_branch_names(), ["main"]);
    assert_eq!(e.physical_dbs().len(), 1, "only main's database");
    let ops = e.call("GET", &e.p("/operations"), None);
    assert_eq!(ops.expect(200)["operations"], json!([]), "{}", ops.text);
    // The log says why: both answered before reaching the route.
    let log = e.request_log();
    let posts: Vec<(Value, Value)> = log
        .iter()
        .filter(|r| r["method"] == "POST")
        .map(|r| (r["answer"].clone(), r["applied"].clone()))
        .collect();
    assert_eq!(
        posts,
        [(json!(400), json!(false)), (json!(408), json!(false))],
        "{log:#?}"
    );

    // The whole body, the same way, creates it.
    let answer = e.raw(format!("{}{body}", head(body.len())).as_bytes(), false);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    e.wait_idle();
    assert_eq!(e.db_branch_names(), ["it/partial", "main"]);
    e.finish();
}

/// Bodies over 1 MiB are refused with 413 without being read into memory: at once by their
/// `Content-Length` (200 MB announced, none sent), or once 1 MiB streamed in (chunked).
fn emulator_request_body_over_1_mib_is_413_by_content_length_or_as_it_streams() {
    let e = Emu::start("emu-413", Duration::from_millis(100));
    let path = e.p("/branches");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: emulator\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\nconnection: close\r\n"
    );
    // Announced: the emulator answers before any of the 200 MB is sent.
    let answer = e.raw(
        format!("{head}content-length: 209715200\r\n\r\n").as_bytes(),
        false,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert!(answer.contains("larger than 1048576 bytes"), "{answer}");

    // Streamed: 2 MiB in 64 KiB chunks, no length announced.
    let chunk = format!("{:x}\r\n{}\r\n", 65536, " ".repeat(65536));
    let mut bytes = format!("{head}transfer-encoding: chunked\r\n\r\n").into_bytes();
    for _ in 0..32 {
        bytes.extend_from_slice(chunk.as_bytes());
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    let answer = e.raw(&bytes, true);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");

    // The admin route too.
    let answer = e.raw(
        format!(
            "POST /_emulator/faults HTTP/1.1\r\nhost: emulator\r\nauthorization: Bearer {KEY}\r\n\
             connection: close\r\ncontent-length: 209715200\r\n\r\n"
        )
        .as_bytes(),
        false,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");

    // Nothing was created; a body under the limit still works.
    assert_eq!(e.db_branch_names(), ["main"]);
    let padded = json!({ "branch": { "name": "it/padded" }, "pad": " ".repeat(512 * 1024) });
    e.call("POST", &path, Some(&padded)).expect(201);
    e.wait_idle();
    assert_eq!(e.db_branch_names(), ["it/padded", "main"]);
    e.finish();
}

/// The request log: every API request in arrival order with the fault it consumed, whether it
/// reached the route, and its answer; `drop_answer` applies the request, then drops the answer.
fn emulator_records_requests_and_consumed_faults_drop_answer_applies_then_drops() {
    let e = Emu::start("emu-log", Duration::from_millis(100));
    let key = format!("Bearer {KEY}");
    let list = e.p("/branches");
    let (status, text) = e.admin(
        "POST",
        "faults",
        Some(
            r#"[{"method":"POST","path_contains":"/branches","drop_answer":true},
                {"method":"GET","path_contains":"/endpoints","drop":true},
                {"method":"GET","path_contains":"/operations","status":503,"retry_after":1}]"#,
        ),
        Some(&key),
    );
    assert_eq!((status, text.as_str()), (200, r#"{"injected":3}"#));

    // The create is applied, but its answer never comes.
    let body = json!({ "branch": { "name": "it/lost-answer" } });
    let lost = e.send("POST", &list, Some(&body), Some(&key), &[]);
    let err = lost.expect_err("the answer is dropped");
    assert!(err.status().is_none(), "{err}");
    assert_eq!(
        e.db_branch_names(),
        ["it/lost-answer", "main"],
        "it was applied"
    );
    // `drop` drops before anything happens; a status fault answers for the route.
    assert!(e
        .send("GET", &e.p("/endpoints"), None, Some(&key), &[])
        .is_err());
    e.call("GET", &e.p("/operations"), None)
        .expect_error(503, "");
    e.call("GET", &e.p("/operations"), None).expect(200);
    e.send("GET", &list, None, None, &[])
        .expect("an answer")
        .expect_error(401, "API key");

    let log = e.request_log();
    let summary: Vec<Value> = log
        .iter()
        .map(|r| {
            json!([
                r["method"],
                r["path"],
                r["fault"],
                r["applied"],
                r["answer"]
            ])
        })
        .collect();
    let eps = e.p("/endpoints");
    let ops = e.p("/operations");
    assert_eq!(
        summary,
        [
            json!(["POST", list, { "drop_answer": true }, true, "dropped"]),
            json!(["GET", list, null, true, 200]),
            json!(["GET", eps, { "drop": true }, false, "dropped"]),
            json!(["GET", ops, { "status": 503, "retry_after": 1 }, false, 503]),
            json!(["GET", ops, null, true, 200]),
            json!(["GET", list, null, false, 401]),
        ],
        "{log:#?}"
    );
    assert_eq!(log[0]["body"], body, "the request's body is recorded");
    let seqs: Vec<u64> = log
        .iter()
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<u64>>());
    // Admin routes are not recorded; DELETE empties the log.
    assert_eq!(e.admin("DELETE", "requests", None, Some(&key)).0, 204);
    assert_eq!(e.request_log(), Vec::<Value>::new());
    e.wait_idle();
    e.finish();
}

fn emulator_proxy_refuses_connections_until_operations_finish_57p03() {
    // Long enough that the first connection surely comes while the operations are pending.
    let delay = Duration::from_millis(6000);
    let e = Emu::start("emu-proxy", delay);
    let created = e.create(json!({ "name": "it/proxy" }), true);
    let uri = created["connection_uris"][0]["connection_uri"]
        .as_str()
        .expect("a connection URI")
        .to_owned();
    let code_of = |url: &str| {
        e.block_on(async {
            match pg::connect(&Secret::new(url.to_owned())).await {
                Ok(c) => {
                    let db: String = c
                        .query_one("SELECT current_database()", &[])
                        .await
                        .expect("query")
                        .get(0);
                    Ok(db)
                }
                Err(err) => Err((err.code().map(|c| c.code().to_owned()), err.to_string())),
            }
        })
    };
    // Before the operations finish: refused with 57P03 (cannot connect now).
    let early = code_of(&uri);
    let Err((code, message)) = early else {
        panic!("connected before the operations finished: {early:?}");
    };
    assert_eq!(code.as_deref(), Some("57P03"), "{message}");
    assert!(message.contains("not ready"), "{message}");
    e.wait_idle();
    // After: accepted, and it is this Neon database branch's own database behind `neondb`.
    let db =
        code_of(&uri).unwrap_or_else(|err| panic!("cannot connect after the operations: {err:?}"));
    assert_ne!(db, "neondb");
    assert!(
        e.physical_dbs().contains(&db),
        "{db} is not one of the emulator's"
    );
    let main_db = code_of(&e.emulator().main_url()).expect("main connects");
    assert_ne!(main_db, db);
    // Wrong database or role in the URL: Postgres' own SQLSTATEs.
    let wrong_db = format!(
        "{}/otherdb",
        uri.strip_suffix("/neondb").expect("ends in /neondb")
    );
    assert_eq!(
        code_of(&wrong_db).expect_err("wrong database").0.as_deref(),
        Some("3D000")
    );
    let wrong_user = uri.replace("neondb_owner:", "someone:");
    assert_eq!(
        code_of(&wrong_user).expect_err("wrong role").0.as_deref(),
        Some("28000")
    );
    e.finish();
}

/// The `neon-migrate emulator` command: URL on the first line, `--faults FILE`,
/// `--api-key-env`, and Ctrl-C deletes every Neon database branch but `main`.
fn emulator_cli_prints_its_url_first_takes_a_faults_file_and_a_key_and_cleans_up_on_ctrl_c() {
    use std::io::{BufRead, BufReader};

    let project = format!("it-emu-cli-{}", std::process::id());
    let tag = project.replace('-', "_");
    // What the command leaves on purpose (`main` keeps its data): dropped when the test ends.
    struct Leftovers(String);
    impl Drop for Leftovers {
        fn drop(&mut self) {
            let rt = crate::support::runtime();
            for sql in [
                format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    pg::ident(&format!("neon_emu_{}", self.0))
                ),
                format!(
                    "DROP ROLE IF EXISTS {}",
                    pg::ident(&format!("neon_emu_{}_owner", self.0))
                ),
            ] {
                let _ = rt.block_on(query("postgres", &sql));
            }
        }
    }
    let _leftovers = Leftovers(tag.clone());
    let dir = tempfile::Builder::new()
        .prefix("nm-it-emu-cli-")
        .tempdir()
        .expect("temp dir");
    let faults = dir.path().join("faults.json");
    std::fs::write(
        &faults,
        r#"[{"method":"GET","path_contains":"/branches","status":503,"retry_after":1}]"#,
    )
    .expect("write faults");
    let mut child = std::process::Command::new(crate::support::BIN)
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--project-id",
            &project,
        ])
        .args([
            "--api-key-env",
            "IT_EMULATOR_KEY",
            "--operation-delay",
            "100ms",
            "--faults",
        ])
        .arg(&faults)
        .arg("--data-dir")
        .arg(&cluster().dir)
        .env("IT_EMULATOR_KEY", KEY)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start neon-migrate emulator");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(60));
    let Ok(first) = first else {
        let _ = child.kill();
        let out = child.wait_with_output().expect("output");
        panic!("no first line: {}", String::from_utf8_lossy(&out.stderr));
    };
    let base = first
        .strip_prefix("Neon API emulator listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");

    let rt = crate::support::runtime();
    let send = |method: reqwest::Method, path: &str, key: &str, body: Option<Value>| {
        rt.block_on(async {
            let mut req = reqwest::Client::new()
                .request(method, format!("{base}{path}"))
                .bearer_auth(key);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("the emulator answers");
            let status = resp.status().as_u16();
            let retry = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, retry, body)
        })
    };
    let list = format!("/api/v2/projects/{project}/branches");
    // The fault from the file, once; then the route answers; only the key from the variable.
    let (status, retry, _) = send(reqwest::Method::GET, &list, KEY, None);
    assert_eq!((status, retry.as_deref()), (503, Some("1")));
    assert_eq!(send(reqwest::Method::GET, &list, KEY, None).0, 200);
    assert_eq!(
        send(reqwest::Method::GET, &list, "another-key", None).0,
        401
    );
    let (status, _, created) = send(
        reqwest::Method::POST,
        &list,
        KEY,
        Some(json!({ "branch": { "name": "it/cli" }, "endpoints": [{ "type": "read_write" }] })),
    );
    assert_eq!(status, 201, "{created}");
    let marker = json!({ "neon_emulator": 1, "project_id": project }).to_string();
    let copies = || {
        rt.block_on(query(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_shdescription WHERE description = {}",
                pg::literal(&marker)
            ),
        ))
        .expect("count copies")[0][0]
            .clone()
    };
    assert_eq!(copies().as_deref(), Some("1"));

    // Ctrl-C: exit 0, every Neon database branch but `main` deleted.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the emulator did not stop within 30 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Everything it printed goes to the suite's secret scan (it prints a masked URL).
    let mut printed = vec![first.clone()];
    printed.extend(rx.iter());
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    crate::support::record_output("neon-migrate emulator", &printed.join("\n"));
    crate::support::record_output("neon-migrate emulator", &stderr);
    assert!(status.success(), "exit status {status}\n{stderr}");
    assert_eq!(copies().as_deref(), Some("0"), "Ctrl-C left a copy behind");
}

/// Ctrl-C as soon as the URL is printed (a script that starts it and gives up at once): the
/// signal is already handled then, so the emulator stops cleanly (exit 0), not killed by it.
fn emulator_cli_ctrl_c_right_after_its_url_is_printed_stops_it_cleanly() {
    use std::io::{BufRead, BufReader};

    let project = format!("it-emu-early-{}", std::process::id());
    let tag = project.replace('-', "_");
    struct Leftovers(String);
    impl Drop for Leftovers {
        fn drop(&mut self) {
            let rt = crate::support::runtime();
            for sql in [
                format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    pg::ident(&format!("neon_emu_{}", self.0))
                ),
                format!(
                    "DROP ROLE IF EXISTS {}",
                    pg::ident(&format!("neon_emu_{}_owner", self.0))
                ),
            ] {
                let _ = rt.block_on(query("postgres", &sql));
            }
        }
    }
    let _leftovers = Leftovers(tag);
    let mut child = std::process::Command::new(crate::support::BIN)
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--project-id",
            &project,
        ])
        .arg("--data-dir")
        .arg(&cluster().dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start neon-migrate emulator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let printed: Vec<String> = std::iter::once(first.clone())
        .chain(lines.map_while(Result::ok))
        .collect();
    let out = child.wait_with_output().expect("wait for the emulator");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    crate::support::record_output("neon-migrate emulator (early Ctrl-C)", &printed.join("\n"));
    crate::support::record_output("neon-migrate emulator (early Ctrl-C)", &stderr);
    assert!(
        first.starts_with("Neon API emulator listening on http://127.0.0.1:"),
        "{first:?}\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "Ctrl-C right after the URL must stop it cleanly, not kill it: {}\n{stderr}",
        out.status
    );
}

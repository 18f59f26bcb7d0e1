//! The `neon` provider over real HTTP against the Neon API emulator (in this process, one per
//! test, backed by the shared test cluster), and the CLI with `provider.kind = "neon"`.
//!
//! Every test starts its own emulator with its own project id, so faults injected by one test
//! never reach another. The emulator answers 423 while any operation of its project runs (like
//! Neon), so these tests also prove that the provider waits for operations before its next
//! call. [`Neon`] destroys its emulator (every database it made, the main one included) when
//! dropped, also when the test panics.

use std::time::{Duration, Instant};

use chrono::Utc;
use neon_migrate::emulator::{Answer, Emulator, Fault, FaultAction};
use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::providers::neon::{NeonProvider, NeonSettings};
use neon_migrate::providers::{CreateRequest, DbBranch, DeleteOutcome, Provider, ProviderError};
use neon_migrate::secret::{Redactor, Secret};
use serde_json::{json, Value};

use crate::support::{start_emulator, run_command, Output, Project, MAIN_DB_PREFIX};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        neon_creates_waits_connects_lists_and_deletes_a_test_neon_database_branch,
        neon_delete_of_an_already_deleted_neon_database_branch_is_already_gone,
        neon_423_locked_twice_then_the_create_succeeds,
        neon_429_waits_for_retry_after,
        neon_unknown_project_is_a_clear_error,
        neon_503_then_success_on_create_and_delete,
        neon_failed_operation_is_a_clear_error_and_leaves_no_test_neon_database_branch,
        neon_409_for_a_leftover_of_the_same_git_branch_replaces_it,
        neon_409_for_a_foreign_neon_database_branch_is_refused_with_whose_it_is,
        neon_401_names_the_key_variable_but_never_the_key,
        neon_lost_answers_are_looked_up_before_anything_is_sent_again,
        neon_a_timed_out_create_is_looked_up_then_sent_again,
        neon_pre_push_and_deploy_through_the_cli,
    ]
}

/// The key the emulators accept.
const KEY: &str = "secret-test-key-7d1f0c";
const TTL: Duration = Duration::from_secs(3600);
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// An emulator on its own multi-threaded runtime: it keeps serving while the test thread
/// blocks on a child process.
struct Neon {
    rt: tokio::runtime::Runtime,
    emu: Option<Emulator>,
    project_id: String,
}

impl Neon {
    /// An emulator for `project_id` whose main Neon database branch is a new database.
    fn start(project_id: &str) -> Neon {
        let main_db = format!(
            "{MAIN_DB_PREFIX}{}_{}",
            project_id.replace('-', "_"),
            std::process::id()
        );
        Neon::start_on(project_id, &main_db)
    }

    /// An emulator whose main Neon database branch is database `main_db` of the shared cluster.
    fn start_on(project_id: &str, main_db: &str) -> Neon {
        let (rt, emu) = start_emulator(project_id, KEY, main_db, Duration::from_millis(300));
        Neon {
            rt,
            emu: Some(emu),
            project_id: project_id.into(),
        }
    }

    fn emu(&self) -> &Emulator {
        self.emu.as_ref().expect("running")
    }

    fn base_url(&self) -> String {
        self.emu().base_url()
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn settings(&self) -> NeonSettings {
        NeonSettings {
            project_id: self.project_id.clone(),
            api_key: Secret::new(KEY.into()),
            api_key_env: "NEON_API_KEY".into(),
            api_host: self.base_url(),
            parent: None,
            database: "neondb".into(),
            role: "neondb_owner".into(),
            operation_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
        }
    }

    #[track_caller]
    fn open(&self) -> NeonProvider {
        self.block_on(NeonProvider::open_with(self.settings(), &Redactor::new()))
            .unwrap_or_else(|e| panic!("cannot open the neon provider: {}", e))
    }

    fn inject(&self, method: &str, path_contains: &str, times: u32, action: FaultAction) {
        self.emu().inject(Fault {
            method: Some(method.into()),
            path_contains: path_contains.into(),
            times,
            action,
        });
    }

    /// A call to the emulator as a bystander (the Neon Console, a teammate) would make it.
    fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/projects/{}{path}", self.base_url(), self.project_id);
        self.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = reqwest::Client::new()
                .request(method, &url)
                .bearer_auth(KEY);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the emulator answers");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// Every Neon database branch of the project, as the API lists it.
    fn db_branches(&self) -> Vec<Value> {
        let (status, body) = self.api("GET", "/branches", None);
        assert_eq!(status, 200, "{body}");
        body["branches"].as_array().cloned().unwrap_or_default()
    }

    /// Names of every Neon database branch but the default one.
    fn non_default_names(&self) -> Vec<String> {
        self.db_branches()
            .iter()
            .filter(|b| b["default"] != true)
            .map(|b| b["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until Neon database branch `id` is `ready` (its operations finished).
    fn wait_ready(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, body) = self.api("GET", &format!("/branches/{id}"), None);
            if body["branch"]["current_state"] == "ready" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Neon database branch {id} is not ready: {body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Neon {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.destroy());
        }
    }
}

fn request(name: &str, git_branch: &str) -> CreateRequest {
    CreateRequest {
        name: name.into(),
        ttl: TTL,
        git_branch: git_branch.into(),
        git_sha: SHA.into(),
        pipeline: "pre-push".into(),
        run_id: neon_migrate::providers::new_run_id(),
    }
}

#[track_caller]
fn ok<T>(r: Result<T, ProviderError>) -> T {
    r.unwrap_or_else(|e| panic!("{}\n  help: {}", e, e.help_text().unwrap_or_default()))
}

#[track_caller]
fn err<T>(r: Result<T, ProviderError>) -> ProviderError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// `host:port` of a connection string.
fn host_port(url: &Secret<String>) -> String {
    let rest = url.expose().split_once('@').expect("userinfo").1;
    rest.split(['/', '?']).next().unwrap_or_default().to_owned()
}

fn neon_creates_waits_connects_lists_and_deletes_a_test_neon_database_branch() {
    let neon = Neon::start("it-neon-lifecycle");
    let redactor = Redactor::new();
    let provider = ok(neon.block_on(NeonProvider::open_with(neon.settings(), &redactor)));
    assert_eq!(
        provider.describe(),
        format!(
            "neon (project it-neon-lifecycle, API {}, parent main)",
            neon.base_url()
        )
    );
    assert!(
        !redactor.redact(&format!("key {KEY}")).contains(KEY),
        "the API key is registered with the redactor"
    );

    let before = Utc::now();
    let b: DbBranch =
        ok(neon.block_on(provider.create(&request("migrate/feature/x", "feature/x"))));
    assert_eq!(
        (b.name.as_str(), b.parent.as_str()),
        ("migrate/feature/x", "main")
    );
    assert!(b.id.starts_with("br-"), "{}", b.id);
    let expires = b.expires_at.expect("expires_at");
    assert!(
        expires >= before + chrono::Duration::seconds(3599)
            && expires <= Utc::now() + chrono::Duration::seconds(3600),
        "{expires}"
    );
    assert!(
        !redactor
            .redact(b.url.expose())
            .contains(neon.emu().password()),
        "the password is registered with the redactor"
    );

    // Neon's view: the TTL with second precision, and our annotations.
    let (status, got) = neon.api("GET", &format!("/branches/{}", b.id), None);
    assert_eq!(status, 200, "{got}");
    let expires_text = got["branch"]["expires_at"]
        .as_str()
        .expect("expires_at")
        .to_owned();
    assert_eq!(
        expires_text,
        expires.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    let value = &got["annotation"]["value"];
    assert_eq!(value["created-by"], "neon-migrate", "{got}");
    assert_eq!(value["neon-migrate-git-branch"], "feature/x", "{got}");
    assert_eq!(value["neon-migrate-git-sha"], SHA, "{got}");

    // The URL leads to the test Neon database branch's own read_write endpoint.
    let (_, eps) = neon.api("GET", &format!("/branches/{}/endpoints", b.id), None);
    assert_eq!(
        eps["endpoints"][0]["host"].as_str(),
        Some(host_port(&b.url).as_str()),
        "{eps}"
    );
    let main = ok(neon.block_on(provider.main_db_branch()));
    assert_eq!((main.name.as_str(), main.expires_at), ("main", None));
    assert_ne!(
        host_port(&main.url),
        host_port(&b.url),
        "the test Neon database branch must not share main's endpoint"
    );

    // A schema change on the test Neon database branch stays there.
    neon.block_on(async {
        let c = pg::connect(&b.url)
            .await
            .expect("connect to the test Neon database branch");
        c.batch_execute("create table probe (id int primary key); insert into probe values (1)")
            .await
            .expect("ddl");
        let n: i64 = c
            .query_one("select count(*) from probe", &[])
            .await
            .expect("query")
            .get(0);
        assert_eq!(n, 1);
        let m = pg::connect(&main.url)
            .await
            .expect("connect to the main Neon database branch");
        let on_main: bool = m
            .query_one("select to_regclass('public.probe') is not null", &[])
            .await
            .expect("query")
            .get(0);
        assert!(
            !on_main,
            "the main Neon database branch must not see the test one's table"
        );
    });

    let listed = ok(neon.block_on(provider.list()));
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0].id, b.id);
    assert_eq!(
        (listed[0].git_branch.as_str(), listed[0].git_sha.as_str()),
        ("feature/x", SHA)
    );
    assert_eq!(
        (listed[0].parent.as_str(), listed[0].expires_at),
        ("main", expires)
    );

    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
    assert_eq!(neon.api("GET", &format!("/branches/{}", b.id), None).0, 404);
    assert!(ok(neon.block_on(provider.list())).is_empty());
    assert!(neon.non_default_names().is_empty());
}

fn neon_delete_of_an_already_deleted_neon_database_branch_is_already_gone() {
    let neon = Neon::start("it-neon-already-gone");
    let provider = neon.open();
    let b = ok(neon.block_on(provider.create(&request("migrate/gone", "gone"))));
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::AlreadyGone
    );
    // Even when Neon itself is asked (the emulator answers 204 for a missing one).
    assert_eq!(
        neon.api("DELETE", &format!("/branches/{}", b.id), None).0,
        204
    );
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::AlreadyGone
    );
}

fn neon_423_locked_twice_then_the_create_succeeds() {
    let neon = Neon::start("it-neon-locked");
    let provider = neon.open();
    let locked = FaultAction::Status {
        status: 423,
        retry_after: None,
    };
    neon.inject("POST", "/branches", 2, locked.clone());
    let b = ok(neon.block_on(provider.create(&request("migrate/locked", "locked"))));
    neon.inject("DELETE", "/branches/", 2, locked);
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
    assert!(neon.non_default_names().is_empty());
}

fn neon_429_waits_for_retry_after() {
    let neon = Neon::start("it-neon-rate-limited");
    let provider = neon.open();
    let limited = FaultAction::Status {
        status: 429,
        retry_after: Some(1),
    };
    neon.inject("GET", "/connection_uri", 1, limited.clone());
    let started = Instant::now();
    ok(neon.block_on(provider.main_db_branch()));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    neon.inject("POST", "/branches", 1, limited);
    let started = Instant::now();
    let b = ok(neon.block_on(provider.create(&request("migrate/limited", "limited"))));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    ok(neon.block_on(provider.delete(&b.id)));
}

fn neon_503_then_success_on_create_and_delete() {
    let neon = Neon::start("it-neon-unavailable");
    let provider = neon.open();
    let down = FaultAction::Status {
        status: 503,
        retry_after: None,
    };
    neon.inject("POST", "/branches", 1, down.clone());
    let b = ok(neon.block_on(provider.create(&request("migrate/unavailable", "unavailable"))));
    neon.inject("DELETE", "/branches/", 1, down.clone());
    neon.inject("GET", "/operations/", 1, down);
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
    assert!(neon.non_default_names().is_empty());
}

fn neon_failed_operation_is_a_clear_error_and_leaves_no_test_neon_database_branch() {
    let neon = Neon::start("it-neon-failed-operation");
    let provider = neon.open();
    neon.inject("POST", "/branches", 1, FaultAction::FailNextOperation);
    let e = err(neon.block_on(provider.create(&request("migrate/doomed", "doomed"))));
    for needle in [
        "Neon's operation `create_timeline` for creating the test Neon database branch migrate/doomed ended `failed`",
        "operation failed (injected by the emulator)",
        "was deleted again",
    ] {
        assert!(e.to_string().contains(needle), "{needle:?} not in: {}", e);
    }
    // Nothing left behind, with or without a TTL.
    assert!(
        neon.non_default_names().is_empty(),
        "{:#?}",
        neon.db_branches()
    );
    assert!(ok(neon.block_on(provider.list())).is_empty());
}

fn neon_409_for_a_leftover_of_the_same_git_branch_replaces_it() {
    let neon = Neon::start("it-neon-conflict-rerun");
    let provider = neon.open();
    // An interrupted run of git branch feature/rerun left its test Neon database branch.
    let first =
        ok(neon.block_on(provider.create(&request("migrate/feature/rerun", "feature/rerun"))));
    let second =
        ok(neon.block_on(provider.create(&request("migrate/feature/rerun", "feature/rerun"))));
    assert_ne!(first.id, second.id, "the leftover is replaced, not reused");
    assert_eq!(
        neon.api("GET", &format!("/branches/{}", first.id), None).0,
        404,
        "the leftover is gone"
    );
    assert_eq!(neon.non_default_names(), ["migrate/feature/rerun"]);
    // The new one works.
    neon.block_on(async {
        let c = pg::connect(&second.url).await.expect("connect");
        c.batch_execute("select 1").await.expect("query");
    });
    ok(neon.block_on(provider.delete(&second.id)));
}

fn neon_409_for_a_foreign_neon_database_branch_is_refused_with_whose_it_is() {
    let neon = Neon::start("it-neon-conflict-foreign");
    let provider = neon.open();

    // A teammate made one by hand with the name we want (no annotation).
    let (status, made) = neon.api(
        "POST",
        "/branches",
        Some(json!({ "branch": { "name": "migrate/feature/taken" } })),
    );
    assert_eq!(status, 201, "{made}");
    let theirs = made["branch"]["id"].as_str().expect("id").to_owned();
    neon.wait_ready(&theirs);
    let e = err(neon.block_on(provider.create(&request("migrate/feature/taken", "feature/taken"))));
    assert!(
        e.to_string().contains(&format!(
            "a Neon database branch named `migrate/feature/taken` already exists ({theirs})"
        )),
        "{}",
        e.to_string()
    );
    assert!(
        e.to_string()
            .contains("neon-migrate did not create it (creation source `"),
        "{}",
        e.to_string()
    );
    let help = e.help_text().clone().unwrap_or_default();
    assert!(
        help.contains("`name` under [neon-database-branch]"),
        "{help}"
    );
    assert_eq!(
        neon.api("GET", &format!("/branches/{theirs}"), None).0,
        200,
        "someone else's is never touched"
    );

    // Ours, but made for another git branch that maps to the same name.
    let a = ok(neon.block_on(provider.create(&request("migrate/shared", "feature/a"))));
    let e = err(neon.block_on(provider.create(&request("migrate/shared", "feature/b"))));
    assert!(
        e.to_string().contains("neon-migrate created it for git branch `feature/a` at commit 0123456789ab, not for this git branch `feature/b`"),
        "{}",
        e.to_string()
    );
    assert_eq!(neon.api("GET", &format!("/branches/{}", a.id), None).0, 200);
    ok(neon.block_on(provider.delete(&a.id)));
    // And delete refuses what is not ours.
    let e = err(neon.block_on(provider.delete(&theirs)));
    assert!(
        e.to_string().contains("it was not created by neon-migrate"),
        "{}",
        e.to_string()
    );
}

fn neon_401_names_the_key_variable_but_never_the_key() {
    const WRONG: &str = "napi_wrong_key_5f3a9c";
    let neon = Neon::start("it-neon-wrong-key");
    let settings = NeonSettings {
        api_key: Secret::new(WRONG.into()),
        ..neon.settings()
    };
    let e = err(neon.block_on(NeonProvider::open_with(settings, &Redactor::new())));
    let help = e.help_text().clone().unwrap_or_default();
    for needle in [
        "the Neon API rejected the API key in $NEON_API_KEY: GET /projects/it-neon-wrong-key/branches?limit=100 answered 401 Unauthorized: ",
        "authorization failed",
        "(request id ",
    ] {
        assert!(e.to_string().contains(needle), "{needle:?} not in: {}", e);
    }
    assert!(help.contains("NEON_API_KEY"), "{help}");
    assert!(!e.to_string().contains(WRONG) && !help.contains(WRONG), "{e:?}");

    // The same through the CLI.
    let p = Project::new("neon_wrong_key")
        .config_raw(&neon_toml(&neon, ""))
        .commit();
    let out = run_neon(&p, &["run", "pre-push"], WRONG);
    out.code(exit::PROVIDER)
        .stderr_has("rejected the API key in $NEON_API_KEY");
    assert!(
        !out.stdout.contains(WRONG) && !out.stderr.contains(WRONG),
        "the key leaked\n{out}"
    );

    // No key at all.
    let mut c = p.command(&["run", "pre-push"]);
    c.env_remove("NEON_API_KEY");
    let out = run_command(c, &["run", "pre-push"]);
    out.code(exit::PROVIDER)
        .stderr_has("no Neon API key: the environment variable `NEON_API_KEY` is not set");
}

fn neon_unknown_project_is_a_clear_error() {
    let neon = Neon::start("it-neon-unknown-project");
    let settings = NeonSettings {
        project_id: "it-neon-no-such-project".into(),
        ..neon.settings()
    };
    let e = err(neon.block_on(NeonProvider::open_with(settings, &Redactor::new())));
    assert!(
        e.to_string().contains("GET /projects/it-neon-no-such-project/branches?limit=100 answered 404 Not Found: project it-neon-no-such-project not found (request id "),
        "{}",
        e.to_string()
    );
    let help = e.help_text().unwrap_or_default();
    assert!(
        help.contains("check `project-id` under [provider]"),
        "{help}"
    );
}

/// What the emulator received since request `after`, one `METHOD path?query → answer` line
/// each (the `seq` of the last one is returned too).
fn requests_since(neon: &Neon, after: u64) -> (Vec<String>, u64) {
    let log = neon.emu().requests();
    let last = log.last().map(|r| r.seq).unwrap_or(after);
    let project = format!("/projects/{}", neon.emu().project_id());
    let lines = log
        .iter()
        .filter(|r| r.seq > after)
        .map(|r| {
            let query = if r.query.is_empty() {
                String::new()
            } else {
                format!("?{}", r.query)
            };
            let answer = match &r.answer {
                Answer::Status(s) => s.to_string(),
                Answer::Dropped if r.applied => "applied, answer dropped".into(),
                Answer::Dropped => "dropped".into(),
                Answer::Abandoned => "abandoned".into(),
            };
            format!(
                "{} {}{query} → {answer}",
                r.method,
                r.path.replacen(&project, "", 1)
            )
        })
        .collect();
    (lines, last)
}

fn neon_lost_answers_are_looked_up_before_anything_is_sent_again() {
    let neon = Neon::start("it-neon-lost-answers");
    let provider = neon.open();
    let (_, mut seen) = requests_since(&neon, 0);
    let lookup = "GET /branches?limit=100&search=migrate%2Flost → 200";
    // The connection drops before an answer: the create may or may not have been applied.
    // The provider looks the name up (nothing there) and only then sends it again.
    neon.inject("POST", "/branches", 1, FaultAction::Drop);
    let b = ok(neon.block_on(provider.create(&request("migrate/lost", "lost"))));
    assert_eq!(neon.non_default_names(), ["migrate/lost"]);
    let (sent, last) = requests_since(&neon, seen);
    seen = last;
    assert_eq!(
        sent[..3],
        ["POST /branches → dropped", lookup, "POST /branches → 201"],
        "{sent:#?}"
    );
    // Same for a delete: it looks (still there), then deletes.
    neon.inject("DELETE", "/branches/", 1, FaultAction::Drop);
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
    let (sent, last) = requests_since(&neon, seen);
    seen = last;
    let one = format!("/branches/{}", b.id);
    let deletes: Vec<&String> = sent.iter().filter(|l| l.starts_with("DELETE")).collect();
    assert_eq!(
        deletes,
        [
            &format!("DELETE {one} → dropped"),
            &format!("DELETE {one} → 200")
        ],
        "{sent:#?}"
    );
    let first = sent
        .iter()
        .position(|l| l.starts_with("DELETE"))
        .expect("a delete");
    assert_eq!(sent[first + 1], format!("GET {one} → 200"), "{sent:#?}");

    // Applied, then the answer is lost: looked up, found, and never sent again.
    neon.inject("POST", "/branches", 1, FaultAction::DropAnswer);
    let b = ok(neon.block_on(provider.create(&request("migrate/lost", "lost"))));
    assert_eq!(neon.non_default_names(), ["migrate/lost"]);
    let (sent, last) = requests_since(&neon, seen);
    seen = last;
    assert_eq!(
        sent[..2],
        ["POST /branches → applied, answer dropped", lookup],
        "{sent:#?}"
    );
    assert_eq!(
        sent.iter().filter(|l| l.starts_with("POST")).count(),
        1,
        "the applied create was sent again\n{sent:#?}"
    );
    neon.inject("DELETE", "/branches/", 1, FaultAction::DropAnswer);
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
    let (sent, last) = requests_since(&neon, seen);
    seen = last;
    let one = format!("/branches/{}", b.id);
    let deletes: Vec<&String> = sent.iter().filter(|l| l.starts_with("DELETE")).collect();
    assert_eq!(
        deletes,
        [&format!("DELETE {one} → applied, answer dropped")],
        "{sent:#?}"
    );
    let first = sent
        .iter()
        .position(|l| l.starts_with("DELETE"))
        .expect("a delete");
    assert_eq!(sent[first + 1], format!("GET {one} → 404"), "{sent:#?}");

    // GETs are simply retried.
    neon.inject("GET", "/branches", 2, FaultAction::Drop);
    assert!(ok(neon.block_on(provider.list())).is_empty());
    let (sent, _) = requests_since(&neon, seen);
    assert_eq!(
        sent.iter()
            .filter(|l| l.starts_with("GET /branches?"))
            .map(|l| l.rsplit(" → ").next().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["dropped", "dropped", "200"],
        "{sent:#?}"
    );
    assert!(neon.non_default_names().is_empty());
}

fn neon_a_timed_out_create_is_looked_up_then_sent_again() {
    let neon = Neon::start("it-neon-applied-timed-out");
    let settings = NeonSettings {
        request_timeout: Duration::from_secs(1),
        ..neon.settings()
    };
    let provider = ok(neon.block_on(NeonProvider::open_with(settings, &Redactor::new())));
    // The create times out: it may have been applied. The provider looks the name up (those
    // GETs time out too, and are simply retried), finds nothing, and only then sends it
    // again. (The emulator drops a request whose client has gone, so the other outcome, a
    // create applied after its answer was lost, cannot be staged here.)
    neon.inject(
        "POST",
        "/branches",
        1,
        FaultAction::Delay(Duration::from_millis(1200)),
    );
    neon.inject(
        "GET",
        "/branches",
        3,
        FaultAction::Delay(Duration::from_millis(1500)),
    );
    let b = ok(neon.block_on(provider.create(&request("migrate/slow", "slow"))));
    assert_eq!(neon.non_default_names(), ["migrate/slow"]);
    neon.block_on(async {
        let c = pg::connect(&b.url).await.expect("connect");
        c.batch_execute("select 1").await.expect("query");
    });
    assert_eq!(
        ok(neon.block_on(provider.delete(&b.id))),
        DeleteOutcome::Deleted
    );
}

/// A `neon-migrate.toml` for the emulator, plus `extra`.
fn neon_toml(neon: &Neon, extra: &str) -> String {
    format!(
        "[provider]\nkind = \"neon\"\nproject-id = \"{}\"\napi-host = \"{}\"\n{extra}",
        neon.project_id,
        neon.base_url()
    )
}

/// Runs the binary with `key` in `$NEON_API_KEY` and no other Neon settings from outside.
fn run_neon(p: &Project, args: &[&str], key: &str) -> Output {
    let mut c = p.command(args);
    c.env("NEON_API_KEY", key)
        .env_remove("NEON_PROJECT_ID")
        .env_remove("NEON_API_HOST");
    run_command(c, args)
}

const ORDERS: &str =
    "create table orders (\n    id bigint primary key,\n    total numeric(10, 2) not null\n);\n";

const ORDERS_CHECK: &str = r#"
[[checks.sql]]
name = "orders exists and starts empty"
query = "select count(*) from orders"
expect-value = "0"
"#;

fn neon_pre_push_and_deploy_through_the_cli() {
    let p = Project::new("neon_pipelines");
    let neon = Neon::start_on("it-neon-pipelines", p.main_db());
    let p = p
        .config_raw(&neon_toml(&neon, ORDERS_CHECK))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("feature/add-orders");
    let leaks = |out: &Output| {
        for secret in [KEY, neon.emu().password()] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "a secret leaked\n{out}"
            );
        }
    };

    let out = run_neon(&p, &["run", "pre-push"], KEY);
    out.code(exit::OK)
        .stdout_has("Neon database branch  migrate/feature/add-orders")
        .stdout_has("applied 0001_create_orders.sql")
        // The check queried `orders` on the test Neon database branch: the migration is there.
        .stdout_has("✓ orders exists and starts empty")
        .stdout_has("The test Neon database branch migrate/feature/add-orders was deleted.");
    leaks(&out);
    assert!(
        !p.main_has("public.orders"),
        "pre-push must not touch the main Neon database branch\n{out}"
    );
    assert!(
        neon.non_default_names().is_empty(),
        "{:#?}",
        neon.db_branches()
    );

    let out = run_neon(&p, &["run", "deploy", "--json"], KEY);
    out.code(exit::OK);
    leaks(&out);
    let report = out.json();
    for stage in [
        "create-neon-database-branch",
        "migrate",
        "checks",
        "delete-neon-database-branch",
        "apply",
    ] {
        assert_eq!(
            crate::support::stage(&report, stage)["status"],
            "passed",
            "{stage}\n{report:#}"
        );
    }
    assert!(
        p.main_has("public.orders"),
        "deploy applies to the main Neon database branch\n{out}"
    );
    // The restore point that `apply` made stays, with its TTL; nothing else does.
    let left: Vec<String> = neon
        .non_default_names()
        .into_iter()
        .filter(|n| !n.starts_with(neon_migrate::providers::RESTORE_PREFIX))
        .collect();
    assert!(left.is_empty(), "{:#?}", neon.db_branches());
}

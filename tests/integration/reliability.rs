//! The reliability suite: the whole pipeline against the Neon API emulator with faults
//! injected on the Neon API path, killed by signals at every stage boundary, and run eight at
//! a time.
//!
//! Every fault scenario runs `deploy` through the CLI (real HTTP, real Postgres behind the
//! emulator's endpoints) and then asserts the same promises: the run passes after retries or
//! stops with a clear error and the exit code that says why; no Neon database branch is left
//! without a TTL; and the main Neon database branch is untouched whenever validation did not
//! pass. [`NeonEmu`] is also used by the apply tests.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::emulator::{
    Answer, Emulator, EmulatorOptions, Fault, FaultAction, RequestRecord,
};
use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::secret::Secret;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::support::{children_of, cluster, run_command, stage, Output, Project, Rows};

pub const TESTS: &[(&str, fn())] = &[
    (
        "reliability_neon_423_three_times_on_create_then_passes",
        f_423_create,
    ),
    (
        "reliability_neon_429_with_retry_after_waits_then_passes",
        f_429_retry_after,
    ),
    (
        "reliability_neon_429_without_retry_after_backs_off_then_passes",
        f_429_no_retry_after,
    ),
    (
        "reliability_neon_500_on_create_is_a_clear_error",
        f_500_create,
    ),
    (
        "reliability_neon_503_twice_on_create_then_passes",
        f_503_create,
    ),
    (
        "reliability_neon_503_on_every_attempt_is_a_clear_error_after_6_attempts",
        f_503_always,
    ),
    (
        "reliability_neon_502_on_get_is_retried_then_passes",
        f_502_get,
    ),
    (
        "reliability_neon_dropped_connection_on_create_is_looked_up_then_passes",
        f_drop_create,
    ),
    (
        "reliability_neon_lost_answer_of_an_applied_create_is_looked_up_and_never_sent_again",
        f_lost_answer_create,
    ),
    (
        "reliability_neon_lost_answer_of_an_applied_delete_is_looked_up_and_never_sent_again",
        f_lost_answer_delete,
    ),
    (
        "reliability_neon_dropped_connections_on_operation_polls_then_passes",
        f_drop_operations,
    ),
    (
        "reliability_neon_unreachable_api_is_a_clear_error",
        f_unreachable,
    ),
    (
        "reliability_neon_operations_slower_than_operation_timeout_are_a_clear_error",
        f_slow_operations,
    ),
    (
        "reliability_neon_responses_slower_than_the_request_timeout_are_looked_up_then_pass",
        f_slow_responses,
    ),
    (
        "reliability_neon_operation_ending_failed_on_create_is_a_clear_error",
        f_failed_operation_create,
    ),
    (
        "reliability_neon_409_on_create_with_the_name_free_is_sent_again_then_passes",
        f_409_free,
    ),
    (
        "reliability_neon_409_for_a_teammates_neon_database_branch_is_refused",
        f_409_foreign,
    ),
    (
        "reliability_neon_leftover_of_a_killed_run_of_the_same_git_branch_is_replaced",
        f_409_leftover,
    ),
    (
        "reliability_neon_401_wrong_key_is_a_clear_error_without_the_key",
        f_401_key,
    ),
    (
        "reliability_neon_401_during_delete_leaves_a_ttl_and_skips_apply",
        f_401_delete,
    ),
    (
        "reliability_neon_404_on_delete_counts_as_already_gone",
        f_404_delete,
    ),
    (
        "reliability_neon_423_three_times_on_delete_then_passes",
        f_423_delete,
    ),
    (
        "reliability_neon_500_on_delete_leaves_a_ttl_and_skips_apply",
        f_500_delete,
    ),
    (
        "reliability_neon_dropped_connection_on_delete_is_looked_up_then_passes",
        f_drop_delete,
    ),
    (
        "reliability_neon_operation_ending_failed_on_delete_is_a_clear_error",
        f_failed_operation_delete,
    ),
    (
        "reliability_neon_503_on_connection_uri_of_main_then_passes",
        f_503_connection_uri,
    ),
    (
        "reliability_neon_failure_during_migrate_leaves_main_untouched",
        f_migrate_fails,
    ),
    (
        "reliability_neon_failure_during_checks_leaves_main_untouched",
        f_checks_fail,
    ),
    (
        "reliability_neon_failure_creating_the_restore_point_applies_nothing",
        f_restore_point_fails,
    ),
    (
        "reliability_neon_423_while_creating_the_restore_point_then_passes",
        f_restore_point_423,
    ),
    (
        "reliability_sigint_at_every_stage_boundary_cleans_up_and_exits_130",
        sigint_boundaries,
    ),
    (
        "reliability_sigterm_at_every_stage_boundary_cleans_up_and_exits_130",
        sigterm_boundaries,
    ),
    (
        "reliability_sigkill_at_every_stage_boundary_leaves_only_ttl_d_neon_database_branches",
        sigkill_boundaries,
    ),
    (
        "reliability_sigkill_orphan_is_deleted_by_gc_once_expired",
        sigkill_gc_local,
    ),
    (
        "reliability_eight_pipelines_at_once_apply_one_at_a_time",
        eight_at_once,
    ),
    (
        "reliability_eight_pipelines_of_the_same_git_branch_at_once_take_turns_and_all_pass",
        eight_same_git_branch,
    ),
    (
        "reliability_the_suites_secret_scan_finds_keys_passwords_and_unmasked_urls",
        secret_scan,
    ),
];

/// The key the emulators of this suite accept.
pub const KEY: &str = "it-reliability-key-3c9e51d2";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// An emulator in this process (its own multi-threaded runtime keeps serving while the test
/// thread waits for the binary) whose main Neon database branch is a given database of the
/// shared cluster. Dropping it destroys every database it made.
pub struct NeonEmu {
    rt: tokio::runtime::Runtime,
    emu: Option<Emulator>,
    pub project_id: String,
}

impl NeonEmu {
    /// An emulator for a new project id made from `tag`, backed by database `main_db`.
    pub fn start(tag: &str, main_db: &str) -> NeonEmu {
        NeonEmu::start_with(tag, main_db, Duration::from_millis(100))
    }

    pub fn start_with(tag: &str, main_db: &str, operation_delay: Duration) -> NeonEmu {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let project_id: String = format!("it-{tag}-{}-{n}", std::process::id())
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        assert!(project_id.len() <= 60, "project id too long: {project_id}");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let opts = EmulatorOptions {
            listen: "127.0.0.1:0".parse().expect("address"),
            project_id: project_id.clone(),
            api_key: Some(KEY.into()),
            operation_delay,
            local: LocalConfig {
                url: None,
                main_database: Some(main_db.into()),
                data_dir: Some(cluster().dir.clone()),
                busy_parent: BusyParent::Fail,
                tool_role: Default::default(),
            },
        };
        let emu = rt
            .block_on(Emulator::start(opts))
            .unwrap_or_else(|e| panic!("cannot start the emulator: {} ({:?})", e, e.help_text()));
        crate::support::note_secret(KEY);
        crate::support::note_secret(emu.password());
        NeonEmu {
            rt,
            emu: Some(emu),
            project_id,
        }
    }

    pub fn emu(&self) -> &Emulator {
        self.emu.as_ref().expect("the emulator runs")
    }

    pub fn base_url(&self) -> String {
        self.emu().base_url()
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn inject(&self, method: &str, path_contains: &str, times: u32, action: FaultAction) {
        self.emu().inject(Fault {
            method: Some(method.into()),
            path_contains: path_contains.into(),
            times,
            action,
        });
    }

    /// A call as a bystander (the Console, a teammate) would make it.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/projects/{}{path}", self.base_url(), self.project_id);
        self.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("http client");
            let mut request = client.request(method, &url).bearer_auth(KEY);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the emulator answers");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// Every Neon database branch of the project but the default one.
    pub fn others(&self) -> Vec<Value> {
        let (status, body) = self.api("GET", "/branches", None);
        assert_eq!(status, 200, "{body}");
        body["branches"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b["default"] != true)
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .others()
            .iter()
            .map(|b| b["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Waits until no operation of the project runs (a run's last delete may still finish).
    /// Only a 200 with the list of operations counts: any other answer is asked again.
    pub fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, ops) = self.api("GET", "/operations", None);
            let pending = status != 200
                || ops["operations"].as_array().is_none_or(|ops| {
                    ops.iter()
                        .any(|o| o["status"] == "scheduling" || o["status"] == "running")
                });
            if !pending {
                return;
            }
            assert!(Instant::now() < deadline, "operations still pending: {ops}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The promise of the suite: no Neon database branch but the default one (and the state
    /// a rollback preserved, which Neon cannot expire) is without a TTL.
    #[track_caller]
    pub fn assert_every_db_branch_has_a_ttl(&self, context: &dyn std::fmt::Display) {
        for b in self.others() {
            let name = b["name"].as_str().unwrap_or_default();
            if name.contains("-before-rollback-") {
                continue;
            }
            assert!(
                b["expires_at"].as_str().is_some_and(|e| !e.is_empty()),
                "Neon database branch {name} has no TTL: {b:#}\n{context}"
            );
        }
    }

    /// Rows of `sql` on the main Neon database branch, through its endpoint.
    pub fn main_sql(&self, sql: &str) -> Rows {
        let url = Secret::new(self.emu().main_url());
        self.block_on(async {
            let c = pg::connect(&url).await.expect("connect to main");
            let rows = c.simple_query(sql).await.unwrap_or_else(|e| {
                panic!(
                    "on the main Neon database branch: {sql}: {}",
                    pg::describe(&e)
                )
            });
            rows.into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    pub fn main_has(&self, relation: &str) -> bool {
        let sql = format!("SELECT to_regclass({}) IS NOT NULL", pg::literal(relation));
        self.main_sql(&sql)[0][0].as_deref() == Some("t")
    }

    /// `[provider]` for this emulator, then `extra`.
    pub fn toml(&self, extra: &str) -> String {
        format!(
            "[provider]\nkind = \"neon\"\nproject-id = \"{}\"\napi-host = \"{}\"\n{extra}",
            self.project_id,
            self.base_url()
        )
    }

    /// The binary in `p` with this suite's key and nothing else Neon from outside.
    pub fn command(&self, p: &Project, args: &[&str]) -> Command {
        let mut c = p.command(args);
        c.env("NEON_API_KEY", KEY)
            .env_remove("NEON_PROJECT_ID")
            .env_remove("NEON_API_HOST");
        c
    }

    pub fn run(&self, p: &Project, args: &[&str]) -> Output {
        let out = run_command(self.command(p, args), args);
        self.assert_no_secret(&out);
        out
    }

    #[track_caller]
    pub fn assert_no_secret(&self, out: &Output) {
        for secret in [KEY, self.emu().password()] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "a secret leaked\n{out}"
            );
        }
    }
}

impl Drop for NeonEmu {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.destroy());
        }
    }
}

const ORDERS: &str =
    "create table orders (\n    id bigint primary key,\n    total numeric(10, 2) not null\n);\n";

const ORDERS_CHECK: &str = r#"
[[checks.sql]]
name = "orders exists and starts empty"
query = "select count(*) from orders"
expect-value = "0"
"#;

const GIT_BRANCH: &str = "feature/reliable";
const TEST_DB_BRANCH: &str = "migrate/feature/reliable";

/// The project of a fault scenario: one migration, one check, `deploy` allowed from its git
/// branch, and `deploy-inject`, which injects `$NM_FAULTS` right before `apply`.
fn project(tag: &str, neon: &NeonEmu, p: Project, extra: &str) -> Project {
    let config = neon.toml(&format!(
        r#"
[neon-database-branch]
ttl = "1h"

[apply]
git-branches = ["{GIT_BRANCH}"]
restore-point-ttl = "2h"

[stages.inject]
kind = "shell"
run = 'curl -sf -X POST "$NM_EMU/_emulator/faults" -H "authorization: Bearer $NEON_API_KEY" -H "content-type: application/json" -d "$NM_FAULTS"'

[pipelines.deploy-inject]
stages = ["create-neon-database-branch", "migrate", "checks", "delete-neon-database-branch", "inject", "apply"]
{ORDERS_CHECK}
{extra}"#
    ));
    let _ = tag;
    p.config_raw(&config)
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch(GIT_BRANCH)
}

/// What a scenario expects.
struct Want {
    code: i32,
    /// The stage that fails, if any.
    failed_stage: Option<&'static str>,
    /// Text the error (message and help) or, for a passing run, the report contains.
    needles: &'static [&'static str],
    /// The test Neon database branch may be left behind (its delete failed), with a TTL.
    leftover: bool,
}

const PASS: Want = Want {
    code: exit::OK,
    failed_stage: None,
    needles: &[],
    leftover: false,
};

/// Runs `pipeline` and checks the suite's promises; returns the output.
fn check(neon: &NeonEmu, p: &Project, pipeline: &str, want: &Want) -> Output {
    check_env(neon, p, pipeline, want, &[])
}

fn check_env(
    neon: &NeonEmu,
    p: &Project,
    pipeline: &str,
    want: &Want,
    env: &[(&str, String)],
) -> Output {
    let mut c = neon.command(p, &["run", pipeline, "--json"]);
    c.env("NM_EMU", neon.base_url());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run_command(c, &["run", pipeline, "--json"]);
    neon.assert_no_secret(&out);
    out.code(want.code);
    neon.wait_idle();
    neon.assert_every_db_branch_has_a_ttl(&out);

    // `--json` prints the report on every outcome: without it, nothing below could be checked.
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("`run {pipeline} --json` printed no JSON report ({e})\n{out}"));
    let mut text = out.stderr.clone();
    {
        let r = &report;
        assert_eq!(r["exit_code"], want.code, "{out}");
        let outcome = if want.code == exit::OK {
            "passed"
        } else {
            "failed"
        };
        assert_eq!(r["outcome"], outcome, "{out}");
        for s in r["stages"].as_array().into_iter().flatten() {
            if let Some(e) = s["error"].as_object() {
                for k in ["message", "help"] {
                    text.push_str(e.get(k).and_then(Value::as_str).unwrap_or_default());
                    text.push('\n');
                }
            }
            text.push_str(s["summary"].as_str().unwrap_or_default());
            text.push('\n');
        }
        match want.failed_stage {
            Some(name) => assert_eq!(stage(r, name)["status"], "failed", "{out}"),
            None => assert!(
                r["stages"]
                    .as_array()
                    .is_some_and(|s| s.iter().all(|s| s["status"] == "passed")),
                "{out}"
            ),
        }
    }
    for needle in want.needles {
        assert!(
            text.contains(needle),
            "{needle:?} is not in the error\n{out}"
        );
    }

    // Main is migrated exactly when the run passed (apply is the last stage).
    let applied = neon.main_has("public.orders");
    assert_eq!(
        applied,
        want.code == exit::OK,
        "the main Neon database branch must be migrated only by a passing run\n{out}"
    );
    let left: Vec<String> = neon
        .names()
        .into_iter()
        .filter(|n| n.starts_with("migrate/"))
        .collect();
    if !want.leftover {
        assert!(
            left.is_empty(),
            "test Neon database branches left: {left:?}\n{out}"
        );
    }
    // A passing deploy leaves exactly its restore point (with a TTL, checked above).
    let points: Vec<String> = neon
        .names()
        .into_iter()
        .filter(|n| n.starts_with("restore/"))
        .collect();
    if want.code == exit::OK {
        assert_eq!(points.len(), 1, "{points:?}\n{out}");
        assert_eq!(report["restore_point"], points[0].as_str(), "{out}");
    }
    out
}

/// One fault scenario: a fresh project and emulator, `setup` injects, `deploy` runs.
fn scenario(tag: &str, setup: impl FnOnce(&NeonEmu), want: Want) -> Output {
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    setup(&neon);
    check(&neon, &p, "deploy", &want)
}

fn status(status: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after,
    }
}

fn f_423_create() {
    scenario(
        "rel_423_create",
        |n| n.inject("POST", "/branches", 3, status(423, None)),
        PASS,
    );
}

fn f_429_retry_after() {
    let out = scenario(
        "rel_429_ra",
        |n| n.inject("POST", "/branches", 1, status(429, Some(2))),
        PASS,
    );
    assert!(
        out.took >= Duration::from_secs(2),
        "Retry-After: 2 was not honoured\n{out}"
    );
}

fn f_429_no_retry_after() {
    scenario(
        "rel_429",
        |n| n.inject("POST", "/branches", 2, status(429, None)),
        PASS,
    );
}

fn f_500_create() {
    scenario(
        "rel_500_create",
        |n| n.inject("POST", "/branches", 1, status(500, None)),
        Want {
            code: exit::PROVIDER,
            failed_stage: Some("create-neon-database-branch"),
            needles: &[
                "cannot create the test Neon database branch migrate/feature/reliable: POST /projects/",
                "/branches answered 500 Internal Server Error: injected failure (request id ",
            ],
            leftover: false,
        },
    );
}

fn f_503_create() {
    scenario(
        "rel_503_create",
        |n| n.inject("POST", "/branches", 2, status(503, None)),
        PASS,
    );
}

fn f_503_always() {
    let p = Project::new("rel_503_always");
    let neon = NeonEmu::start("rel_503_always", p.main_db());
    let p = project("rel_503_always", &neon, p, "");
    neon.inject("GET", "/branches", 6, status(503, None));
    let out = neon.run(&p, &["run", "deploy", "--json"]);
    out.code(exit::PROVIDER)
        .stderr_has("answered 503 Service Unavailable: service temporarily unavailable")
        .stderr_has("after 6 attempts)");
    assert!(!neon.main_has("public.orders"), "{out}");
    assert!(neon.others().is_empty(), "{:#?}", neon.others());
}

fn f_502_get() {
    scenario(
        "rel_502_get",
        |n| n.inject("GET", "/branches", 2, status(502, None)),
        PASS,
    );
}

/// A fault scenario on a project of its own; returns the emulator too (for its request log).
fn scenario_with_log(tag: &str, setup: impl FnOnce(&NeonEmu), want: Want) -> (Output, NeonEmu) {
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    setup(&neon);
    let out = check(&neon, &p, "deploy", &want);
    (out, neon)
}

/// The request log, one line per request, for failure messages.
fn render_log(log: &[RequestRecord]) -> String {
    log.iter()
        .map(|r| {
            let name = r.body["branch"]["name"].as_str().unwrap_or("");
            format!(
                "#{} {} {}?{} {name} fault={} applied={} answer={:?}",
                r.seq,
                r.method,
                r.path,
                r.query,
                r.fault
                    .as_ref()
                    .map(|f| f.to_json().to_string())
                    .unwrap_or_default(),
                r.applied,
                r.answer
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Creates of the test Neon database branch in the log.
fn creates_of_test_db_branch(log: &[RequestRecord]) -> Vec<&RequestRecord> {
    log.iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/branches")
                && r.body["branch"]["name"] == TEST_DB_BRANCH
        })
        .collect()
}

/// The request right after `seq`.
fn next_after(log: &[RequestRecord], seq: u64) -> &RequestRecord {
    log.iter()
        .find(|r| r.seq > seq)
        .unwrap_or_else(|| panic!("nothing after request #{seq}\n{}", render_log(log)))
}

/// Whether `r` is the lookup of the test Neon database branch by name.
fn is_lookup_by_name(r: &RequestRecord) -> bool {
    r.method == "GET"
        && r.path.ends_with("/branches")
        && r.query.contains("search=migrate%2Ffeature%2Freliable")
}

fn f_drop_create() {
    let (out, neon) = scenario_with_log(
        "rel_drop_create",
        |n| n.inject("POST", "/branches", 1, FaultAction::Drop),
        PASS,
    );
    // Dropped before it was applied: looked up (nothing there), then sent again, once.
    let log = neon.emu().requests();
    let context = format!("{}\n{out}", render_log(&log));
    let creates = creates_of_test_db_branch(&log);
    assert_eq!(creates.len(), 2, "{context}");
    assert!(
        matches!(creates[0].fault, Some(FaultAction::Drop)) && !creates[0].applied,
        "{context}"
    );
    assert!(
        is_lookup_by_name(next_after(&log, creates[0].seq)),
        "the lost create must be looked up before it is sent again\n{context}"
    );
    assert!(
        creates[1].applied && creates[1].answer == Answer::Status(201),
        "{context}"
    );
}

fn f_lost_answer_create() {
    let (out, neon) = scenario_with_log(
        "rel_lost_create",
        |n| n.inject("POST", "/branches", 1, FaultAction::DropAnswer),
        PASS,
    );
    // Applied, answer lost: looked up, found (this run's), and never sent again — exactly
    // one test Neon database branch was created, and deleted once.
    let log = neon.emu().requests();
    let context = format!("{}\n{out}", render_log(&log));
    let creates = creates_of_test_db_branch(&log);
    assert_eq!(
        creates.len(),
        1,
        "the applied create was sent again (a duplicate)\n{context}"
    );
    let create = creates[0];
    assert!(
        matches!(create.fault, Some(FaultAction::DropAnswer))
            && create.applied
            && create.answer == Answer::Dropped,
        "{context}"
    );
    assert!(
        is_lookup_by_name(next_after(&log, create.seq)),
        "the lost create must be looked up first\n{context}"
    );
    let deletes: Vec<&RequestRecord> = log
        .iter()
        .filter(|r| r.method == "DELETE" && r.answer == Answer::Status(200))
        .collect();
    assert_eq!(deletes.len(), 1, "{context}");
}

fn f_lost_answer_delete() {
    let (out, neon) = scenario_with_log(
        "rel_lost_delete",
        |n| n.inject("DELETE", "/branches/", 1, FaultAction::DropAnswer),
        PASS,
    );
    // Applied, answer lost: the Neon database branch is looked up (gone), never deleted again.
    let log = neon.emu().requests();
    let context = format!("{}\n{out}", render_log(&log));
    let deletes: Vec<&RequestRecord> = log.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(
        deletes.len(),
        1,
        "the applied delete was sent again\n{context}"
    );
    let delete = deletes[0];
    assert!(
        matches!(delete.fault, Some(FaultAction::DropAnswer))
            && delete.applied
            && delete.answer == Answer::Dropped,
        "{context}"
    );
    let look = next_after(&log, delete.seq);
    assert!(
        look.method == "GET" && look.path == delete.path && look.answer == Answer::Status(404),
        "the lost delete must be looked up (and found gone)\n{context}"
    );
    let creates = creates_of_test_db_branch(&log);
    assert_eq!(creates.len(), 1, "{context}");
}

fn f_drop_operations() {
    scenario(
        "rel_drop_ops",
        |n| n.inject("GET", "/operations/", 2, FaultAction::Drop),
        PASS,
    );
}

fn f_unreachable() {
    // A port that refuses every connection for as long as the test runs: bound by this
    // socket (no one else can take it), never listening.
    let rt = crate::support::runtime();
    let refusing = rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().expect("a socket");
        s.bind("127.0.0.1:0".parse().expect("address"))
            .expect("bind a port");
        s
    });
    let port = refusing.local_addr().expect("its address").port();
    let p = Project::new("rel_unreachable").config_raw(&format!(
        "[provider]\nkind = \"neon\"\nproject-id = \"it-unreachable\"\napi-host = \"http://127.0.0.1:{port}\"\n"
    ));
    let mut c = p.command(&["run", "deploy"]);
    c.env("NEON_API_KEY", KEY);
    let out = run_command(c, &["run", "deploy"]);
    out.code(exit::PROVIDER)
        .stderr_has("GET /projects/it-unreachable/branches?limit=100 got no answer")
        .stderr_has("after 6 attempts)");
    assert!(!out.stderr.contains(KEY), "{out}");
    drop(refusing);
}

fn f_slow_operations() {
    let tag = "rel_slow_ops";
    let p = Project::new(tag);
    // Every operation takes 3 s; the run waits for one at most 1 s.
    let neon = NeonEmu::start_with(tag, p.main_db(), Duration::from_secs(3));
    let p = project(tag, &neon, p, "").config_raw(&neon.toml(&format!(
        "operation-timeout = \"1s\"\n[apply]\ngit-branches = [\"{GIT_BRANCH}\"]\n{ORDERS_CHECK}"
    )));
    check(
        &neon,
        &p,
        "deploy",
        &Want {
            code: exit::PROVIDER,
            failed_stage: Some("create-neon-database-branch"),
            needles: &[
                "Neon's operations for creating the test Neon database branch migrate/feature/reliable did not finish within 1s",
                "raise `operation-timeout` under [provider]",
            ],
            leftover: true,
        },
    );
    // Whatever the create left is deleted (the TTL would, later) — with the default
    // operation timeout: the 1 s one would fail the delete's wait too.
    let p = p.config_raw(&neon.toml(&format!(
        "[apply]\ngit-branches = [\"{GIT_BRANCH}\"]\n{ORDERS_CHECK}"
    )));
    gc_all(&neon, &p);
}

/// Through the engine in this process: the CLI's request timeout (30 s) is not configurable,
/// so this is the same pipeline with a provider whose requests time out after 3 s.
fn f_slow_responses() {
    use neon_migrate::engine;
    use neon_migrate::providers::neon::{NeonProvider, NeonSettings};
    use neon_migrate::secret::Redactor;

    let tag = "rel_slow_responses";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    let config = neon_migrate::config::load(&p.path().join("neon-migrate.toml"))
        .unwrap_or_else(|e| panic!("config: {e:?}"));
    let git = neon_migrate::git::discover(p.path()).expect("git");
    let settings = NeonSettings {
        project_id: neon.project_id.clone(),
        api_key: Secret::new(KEY.into()),
        api_key_env: "NEON_API_KEY".into(),
        api_host: neon.base_url(),
        parent: None,
        database: "neondb".into(),
        role: "neondb_owner".into(),
        operation_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(3),
    };
    // The create's answer comes after the timeout (the emulator drops the request when its
    // client has gone), and so do the first looks: looked up, then sent again.
    neon.inject(
        "POST",
        "/branches",
        1,
        FaultAction::Delay(Duration::from_millis(3500)),
    );
    neon.inject(
        "GET",
        "/branches",
        2,
        FaultAction::Delay(Duration::from_millis(3500)),
    );
    let redactor = Redactor::new();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let result = neon.block_on(async {
        let provider = NeonProvider::open_with(settings, &redactor)
            .await
            .unwrap_or_else(|e| panic!("open: {}", e));
        engine::run(
            &config,
            &git,
            &provider,
            &config.pipelines["deploy"],
            redactor.clone(),
            &engine::Silent,
            rx,
        )
        .await
    });
    drop(tx);
    let report = match result {
        Ok(r) => r,
        Err(f) => panic!("{}", neon_migrate::report::render_json(&f.report)),
    };
    assert!(started.elapsed() >= Duration::from_secs(3));
    let json = neon_migrate::report::render_json(&report);
    assert!(
        !json.contains(KEY) && !json.contains(neon.emu().password()),
        "{json}"
    );
    neon.wait_idle();
    neon.assert_every_db_branch_has_a_ttl(&json);
    assert!(neon.main_has("public.orders"), "{json}");
    let names = neon.names();
    assert!(
        names.len() == 1 && names[0].starts_with("restore/"),
        "only the restore point is left: {names:?}"
    );
}

fn f_failed_operation_create() {
    scenario(
        "rel_failed_op_create",
        |n| n.inject("POST", "/branches", 1, FaultAction::FailNextOperation),
        Want {
            code: exit::PROVIDER,
            failed_stage: Some("create-neon-database-branch"),
            needles: &[
                "ended `failed`: operation failed (injected by the emulator)",
                "was deleted again",
            ],
            leftover: false,
        },
    );
}

fn f_409_free() {
    scenario(
        "rel_409_free",
        |n| n.inject("POST", "/branches", 1, status(409, None)),
        PASS,
    );
}

fn f_409_foreign() {
    let mut theirs = Value::Null;
    let (out, neon) = scenario_with_log(
        "rel_409_foreign",
        |n| {
            let (status, made) = n.api(
                "POST",
                "/branches",
                Some(json!({ "branch": { "name": TEST_DB_BRANCH, "expires_at": neon_time(Utc::now() + chrono::Duration::hours(1)) } })),
            );
            assert_eq!(status, 201, "{made}");
            theirs = made["branch"].clone();
            n.wait_idle();
        },
        Want {
            code: exit::PROVIDER,
            failed_stage: Some("create-neon-database-branch"),
            needles: &[
                "a Neon database branch named `migrate/feature/reliable` already exists",
                "neon-migrate did not create it",
                "`name` under [neon-database-branch]",
            ],
            leftover: true,
        },
    );
    // Theirs is untouched: same id, same expiry, never deleted, patched or replaced.
    let now = neon.others();
    let kept = now
        .iter()
        .find(|b| b["name"] == TEST_DB_BRANCH)
        .unwrap_or_else(|| panic!("their Neon database branch is gone\n{out}"));
    assert_eq!(kept["id"], theirs["id"], "{out}");
    assert_eq!(kept["expires_at"], theirs["expires_at"], "{out}");
    let log = neon.emu().requests();
    let id = theirs["id"].as_str().expect("id");
    assert!(
        !log.iter()
            .any(|r| r.method != "GET" && r.path.ends_with(&format!("/branches/{id}"))),
        "neon-migrate changed their Neon database branch\n{}\n{out}",
        render_log(&log)
    );
    assert_eq!(
        creates_of_test_db_branch(&log).len(),
        2,
        "theirs and our refused create\n{}",
        render_log(&log)
    );
}

fn f_409_leftover() {
    scenario(
        "rel_409_leftover",
        |n| {
            // What a SIGKILLed run of this git branch left: ours, with a TTL.
            let (status, made) = n.api(
                "POST",
                "/branches",
                Some(json!({
                    "branch": { "name": TEST_DB_BRANCH, "expires_at": neon_time(Utc::now() + chrono::Duration::hours(1)) },
                    "annotation_value": { "created-by": "neon-migrate", "neon-migrate-git-branch": GIT_BRANCH },
                })),
            );
            assert_eq!(status, 201, "{made}");
            n.wait_idle();
        },
        PASS,
    );
}

fn f_401_key() {
    let p = Project::new("rel_401");
    let neon = NeonEmu::start("rel_401", p.main_db());
    let p = project("rel_401", &neon, p, "");
    let wrong = "napi_revoked_key_0b7e4d";
    crate::support::note_secret(wrong);
    let mut c = p.command(&["run", "deploy"]);
    c.env("NEON_API_KEY", wrong);
    let out = run_command(c, &["run", "deploy"]);
    out.code(exit::PROVIDER)
        .stderr_has("the Neon API rejected the API key in $NEON_API_KEY")
        .stderr_has("401 Unauthorized");
    assert!(
        !out.stdout.contains(wrong) && !out.stderr.contains(wrong),
        "{out}"
    );
    assert!(neon.others().is_empty());
    assert!(!neon.main_has("public.orders"));
}

/// Deletes whatever a failed delete left (the TTL would, later).
fn gc_all(neon: &NeonEmu, p: &Project) {
    neon.run(p, &["gc", "--all"]).code(exit::OK);
    neon.wait_idle();
    assert!(
        neon.names().iter().all(|n| !n.starts_with("migrate/")),
        "{:?}",
        neon.names()
    );
}

fn f_401_delete() {
    let tag = "rel_401_delete";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    neon.inject("DELETE", "/branches/", 1, status(401, None));
    check(
        &neon,
        &p,
        "deploy",
        &Want {
            code: exit::PROVIDER,
            failed_stage: Some("delete-neon-database-branch"),
            needles: &[
                "cannot delete the test Neon database branch migrate/feature/reliable",
                "401 Unauthorized",
                "`neon-migrate gc` deletes it once expired",
            ],
            leftover: true,
        },
    );
    gc_all(&neon, &p);
}

fn f_404_delete() {
    let tag = "rel_404_delete";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    // Neon says it is gone (here it is not: the emulator lies, so it keeps its TTL).
    neon.inject("DELETE", "/branches/", 1, status(404, None));
    let out = check(
        &neon,
        &p,
        "deploy",
        &Want {
            leftover: true,
            ..PASS
        },
    );
    let report = out.json();
    assert_eq!(
        stage(&report, "delete-neon-database-branch")["summary"],
        "migrate/feature/reliable was already gone",
        "{out}"
    );
    gc_all(&neon, &p);
}

fn f_423_delete() {
    scenario(
        "rel_423_delete",
        |n| n.inject("DELETE", "/branches/", 3, status(423, None)),
        PASS,
    );
}

fn f_500_delete() {
    let tag = "rel_500_delete";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    neon.inject("DELETE", "/branches/", 1, status(500, None));
    let before = Utc::now();
    let out = check(
        &neon,
        &p,
        "deploy",
        &Want {
            code: exit::PROVIDER,
            failed_stage: Some("delete-neon-database-branch"),
            needles: &["answered 500 Internal Server Error"],
            leftover: true,
        },
    );
    let after = Utc::now();
    let report = out.json();
    assert_eq!(stage(&report, "apply")["status"], "skipped", "{out}");
    // The help names the leftover's real expiry: what Neon holds, one hour (the TTL) after
    // the run created it (whole seconds).
    let leftover = neon
        .others()
        .into_iter()
        .find(|b| b["name"] == TEST_DB_BRANCH)
        .unwrap_or_else(|| panic!("no leftover\n{out}"));
    let expires = leftover["expires_at"]
        .as_str()
        .expect("expires_at")
        .to_owned();
    let at = DateTime::parse_from_rfc3339(&expires)
        .expect("RFC 3339")
        .with_timezone(&Utc);
    let hour = chrono::Duration::hours(1);
    assert!(
        at >= before + hour - chrono::Duration::seconds(1) && at <= after + hour,
        "expires_at {expires} is not one hour after the run ({before} … {after})\n{out}"
    );
    let help = stage(&report, "delete-neon-database-branch")["error"]["help"]
        .as_str()
        .unwrap_or_default();
    assert!(
        help.contains(&format!("it expires at {expires};")),
        "the help must name the expiry {expires}: {help:?}\n{out}"
    );
    assert_eq!(
        report["neon_database_branch"]["expires_at"],
        expires.as_str(),
        "{out}"
    );
    gc_all(&neon, &p);
}

fn f_drop_delete() {
    let (out, neon) = scenario_with_log(
        "rel_drop_delete",
        |n| n.inject("DELETE", "/branches/", 1, FaultAction::Drop),
        PASS,
    );
    // Dropped before it was applied: looked up (still there), then sent again.
    let log = neon.emu().requests();
    let context = format!("{}\n{out}", render_log(&log));
    let deletes: Vec<&RequestRecord> = log.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 2, "{context}");
    assert!(
        matches!(deletes[0].fault, Some(FaultAction::Drop)) && !deletes[0].applied,
        "{context}"
    );
    let look = next_after(&log, deletes[0].seq);
    assert!(
        look.method == "GET" && look.path == deletes[0].path && look.answer == Answer::Status(200),
        "the lost delete must be looked up before it is sent again\n{context}"
    );
    assert_eq!(deletes[1].answer, Answer::Status(200), "{context}");
}

fn f_failed_operation_delete() {
    scenario(
        "rel_failed_op_delete",
        |n| n.inject("DELETE", "/branches/", 1, FaultAction::FailNextOperation),
        Want {
            code: exit::PROVIDER,
            failed_stage: Some("delete-neon-database-branch"),
            needles: &["ended `failed`: operation failed (injected by the emulator)"],
            leftover: false,
        },
    );
}

fn f_503_connection_uri() {
    scenario(
        "rel_503_uri",
        |n| n.inject("GET", "/connection_uri", 2, status(503, None)),
        PASS,
    );
}

fn f_migrate_fails() {
    let tag = "rel_migrate_fails";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "")
        .migration(
            "0002_broken.sql",
            "alter table orders add column x no_such_type;\n",
        )
        .commit();
    check(
        &neon,
        &p,
        "deploy",
        &Want {
            code: exit::MIGRATION_FAILED,
            failed_stage: Some("migrate"),
            needles: &["0002_broken.sql:1:", "no_such_type"],
            leftover: false,
        },
    );
}

fn f_checks_fail() {
    let tag = "rel_checks_fail";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(
        tag,
        &neon,
        p,
        "[[checks.sql]]\nname = \"orders has a customer column\"\nquery = \"select count(*) from information_schema.columns where table_name = 'orders' and column_name = 'customer'\"\nexpect-value = \"1\"\n",
    );
    check(
        &neon,
        &p,
        "deploy",
        &Want {
            code: exit::CHECK_FAILED,
            failed_stage: Some("checks"),
            needles: &[],
            leftover: false,
        },
    );
}

/// A passing proof, then `faults` injected (through the emulator's admin route, by a shell
/// stage) right before `apply`.
fn inject_before_apply(tag: &str, faults: Value, want: Want) -> Output {
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(tag, &neon, p, "");
    check_env(
        &neon,
        &p,
        "deploy-inject",
        &want,
        &[("NM_FAULTS", faults.to_string())],
    )
}

fn f_restore_point_fails() {
    inject_before_apply(
        "rel_rp_fails",
        json!([{ "method": "POST", "path_contains": "/branches", "status": 500 }]),
        Want {
            code: exit::PROVIDER,
            failed_stage: Some("apply"),
            needles: &[
                "cannot create the restore point restore/main-",
                "answered 500 Internal Server Error",
                "nothing was applied",
            ],
            leftover: false,
        },
    );
}

fn f_restore_point_423() {
    inject_before_apply(
        "rel_rp_423",
        json!([{ "method": "POST", "path_contains": "/branches", "status": 423, "times": 3 }]),
        PASS,
    );
}

/// Neon's `expires_at` text.
pub fn neon_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------------------------
// Signals at every stage boundary.

/// Where a run is stopped: the shell stage `sync-<k>` sits right before the stage named.
const BOUNDARIES: [&str; 5] = [
    "before create-neon-database-branch",
    "between create-neon-database-branch and migrate",
    "between migrate and checks",
    "between checks and delete-neon-database-branch",
    "between delete-neon-database-branch and apply",
];

/// A shell stage at every stage boundary of `deploy`: the one numbered `$NM_STOP_AT`
/// announces itself (a file in `$NM_SYNC_DIR`) and sleeps; the others pass at once.
fn sync_pipeline(ttl: &str) -> String {
    let mut s = format!(
        "[neon-database-branch]\nttl = \"{ttl}\"\n\n[apply]\ngit-branches = [\"{GIT_BRANCH}\"]\n\n"
    );
    for k in 0..BOUNDARIES.len() {
        s.push_str(&format!(
            "[stages.sync-{k}]\nkind = \"shell\"\nrun = 'if [ \"$NM_STOP_AT\" = {k} ]; then touch \"$NM_SYNC_DIR/reached\"; exec sleep 60; fi'\n\n"
        ));
    }
    s.push_str("[pipelines.deploy-sync]\nstages = [\"sync-0\", \"create-neon-database-branch\", \"sync-1\", \"migrate\", \"sync-2\", \"checks\", \"sync-3\", \"delete-neon-database-branch\", \"sync-4\", \"apply\"]\n");
    s.push_str(ORDERS_CHECK);
    s
}

/// A run stopped in `sync-<k>`: the process and the pid of the stage's `sleep`.
struct Stopped {
    child: Child,
    sleeper: u32,
    _sync: tempfile::TempDir,
}

fn run_until(mut c: Command, k: usize) -> Stopped {
    let sync = tempfile::tempdir().expect("temp dir");
    c.env("NM_STOP_AT", k.to_string())
        .env("NM_SYNC_DIR", sync.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn neon-migrate");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if sync.path().join("reached").exists() {
            if let Some((sleeper, _)) = children_of(child.id())
                .into_iter()
                .find(|(_, cmd)| cmd.contains("sleep"))
            {
                return Stopped {
                    child,
                    sleeper,
                    _sync: sync,
                };
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            panic!(
                "neon-migrate ended ({status}) before reaching boundary {k} ({})\n{}\n{}",
                BOUNDARIES[k],
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "boundary {k} was not reached");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `signal`, waits for the process (at most 30 s), and ends the stage's `sleep` if the
/// process could not. Returns the output and whether the `sleep` had outlived it.
fn stop(s: Stopped, signal: Signal) -> (Output, bool) {
    let started = Instant::now();
    let pid = s.child.id();
    kill(Pid::from_raw(pid as i32), signal).expect("signal neon-migrate");
    if signal == Signal::SIGKILL {
        // Nothing can end the stage's process group now but us.
        let _ = killpg(Pid::from_raw(s.sleeper as i32), Signal::SIGKILL);
    }
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    });
    let out = s.child.wait_with_output().expect("wait for neon-migrate");
    let _ = watchdog.join();
    // A killed process stays in /proc as a zombie until it is reaped (not counted by
    // `alive`); a loaded machine may take a moment to end it. The `sleep` would run 60 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(s.sleeper) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let outlived = alive(s.sleeper);
    if outlived {
        let _ = killpg(Pid::from_raw(s.sleeper as i32), Signal::SIGKILL);
    }
    let out = Output {
        command: format!("neon-migrate run deploy-sync --json ({signal})"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
        took: started.elapsed(),
    };
    crate::support::record_output(&out.command, &out.stdout);
    crate::support::record_output(&out.command, &out.stderr);
    (out, outlived && signal != Signal::SIGKILL)
}

/// Whether `pid` runs (a zombie does not).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().to_owned()))
        .is_some_and(|r| !r.starts_with('Z') && !r.starts_with('X'))
}

fn interrupt_boundaries(signal: Signal) {
    let tag = format!("rel_{}", signal.as_str().to_lowercase());
    let p = Project::new(&tag);
    let neon = NeonEmu::start(&tag, p.main_db());
    let p = p
        .config_raw(&neon.toml(&sync_pipeline("1h")))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch(GIT_BRANCH);
    for (k, boundary) in BOUNDARIES.iter().enumerate() {
        let stopped = run_until(neon.command(&p, &["run", "deploy-sync", "--json"]), k);
        let (out, outlived) = stop(stopped, signal);
        let context = format!("{signal} {boundary}\n{out}");
        neon.assert_no_secret(&out);
        assert_eq!(out.code, exit::INTERRUPTED, "{context}");
        // Generous for a loaded machine, and still short of the stage's 60 s `sleep`: a run
        // that waited for the stage instead of ending it is caught.
        assert!(out.took < Duration::from_secs(45), "{context}");
        assert!(
            !outlived,
            "the interrupted stage's `sleep` outlived the run\n{context}"
        );
        let report = out.json();
        assert_eq!(report["outcome"], "interrupted", "{context}");
        assert_eq!(report["exit_code"], exit::INTERRUPTED, "{context}");
        let sync = stage(&report, &format!("sync-{k}"));
        assert_eq!(sync["status"], "failed", "{context}");
        assert_eq!(
            sync["error"]["message"], "interrupted by a signal",
            "{context}"
        );
        // Cleanup ran; nothing else did.
        assert_eq!(
            stage(&report, "delete-neon-database-branch")["status"],
            "passed",
            "{context}"
        );
        assert_eq!(stage(&report, "apply")["status"], "skipped", "{context}");
        let created = k >= 1;
        assert_eq!(
            report["neon_database_branch"]["created"], created,
            "{context}"
        );
        assert_eq!(
            report["neon_database_branch"]["deleted"], created,
            "{context}"
        );
        neon.wait_idle();
        assert!(
            neon.others().is_empty(),
            "left: {:?}\n{context}",
            neon.names()
        );
        assert!(!neon.main_has("public.orders"), "{context}");
    }
}

fn sigint_boundaries() {
    interrupt_boundaries(Signal::SIGINT);
}

fn sigterm_boundaries() {
    interrupt_boundaries(Signal::SIGTERM);
}

fn sigkill_boundaries() {
    let tag = "rel_sigkill";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = p
        .config_raw(&neon.toml(&sync_pipeline("1h")))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch(GIT_BRANCH);
    for (k, boundary) in BOUNDARIES.iter().enumerate() {
        let before = Utc::now();
        let stopped = run_until(neon.command(&p, &["run", "deploy-sync", "--json"]), k);
        let reached = Utc::now();
        let (out, _) = stop(stopped, Signal::SIGKILL);
        let context = format!("SIGKILL {boundary}\n{out}");
        assert_eq!(out.code, -1, "killed, no exit code\n{context}");
        neon.wait_idle();
        neon.assert_every_db_branch_has_a_ttl(&context);
        assert!(!neon.main_has("public.orders"), "{context}");
        let left = neon.others();
        if (1..=3).contains(&k) {
            // The orphan: ours, found by annotation, expiring after the TTL.
            assert_eq!(neon.names(), [TEST_DB_BRANCH], "{context}");
            let expires =
                DateTime::parse_from_rfc3339(left[0]["expires_at"].as_str().expect("expires_at"))
                    .expect("RFC 3339")
                    .with_timezone(&Utc);
            // Created between `before` and `reached`; `expires_at` is whole
            // seconds, so it may sit up to a second before `before + 1h`.
            let hour = chrono::Duration::hours(1);
            assert!(
                expires >= before + hour - chrono::Duration::seconds(1)
                    && expires <= reached + hour,
                "expires_at {expires} is not one hour after the test Neon database branch was \
                 created (between {before} and {reached})\n{context}"
            );
            neon.run(&p, &["gc", "--dry-run"])
                .code(exit::OK)
                .stdout_has("0 test Neon database branch(es) to delete; 1 not expired kept");
            neon.run(&p, &["gc", "--all", "--dry-run"])
                .code(exit::OK)
                .stdout_has(&format!(
                    "would delete {TEST_DB_BRANCH} (git branch {GIT_BRANCH}, expires "
                ));
            neon.run(&p, &["gc", "--all"])
                .code(exit::OK)
                .stdout_has(&format!(
                    "deleted {TEST_DB_BRANCH} (git branch {GIT_BRANCH}"
                ));
            neon.wait_idle();
        }
        assert!(
            neon.others().is_empty(),
            "left: {:?}\n{context}",
            neon.names()
        );
    }
}

/// On the local provider, which has no expiry job of its own: the orphan of a SIGKILLed run
/// is found by `gc` once its TTL has passed, and deleted.
fn sigkill_gc_local() {
    // Long enough that the first `gc` surely comes before it expires on a loaded machine.
    let p = Project::new("rel_sigkill_gc")
        .config(&sync_pipeline("10s"))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch(GIT_BRANCH);
    let stopped = run_until(p.command(&["run", "deploy-sync", "--json"]), 2);
    let (out, _) = stop(stopped, Signal::SIGKILL);
    let orphan = p
        .test_db_branches()
        .into_iter()
        .find(|f| f.name == TEST_DB_BRANCH)
        .unwrap_or_else(|| panic!("no orphan\n{out}"));
    p.run(&["gc"])
        .code(exit::OK)
        .stdout_has("0 test Neon database branch(es) deleted; 1 not expired kept");
    let wait = (orphan.expires_at - Utc::now())
        .to_std()
        .unwrap_or_default();
    assert!(wait <= Duration::from_secs(10), "{orphan:?}");
    std::thread::sleep(wait + Duration::from_millis(100));
    p.run(&["gc"])
        .code(exit::OK)
        .stdout_has(&format!(
            "deleted {TEST_DB_BRANCH} (git branch {GIT_BRANCH}, expires "
        ))
        .stdout_has(", expired)")
        .stdout_has("1 test Neon database branch(es) deleted; 0 not expired kept");
    p.assert_no_test_db_branches();
    assert!(!p.block_on(crate::support::database_exists(&orphan.database)));
    assert!(!p.main_has("public.orders"));
}

// ---------------------------------------------------------------------------------------
// Eight pipelines at once.

/// A tool whose apply logs when it starts and ends (nanoseconds) and takes 300 ms: overlapping
/// applies would interleave in `$NM_LOG`.
fn logger_config(main_db: &str, name: &str, branches: &[&str]) -> String {
    let list = branches
        .iter()
        .map(|b| format!("\"{b}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"[neon-database-branch]
name = "{name}"
ttl = "1h"

[provider]
main-database = "{main_db}"
busy-parent = "golden-template"

[tool]
name = "logger"
command = 'psql "$DATABASE_URL" -qc "select 1"'
apply-command = 'echo "$NM_RUN start $(date +%s%N)" >> "$NM_LOG"; sleep 0.3; echo "$NM_RUN end $(date +%s%N)" >> "$NM_LOG"'

[apply]
git-branches = [{list}]
lock-wait = "2m"
restore-point-ttl = "1h"
"#
    )
}

/// The apply intervals in the log: (run, start, end), sorted by start; asserts none overlap.
#[track_caller]
fn assert_serialized(log: &Path, runs: usize) -> Vec<(String, u128, u128)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut starts = std::collections::BTreeMap::new();
    let mut ends = std::collections::BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (run, what, t) = (w[0].to_owned(), w[1], w[2].parse::<u128>().expect("time"));
        match what {
            "start" => assert!(starts.insert(run, t).is_none(), "{text}"),
            _ => assert!(ends.insert(run, t).is_none(), "{text}"),
        }
    }
    assert_eq!(starts.len(), runs, "every run applied once:\n{text}");
    let mut spans: Vec<(String, u128, u128)> = starts
        .iter()
        .map(|(r, s)| (r.clone(), *s, *ends.get(r).expect("an end for every start")))
        .collect();
    spans.sort_by_key(|s| s.1);
    for w in spans.windows(2) {
        assert!(
            w[0].2 <= w[1].1,
            "applies overlapped: run {} ({}..{}) and run {} ({}..{})\n{text}",
            w[0].0,
            w[0].1,
            w[0].2,
            w[1].0,
            w[1].1,
            w[1].2
        );
    }
    spans
}

struct Fleet {
    base: Project,
    projects: Vec<(Project, String)>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// Eight projects (clones of one repository) on one main database, each on its git branch.
fn fleet(tag: &str, name: &str, git_branches: &[&str]) -> Fleet {
    let base = Project::new(tag);
    base.ensure_main();
    let mut unique: Vec<&str> = git_branches.to_vec();
    unique.sort();
    unique.dedup();
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("applies.log");
    let projects: Vec<(Project, String)> = git_branches
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = Project::new(&format!("{tag}_{i}"))
                .config_raw(&logger_config(base.main_db(), name, &unique))
                .commit()
                .git_branch(b);
            (p, b.to_string())
        })
        .collect();
    // The golden template exists and is fresh before the crowd arrives (the first copy of a
    // busy main makes it).
    let held = base.hold_main_connection();
    let mut c = projects[0].0.command(&["run", "pre-push"]);
    c.env("NM_RUN", "warm-up");
    let warm = run_command(c, &["run", "pre-push"]);
    base.release(held);
    warm.code(exit::OK);
    Fleet {
        base,
        projects,
        log,
        _dir: dir,
    }
}

/// Starts `deploy` in every project at once; returns the outputs in order.
fn deploy_all(f: &Fleet) -> Vec<Output> {
    let started = Instant::now();
    let children: Vec<Child> = f
        .projects
        .iter()
        .enumerate()
        .map(|(i, (p, _))| {
            p.command(&["run", "deploy", "--json"])
                .env("NM_RUN", i.to_string())
                .env("NM_LOG", &f.log)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn neon-migrate")
        })
        .collect();
    children
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let out = c.wait_with_output().expect("wait");
            let out = Output {
                command: format!("neon-migrate run deploy --json (run {i})"),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                code: out.status.code().unwrap_or(-1),
                took: started.elapsed(),
            };
            crate::support::record_output(&out.command, &out.stdout);
            crate::support::record_output(&out.command, &out.stderr);
            out
        })
        .collect()
}

fn eight_at_once() {
    let branches = [
        "main", "main", "release", "release", "hotfix/a", "hotfix/b", "main", "release",
    ];
    let f = fleet(
        "rel_eight",
        "migrate/eight/{{git.branch}}/{{env.NM_RUN}}",
        &branches,
    );
    let outs = deploy_all(&f);
    let mut points = Vec::new();
    for (i, out) in outs.iter().enumerate() {
        out.code(exit::OK);
        let r = out.json();
        assert_eq!(r["outcome"], "passed", "{out}");
        assert_eq!(r["git"]["branch"], f.projects[i].1, "{out}");
        assert_eq!(
            r["neon_database_branch"]["name"],
            format!("migrate/eight/{}/{i}", f.projects[i].1),
            "{out}"
        );
        assert_eq!(r["neon_database_branch"]["deleted"], true, "{out}");
        assert_eq!(stage(&r, "apply")["status"], "passed", "{out}");
        points.push(
            r["restore_point"]
                .as_str()
                .expect("a restore point")
                .to_owned(),
        );
    }
    let spans = assert_serialized(&f.log, 8);
    // Every report names its own restore point, and they all exist (with their TTL).
    let mut unique = points.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "{points:?}");
    let mut on_server: Vec<String> = crate::apply::ours(&f.base)
        .into_iter()
        .map(|b| b.name)
        .collect();
    on_server.sort();
    assert_eq!(on_server, unique, "restore points on the server");
    // The later applies waited for the earlier ones, and said so.
    let waited = outs
        .iter()
        .filter(|o| {
            stage(&o.json(), "apply")["details"]
                .as_array()
                .is_some_and(|d| {
                    d.iter()
                        .any(|l| l.as_str().is_some_and(|l| l.starts_with("waited ")))
                })
        })
        .count();
    assert!(waited >= 1, "no apply reported waiting; spans {spans:?}");
    f.base.run(&["gc", "--all"]).code(exit::OK);
    f.base.assert_no_test_db_branches();
}

/// The same git branch eight times at once: they share one test Neon database branch name,
/// so they take turns (the run lock): each run creates its copy only after the one before it
/// ended, every run passes, the applies never overlap, and nothing is left behind.
fn eight_same_git_branch() {
    let branches = ["main"; 8];
    let f = fleet("rel_same", "migrate/same/{{git.branch}}", &branches);
    let outs = deploy_all(&f);
    let mut waited = 0;
    for out in &outs {
        out.code(exit::OK);
        let r = out.json();
        assert_eq!(r["outcome"], "passed", "{out}");
        assert_eq!(stage(&r, "apply")["status"], "passed", "{out}");
        assert_eq!(r["neon_database_branch"]["deleted"], true, "{out}");
        let create = &stage(&r, "create-neon-database-branch")["details"];
        if create.as_array().is_some_and(|d| {
            d.iter()
                .any(|l| l.as_str().is_some_and(|l| l.starts_with("waited ")))
        }) {
            waited += 1;
        }
    }
    assert!(waited >= 1, "no run reported waiting for another run");
    assert_serialized(&f.log, 8);
    f.base.run(&["gc", "--all"]).code(exit::OK);
    f.base.assert_no_test_db_branches();
}

// ---------------------------------------------------------------------------------------
// The harness's secret scan (run over every output at the end of the suite) finds leaks.

fn secret_scan() {
    use crate::support::scan_for_secrets;
    let out = |t: &str| vec![("neon-migrate run x".to_owned(), t.to_owned())];
    let key = vec!["napi_k3y_for_the_scan".to_owned()];
    assert_eq!(
        scan_for_secrets(&out("all good"), &key),
        Vec::<String>::new()
    );
    assert_eq!(
        scan_for_secrets(&out("key napi_k3y_for_the_scan here"), &key),
        ["`neon-migrate run x` printed registered secret #0"]
    );
    assert_eq!(
        scan_for_secrets(&out("password npg_AbCdEfGhJkMnPqRs."), &[]),
        ["`neon-migrate run x` printed an emulator password (npg_…)"]
    );
    assert_eq!(
        scan_for_secrets(&out("url postgres://neondb_owner:hunter2@127.0.0.1:5/neondb"), &[]),
        ["`neon-migrate run x` printed a connection URL with its password: …://neondb_owner:<7 characters>@127.0.0.1:5"]
    );
    // Masked, templated and placeholder passwords are not leaks.
    for fine in [
        "postgres://postgres:****@127.0.0.1:5432/db",
        "postgresql://u:$PASSWORD@host/db",
        "postgres://u:{{env.PW}}@host/db",
        "postgres://user@host/db",
        "https://console.neon.tech/api/v2",
        "npg_short",
    ] {
        assert_eq!(
            scan_for_secrets(&out(fine), &[]),
            Vec::<String>::new(),
            "{fine}"
        );
    }
}

//! The reliability suite: the whole pipeline against the Neon API emulator with faults
//! injected on the Neon API path, killed by signals at every stage boundary, and run eight at
//! a time.
//!
//! Every fault scenario runs `deploy` through the CLI (real HTTP, real Postgres behind the
//! emulator's endpoints) and then asserts the same promises: the run passes after retries or
//! stops with a clear error and the exit code that says why; no Neon database branch is left
//! without a TTL; and the main Neon database branch is untouched whenever validation did not
//! pass. [`NeonEmu`] is also used by the apply tests.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use neon_migrate::emulator::{Answer, Emulator, Fault, FaultAction, RequestRecord};
use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::secret::Secret;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::support::{start_emulator, children_of, cluster, run_command, stage, Output, Project, Rows};
use crate::Test;

/// Every test of this file: the fault scenarios (rows of a table) and the rest.
pub fn tests() -> Vec<Test> {
    let rows = fault_scenarios().into_iter();
    let mut all: Vec<Test> = rows.map(|s| Test::new(s.name, move || s.run(), None)).collect();
    all.extend(tests![
        reliability_neon_503_on_every_attempt_is_a_clear_error_after_6_attempts,
        reliability_neon_unreachable_api_is_a_clear_error,
        reliability_neon_operations_slower_than_operation_timeout_are_a_clear_error,
        reliability_neon_responses_slower_than_the_request_timeout_are_looked_up_then_pass,
        reliability_neon_401_wrong_key_is_a_clear_error_without_the_key,
        reliability_sigint_at_every_stage_boundary_cleans_up_and_exits_130,
        reliability_sigterm_at_every_stage_boundary_cleans_up_and_exits_130,
        reliability_sigkill_at_every_stage_boundary_leaves_only_ttl_d_neon_database_branches,
        reliability_sigkill_orphan_is_deleted_by_gc_once_expired,
        reliability_eight_pipelines_at_once_apply_one_at_a_time,
        reliability_eight_pipelines_of_the_same_git_branch_at_once_take_turns_and_all_pass,
        reliability_the_suites_secret_scan_finds_keys_passwords_and_unmasked_urls,
    ]);
    all
}

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
        let (rt, emu) = start_emulator(&project_id, KEY, main_db, operation_delay);
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
fn project(neon: &NeonEmu, p: Project, extra: &str) -> Project {
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
    p.config_raw(&config)
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch(GIT_BRANCH)
}

/// A fresh emulator and a fault scenario's [`project`] on it.
fn emulated(tag: &str) -> (NeonEmu, Project) {
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = project(&neon, p, "");
    (neon, p)
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

/// A run stopped by a Neon API error: `code`, the stage that failed and what its error says.
const fn fails(
    code: i32,
    stage: &'static str,
    needles: &'static [&'static str],
    leftover: bool,
) -> Want {
    Want {
        code,
        failed_stage: Some(stage),
        needles,
        leftover,
    }
}

/// Runs `pipeline` and checks the suite's promises; returns the output.
fn check(
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

fn status(status: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after,
    }
}

/// One fault scenario, a row of [`fault_scenarios`]: a fresh emulator and [`project`] (plus
/// `config` and `migration`), `setup` run on the emulator and `faults` injected, then `deploy`
/// (or, with `before_apply`, `deploy-inject`, which injects those faults right before `apply`);
/// [`check`] asserts the suite's promises and `want`, and `then` what is particular to the row.
struct Scenario {
    name: &'static str,
    config: &'static str,
    migration: Option<(&'static str, &'static str)>,
    setup: fn(&NeonEmu) -> Value,
    faults: Vec<(&'static str, &'static str, u32, FaultAction)>,
    before_apply: Option<Value>,
    want: Want,
    then: fn(&Ran),
}

/// What a scenario's run left for the row's own assertions.
struct Ran {
    out: Output,
    p: Project,
    neon: NeonEmu,
    /// What the row's `setup` returned.
    made: Value,
    /// Just before the run started and just after it ended.
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
}

impl Scenario {
    fn new(name: &'static str, want: Want) -> Scenario {
        Scenario {
            name,
            config: "",
            migration: None,
            setup: |_| Value::Null,
            faults: Vec::new(),
            before_apply: None,
            want,
            then: |_| {},
        }
    }

    /// Injects `action` into the next `times` requests `method` … `path` before the run.
    fn fault(mut self, method: &'static str, path: &'static str, times: u32, action: FaultAction) -> Self {
        self.faults.push((method, path, times, action));
        self
    }

    fn setup(mut self, setup: fn(&NeonEmu) -> Value) -> Self {
        self.setup = setup;
        self
    }

    fn config(mut self, extra: &'static str) -> Self {
        self.config = extra;
        self
    }

    fn migration(mut self, file: &'static str, sql: &'static str) -> Self {
        self.migration = Some((file, sql));
        self
    }

    /// Faults (the emulator's JSON form) injected by a shell stage right before `apply`.
    fn before_apply(mut self, faults: Value) -> Self {
        self.before_apply = Some(faults);
        self
    }

    fn then(mut self, then: fn(&Ran)) -> Self {
        self.then = then;
        self
    }

    fn run(self) {
        let short = self.name.trim_start_matches("reliability_neon_");
        let tag = format!("rel_{}", &short[..short.len().min(24)]);
        let p = Project::new(&tag);
        let neon = NeonEmu::start(&tag, p.main_db());
        let mut p = project(&neon, p, self.config);
        if let Some((file, sql)) = self.migration {
            p = p.migration(file, sql).commit();
        }
        let made = (self.setup)(&neon);
        for (method, path, times, action) in self.faults {
            neon.inject(method, path, times, action);
        }
        let (pipeline, env) = match &self.before_apply {
            Some(faults) => ("deploy-inject", vec![("NM_FAULTS", faults.to_string())]),
            None => ("deploy", Vec::new()),
        };
        let started = Utc::now();
        let out = check(&neon, &p, pipeline, &self.want, &env);
        let ended = Utc::now();
        (self.then)(&Ran {
            out,
            p,
            neon,
            made,
            started,
            ended,
        });
    }
}

/// The fault scenarios: one row each, named as the test is.
fn fault_scenarios() -> Vec<Scenario> {
    let s = Scenario::new;
    vec![
        s("reliability_neon_423_three_times_on_create_then_passes", PASS)
            .fault("POST", "/branches", 3, status(423, None)),
        s("reliability_neon_429_with_retry_after_waits_then_passes", PASS)
            .fault("POST", "/branches", 1, status(429, Some(2)))
            .then(|r| {
                assert!(
                    r.out.took >= Duration::from_secs(2),
                    "Retry-After: 2 was not honoured\n{}",
                    r.out
                );
            }),
        s("reliability_neon_429_without_retry_after_backs_off_then_passes", PASS)
            .fault("POST", "/branches", 2, status(429, None)),
        s(
            "reliability_neon_500_on_create_is_a_clear_error",
            fails(exit::PROVIDER, "create-neon-database-branch", &[
                "cannot create the test Neon database branch migrate/feature/reliable: POST /projects/",
                "/branches answered 500 Internal Server Error: injected failure (request id ",
            ], false),
        )
        .fault("POST", "/branches", 1, status(500, None)),
        s("reliability_neon_503_twice_on_create_then_passes", PASS)
            .fault("POST", "/branches", 2, status(503, None)),
        s("reliability_neon_502_on_get_is_retried_then_passes", PASS)
            .fault("GET", "/branches", 2, status(502, None)),
        s("reliability_neon_dropped_connection_on_create_is_looked_up_then_passes", PASS)
            .fault("POST", "/branches", 1, FaultAction::Drop)
            .then(dropped_create_is_looked_up),
        s("reliability_neon_lost_answer_of_an_applied_create_is_looked_up_and_never_sent_again", PASS)
            .fault("POST", "/branches", 1, FaultAction::DropAnswer)
            .then(lost_create_is_looked_up_once),
        s("reliability_neon_lost_answer_of_an_applied_delete_is_looked_up_and_never_sent_again", PASS)
            .fault("DELETE", "/branches/", 1, FaultAction::DropAnswer)
            .then(lost_delete_is_looked_up_once),
        s("reliability_neon_dropped_connections_on_operation_polls_then_passes", PASS)
            .fault("GET", "/operations/", 2, FaultAction::Drop),
        s(
            "reliability_neon_operation_ending_failed_on_create_is_a_clear_error",
            fails(exit::PROVIDER, "create-neon-database-branch", &[
                "ended `failed`: operation failed (injected by the emulator)",
                "was deleted again",
            ], false),
        )
        .fault("POST", "/branches", 1, FaultAction::FailNextOperation),
        s("reliability_neon_409_on_create_with_the_name_free_is_sent_again_then_passes", PASS)
            .fault("POST", "/branches", 1, status(409, None)),
        s(
            "reliability_neon_409_for_a_teammates_neon_database_branch_is_refused",
            fails(exit::PROVIDER, "create-neon-database-branch", &[
                "a Neon database branch named `migrate/feature/reliable` already exists",
                "neon-migrate did not create it",
                "`name` under [neon-database-branch]",
            ], true),
        )
        .setup(|n| test_db_branch_made_outside(n, None))
        .then(theirs_is_untouched),
        s("reliability_neon_leftover_of_a_killed_run_of_the_same_git_branch_is_replaced", PASS)
            // What a SIGKILLed run of this git branch left: ours, with a TTL.
            .setup(|n| {
                let ours = json!({ "created-by": "neon-migrate", "neon-migrate-git-branch": GIT_BRANCH });
                test_db_branch_made_outside(n, Some(ours))
            }),
        s(
            "reliability_neon_401_during_delete_leaves_a_ttl_and_skips_apply",
            fails(exit::PROVIDER, "delete-neon-database-branch", &[
                "cannot delete the test Neon database branch migrate/feature/reliable",
                "401 Unauthorized",
                "`neon-migrate gc` deletes it once expired",
            ], true),
        )
        .fault("DELETE", "/branches/", 1, status(401, None))
        .then(|r| gc_all(&r.neon, &r.p)),
        // Neon says it is gone (here it is not: the emulator lies, so it keeps its TTL).
        s("reliability_neon_404_on_delete_counts_as_already_gone", Want { leftover: true, ..PASS })
            .fault("DELETE", "/branches/", 1, status(404, None))
            .then(|r| {
                let report = r.out.json();
                assert_eq!(
                    stage(&report, "delete-neon-database-branch")["summary"],
                    "migrate/feature/reliable was already gone",
                    "{}",
                    r.out
                );
                gc_all(&r.neon, &r.p);
            }),
        s("reliability_neon_423_three_times_on_delete_then_passes", PASS)
            .fault("DELETE", "/branches/", 3, status(423, None)),
        s(
            "reliability_neon_500_on_delete_leaves_a_ttl_and_skips_apply",
            fails(exit::PROVIDER, "delete-neon-database-branch", &["answered 500 Internal Server Error"], true),
        )
        .fault("DELETE", "/branches/", 1, status(500, None))
        .then(leftover_help_names_its_expiry),
        s("reliability_neon_dropped_connection_on_delete_is_looked_up_then_passes", PASS)
            .fault("DELETE", "/branches/", 1, FaultAction::Drop)
            .then(dropped_delete_is_looked_up),
        s(
            "reliability_neon_operation_ending_failed_on_delete_is_a_clear_error",
            fails(exit::PROVIDER, "delete-neon-database-branch", &[
                "ended `failed`: operation failed (injected by the emulator)",
            ], false),
        )
        .fault("DELETE", "/branches/", 1, FaultAction::FailNextOperation),
        s("reliability_neon_503_on_connection_uri_of_main_then_passes", PASS)
            .fault("GET", "/connection_uri", 2, status(503, None)),
        s(
            "reliability_neon_failure_during_migrate_leaves_main_untouched",
            fails(exit::MIGRATION_FAILED, "migrate", &["0002_broken.sql:1:", "no_such_type"], false),
        )
        .migration("0002_broken.sql", "alter table orders add column x no_such_type;\n"),
        s(
            "reliability_neon_failure_during_checks_leaves_main_untouched",
            fails(exit::CHECK_FAILED, "checks", &[], false),
        )
        .config("[[checks.sql]]\nname = \"orders has a customer column\"\nquery = \"select count(*) from information_schema.columns where table_name = 'orders' and column_name = 'customer'\"\nexpect-value = \"1\"\n"),
        s(
            "reliability_neon_failure_creating_the_restore_point_applies_nothing",
            fails(exit::PROVIDER, "apply", &[
                "cannot create the restore point restore/main-",
                "answered 500 Internal Server Error",
                "nothing was applied",
            ], false),
        )
        .before_apply(json!([{ "method": "POST", "path_contains": "/branches", "status": 500 }])),
        s("reliability_neon_423_while_creating_the_restore_point_then_passes", PASS)
            .before_apply(json!([{ "method": "POST", "path_contains": "/branches", "status": 423, "times": 3 }])),
    ]
}

/// A Neon database branch named as this run's test Neon database branch, expiring in an hour,
/// made through the API before the run (with `annotation`, if any); returns it.
fn test_db_branch_made_outside(n: &NeonEmu, annotation: Option<Value>) -> Value {
    let mut body = json!({ "branch": { "name": TEST_DB_BRANCH, "expires_at": neon_time(Utc::now() + chrono::Duration::hours(1)) } });
    if let Some(annotation) = annotation {
        body["annotation_value"] = annotation;
    }
    let (status, made) = n.api("POST", "/branches", Some(body));
    assert_eq!(status, 201, "{made}");
    n.wait_idle();
    made["branch"].clone()
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

/// The emulator's request log of a run, and the context for failure messages.
fn log_of(r: &Ran) -> (Vec<RequestRecord>, String) {
    let log = r.neon.emu().requests();
    let context = format!("{}\n{}", render_log(&log), r.out);
    (log, context)
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

/// Dropped before it was applied: looked up (nothing there), then sent again, once.
fn dropped_create_is_looked_up(r: &Ran) {
    let (log, context) = log_of(r);
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

/// Applied, answer lost: looked up, found (this run's), and never sent again — exactly one
/// test Neon database branch was created, and deleted once.
fn lost_create_is_looked_up_once(r: &Ran) {
    let (log, context) = log_of(r);
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

/// Applied, answer lost: the Neon database branch is looked up (gone), never deleted again.
fn lost_delete_is_looked_up_once(r: &Ran) {
    let (log, context) = log_of(r);
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

/// Dropped before it was applied: looked up (still there), then sent again.
fn dropped_delete_is_looked_up(r: &Ran) {
    let (log, context) = log_of(r);
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

/// Theirs (what the row's setup made) is untouched: same id, same expiry, never deleted,
/// patched or replaced.
fn theirs_is_untouched(r: &Ran) {
    let (neon, out, theirs) = (&r.neon, &r.out, &r.made);
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

/// Apply is skipped, and the help names the leftover's real expiry: what Neon holds, one hour
/// (the TTL) after the run created it (whole seconds).
fn leftover_help_names_its_expiry(r: &Ran) {
    let (neon, out, before, after) = (&r.neon, &r.out, r.started, r.ended);
    let report = out.json();
    assert_eq!(stage(&report, "apply")["status"], "skipped", "{out}");
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
    gc_all(neon, &r.p);
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

// The scenarios a row cannot hold: no JSON report to check, another API host or key, other
// timeouts, or the engine in this process.

fn reliability_neon_503_on_every_attempt_is_a_clear_error_after_6_attempts() {
    let (neon, p) = emulated("rel_503_always");
    neon.inject("GET", "/branches", 6, status(503, None));
    let out = neon.run(&p, &["run", "deploy", "--json"]);
    out.code(exit::PROVIDER)
        .stderr_has("answered 503 Service Unavailable: service temporarily unavailable")
        .stderr_has("after 6 attempts)");
    assert!(!neon.main_has("public.orders"), "{out}");
    assert!(neon.others().is_empty(), "{:#?}", neon.others());
}

fn reliability_neon_unreachable_api_is_a_clear_error() {
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

fn reliability_neon_operations_slower_than_operation_timeout_are_a_clear_error() {
    let tag = "rel_slow_ops";
    let p = Project::new(tag);
    // Every operation takes 3 s; the run waits for one at most 1 s.
    let neon = NeonEmu::start_with(tag, p.main_db(), Duration::from_secs(3));
    let p = project(&neon, p, "").config_raw(&neon.toml(&format!(
        "operation-timeout = \"1s\"\n[apply]\ngit-branches = [\"{GIT_BRANCH}\"]\n{ORDERS_CHECK}"
    )));
    check(
        &neon,
        &p,
        "deploy",
        &fails(exit::PROVIDER, "create-neon-database-branch", &[
            "Neon's operations for creating the test Neon database branch migrate/feature/reliable did not finish within 1s",
            "raise `operation-timeout` under [provider]",
        ], true),
        &[],
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
fn reliability_neon_responses_slower_than_the_request_timeout_are_looked_up_then_pass() {
    use neon_migrate::engine;
    use neon_migrate::providers::neon::{NeonProvider, NeonSettings};
    use neon_migrate::secret::Redactor;

    let (neon, p) = emulated("rel_slow_responses");
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

fn reliability_neon_401_wrong_key_is_a_clear_error_without_the_key() {
    let (neon, p) = emulated("rel_401");
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

/// A fresh emulator and a project whose `deploy-sync` stops where `$NM_STOP_AT` says.
fn sync_project(tag: &str) -> (NeonEmu, Project) {
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let p = p
        .config_raw(&neon.toml(&sync_pipeline("1h")))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch(GIT_BRANCH);
    (neon, p)
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
    let out = Output::recorded(format!("neon-migrate run deploy-sync --json ({signal})"), &out, started.elapsed());
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
    let (neon, p) = sync_project(&format!("rel_{}", signal.as_str().to_lowercase()));
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

fn reliability_sigint_at_every_stage_boundary_cleans_up_and_exits_130() {
    interrupt_boundaries(Signal::SIGINT);
}

fn reliability_sigterm_at_every_stage_boundary_cleans_up_and_exits_130() {
    interrupt_boundaries(Signal::SIGTERM);
}

fn reliability_sigkill_at_every_stage_boundary_leaves_only_ttl_d_neon_database_branches() {
    let (neon, p) = sync_project("rel_sigkill");
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
fn reliability_sigkill_orphan_is_deleted_by_gc_once_expired() {
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

/// A project of a fleet: the `sql` tool with one migration that creates `table` (and takes
/// 300 ms, so overlapping applies would show in the tracking table), and `deploy-seen`: `deploy`
/// with a shell stage that writes the public tables of the fresh test copy to
/// `$NM_SEEN/$NM_RUN` (what the run proves its migration against).
fn fleet_config(main_db: &str, name: &str, git_branches: &[&str]) -> String {
    let list = git_branches
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
name = "sql"

[stages.seen]
kind = "shell"
run = '''"$NM_PSQL" -X -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "select coalesce(string_agg(tablename, ',' order by tablename), '') from pg_tables where schemaname = 'public'" > "$NM_SEEN/$NM_RUN"'''

[pipelines.deploy-seen]
stages = ["create-neon-database-branch", "seen", "migrate", "checks", "delete-neon-database-branch", "apply"]

[apply]
git-branches = [{list}]
lock-wait = "2m"
restore-point-ttl = "1h"
"#
    )
}

/// One run of a fleet: its project, git branch, and the table its migration creates.
struct Member {
    p: Project,
    git_branch: String,
    table: String,
}

struct Fleet {
    base: Project,
    members: Vec<Member>,
    seen: tempfile::TempDir,
}

/// Eight projects (clones of one repository) on one main database, each on its git branch
/// with its migration: `(git branch, version, table)`.
fn fleet(tag: &str, name: &str, runs: &[(&str, usize, String)]) -> Fleet {
    let base = Project::new(tag);
    base.ensure_main();
    let mut unique: Vec<&str> = runs.iter().map(|r| r.0).collect();
    unique.sort();
    unique.dedup();
    let members: Vec<Member> = runs
        .iter()
        .enumerate()
        .map(|(i, (git_branch, version, table))| {
            let p = Project::new(&format!("{tag}_{i}"))
                .config_raw(&fleet_config(base.main_db(), name, &unique))
                .migration(
                    &format!("{version:04}_{table}.sql"),
                    &format!("create table {table} (id bigint primary key);\nselect pg_sleep(0.3);\n"),
                )
                .commit()
                .git_branch(git_branch);
            Member {
                p,
                git_branch: git_branch.to_string(),
                table: table.clone(),
            }
        })
        .collect();
    // The golden template exists and is fresh before the crowd arrives (the first copy of a
    // busy main makes it).
    let held = base.hold_main_connection();
    let mut c = members[0].p.command(&["run", "pre-push"]);
    c.env("NM_RUN", "warm-up");
    let warm = run_command(c, &["run", "pre-push"]);
    base.release(held);
    warm.code(exit::OK);
    Fleet {
        base,
        members,
        seen: tempfile::tempdir().expect("temp dir"),
    }
}

impl Fleet {
    /// Starts `deploy-seen` in every project at once; returns the outputs in order.
    fn deploy_all(&self) -> Vec<Output> {
        let started = Instant::now();
        let psql = cluster().bin.join("psql");
        let children: Vec<Child> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                m.p.command(&["run", "deploy-seen", "--json"])
                    .env("NM_RUN", i.to_string())
                    .env("NM_SEEN", self.seen.path())
                    .env("NM_PSQL", &psql)
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
                let out = Output::recorded(format!("neon-migrate run deploy-seen --json (run {i})"), &out, started.elapsed());
                out
            })
            .collect()
    }

    /// The public tables run `i`'s test copy had before its migration.
    #[track_caller]
    fn seen_by(&self, i: usize) -> String {
        let text = std::fs::read_to_string(self.seen.path().join(i.to_string()))
            .unwrap_or_else(|e| panic!("run {i} recorded no tables of its test copy: {e}"));
        sorted_list(text.trim())
    }

    /// The public tables of database `db`, sorted, comma-separated.
    fn tables(&self, db: &str) -> String {
        let sql = "select coalesce(string_agg(tablename, ',' order by tablename), '') \
                   from pg_tables where schemaname = 'public'";
        let rows = self
            .base
            .block_on(crate::support::query(db, sql))
            .unwrap_or_else(|e| panic!("on {db}: {e}"));
        sorted_list(rows[0][0].as_deref().unwrap_or_default())
    }

    /// Every restore point of main, oldest first (their names carry the time, to the ms),
    /// with its public tables.
    fn restore_points(&self) -> Vec<(String, String)> {
        let mut points: Vec<(String, String)> = self
            .base
            .restore_points()
            .into_iter()
            .map(|f| (f.name, self.tables(&f.database)))
            .collect();
        points.sort();
        points
    }

    /// Asserts that the applies recorded in main's tracking table never overlapped, and
    /// returns their versions in the order they ran.
    #[track_caller]
    fn assert_applies_serialized(&self) -> Vec<String> {
        let rows = self.base.main_sql(
            "select version, extract(epoch from applied_at) * 1000, duration_ms \
             from neon_migrate.schema_migrations order by applied_at",
        );
        let spans: Vec<(String, f64, f64)> = rows
            .iter()
            .map(|r| {
                let n = |k: usize| r[k].as_deref().unwrap_or("0").parse::<f64>().expect("a number");
                let start = n(1);
                (r[0].clone().unwrap_or_default(), start, start + n(2))
            })
            .collect();
        for w in spans.windows(2) {
            assert!(
                w[0].2 <= w[1].1,
                "applies overlapped on main: {} ({}..{}) and {} ({}..{})",
                w[0].0,
                w[0].1,
                w[0].2,
                w[1].0,
                w[1].1,
                w[1].2
            );
        }
        spans.into_iter().map(|s| s.0).collect()
    }
}

/// A comma-separated list, sorted bytewise (whatever the server's collation did).
fn sorted_list(csv: &str) -> String {
    let mut items: Vec<&str> = csv.split(',').filter(|t| !t.is_empty()).collect();
    items.sort_unstable();
    items.join(",")
}

/// Whether a report's stage `name` has a detail line starting with `waited `.
fn waited(report: &Value, name: &str) -> bool {
    stage(report, name)["details"].as_array().is_some_and(|d| {
        d.iter()
            .any(|l| l.as_str().is_some_and(|l| l.starts_with("waited ")))
    })
}

/// Four git branches, each with its own table, deployed eight times at once with test Neon
/// database branches of their own. Whichever apply comes first changes main, so a run that
/// copied main before that must be refused (drift) rather than apply what was proven on a
/// stale copy; whichever passes applied over exactly the schema it proved its migration on
/// (its restore point holds what its test copy had), one at a time, and main ends with the
/// tables of exactly the git branches that passed.
fn reliability_eight_pipelines_at_once_apply_one_at_a_time() {
    let branches = [
        "main", "main", "release", "release", "hotfix/a", "hotfix/b", "main", "release",
    ];
    let mut unique = branches.to_vec();
    unique.sort();
    unique.dedup();
    let runs: Vec<(&str, usize, String)> = branches
        .iter()
        .map(|b| {
            let version = unique.iter().position(|u| u == b).expect("listed") + 1;
            (*b, version, format!("t_{}", b.replace('/', "_")))
        })
        .collect();
    let f = fleet(
        "rel_eight",
        "migrate/eight/{{git.branch}}/{{env.NM_RUN}}",
        &runs,
    );
    let outs = f.deploy_all();
    let mut passed = Vec::new();
    let mut refused = Vec::new();
    for (i, out) in outs.iter().enumerate() {
        let m = &f.members[i];
        let r = out.json();
        assert_eq!(r["git"]["branch"], m.git_branch, "{out}");
        assert_eq!(
            r["neon_database_branch"]["name"],
            format!("migrate/eight/{}/{i}", m.git_branch),
            "{out}"
        );
        assert_eq!(r["neon_database_branch"]["deleted"], true, "{out}");
        let apply = stage(&r, "apply");
        match out.code {
            exit::OK => {
                assert_eq!(r["outcome"], "passed", "{out}");
                assert_eq!(apply["status"], "passed", "{out}");
                let point = r["restore_point"].as_str().expect("a restore point");
                passed.push((i, point.to_owned()));
            }
            exit::APPLY_REFUSED => {
                assert_eq!(r["outcome"], "failed", "{out}");
                assert_eq!(apply["status"], "failed", "{out}");
                assert!(
                    apply["error"]["message"].as_str().is_some_and(|m| m.starts_with(
                        "refusing to apply: the main Neon database branch changed since this run copied it"
                    )),
                    "only drift may refuse an apply here\n{out}"
                );
                assert!(r["restore_point"].is_null(), "{out}");
                refused.push((i, r));
            }
            _ => panic!("run {i} neither passed nor was refused for drift\n{out}"),
        }
    }
    assert!(!passed.is_empty(), "no run passed: the first apply has no drift");
    let order = f.assert_applies_serialized();

    // Every passing report names its own restore point, and they all exist (with their TTL).
    let points = f.restore_points();
    let mut names: Vec<&str> = passed.iter().map(|(_, p)| p.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), passed.len(), "{passed:?}");
    let on_server: Vec<&str> = points.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(on_server, names, "restore points on the server");
    // A passing run applied over exactly what its test copy had: its restore point (main just
    // before its apply) holds the tables its copy held.
    for (i, point) in &passed {
        let (_, tables) = points.iter().find(|(n, _)| n == point).expect("listed");
        assert_eq!(
            tables,
            &f.seen_by(*i),
            "run {i} applied over a main that changed since its test copy ({point})\n{}",
            outs[*i]
        );
    }
    // A refused run names a change another run applied.
    let applied: Vec<&str> = passed.iter().map(|(i, _)| f.members[*i].table.as_str()).collect();
    for (i, r) in &refused {
        let named = stage(r, "apply")["details"].as_array().is_some_and(|d| {
            d.iter().filter_map(Value::as_str).any(|l| {
                l.starts_with("changed on main: ")
                    && applied.iter().any(|t| l.contains(&format!("public.{t}")))
            })
        });
        assert!(named, "run {i}'s refusal names no change of a passing run\n{}", outs[*i]);
    }
    // Main holds the tables of exactly the git branches that passed, each applied once.
    let mut want: Vec<&str> = applied.clone();
    want.sort();
    want.dedup();
    assert_eq!(f.tables(f.base.main_db()), want.join(","), "the tables on main");
    let mut versions = order.clone();
    versions.sort();
    let mut want_versions: Vec<String> = passed
        .iter()
        .map(|(i, _)| format!("{:04}", runs[*i].1))
        .collect();
    want_versions.sort();
    want_versions.dedup();
    assert_eq!(versions, want_versions, "the migrations applied to main");
    f.base.run(&["gc", "--all"]).code(exit::OK);
    f.base.assert_no_test_db_branches();
}

/// The same git branch eight times at once, each run with a migration of its own (eight
/// pushes): they share one test Neon database branch name, so they take turns (the run lock):
/// each run copies main only after the one before it ended, so every run proves its migration
/// on what main then is, passes and applies it (no drift); the applies never overlap, each
/// restore point holds the tables of the runs before it, and nothing is left behind.
fn reliability_eight_pipelines_of_the_same_git_branch_at_once_take_turns_and_all_pass() {
    let runs: Vec<(&str, usize, String)> =
        (0..8).map(|i| ("main", i + 1, format!("t_run_{i}"))).collect();
    let f = fleet("rel_same", "migrate/same/{{git.branch}}", &runs);
    let outs = f.deploy_all();
    let mut waits = 0;
    let mut points = Vec::new();
    for (i, out) in outs.iter().enumerate() {
        out.code(exit::OK);
        let r = out.json();
        assert_eq!(r["outcome"], "passed", "{out}");
        assert_eq!(stage(&r, "apply")["status"], "passed", "{out}");
        assert_eq!(r["neon_database_branch"]["deleted"], true, "{out}");
        if waited(&r, "create-neon-database-branch") {
            waits += 1;
        }
        let point = r["restore_point"].as_str().expect("a restore point");
        points.push((i, point.to_owned()));
    }
    assert!(waits >= 1, "no run reported waiting for another run");
    let order = f.assert_applies_serialized();
    assert_eq!(order.len(), 8, "every run applied once: {order:?}");

    // Each restore point holds what the run's test copy had: the tables of the runs before it.
    let on_server = f.restore_points();
    assert_eq!(on_server.len(), 8, "{on_server:?}");
    let mut before: Vec<String> = Vec::new();
    for (k, (name, tables)) in on_server.iter().enumerate() {
        let (i, _) = points
            .iter()
            .find(|(_, p)| p == name)
            .unwrap_or_else(|| panic!("restore point {name} is no run's"));
        let mut sorted = before.clone();
        sorted.sort();
        assert_eq!(tables, &sorted.join(","), "restore point #{k} {name}");
        assert_eq!(tables, &f.seen_by(*i), "run {i}'s test copy and its restore point");
        assert_eq!(
            order[k],
            format!("{:04}", runs[*i].1),
            "the applies ran in the order of their restore points"
        );
        before.push(f.members[*i].table.clone());
    }
    let mut all: Vec<String> = f.members.iter().map(|m| m.table.clone()).collect();
    all.sort();
    assert_eq!(f.tables(f.base.main_db()), all.join(","), "the tables on main");
    f.base.run(&["gc", "--all"]).code(exit::OK);
    f.base.assert_no_test_db_branches();
}

// ---------------------------------------------------------------------------------------
// The harness's secret scan (run over every output at the end of the suite) finds leaks.

fn reliability_the_suites_secret_scan_finds_keys_passwords_and_unmasked_urls() {
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

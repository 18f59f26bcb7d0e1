//! Isolation of the test copy: runs that share a test Neon database branch name take turns
//! (the run lock), every stage that uses the copy checks it is still this run's (the run id
//! recorded with it), and a server or a copy that goes away under the migration tool is the
//! provider's failure, not the migration's.
//!
//! The runs are held at stage boundaries by `gate.sh`, a shell stage that waits for a file the
//! test creates: every step is an event (a file appears, a session shows up), never a sleep.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::providers::local::cluster;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::reliability::NeonEmu;
use crate::support::{cluster as shared_cluster, query, stage, Output, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        isolation_runs_of_one_test_neon_database_branch_name_take_turns_and_each_proves_its_own_copy,
        isolation_two_deploys_of_one_git_branch_through_the_neon_api_both_pass_and_apply_the_migration_once,
        isolation_two_deploys_of_one_git_branch_on_the_local_provider_both_pass_and_apply_the_migration_once,
        isolation_a_killed_run_releases_the_run_lock_and_the_waiting_run_passes,
        isolation_a_copy_replaced_behind_the_lock_voids_the_checks_and_is_left_to_its_owner,
        isolation_a_copy_replaced_while_the_migration_tool_runs_exits_6_not_5,
        isolation_a_server_stopped_while_the_migration_tool_runs_exits_6_not_5,
    ]
}

/// Generous bound for every wait on an event: only a broken run gets near it.
const WITHIN: Duration = Duration::from_secs(120);

/// `sh gate.sh NAME`: when `$NM_DIR/$NM_RUN.NAME.hold` exists, creates `….NAME.at` and waits
/// for `….NAME.go`; otherwise passes at once. A test that fails removes `$NM_DIR`: the gate
/// then fails, and the run ends on its own.
const GATE: &str = r#"[ -e "$NM_DIR/$NM_RUN.$1.hold" ] || exit 0
touch "$NM_DIR/$NM_RUN.$1.at"
while [ ! -e "$NM_DIR/$NM_RUN.$1.go" ]; do
  [ -d "$NM_DIR" ] || exit 1
  sleep 0.02
done
"#;

/// The `gated` pipeline: `deploy` with a gate after create and one after migrate.
const GATED: &str = r#"
[stages.gate-created]
kind = "shell"
run = "sh gate.sh created"

[stages.gate-migrated]
kind = "shell"
run = "sh gate.sh migrated"

[pipelines.gated]
stages = ["create-neon-database-branch", "gate-created", "migrate", "gate-migrated", "checks", "delete-neon-database-branch", "apply"]
"#;

/// 1000 customers on main; the migration deletes every tenth (its data check fails alone).
const CUSTOMERS: &str = "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL); \
     INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g";
const DEDUPE: &str = "delete from customers where id % 10 = 0;\n";

/// A counter made by 0001 and bumped by 0002: applied twice, it would say 2.
const COUNTER: &str = "create table counter (n int not null);\ninsert into counter values (0);\n";
const BUMP: &str = "update counter set n = n + 1;\n";

/// The gate files of one test.
struct Gates(tempfile::TempDir);

impl Gates {
    fn new() -> Gates {
        Gates(
            tempfile::Builder::new()
                .prefix("nm-it-gates-")
                .tempdir()
                .expect("temp dir"),
        )
    }
    fn dir(&self) -> &Path {
        self.0.path()
    }
    fn file(&self, run: &str, gate: &str, what: &str) -> PathBuf {
        self.dir().join(format!("{run}.{gate}.{what}"))
    }
    fn hold(&self, run: &str, gate: &str) {
        std::fs::write(self.file(run, gate, "hold"), "").expect("hold");
    }
    fn go(&self, run: &str, gate: &str) {
        std::fs::write(self.file(run, gate, "go"), "").expect("go");
    }
    fn at(&self, run: &str, gate: &str) -> bool {
        self.file(run, gate, "at").exists()
    }
}

/// Polls `done` until it returns `Some`, at most [`WITHIN`].
#[track_caller]
fn wait_for<T>(what: &str, mut done: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WITHIN;
    loop {
        if let Some(t) = done() {
            return t;
        }
        assert!(Instant::now() < deadline, "waited {WITHIN:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until run `run` (process `child`) is at gate `gate`; a run that ends first fails the
/// test with its output.
#[track_caller]
fn wait_at(child: &mut Child, gates: &Gates, run: &str, gate: &str) {
    let deadline = Instant::now() + WITHIN;
    while !gates.at(run, gate) {
        if let Ok(Some(status)) = child.try_wait() {
            let mut out = String::new();
            if let Some(mut s) = child.stdout.take() {
                let _ = std::io::Read::read_to_string(&mut s, &mut out);
            }
            if let Some(mut s) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut s, &mut out);
            }
            panic!("run {run} ended ({status}) before its `{gate}` gate:\n{out}");
        }
        assert!(
            Instant::now() < deadline,
            "waited {WITHIN:?} for run {run} at its `{gate}` gate"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(mut c: Command, run: &str, gates: &Gates) -> Child {
    c.env("NM_RUN", run)
        .env("NM_DIR", gates.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn neon-migrate")
}

/// The second run of a migration found it applied, on its copy and on main.
#[track_caller]
fn assert_nothing_pending(report: &Value, out: &Output) {
    for s in ["migrate", "apply"] {
        assert!(
            stage(report, s)["summary"]
                .as_str()
                .is_some_and(|t| t.ends_with("is up to date")),
            "run b finds nothing pending in `{s}`\n{out}"
        );
    }
}

fn finish(child: Child, what: &str, started: Instant) -> Output {
    let out = child.wait_with_output().expect("wait");
    let out = Output::recorded(format!("neon-migrate run ({what})"), &out, started.elapsed());
    out
}

/// Sessions of the run lock of `gated` runs on `git_branch` (their `application_name`), on
/// the shared cluster: one holds it, any other waits for it.
fn run_lock_sessions(p: &Project, git_branch: &str) -> usize {
    let sql = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE {}",
        pg::literal(&format!("neon-migrate run gated {git_branch}@%"))
    );
    let rows = p
        .block_on(query("postgres", &sql))
        .expect("pg_stat_activity");
    rows[0][0].as_deref().unwrap_or("0").parse().unwrap_or(0)
}

/// Starts run `b` while run `a` is held at its `migrated` gate, and waits for the event that
/// tells the fix from the bug: `b` waiting on the run lock (two lock sessions) or `b` having
/// made its copy anyway (it reached its `created` gate, or got past it when it has no hold).
#[track_caller]
fn start_second_while_first_is_held(
    p: &Project,
    gates: &Gates,
    git_branch: &str,
    command: impl Fn() -> Command,
) -> (Child, Child, Instant) {
    let started = Instant::now();
    gates.hold("a", "migrated");
    gates.hold("b", "created");
    let mut a = spawn(command(), "a", gates);
    wait_at(&mut a, gates, "a", "migrated");
    let b = spawn(command(), "b", gates);
    let waiting = wait_for("run b to wait for the run lock or to make its copy", || {
        if gates.at("b", "created") {
            Some(false)
        } else if run_lock_sessions(p, git_branch) >= 2 {
            Some(true)
        } else {
            None
        }
    });
    assert!(
        waiting && !gates.at("b", "created"),
        "run b made its test Neon database branch while run a of the same name was still using its own"
    );
    (a, b, started)
}

fn details(report: &Value, name: &str) -> String {
    stage(report, name)["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn error_text(report: &Value) -> String {
    let mut text = String::new();
    for s in report["stages"].as_array().into_iter().flatten() {
        for k in ["message", "help"] {
            text.push_str(s["error"][k].as_str().unwrap_or_default());
            text.push('\n');
        }
    }
    text
}

fn customers_on_main(p: &Project) -> String {
    p.main_sql("SELECT count(*) FROM customers")[0][0]
        .clone()
        .unwrap_or_default()
}

/// The project of the issue: 1000 customers on main, a migration that deletes 10 % of them,
/// the `gated` pipeline, apply allowed from `git_branch`.
fn customers_project(tag: &str, git_branch: &str) -> Project {
    let p = Project::new(tag)
        .config(&format!(
            "[neon-database-branch]\nttl = \"1h\"\n\n[apply]\ngit-branches = [\"{git_branch}\"]\nrestore-point-ttl = \"1h\"\n{GATED}"
        ))
        .file("gate.sh", GATE)
        .migration("0002_dedupe_customers.sql", DEDUPE)
        .commit()
        .git_branch(git_branch);
    p.main_sql(CUSTOMERS);
    p
}

/// Two runs of one git branch, the second started while the first sits between migrate and
/// checks: the second waits for the run lock, the first checks its own copy (and fails: the
/// migration loses rows), then the second copies main as the first left it and fails the
/// same check. Main is never migrated. Before the fix the second replaced the first's copy,
/// the first's checks passed on it, and the first applied the migration.
fn isolation_runs_of_one_test_neon_database_branch_name_take_turns_and_each_proves_its_own_copy() {
    let git_branch = "iso/same-name";
    let p = customers_project("iso_same_local", git_branch);
    let gates = Gates::new();
    let (a, mut b, started) = start_second_while_first_is_held(&p, &gates, git_branch, || {
        p.command(&["run", "gated", "--json"])
    });
    gates.go("a", "migrated");
    let a = finish(a, "run a", started);
    // Run b copies main only now, after run a ended.
    wait_at(&mut b, &gates, "b", "created");
    gates.go("b", "created");
    let b = finish(b, "run b", started);

    for (out, who) in [(&a, "a"), (&b, "b")] {
        out.code(exit::CHECK_FAILED);
        let r = out.json();
        assert_eq!(stage(&r, "checks")["status"], "failed", "run {who}\n{out}");
        assert!(
            error_text(&r).contains("data"),
            "run {who}: the data check failed\n{out}"
        );
        assert_eq!(stage(&r, "apply")["status"], "skipped", "run {who}\n{out}");
        assert_eq!(
            r["neon_database_branch"]["deleted"], true,
            "run {who}\n{out}"
        );
    }
    let rb = b.json();
    assert!(
        details(&rb, "create-neon-database-branch").contains("waited"),
        "run b says it waited for run a\n{b}"
    );
    assert_eq!(customers_on_main(&p), "1000", "main is untouched");
    p.assert_no_test_db_branches();
    assert!(p.restore_points().is_empty(), "nothing was applied");
}

/// The same through the Neon API emulator, with a good migration: both deploys pass, the
/// second proves against the main Neon database branch as the first left it (nothing
/// pending) and says so; the migration ran on main exactly once.
fn isolation_two_deploys_of_one_git_branch_through_the_neon_api_both_pass_and_apply_the_migration_once() {
    let git_branch = "iso/same-neon";
    let p = Project::new("iso_same_neon");
    let neon = NeonEmu::start("iso_same_neon", p.main_db());
    let p = p
        .config_raw(&neon.toml(&format!(
            "\n[neon-database-branch]\nttl = \"1h\"\n\n[apply]\ngit-branches = [\"{git_branch}\"]\nrestore-point-ttl = \"1h\"\n{GATED}"
        )))
        .file("gate.sh", GATE)
        .migration("0001_counter.sql", COUNTER)
        .migration("0002_bump.sql", BUMP)
        .commit()
        .git_branch(git_branch);
    let gates = Gates::new();
    // The run lock sessions are on the main Neon database branch (the emulator's backing
    // database on the shared cluster), where `run_lock_sessions` looks.
    let (a, b, started) = start_second_while_first_is_held(&p, &gates, git_branch, || {
        neon.command(&p, &["run", "gated", "--json"])
    });
    gates.go("a", "migrated");
    gates.go("b", "created");
    let a = finish(a, "run a", started);
    let b = finish(b, "run b", started);
    neon.assert_no_secret(&a);
    neon.assert_no_secret(&b);
    neon.wait_idle();

    a.code(exit::OK);
    b.code(exit::OK);
    let (ra, rb) = (a.json(), b.json());
    assert_eq!(
        stage(&ra, "migrate")["summary"],
        "applied 2 migration(s) with `sql`",
        "{a}"
    );
    assert!(
        details(&rb, "create-neon-database-branch").contains("waited"),
        "{b}"
    );
    assert_nothing_pending(&rb, &b);
    assert_eq!(
        neon.main_sql("SELECT n FROM counter")[0][0].as_deref(),
        Some("1"),
        "the migration ran on main exactly once"
    );
    assert_eq!(
        neon.main_sql("SELECT count(*) FROM neon_migrate.schema_migrations")[0][0].as_deref(),
        Some("2")
    );
    let left: Vec<String> = neon
        .names()
        .into_iter()
        .filter(|n| n.starts_with("migrate/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    neon.assert_every_db_branch_has_a_ttl(&b);
}

/// The counter project on the local provider, with the `gated` pipeline.
fn counter_project(tag: &str, git_branch: &str) -> Project {
    let p = Project::new(tag)
        .config(&format!(
            "[neon-database-branch]\nttl = \"1h\"\n\n[apply]\ngit-branches = [\"{git_branch}\"]\nrestore-point-ttl = \"1h\"\n{GATED}"
        ))
        .file("gate.sh", GATE)
        .migration("0001_counter.sql", COUNTER)
        .migration("0002_bump.sql", BUMP)
        .commit()
        .git_branch(git_branch);
    p.ensure_main();
    p
}

/// Two deploys of a good migration at once on the local provider: both pass, the second
/// finds nothing pending, the migration ran on main once.
fn isolation_two_deploys_of_one_git_branch_on_the_local_provider_both_pass_and_apply_the_migration_once() {
    let git_branch = "iso/same-good";
    let p = counter_project("iso_same_good", git_branch);
    let gates = Gates::new();
    let (a, b, started) = start_second_while_first_is_held(&p, &gates, git_branch, || {
        p.command(&["run", "gated", "--json"])
    });
    gates.go("a", "migrated");
    gates.go("b", "created");
    let a = finish(a, "run a", started);
    let b = finish(b, "run b", started);
    a.code(exit::OK);
    b.code(exit::OK);
    let rb = b.json();
    assert!(
        details(&rb, "create-neon-database-branch").contains("waited"),
        "{b}"
    );
    assert_nothing_pending(&rb, &b);
    assert_eq!(
        p.main_sql("SELECT n FROM counter")[0][0].as_deref(),
        Some("1"),
        "the migration ran on main exactly once"
    );
    p.assert_no_test_db_branches();
    p.run(&["gc", "--all"]).code(exit::OK);
}

/// The holder of the run lock is killed: its session ends, the lock with it, and the waiting
/// run replaces the killed run's leftover and passes.
fn isolation_a_killed_run_releases_the_run_lock_and_the_waiting_run_passes() {
    let git_branch = "iso/killed";
    let p = counter_project("iso_killed", git_branch);
    let gates = Gates::new();
    let (a, mut b, started) = start_second_while_first_is_held(&p, &gates, git_branch, || {
        p.command(&["run", "gated", "--json"])
    });
    kill(Pid::from_raw(a.id() as i32), Signal::SIGKILL).expect("kill run a");
    let a = finish(a, "run a, killed", started);
    assert_eq!(a.code, -1, "run a was killed\n{a}");
    // Its gate script is an orphan now: let it end.
    gates.go("a", "migrated");
    wait_at(&mut b, &gates, "b", "created");
    gates.go("b", "created");
    let b = finish(b, "run b", started);
    b.code(exit::OK);
    let rb = b.json();
    assert!(
        details(&rb, "create-neon-database-branch").contains("waited"),
        "{b}"
    );
    assert_eq!(
        p.main_sql("SELECT n FROM counter")[0][0].as_deref(),
        Some("1")
    );
    p.assert_no_test_db_branches();
    p.run(&["gc", "--all"]).code(exit::OK);
}

/// Runs `c` as run `a`, held at `gate` while its copy `db` is replaced by another run's;
/// returns what the run did.
fn run_replacing_copy_at(p: &Project, c: Command, gate: &str, db: &str) -> Output {
    let gates = Gates::new();
    gates.hold("a", gate);
    let started = Instant::now();
    let mut a = spawn(c, "a", &gates);
    wait_at(&mut a, &gates, "a", gate);
    replace_copy(p, db);
    gates.go("a", gate);
    finish(a, "run a", started)
}

/// Replaces test Neon database branch `db` (local provider) by a copy of main that another run
/// made: what something outside the run lock (an older neon-migrate, `gc --all` and a rerun, a
/// hand) does.
fn replace_copy(p: &Project, db: &str) {
    let now = chrono::Utc::now();
    // `neon_migrate` first: that is how the provider (and `gc`) find their databases.
    let meta = format!(
        r#"{{"neon_migrate":1,"name":"{db}","parent":"{}","created_at":"{}","expires_at":"{}","git_branch":"someone/else","git_sha":"","pipeline":"pre-push","run":"another-run-0000"}}"#,
        p.main_db(),
        now.to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339()
    );
    p.block_on(async {
        for sql in [
            format!("DROP DATABASE {} WITH (FORCE)", pg::ident(db)),
            format!(
                "CREATE DATABASE {} TEMPLATE {}",
                pg::ident(db),
                pg::ident(p.main_db())
            ),
            format!(
                "COMMENT ON DATABASE {} IS {}",
                pg::ident(db),
                pg::literal(&meta)
            ),
        ] {
            query("postgres", &sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    });
}

/// The copy is replaced behind the lock while the run sits between migrate and checks: the
/// checks refuse to judge a copy that is not this run's (exit 6, naming who replaced it), the
/// delete stage leaves it to its owner, and main is untouched. Before the fix the checks
/// passed on the fresh copy and the migration that loses rows was applied.
fn isolation_a_copy_replaced_behind_the_lock_voids_the_checks_and_is_left_to_its_owner() {
    let git_branch = "iso/replaced";
    let p = customers_project("iso_replaced", git_branch);
    let db = "migrate/iso/replaced";
    let a = run_replacing_copy_at(&p, p.command(&["run", "gated", "--json"]), "migrated", db);

    a.code(exit::PROVIDER);
    let r = a.json();
    assert_eq!(stage(&r, "checks")["status"], "failed", "{a}");
    let text = error_text(&r);
    for needle in [
        "is no longer this run's before the checks",
        "run another-run-0000 of git branch `someone/else`",
        "not deleting the test Neon database branch migrate/iso/replaced",
    ] {
        assert!(text.contains(needle), "{needle:?}\n{a}");
    }
    assert_eq!(stage(&r, "apply")["status"], "skipped", "{a}");
    assert_eq!(customers_on_main(&p), "1000", "main is untouched");
    // The other run's copy is still there, untouched.
    let left = p.test_db_branches();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].database, db);
    let n = p
        .block_on(query(db, "SELECT count(*) FROM customers"))
        .expect("count");
    assert_eq!(n[0][0].as_deref(), Some("1000"));
    p.run(&["gc", "--all"]).code(exit::OK);
    p.assert_no_test_db_branches();
}

/// A tool that keeps one session open (psql) across a gate, then runs the migration on it.
fn held_tool(git_branch: &str) -> String {
    format!(
        r#"[neon-database-branch]
ttl = "1h"

[tool]
name = "held-psql"
command = '"$NM_PSQL" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "select 1" -c "\! sh gate.sh tool" -c "delete from customers where id % 10 = 0"'

[apply]
git-branches = ["{git_branch}"]
"#
    )
}

fn psql() -> PathBuf {
    shared_cluster().bin.join("psql")
}

/// The copy is replaced while the tool has a session on it: the tool fails (its session was
/// ended), and the run says the copy was replaced — exit 6, not the migration's exit 5.
fn isolation_a_copy_replaced_while_the_migration_tool_runs_exits_6_not_5() {
    let git_branch = "iso/replaced-tool";
    let p = Project::new("iso_replaced_tool")
        .config(&held_tool(git_branch))
        .file("gate.sh", GATE)
        .commit()
        .git_branch(git_branch);
    p.main_sql(CUSTOMERS);
    let mut c = p.command(&["run", "deploy", "--json"]);
    c.env("NM_PSQL", psql());
    let db = "migrate/iso/replaced-tool";
    let a = run_replacing_copy_at(&p, c, "tool", db);

    a.code(exit::PROVIDER);
    let r = a.json();
    assert_eq!(stage(&r, "migrate")["status"], "failed", "{a}");
    let text = error_text(&r);
    assert!(
        text.contains("is no longer this run's after the migration tool ran: it was replaced by run another-run-0000"),
        "{a}"
    );
    assert!(
        !text.contains("failed"),
        "nothing blames the migration\n{a}"
    );
    assert_eq!(customers_on_main(&p), "1000");
    p.run(&["gc", "--all"]).code(exit::OK);
    p.assert_no_test_db_branches();
}

/// A server of its own for one test; stopped and removed when dropped.
struct OwnCluster(PathBuf);

impl OwnCluster {
    fn start(suffix: &str) -> (OwnCluster, cluster::Cluster) {
        let dir = PathBuf::from(format!("{}-{suffix}", shared_cluster().dir.display()));
        if dir.exists() {
            if let Ok(left) = cluster::ensure(Some(&dir)) {
                let _ = cluster::stop(&left);
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).expect("create the cluster folder");
        let c = cluster::ensure(Some(&dir))
            .unwrap_or_else(|e| panic!("cannot start a cluster in {}: {}", dir.display(), e));
        crate::support::note_secret(c.password());
        (OwnCluster(dir), c)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Ok(c) = cluster::ensure(Some(&self.0)) {
            let _ = cluster::stop(&c);
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Postgres server stops while the tool has a session open: the run says the server
/// stopped answering — exit 6, not the migration's exit 5 — and keeps the copy's TTL.
fn isolation_a_server_stopped_while_the_migration_tool_runs_exits_6_not_5() {
    let (own, c) = OwnCluster::start("isolation-stopped");
    let git_branch = "iso/stopped";
    let p = Project::new("iso_stopped")
        .with_cluster_dir(&own.0)
        .config(&held_tool(git_branch))
        .file("gate.sh", GATE)
        .commit()
        .git_branch(git_branch);
    let gates = Gates::new();
    gates.hold("a", "tool");
    let started = Instant::now();
    let mut cmd = p.command(&["run", "deploy", "--json"]);
    cmd.env("NM_PSQL", psql());
    let mut a = spawn(cmd, "a", &gates);
    wait_at(&mut a, &gates, "a", "tool");
    cluster::stop(&c).unwrap_or_else(|e| panic!("cannot stop the server: {}", e));
    gates.go("a", "tool");
    let a = finish(a, "run a", started);

    a.code(exit::PROVIDER);
    let r = a.json();
    let m = stage(&r, "migrate");
    assert_eq!(m["status"], "failed", "{a}");
    let message = m["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "the Postgres server of the test Neon database branch migrate/iso/stopped stopped answering while `held-psql` ran:"
        ),
        "{a}"
    );
    assert!(
        m["error"]["help"]
            .as_str()
            .is_some_and(|h| h.contains("the migration is not to blame")),
        "{a}"
    );
    assert_eq!(stage(&r, "apply")["status"], "skipped", "{a}");
    // The server comes back with the next command; the copy is found and deleted.
    let gc = p.run(&["gc", "--all"]);
    gc.code(exit::OK);
    assert!(gc.stdout.contains("migrate/iso/stopped"), "{gc}");
    drop(own);
}

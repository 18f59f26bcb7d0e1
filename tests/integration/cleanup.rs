//! Cleaning up after killed runs: `gc` deletes expired test Neon database branches (and,
//! with `--all`, every one of the project's), and every `run` reaps expired leftovers first.

use std::time::Duration;

use neon_migrate::exit;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::support::{children_of, Found, Project};

pub const TESTS: &[(&str, fn())] = &[
    (
        "gc_deletes_expired_test_neon_database_branches_and_all_deletes_the_rest",
        gc,
    ),
    (
        "run_reaps_expired_test_neon_database_branches_of_killed_runs",
        run_reaps,
    ),
];

/// A pipeline that stops in a long shell stage after migrating, so a run can be killed while
/// its test Neon database branch exists.
fn slow_config(ttl: &str) -> String {
    format!(
        r#"
[neon-database-branch]
ttl = "{ttl}"

[stages.wait]
kind = "shell"
run = "sleep 30"

[pipelines.slow]
stages = ["create-neon-database-branch", "migrate", "wait", "delete-neon-database-branch"]
"#
    )
}

/// Starts `run slow`, waits until its test Neon database branch `name` exists and the `wait`
/// stage is running, then SIGKILLs neon-migrate (no cleanup can run) and its `sleep`.
fn run_and_kill(p: &Project, name: &str) -> Found {
    let mut child = p.spawn(&["run", "slow"]);
    let found = p.wait_for_test_db_branch(name, Duration::from_secs(30));
    let pid = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let sleeper = loop {
        if let Some((pid, _)) = children_of(pid)
            .into_iter()
            .find(|(_, cmd)| cmd.contains("sleep"))
        {
            break pid;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("neon-migrate ended ({status}) before its `wait` stage started");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the `wait` stage did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).expect("SIGKILL neon-migrate");
    let _ = child.wait();
    // The stage runs in its own process group; neon-migrate can no longer end it.
    let _ = killpg(Pid::from_raw(sleeper as i32), Signal::SIGKILL);
    found
}

/// Waits until `f` has expired (by the clock of this machine, which the server shares).
fn wait_expired(f: &Found) {
    let now = chrono::Utc::now();
    if f.expires_at > now {
        let left = (f.expires_at - now).to_std().unwrap_or_default();
        std::thread::sleep(left + Duration::from_millis(50));
    }
}

fn gc() {
    let p = Project::new("gc")
        .config(&slow_config("1h"))
        .migration("0001_init.sql", "create table t (id int);\n")
        .commit()
        .git_branch("gc/keep");
    let keep = run_and_kill(&p, "migrate/gc/keep");
    let p = p.config(&slow_config("2s")).git_branch("gc/expire");
    let expire = run_and_kill(&p, "migrate/gc/expire");
    assert!(
        keep.expires_at - expire.expires_at > chrono::Duration::minutes(50),
        "{keep:?} {expire:?}"
    );

    // Another project on the same server, not expired: not this project's to delete.
    let other = Project::new("gc_other")
        .config(&slow_config("1h"))
        .migration("0001_init.sql", "create table t (id int);\n")
        .commit()
        .git_branch("gc/other-project");
    let theirs = run_and_kill(&other, "migrate/gc/other-project");

    wait_expired(&expire);
    let names = |p: &Project| {
        p.test_db_branches()
            .into_iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
    };

    let out = p.run(&["gc", "--dry-run"]);
    out.code(exit::OK)
        .stdout_has("would delete migrate/gc/expire (git branch gc/expire, expires ")
        .stdout_lacks("migrate/gc/keep")
        .stdout_has("1 test Neon database branch(es) to delete; 1 not expired kept");
    assert_eq!(
        names(&p),
        ["migrate/gc/expire", "migrate/gc/keep"],
        "--dry-run deletes nothing"
    );

    let out = p.run(&["gc"]);
    out.code(exit::OK)
        .stdout_has("deleted migrate/gc/expire (git branch gc/expire, expires ")
        .stdout_has(", expired)")
        .stdout_lacks("migrate/gc/keep")
        .stdout_has("1 test Neon database branch(es) deleted; 1 not expired kept");
    assert_eq!(
        names(&p),
        ["migrate/gc/keep"],
        "gc deletes the expired one only\n{out}"
    );
    assert!(!p.block_on(crate::support::database_exists(&expire.database)));

    let out = p.run(&["gc", "--all"]);
    out.code(exit::OK)
        .stdout_has("deleted migrate/gc/keep (git branch gc/keep, expires ")
        .stdout_has(", --all)")
        .stdout_lacks("gc/other-project");
    p.assert_no_test_db_branches();
    assert!(!p.block_on(crate::support::database_exists(&keep.database)));
    assert_eq!(
        names(&other),
        ["migrate/gc/other-project"],
        "gc --all reached into another project\n{out}"
    );

    other
        .run(&["gc", "--all"])
        .code(exit::OK)
        .stdout_has("deleted migrate/gc/other-project");
    other.assert_no_test_db_branches();
    assert!(!other.block_on(crate::support::database_exists(&theirs.database)));
}

fn run_reaps() {
    let p = Project::new("run_reaps")
        .config(&slow_config("2s"))
        .migration("0001_init.sql", "create table t (id int);\n")
        .commit()
        .git_branch("reap/killed");
    let killed = run_and_kill(&p, "migrate/reap/killed");
    wait_expired(&killed);

    let p = p.git_branch("reap/next");
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::OK);
    let report = out.json();
    assert_eq!(
        report["reaped"],
        serde_json::json!(["migrate/reap/killed"]),
        "{report:#}"
    );
    assert_eq!(report["neon_database_branch"]["name"], "migrate/reap/next");
    p.assert_no_test_db_branches();
    assert!(!p.block_on(crate::support::database_exists(&killed.database)));
}

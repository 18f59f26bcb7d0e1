//! Cleaning up after killed runs: `gc` deletes expired test Neon database branches (and,
//! with `--all`, every one of the project's), and every `run` reaps expired leftovers first.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use neon_migrate::exit;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::support::{children_of, Found, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        gc_deletes_expired_test_neon_database_branches_and_all_deletes_the_rest,
        run_reaps_expired_test_neon_database_branches_of_killed_runs,
        sigterm_stops_the_stage_and_still_deletes_the_test_neon_database_branch,
        reaper_never_drops_the_main_database_whose_comment_a_migration_forged_as_expired,
        gc_all_finds_a_test_copy_whose_migration_rewrote_its_comment_by_its_role,
    ]
}

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

/// Starts `run slow` and waits until its test Neon database branch `name` exists and the
/// `wait` stage is running; returns the process, what the cluster records, and the pid of
/// the stage's `sleep`.
fn start_slow(p: &Project, name: &str) -> (Child, Found, u32) {
    let mut child = p
        .command(&["run", "slow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn neon-migrate");
    let found = p.wait_for_test_db_branch(name, Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let children = children_of(child.id());
        if let Some((sleeper, _)) = children.into_iter().find(|(_, cmd)| cmd.contains("sleep")) {
            return (child, found, sleeper);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("neon-migrate ended ({status}) before its `wait` stage started");
        }
        assert!(Instant::now() < deadline, "the `wait` stage did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `run slow` and SIGKILLs neon-migrate in its `wait` stage (no cleanup can run), then
/// its orphaned `sleep`.
fn run_and_kill(p: &Project, name: &str) -> Found {
    let (mut child, found, sleeper) = start_slow(p, name);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("SIGKILL neon-migrate");
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

fn gc_deletes_expired_test_neon_database_branches_and_all_deletes_the_rest() {
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

fn run_reaps_expired_test_neon_database_branches_of_killed_runs() {
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

fn sigterm_stops_the_stage_and_still_deletes_the_test_neon_database_branch() {
    let p = Project::new("sigterm")
        .config(&slow_config("1h"))
        .migration("0001_init.sql", "create table t (id int);\n")
        .commit()
        .git_branch("feature/interrupted");
    let (child, found, sleeper) = start_slow(&p, "migrate/feature/interrupted");
    let started = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM neon-migrate");
    let out = child.wait_with_output().expect("wait for neon-migrate");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The suite's secret scan reads this run too.
    crate::support::record_output("neon-migrate run slow (SIGTERM)", &stdout);
    crate::support::record_output("neon-migrate run slow (SIGTERM)", &stderr);
    let context = format!("{stdout}\n--- stderr ---\n{stderr}");
    // neon-migrate SIGKILLed the stage's process group when the signal came, before its
    // cleanup; a killed process stays in /proc as a zombie until its new parent reaps it
    // (neon-migrate may exit first), so only a process that still runs counts. The bound
    // only absorbs a loaded machine: the `sleep` would run 30 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while crate::reliability::alive(sleeper) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let sleeping = crate::reliability::alive(sleeper);
    if sleeping {
        let _ = killpg(Pid::from_raw(sleeper as i32), Signal::SIGKILL);
    }

    assert_eq!(out.status.code(), Some(exit::INTERRUPTED), "{context}");
    // Generous for a loaded machine, and still short of the stage's 30 s `sleep`: an
    // interrupt that waited for the stage is caught.
    assert!(
        took < Duration::from_secs(20),
        "the interrupt took {took:?}\n{context}"
    );
    assert!(stdout.contains("INTERRUPTED in "), "{context}");
    let delete = stdout
        .lines()
        .find(|l| l.contains("delete-neon-database-branch"))
        .unwrap_or_default();
    assert!(
        delete.trim_start().starts_with("✓"),
        "cleanup must run after an interrupt\n{context}"
    );
    assert!(
        stdout.contains("The test Neon database branch migrate/feature/interrupted was deleted."),
        "{context}"
    );
    assert!(
        !sleeping,
        "the interrupted stage's `sleep` (pid {sleeper}) is still running"
    );
    p.assert_no_test_db_branches();
    assert!(!p.block_on(crate::support::database_exists(&found.database)));
}

/// A migration statement that writes neon-migrate's metadata as the comment of the
/// database it runs on, when `condition` holds there (SQL on `current_database()`).
fn forge_comment(condition: &str, name: &str, parent: &str, expires: &str) -> String {
    // In the order neon-migrate writes it (`{"neon_migrate":1,…`).
    let meta = format!(
        "{{\"neon_migrate\":1,\"name\":{},\"parent\":{},\"created_at\":\"2020-01-01T00:00:00Z\",\
         \"expires_at\":\"{expires}\",\"git_branch\":\"forged\",\"git_sha\":\"\",\
         \"pipeline\":\"pre-push\",\"run\":\"forged-run\"}}",
        serde_json::Value::from(name),
        serde_json::Value::from(parent)
    );
    format!(
        "DO $$ BEGIN IF {condition} THEN EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), {}); END IF; END $$;\n",
        neon_migrate::pg::literal(&meta)
    )
}

/// `apply` runs the migration on main as the server's role: it may write main's comment,
/// claiming main is an expired test Neon database branch (named like main itself). The next
/// run's reaper must not believe it.
fn reaper_never_drops_the_main_database_whose_comment_a_migration_forged_as_expired() {
    let tag = "reap_forged_main";
    let p = Project::new(tag);
    let main = p.main_db().to_owned();
    let on_main = format!("current_database() = {}", neon_migrate::pg::literal(&main));
    let git_branch = format!("{tag}/x");
    let p = p
        .config(&format!(
            "[apply]\nrestore-point = false\ngit-branches = [\"{git_branch}\"]\n"
        ))
        .migration("0001_init.sql", "create table t (id int);\n")
        .migration(
            "0002_forge.sql",
            &forge_comment(&on_main, &main, &main, "2020-01-01T00:00:01Z"),
        )
        .commit()
        .git_branch(&git_branch);
    p.run(&["run", "deploy", "--json"]).code(exit::OK);
    let comment = p.block_on(crate::support::query(
        "postgres",
        &format!(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = {}",
            neon_migrate::pg::literal(&main)
        ),
    ));
    assert!(
        format!("{comment:?}").contains("forged-run"),
        "the migration did not forge main's comment: {comment:?}"
    );

    let p = p.git_branch(&format!("{tag}/next"));
    let out = p.run(&["run", "pre-push", "--json"]);
    assert!(
        p.block_on(crate::support::database_exists(&main)),
        "the reaper dropped the main database\n{out}"
    );
    out.code(exit::OK);
    assert_eq!(out.json()["reaped"], serde_json::json!([]), "{out}");
    p.run(&["gc", "--all"]).code(exit::OK).stdout_lacks(&main);
    assert!(p.block_on(crate::support::database_exists(&main)));
    assert!(p.main_has("t"));
    // The forged comment would make the suite's own end-of-run scan count main as a leftover
    // test Neon database branch.
    p.block_on(crate::support::query(
        "postgres",
        &format!(
            "COMMENT ON DATABASE {} IS NULL",
            neon_migrate::pg::ident(&main)
        ),
    ))
    .expect("clear the forged comment");
}

/// A migration on the test copy (its owner) rewrites the copy's comment: another run,
/// another main database, expiring in 2099. The run fails; `gc --all` still finds the copy by
/// the role it was handed to, and deletes it with that role.
fn gc_all_finds_a_test_copy_whose_migration_rewrote_its_comment_by_its_role() {
    let tag = "gc_rewritten_copy";
    let p = Project::new(tag);
    let main = p.main_db().to_owned();
    let not_main = format!("current_database() <> {}", neon_migrate::pg::literal(&main));
    // Unique per run: a copy left by an earlier run of the suite must not be in the way.
    let git_branch = format!("{tag}/{}", &main[main.len().saturating_sub(12)..]);
    let name = format!("migrate/{git_branch}");
    // A run now knows its copy by the record its role keeps and deletes it: one killed after
    // the migration leaves it behind.
    let p = p
        .config(
            "[stages.die]\nkind = \"shell\"\nrun = \"kill -KILL $PPID\"\n\n\
             [pipelines.keep]\nstages = [\"create-neon-database-branch\", \"migrate\", \"die\", \"delete-neon-database-branch\"]\n",
        )
        .migration("0001_init.sql", "create table t (id int);\n")
        .migration(
            "0002_forge.sql",
            &forge_comment(
                &not_main,
                &name,
                "someone_elses_main",
                "2099-01-01T00:00:00Z",
            ),
        )
        .commit()
        .git_branch(&git_branch);
    let out = p.run(&["run", "keep", "--json"]);
    let owner = |db: &str| {
        p.block_on(crate::support::query(
            "postgres",
            &format!(
                "SELECT r.rolname::text FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba \
                 WHERE d.datname = {}",
                neon_migrate::pg::literal(db)
            ),
        ))
        .expect("owner")
    };
    let role = match owner(&name).as_slice() {
        [row] => row[0].clone().expect("owner name"),
        rows => panic!("the copy `{name}` is not left behind as in the repro: {rows:?}\n{out}"),
    };
    assert!(role.starts_with("neon_migrate_copy_"), "{role}");

    let run = out;
    let out = p.run(&["gc", "--all"]);
    out.code(exit::OK);
    assert!(
        !p.block_on(crate::support::database_exists(&name)),
        "gc --all did not find the copy whose comment was rewritten\n{out}\n{run}"
    );
    let roles = p
        .block_on(crate::support::query(
            "postgres",
            &format!(
                "SELECT rolname::text FROM pg_roles WHERE rolname IN ({}, {})",
                neon_migrate::pg::literal(&role),
                neon_migrate::pg::literal(&name)
            ),
        ))
        .expect("roles");
    assert!(
        roles.is_empty(),
        "the copy's roles are left: {roles:?}\n{out}"
    );
    assert!(p.block_on(crate::support::database_exists(&main)));
}

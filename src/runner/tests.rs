//! The runner's guarantees, on real processes.

use super::*;

/// Whether process `pid` has ended (gone, or a zombie waiting to be reaped), waiting up
/// to a generous bound for the kill to land.
fn ended(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let gone = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        };
        if gone || Instant::now() > deadline {
            return gone;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pid_in(path: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// argv with spaces, a working folder, a set and a removed variable, stdin, exit code.
fn probe(dir: &std::path::Path) -> Proc {
    Proc::new("sh")
        .args([
            "-c",
            "pwd; printf '%s|' \"$1\" \"$PROBE_A\" \"${PROBE_GONE-unset}\"; cat; echo to-stderr >&2; exit 3",
            "sh",
            "a b",
        ])
        .cwd(dir)
        .env("PROBE_A", "x")
        .env("PROBE_GONE", "set")
        .env_remove("PROBE_GONE")
        .stdin("from-stdin")
}

fn check_probe(out: &ProcOutput, dir: &std::path::Path) {
    let dir = dir.canonicalize().unwrap();
    assert_eq!(
        out.stdout_text(),
        format!("{}\na b|x|unset|from-stdin", dir.display())
    );
    assert_eq!(out.stderr, "to-stderr\n");
    assert_eq!(out.code, Some(3));
    assert!(!out.success() && !out.timed_out);
    assert_eq!(out.describe(), "`sh` exited with code 3");
    assert_eq!(out.failure_text(), "to-stderr");
}

#[test]
fn blocking_run_passes_argv_cwd_env_stdin_and_keeps_the_streams_apart() {
    let dir = tempfile::tempdir().unwrap();
    let out = probe(dir.path()).run_blocking(&Redactor::new()).unwrap();
    check_probe(&out, dir.path());
}

#[tokio::test]
async fn async_run_passes_argv_cwd_env_stdin_and_keeps_the_streams_apart() {
    let dir = tempfile::tempdir().unwrap();
    let out = probe(dir.path()).run(&Redactor::new()).await.unwrap();
    check_probe(&out, dir.path());
}

#[test]
fn stderr_is_redacted_and_stdout_is_data() {
    let r = Redactor::new();
    r.add("napi_runner_unit_key");
    let out = Proc::new("sh")
        .args([
            "-c",
            "echo postgres://u:runner-pw1@h/db; echo 'postgres://u:runner-pw2@h/db napi_runner_unit_key' >&2",
        ])
        .run_blocking(&r)
        .unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stderr, "postgres://u:****@h/db ****\n");
    assert_eq!(out.stdout_text(), "postgres://u:runner-pw1@h/db\n");
    let debug = format!("{out:?}");
    assert!(!debug.contains("runner-pw"), "{debug}");
}

#[test]
fn debug_shows_no_secret_of_the_arguments_or_the_environment() {
    let p = Proc::new("pg_dump")
        .arg("postgres://u:runner-pw3@h/db")
        .env("PGPASSWORD", "runner-pw4")
        .stdin("runner-pw5");
    let debug = format!("{p:?}");
    assert!(
        debug.contains("pg_dump") && debug.contains("PGPASSWORD"),
        "{debug}"
    );
    for secret in ["runner-pw3", "runner-pw4", "runner-pw5"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[test]
fn a_program_that_cannot_start_is_an_error_naming_it() {
    let err = Proc::new("/nonexistent/neon-migrate-no-such-tool")
        .run_blocking(&Redactor::new())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot start `neon-migrate-no-such-tool`: "),
        "{err}"
    );
}

#[test]
fn blocking_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("grandchild");
    let out = Proc::new("sh")
        // The grandchild holds no pipe of ours: only the timeout's group kill can end it.
        .args([
            "-c",
            "sleep 60 >/dev/null 2>&1 & echo $! > grandchild; wait",
        ])
        .cwd(dir.path())
        .timeout(Duration::from_millis(500))
        .run_blocking(&Redactor::new())
        .unwrap();
    assert!(out.timed_out && !out.success(), "{out:?}");
    assert_eq!(out.describe(), "`sh` timed out after 500ms");
    assert!(out.duration < Duration::from_secs(30), "{out:?}");
    if let Some(pid) = pid_in(&pidfile) {
        assert!(ended(pid), "the grandchild {pid} outlived the timeout");
    }
}

#[test]
fn a_grandchild_holding_the_pipes_is_killed_after_the_child_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = Proc::new("sh")
        .args(["-c", "sleep 60 & echo $! > grandchild; echo started"])
        .cwd(dir.path())
        .run_blocking(&Redactor::new())
        .unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout_text(), "started\n");
    let pid = pid_in(&dir.path().join("grandchild")).expect("pid written");
    assert!(ended(pid), "the grandchild {pid} outlived its parent's run");
}

#[tokio::test]
async fn a_pipe_feeds_the_second_with_the_first_and_both_succeed() {
    let first = Proc::new("printf").arg("a\\nb\\n");
    let second = Proc::new("sh").args(["-c", "cat; echo done >&2"]);
    let out = pipe(&first, &second, &Redactor::new()).await.unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(out.second.stdout_text(), "a\nb\n");
    assert!(out.first.stdout.is_empty());
    assert_eq!(out.stderr(), "done");
}

#[tokio::test]
async fn a_pipe_fails_when_either_side_fails() {
    let r = Redactor::new();
    let first = Proc::new("sh").args([
        "-c",
        "echo partial; echo 'dump broke at postgres://u:runner-pw6@h/db' >&2; exit 2",
    ]);
    let out = pipe(&first, &Proc::new("cat"), &r).await.unwrap();
    assert!(
        !out.success(),
        "a failed first side must fail the pipe: {out:?}"
    );
    assert_eq!((out.first.code, out.second.code), (Some(2), Some(0)));
    assert_eq!(out.second.stdout_text(), "partial\n");
    assert_eq!(out.failure_text(), "dump broke at postgres://u:****@h/db");

    let second = Proc::new("sh").args(["-c", "cat >/dev/null; exit 4"]);
    let out = pipe(&Proc::new("printf").arg("x"), &second, &r)
        .await
        .unwrap();
    assert!(!out.success(), "{out:?}");
    assert_eq!((out.first.code, out.second.code), (Some(0), Some(4)));
    assert_eq!(out.failure_text(), "`sh` exited with code 4");
}

#[tokio::test]
async fn a_pipe_that_times_out_loses_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let first = Proc::new("sh")
        .args(["-c", "echo $$ > first; sleep 60"])
        .cwd(dir.path());
    let second = Proc::new("sh")
        .args(["-c", "echo $$ > second; cat >/dev/null; sleep 60"])
        .cwd(dir.path())
        .timeout(Duration::from_millis(800));
    let out = pipe(&first, &second, &Redactor::new()).await.unwrap();
    assert!(out.timed_out() && !out.success(), "{out:?}");
    assert!(out.first.duration < Duration::from_secs(30), "{out:?}");
    for side in ["first", "second"] {
        if let Some(pid) = pid_in(&dir.path().join(side)) {
            assert!(ended(pid), "the {side} side ({pid}) outlived the timeout");
        }
    }
}

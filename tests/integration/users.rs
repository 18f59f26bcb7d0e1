//! Who runs what. PostgreSQL refuses to run as root, so as root the embedded server runs as
//! an unprivileged user; an ordinary user runs it as themself (no uid switch at all).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use neon_migrate::exit;
use neon_migrate::providers::local::cluster;
use nix::unistd::{Uid, User};

use crate::support::{cluster as shared_cluster, run_command, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        embedded_server_never_runs_as_root,
        ordinary_user_runs_pre_push_on_their_own_cluster,
    ]
}

/// The real uid of a process, from `/proc/<pid>/status`.
fn uid_of(pid: u32) -> u32 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .expect("Uid line");
    line.split_whitespace()
        .nth(1)
        .and_then(|u| u.parse().ok())
        .expect("uid")
}

fn embedded_server_never_runs_as_root() {
    let pid = cluster::server_pid(shared_cluster()).expect("postmaster.pid names the server");
    let uid = uid_of(pid);
    if Uid::effective().is_root() {
        assert_ne!(uid, 0, "the embedded PostgreSQL (pid {pid}) runs as root");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        for line in status
            .lines()
            .filter(|l| l.starts_with("Uid:") || l.starts_with("Gid:"))
        {
            assert!(
                line.split_whitespace().skip(1).all(|id| id != "0"),
                "pid {pid}: {line}"
            );
        }
    } else {
        println!("note: not root, so the uid switch is not exercised; the server runs as the current user (uid {uid})");
        assert_eq!(uid, Uid::effective().as_raw());
    }
}

/// chown -R.
fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).expect("chown");
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).expect("read_dir").flatten() {
            chown_tree(&entry.path(), uid, gid);
        }
    }
}

/// The ordinary user's cluster folder, next to the shared one. The suite lock makes it ours
/// alone; what an interrupted earlier run left in it is stopped and removed first.
fn user_cluster_dir() -> PathBuf {
    let shared = &shared_cluster().dir;
    let name = format!(
        "{}-user",
        shared.file_name().unwrap_or_default().to_string_lossy()
    );
    shared.with_file_name(name)
}

/// Stops the cluster in `dir` (if one ever started there) and removes the folder.
/// Returns the pid the server had, when it was running.
fn stop_and_remove(dir: &Path) -> Result<Option<u32>, String> {
    let mut pid = None;
    if dir.join("data").join("postmaster.pid").is_file() {
        let c = cluster::ensure(Some(dir)).map_err(|e| e.to_string())?;
        pid = cluster::server_pid(&c);
        cluster::stop(&c).map_err(|e| e.to_string())?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    Ok(pid)
}

fn ordinary_user_runs_pre_push_on_their_own_cluster() {
    let root = Uid::effective().is_root();
    let user = if root {
        Some(
            User::from_name("postgres")
                .ok()
                .flatten()
                .expect("a `postgres` user exists (the server runs as it)"),
        )
    } else {
        println!("note: not root: running as the current user, without spawning as `postgres`");
        None
    };

    let dir = user_cluster_dir();
    if let Err(e) = stop_and_remove(&dir) {
        panic!(
            "cannot clear what an earlier run left in {}: {e}",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).expect("create the user's cluster folder");
    let home = tempfile::Builder::new()
        .prefix("nm-it-home-")
        .tempdir()
        .expect("home");

    let p = Project::new("ordinary_user")
        .with_cluster_dir(&dir)
        .config(
            r#"
[[checks.sql]]
name = "widgets exists"
query = "select count(*) from widgets"
expect-value = "0"
"#,
        )
        .migration("0001_widgets.sql", "create table widgets (id int);\n")
        .commit()
        .git_branch("feature/ordinary-user");

    let mut cmd = p.command(&["run", "pre-push"]);
    if let Some(u) = &user {
        let (uid, gid) = (u.uid.as_raw(), u.gid.as_raw());
        for path in [dir.as_path(), home.path(), p.path()] {
            chown_tree(path, uid, gid);
        }
        cmd.uid(uid)
            .gid(gid)
            .env("USER", &u.name)
            .env("LOGNAME", &u.name);
    }
    cmd.env("HOME", home.path());
    let out = run_command(cmd, &["run", "pre-push"]);

    // Whatever happened, stop the second cluster and remove it before asserting.
    let owner =
        std::fs::metadata(dir.join("data")).map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    let stopped = stop_and_remove(&dir);

    out.code(exit::OK)
        .stdout_has(&format!(
            "(embedded PostgreSQL {} at 127.0.0.1:",
            shared_cluster().major
        ))
        .stdout_has(&dir.display().to_string())
        .stdout_has("✓ widgets exists")
        .stdout_has("The test Neon database branch migrate/feature/ordinary-user was deleted.");
    let pid = stopped.unwrap_or_else(|e| panic!("cannot stop the user's cluster: {e}"));
    assert!(pid.is_some(), "the user's cluster had no postmaster.pid");
    if let Some(u) = &user {
        assert_eq!(
            owner.ok(),
            Some(u.uid.as_raw()),
            "the data folder belongs to the user who ran neon-migrate"
        );
    }
}

//! The temporary, detached worktree a pushed commit that is not checked out is proven in,
//! and the sweep of the ones killed hooks left behind.

use std::path::{Path, PathBuf};

use git2::Repository;

use crate::runner::{Proc, ProcOutput, RunError};
use crate::secret::Redactor;

/// A temporary worktree could not be added.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("cannot run git: {}", spawn_cause(.0))]
    Spawn(#[source] RunError),
    /// What `git worktree add` said.
    #[error("{0}")]
    Git(String),
}

/// A temporary, detached worktree of one commit; removed when dropped.
pub struct Worktree {
    repo_root: PathBuf,
    /// Where the pushed commit is checked out.
    pub path: PathBuf,
    /// Dependency folders linked in from the checked-out tree (removed first when dropped).
    links: Vec<PathBuf>,
}

/// Folders a project installs its dependencies into, never committed: a temporary worktree
/// borrows the checked-out tree's (a virtualenv, node_modules, …) so the migration tool can
/// start there.
const DEPENDENCY_DIRS: &[&str] = &[
    ".venv",
    "venv",
    "node_modules",
    "vendor",
    "deps",
    "_build",
    ".bundle",
];

/// The first part of a temporary worktree's folder name; the commit and the hook's process
/// id follow.
const WORKTREE_PREFIX: &str = "neon-migrate-push-";

fn alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == Errno::EPERM,
    }
}

/// Removes the dependency links of a temporary worktree (never what they point at).
fn unlink_dependencies(dir: &Path, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        let name = e.file_name();
        if t.is_symlink() && DEPENDENCY_DIRS.iter().any(|d| name == *d) {
            let _ = std::fs::remove_file(e.path());
        } else if t.is_dir() && depth > 0 && name != ".git" {
            unlink_dependencies(&e.path(), depth - 1);
        }
    }
}

/// Removes the temporary worktrees that killed hooks left behind (their process is gone, or
/// their folder is): otherwise they stay registered in the repository for good. Returns how
/// many were removed.
pub fn prune_stale_worktrees(repo: &Repository) -> usize {
    let Ok(entries) = std::fs::read_dir(repo.commondir().join("worktrees")) else {
        return 0;
    };
    let Some(root) = repo.workdir().map(Path::to_owned) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let Ok(gitdir) = std::fs::read_to_string(e.path().join("gitdir")) else {
            continue;
        };
        let Some(wt) = Path::new(gitdir.trim()).parent().map(Path::to_owned) else {
            continue;
        };
        let Some(rest) = wt
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(WORKTREE_PREFIX))
        else {
            continue;
        };
        let pid = rest.rsplit('-').next().and_then(|p| p.parse::<i32>().ok());
        if wt.exists() && pid.is_some_and(alive) {
            continue;
        }
        if wt.exists() {
            unlink_dependencies(&wt, 4);
            let ok = succeeded(
                git(&root)
                    .args(["worktree", "remove", "--force", "--force"])
                    .arg(&wt),
            );
            if !ok {
                let _ = std::fs::remove_dir_all(&wt);
            }
        }
        removed += 1;
    }
    if removed > 0 {
        succeeded(git(&root).args(["worktree", "prune"]));
    }
    removed
}

impl Worktree {
    /// Checks out commit `sha` of the repository at `repo_root` in a new temporary worktree.
    pub fn add(repo_root: &Path, sha: &str) -> Result<Self, WorktreeError> {
        let path = std::env::temp_dir().join(format!(
            "{WORKTREE_PREFIX}{}-{}",
            &sha[..7],
            std::process::id()
        ));
        let out = git(repo_root)
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&path)
            .arg(sha)
            .run_blocking(&Redactor::new())
            .map_err(WorktreeError::Spawn)?;
        if !out.success() {
            return Err(WorktreeError::Git(out.failure_text()));
        }
        Ok(Worktree {
            repo_root: repo_root.to_owned(),
            path,
            links: Vec::new(),
        })
    }

    /// Links the dependency folders of `dirs` (relative to the work tree root) from the
    /// checked-out tree into this worktree, where the pushed commit has none; returns them.
    pub fn link_dependencies(&mut self, repo_root: &Path, dirs: &[PathBuf]) -> Vec<String> {
        let mut shown = Vec::new();
        for dir in dirs {
            for name in DEPENDENCY_DIRS {
                let from = repo_root.join(dir).join(name);
                let to = self.path.join(dir).join(name);
                if !from.is_dir()
                    || to.symlink_metadata().is_ok()
                    || !to.parent().is_some_and(Path::is_dir)
                {
                    continue;
                }
                if std::os::unix::fs::symlink(&from, &to).is_ok() {
                    shown.push(dir.join(name).display().to_string());
                    self.links.push(to);
                }
            }
        }
        shown
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        for link in &self.links {
            let _ = std::fs::remove_file(link);
        }
        let removed = succeeded(
            git(&self.repo_root)
                .args(["worktree", "remove", "--force"])
                .arg(&self.path),
        );
        if !removed {
            let _ = std::fs::remove_dir_all(&self.path);
            succeeded(git(&self.repo_root).args(["worktree", "prune"]));
        }
    }
}

/// `git` in `root`, free of the variables git sets for the hook that runs us. Run through the
/// runner's blocking API: the hook has no async runtime.
fn git(root: &Path) -> Proc {
    Proc::new("git")
        .arg("-C")
        .arg(root)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
}

/// Runs a housekeeping `git` command; whether it succeeded (its output is not needed).
fn succeeded(git: Proc) -> bool {
    git.run_blocking(&Redactor::new())
        .as_ref()
        .is_ok_and(ProcOutput::success)
}

/// The reason a program did not start (the OS error), without the runner's own wording.
fn spawn_cause(e: &RunError) -> String {
    std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_else(|| e.to_string())
}

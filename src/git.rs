//! What neon-migrate needs from git: the repository root, the current git branch and the
//! commit. Read with git2 (no `git` process), so it works in hooks and costs microseconds.

use std::path::{Path, PathBuf};

/// The git facts of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GitInfo {
    /// Work tree root.
    pub root: PathBuf,
    /// The current git branch; the short sha when HEAD is detached.
    pub branch: String,
    /// Set when `branch` is not a real git branch name (detached HEAD).
    pub detached: bool,
    /// Full commit sha (all zeros before the first commit).
    pub sha: String,
}

impl GitInfo {
    pub fn short_sha(&self) -> &str {
        &self.sha[..self.sha.len().min(7)]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path} is not inside a git repository")]
    NotARepo { path: PathBuf },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// Opens the repository containing `dir`.
pub fn discover(dir: &Path) -> Result<GitInfo, GitError> {
    let repo = git2::Repository::discover(dir).map_err(|e| match e.code() {
        git2::ErrorCode::NotFound => GitError::NotARepo {
            path: dir.to_owned(),
        },
        _ => GitError::Git(e),
    })?;
    let root = repo
        .workdir()
        .map(Path::to_owned)
        .unwrap_or_else(|| repo.path().to_owned());
    let zero = "0".repeat(40);
    let head = repo.head();
    let info = match head {
        Ok(head) => {
            let sha = head
                .target()
                .map(|o| o.to_string())
                .unwrap_or_else(|| zero.clone());
            if head.is_branch() {
                let branch = head.shorthand().unwrap_or("HEAD").to_owned();
                Ok(GitInfo {
                    root,
                    branch,
                    detached: false,
                    sha,
                })
            } else {
                let branch = sha[..7.min(sha.len())].to_owned();
                Ok(GitInfo {
                    root,
                    branch,
                    detached: true,
                    sha,
                })
            }
        }
        // No commit yet: HEAD names a git branch that does not exist yet.
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            let head = repo.find_reference("HEAD")?;
            let target = head.symbolic_target().unwrap_or("refs/heads/main");
            let branch = target
                .strip_prefix("refs/heads/")
                .unwrap_or(target)
                .to_owned();
            Ok(GitInfo {
                root,
                branch,
                detached: false,
                sha: zero,
            })
        }
        Err(e) => Err(GitError::Git(e)),
    };
    info
}

/// The repository's default git branch: what `origin/HEAD` points at, else `main`, else
/// `master`, else the current git branch.
pub fn default_git_branch(root: &Path) -> Option<String> {
    let repo = git2::Repository::open(root).ok()?;
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD") {
        if let Some(target) = r.symbolic_target() {
            if let Some(name) = target.strip_prefix("refs/remotes/origin/") {
                return Some(name.to_owned());
            }
        }
    }
    for name in ["main", "master"] {
        if repo.find_branch(name, git2::BranchType::Local).is_ok() {
            return Some(name.to_owned());
        }
    }
    let head = repo.head().ok()?;
    head.is_branch()
        .then(|| head.shorthand().map(str::to_owned))
        .flatten()
}

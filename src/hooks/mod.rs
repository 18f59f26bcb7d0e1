//! Git hooks, the library part: where git runs hooks from and whether ours is there
//! ([`hooks_dir`], [`state_of`]), the script `hooks install` writes ([`SCRIPT`]), the pushed
//! refs of a pre-push hook (`pushed`), the projects a push may need to prove and the paths
//! each watches (`projects`), and the temporary worktree a pushed commit is proven in
//! (`worktree`). The commands (`hooks install | uninstall | status`, `hook pre-push`) are in
//! `commands::hooks` and `commands::pre_push`.
//!
//! The installed script is thin on purpose (a fingerprint line, a bypass, a binary lookup):
//! everything that can change lives in the binary, so upgrading neon-migrate never needs a
//! reinstall. A hook that was there before is kept as `pre-push.old` and still runs first;
//! nothing is overwritten silently.
//!
//! `hook pre-push` runs on every push, so the common case — nothing the migration tool reads
//! changed — must cost milliseconds: it reads the pushed refs, compares the object ids of the
//! watched paths in the two trees of each pushed range (git2, no `git` process, no async
//! runtime), and returns. Only when a watched path changed does it list the changed files and
//! run the `pre-push` pipeline, with the Neon database branch named after the git branch being
//! pushed, in a temporary worktree when the pushed commit is not the checked-out one.

pub(crate) mod projects;
pub(crate) mod pushed;
pub(crate) mod worktree;

use std::path::{Path, PathBuf};

use git2::Repository;

use crate::exit::{self, Failure};

pub(crate) use projects::Watched;

/// The script `hooks install` writes (also `hooks/pre-push` in the source tree).
pub const SCRIPT: &str = include_str!("../../hooks/pre-push");
/// The start of the line that marks a hook as ours; the version follows.
const FINGERPRINT: &str = "# neon-migrate pre-push hook v";
/// The git hook neon-migrate installs.
pub const HOOK: &str = "pre-push";
/// The pipeline the pre-push hook runs.
pub const PIPELINE: &str = "pre-push";

/// The repository or its hooks folder could not be found.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum HooksError {
    #[error("{} is not inside a git repository ({message})", path.display())]
    #[diagnostic(help(
        "git hooks belong to a repository: run this inside one (or pass `-C DIR`), or `git init` first"
    ))]
    NotARepo { path: PathBuf, message: String },
    #[error("cannot read the git config: {0}")]
    #[diagnostic(help(
        "check `.git/config` (and `git config --list --show-origin`) for a syntax error"
    ))]
    GitConfig(String),
}

impl Failure for HooksError {
    fn exit_code(&self) -> i32 {
        exit::GIT
    }
}

/// Where git looks for hooks.
#[derive(Debug, Clone)]
pub struct HooksDir {
    pub path: PathBuf,
    /// Set when `core.hooksPath` chose it.
    pub from_config: bool,
}

/// Where git runs hooks from: `core.hooksPath` (relative to the work tree root, as git reads
/// it), else the `hooks` folder of the common git directory (shared by all worktrees).
pub fn hooks_dir(repo: &Repository) -> Result<HooksDir, git2::Error> {
    if let Ok(p) = repo.config()?.get_path("core.hooksPath") {
        let base = repo.workdir().unwrap_or_else(|| repo.path());
        return Ok(HooksDir {
            path: base.join(p),
            from_config: true,
        });
    }
    Ok(HooksDir {
        path: repo.commondir().join("hooks"),
        from_config: false,
    })
}

/// What is at the hook's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookState {
    Absent,
    /// Ours, identical to [`SCRIPT`].
    Current,
    /// Ours, another version (the fingerprint line says which).
    Outdated(String),
    /// Somebody else's hook.
    Foreign,
}

pub fn fingerprint_version(text: &str) -> Option<&str> {
    text.lines()
        .take(3)
        .find_map(|l| l.strip_prefix(FINGERPRINT))
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
}

/// The state of the hook file at `path`.
pub fn state_of(path: &Path) -> HookState {
    let Ok(text) = std::fs::read_to_string(path) else {
        return if path.exists() {
            HookState::Foreign
        } else {
            HookState::Absent
        };
    };
    match fingerprint_version(&text) {
        Some(_) if text == SCRIPT => HookState::Current,
        Some(v) => HookState::Outdated(format!("v{v}")),
        None => HookState::Foreign,
    }
}

pub fn old_path(hook: &Path) -> PathBuf {
    let mut s = hook.as_os_str().to_owned();
    s.push(".old");
    PathBuf::from(s)
}

/// A hook manager recognised from the text of a hook it wrote, or from `core.hooksPath`.
pub fn hook_manager(text: &str) -> Option<&'static str> {
    if text.contains("husky") {
        Some("husky")
    } else if text.contains("lefthook") {
        Some("lefthook")
    } else if text.contains("pre-commit") {
        Some("pre-commit")
    } else {
        None
    }
}

/// The repository around `cwd`.
pub fn open(cwd: &Path) -> Result<Repository, HooksError> {
    Repository::discover(cwd).map_err(|e| HooksError::NotARepo {
        path: cwd.to_owned(),
        message: e.message().to_owned(),
    })
}

/// The repository around `cwd` and its hooks folder.
pub fn open_hooks(cwd: &Path) -> Result<(Repository, HooksDir), HooksError> {
    let repo = open(cwd)?;
    let dir = hooks_dir(&repo).map_err(|e| HooksError::GitConfig(e.message().to_owned()))?;
    Ok((repo, dir))
}

/// `path` relative to the work tree root of `repo` when it is inside it.
pub fn shown(path: &Path, repo: &Repository) -> String {
    repo.workdir()
        .and_then(|w| path.strip_prefix(w).ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| path.display().to_string())
}

/// The line husky's `.husky/pre-push` needs (README § Hook managers).
pub const HUSKY_LINE: &str = "neon-migrate hook pre-push \"$@\"";

/// `.husky/pre-push` when `core.hooksPath` is husky 9's generated `.husky/_` folder. Husky
/// rewrites that folder on every `npm install` (its `prepare` script): a hook written there
/// would be dropped without a word, and pushes would go unproven. Its `pre-push` stub runs
/// `.husky/pre-push`, which husky never touches.
pub fn husky_script(dir: &HooksDir) -> Option<PathBuf> {
    let generated = dir.from_config
        && dir.path.file_name().is_some_and(|n| n == "_")
        && dir.path.join("h").is_file();
    generated.then(|| dir.path.parent().map(|p| p.join(HOOK)))?
}

/// Writes [`SCRIPT`] at `hook`, executable.
pub fn write_script(hook: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = hook.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Written beside and renamed: git never runs a half-written hook.
    let tmp = hook.with_extension("neon-migrate-tmp");
    std::fs::write(&tmp, SCRIPT)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, hook)
}

/// What the installed script would run, in its own lookup order.
pub fn binary_lookup() -> String {
    if let Some(b) = std::env::var_os("NEON_MIGRATE_BIN").filter(|b| !b.is_empty()) {
        return format!("{} ($NEON_MIGRATE_BIN)", Path::new(&b).display());
    }
    if let Some(p) = find_on_path("neon-migrate") {
        return format!("{} (PATH)", p.display());
    }
    if find_on_path("cargo").is_some() {
        if has_xtask() {
            return "cargo xtask migrate (neon-migrate is not on PATH)".into();
        }
        return "nothing: neon-migrate is not on PATH and this project has no `cargo xtask` (no `xtask` alias in .cargo/config.toml); pushes will fail".into();
    }
    "nothing: neon-migrate is not on PATH and there is no cargo; pushes will fail".into()
}

/// Whether `cargo xtask` exists here, as the script decides it: an `xtask` alias in a
/// `.cargo/config.toml` (or `.cargo/config`) from the working directory up or in
/// `$CARGO_HOME`, or a `cargo-xtask` on PATH.
fn has_xtask() -> bool {
    let aliased = |dir: &Path| {
        ["config.toml", "config"].iter().any(|f| {
            std::fs::read_to_string(dir.join(f))
                .map(|t| {
                    t.lines().any(|l| {
                        l.trim_start()
                            .strip_prefix("xtask")
                            .is_some_and(|r| r.trim_start().starts_with('='))
                    })
                })
                .unwrap_or(false)
        })
    };
    if find_on_path("cargo-xtask").is_some() {
        return true;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    if cwd.ancestors().any(|d| aliased(&d.join(".cargo"))) {
        return true;
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    cargo_home.is_some_and(|h| aliased(&h))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_tells_ours_from_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let hook = dir.path().join("pre-push");
        assert_eq!(state_of(&hook), HookState::Absent);
        std::fs::write(&hook, SCRIPT).unwrap();
        assert_eq!(state_of(&hook), HookState::Current);
        std::fs::write(
            &hook,
            "#!/bin/sh\n# neon-migrate pre-push hook v1\nexit 0\n",
        )
        .unwrap();
        assert_eq!(state_of(&hook), HookState::Outdated("v1".into()));
        std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
        assert_eq!(state_of(&hook), HookState::Foreign);
        assert!(
            fingerprint_version(SCRIPT).is_some(),
            "the script carries the fingerprint"
        );
    }

    #[test]
    fn the_script_is_posix_sh_and_names_no_bare_branch() {
        let out = crate::runner::Proc::new("sh")
            .args(["-n", "-c", SCRIPT])
            .run_blocking(&crate::secret::Redactor::new())
            .expect("sh");
        assert!(out.success(), "{}", out.failure_text());
        for line in SCRIPT.lines() {
            let l = line.to_lowercase();
            for (i, _) in l.match_indices("branch") {
                let before = &l[..i];
                assert!(
                    before.ends_with("git ") || before.ends_with("database "),
                    "bare `branch` in: {line}"
                );
            }
        }
    }
}

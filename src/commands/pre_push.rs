//! `neon-migrate hook pre-push [REMOTE] [URL]`: what the installed git hook calls. The pushed
//! refs come on stdin (or from pre-commit's environment); each pushed git branch whose watched
//! paths changed is proven with the `pre-push` pipeline.
//!
//! Runs on every push: the no-op path (nothing watched changed) starts no async runtime and
//! spawns no process.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use git2::Repository;

use crate::app::{self, RuntimeError, SetupError};
use crate::config::Config;
use crate::exit::{self, Failure};
use crate::git::GitInfo;
use crate::hooks::projects::{load_quietly, projects, watched_in_commit, HookProject, Watched};
use crate::hooks::pushed::{
    parse_pushed, pushed_from_pre_commit, range_base, short, watched_changes, PushedError,
    PushedRef,
};
use crate::hooks::worktree::{prune_stale_worktrees, Worktree, WorktreeError};
use crate::hooks::{self, HooksError, PIPELINE};
use crate::output::Outputs;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum PrePushError {
    #[error("cannot read the pushed refs from stdin: {0}")]
    Stdin(#[source] std::io::Error),
    #[error(transparent)]
    #[diagnostic(help("git passes the pushed refs on stdin; run this from a pre-push hook"))]
    Pushed(#[from] PushedError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Hooks(#[from] HooksError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    #[error("cannot compare the pushed commits of git branch {git_branch}: {message}")]
    Compare { git_branch: String, message: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("cannot check out the pushed commit {commit}: {source}")]
    Checkout {
        commit: String,
        source: WorktreeError,
    },
}

impl Failure for PrePushError {
    fn exit_code(&self) -> i32 {
        match self {
            PrePushError::Stdin(_) => exit::INTERNAL,
            PrePushError::Pushed(_) => exit::USAGE,
            PrePushError::Hooks(e) => e.exit_code(),
            PrePushError::Setup(e) => e.exit_code(),
            PrePushError::Runtime(e) => e.exit_code(),
            PrePushError::Compare { .. } | PrePushError::Checkout { .. } => exit::GIT,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            PrePushError::Setup(e) => e.rendered(),
            _ => None,
        }
    }
}

/// A ref that has something to prove.
struct Pending {
    pushed: PushedRef,
    git_branch: String,
    detached: bool,
    /// The projects (indexes) whose watched paths it changes.
    projects: Vec<usize>,
    /// Where the pushed range starts (`None`: every file of the pushed commit counts).
    base: Option<git2::Oid>,
}

/// The hook's flags and where it runs.
pub(crate) struct Options<'a> {
    pub cwd: &'a Path,
    pub explicit_config: Option<&'a Path>,
    pub remote: Option<&'a str>,
    pub url: Option<&'a str>,
}

/// `hook pre-push <remote> <url>`.
pub(crate) fn run(o: &Options) -> Result<i32, PrePushError> {
    // Also checked here, not only in our script, so the bypass works under hook managers.
    if std::env::var_os("NEON_MIGRATE").is_some_and(|v| v == "0") {
        eprintln!("neon-migrate: skipped (NEON_MIGRATE=0)");
        return Ok(exit::OK);
    }
    let pushed = read_pushed()?;
    let remote = o
        .remote
        .map(str::to_owned)
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok())
        .unwrap_or_else(|| "origin".into());
    let url = o
        .url
        .map(str::to_owned)
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_URL").ok())
        .unwrap_or_default();
    if pushed.is_empty() {
        eprintln!("neon-migrate: no pushed refs on stdin; nothing to prove");
        return Ok(exit::OK);
    }

    let repo = hooks::open(o.cwd)?;
    let Some(root) = repo.workdir().map(Path::to_owned) else {
        eprintln!("neon-migrate: a bare repository has no migrations to prove; skipping");
        return Ok(exit::OK);
    };
    let removed = prune_stale_worktrees(&repo);
    if removed > 0 {
        eprintln!(
            "neon-migrate: removed {removed} temporary worktree(s) left by an interrupted push"
        );
    }
    let projects = projects(&repo, o.explicit_config, o.cwd, &root)?;
    let pending = pending(&repo, &root, pushed, &projects, &remote, &url)?;
    if pending.is_empty() {
        return Ok(exit::OK);
    }
    let head = repo.head().ok().and_then(|h| h.target());
    drop(repo);

    let runtime = app::runtime()?;
    let mut code = exit::OK;
    for p in pending {
        let c = prove(&runtime, &root, head, &p, &projects, o.explicit_config)?;
        if code == exit::OK {
            code = c;
        }
    }
    if code != exit::OK {
        eprintln!("neon-migrate: {}", stopped_because(code));
    }
    Ok(code)
}

/// The pushed refs: git's lines on stdin, else pre-commit's environment.
fn read_pushed() -> Result<Vec<PushedRef>, PrePushError> {
    let mut input = String::new();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        stdin
            .lock()
            .read_to_string(&mut input)
            .map_err(PrePushError::Stdin)?;
    }
    let mut pushed = parse_pushed(&input)?;
    if pushed.is_empty() {
        pushed.extend(pushed_from_pre_commit());
    }
    Ok(pushed)
}

/// The pushed refs that change a watched path of some project, each line said on stderr.
fn pending(
    repo: &Repository,
    root: &Path,
    pushed: Vec<PushedRef>,
    projects: &[HookProject],
    remote: &str,
    url: &str,
) -> Result<Vec<Pending>, PrePushError> {
    let mut pending: Vec<Pending> = Vec::new();
    for r in pushed {
        let (git_branch, detached) = r.git_branch();
        if r.local.is_zero() {
            eprintln!("neon-migrate: {}: deleted, nothing to prove", r.remote_ref);
            continue;
        }
        if r.remote_ref.starts_with("refs/tags/") {
            eprintln!(
                "neon-migrate: {}: a tag, not a git branch; nothing to prove",
                r.remote_ref
            );
            continue;
        }
        let (base, how) = range_base(repo, &r, remote, url);
        let mut affected = Vec::new();
        for (i, project) in projects.iter().enumerate() {
            let watched = watched_in_commit(repo, project, root, r.local);
            let changed = watched_changes(repo, base, r.local, &watched).map_err(|e| {
                PrePushError::Compare {
                    git_branch: git_branch.clone(),
                    message: e.message().to_owned(),
                }
            })?;
            let label = project.label();
            let missing = missing_in_commit(repo, project, &watched, r.local);
            if changed.is_empty() && missing.is_empty() {
                eprintln!(
                    "neon-migrate: git branch {git_branch} at {} {how}: {label}no watched path changed ({}); nothing to prove",
                    short(r.local),
                    watched.describe()
                );
                continue;
            }
            if !missing.is_empty() {
                eprintln!(
                    "neon-migrate: NOT WATCHED: {label}the git hook watches {}, which does not exist in the pushed commit {}; a push changing migrations kept elsewhere would look like it changes nothing, so this push is proved whatever it changes: set `watch` under [tool] to where the migrations are",
                    missing.join(", "),
                    short(r.local)
                );
                if changed.is_empty() {
                    affected.push(i);
                    continue;
                }
            }
            eprintln!(
                "neon-migrate: git branch {git_branch} at {} {how}: {label}{} watched file(s) changed: {}",
                short(r.local),
                changed.len(),
                abbreviate(&changed)
            );
            affected.push(i);
        }
        if !affected.is_empty() {
            pending.push(Pending {
                pushed: r,
                git_branch,
                detached,
                projects: affected,
                base,
            });
        }
    }
    Ok(pending)
}

/// The watched paths of `project` (see `missing_watched`) that the pushed commit lacks.
fn missing_in_commit(
    repo: &Repository,
    project: &HookProject,
    watched: &Watched,
    commit: git2::Oid,
) -> Vec<String> {
    let tree = repo.find_commit(commit).and_then(|c| c.tree()).ok();
    hooks::projects::missing_watched(project, watched, |p| {
        tree.as_ref()
            .is_some_and(|t| t.get_path(Path::new(p)).is_ok())
    })
}

/// Proves one pushed ref: in the checked-out tree when it is `head`, else in a temporary
/// worktree; returns the first failed project's exit code (or OK).
fn prove(
    runtime: &tokio::runtime::Runtime,
    root: &Path,
    head: Option<git2::Oid>,
    p: &Pending,
    projects: &[HookProject],
    explicit_config: Option<&Path>,
) -> Result<i32, PrePushError> {
    let sha = p.pushed.local.to_string();
    let worktree = if head == Some(p.pushed.local) {
        None
    } else {
        Some(temporary_worktree(root, p, projects)?)
    };
    // Edits of already-applied migrations are judged over the pushed range.
    crate::tools::strays::set_pushed_range(p.base, p.pushed.local);
    let mut code = exit::OK;
    for &i in &p.projects {
        let project = &projects[i];
        // The project folder inside the pushed commit's tree.
        let (run_root, config) = match &worktree {
            None => (root.to_owned(), Ok(project.config.clone())),
            Some(w) => match config_in(w, project, explicit_config) {
                Some(config) => (w.path.clone(), config),
                None => continue,
            },
        };
        let c = match config {
            Ok(config) => {
                if projects.len() > 1 {
                    eprintln!("neon-migrate: proving {}", project.shown());
                }
                let git = GitInfo {
                    root: run_root,
                    branch: p.git_branch.clone(),
                    detached: p.detached,
                    sha: sha.clone(),
                };
                run_pipeline(runtime, &config, &git, root)
            }
            Err(e) => super::report(&e),
        };
        if code == exit::OK {
            code = c;
        }
    }
    drop(worktree);
    Ok(code)
}

/// The `pre-push` pipeline of `config`, as `run pre-push` runs it.
fn run_pipeline(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    git: &GitInfo,
    root: &Path,
) -> i32 {
    let outputs = Outputs::from_env(false, None, Some(root));
    match runtime.block_on(app::run_pipeline(config, git, PIPELINE, &outputs)) {
        Ok(code) => code,
        Err(e) => super::report(&e),
    }
}

/// A temporary worktree of the pushed commit, with the checked-out tree's dependency folders.
fn temporary_worktree(
    root: &Path,
    p: &Pending,
    projects: &[HookProject],
) -> Result<Worktree, PrePushError> {
    let mut w = Worktree::add(root, &p.pushed.local.to_string()).map_err(|source| {
        PrePushError::Checkout {
            commit: short(p.pushed.local),
            source,
        }
    })?;
    eprintln!(
        "neon-migrate: {} is not checked out; proving it in a temporary worktree",
        short(p.pushed.local)
    );
    let mut dirs: Vec<PathBuf> = vec![PathBuf::new()];
    for &i in &p.projects {
        dirs.extend(projects[i].dirs.iter().cloned());
    }
    let linked = w.link_dependencies(root, &dirs);
    if !linked.is_empty() {
        eprintln!(
            "neon-migrate: using the checked-out tree's {}",
            linked.join(", ")
        );
    }
    Ok(w)
}

/// The project's config as the pushed commit has it; `None` when the commit has no such file
/// (said on stderr: nothing to prove for it).
fn config_in(
    w: &Worktree,
    project: &HookProject,
    explicit_config: Option<&Path>,
) -> Option<Result<Config, SetupError>> {
    Some(match &project.path {
        // A config named with --config is read where it is, as before.
        _ if explicit_config.is_some() => {
            load_quietly(explicit_config, &w.path.join(&project.dir), &w.path)
        }
        Some(rel) if !w.path.join(rel).is_file() => {
            eprintln!(
                "neon-migrate: {} is not in the pushed commit; nothing to prove for it",
                rel.display()
            );
            return None;
        }
        Some(rel) => crate::app::setup::load_file(&w.path.join(rel)).map(|l| l.config),
        None => load_quietly(None, &w.path.join(&project.dir), &w.path),
    })
}

/// The hook's last word on a failed run: what stopped the push, without blaming the
/// migration for what was not about it.
fn stopped_because(code: i32) -> String {
    const BYPASS: &str = "or bypass once with NEON_MIGRATE=0 git push";
    if code == exit::INTERRUPTED {
        return "interrupted: nothing was proven, and the push is stopped; push again to prove it"
            .into();
    }
    if crate::tools::start_failed() {
        return format!("the push is stopped: the migration tool could not start, so nothing is known about the migration; install its dependencies or fix how it starts (see above), {BYPASS}");
    }
    match code {
        exit::MIGRATION_FAILED | exit::CHECK_FAILED => {
            format!("the push is stopped; fix the migration, {BYPASS}")
        }
        _ => format!(
            "the push is stopped: the migration could not be proven (see above); fix that, {BYPASS}"
        ),
    }
}

fn abbreviate(files: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = files
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        s.push_str(&format!(", … ({} more)", files.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failed_migration_or_check_is_blamed_on_the_migration() {
        let interrupted = stopped_because(exit::INTERRUPTED);
        assert!(interrupted.starts_with("interrupted"), "{interrupted}");
        assert!(!interrupted.contains("fix the migration"), "{interrupted}");
        for code in [exit::PROVIDER, exit::CONFIG, exit::GIT, exit::INTERNAL] {
            let m = stopped_because(code);
            assert!(!m.contains("fix the migration"), "{code}: {m}");
        }
        assert!(stopped_because(exit::MIGRATION_FAILED).contains("fix the migration"));
        assert!(stopped_because(exit::CHECK_FAILED).contains("fix the migration"));
    }
}

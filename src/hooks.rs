//! Git hooks: `hooks install | uninstall | status` and the `hook pre-push` entry the installed
//! script calls.
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

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Oid, Repository};

use crate::config::{self, Config};
use crate::exit;
use crate::git::GitInfo;

/// The script `hooks install` writes (also `hooks/pre-push` in the source tree).
pub const SCRIPT: &str = include_str!("../hooks/pre-push");
/// The start of the line that marks a hook as ours; the version follows.
const FINGERPRINT: &str = "# neon-migrate pre-push hook v";
/// The git hook neon-migrate installs.
pub const HOOK: &str = "pre-push";
/// The pipeline the pre-push hook runs.
pub const PIPELINE: &str = "pre-push";

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

fn fingerprint_version(text: &str) -> Option<&str> {
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

fn old_path(hook: &Path) -> PathBuf {
    let mut s = hook.as_os_str().to_owned();
    s.push(".old");
    PathBuf::from(s)
}

/// A hook manager recognised from the text of a hook it wrote, or from `core.hooksPath`.
fn hook_manager(text: &str) -> Option<&'static str> {
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

fn open(cwd: &Path) -> Result<Repository, i32> {
    Repository::discover(cwd).map_err(|e| {
        eprintln!(
            "error: {} is not inside a git repository ({})",
            cwd.display(),
            e.message()
        );
        exit::GIT
    })
}

fn shown(path: &Path, repo: &Repository) -> String {
    repo.workdir()
        .and_then(|w| path.strip_prefix(w).ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| path.display().to_string())
}

/// The repository around `cwd` and its hooks folder, or the exit code after saying why not.
fn open_hooks(cwd: &Path) -> Result<(Repository, HooksDir), i32> {
    let repo = open(cwd)?;
    match hooks_dir(&repo) {
        Ok(dir) => Ok((repo, dir)),
        Err(e) => {
            eprintln!("error: cannot read the git config: {}", e.message());
            Err(exit::GIT)
        }
    }
}

/// `hooks install`.
pub fn install(cwd: &Path) -> i32 {
    let (repo, dir) = match open_hooks(cwd) {
        Ok(found) => found,
        Err(code) => return code,
    };
    if let Some(script) = husky_script(&dir) {
        return install_husky(&repo, &script);
    }
    let hook = dir.path.join(HOOK);
    let old = old_path(&hook);
    let state = state_of(&hook);
    if state == HookState::Foreign {
        if old.exists() {
            eprintln!(
                "error: {} is not neon-migrate's, and {} exists already; nothing changed\n  help: merge or remove one of them, then run `neon-migrate hooks install` again",
                shown(&hook, &repo),
                shown(&old, &repo)
            );
            return exit::CONFIG;
        }
        if let Err(e) = std::fs::rename(&hook, &old) {
            eprintln!("error: cannot move {} aside: {e}", shown(&hook, &repo));
            return exit::INTERNAL;
        }
        println!(
            "kept the existing hook as {}; it still runs first",
            shown(&old, &repo)
        );
        let text = std::fs::read_to_string(&old).unwrap_or_default();
        if let Some(m) = hook_manager(&text) {
            println!("  note: it looks like {m}'s hook; README § Hook managers shows how to call neon-migrate from {m} instead");
        }
    }
    if state == HookState::Current {
        println!("{} is installed and current", shown(&hook, &repo));
        return exit::OK;
    }
    if let Err(e) = write_script(&hook) {
        eprintln!("error: cannot write {}: {e}", shown(&hook, &repo));
        return exit::INTERNAL;
    }
    let how = match state {
        HookState::Outdated(v) => format!("updated {} (was {v})", shown(&hook, &repo)),
        _ => format!("installed {}", shown(&hook, &repo)),
    };
    let via = if dir.from_config {
        " (core.hooksPath)"
    } else {
        ""
    };
    println!("{how}{via}; bypass it once with NEON_MIGRATE=0 git push");
    exit::OK
}

/// The line husky's `.husky/pre-push` needs (README § Hook managers).
const HUSKY_LINE: &str = "neon-migrate hook pre-push \"$@\"";

/// `.husky/pre-push` when `core.hooksPath` is husky 9's generated `.husky/_` folder. Husky
/// rewrites that folder on every `npm install` (its `prepare` script): a hook written there
/// would be dropped without a word, and pushes would go unproven. Its `pre-push` stub runs
/// `.husky/pre-push`, which husky never touches.
fn husky_script(dir: &HooksDir) -> Option<PathBuf> {
    let generated = dir.from_config
        && dir.path.file_name().is_some_and(|n| n == "_")
        && dir.path.join("h").is_file();
    generated.then(|| dir.path.parent().map(|p| p.join(HOOK)))?
}

/// Adds the neon-migrate line to husky's `.husky/pre-push` (creating it if needed).
fn install_husky(repo: &Repository, script: &Path) -> i32 {
    let text = std::fs::read_to_string(script).unwrap_or_default();
    let shown_script = shown(script, repo);
    if text.contains("neon-migrate hook pre-push") {
        println!("{shown_script} already runs neon-migrate hook pre-push (husky runs it before each push)");
        return exit::OK;
    }
    let mut new = text.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(HUSKY_LINE);
    new.push('\n');
    if let Err(e) = std::fs::write(script, new) {
        eprintln!("error: cannot write {shown_script}: {e}");
        return exit::INTERNAL;
    }
    println!(
        "husky runs this repository's hooks (core.hooksPath = .husky/_, rewritten by every `npm install`):\n\
         {} {shown_script} with `{HUSKY_LINE}`, which husky runs before each push; commit it so everyone's pushes are proven\n\
         bypass it once with NEON_MIGRATE=0 git push",
        if text.is_empty() { "wrote" } else { "appended to" }
    );
    exit::OK
}

fn write_script(hook: &Path) -> std::io::Result<()> {
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

/// `hooks uninstall`: removes our hook and puts a kept `.old` one back.
pub fn uninstall(cwd: &Path) -> i32 {
    let (repo, dir) = match open_hooks(cwd) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let hook = dir.path.join(HOOK);
    let old = old_path(&hook);
    match state_of(&hook) {
        HookState::Absent => println!("no {HOOK} hook in {}", shown(&dir.path, &repo)),
        HookState::Foreign => {
            println!("{} is not neon-migrate's; left alone", shown(&hook, &repo));
            return exit::OK;
        }
        HookState::Current | HookState::Outdated(_) => {
            if let Err(e) = std::fs::remove_file(&hook) {
                eprintln!("error: cannot remove {}: {e}", shown(&hook, &repo));
                return exit::INTERNAL;
            }
            println!("removed {}", shown(&hook, &repo));
        }
    }
    if old.exists() && !hook.exists() {
        if let Err(e) = std::fs::rename(&old, &hook) {
            eprintln!("error: cannot restore {}: {e}", shown(&old, &repo));
            return exit::INTERNAL;
        }
        println!("restored {} as {}", shown(&old, &repo), shown(&hook, &repo));
    }
    exit::OK
}

/// `hooks status`: where the hook is, whether it is ours and current, what it would run and
/// which paths it watches.
pub fn status(cwd: &Path, explicit_config: Option<&Path>) -> i32 {
    let (repo, dir) = match open_hooks(cwd) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let hook = dir.path.join(HOOK);
    let via = if dir.from_config {
        "core.hooksPath"
    } else {
        "default; core.hooksPath unset"
    };
    println!("hooks folder   {} ({via})", shown(&dir.path, &repo));
    let state = state_of(&hook);
    let line = match &state {
        HookState::Absent => "not installed (run `neon-migrate hooks install`)".to_owned(),
        HookState::Current => format!(
            "installed, v{} (current)",
            fingerprint_version(SCRIPT).unwrap_or("?")
        ),
        HookState::Outdated(v) => {
            format!("installed, {v}: outdated (run `neon-migrate hooks install` to update)")
        }
        HookState::Foreign => {
            let text = std::fs::read_to_string(&hook).unwrap_or_default();
            match hook_manager(&text) {
                Some(m) => format!("{m}'s hook, not neon-migrate's (see README § Hook managers)"),
                None => "a hook that is not neon-migrate's".to_owned(),
            }
        }
    };
    println!("{HOOK:<14} {line}");
    if let Some(script) = husky_script(&dir) {
        let text = std::fs::read_to_string(&script).unwrap_or_default();
        let calls = if text.contains("neon-migrate hook pre-push") {
            "runs neon-migrate hook pre-push before each push"
        } else {
            "does not run neon-migrate (run `neon-migrate hooks install`)"
        };
        println!("husky          {} {calls}", shown(&script, &repo));
    }
    let old = old_path(&hook);
    if old.exists() {
        println!("kept hook      {} (runs first)", shown(&old, &repo));
    }
    println!("runs           {}", binary_lookup());
    if let Some(root) = repo.workdir().map(Path::to_owned) {
        let projects = match projects(&repo, explicit_config, cwd, &root) {
            Ok(p) => p,
            Err(code) => return code,
        };
        // One line per project; a project below the root is named first.
        for p in &projects {
            println!("watches        {}{}", p.label(), p.watched.describe());
        }
    }
    exit::OK
}

/// What the installed script would run, in its own lookup order.
fn binary_lookup() -> String {
    if let Some(b) = std::env::var_os("NEON_MIGRATE_BIN").filter(|b| !b.is_empty()) {
        return format!("{} ($NEON_MIGRATE_BIN)", Path::new(&b).display());
    }
    if let Some(p) = find_on_path("neon-migrate") {
        return format!("{} (PATH)", p.display());
    }
    if find_on_path("cargo").is_some() {
        return "cargo xtask migrate (neon-migrate is not on PATH)".into();
    }
    "nothing: neon-migrate is not on PATH and there is no cargo; pushes will fail".into()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The paths whose change means a push has something to prove: relative to the work tree
/// root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    Paths(Vec<String>),
    /// Any change counts (the reason says why).
    Everything(String),
}

impl Watched {
    pub fn describe(&self) -> String {
        match self {
            Watched::Paths(p) => p.join(", "),
            Watched::Everything(why) => format!("every path ({why})"),
        }
    }
}

/// The paths a tool reads its migrations from (`[tool] watch`, from the tool's preset or the
/// project; the `sql` tool's `migrations-dir`); `None` when neon-migrate cannot know them, so
/// every change counts.
fn tool_paths(config: &Config) -> Option<Vec<PathBuf>> {
    config.tool.watch.clone()
}

/// The watched paths of a project: the tool's paths plus the config file itself (it declares
/// the checks), relative to the git work tree root `git_root`.
pub fn watched_paths(config: &Config, git_root: &Path) -> Watched {
    let Some(mut paths) = tool_paths(config) else {
        return Watched::Everything(format!(
            "tool `{}` runs a command whose inputs neon-migrate cannot know; list them in `watch` under [tool]",
            config.tool.name
        ));
    };
    paths.extend(config.path.clone());
    let root = git_root
        .canonicalize()
        .unwrap_or_else(|_| git_root.to_owned());
    let mut out = Vec::new();
    for p in paths {
        // A folder that does not exist yet has no canonical form: resolve its parent.
        let full = p.canonicalize().ok().or_else(|| {
            let parent = p.parent()?.canonicalize().ok()?;
            Some(parent.join(p.file_name()?))
        });
        let rel = full.as_deref().and_then(|f| f.strip_prefix(&root).ok());
        match rel {
            Some(r) if !r.as_os_str().is_empty() => {
                out.push(r.to_string_lossy().replace('\\', "/"))
            }
            _ => {
                return Watched::Everything(format!(
                    "{} is not inside the git work tree",
                    p.display()
                ))
            }
        }
    }
    out.sort();
    out.dedup();
    Watched::Paths(out)
}

/// One line of the pre-push hook's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local: Oid,
    pub remote_ref: String,
    pub remote: Oid,
}

impl PushedRef {
    /// The git branch being pushed: the local git branch, else the remote one, else the
    /// short sha.
    pub fn git_branch(&self) -> (String, bool) {
        for r in [&self.local_ref, &self.remote_ref] {
            if let Some(b) = r.strip_prefix("refs/heads/") {
                return (b.to_owned(), false);
            }
        }
        (self.local.to_string()[..7].to_owned(), true)
    }
}

/// Parses what git writes to a pre-push hook's stdin: `<local ref> <local sha> <remote ref>
/// <remote sha>` per line.
pub fn parse_pushed(text: &str) -> Result<Vec<PushedRef>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local, remote_ref, remote] = f[..] else {
            return Err(format!(
                "not a pre-push line (`<local ref> <local sha> <remote ref> <remote sha>`): {line}"
            ));
        };
        let oid = |s: &str| Oid::from_str(s).map_err(|_| format!("not a commit id: {s}"));
        out.push(PushedRef {
            local_ref: local_ref.to_owned(),
            local: oid(local)?,
            remote_ref: remote_ref.to_owned(),
            remote: oid(remote)?,
        });
    }
    Ok(out)
}

/// pre-commit reads the hook's stdin itself and passes one pushed range in the environment.
fn pushed_from_pre_commit() -> Option<PushedRef> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let to = Oid::from_str(&var("PRE_COMMIT_TO_REF")?).ok()?;
    let from = var("PRE_COMMIT_FROM_REF")
        .and_then(|f| Oid::from_str(&f).ok())
        .unwrap_or_else(Oid::zero);
    Some(PushedRef {
        local_ref: var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| to.to_string()),
        local: to,
        remote_ref: var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
        remote: from,
    })
}

/// The tip of the remote's default git branch: `refs/remotes/<remote>/HEAD`, else its `main`
/// or `master`. `remote` may be a URL (a push to a URL): the remote with that URL is used.
fn remote_default_tip(repo: &Repository, remote: &str, url: &str) -> Option<(String, Oid)> {
    let mut names = vec![remote.to_owned()];
    if let Ok(remotes) = repo.remotes() {
        for name in remotes.iter().flatten() {
            let same = repo
                .find_remote(name)
                .ok()
                .and_then(|r| r.url().map(|u| u == url || u == remote))
                .unwrap_or(false);
            if same && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    for name in &names {
        for leaf in ["HEAD", "main", "master"] {
            let refname = format!("refs/remotes/{name}/{leaf}");
            if let Ok(r) = repo.find_reference(&refname) {
                if let Ok(resolved) = r.resolve() {
                    if let Some(oid) = resolved.target() {
                        let shown = resolved
                            .name()
                            .and_then(|n| n.strip_prefix("refs/remotes/"))
                            .unwrap_or(&refname)
                            .to_owned();
                        return Some((shown, oid));
                    }
                }
            }
        }
    }
    None
}

/// The commit a pushed range starts from, and how it was chosen. `None`: nothing to compare
/// with, every file of the pushed commit counts.
fn range_base(repo: &Repository, r: &PushedRef, remote: &str, url: &str) -> (Option<Oid>, String) {
    if !r.remote.is_zero() && repo.find_commit(r.remote).is_ok() {
        return (Some(r.remote), format!("since {}", short(r.remote)));
    }
    let why = if r.remote.is_zero() {
        "new git branch"
    } else {
        "remote tip not fetched"
    };
    match remote_default_tip(repo, remote, url) {
        Some((name, tip)) => match repo.merge_base(r.local, tip) {
            Ok(base) => (
                Some(base),
                format!("since its merge-base {} with {name} ({why})", short(base)),
            ),
            Err(_) => (
                None,
                format!("every file: no common history with {name} ({why})"),
            ),
        },
        None => (
            None,
            format!("every file: the remote has no default git branch to compare with ({why})"),
        ),
    }
}

fn short(oid: Oid) -> String {
    oid.to_string()[..7].to_owned()
}

/// Files under the watched paths that differ between `base` and `head` (all of them when
/// there is no base). Compares the watched entries' object ids first, which decides the
/// common no-op case without walking any tree.
pub fn watched_changes(
    repo: &Repository,
    base: Option<Oid>,
    head: Oid,
    watched: &Watched,
) -> Result<Vec<String>, git2::Error> {
    let new = repo.find_commit(head)?.tree()?;
    let old = match base {
        Some(b) => Some(repo.find_commit(b)?.tree()?),
        None => None,
    };
    let paths: &[String] = match watched {
        Watched::Paths(p) => p,
        Watched::Everything(_) => &[],
    };
    if let (Some(old), Watched::Paths(_)) = (&old, watched) {
        let id = |t: &git2::Tree, p: &str| t.get_path(Path::new(p)).ok().map(|e| e.id());
        if paths.iter().all(|p| id(old, p) == id(&new, p)) {
            return Ok(Vec::new());
        }
    }
    let mut opts = git2::DiffOptions::new();
    for p in paths {
        opts.pathspec(p);
    }
    let diff = repo.diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))?;
    Ok(diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect())
}

/// Loads the project's config without the "no config" note: the hook runs on every push.
fn load_quietly(explicit: Option<&Path>, cwd: &Path, root: &Path) -> Result<Config, i32> {
    let path = match explicit {
        Some(p) => Some(p.to_owned()),
        None => config::discover(cwd, Some(root)),
    };
    match path {
        None => Ok(config::defaults(root)),
        Some(p) => crate::cli::load_config(Some(&p), cwd, None),
    }
}

/// A ref that has something to prove.
struct Pending {
    pushed: PushedRef,
    git_branch: String,
    detached: bool,
    /// The projects (indexes) whose watched paths it changes.
    projects: Vec<usize>,
}

/// `hook pre-push <remote> <url>`: the refs come on stdin (or from pre-commit's environment).
pub fn pre_push(
    cwd: &Path,
    explicit_config: Option<&Path>,
    remote: Option<&str>,
    url: Option<&str>,
) -> i32 {
    // Also checked here, not only in our script, so the bypass works under hook managers.
    if std::env::var_os("NEON_MIGRATE").is_some_and(|v| v == "0") {
        eprintln!("neon-migrate: skipped (NEON_MIGRATE=0)");
        return exit::OK;
    }
    let mut input = String::new();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        if let Err(e) = stdin.lock().read_to_string(&mut input) {
            eprintln!("error: cannot read the pushed refs from stdin: {e}");
            return exit::INTERNAL;
        }
    }
    let mut pushed = match parse_pushed(&input) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}\n  help: git passes the pushed refs on stdin; run this from a pre-push hook");
            return exit::USAGE;
        }
    };
    if pushed.is_empty() {
        pushed.extend(pushed_from_pre_commit());
    }
    let remote = remote
        .map(str::to_owned)
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok())
        .unwrap_or_else(|| "origin".into());
    let url = url
        .map(str::to_owned)
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_URL").ok())
        .unwrap_or_default();
    if pushed.is_empty() {
        eprintln!("neon-migrate: no pushed refs on stdin; nothing to prove");
        return exit::OK;
    }

    let repo = match open(cwd) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Some(root) = repo.workdir().map(Path::to_owned) else {
        eprintln!("neon-migrate: a bare repository has no migrations to prove; skipping");
        return exit::OK;
    };
    prune_stale_worktrees(&repo);
    let projects = match projects(&repo, explicit_config, cwd, &root) {
        Ok(p) => p,
        Err(code) => return code,
    };

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
        let (base, how) = range_base(&repo, &r, &remote, &url);
        let mut affected = Vec::new();
        for (i, project) in projects.iter().enumerate() {
            let changed = match watched_changes(&repo, base, r.local, &project.watched) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!(
                        "error: cannot compare the pushed commits of git branch {git_branch}: {}",
                        e.message()
                    );
                    return exit::GIT;
                }
            };
            let label = project.label();
            if changed.is_empty() {
                eprintln!(
                    "neon-migrate: git branch {git_branch} at {} {how}: {label}no watched path changed ({}); nothing to prove",
                    short(r.local),
                    project.watched.describe()
                );
                continue;
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
            });
        }
    }
    if pending.is_empty() {
        return exit::OK;
    }
    let head = repo.head().ok().and_then(|h| h.target());
    drop(repo);

    let runtime = match crate::cli::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut code = exit::OK;
    for p in pending {
        let sha = p.pushed.local.to_string();
        let worktree = if head == Some(p.pushed.local) {
            None
        } else {
            match Worktree::add(&root, &sha) {
                Ok(mut w) => {
                    eprintln!(
                        "neon-migrate: {} is not checked out; proving it in a temporary worktree",
                        short(p.pushed.local)
                    );
                    let mut dirs: Vec<PathBuf> = vec![PathBuf::new()];
                    for &i in &p.projects {
                        dirs.extend(projects[i].dirs.iter().cloned());
                    }
                    let linked = w.link_dependencies(&root, &dirs);
                    if !linked.is_empty() {
                        eprintln!(
                            "neon-migrate: using the checked-out tree's {}",
                            linked.join(", ")
                        );
                    }
                    Some(w)
                }
                Err(e) => {
                    eprintln!(
                        "error: cannot check out the pushed commit {}: {e}",
                        short(p.pushed.local)
                    );
                    return exit::GIT;
                }
            }
        };
        for &i in &p.projects {
            let project = &projects[i];
            // The project folder inside the pushed commit's tree.
            let (run_root, config) = match &worktree {
                None => (root.clone(), Ok(project.config.clone())),
                Some(w) => {
                    let config = match &project.path {
                        // A config named with --config is read where it is, as before.
                        _ if explicit_config.is_some() => {
                            load_quietly(explicit_config, &w.path.join(&project.dir), &w.path)
                        }
                        Some(rel) if !w.path.join(rel).is_file() => {
                            eprintln!(
                                "neon-migrate: {} is not in the pushed commit; nothing to prove for it",
                                rel.display()
                            );
                            continue;
                        }
                        Some(rel) => {
                            crate::cli::load_config(Some(&w.path.join(rel)), &w.path, None)
                        }
                        None => load_quietly(None, &w.path.join(&project.dir), &w.path),
                    };
                    (w.path.clone(), config)
                }
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
                    let outputs = crate::output::Outputs::from_env(false, None, Some(&root));
                    runtime.block_on(crate::cli::run_with(&config, &git, PIPELINE, &outputs))
                }
                Err(c) => c,
            };
            if code == exit::OK {
                code = c;
            }
        }
        drop(worktree);
    }
    if code != exit::OK {
        eprintln!("neon-migrate: {}", stopped_because(code));
    }
    code
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
        return format!("the push is stopped: the migration tool could not start, so nothing is known about the migration; install its dependencies (see above), {BYPASS}");
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

/// A neon-migrate project the hook may prove: one config file (or the defaults at the root).
struct HookProject {
    /// The config file, relative to the work tree root (`None`: the defaults).
    path: Option<PathBuf>,
    /// The project folder, relative to the work tree root.
    dir: PathBuf,
    /// Folders (relative to the work tree root) whose dependency folders a temporary
    /// worktree borrows: the project folder and the tool's working folder.
    dirs: Vec<PathBuf>,
    config: Config,
    watched: Watched,
}

impl HookProject {
    /// "backend/neon-migrate.toml: " for a project below the root, nothing at the root.
    fn label(&self) -> String {
        match &self.path {
            Some(p) if p.parent().is_some_and(|d| !d.as_os_str().is_empty()) => {
                format!("{}: ", p.display())
            }
            _ => String::new(),
        }
    }

    fn shown(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "the defaults".into(),
        }
    }
}

/// Config files tracked by git below the work tree root (from the index: no walk of the
/// tree), outside dependency folders. The index file is scanned directly
/// ([`crate::gitindex`]); libgit2 answers when that reader is not sure.
fn configs_below(repo: &Repository) -> Vec<PathBuf> {
    let name = config::FILE_NAME.as_bytes();
    let sha256 = repo
        .config()
        .and_then(|c| c.get_string("extensions.objectformat"))
        .is_ok_and(|f| f.eq_ignore_ascii_case("sha256"));
    let fast = crate::gitindex::paths_named(
        &repo.path().join("index"),
        name,
        if sha256 { 32 } else { 20 },
    );
    let paths = match fast {
        Some(p) => p,
        None => {
            let Ok(index) = repo.index() else {
                return Vec::new();
            };
            index
                .iter()
                .map(|e| e.path)
                .filter(|p| {
                    p.as_slice() == name
                        || (p.len() > name.len()
                            && p.ends_with(name)
                            && p[p.len() - name.len() - 1] == b'/')
                })
                .collect()
        }
    };
    paths
        .into_iter()
        .map(|p| String::from_utf8_lossy(&p).into_owned())
        .filter(|path| {
            !path
                .split('/')
                .any(|seg| matches!(seg, "node_modules" | "vendor" | ".venv" | "venv" | "target"))
        })
        .map(PathBuf::from)
        .collect()
}

/// The projects a push may need to prove: the config `explicit` names; else the config found
/// from `cwd` up to the root and every config git tracks below the root (a monorepo's
/// folders each have their own); else the defaults at the root.
fn projects(
    repo: &Repository,
    explicit: Option<&Path>,
    cwd: &Path,
    root: &Path,
) -> Result<Vec<HookProject>, i32> {
    let rel = |p: &Path| -> Option<PathBuf> {
        let canon = |x: &Path| x.canonicalize().unwrap_or_else(|_| x.to_owned());
        canon(p).strip_prefix(canon(root)).ok().map(Path::to_owned)
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    match explicit {
        Some(p) => paths.push(p.to_owned()),
        None => {
            if let Some(found) = config::discover(cwd, Some(root)) {
                paths.push(found);
            }
            for p in configs_below(repo) {
                let full = root.join(&p);
                if full.is_file() && !paths.iter().any(|q| rel(q) == Some(p.clone())) {
                    paths.push(full);
                }
            }
        }
    }
    let mut out = Vec::new();
    for path in paths {
        let config = load_quietly(Some(&path), cwd, root)?;
        let watched = watched_paths(&config, root);
        let dir = path.parent().and_then(rel).unwrap_or_default();
        let mut dirs = vec![dir.clone()];
        if let Some(wd) = rel(&config.tool.working_dir) {
            if !dirs.contains(&wd) {
                dirs.push(wd);
            }
        }
        out.push(HookProject {
            path: rel(&path),
            dir,
            dirs,
            config,
            watched,
        });
    }
    if out.is_empty() {
        let config = load_quietly(None, cwd, root)?;
        let watched = watched_paths(&config, root);
        let dir = rel(cwd).unwrap_or_default();
        out.push(HookProject {
            path: None,
            dirs: vec![dir.clone()],
            dir,
            config,
            watched,
        });
    }
    Ok(out)
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

/// A temporary, detached worktree of one commit; removed when dropped.
struct Worktree {
    repo_root: PathBuf,
    path: PathBuf,
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
/// their folder is): otherwise they stay registered in the repository for good.
fn prune_stale_worktrees(repo: &Repository) {
    let Ok(entries) = std::fs::read_dir(repo.commondir().join("worktrees")) else {
        return;
    };
    let Some(root) = repo.workdir().map(Path::to_owned) else {
        return;
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
            let ok = git(&root)
                .args(["worktree", "remove", "--force", "--force"])
                .arg(&wt)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if !ok {
                let _ = std::fs::remove_dir_all(&wt);
            }
        }
        removed += 1;
    }
    if removed > 0 {
        let _ = git(&root).args(["worktree", "prune"]).output();
        eprintln!(
            "neon-migrate: removed {removed} temporary worktree(s) left by an interrupted push"
        );
    }
}

impl Worktree {
    fn add(repo_root: &Path, sha: &str) -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!(
            "{WORKTREE_PREFIX}{}-{}",
            &sha[..7],
            std::process::id()
        ));
        let out = git(repo_root)
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&path)
            .arg(sha)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Worktree {
            repo_root: repo_root.to_owned(),
            path,
            links: Vec::new(),
        })
    }

    /// Links the dependency folders of `dirs` (relative to the work tree root) from the
    /// checked-out tree into this worktree, where the pushed commit has none; returns them.
    fn link_dependencies(&mut self, repo_root: &Path, dirs: &[PathBuf]) -> Vec<String> {
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
        let removed = git(&self.repo_root)
            .args(["worktree", "remove", "--force"])
            .arg(&self.path)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !removed {
            let _ = std::fs::remove_dir_all(&self.path);
            let _ = git(&self.repo_root).args(["worktree", "prune"]).output();
        }
    }
}

/// `git` in `root`, free of the variables git sets for the hook that runs us.
fn git(root: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(root)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_lines_parse_and_name_the_git_branch() {
        let a = "1".repeat(40);
        let z = "0".repeat(40);
        let text = format!(
            "refs/heads/feature/x {a} refs/heads/feature/x {z}\n\n(delete) {z} refs/heads/gone {a}\nHEAD {a} refs/heads/topic {z}\n"
        );
        let refs = parse_pushed(&text).expect("parses");
        assert_eq!(refs.len(), 3);
        assert_eq!(refs[0].git_branch(), ("feature/x".to_owned(), false));
        assert!(refs[0].remote.is_zero());
        assert!(refs[1].local.is_zero());
        assert_eq!(refs[2].git_branch(), ("topic".to_owned(), false));
        let sha_only = PushedRef {
            local_ref: a.clone(),
            local: Oid::from_str(&a).unwrap(),
            remote_ref: "refs/tags/v1".into(),
            remote: Oid::zero(),
        };
        assert_eq!(sha_only.git_branch(), ("1111111".to_owned(), true));
        assert!(parse_pushed("refs/heads/x abc").is_err());
        assert!(parse_pushed(&format!("a nothex b {z}")).is_err());
    }

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
        let out = Command::new("sh")
            .args(["-n", "-c", SCRIPT])
            .output()
            .expect("sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
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

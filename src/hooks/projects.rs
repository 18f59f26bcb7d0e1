//! The neon-migrate projects a push may need to prove (a monorepo has several), and the paths
//! whose change means there is something to prove.

use std::path::{Path, PathBuf};

use git2::Repository;

use crate::app::SetupError;
use crate::config::{self, Config};

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

/// The watched paths of `project` (not its config file) that `exists` says are not there: a
/// folder the preset guessed or `watch` names where the migrations are not. A push changing
/// the real migrations would then look like it changes nothing. The `sql` tool is left out:
/// its folder is where it reads migrations from, so a missing one holds none.
pub fn missing_watched(
    project: &HookProject,
    watched: &Watched,
    exists: impl Fn(&str) -> bool,
) -> Vec<String> {
    let Watched::Paths(paths) = watched else {
        return Vec::new();
    };
    if matches!(project.config.tool.kind, config::ToolKind::Sql { .. }) {
        return Vec::new();
    }
    paths
        .iter()
        .filter(|p| !p.contains(['*', '?', '{', '[']))
        .filter(|p| !p.ends_with(config::FILE_NAME))
        .filter(|p| !exists(p))
        .cloned()
        .collect()
}

/// The watched paths of `project` for a pushed commit: the checked-out tree's, and — when the
/// pushed commit is not the checked-out one — its own config's too (a commit that moved the
/// migrations folder). A config that does not parse there, or a tool config file (such as
/// `.sequelizerc`) that differs there, makes every path count: the run in the pushed commit's
/// tree then says what is wrong or proves it.
pub fn watched_in_commit(
    repo: &Repository,
    project: &HookProject,
    root: &Path,
    commit: git2::Oid,
) -> Watched {
    let head = repo.head().ok().and_then(|h| h.target());
    if head == Some(commit) {
        return project.watched.clone();
    }
    let short = super::pushed::short(commit);
    let Ok(pushed) = repo.find_commit(commit).and_then(|c| c.tree()) else {
        return project.watched.clone();
    };
    let checked_out = head.and_then(|h| repo.find_commit(h).and_then(|c| c.tree()).ok());
    let blob = |tree: Option<&git2::Tree>, rel: &Path| -> Option<Vec<u8>> {
        let entry = tree?.get_path(rel).ok()?;
        Some(repo.find_blob(entry.id()).ok()?.content().to_vec())
    };
    // The tool's own config files, from the checked-out working folder.
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    if let Ok(wd) = canon(&project.config.tool.working_dir).strip_prefix(canon(root)) {
        for source in crate::tools::layout::sources(&project.config.tool.name) {
            let rel = wd.join(&source);
            if blob(Some(&pushed), &rel) != blob(checked_out.as_ref(), &rel) {
                return Watched::Everything(format!(
                    "{} differs in the pushed commit {short} from the checked-out tree, so where that commit keeps its migrations is known only there",
                    rel.display()
                ));
            }
        }
    }
    let rel = project
        .path
        .clone()
        .unwrap_or_else(|| project.dir.join(config::FILE_NAME));
    let Some(text) = blob(Some(&pushed), &rel) else {
        return project.watched.clone();
    };
    if blob(checked_out.as_ref(), &rel).as_deref() == Some(&text[..]) {
        return project.watched.clone();
    }
    let parsed = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| config::parse(config::FILE_NAME, t, &root.join(&project.dir)).ok());
    let Some(theirs) = parsed else {
        return Watched::Everything(format!(
            "{} cannot be read as the pushed commit {short} has it (it does not parse, or names what only that commit has)",
            rel.display()
        ));
    };
    match (project.watched.clone(), watched_paths(&theirs, root)) {
        (Watched::Paths(mut mine), Watched::Paths(other)) => {
            mine.extend(other);
            mine.sort();
            mine.dedup();
            Watched::Paths(mine)
        }
        (Watched::Everything(why), _) | (_, Watched::Everything(why)) => Watched::Everything(why),
    }
}

/// Loads the project's config without the "no config" note: the hook runs on every push.
pub fn load_quietly(
    explicit: Option<&Path>,
    cwd: &Path,
    root: &Path,
) -> Result<Config, SetupError> {
    let path = match explicit {
        Some(p) => Some(p.to_owned()),
        None => config::discover(cwd, Some(root)),
    };
    match path {
        None => Ok(config::defaults(root)),
        Some(p) => crate::app::setup::load_file(&p).map(|l| l.config),
    }
}

/// A neon-migrate project the hook may prove: one config file (or the defaults at the root).
pub struct HookProject {
    /// The config file, relative to the work tree root (`None`: the defaults).
    pub path: Option<PathBuf>,
    /// The project folder, relative to the work tree root.
    pub dir: PathBuf,
    /// Folders (relative to the work tree root) whose dependency folders a temporary
    /// worktree borrows: the project folder and the tool's working folder.
    pub dirs: Vec<PathBuf>,
    pub config: Config,
    pub watched: Watched,
}

impl HookProject {
    /// "backend/neon-migrate.toml: " for a project below the root, nothing at the root.
    pub fn label(&self) -> String {
        match &self.path {
            Some(p) if p.parent().is_some_and(|d| !d.as_os_str().is_empty()) => {
                format!("{}: ", p.display())
            }
            _ => String::new(),
        }
    }

    pub fn shown(&self) -> String {
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
pub fn projects(
    repo: &Repository,
    explicit: Option<&Path>,
    cwd: &Path,
    root: &Path,
) -> Result<Vec<HookProject>, SetupError> {
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

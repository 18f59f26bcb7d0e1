//! Migrations a run must not pass over in silence.
//!
//! - **Strays**: a file in a migrations folder that looks like a migration (a code or SQL file)
//!   but that the tool will not run — a Sequelize `x.mjs` (sequelize-cli loads `.js`, `.cjs`,
//!   `.ts`), Alembic revisions in the built-in `sql` tool's folder. The tool applies nothing,
//!   the tracking table agrees, and "nothing was pending" would read as a pass. A file counts
//!   when its folder holds the tool's `migration-files` and it matches none of them; files every
//!   tool keeps beside its migrations (`__init__.py`, `env.py`, `index.js`, `lib.rs`, down
//!   files, Flyway's repeatable `R__` files) are left out.
//! - **Edited applied migrations**: a migration file that existed at the start of the range
//!   (the pushed range in the git hook; for `run`, the merge-base with the remote's default git
//!   branch) and was changed or deleted. A database that already applied it never runs the
//!   change. After the run, the tracking rows say whether it was applied before the run (on the
//!   copy of the main Neon database branch): then the run fails; when this run applied it, it
//!   was not yet on the main Neon database branch, and the edit is fine.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{Delta, Oid, Repository};

use crate::config::{Config, ToolKind};
use crate::tools::detect::{expand_braces, glob_match, Tree};
use crate::tools::{presets, recorded};

/// Extensions migrations are written in.
const CODE: &[&str] = &[
    "sql", "py", "js", "mjs", "cjs", "ts", "mts", "cts", "rb", "go", "exs", "ex", "php", "java",
    "kt", "scala", "groovy", "rs", "cs",
];

/// Files that sit beside migrations in some tool's layout and are never one themselves.
const BESIDE: &[&str] = &[
    "env.py",
    "conftest.py",
    "schema.rb",
    "seeds.rb",
    "index.js",
    "index.ts",
    "index.mjs",
    "index.cjs",
    "lib.rs",
    "main.rs",
    "mod.rs",
    "down.sql",
];

fn extension(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(_, e)| e)
}

fn looks_like_migration(name: &str) -> bool {
    extension(name).is_some_and(|e| CODE.contains(&e))
}

/// Whether `name` is a file tools keep beside their migrations.
fn beside(name: &str) -> bool {
    let flyway_other = |p: char| {
        name.strip_prefix(p).is_some_and(|rest| {
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            rest[digits..].starts_with("__") && (p == 'R' || digits > 0)
        })
    };
    BESIDE.contains(&name)
        || name.starts_with(['_', '.', '~'])
        || name.ends_with(".down.sql")
        || name.ends_with(".undo.sql")
        || name.ends_with(".d.ts")
        || name.contains(".test.")
        || name.contains(".spec.")
        || flyway_other('R')
        || flyway_other('U')
}

fn matches_any(globs: &[&String], path: &str) -> bool {
    globs.iter().any(|g| {
        expand_braces(g.trim_start_matches('!'))
            .iter()
            .any(|p| glob_match(p, path))
    })
}

/// Files (names) directly in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn listed(files: &[String]) -> String {
    crate::report::collapse(files, 8)
}

/// The files in the folders of `migration-files` (relative to `dir`) that look like
/// migrations and match none of the globs.
pub fn strays_of(dir: &Path, globs: &[String]) -> Vec<String> {
    let (exclude, include): (Vec<&String>, Vec<&String>) =
        globs.iter().partition(|g| g.starts_with('!'));
    let tree = Tree::new(dir);
    let mut folders: Vec<String> = Vec::new();
    for g in &include {
        for pattern in expand_braces(g) {
            // A glob at the top of the folder names no migrations folder.
            let Some((parent, _)) = pattern.rsplit_once('/') else {
                continue;
            };
            for f in tree.matches(parent) {
                if dir.join(&f).is_dir() && !folders.contains(&f) {
                    folders.push(f);
                }
            }
        }
    }
    let mut out = Vec::new();
    for folder in folders {
        for name in files_in(&dir.join(&folder)) {
            let path = format!("{folder}/{name}");
            if !looks_like_migration(&name)
                || beside(&name)
                || matches_any(&include, &path)
                || matches_any(&exclude, &path)
            {
                continue;
            }
            out.push(path);
        }
    }
    out
}

/// The tool a folder's files belong to, for the help: `init --tool NAME`.
fn detected_tool(dirs: &[&Path]) -> Option<&'static str> {
    dirs.iter().find_map(|d| {
        let found = presets::detect(&Tree::new(d));
        (found.len() == 1).then(|| found[0].name)
    })
}

/// What the built-in `sql` tool's folder holds that it will not run: code files beside its
/// `.sql` files, or — with no `.sql` file at all — another tool's migrations (`alembic.ini`,
/// `env.py`, `versions/*.py`). `(message, help)`.
pub fn sql_dir_strays(dir: &Path) -> Option<(String, String)> {
    let names = files_in(dir);
    let has_sql = names.iter().any(|n| n.ends_with(".sql"));
    let mut found: Vec<String> = names
        .iter()
        .filter(|n| !n.ends_with(".sql") && looks_like_migration(n))
        .filter(|n| !has_sql || !beside(n) || *n == "env.py")
        .filter(|n| has_sql || !n.starts_with('.'))
        .cloned()
        .collect();
    if !has_sql {
        found.extend(
            names
                .iter()
                .filter(|n| matches!(n.as_str(), "alembic.ini" | "script.py.mako"))
                .cloned(),
        );
        let subfolders = std::fs::read_dir(dir)
            .map(|r| {
                r.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| !n.starts_with('.') && n != "__pycache__")
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for sub in subfolders {
            for n in files_in(&dir.join(&sub)) {
                if looks_like_migration(&n) && !n.ends_with(".sql") && !n.starts_with('_') {
                    found.push(format!("{sub}/{n}"));
                }
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    found.sort();
    let shown = dir.display();
    let message = if has_sql {
        format!(
            "the built-in `sql` tool's folder {shown} holds files that look like migrations and that it will not run (it runs only `.sql` files): {}",
            listed(&found)
        )
    } else {
        format!(
            "the built-in `sql` tool's folder {shown} holds no `.sql` file but another tool's migrations, which it will not run: {}; a run would apply nothing and prove nothing",
            listed(&found)
        )
    };
    let parent = dir.parent().unwrap_or(dir);
    let help = match detected_tool(&[parent, dir]) {
        Some(tool) => format!(
            "these are `{tool}` migrations: set `name = \"{tool}\"` under [tool] (or run `neon-migrate init --tool {tool} --force`)"
        ),
        None => "set `name` under [tool] to the migration tool that runs these files (see `neon-migrate init`), or move files that are not migrations out of the folder".into(),
    };
    Some((message, help))
}

/// Files the configured tool will not run although they look like migrations: `(message,
/// help)`.
pub fn strays(config: &Config) -> Option<(String, String)> {
    let tool = &config.tool;
    if let ToolKind::Sql { migrations_dir } = &tool.kind {
        return sql_dir_strays(migrations_dir);
    }
    let globs = &tool.tracking.as_ref()?.migration_files;
    let found = strays_of(&tool.working_dir, globs);
    if found.is_empty() {
        return None;
    }
    Some((
        format!(
            "{} file(s) in the migrations folder look like migrations but match none of `{}`'s migration-files ({}), so the tool will not run them: {}",
            found.len(),
            tool.name,
            globs.join(", "),
            listed(&found)
        ),
        "rename each to a form the tool loads (its preset's `migration-files` list them), or, when the tool does run them, add their pattern to `migration-files` under [tool]; move files that are not migrations out of the folder".into(),
    ))
}

/// The range the git hook is proving, set before it runs the pipeline: migration files that
/// existed at `base` and changed by `head` are edits of possibly applied migrations.
#[derive(Debug, Clone)]
struct Range {
    base: Option<Oid>,
    head: Oid,
}

static PUSHED: Mutex<Option<Range>> = Mutex::new(None);

/// What the hook proves next: the pushed range (`base` `None`: no base, every file is new).
pub fn set_pushed_range(base: Option<Oid>, head: Oid) {
    if let Ok(mut r) = PUSHED.lock() {
        *r = Some(Range { base, head });
    }
}

fn pushed_range() -> Option<Range> {
    PUSHED.lock().ok().and_then(|r| r.clone())
}

/// Migration files (relative to the working folder) that existed at the range's base and were
/// changed (`false`) or deleted (`true`), with what the base was; `Err`: why it could not be
/// told.
/// Why edits of applied migrations could not be checked.
struct NotChecked(String);

impl<T: Into<String>> From<T> for NotChecked {
    fn from(why: T) -> Self {
        NotChecked(why.into())
    }
}

fn edited(config: &Config, globs: &[String]) -> Result<(Vec<(String, bool)>, String), NotChecked> {
    let repo = Repository::discover(&config.root).map_err(|e| e.message().to_owned())?;
    let workdir = repo
        .workdir()
        .ok_or("a bare repository")?
        .canonicalize()
        .map_err(|e| e.to_string())?;
    let wd = config
        .tool
        .working_dir
        .canonicalize()
        .unwrap_or_else(|_| config.tool.working_dir.clone());
    let prefix: PathBuf = wd.strip_prefix(&workdir).map(Path::to_owned).map_err(|_| {
        format!(
            "the tool's working folder {} is outside the git work tree",
            wd.display()
        )
    })?;
    let (diff, base) = match pushed_range() {
        Some(Range { base: None, .. }) => {
            return Err("the pushed range has no base to compare with".into())
        }
        Some(Range {
            base: Some(base),
            head,
        }) => {
            let old = repo.find_commit(base).and_then(|c| c.tree());
            let new = repo.find_commit(head).and_then(|c| c.tree());
            let (old, new) = (
                old.map_err(|e| e.message().to_owned())?,
                new.map_err(|e| e.message().to_owned())?,
            );
            let d = repo
                .diff_tree_to_tree(Some(&old), Some(&new), None)
                .map_err(|e| e.message().to_owned())?;
            (d, crate::hooks::pushed::short(base))
        }
        None => {
            let head = repo
                .head()
                .ok()
                .and_then(|h| h.target())
                .ok_or("no commit is checked out")?;
            let Some((name, tip)) = crate::hooks::pushed::default_tip(&repo, "origin", "") else {
                return Err("the remote `origin` has no default git branch to compare with (fetch it, or push through the git hook)".into());
            };
            let base = repo
                .merge_base(head, tip)
                .map_err(|_| format!("no common history with {name}"))?;
            let old = repo
                .find_commit(base)
                .and_then(|c| c.tree())
                .map_err(|e| e.message().to_owned())?;
            let d = repo
                .diff_tree_to_workdir_with_index(Some(&old), None)
                .map_err(|e| e.message().to_owned())?;
            (
                d,
                format!(
                    "{} (the merge-base with {name})",
                    crate::hooks::pushed::short(base)
                ),
            )
        }
    };
    let (exclude, include): (Vec<&String>, Vec<&String>) =
        globs.iter().partition(|g| g.starts_with('!'));
    let mut out = Vec::new();
    for d in diff.deltas() {
        let deleted = match d.status() {
            Delta::Modified | Delta::Typechange => false,
            Delta::Deleted | Delta::Renamed => true,
            _ => continue,
        };
        let Some(old) = d.old_file().path() else {
            continue;
        };
        let Ok(rel) = old.strip_prefix(&prefix) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if matches_any(&include, &rel) && !matches_any(&exclude, &rel) {
            out.push((rel, deleted));
        }
    }
    Ok((out, base))
}

/// Why `migration-files` cannot tell an edited migration: it matches no file in the working
/// folder while the tool has recorded migrations (a pattern that matches nothing would say
/// "no migration file was edited" of a check that never ran).
fn matches_nothing(config: &Config, globs: &[String], rows: &[String]) -> Option<String> {
    let dir = &config.tool.working_dir;
    if rows.is_empty() || !Tree::new(dir).files(globs).is_empty() {
        return None;
    }
    Some(format!(
        "`migration-files` ({}) matches no file in {} although the tool has {} migration(s) recorded; set `migration-files` under [tool] to where the migrations are",
        globs.join(", "),
        dir.display(),
        rows.len()
    ))
}

/// After the tool exited 0 (`rows`: the tracking rows now, `applied`: what this run applied):
/// `Err((message, help))` when a file the tool will not run is there, or a migration already
/// applied before this run was edited or deleted; else notes on what was checked.
pub fn after_run(
    config: &Config,
    rows: &[String],
    applied: &[String],
) -> Result<Vec<String>, (String, String)> {
    if let Some(e) = strays(config) {
        return Err(e);
    }
    let tool = &config.tool;
    let Some(t) = tool.tracking.as_ref() else {
        return Ok(Vec::new());
    };
    if t.migration_files.is_empty() {
        return Ok(vec![format!(
            "edits of already-applied migration files NOT CHECKED: `{}` has no `migration-files` to tell which files are migrations",
            tool.name
        )]);
    }
    if let Some(why) = matches_nothing(config, &t.migration_files, rows) {
        return Ok(vec![format!(
            "edits of already-applied migration files NOT CHECKED: {why}"
        )]);
    }
    let (changed, base) = match edited(config, &t.migration_files) {
        Ok(c) => c,
        Err(NotChecked(why)) => {
            return Ok(vec![format!(
                "edits of already-applied migration files NOT CHECKED: {why}"
            )])
        }
    };
    if changed.is_empty() {
        return Ok(vec![format!(
            "no migration file that existed at {base} was edited or deleted"
        )]);
    }
    let dir = &tool.working_dir;
    let files = Tree::new(dir).files(&t.migration_files);
    if recorded::unrecorded(&tool.name, dir, rows, &files).is_none() {
        return Ok(vec![format!(
            "{} migration file(s) that existed at {base} changed; whether they were already applied is NOT CHECKED: the tracking rows do not name the files",
            changed.len()
        )]);
    }
    let mut bad = Vec::new();
    let mut fine = Vec::new();
    for (file, deleted) in &changed {
        let before = recorded::records(&tool.name, dir, rows, file)
            && !recorded::records(&tool.name, dir, applied, file);
        let what = format!("{file} ({})", if *deleted { "deleted" } else { "edited" });
        if before {
            bad.push(what);
        } else {
            fine.push(what);
        }
    }
    if bad.is_empty() {
        return Ok(vec![format!(
            "migration file(s) changed since {base} were not yet applied on the main Neon database branch, so the change runs: {}",
            listed(&fine)
        )]);
    }
    Err((
        format!(
            "already-applied migration(s) changed since {base}: {}; the main Neon database branch (and every database that applied them) recorded them before this run and will never run the change, so the run proves nothing about it",
            listed(&bad)
        ),
        "restore the applied migration as it was, and write the change as a new migration".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in files {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        d
    }

    #[test]
    fn a_file_the_tool_does_not_load_is_a_stray_and_ordinary_layouts_have_none() {
        let d = tree(&[
            "migrations/0001-a.js",
            "migrations/0002-b.mjs",
            "migrations/index.js",
            "migrations/README.md",
        ]);
        let globs = vec!["migrations/*.{js,cjs,ts}".to_owned()];
        assert_eq!(strays_of(d.path(), &globs), ["migrations/0002-b.mjs"]);
        let d = tree(&[
            "shop/migrations/__init__.py",
            "shop/migrations/0001_initial.py",
            "prisma/migrations/migration_lock.toml",
            "prisma/migrations/20240101_init/migration.sql",
            "drizzle/meta/_journal.json",
            "drizzle/0000_x.sql",
            "db/migrate/20240101_x.rb",
            "migrations/2024_x/up.sql",
            "migrations/2024_x/down.sql",
            "sql/V1__a.sql",
            "sql/R__views.sql",
            "sql/U1__a.sql",
            "migration/src/lib.rs",
            "migration/src/main.rs",
            "migration/src/m20240101_a.rs",
        ]);
        for globs in [
            &["**/migrations/0*.py"][..],
            &["prisma/migrations/*/migration.sql"],
            &["drizzle/*.sql"],
            &["db/migrate/*.rb"],
            &["migrations/*/up.sql"],
            &["{sql,migrations}/V*__*.sql"],
            &["migration/src/m*.rs"],
        ] {
            let globs: Vec<String> = globs.iter().map(|s| s.to_string()).collect();
            assert!(strays_of(d.path(), &globs).is_empty(), "{globs:?}");
        }
    }

    #[test]
    fn the_sql_tools_folder_holding_alembic_revisions_is_refused() {
        let d = tree(&[
            "migrations/alembic.ini",
            "migrations/env.py",
            "migrations/script.py.mako",
            "migrations/versions/834b1a697901_users.py",
        ]);
        let (message, _) = sql_dir_strays(&d.path().join("migrations")).unwrap();
        assert!(
            message.contains("versions/834b1a697901_users.py"),
            "{message}"
        );
        assert!(message.contains("alembic.ini"), "{message}");
        let d = tree(&["migrations/0001_a.sql", "migrations/0001_a.down.sql"]);
        assert!(sql_dir_strays(&d.path().join("migrations")).is_none());
    }
}

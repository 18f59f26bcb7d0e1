//! The project's own Python modules a script imports, followed transitively: for Alembic, the
//! modules its `env.py` reaches are where `target_metadata` (the models) is defined, so a
//! change there needs a migration run even when no migration file changed.
//!
//! Only files inside the working folder are followed (never a virtualenv or site-packages),
//! with a bound on how many are read; imports are read from the text, never executed.

use std::collections::BTreeSet;
use std::path::Path;

/// At most this many files are read while following imports.
const MAX_FILES: usize = 400;

/// Folders never followed into: environments and caches.
const SKIPPED: &[&str] = &[
    ".venv",
    "venv",
    "env",
    "site-packages",
    "node_modules",
    "__pycache__",
    ".git",
    ".tox",
];

/// The project files (relative to `root`, `/` separated) that `start` imports, directly or
/// through other project files, `start` excluded. A package is reported by its `__init__.py`
/// and its imported submodules, not as a whole folder.
///
/// The git hook asks this on every push (Alembic's `env.py`): the answer is cached per
/// `root` and `start` with what it was computed from — the size and modification time of
/// every file read, and the modification time of every folder a module was looked for in (a
/// file added or removed there changes it) — and used only while all of them are unchanged.
pub fn project_imports(root: &Path, start: &str) -> Vec<String> {
    let cache = cache::file(root, start);
    if let Some(hit) = cache.as_deref().and_then(|c| cache::read(c, root)) {
        return hit;
    }
    let mut seen_paths = cache::Inputs::default();
    let out = follow(root, start, &mut seen_paths);
    if let Some(c) = cache {
        cache::write(&c, root, &seen_paths, &out);
    }
    out
}

fn follow(root: &Path, start: &str, inputs: &mut cache::Inputs) -> Vec<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue = vec![start.to_owned()];
    let mut read = 0;
    while let Some(file) = queue.pop() {
        if read >= MAX_FILES {
            break;
        }
        read += 1;
        inputs.files.insert(file.clone());
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        for module in imported_modules(&text, &file) {
            for found in resolve(root, &module, inputs) {
                if found != start && seen.insert(found.clone()) {
                    queue.push(found);
                }
            }
        }
    }
    seen.into_iter().collect()
}

/// Dotted module names `text` (the file `file`) imports; relative imports made absolute.
fn imported_modules(text: &str, file: &str) -> Vec<String> {
    let package: Vec<&str> = {
        let mut parts: Vec<&str> = file.split('/').collect();
        parts.pop();
        parts
    };
    let mut out = Vec::new();
    for line in logical_lines(text) {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            let dots = module.chars().take_while(|c| *c == '.').count();
            let base = if dots == 0 {
                module.to_owned()
            } else {
                let keep = package.len().saturating_sub(dots - 1);
                let mut parts: Vec<&str> = package[..keep].to_vec();
                let tail = &module[dots..];
                if !tail.is_empty() {
                    parts.push(tail);
                }
                parts.join(".")
            };
            if base.is_empty() {
                continue;
            }
            // `from pkg import a, b`: a and b may be submodules.
            for name in names.trim_matches(['(', ')', ' ']).split(',') {
                let name = name.split(" as ").next().unwrap_or("").trim();
                if is_identifier(name) {
                    out.push(format!("{base}.{name}"));
                }
            }
            out.push(base);
        } else if let Some(rest) = l.strip_prefix("import ") {
            for part in rest.split(',') {
                let name = part.split(" as ").next().unwrap_or("").trim();
                if !name.is_empty() && name.split('.').all(is_identifier) {
                    out.push(name.to_owned());
                }
            }
        }
    }
    out
}

/// Lines with parenthesized continuations joined, so `from a import (\n b,\n c)` reads whole.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0i32;
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("");
        current.push_str(line);
        current.push(' ');
        depth += line.matches('(').count() as i32 - line.matches(')').count() as i32;
        if depth <= 0 && !line.trim_end().ends_with('\\') {
            out.push(std::mem::take(&mut current));
            depth = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The project files a dotted module names: `a/b.py`, or `a/b/__init__.py` for a package,
/// and the `__init__.py` of every package above it (Python runs those first).
fn resolve(root: &Path, module: &str, inputs: &mut cache::Inputs) -> Vec<String> {
    let parts: Vec<&str> = module.split('.').collect();
    if parts
        .iter()
        .any(|p| SKIPPED.contains(p) || !is_identifier(p))
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for end in 1..=parts.len() {
        let path = parts[..end].join("/");
        inputs.dirs.insert(parts[..end - 1].join("/"));
        inputs.dirs.insert(path.clone());
        let init = format!("{path}/__init__.py");
        if root.join(&init).is_file() {
            out.push(init);
        }
        let file = format!("{path}.py");
        if end == parts.len() && root.join(&file).is_file() {
            out.push(file);
        }
    }
    out
}

mod cache {
    //! The cache of [`super::project_imports`]: one JSON file per root and start file under
    //! the user's cache folder, valid while every input it lists is as it was.

    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use serde::{Deserialize, Serialize};

    /// What one answer was computed from (paths relative to the root; `""` is the root).
    #[derive(Default)]
    pub(super) struct Inputs {
        pub files: BTreeSet<String>,
        pub dirs: BTreeSet<String>,
    }

    #[derive(Serialize, Deserialize)]
    struct Entry {
        version: u32,
        root: String,
        /// Path, and its (modification time in ns, size) — `None`: it did not exist.
        inputs: Vec<(String, Option<(i128, u64)>)>,
        imports: Vec<String>,
    }

    const VERSION: u32 = 1;
    /// An input modified this recently (ns) is not trusted to a cache: an edit within the
    /// file system's timestamp granularity could leave its time unchanged.
    const RACY_NS: i128 = 2_000_000_000;

    fn stamp(path: &Path) -> Option<(i128, u64)> {
        let m = std::fs::metadata(path).ok()?;
        let t = m.modified().ok()?;
        let ns = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Some((ns, if m.is_dir() { 0 } else { m.len() }))
    }

    /// The cache file of `root` and `start` (`None`: no cache folder).
    pub(super) fn file(root: &Path, start: &str) -> Option<PathBuf> {
        if std::env::var_os("NEON_MIGRATE_NO_CACHE").is_some() {
            return None;
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        let key = format!("{}\0{start}", root.display());
        Some(
            base.join("neon-migrate")
                .join("pyimports")
                .join(format!("{}.json", crate::naming::short_hash(&key))),
        )
    }

    /// The cached answer, when every input is unchanged.
    pub(super) fn read(cache: &Path, root: &Path) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(cache).ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        if e.version != VERSION || e.root != root.display().to_string() {
            return None;
        }
        e.inputs
            .iter()
            .all(|(p, was)| stamp(&root.join(p)) == *was)
            .then_some(e.imports)
    }

    /// Writes the answer with its inputs, best effort; not when an input is too fresh.
    pub(super) fn write(cache: &Path, root: &Path, inputs: &Inputs, imports: &[String]) {
        let now = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(_) => return,
        };
        let mut list = Vec::new();
        for p in inputs.files.iter().chain(inputs.dirs.iter()) {
            let s = stamp(&root.join(p));
            if s.is_some_and(|(t, _)| t > now - RACY_NS) {
                return;
            }
            list.push((p.clone(), s));
        }
        let e = Entry {
            version: VERSION,
            root: root.display().to_string(),
            inputs: list,
            imports: imports.to_vec(),
        };
        let Some(dir) = cache.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = cache.with_extension(format!("{}.tmp", std::process::id()));
        if let Ok(json) = serde_json::to_string(&e) {
            if std::fs::write(&tmp, json).is_ok() && std::fs::rename(&tmp, cache).is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = d.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    #[test]
    fn follows_env_py_to_the_models_through_packages_and_relative_imports() {
        let d = tree(&[
            (
                "app/alembic/env.py",
                "import os\nfrom alembic import context\nfrom app.db import base  # noqa\nfrom app.core.config import (\n    settings,\n)\n",
            ),
            ("app/__init__.py", ""),
            ("app/db/__init__.py", ""),
            ("app/db/base.py", "from ..models import user, item as it\n"),
            ("app/models/__init__.py", "from .shared import Base\n"),
            ("app/models/user.py", "from sqlalchemy import Column\n"),
            ("app/models/item.py", ""),
            ("app/models/shared.py", ""),
            ("app/core/config.py", "import pydantic\n"),
            ("app/unrelated.py", ""),
            (".venv/lib/alembic/context.py", ""),
        ]);
        let got = project_imports(d.path(), "app/alembic/env.py");
        assert_eq!(
            got,
            [
                "app/__init__.py",
                "app/core/config.py",
                "app/db/__init__.py",
                "app/db/base.py",
                "app/models/__init__.py",
                "app/models/item.py",
                "app/models/shared.py",
                "app/models/user.py",
            ]
        );
    }

    #[test]
    fn nothing_outside_the_project_and_no_loop() {
        let d = tree(&[
            ("env.py", "import models\nfrom os import path\n"),
            ("models.py", "import env\nimport models\n"),
        ]);
        assert_eq!(project_imports(d.path(), "env.py"), ["models.py"]);
    }

    /// Sets the modification time of every file and folder under `root` an hour back (an
    /// input as fresh as the test's would never be cached).
    fn age(root: &Path) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let mut stack = vec![root.to_path_buf()];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
            }
            std::fs::File::open(&p).unwrap().set_modified(past).unwrap();
        }
    }

    #[test]
    fn the_cache_answers_only_while_every_file_read_and_folder_looked_in_is_unchanged() {
        let d = tree(&[
            ("alembic/env.py", "from app.models import Base, user\n"),
            ("app/__init__.py", ""),
            ("app/models/__init__.py", "from .shared import Base\n"),
            ("app/models/shared.py", ""),
        ]);
        let cache_dir = tempfile::tempdir().unwrap();
        let c = cache_dir.path().join("entry.json");
        let compute = || {
            let mut inputs = cache::Inputs::default();
            let out = follow(d.path(), "alembic/env.py", &mut inputs);
            cache::write(&c, d.path(), &inputs, &out);
            out
        };
        // Fresh inputs are not cached.
        let first = compute();
        assert_eq!(cache::read(&c, d.path()), None);
        age(d.path());
        assert_eq!(compute(), first);
        assert_eq!(cache::read(&c, d.path()), Some(first.clone()));
        // A module that did not exist when the answer was cached (`user` was a name).
        std::fs::write(d.path().join("app/models/user.py"), "").unwrap();
        assert_eq!(cache::read(&c, d.path()), None, "a new file was missed");
        age(d.path());
        let second = compute();
        assert!(
            second.contains(&"app/models/user.py".to_owned()),
            "{second:?}"
        );
        assert_eq!(cache::read(&c, d.path()), Some(second));
        // A file read that changed.
        std::fs::write(d.path().join("app/models/shared.py"), "import app.other\n").unwrap();
        assert_eq!(cache::read(&c, d.path()), None, "an edited file was missed");
    }
}

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
pub fn project_imports(root: &Path, start: &str) -> Vec<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue = vec![start.to_owned()];
    let mut read = 0;
    while let Some(file) = queue.pop() {
        if read >= MAX_FILES {
            break;
        }
        read += 1;
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        for module in imported_modules(&text, &file) {
            for found in resolve(root, &module) {
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
fn resolve(root: &Path, module: &str) -> Vec<String> {
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
}

//! Which migration system a project uses, and the files that prove it.
//!
//! Every preset (`pipelines/tools/*.toml`) lists rules; a rule is a list of conditions that
//! must all hold, and one holding rule makes the preset a candidate. A condition is a glob
//! (some file or folder matches it) or a glob plus a text (some matching file contains it).
//! The files that satisfied the rule are the evidence `plan` and `init` show.
//!
//! Globs are matched by reading only the folders they can match in (bounded depth, never
//! inside dependency or build folders), so detection stays fast enough for the pre-push hook.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Deserialize;

/// Folders never searched: dependencies, build output, virtual environments, VCS data.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    "site-packages",
    "vendor",
    "dist",
    "build",
    "_build",
    "deps",
    ".next",
    ".nuxt",
    ".cache",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".gradle",
    ".idea",
];
/// Deepest folder level searched (the project root is level 0).
const MAX_DEPTH: usize = 6;
/// Most entries looked at; a larger tree is searched only in part.
const MAX_ENTRIES: usize = 50_000;
/// Bytes of a file read when looking for a text.
const MAX_READ: u64 = 1024 * 1024;

/// One condition of a detection rule, as written in a preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// Some file or folder matches the glob.
    Exists(String),
    /// Some file matching `file` contains `contains`.
    Contains { file: String, contains: String },
}

impl Condition {
    fn glob(&self) -> &str {
        match self {
            Condition::Exists(g) => g,
            Condition::Contains { file, .. } => file,
        }
    }
}

/// A condition that held, with the path that satisfied it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    /// Path relative to the project root (`/` separated).
    pub path: String,
    /// The text found in it, for `contains` conditions.
    pub contains: Option<String>,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.contains {
            Some(t) => write!(f, "{} (contains `{t}`)", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// A folder's entries: (name, is a folder), listed once.
type Listing = Rc<Vec<(String, bool)>>;

/// A project tree, read lazily: each glob reads only the folders it can match in, and every
/// folder is read at most once.
#[derive(Debug)]
pub struct Tree {
    root: PathBuf,
    listed: RefCell<HashMap<String, Listing>>,
    budget: Cell<usize>,
}

impl Tree {
    pub fn new(root: &Path) -> Tree {
        Tree {
            root: root.to_owned(),
            listed: RefCell::new(HashMap::new()),
            budget: Cell::new(MAX_ENTRIES),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The entries of folder `rel` (sorted; empty when unreadable or over budget).
    fn list(&self, rel: &str) -> Rc<Vec<(String, bool)>> {
        if let Some(l) = self.listed.borrow().get(rel) {
            return l.clone();
        }
        let mut names: Vec<(String, bool)> = std::fs::read_dir(self.root.join(rel))
            .map(|read| {
                read.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        let is_dir = e.file_type().ok()?.is_dir();
                        Some((name, is_dir))
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let left = self.budget.get().saturating_sub(names.len());
        if left == 0 {
            names.clear();
        }
        self.budget.set(left);
        let names = Rc::new(names);
        self.listed
            .borrow_mut()
            .insert(rel.to_owned(), names.clone());
        names
    }

    /// Folders below the root (relative, `/` separated), shallowest first, down to
    /// `max_depth` levels; dependency, build and hidden folders are left out.
    pub fn folders(&self, max_depth: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut level = vec![String::new()];
        for _ in 0..max_depth {
            let mut next = Vec::new();
            for rel in &level {
                for (name, is_dir) in self.list(rel).iter() {
                    if *is_dir && !SKIPPED_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                        next.push(if rel.is_empty() {
                            name.clone()
                        } else {
                            format!("{rel}/{name}")
                        });
                    }
                }
            }
            out.extend(next.iter().cloned());
            level = next;
        }
        out
    }

    /// Paths (relative, `/` separated) matching `glob`, in order. Wildcards never enter
    /// dependency or build folders; a literal path can name anything (`.venv/bin/python`).
    pub fn matches(&self, glob: &str) -> Vec<String> {
        let mut out = Vec::new();
        for pattern in expand_braces(glob) {
            let segs: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
            self.walk("", &segs, 0, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }

    fn walk(&self, rel: &str, segs: &[&str], depth: usize, out: &mut Vec<String>) {
        let join = |name: &str| {
            if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            }
        };
        let Some((seg, rest)) = segs.split_first() else {
            if !rel.is_empty() {
                out.push(rel.to_owned());
            }
            return;
        };
        if *seg == "**" {
            self.walk(rel, rest, depth, out);
            if depth < MAX_DEPTH {
                for (name, is_dir) in self.list(rel).iter() {
                    if *is_dir && !SKIPPED_DIRS.contains(&name.as_str()) {
                        self.walk(&join(name), segs, depth + 1, out);
                    }
                }
            }
        } else if !seg.contains(['*', '?']) {
            let path = join(seg);
            let full = self.root.join(&path);
            if rest.is_empty() {
                if full.exists() {
                    out.push(path);
                }
            } else if full.is_dir() {
                self.walk(&path, rest, depth + 1, out);
            }
        } else {
            for (name, is_dir) in self.list(rel).iter() {
                if !segment_match(seg, name) {
                    continue;
                }
                if rest.is_empty() {
                    out.push(join(name));
                } else if *is_dir && !SKIPPED_DIRS.contains(&name.as_str()) {
                    self.walk(&join(name), rest, depth + 1, out);
                }
            }
        }
    }

    /// Files matching `include` globs but none of the `!`-prefixed ones.
    pub fn files(&self, globs: &[String]) -> Vec<String> {
        let (exclude, include): (Vec<&String>, Vec<&String>) =
            globs.iter().partition(|g| g.starts_with('!'));
        let mut out: Vec<String> = Vec::new();
        for g in include {
            for p in self.matches(g) {
                let excluded = exclude.iter().any(|x| {
                    expand_braces(&x[1..])
                        .iter()
                        .any(|pattern| glob_match(pattern, &p))
                });
                if !excluded && self.root.join(&p).is_file() && !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// Whether the condition holds, and the path that satisfies it.
    pub fn check(&self, c: &Condition) -> Option<Evidence> {
        let found = self.matches(c.glob());
        match c {
            Condition::Exists(_) => found.into_iter().next().map(|path| Evidence {
                path,
                contains: None,
            }),
            Condition::Contains { contains, .. } => found
                .into_iter()
                .find(|p| file_contains(&self.root.join(p), contains))
                .map(|path| Evidence {
                    path,
                    contains: Some(contains.clone()),
                }),
        }
    }

    /// The evidence of the first rule whose conditions all hold.
    pub fn first_rule(&self, rules: &[Vec<Condition>]) -> Option<Vec<Evidence>> {
        rules.iter().find_map(|rule| {
            rule.iter()
                .map(|c| self.check(c))
                .collect::<Option<Vec<_>>>()
        })
    }

    /// Every rule that holds, its evidence merged (without repeats).
    pub fn all_rules(&self, rules: &[Vec<Condition>]) -> Vec<Evidence> {
        let mut out: Vec<Evidence> = Vec::new();
        for rule in rules {
            if let Some(ev) = rule
                .iter()
                .map(|c| self.check(c))
                .collect::<Option<Vec<_>>>()
            {
                for e in ev {
                    if !out.iter().any(|o| o.path == e.path) {
                        out.push(e);
                    }
                }
            }
        }
        out
    }
}

fn file_contains(path: &Path, needle: &str) -> bool {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut buf = Vec::new();
    if f.take(MAX_READ).read_to_end(&mut buf).is_err() {
        return false;
    }
    String::from_utf8_lossy(&buf).contains(needle)
}

/// `a{b,c}d{,e}` → `abd`, `abde`, `acd`, `acde` (no nesting).
pub fn expand_braces(glob: &str) -> Vec<String> {
    let Some(open) = glob.find('{') else {
        return vec![glob.to_owned()];
    };
    let Some(close) = glob[open..].find('}').map(|c| open + c) else {
        return vec![glob.to_owned()];
    };
    let (head, tail) = (&glob[..open], &glob[close + 1..]);
    glob[open + 1..close]
        .split(',')
        .flat_map(|alt| expand_braces(&format!("{head}{alt}{tail}")))
        .collect()
}

/// Matches a `/`-separated path against a glob with `*`, `?` and `**` (any number of
/// folders). Braces must be expanded first.
pub fn glob_match(glob: &str, path: &str) -> bool {
    let g: Vec<&str> = glob.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match_segments(&g, &p)
}

fn match_segments(g: &[&str], p: &[&str]) -> bool {
    match g.split_first() {
        None => p.is_empty(),
        Some((&"**", rest)) => (0..=p.len()).any(|i| match_segments(rest, &p[i..])),
        Some((first, rest)) => match p.split_first() {
            Some((seg, prest)) => segment_match(first, seg) && match_segments(rest, prest),
            None => false,
        },
    }
}

fn segment_match(glob: &str, name: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut gi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == n[ni]) {
            gi += 1;
            ni += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ni));
            gi += 1;
        } else if let Some((sg, sn)) = star {
            gi = sg + 1;
            ni = sn + 1;
            star = Some((sg, sn + 1));
        } else {
            return false;
        }
    }
    while gi < g.len() && g[gi] == '*' {
        gi += 1;
    }
    gi == g.len()
}

/// Environment variable names a config file reads: `process.env.X`, `process.env["X"]`,
/// `env("X")`, `getenv("X")`, `os.environ["X"]`, `os.environ.get("X")`, `ENV["X"]`,
/// `ENV.fetch("X")`, `System.getenv("X")`, `System.get_env("X")`, `config("X")`,
/// `use_env_variable: "X"`, `${X}`. Only conventional names (capitals, digits, `_`) count.
pub fn referenced_env(text: &str) -> Vec<String> {
    const MARKERS: &[&str] = &[
        "process.env.",
        "process.env[",
        "import.meta.env.",
        "env(",
        "environ[",
        "environ.get(",
        "ENV[",
        "ENV.fetch(",
        "get_env(",
        "env.str(",
        "env.db(",
        "env.url(",
        "env.db_url(",
        "config(",
        "use_env_variable",
        "${",
        "Env.get(",
    ];
    let mut out: Vec<String> = Vec::new();
    for marker in MARKERS {
        let mut from = 0;
        while let Some(at) = text[from..].find(marker) {
            let start = from + at + marker.len();
            from = start;
            let rest = text[start..]
                .trim_start_matches(|c: char| c.is_whitespace() || "\"'`:=(".contains(c));
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let conventional = name.len() >= 2
                && name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if conventional && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Variables a config file names as *the* connection string: Sequelize's
/// `use_env_variable`, sqlx.toml's `database-url-var`.
pub fn definite_url_vars(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["use_env_variable", "database-url-var"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(marker) {
            let start = from + at + marker.len();
            from = start;
            let rest = text[start..]
                .trim_start_matches(|c: char| c.is_whitespace() || "\"':=".contains(c));
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("drizzle.config.*", "drizzle.config.ts"));
        assert!(!glob_match("drizzle.config.*", "src/drizzle.config.ts"));
        assert!(glob_match(
            "**/migrations/0*.py",
            "shop/migrations/0001_initial.py"
        ));
        assert!(glob_match(
            "**/migrations/0*.py",
            "migrations/0001_initial.py"
        ));
        assert!(!glob_match(
            "**/migrations/0*.py",
            "shop/migrations/__init__.py"
        ));
        assert!(glob_match(
            "migrations/V*__*.sql",
            "migrations/V1__init.sql"
        ));
        assert!(!glob_match(
            "migrations/V*__*.sql",
            "migrations/V1_init.sql"
        ));
        assert!(glob_match("a?c", "abc"));
        assert_eq!(
            expand_braces("{,src/}data-source.{js,ts}"),
            [
                "data-source.js",
                "data-source.ts",
                "src/data-source.js",
                "src/data-source.ts"
            ]
        );
    }

    #[test]
    fn env_references() {
        let ts = r#"
            import "dotenv/config";
            export default defineConfig({
              datasource: { url: process.env.DIRECT_URL ?? env("DATABASE_URL") },
              x: process.env["POSTGRES_URL_NON_POOLING"], y: process.env.nodeEnv,
            });
        "#;
        assert_eq!(
            referenced_env(ts),
            ["DIRECT_URL", "POSTGRES_URL_NON_POOLING", "DATABASE_URL"]
        );
        let py = "url = os.environ['APP_DB_URL']\nhost = os.getenv(\"PGHOST\")\nx = os.environ.get( 'SECRET_KEY')\n";
        assert_eq!(referenced_env(py), ["PGHOST", "APP_DB_URL", "SECRET_KEY"]);
        let json = r#"{"production": {"use_env_variable": "MY_DB_URL", "dialect": "postgres"}}"#;
        assert_eq!(referenced_env(json), ["MY_DB_URL"]);
        assert_eq!(
            referenced_env("url=${JDBC_DATABASE_URL}"),
            ["JDBC_DATABASE_URL"]
        );
    }

    #[test]
    fn rules_need_every_condition_and_report_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("db/migrations")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("node_modules/x/knexfile.js"), "").unwrap();
        std::fs::write(
            root.join("db/migrations/20240101_init.sql"),
            "-- migrate:up\ncreate table t ();\n",
        )
        .unwrap();
        std::fs::write(root.join("package.json"), r#"{"dependencies":{"pg":"8"}}"#).unwrap();
        let tree = Tree::new(root);
        let rules: Vec<Vec<Condition>> = toml::from_str::<toml::Table>(
            "r = [[{ file = \"db/migrations/*.sql\", contains = \"-- migrate:up\" }], [\"**/knexfile.js\"]]",
        )
        .unwrap()["r"]
            .clone()
            .try_into()
            .unwrap();
        let ev = tree.first_rule(&rules).unwrap();
        assert_eq!(
            ev[0].to_string(),
            "db/migrations/20240101_init.sql (contains `-- migrate:up`)"
        );
        // node_modules is never searched.
        assert_eq!(tree.all_rules(&rules).len(), 1);
        let both: Vec<Vec<Condition>> = vec![vec![
            Condition::Exists("package.json".into()),
            Condition::Contains {
                file: "package.json".into(),
                contains: "\"knex\"".into(),
            },
        ]];
        assert!(tree.first_rule(&both).is_none());
        assert_eq!(
            tree.files(&["db/migrations/*.sql".into(), "!**/*_init.sql".into()]),
            Vec::<String>::new()
        );
    }
}

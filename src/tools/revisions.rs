//! Tools whose tracking table keeps only the head: Alembic's `alembic_version` holds the
//! current revision, not one row per migration. What a run applied is then the chain of
//! revisions between the old and the new head, read from the revision files' own
//! `revision` / `down_revision` lines; and "nothing was pending" is proven only when the
//! recorded head is the project's head.
//!
//! The files are read, never imported: a file whose ids cannot be read makes the graph
//! unknown, and the caller falls back to what the tracking rows say.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::Config;

/// One revision: the ids it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Revision {
    down: Vec<String>,
}

/// The project's revision graph, when the tool is Alembic and every file could be read.
fn graph(config: &Config) -> Option<BTreeMap<String, Revision>> {
    let tool = &config.tool;
    let is_alembic = tool.name == "alembic"
        || tool
            .tracking
            .as_ref()
            .is_some_and(|t| t.query.contains("alembic_version"));
    if !is_alembic {
        return None;
    }
    let dir = &tool.working_dir;
    let mut revisions = BTreeMap::new();
    for versions in version_folders(dir) {
        let Ok(entries) = std::fs::read_dir(&versions) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("py") {
                continue;
            }
            let text = std::fs::read_to_string(&path).ok()?;
            let (id, down) = parse(&text)?;
            revisions.insert(id, Revision { down });
        }
    }
    (!revisions.is_empty()).then_some(revisions)
}

/// The folders holding revision files: `version_locations`, else `<script_location>/versions`
/// (from alembic.ini, or `[tool.alembic]` in pyproject.toml), else `alembic/versions`.
fn version_folders(dir: &Path) -> Vec<PathBuf> {
    let mut script = None;
    let mut versions = None;
    for file in ["alembic.ini", "pyproject.toml"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches('"')
                .trim_matches('\'')
                .replace("%(here)s", &dir.to_string_lossy());
            match key.trim() {
                "script_location" if script.is_none() => script = Some(value),
                "version_locations" if versions.is_none() => versions = Some(value),
                _ => {}
            }
        }
    }
    let resolve = |p: &str| {
        let p = Path::new(p.trim());
        if p.is_absolute() {
            p.to_owned()
        } else {
            dir.join(p)
        }
    };
    if let Some(v) = versions {
        return v
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty() && !p.contains(':'))
            .map(resolve)
            .collect();
    }
    // Flask-Migrate's migrations/alembic.ini has no script_location: its folder is migrations/.
    let flask = dir.join("migrations/alembic.ini").is_file() && !dir.join("alembic").is_dir();
    let script = script.unwrap_or_else(|| if flask { "migrations" } else { "alembic" }.into());
    // `package:folder` names a package resource; its folder cannot be read from here.
    if script.contains(':') && !script.contains('/') {
        return Vec::new();
    }
    vec![resolve(&script).join("versions")]
}

/// A quoted Python string literal at the start of `s`.
fn literal(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &s[1..];
    let end = rest.find(quote)?;
    Some((rest[..end].to_owned(), &rest[end + 1..]))
}

/// `revision` and `down_revision` of one revision file.
fn parse(text: &str) -> Option<(String, Vec<String>)> {
    let mut id = None;
    let mut down = None;
    for line in text.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        // `revision: str = "abc"` and `revision = 'abc'`.
        let name = name.split(':').next().unwrap_or("").trim();
        let value = value.trim();
        match name {
            "revision" if id.is_none() => id = literal(value).map(|(v, _)| v),
            "down_revision" if down.is_none() => {
                down = Some(if value.starts_with("None") {
                    Vec::new()
                } else if let Some(mut rest) = value.strip_prefix(['(', '[']) {
                    let mut ids = Vec::new();
                    while let Some((v, r)) = literal(rest) {
                        ids.push(v);
                        rest = r.trim_start().trim_start_matches(',');
                    }
                    ids
                } else {
                    vec![literal(value)?.0]
                })
            }
            _ => {}
        }
    }
    Some((id?, down?))
}

/// Revisions in the project that no other revision follows.
fn heads(graph: &BTreeMap<String, Revision>) -> BTreeSet<String> {
    let followed: BTreeSet<&String> = graph.values().flat_map(|r| &r.down).collect();
    graph
        .keys()
        .filter(|k| !followed.contains(k))
        .cloned()
        .collect()
}

/// The revisions a run applied, oldest first, by revision id; `None` when the tool
/// keeps one row per migration or the graph cannot be read.
pub fn between(config: &Config, before: &[String], after: &[String]) -> Option<Vec<String>> {
    let graph = graph(config)?;
    let stop: BTreeSet<&String> = before.iter().collect();
    // Everything reachable from the old heads was applied before.
    let mut done = BTreeSet::new();
    let mut stack: Vec<&String> = stop.iter().copied().collect();
    while let Some(id) = stack.pop() {
        if done.insert(id.clone()) {
            stack.extend(graph.get(id).map(|r| r.down.iter()).into_iter().flatten());
        }
    }
    let mut applied = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&String> = after.iter().collect();
    while let Some(id) = stack.pop() {
        if done.contains(id) || !seen.insert(id.clone()) {
            continue;
        }
        let rev = graph.get(id)?;
        applied.push(id.clone());
        stack.extend(rev.down.iter());
    }
    // Parents before children: a revision comes after every revision it follows.
    let mut ordered = Vec::new();
    let mut placed = BTreeSet::new();
    while ordered.len() < applied.len() {
        let before_len = ordered.len();
        for id in &applied {
            let ready = graph[id]
                .down
                .iter()
                .all(|d| placed.contains(d) || done.contains(d) || !applied.contains(d));
            if !placed.contains(id) && ready {
                placed.insert(id.clone());
                ordered.push(id.clone());
            }
        }
        if ordered.len() == before_len {
            return None;
        }
    }
    Some(ordered)
}

/// For a head-only tool: why the recorded heads are not the project's heads, if they are not.
pub fn unreached_head(config: &Config, rows: &[String]) -> Option<String> {
    let graph = graph(config)?;
    let want = heads(&graph);
    let have: BTreeSet<String> = rows.iter().cloned().collect();
    if want == have {
        return None;
    }
    let list = |s: &BTreeSet<String>| {
        if s.is_empty() {
            "none".to_owned()
        } else {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    Some(format!(
        "it records {}, the project's head is {}",
        list(&have),
        list(&want)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_spellings_of_revision_ids() {
        assert_eq!(
            parse("revision = 'a1'\ndown_revision = None\n"),
            Some(("a1".into(), vec![]))
        );
        assert_eq!(
            parse("revision: str = \"b2\"\ndown_revision: Union[str, None] = \"a1\"\n"),
            Some(("b2".into(), vec!["a1".into()]))
        );
        assert_eq!(
            parse("revision = 'm'\ndown_revision = ('b2', 'c3')\n"),
            Some(("m".into(), vec!["b2".into(), "c3".into()]))
        );
        assert_eq!(parse("down_revision = None\n"), None);
    }

    #[test]
    fn heads_are_revisions_nobody_follows() {
        let mut g = BTreeMap::new();
        for (id, down) in [("a", vec![]), ("b", vec!["a"]), ("c", vec!["b"])] {
            g.insert(
                id.to_owned(),
                Revision {
                    down: down.into_iter().map(str::to_owned).collect(),
                },
            );
        }
        assert_eq!(heads(&g), BTreeSet::from(["c".to_owned()]));
    }
}

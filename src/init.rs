//! What `neon-migrate init` decides: the project's migration tool (detected, or named with
//! `--tool`) and the text of a commented `neon-migrate.toml` that `check` accepts. The command
//! itself is `commands::init`.

use std::path::Path;

use crate::config;
use crate::tools::detect::{Evidence, Tree};
use crate::tools::presets;

/// What `init` decided, before anything is written.
#[derive(Debug)]
pub struct Choice {
    pub name: String,
    pub title: String,
    /// How the tool was chosen, for the file and the message.
    pub why: String,
    pub evidence: Vec<Evidence>,
    /// The subfolder the tool lives in (`working-dir`), when not the project folder.
    pub working_dir: Option<String>,
}

/// How deep `init` looks for a tool below the project folder (`backend/`, `packages/api/`).
const SUBFOLDER_DEPTH: usize = 2;

/// The shallowest subfolders of `dir` where tools are detected, with the candidates of each
/// (a folder inside one that has a tool is not looked at).
pub fn tools_below(dir: &Path) -> Vec<(String, Vec<presets::Candidate>)> {
    let mut out: Vec<(String, Vec<presets::Candidate>)> = Vec::new();
    for folder in Tree::new(dir).folders(SUBFOLDER_DEPTH) {
        if out
            .iter()
            .any(|(f, _)| folder.starts_with(&format!("{f}/")))
        {
            continue;
        }
        let found = presets::detect(&Tree::new(&dir.join(&folder)));
        if !found.is_empty() {
            out.push((folder, found));
        }
    }
    out
}

/// The shallowest subfolders of `dir` holding the entry point of tool `p` (see
/// [`presets::Preset::anchor`]), with it.
fn anchors_below(dir: &Path, p: &presets::Preset) -> Vec<(String, Vec<Evidence>)> {
    let mut out: Vec<(String, Vec<Evidence>)> = Vec::new();
    for folder in Tree::new(dir).folders(SUBFOLDER_DEPTH) {
        if out
            .iter()
            .any(|(f, _)| folder.starts_with(&format!("{f}/")))
        {
            continue;
        }
        if let Some(e) = p.anchor(&Tree::new(&dir.join(&folder))) {
            out.push((folder, vec![e]));
        }
    }
    out
}

/// "backend/alembic.ini, backend/alembic/env.py": evidence shown from the project folder.
fn shown(folder: &str, evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| format!("{folder}/{e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`choose`] with `--tool name`: the preset, run where its files are (a subfolder when
/// nothing in `dir` shows it).
fn choose_named(dir: &Path, tree: &Tree, name: &str) -> Result<Choice, (String, String)> {
    let Some(p) = presets::get(name) else {
        return Err((
            format!("no tool preset is called `{name}`"),
            config::diag::suggest(name, "tools", &presets::names()),
        ));
    };
    let r = p.resolve(tree);
    if r.evidence.is_empty() && p.detectable() {
        // Nothing here shows the tool: it may live in a subfolder (a monorepo).
        let below: Vec<(String, Vec<Evidence>)> = tools_below(dir)
            .into_iter()
            .filter_map(|(f, c)| {
                let one = c.into_iter().find(|c| c.name == p.name)?;
                Some((f, one.evidence))
            })
            .collect();
        // Else the tool's entry point alone (`app/manage.py` whose apps live elsewhere).
        let below = if below.is_empty() && p.anchor(tree).is_none() {
            anchors_below(dir, &p)
        } else {
            below
        };
        match below.as_slice() {
            [] => {}
            [(folder, evidence)] => {
                // Only the entry point is there: the rest (migrations) is elsewhere.
                let elsewhere = if p.resolve(&Tree::new(&dir.join(folder))).evidence.is_empty() {
                    format!("; its migrations are not under {folder}/: set `watch` and `migration-files` under [tool] (relative to {folder}/), or the git hook and the tracking check do not see them")
                } else {
                    String::new()
                };
                return Ok(Choice {
                    name: p.name.to_owned(),
                    title: p.title.clone(),
                    why: format!(
                        "chosen with --tool; its files are in {folder}/ ({}), so it runs there{elsewhere}",
                        shown(folder, evidence)
                    ),
                    evidence: evidence.clone(),
                    working_dir: Some(folder.clone()),
                });
            }
            many => {
                let folders: Vec<&str> = many.iter().map(|(f, _)| f.as_str()).collect();
                return Err((
                    format!(
                        "`{}` is in {} subfolders: {}",
                        p.name,
                        many.len(),
                        folders.join(", ")
                    ),
                    format!(
                        "run `neon-migrate init --tool {}` in each folder to prove (each gets its own neon-migrate.toml, and the git hook proves every one a push changes)",
                        p.name
                    ),
                ));
            }
        }
    }
    Ok(Choice {
        name: p.name.to_owned(),
        title: p.title.clone(),
        why: "chosen with --tool".into(),
        evidence: r.evidence,
        working_dir: None,
    })
}

/// Picks the tool for the project in `dir`: `explicit` (a preset name), else the one
/// detected. `Err` is the message (and help) for the user.
pub fn choose(dir: &Path, explicit: Option<&str>) -> Result<Choice, (String, String)> {
    let tree = Tree::new(dir);
    if let Some(name) = explicit {
        return choose_named(dir, &tree, name);
    }
    let candidates = presets::detect(&tree);
    // A plain-SQL project keeps the built-in tool; otherwise a tool may be in a subfolder.
    let below = if candidates.is_empty() && !dir.join("migrations").is_dir() {
        tools_below(dir)
    } else {
        Vec::new()
    };
    match (candidates.as_slice(), below.as_slice()) {
        ([], [(folder, found)]) if found.len() == 1 => {
            let one = &found[0];
            Ok(Choice {
                name: one.name.to_owned(),
                title: one.title.clone(),
                why: format!(
                    "detected in {folder}/ from {}, so it runs there",
                    shown(folder, &one.evidence)
                ),
                evidence: one.evidence.clone(),
                working_dir: Some(folder.clone()),
            })
        }
        ([], [(folder, found)]) => {
            let (message, _) = presets::ambiguity(found);
            let names: Vec<String> = found.iter().map(|c| format!("--tool {}", c.name)).collect();
            Err((
                format!("in {folder}/: {message}"),
                format!(
                    "choose one: `neon-migrate init {}`",
                    names.join("` or `neon-migrate init ")
                ),
            ))
        }
        ([], many) if !many.is_empty() => {
            let listed: Vec<String> = many
                .iter()
                .map(|(f, c)| {
                    let names: Vec<&str> = c.iter().map(|c| c.name).collect();
                    format!("{f}/ ({})", names.join(", "))
                })
                .collect();
            Err((
                format!(
                    "no migration tool here, but {} subfolders have one: {}",
                    many.len(),
                    listed.join(", ")
                ),
                "run `neon-migrate init` in each folder to prove: each gets its own neon-migrate.toml, and the git hook proves every one a push changes".into(),
            ))
        }
        ([], _) => Ok(Choice {
            name: "sql".into(),
            title: "built-in sql".into(),
            why: presets::NONE_FOUND_HELP.into(),
            evidence: Vec::new(),
            working_dir: None,
        }),
        ([one], _) => Ok(Choice {
            name: one.name.to_owned(),
            title: one.title.clone(),
            why: format!(
                "detected from {}",
                one.evidence
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            evidence: one.evidence.clone(),
            working_dir: None,
        }),
        (many, _) => {
            let (message, _) = presets::ambiguity(many);
            let names: Vec<String> = many.iter().map(|c| format!("--tool {}", c.name)).collect();
            Err((
                message,
                format!(
                    "choose one: `neon-migrate init {}` (in neon-migrate.toml: `[tool]` with `name = \"{}\"`)",
                    names.join("` or `neon-migrate init "),
                    many[0].name
                ),
            ))
        }
    }
}

/// What `check` says when the tool the config names shows nowhere in its `working-dir` (a
/// monorepo whose tool is in a subfolder, a `working-dir` that points at the wrong folder).
pub fn working_dir_warning(config: &config::Config) -> Option<String> {
    let t = &config.tool;
    let crate::config::ToolOrigin::Config { evidence } = &t.origin else {
        return None;
    };
    let preset = presets::get(&t.name).filter(|p| p.detectable())?;
    // The tool's entry point in working-dir shows it too (`manage.py` whose apps are elsewhere).
    if !evidence.is_empty() || preset.anchor(&Tree::new(&t.working_dir)).is_some() {
        return None;
    }
    let wd = match t.working_dir.strip_prefix(&config.root) {
        Ok(r) if r.as_os_str().is_empty() => ".".to_owned(),
        Ok(r) => r.display().to_string(),
        Err(_) => t.working_dir.display().to_string(),
    };
    let join = |f: &str| {
        if wd == "." {
            f.to_owned()
        } else {
            format!("{wd}/{f}")
        }
    };
    let below: Vec<String> = tools_below(&t.working_dir)
        .into_iter()
        .filter(|(_, c)| c.iter().any(|c| c.name == t.name))
        .map(|(f, _)| join(&f))
        .collect();
    let head = format!(
        "tool `{}`: nothing in working-dir `{wd}` shows it (none of the files its preset detects is there), so its commands may find no migrations",
        t.name
    );
    Some(match below.as_slice() {
        [] => format!("{head}; check `working-dir` under [tool]"),
        [one] => format!("{head}; its files are in {one}/: set `working-dir = \"{one}\"` under [tool]"),
        many => format!(
            "{head}; it is in {}: set `working-dir` to one, or give each folder its own neon-migrate.toml",
            many.join(", ")
        ),
    })
}

/// What `init` and `check` say about the git hook's watch list: what the tool's config could
/// not tell (the whole project is watched then), and watched paths that do not exist — a
/// guess of the preset's that misses where the migrations are.
pub fn watch_warnings(config: &config::Config) -> Vec<String> {
    let t = &config.tool;
    let mut out = Vec::new();
    if let Some(layout) =
        presets::get(&t.name).and_then(|p| p.resolve(&Tree::new(&t.working_dir)).layout)
    {
        out.extend(layout.notes);
    }
    if matches!(t.kind, config::ToolKind::Sql { .. }) {
        return out;
    }
    let shown = |p: &Path| {
        p.strip_prefix(&config.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let missing: Vec<String> = t
        .watch
        .iter()
        .flatten()
        .filter(|p| !p.to_string_lossy().contains(['*', '?', '{']))
        .filter(|p| !p.exists())
        .map(|p| shown(p))
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "NOT WATCHED: the git hook watches {} for tool `{}`, which does not exist here; if the migrations or the schema are elsewhere, a push changing them proves nothing: set `watch` under [tool] to where they are",
            missing.join(", "),
            t.name
        ));
    }
    out
}

/// Comments every line of `text` out.
fn commented(text: &str) -> String {
    text.lines().map(|l| format!("# {l}\n")).collect::<String>()
}

/// The text of the config file for `choice`.
pub fn render(choice: &Choice, dir: &Path) -> String {
    let mut s = String::new();
    s.push_str(
        "# neon-migrate.toml, written by `neon-migrate init`. Every key, with its default, is\n",
    );
    s.push_str(
        "# described in neon-migrate.toml.example; `neon-migrate check` validates this file.\n",
    );
    s.push_str("version = 1\n\n[tool]\n");
    s.push_str(&commented(&format!("{}: {}.", choice.title, choice.why)));
    if choice.name == "sql" {
        s.push_str("# Plain SQL files, applied in version order (the leading digits of the file name) and\n");
        s.push_str("# recorded in neon_migrate.schema_migrations; NNNN_name.down.sql reverts NNNN_name.sql.\n");
        s.push_str("name = \"sql\"\nmigrations-dir = \"migrations\"\n");
    } else {
        s.push_str(&format!(
            "# The preset `{0}` (pipelines/tools/{0}.toml) supplies every other key of this table;\n# uncomment a line to override it.\n",
            choice.name
        ));
        s.push_str(&format!("name = \"{}\"\n", choice.name));
        let mut tool_dir = dir.to_owned();
        if let Some(wd) = &choice.working_dir {
            s.push_str("# The tool's files are in this folder: its commands run there, and `watch` and\n# `migration-files` are relative to it.\n");
            s.push_str(&format!(
                "working-dir = {}\n",
                toml::Value::String(wd.clone())
            ));
            tool_dir = dir.join(wd);
        }
        if let Some(p) = presets::get(&choice.name) {
            let resolved = p.resolve(&Tree::new(&tool_dir));
            let mut shown = toml::Table::new();
            for key in [
                "command",
                "down-command",
                "print-sql-command",
                "url-env",
                "watch",
                "migration-files",
                "tracking-query",
            ] {
                if let Some(v) = resolved.tool.get(key) {
                    shown.insert(key.to_owned(), v.clone());
                }
            }
            if let Ok(text) = toml::to_string(&shown) {
                s.push_str(&commented(&text));
            }
        }
        s.push_str("# Extra environment for the tool (values are templates), e.g. NODE_ENV = \"production\".\n");
        s.push_str("# [tool.env]\n");
    }
    s.push_str("\n[provider]\n");
    s.push_str(
        "# Where test Neon database branches are made. \"local\": an embedded PostgreSQL on this\n",
    );
    s.push_str("# machine, nothing to sign up for. For real Neon database branches:\n");
    s.push_str("#   kind = \"neon\"\n#   project-id = \"your-project-id\"   # the API key comes from $NEON_API_KEY, never this file\n");
    s.push_str("kind = \"local\"\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_renders_a_config_that_parses() {
        let dir = tempfile::tempdir().unwrap();
        for name in presets::names() {
            let choice = choose(dir.path(), Some(name)).unwrap();
            let text = render(&choice, dir.path());
            let c = config::parse(config::FILE_NAME, &text, dir.path())
                .unwrap_or_else(|e| panic!("{name}:\n{text}\n{:?}", e.plain_lines()));
            assert_eq!(c.tool.name, name);
        }
    }

    #[test]
    fn unknown_tool_suggests_the_nearest_preset() {
        let dir = tempfile::tempdir().unwrap();
        let (message, help) = choose(dir.path(), Some("alembik")).unwrap_err();
        assert!(message.contains("`alembik`"), "{message}");
        assert!(help.contains("did you mean `alembic`?"), "{help}");
    }
}

//! `neon-migrate init`: detect the project's migration tool and write a commented
//! `neon-migrate.toml` that `check` accepts.

use std::path::Path;

use crate::config::{self, FILE_NAME};
use crate::exit;
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
}

/// Picks the tool for the project in `dir`: `explicit` (a preset name), else the one
/// detected. `Err` is the message (and help) for the user.
pub fn choose(dir: &Path, explicit: Option<&str>) -> Result<Choice, (String, String)> {
    let tree = Tree::new(dir);
    if let Some(name) = explicit {
        let Some(p) = presets::get(name) else {
            return Err((
                format!("no tool preset is called `{name}`"),
                config::diag::suggest(name, "tools", &presets::names()),
            ));
        };
        let r = p.resolve(&tree);
        return Ok(Choice {
            name: p.name.to_owned(),
            title: p.title.clone(),
            why: "chosen with --tool".into(),
            evidence: r.evidence,
        });
    }
    let candidates = presets::detect(&tree);
    match candidates.as_slice() {
        [] => Ok(Choice {
            name: "sql".into(),
            title: "built-in sql".into(),
            why: presets::NONE_FOUND_HELP.into(),
            evidence: Vec::new(),
        }),
        [one] => Ok(Choice {
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
        }),
        many => {
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
        if let Some(p) = presets::get(&choice.name) {
            let resolved = p.resolve(&Tree::new(dir));
            let mut shown = toml::Table::new();
            for key in [
                "command",
                "down-command",
                "print-sql-command",
                "url-env",
                "watch",
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

/// `neon-migrate init [--tool NAME] [--force]` in `dir`; returns the exit code.
pub fn run(dir: &Path, tool: Option<&str>, force: bool) -> i32 {
    let path = dir.join(FILE_NAME);
    if path.exists() && !force {
        eprintln!(
            "error: {} already exists\n  help: `neon-migrate check` validates it; `neon-migrate init --force` replaces it",
            path.display()
        );
        return exit::USAGE;
    }
    let choice = match choose(dir, tool) {
        Ok(c) => c,
        Err((message, help)) => {
            eprintln!("error: {message}\n  help: {help}");
            return exit::CONFIG;
        }
    };
    let text = render(&choice, dir);
    // Never write a file `check` would reject.
    if let Err(e) = config::parse(FILE_NAME, &text, dir) {
        eprintln!(
            "error: the generated {FILE_NAME} is invalid (a bug in neon-migrate):\n{}",
            config::diag::render(&e, true)
        );
        return exit::INTERNAL;
    }
    if let Err(e) = std::fs::write(&path, &text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return exit::INTERNAL;
    }
    println!(
        "wrote {FILE_NAME}: tool `{}` ({}), {}",
        choice.name, choice.title, choice.why
    );
    println!("next:");
    println!("  neon-migrate plan pre-push   # what a push will run, and why this tool");
    println!(
        "  neon-migrate run pre-push    # prove the migrations on a test Neon database branch"
    );
    exit::OK
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
            let c = config::parse(FILE_NAME, &text, dir.path())
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

//! Tool presets (`pipelines/tools/<name>.toml`, embedded in the binary): how to detect a
//! migration system and how to run it.
//!
//! A preset file has three parts:
//! - `[preset]`: `title`, `install` (a hint shown when the command is missing), `detect`,
//!   a list of rules (see [`crate::tools::detect`]), and `[[preset.failure-hint]]`s: help for
//!   the tool's known failures, recognised by its output; `[preset.models]` when the tool
//!   generates its migrations from ORM models (see [`Models`] and the `models` check).
//! - `[tool]`: any key of the project's own `[tool]` table; the project's keys win.
//! - `[[variant]]`: `when` (a rule) and keys that replace `[tool]`'s when the rule holds
//!   (e.g. a TypeScript data source). `{file}` in a variant's values is the path that
//!   satisfied the first condition of `when`.

use serde::Deserialize;

use crate::tools::detect::{Condition, Evidence, Tree};

/// Every preset, by name (`pipelines/tools/<name>.toml`).
pub const PRESETS: &[(&str, &str)] = &[
    ("sql", include_str!("../../pipelines/tools/sql.toml")),
    ("prisma", include_str!("../../pipelines/tools/prisma.toml")),
    (
        "drizzle",
        include_str!("../../pipelines/tools/drizzle.toml"),
    ),
    ("django", include_str!("../../pipelines/tools/django.toml")),
    (
        "alembic",
        include_str!("../../pipelines/tools/alembic.toml"),
    ),
    ("rails", include_str!("../../pipelines/tools/rails.toml")),
    ("flyway", include_str!("../../pipelines/tools/flyway.toml")),
    (
        "liquibase",
        include_str!("../../pipelines/tools/liquibase.toml"),
    ),
    ("sqlx", include_str!("../../pipelines/tools/sqlx.toml")),
    ("diesel", include_str!("../../pipelines/tools/diesel.toml")),
    (
        "refinery",
        include_str!("../../pipelines/tools/refinery.toml"),
    ),
    ("seaorm", include_str!("../../pipelines/tools/seaorm.toml")),
    (
        "golang-migrate",
        include_str!("../../pipelines/tools/golang-migrate.toml"),
    ),
    ("goose", include_str!("../../pipelines/tools/goose.toml")),
    ("dbmate", include_str!("../../pipelines/tools/dbmate.toml")),
    ("knex", include_str!("../../pipelines/tools/knex.toml")),
    (
        "node-pg-migrate",
        include_str!("../../pipelines/tools/node-pg-migrate.toml"),
    ),
    (
        "typeorm",
        include_str!("../../pipelines/tools/typeorm.toml"),
    ),
    (
        "sequelize",
        include_str!("../../pipelines/tools/sequelize.toml"),
    ),
    ("ecto", include_str!("../../pipelines/tools/ecto.toml")),
    (
        "laravel",
        include_str!("../../pipelines/tools/laravel.toml"),
    ),
    ("atlas", include_str!("../../pipelines/tools/atlas.toml")),
    (
        "flask-migrate",
        include_str!("../../pipelines/tools/flask-migrate.toml"),
    ),
];

/// The names of every preset.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    preset: Meta,
    #[serde(default)]
    tool: toml::Table,
    #[serde(default)]
    variant: Vec<Variant>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    title: String,
    #[serde(default)]
    install: Option<String>,
    #[serde(default)]
    detect: Vec<Vec<Condition>>,
    #[serde(default, rename = "failure-hint")]
    failure_hints: Vec<FailureHint>,
    #[serde(default)]
    models: Option<Models>,
}

/// `[preset.models]`: the tool generates its migrations from ORM models. The `models` check
/// runs the tool's `model-check-command`; without one it is NOT RUN.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Models {
    /// The tool's own command that writes a migration from the models (the fix a failed
    /// `models` check names).
    pub generate: String,
    /// `[[preset.models.not-run]]`: output of the model-check command that shows it cannot
    /// compare here (Alembic without `target_metadata`, Prisma 6 with a driver adapter): the
    /// check is NOT RUN, not failed, and `help` says why.
    #[serde(default, rename = "not-run")]
    pub not_run: Vec<FailureHint>,
    /// The exit code that means "the models differ" when the command has one of its own
    /// (Prisma's `--exit-code`: 2); any other non-zero code is then the command's failure.
    #[serde(default)]
    pub differ_exit_code: Option<i32>,
}

/// Help for a known failure of a tool: it goes with the error of a failed run whose output
/// holds every string of `output-contains`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FailureHint {
    pub output_contains: Vec<String>,
    pub help: String,
}

/// The help of the first hint that matches a failed run's output.
pub fn failure_help(hints: &[FailureHint], output: &str) -> Option<String> {
    hints
        .iter()
        .find(|h| {
            !h.output_contains.is_empty()
                && h.output_contains
                    .iter()
                    .all(|s| output.contains(s.as_str()))
        })
        .map(|h| h.help.clone())
}

/// Why a tool could not start, read from its output, and how to fix it when the output says
/// more than "install it".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartFailure {
    pub why: &'static str,
    /// Help that replaces the generic "install the tool" line.
    pub help: Option<&'static str>,
}

/// Help for a TypeScript config file Node.js cannot load by itself.
const TS_LOADER_HELP: &str = "Node.js cannot load a TypeScript config file (knexfile.ts, …) without a loader: run the tool through one, e.g. `command = \"npx tsx node_modules/.bin/knex migrate:latest\"` under [tool] (with `tsx` installed), or use a .js config file; nothing is known about the migration yet";

/// Output that shows a tool which never reached the database because it could not start:
/// its own program or modules are missing where it ran (a worktree without `node_modules` or
/// the project's virtualenv, a tool that is not installed), or it could not load its config
/// file.
const START_FAILURES: &[(&str, StartFailure)] = &[
    (
        "ERR_UNKNOWN_FILE_EXTENSION",
        StartFailure {
            why: "Node.js could not load the tool's config file (unknown file extension)",
            help: Some(TS_LOADER_HELP),
        },
    ),
    (
        "Unknown file extension \".ts\"",
        StartFailure {
            why: "Node.js could not load the tool's config file (unknown file extension)",
            help: Some(TS_LOADER_HELP),
        },
    ),
    (
        "Failed to read config from knexfile",
        StartFailure {
            why: "knex could not read its knexfile",
            help: None,
        },
    ),
    ("ModuleNotFoundError", missing("a Python module is missing")),
    ("No module named", missing("a Python module is missing")),
    (
        "npx canceled",
        missing("npx could not find the package (no node_modules?)"),
    ),
    (
        "could not determine executable to run",
        missing("npm could not find the tool's executable (no node_modules?)"),
    ),
    (
        "ERR_MODULE_NOT_FOUND",
        missing("a Node.js module is missing"),
    ),
    ("Cannot find module", missing("a Node.js module is missing")),
];

const fn missing(why: &'static str) -> StartFailure {
    StartFailure { why, help: None }
}

/// Output that shows the database answered: an error of the server (psql's `ERROR:`, a
/// driver's `severity: 'ERROR'` or SQLSTATE, psycopg's error classes). A tool whose
/// migration reached the server has started, whatever else its output holds.
const DATABASE_ANSWERED: &[&str] = &[
    "ERROR:",
    "SQLSTATE",
    "severity: 'ERROR'",
    "psycopg2.errors.",
    "psycopg.errors.",
    "PG::",
];

/// Whether a tool's output carries an error of the database (see [`DATABASE_ANSWERED`]): the
/// tool reached the server, whatever else went wrong.
pub fn database_answered(output: &str) -> bool {
    DATABASE_ANSWERED.iter().any(|m| output.contains(m))
}

/// Whether a failed tool's output is a Python traceback and no error of the database: with
/// no session on the target (the caller counts them), a Python tool (Django, Alembic) that
/// raised while importing its settings, env.py or models.
pub fn python_start_traceback(output: &str) -> bool {
    output.contains("Traceback (most recent call last):") && !database_answered(output)
}

/// A failed Python tool that opened no session on its target and whose output holds no error
/// of the database: it failed while starting (importing the project's code or settings, reading its
/// config, connecting), before any migration. Positive evidence only: the caller has counted
/// the target's sessions.
pub const FAILED_BEFORE_CONNECTING: StartFailure = StartFailure {
    why: "it failed before it opened any session on it (while importing its code or settings, reading its config, or connecting: its output says which), so no migration ran",
    help: Some("the error is in the tool's start-up, not in a migration: read the tool's output (a Python traceback names the file and line, such as Django's settings or Alembic's env.py); nothing is known about the migration yet"),
};

/// Why a failed run's output shows that the tool could not start (see [`START_FAILURES`]);
/// never when the output shows an error of the database (see [`DATABASE_ANSWERED`]).
pub fn start_failure(output: &str, code: Option<i32>) -> Option<StartFailure> {
    if database_answered(output) {
        return None;
    }
    if code == Some(127) {
        return Some(missing("the program is not installed (exit code 127)"));
    }
    // `sh: 1: alembic: not found`, `bash: alembic: command not found`
    let shell_says = output.lines().any(|l| {
        let l = l.trim();
        (l.starts_with("sh: ") || l.starts_with("bash: ")) && l.ends_with("not found")
    });
    if shell_says {
        return Some(missing("the program is not installed"));
    }
    START_FAILURES
        .iter()
        .find(|(needle, _)| output.contains(needle))
        .map(|(_, f)| *f)
}

#[derive(Debug, Clone, Deserialize)]
struct Variant {
    when: Vec<Condition>,
    #[serde(flatten)]
    keys: toml::Table,
}

/// A preset, parsed.
#[derive(Debug, Clone)]
pub struct Preset {
    pub name: &'static str,
    pub title: String,
    pub install: Option<String>,
    /// Help for the tool's known failures.
    pub failure_hints: Vec<FailureHint>,
    /// The tool's ORM models, when it generates migrations from them.
    pub models: Option<Models>,
    detect: Vec<Vec<Condition>>,
    tool: toml::Table,
    variants: Vec<Variant>,
}

/// A preset applied to one project tree.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: &'static str,
    pub title: String,
    pub install: Option<String>,
    /// Help for the tool's known failures.
    pub failure_hints: Vec<FailureHint>,
    /// The tool's ORM models, when it generates migrations from them.
    pub models: Option<Models>,
    /// The `[tool]` keys, with the matching variant's applied.
    pub tool: toml::Table,
    /// Files that prove the tool (empty when nothing in the tree does).
    pub evidence: Vec<Evidence>,
    /// The files that selected a variant, if one was.
    pub variant: Option<Vec<Evidence>>,
    /// Where the tool's config puts its migrations, when it says.
    pub layout: Option<crate::tools::layout::Layout>,
}

/// The preset called `name`.
pub fn get(name: &str) -> Option<Preset> {
    let (name, text) = PRESETS.iter().find(|(n, _)| *n == name)?;
    let file: PresetFile = toml::from_str(text)
        .unwrap_or_else(|e| panic!("preset pipelines/tools/{name}.toml is invalid: {e}"));
    Some(Preset {
        name,
        title: file.preset.title,
        install: file.preset.install,
        failure_hints: file.preset.failure_hints,
        models: file.preset.models,
        detect: file.preset.detect,
        tool: file.tool,
        variants: file.variant,
    })
}

/// Every preset, parsed.
pub fn all() -> Vec<Preset> {
    names().into_iter().filter_map(get).collect()
}

impl Preset {
    /// Whether the preset can be detected at all (the built-in `sql` tool is the fallback,
    /// never a detected candidate).
    pub fn detectable(&self) -> bool {
        !self.detect.is_empty()
    }

    /// The tool's entry point in `tree`: the first condition of a detection rule that holds
    /// (Django's `manage.py`, Rails' `Gemfile`), even when the rule's other conditions do not
    /// (a Django project whose apps, with their migrations, live outside `manage.py`'s folder).
    pub fn anchor(&self, tree: &Tree) -> Option<Evidence> {
        self.detect
            .iter()
            .find_map(|rule| rule.first().and_then(|c| tree.check(c)))
    }

    /// The preset's keys for the project in `tree`: the first matching variant applied,
    /// and the files that prove the tool.
    pub fn resolve(&self, tree: &Tree) -> Resolved {
        let evidence = tree.all_rules(&self.detect);
        let mut tool = self.tool.clone();
        let mut variant = None;
        for v in &self.variants {
            if let Some(ev) = tree.first_rule(std::slice::from_ref(&v.when)) {
                let file = ev.first().map(|e| e.path.clone()).unwrap_or_default();
                for (k, val) in &v.keys {
                    tool.insert(k.clone(), substitute(val, &file));
                }
                variant = Some(ev);
                break;
            }
        }
        // Where the tool's own config says its migrations are, over the preset's guesses.
        let layout = crate::tools::layout::of(self.name, tree);
        if let Some(l) = &layout {
            crate::tools::layout::apply(l, &mut tool);
        }
        Resolved {
            name: self.name,
            title: self.title.clone(),
            install: self.install.clone(),
            failure_hints: self.failure_hints.clone(),
            models: self.models.clone(),
            tool,
            evidence,
            variant,
            layout,
        }
    }
}

fn substitute(v: &toml::Value, file: &str) -> toml::Value {
    match v {
        toml::Value::String(s) => toml::Value::String(s.replace("{file}", file)),
        toml::Value::Array(a) => {
            toml::Value::Array(a.iter().map(|x| substitute(x, file)).collect())
        }
        toml::Value::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, x)| (k.clone(), substitute(x, file)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A tool detected in a project.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: &'static str,
    pub title: String,
    pub evidence: Vec<Evidence>,
}

impl Candidate {
    /// "`knex` (Knex: knexfile.js)".
    pub fn describe(&self) -> String {
        format!(
            "`{}` ({}: {})",
            self.name,
            self.title,
            self.evidence
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Every preset whose detection rules hold in `tree`.
pub fn detect(tree: &Tree) -> Vec<Candidate> {
    all()
        .into_iter()
        .filter(|p| p.detectable())
        .filter_map(|p| {
            let evidence = tree.all_rules(&p.detect);
            (!evidence.is_empty()).then(|| Candidate {
                name: p.name,
                title: p.title.clone(),
                evidence,
            })
        })
        .collect()
}

/// What to tell a user when no migration system was found.
pub const NONE_FOUND_HELP: &str = "no migration tool detected: put plain SQL files in migrations/ for the built-in `sql` tool (`[tool] name = \"sql\"`), write the next one from a desired schema with `neon-migrate generate NAME --schema schema.sql`, or name your tool under [tool]";

/// The message and help for two or more candidates.
pub fn ambiguity(candidates: &[Candidate]) -> (String, String) {
    let listed: Vec<String> = candidates.iter().map(Candidate::describe).collect();
    let message = format!(
        "{} migration tools detected: {}",
        candidates.len(),
        listed.join("; ")
    );
    let choices: Vec<String> = candidates
        .iter()
        .map(|c| format!("`name = \"{}\"`", c.name))
        .collect();
    let help = format!(
        "choose one in neon-migrate.toml under [tool]: {} (or `neon-migrate init --tool {}`)",
        choices.join(" or "),
        candidates[0].name
    );
    (message, help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_its_failure_hints_name_what_to_look_for() {
        for p in all() {
            for h in &p.failure_hints {
                assert!(
                    !h.output_contains.is_empty()
                        && h.output_contains.iter().all(|s| !s.is_empty()),
                    "{}: a failure hint needs strings to look for",
                    p.name
                );
            }
        }
    }

    #[test]
    fn a_tool_that_could_not_start_is_recognised() {
        for (out, code) in [
            (
                "Traceback…\nModuleNotFoundError: No module named 'sqlalchemy'",
                Some(1),
            ),
            (
                "npm error npx canceled due to missing packages and no YES option",
                Some(1),
            ),
            ("sh: 1: .venv/bin/alembic: not found", Some(127)),
            ("bash: alembic: command not found", Some(1)),
            ("Error: Cannot find module 'drizzle-kit'", Some(1)),
            (
                "Failed to read config from knexfile\nTypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension \".ts\" for /p/knexfile.ts",
                Some(1),
            ),
        ] {
            assert!(start_failure(out, code).is_some(), "{out}");
        }
        for out in [
            "ERROR: relation \"widgets\" does not exist",
            "error: column \"name\" not found in table widgets",
            // A migration's SQL error that quotes the words of a start failure.
            "psql:m.sql:1: ERROR:  relation \"nope\" does not exist\nLINE 1: select 'Cannot find module' from nope",
            "migration failed with error: select 1 - No module named x { code: '42P01', severity: 'ERROR' }",
        ] {
            assert_eq!(start_failure(out, Some(1)), None, "{out}");
        }
    }

    #[test]
    fn a_failure_hint_needs_every_string_in_the_output() {
        let hints = vec![
            FailureHint {
                output_contains: vec!["schema-engine".into(), "failed, reason:".into()],
                help: "engine".into(),
            },
            FailureHint {
                output_contains: vec!["failed, reason:".into()],
                help: "other".into(),
            },
        ];
        assert_eq!(
            failure_help(
                &hints,
                "request to http://x/schema-engine.gz failed, reason: ENOTFOUND"
            )
            .as_deref(),
            Some("engine")
        );
        assert_eq!(
            failure_help(
                &hints,
                "request to http://x/other failed, reason: ENOTFOUND"
            )
            .as_deref(),
            Some("other")
        );
        assert_eq!(failure_help(&hints, "schema-engine exited 1"), None);
        assert_eq!(failure_help(&[], "anything"), None);
    }
}

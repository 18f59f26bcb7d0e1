//! Templates in config values: the Neon database branch name, commands, env values.
//!
//! Handlebars in strict mode over a closed set of variables. Every template is compiled and
//! its variables checked when the config is validated, so a typo like `{{git.brnach}}` is a
//! `check`-time error with a suggestion, never a surprise halfway through a run. Helpers and
//! blocks are rejected: a command line is not the place for logic.

use std::collections::BTreeMap;

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Handlebars, Path, Template};
use serde_json::{json, Value};

use crate::config::diag::did_you_mean;

/// Where a template is used decides which variables exist there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The Neon database branch name: it cannot refer to itself.
    DbBranchName,
    /// Commands and env values of stages and tools.
    Command,
}

/// Fixed variables (besides `env.*`) and the scopes they exist in.
const VARIABLES: &[(&str, &[Scope], &str)] = &[
    (
        "git.branch",
        &[Scope::DbBranchName, Scope::Command],
        "the current git branch (short sha when HEAD is detached)",
    ),
    (
        "git.sha",
        &[Scope::DbBranchName, Scope::Command],
        "the full commit sha",
    ),
    (
        "git.short_sha",
        &[Scope::DbBranchName, Scope::Command],
        "the first 7 characters of the commit sha",
    ),
    (
        "pipeline",
        &[Scope::DbBranchName, Scope::Command],
        "the pipeline being run",
    ),
    (
        "timestamp",
        &[Scope::DbBranchName, Scope::Command],
        "the run's start time, RFC 3339 UTC",
    ),
    (
        "neon_database_branch.name",
        &[Scope::Command],
        "the test Neon database branch name",
    ),
    (
        "neon_database_branch.url",
        &[Scope::Command],
        "its connection URI (a secret: redacted in all output)",
    ),
    (
        "neon_database_branch.parent",
        &[Scope::Command],
        "the name of its parent Neon database branch",
    ),
];

/// The variable names valid in `scope`, for help lines and docs.
pub fn variables(scope: Scope) -> Vec<&'static str> {
    let mut v: Vec<&str> = VARIABLES
        .iter()
        .filter(|(_, s, _)| s.contains(&scope))
        .map(|(n, _, _)| *n)
        .collect();
    v.push("env.NAME");
    v
}

/// Documentation of every variable, for `neon-migrate check --variables` and the README.
pub fn describe() -> impl Iterator<Item = (&'static str, &'static str)> {
    VARIABLES
        .iter()
        .map(|(n, _, d)| (*n, *d))
        .chain(std::iter::once((
            "env.NAME",
            "the environment variable NAME (an error at run time if unset)",
        )))
}

/// A problem in one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    pub message: String,
    /// The offending text inside the template, to narrow the error span.
    pub needle: Option<String>,
    pub help: String,
}

/// Compiles `source` and checks every variable against `scope`.
pub fn check(source: &str, scope: Scope) -> Vec<TemplateProblem> {
    let template = match Template::compile(source) {
        Ok(t) => t,
        Err(e) => {
            return vec![TemplateProblem {
                message: format!("invalid template: {}", e.reason()),
                needle: None,
                help: "templates use `{{variable}}`, e.g. `{{git.branch}}`".into(),
            }]
        }
    };
    let mut problems = Vec::new();
    for element in &template.elements {
        match element {
            TemplateElement::RawString(_) | TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                let name = match &h.name {
                    Parameter::Name(n) => Some(n.clone()),
                    Parameter::Path(Path::Relative((_, raw))) => Some(raw.clone()),
                    _ => None,
                };
                match name {
                    Some(name) if h.params.is_empty() && h.hash.is_empty() => {
                        if let Some(p) = check_variable(&name, scope) {
                            problems.push(p);
                        }
                    }
                    _ => problems.push(TemplateProblem {
                        message: "template helpers and expressions are not supported".into(),
                        needle: None,
                        help: format!("use plain variables: {}", variables(scope).join(", ")),
                    }),
                }
            }
            _ => problems.push(TemplateProblem {
                message: "template blocks, partials and decorators are not supported".into(),
                needle: None,
                help: format!("use plain variables: {}", variables(scope).join(", ")),
            }),
        }
    }
    problems
}

fn check_variable(raw: &str, scope: Scope) -> Option<TemplateProblem> {
    let name = raw.replace('/', ".");
    if let Some(var) = name.strip_prefix("env.") {
        if !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        return Some(TemplateProblem {
            message: format!("`{raw}` is not a valid environment variable reference"),
            needle: Some(raw.to_owned()),
            help: "write `{{env.NAME}}` with NAME made of letters, digits and `_`".into(),
        });
    }
    let valid = variables(scope);
    if valid.contains(&name.as_str()) {
        return None;
    }
    let exists_elsewhere = VARIABLES.iter().any(|(n, _, _)| *n == name);
    let message = if exists_elsewhere {
        format!("`{raw}` is not available here (it is only known once the test Neon database branch exists)")
    } else {
        format!("unknown template variable `{raw}`")
    };
    let list = valid
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let help = match did_you_mean(&name, valid.iter().copied().filter(|v| *v != "env.NAME")) {
        Some(near) if !exists_elsewhere => format!("did you mean `{near}`? variables here: {list}"),
        _ => format!("variables here: {list}"),
    };
    Some(TemplateProblem {
        message,
        needle: Some(raw.to_owned()),
        help,
    })
}

/// Values for rendering. `neon_database_branch` is absent before the test Neon database
/// branch exists.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub git_branch: String,
    pub git_sha: String,
    pub pipeline: String,
    pub timestamp: String,
    pub db_branch: Option<DbBranchVars>,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct DbBranchVars {
    pub name: String,
    pub url: String,
    pub parent: String,
}

impl Vars {
    fn to_json(&self) -> Value {
        let short: String = self.git_sha.chars().take(7).collect();
        let mut v = json!({
            "git": { "branch": self.git_branch, "sha": self.git_sha, "short_sha": short },
            "pipeline": self.pipeline,
            "timestamp": self.timestamp,
            "env": self.env,
        });
        if let Some(b) = &self.db_branch {
            v["neon_database_branch"] = json!({ "name": b.name, "url": b.url, "parent": b.parent });
        }
        v
    }
}

/// Renders a template that passed [`check`]. Errors name the missing variable.
pub fn render(source: &str, vars: &Vars) -> Result<String, String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.render_template(source, &vars.to_json())
        .map_err(|e| match e.reason() {
            handlebars::RenderErrorReason::MissingVariable(Some(var)) => {
                if let Some(name) = var.strip_prefix("env.") {
                    format!("environment variable `{name}` is not set (used as `{{{{{var}}}}}`)")
                } else {
                    format!("template variable `{var}` has no value at this point")
                }
            }
            other => format!("template error: {other}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_variables() {
        assert!(check(
            "migrate/{{git.branch}}-{{git.short_sha}}",
            Scope::DbBranchName
        )
        .is_empty());
        assert!(check(
            "psql {{neon_database_branch.url}} {{env.HOME}}",
            Scope::Command
        )
        .is_empty());
    }

    #[test]
    fn rejects_unknown_with_suggestion() {
        let p = check("migrate/{{git.brnach}}", Scope::DbBranchName);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("git.brnach"));
        assert!(
            p[0].help.contains("did you mean `git.branch`"),
            "{}",
            p[0].help
        );
    }

    #[test]
    fn name_cannot_use_its_own_url() {
        let p = check("{{neon_database_branch.url}}", Scope::DbBranchName);
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("not available here"));
    }

    #[test]
    fn rejects_helpers_and_blocks() {
        assert_eq!(check("{{#if git.branch}}x{{/if}}", Scope::Command).len(), 1);
        assert_eq!(check("{{lookup env \"X\"}}", Scope::Command).len(), 1);
    }

    #[test]
    fn renders_without_html_escaping() {
        let vars = Vars {
            git_branch: "feature/a&b".into(),
            git_sha: "0123456789".into(),
            ..Default::default()
        };
        assert_eq!(
            render("{{git.branch}}@{{git.short_sha}}", &vars).unwrap(),
            "feature/a&b@0123456"
        );
        let err = render("{{env.NOPE_NOT_SET}}", &vars).unwrap_err();
        assert!(err.contains("NOPE_NOT_SET"), "{err}");
    }
}

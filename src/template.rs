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
use crate::secret::{Redactor, Secret};

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
            if scope == Scope::DbBranchName && is_secret_name(var) {
                return Some(TemplateProblem {
                    message: format!(
                        "`{raw}` looks like a secret, and a secret cannot be part of the test Neon database branch name (names are printed, logged and kept by the provider)"
                    ),
                    needle: Some(raw.to_owned()),
                    help: "names of variables with KEY, TOKEN, SECRET, PASSWORD or PASS in them are treated as secrets; name the test Neon database branch after other values, e.g. `migrate/{{git.branch}}`".into(),
                });
            }
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
///
/// `env` holds no environment: [`Env::Process`] reads a variable only when a template refers
/// to it as `{{env.NAME}}`, so a `Vars` cloned into every stage never carries the API key or
/// any other value nobody asked for. `Debug` shows the git and pipeline values and masks the
/// connection URI. Every value a template takes from a variable whose name looks secret
/// ([`is_secret_name`]), and the password of every URL it takes from the environment, is
/// registered with `secrets` when it is rendered, so the run's redactor masks it wherever it
/// appears afterwards.
#[derive(Clone, Default)]
pub struct Vars {
    pub git_branch: String,
    pub git_sha: String,
    pub pipeline: String,
    pub timestamp: String,
    pub db_branch: Option<DbBranchVars>,
    pub env: Env,
    /// Where secret values taken by templates are registered (share the run's redactor).
    pub secrets: Redactor,
}

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vars")
            .field("git_branch", &self.git_branch)
            .field("git_sha", &self.git_sha)
            .field("pipeline", &self.pipeline)
            .field("timestamp", &self.timestamp)
            .field("db_branch", &self.db_branch)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

/// Where the values of `{{env.NAME}}` come from.
#[derive(Clone, Default)]
pub enum Env {
    /// The process environment, read name by name when a template refers to it.
    Process,
    /// None (the default: `plan`'s preview and tests must not depend on the environment).
    #[default]
    Empty,
    /// These values only (tests).
    Fixed(BTreeMap<String, String>),
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Env::Process => f.write_str("Process"),
            Env::Empty => f.write_str("Empty"),
            // Names only: values may be secrets.
            Env::Fixed(vars) => f.debug_set().entries(vars.keys()).finish(),
        }
    }
}

impl Env {
    /// The value of environment variable `name`, if set.
    pub fn get(&self, name: &str) -> Option<String> {
        match self {
            Env::Process => std::env::var(name).ok(),
            Env::Empty => None,
            Env::Fixed(vars) => vars.get(name).cloned(),
        }
    }
}

impl<const N: usize> From<[(String, String); N]> for Env {
    fn from(vars: [(String, String); N]) -> Self {
        Env::Fixed(vars.into())
    }
}

/// The variables of a test Neon database branch; `url` is its connection URI, a secret.
#[derive(Clone)]
pub struct DbBranchVars {
    pub name: String,
    pub url: Secret<String>,
    pub parent: String,
}

impl std::fmt::Debug for DbBranchVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbBranchVars")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("parent", &self.parent)
            .finish()
    }
}

/// Whether an environment variable's name says it holds a secret: it contains `KEY`,
/// `TOKEN`, `SECRET`, `PASSWORD` or `PASS` (any case). Such values are redacted wherever they
/// appear, and cannot be part of a Neon database branch name.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASS"]
        .iter()
        .any(|w| upper.contains(w))
}

impl Vars {
    /// The values `template` may refer to, as JSON; of the environment, only the variables
    /// it names.
    fn to_json(&self, template: &Template) -> Value {
        let short: String = self.git_sha.chars().take(7).collect();
        let env: serde_json::Map<String, Value> = template
            .elements
            .iter()
            .filter_map(variable_of)
            .filter_map(|name| {
                let var = name.strip_prefix("env.")?.to_owned();
                let value = self.env.get(&var)?;
                Some((var, Value::String(value)))
            })
            .collect();
        let mut v = json!({
            "git": { "branch": self.git_branch, "sha": self.git_sha, "short_sha": short },
            "pipeline": self.pipeline,
            "timestamp": self.timestamp,
            "env": env,
        });
        if let Some(b) = &self.db_branch {
            v["neon_database_branch"] =
                json!({ "name": b.name, "url": b.url.expose(), "parent": b.parent });
        }
        v
    }
}

/// The variable of an expression element (`git.branch`, `env.HOME`), if it is a plain one.
fn variable_of(element: &TemplateElement) -> Option<String> {
    match element {
        TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h)
            if h.params.is_empty() && h.hash.is_empty() =>
        {
            match &h.name {
                Parameter::Name(n) => Some(n.replace('/', ".")),
                Parameter::Path(Path::Relative((_, raw))) => Some(raw.replace('/', ".")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Registers with `vars.secrets` what the variables of `template` would reveal: the values
/// of secret-looking environment variables, and the password of any URL taken from the
/// environment.
fn register_secrets(template: &Template, vars: &Vars) {
    for name in template.elements.iter().filter_map(variable_of) {
        let Some(var) = name.strip_prefix("env.") else {
            continue;
        };
        if let Some(value) = vars.env.get(var) {
            if is_secret_name(var) {
                vars.secrets.add(&value);
            }
            vars.secrets.add_url(&value);
        }
    }
}

/// Why a template that passed [`check`] could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("environment variable `{name}` is not set (used as `{{{{env.{name}}}}}`)")]
    EnvNotSet { name: String },
    #[error("template variable `{0}` has no value at this point")]
    NoValue(String),
    #[error("template helpers, blocks and partials are not supported")]
    Unsupported,
    /// Handlebars' own complaint.
    #[error("template error: {0}")]
    Template(String),
}

/// For callers that carry messages.
impl From<RenderError> for String {
    fn from(e: RenderError) -> String {
        e.to_string()
    }
}

/// The error of a variable without a value.
fn missing(var: &str) -> RenderError {
    match var.strip_prefix("env.") {
        Some(name) => RenderError::EnvNotSet {
            name: name.to_owned(),
        },
        None => RenderError::NoValue(var.to_owned()),
    }
}

/// Renders a template that passed [`check`]. Errors name the missing variable.
pub fn render(source: &str, vars: &Vars) -> Result<String, RenderError> {
    let template = Template::compile(source).map_err(|e| RenderError::Template(e.to_string()))?;
    register_secrets(&template, vars);
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.render_template(source, &vars.to_json(&template))
        .map_err(|e| match e.reason() {
            handlebars::RenderErrorReason::MissingVariable(Some(var)) => missing(var),
            other => RenderError::Template(other.to_string()),
        })
}

/// A shell command string rendered from a template, for `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    /// What `sh -c` runs: every variable is a reference to an environment variable
    /// (`"${NEON_MIGRATE_VAR_GIT_BRANCH}"`), never its text, so no value is ever parsed as
    /// shell code, whatever it contains.
    pub exec: String,
    /// The same command with the values written in, quoted for where they stand: what the
    /// reports show.
    pub shown: String,
    /// The variables `exec` refers to, with their values.
    pub env: Vec<(String, String)>,
}

/// The environment variable that carries template variable `name` into a shell command:
/// `git.branch` → `NEON_MIGRATE_VAR_GIT_BRANCH`, `env.Foo` → `NEON_MIGRATE_VAR_ENV_Foo`.
pub fn shell_var_name(name: &str) -> String {
    match name.strip_prefix("env.") {
        Some(var) => format!("NEON_MIGRATE_VAR_ENV_{var}"),
        None => format!(
            "NEON_MIGRATE_VAR_{}",
            name.replace('.', "_").to_ascii_uppercase()
        ),
    }
}

/// `s` as one shell word: bare when it is made of characters no shell treats specially,
/// else in single quotes.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Quoting state of POSIX shell text read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// A command substitution being read: the quoting outside it, what closes it, and how many
/// `(` are open inside it.
#[derive(Debug)]
struct Substitution {
    outside: Quote,
    closer: char,
    depth: usize,
}

/// Follows quotes, backslashes and command substitutions (`$(…)`, `` `…` ``, which start a
/// fresh quoting context) well enough to tell the context of a template variable.
#[derive(Debug)]
struct ShellLexer {
    quote: Quote,
    escaped: bool,
    dollar: bool,
    nested: Vec<Substitution>,
}

impl ShellLexer {
    fn new() -> Self {
        ShellLexer {
            quote: Quote::None,
            escaped: false,
            dollar: false,
            nested: Vec::new(),
        }
    }

    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            let after_dollar = std::mem::take(&mut self.dollar);
            if self.escaped {
                self.escaped = false;
                continue;
            }
            match (self.quote, c) {
                (Quote::Single, '\'') => self.quote = Quote::None,
                (Quote::Single, _) => {}
                (_, '\\') => self.escaped = true,
                (_, '$') => self.dollar = true,
                (_, '(') if after_dollar => {
                    self.nested.push(Substitution {
                        outside: self.quote,
                        closer: ')',
                        depth: 0,
                    });
                    self.quote = Quote::None;
                }
                (Quote::None, '`') if self.nested.last().is_some_and(|n| n.closer == '`') => {
                    self.quote = self.nested.pop().map_or(Quote::None, |n| n.outside);
                }
                (_, '`') => {
                    self.nested.push(Substitution {
                        outside: self.quote,
                        closer: '`',
                        depth: 0,
                    });
                    self.quote = Quote::None;
                }
                (Quote::None, '(') => {
                    if let Some(n) = self.nested.last_mut() {
                        n.depth += 1;
                    }
                }
                (Quote::None, ')') => match self.nested.last_mut() {
                    Some(n) if n.closer == ')' && n.depth == 0 => {
                        self.quote = self.nested.pop().map_or(Quote::None, |n| n.outside);
                    }
                    Some(n) => n.depth = n.depth.saturating_sub(1),
                    None => {}
                },
                (Quote::None, '\'') => self.quote = Quote::Single,
                (Quote::None, '"') => self.quote = Quote::Double,
                (Quote::Double, '"') => self.quote = Quote::None,
                _ => {}
            }
        }
    }
}

/// Renders a template that `sh -c` will run. Values never become shell code: each variable
/// is passed as an environment variable and referenced in the command, quoted for the
/// context it stands in (bare text, `"…"` or `'…'`). Should the context be misjudged (say,
/// quotes nested in `$(…)`), the worst case is a literal or split value, never execution,
/// because the shell does not parse the result of a parameter expansion again.
pub fn render_shell(source: &str, vars: &Vars) -> Result<ShellCommand, RenderError> {
    let template = Template::compile(source).map_err(|e| RenderError::Template(e.to_string()))?;
    register_secrets(&template, vars);
    let data = vars.to_json(&template);
    let mut out = ShellCommand {
        exec: String::new(),
        shown: String::new(),
        env: Vec::new(),
    };
    let mut lexer = ShellLexer::new();
    for element in &template.elements {
        match element {
            TemplateElement::RawString(s) => {
                out.exec.push_str(s);
                out.shown.push_str(s);
                lexer.feed(s);
            }
            TemplateElement::Comment(_) => {}
            e => {
                let Some(name) = variable_of(e) else {
                    return Err(RenderError::Unsupported);
                };
                let value = name
                    .split('.')
                    .try_fold(&data, |v, key| v.get(key))
                    .and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    })
                    .ok_or_else(|| missing(&name))?;
                let var = shell_var_name(&name);
                let (reference, shown) = match lexer.quote {
                    Quote::None => (format!("\"${{{var}}}\""), shell_quote(&value)),
                    Quote::Double => (
                        format!("${{{var}}}"),
                        value
                            .chars()
                            .flat_map(|c| {
                                let escape = matches!(c, '\\' | '$' | '`' | '"');
                                escape.then_some('\\').into_iter().chain([c])
                            })
                            .collect(),
                    ),
                    Quote::Single => (format!("'\"${{{var}}}\"'"), value.replace('\'', "'\\''")),
                };
                out.exec.push_str(&reference);
                out.shown.push_str(&shown);
                if !out.env.iter().any(|(k, _)| *k == var) {
                    out.env.push((var, value));
                }
            }
        }
    }
    Ok(out)
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

    /// Payloads that would run `touch` if a value were pasted into the command line.
    const PAYLOADS: &[&str] = &[
        "feat/$(touch PWNED)",
        "feat/`touch PWNED`",
        "feat/a;touch PWNED",
        "feat/x|touch PWNED",
        "feat/x&&touch PWNED",
        "feat/q'$(touch PWNED)'",
        "feat/q\"$(touch PWNED)\"",
        "feat/n\ntouch PWNED",
        "feat/b\\'; touch PWNED; echo '",
        "$HOME ${IFS} * ?",
    ];

    /// Runs `source` rendered with `git.branch = payload` in `sh -c`, in a scratch folder.
    fn run_shell(source: &str, payload: &str) -> (String, bool) {
        let dir = tempfile::tempdir().expect("temp dir");
        let vars = Vars {
            git_branch: payload.into(),
            ..Default::default()
        };
        let cmd = render_shell(source, &vars).expect("render");
        let out = crate::runner::Proc::new("sh")
            .arg("-c")
            .arg(&cmd.exec)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            .cwd(dir.path())
            .run_blocking(&Redactor::new())
            .expect("sh");
        assert!(out.success(), "{cmd:?}: {out:?}");
        let pwned = dir.path().join("PWNED").exists();
        (String::from_utf8(out.stdout).expect("utf-8"), pwned)
    }

    #[test]
    fn shell_commands_take_values_as_text_in_every_quoting_context() {
        for payload in PAYLOADS {
            for (source, want) in [
                ("printf '%s' {{git.branch}}", payload.to_string()),
                ("printf '%s' \"[{{git.branch}}]\"", format!("[{payload}]")),
                ("printf '%s' '[{{git.branch}}]'", format!("[{payload}]")),
                ("printf '%s' x{{{git.branch}}}y", format!("x{payload}y")),
                (
                    "printf '%s' \"$(printf '%s' {{git.branch}})\"",
                    payload.to_string(),
                ),
                (
                    "printf '%s' `printf '%s' {{git.branch}}`",
                    payload.trim_end().to_string(),
                ),
            ] {
                let (printed, pwned) = run_shell(source, payload);
                assert!(!pwned, "{source} with {payload:?} ran the payload");
                // Command substitution drops trailing newlines and backticks word-split.
                if !source.contains('`') {
                    assert_eq!(printed, want, "{source} with {payload:?}");
                }
            }
        }
    }

    #[test]
    fn shell_commands_show_the_values_quoted_where_they_stand() {
        let vars = Vars {
            git_branch: "feat/a;b".into(),
            pipeline: "ci".into(),
            ..Default::default()
        };
        let cmd = render_shell(
            "echo {{git.branch}} \"{{git.branch}}\" '{{git.branch}}' {{pipeline}}",
            &vars,
        )
        .unwrap();
        assert_eq!(
            cmd.exec,
            "echo \"${NEON_MIGRATE_VAR_GIT_BRANCH}\" \"${NEON_MIGRATE_VAR_GIT_BRANCH}\" ''\"${NEON_MIGRATE_VAR_GIT_BRANCH}\"'' \"${NEON_MIGRATE_VAR_PIPELINE}\""
        );
        assert_eq!(cmd.shown, "echo 'feat/a;b' \"feat/a;b\" 'feat/a;b' ci");
        assert_eq!(
            cmd.env,
            vec![
                (
                    "NEON_MIGRATE_VAR_GIT_BRANCH".to_owned(),
                    "feat/a;b".to_owned()
                ),
                ("NEON_MIGRATE_VAR_PIPELINE".to_owned(), "ci".to_owned()),
            ]
        );
        // Preset text with its own quoting and substitutions is kept as it is.
        let preset =
            "cur=$(alembic current | awk 'NF { print $1 }'); alembic upgrade \"$cur:head\" --sql";
        assert_eq!(render_shell(preset, &vars).unwrap().exec, preset);
        let err = render_shell("echo {{env.NOPE_NOT_SET_X}}", &vars).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable `NOPE_NOT_SET_X` is not set (used as `{{env.NOPE_NOT_SET_X}}`)"
        );
    }

    #[test]
    fn secret_looking_env_values_are_registered_and_never_debug_printed() {
        assert!(is_secret_name("NEON_API_KEY"));
        assert!(is_secret_name("GH_TOKEN"));
        assert!(is_secret_name("client_secret"));
        assert!(is_secret_name("DB_PASSWORD"));
        assert!(is_secret_name("PGPASS"));
        assert!(!is_secret_name("HOME"));
        assert!(!is_secret_name("DATABASE_URL"));
        let vars = Vars {
            env: [
                ("NEON_API_KEY".to_owned(), "napi_unit_secret_1".to_owned()),
                ("HOME".to_owned(), "/home/unit-home".to_owned()),
                (
                    "DATABASE_URL".to_owned(),
                    "postgres://u@h/db?password=unit-query-pw".to_owned(),
                ),
            ]
            .into(),
            db_branch: Some(DbBranchVars {
                name: "n".into(),
                url: Secret::new("postgres://u:unit-url-pw@h/db".into()),
                parent: "main".into(),
            }),
            ..Default::default()
        };
        let debug = format!("{vars:?}");
        for secret in [
            "napi_unit_secret_1",
            "unit-home",
            "unit-query-pw",
            "unit-url-pw",
        ] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let out = render(
            "{{env.NEON_API_KEY}} {{env.HOME}} {{env.DATABASE_URL}}",
            &vars,
        )
        .unwrap();
        assert_eq!(
            vars.secrets.redact(&out),
            "**** /home/unit-home postgres://u@h/db?password=****"
        );
        let shell = render_shell("echo {{env.NEON_API_KEY}}", &vars).unwrap();
        assert_eq!(vars.secrets.redact(&shell.shown), "echo ****");
        // Not in the name of a test Neon database branch.
        let p = check("migrate/{{env.NEON_API_KEY}}", Scope::DbBranchName);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("looks like a secret"), "{p:?}");
        assert!(check("migrate/{{env.USER}}", Scope::DbBranchName).is_empty());
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
        assert!(err.to_string().contains("NOPE_NOT_SET"), "{err}");
        let err = render("{{neon_database_branch.url}}", &vars).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template variable `neon_database_branch.url` has no value at this point"
        );
    }

    #[test]
    fn only_the_environment_variables_a_template_names_are_read() {
        let vars = Vars {
            env: [
                ("USED".to_owned(), "used-value".to_owned()),
                ("NEON_API_KEY".to_owned(), "napi_unit_unused_key".to_owned()),
            ]
            .into(),
            ..Default::default()
        };
        let template = Template::compile("{{env.USED}} {{git.branch}}").unwrap();
        let json = vars.to_json(&template);
        assert_eq!(json["env"], json!({ "USED": "used-value" }));
        assert!(!json.to_string().contains("napi_unit_unused_key"), "{json}");
        // The process environment is read name by name, never copied whole.
        let process = Vars {
            env: Env::Process,
            ..Default::default()
        };
        let json = process.to_json(&Template::compile("{{env.PATH}}").unwrap());
        let env = json["env"].as_object().expect("an object");
        assert_eq!(env.keys().collect::<Vec<_>>(), ["PATH"]);
        assert_eq!(format!("{:?}", process.env), "Process");
    }

    #[test]
    fn debug_of_the_variables_shows_no_secret() {
        let vars = Vars {
            git_branch: "feature/x".into(),
            env: [("API_TOKEN".to_owned(), "unit-token-value".to_owned())].into(),
            db_branch: Some(DbBranchVars {
                name: "migrate/feature-x".into(),
                url: Secret::new("postgres://u:unit-db-pw@h/db".into()),
                parent: "main".into(),
            }),
            ..Default::default()
        };
        let debug = format!("{vars:?} {:?}", vars.db_branch);
        assert!(
            debug.contains("migrate/feature-x") && debug.contains("API_TOKEN"),
            "{debug}"
        );
        for secret in ["unit-token-value", "unit-db-pw", "postgres://"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}

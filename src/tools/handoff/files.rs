//! What a project's settings and config files say about the database: the variable names
//! they read or set (code, `BaseSettings` classes, dotenv examples, docker-compose), engine
//! switches and the SQLAlchemy driver.

use crate::tools::detect::referenced_env;

/// Every variable name a settings or config file uses: what code reads (`os.getenv`,
/// `process.env`, …), the fields of `BaseSettings` classes, the names a dotenv example or a
/// docker-compose `environment` sets.
pub fn settings_names(file: &str, text: &str) -> Vec<String> {
    let mut out = referenced_env(text);
    let mut add = |n: String| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    if file.ends_with(".py") {
        for n in base_settings_fields(text) {
            add(n);
        }
    }
    let base = file.rsplit('/').next().unwrap_or(file);
    if is_dotenv(base) {
        for (n, _) in dotenv_pairs(text) {
            add(n);
        }
    }
    if base.ends_with(".yml") || base.ends_with(".yaml") {
        for (n, _) in compose_pairs(text) {
            add(n);
        }
    }
    out
}

/// Whether a file name is a dotenv file or an example of one: `.env.example`, `example.env`,
/// and `env-example-relational` or `env.sample` (examples without the leading dot).
pub(super) fn is_dotenv(base: &str) -> bool {
    let plain = base.trim_start_matches('.');
    base.contains(".env")
        || plain
            .strip_prefix("env")
            .and_then(|rest| rest.strip_prefix(['.', '-', '_']))
            .is_some_and(|rest| {
                ["example", "sample", "template"]
                    .iter()
                    .any(|w| rest.starts_with(w))
            })
}

fn conventional(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `NAME=value` lines of a dotenv file (`export` allowed, quotes removed).
pub fn dotenv_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let k = k.trim();
            conventional(k).then(|| (k.to_owned(), unquote(v)))
        })
        .collect()
}

/// `- NAME=value` and `NAME: value` entries of a docker-compose file.
pub fn compose_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches(['"', '\'']);
            let at = l.find(['=', ':'])?;
            let k = l[..at].trim().trim_end_matches(['"', '\'']);
            conventional(k).then(|| (k.to_owned(), unquote(&l[at + 1..])))
        })
        .collect()
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let v = v.split(" #").next().unwrap_or(v).trim();
    v.trim_matches(['"', '\'']).to_owned()
}

/// The environment variables `BaseSettings` classes read: each field's name (upper-cased, as
/// pydantic-settings matches it case-insensitively) behind the class's `env_prefix`, or the
/// field's `alias`/`validation_alias`/`env`. Classes deriving a settings class of the same
/// file count too.
pub fn base_settings_fields(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut settings_classes: Vec<String> = vec!["BaseSettings".into()];
    let mut out = Vec::new();
    // Two passes: a class may derive one defined further down.
    for _ in 0..2 {
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let Some(rest) = t.strip_prefix("class ") else {
                continue;
            };
            let Some((name, bases)) = rest.split_once('(') else {
                continue;
            };
            let bases = bases.split(')').next().unwrap_or("");
            let derives = bases.split(',').any(|b| {
                let b = b.trim();
                let b = b.rsplit('.').next().unwrap_or(b);
                settings_classes.iter().any(|c| c == b)
            });
            if !derives {
                continue;
            }
            let name = name.trim().to_owned();
            if !settings_classes.contains(&name) {
                settings_classes.push(name);
            }
            let own = indent(line);
            let body: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || indent(l) > own)
                .copied()
                .collect();
            let field_indent = body
                .iter()
                .find(|l| !l.trim().is_empty())
                .map(|l| indent(l))
                .unwrap_or(own + 4);
            let whole = body.join("\n");
            let prefix = crate::tools::layout::string_values(&whole, "env_prefix")
                .into_iter()
                .next()
                .unwrap_or_default();
            let case_sensitive =
                whole.contains("case_sensitive=True") || whole.contains("case_sensitive = True");
            for l in &body {
                if l.trim().is_empty() || indent(l) != field_indent {
                    continue;
                }
                let t = l.trim();
                let field: String = t
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let after = t[field.len()..].trim_start();
                if field.is_empty()
                    || !after.starts_with(':')
                    || field == "model_config"
                    || field.starts_with('_')
                {
                    continue;
                }
                let alias = ["validation_alias", "alias", "env"].iter().find_map(|k| {
                    crate::tools::layout::string_values(after, k)
                        .into_iter()
                        .next()
                });
                let name = match alias {
                    Some(a) => a,
                    None => format!("{prefix}{field}"),
                };
                let name = if case_sensitive {
                    name
                } else {
                    name.to_uppercase()
                };
                if conventional(&name) && !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Whether a variable's name says it chooses the database engine (`DB`, `DB_ENGINE`,
/// `DATABASE_TYPE`, …).
pub fn is_switch_name(name: &str) -> bool {
    let tokens: Vec<&str> = name.split('_').filter(|t| !t.is_empty()).collect();
    match tokens.as_slice() {
        ["DB" | "DATABASE" | "DBMS"] => true,
        [prefix @ .., last] if !prefix.is_empty() => {
            prefix
                .iter()
                .any(|t| matches!(*t, "DB" | "DATABASE" | "SQL" | "ORM"))
                && matches!(
                    *last,
                    "ENGINE" | "BACKEND" | "TYPE" | "VENDOR" | "DIALECT" | "KIND" | "SYSTEM"
                )
        }
        _ => false,
    }
}

/// A value that names Postgres (`postgres`, `postgresql`, `pg`, `pgsql`,
/// `django.db.backends.postgresql`, …).
fn selects_postgres(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    (l.contains("postgres") || matches!(l.as_str(), "pg" | "pgsql" | "psql"))
        && !l.contains("://")
        && !l.contains(' ')
        && l.len() < 80
}

fn quoted_literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(['"', '\'']) {
        let q = rest[at..].chars().next().unwrap_or('"');
        let Some(end) = rest[at + 1..].find(q) else {
            break;
        };
        out.push(rest[at + 1..at + 1 + end].to_owned());
        rest = &rest[at + 1 + end + 1..];
    }
    out
}

fn mentions(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The value of switch `name` that selects Postgres, as the project's files tell it: a
/// dotenv or compose value that names Postgres, else a Postgres literal on a line that uses
/// the variable (or the code variable it is read into: `db = os.getenv("DB")`).
pub fn switch_value(name: &str, files: &[(String, String)]) -> Option<String> {
    if !is_switch_name(name) && !files.iter().any(|(_, t)| t.contains(name)) {
        return None;
    }
    for (file, text) in files {
        let base = file.rsplit('/').next().unwrap_or(file);
        let pairs = if base.ends_with(".yml") || base.ends_with(".yaml") {
            compose_pairs(text)
        } else if is_dotenv(base) {
            dotenv_pairs(text)
        } else {
            Vec::new()
        };
        if let Some((_, v)) = pairs.iter().find(|(k, v)| k == name && selects_postgres(v)) {
            return Some(v.clone());
        }
    }
    for (_, text) in files {
        let mut words = vec![name.to_owned()];
        for line in text.lines().filter(|l| l.contains(name)) {
            // `db = os.getenv("DB", "sqlite")`, `const dbKind = process.env.DB_ENGINE`
            let lhs = line.split('=').next().unwrap_or("");
            let var = lhs
                .trim()
                .trim_start_matches("const ")
                .trim_start_matches("let ")
                .trim_start_matches("var ")
                .split(':')
                .next()
                .unwrap_or("")
                .trim();
            if line.contains('=')
                && !var.is_empty()
                && var != name
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !words.iter().any(|w| w == var)
            {
                words.push(var.to_owned());
            }
        }
        for line in text.lines() {
            if !words.iter().any(|w| mentions(line, w)) {
                continue;
            }
            if let Some(v) = quoted_literals(line)
                .into_iter()
                .find(|v| selects_postgres(v))
            {
                // Only a switch's comparison or default, not a URL or a driver's name in a dict.
                if is_switch_name(name) || line.contains("==") || line.contains("===") {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// The driver of the first `postgresql+<driver>://` in a text.
pub fn sqlalchemy_driver(text: &str) -> Option<String> {
    let at = text.find("postgresql+")? + "postgresql+".len();
    let driver: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (text[at + driver.len()..].starts_with("://") && !driver.is_empty()).then_some(driver)
}

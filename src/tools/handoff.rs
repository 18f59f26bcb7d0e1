//! Handing the connection string to a migration tool: which variables, in which form.
//!
//! There is no universal variable, so a tool gets, in order (later wins):
//! 1. the common aliases (`DATABASE_URL`, `DIRECT_URL`, `POSTGRES_URL_NON_POOLING`, …, libpq's
//!    `PGHOST`…`PGDATABASE` and the split `DB_HOST`…`DB_PASSWORD`);
//! 2. every database variable its config files read (`process.env.X`, `env("X")`,
//!    `os.environ["X"]`, `getenv("X")`, …): URL-like names get the URL, `*_HOST`, `*_PORT`,
//!    `*_USER`, `*_PASSWORD`, `*_DB`/`*_NAME` names of a database prefix get the part;
//!    The project's settings are read too, wherever the tool's config may take them from:
//!    `BaseSettings` classes (each field is the variable of the same name, upper-cased, with
//!    the class's `env_prefix`), `.env.example`-style files and docker-compose `environment`
//!    ([`SETTINGS_FILES`]). A switch that selects the database engine (`DB=postgres`,
//!    `DB_ENGINE`, `DATABASE_ENGINE`, …) gets the value that selects Postgres, when the files
//!    say which value that is;
//! 3. the project's `[tool.env]`;
//! 4. the explicit `url-env`, `user-env` and `password-env`.
//!
//! Every form points at the **direct** host (`-pooler` removed: the transaction pooler breaks
//! advisory locks and session settings that migration tools use). Per tool, the URL can be
//! reshaped: `url-format = "sqlalchemy"` (`postgresql+<driver>://`, the project's own driver
//! suffix kept), `"jdbc"` (`jdbc:postgresql://host:port/db?…`, credentials apart), and
//! `drop-url-params` (e.g. `channel_binding`, which lib/pq rejects). A loopback URL without
//! `sslmode` gets `sslmode=disable` (lib/pq would otherwise insist on TLS), and a `/` in the
//! database name is written raw (node-postgres cannot decode `%2F`).

use std::path::Path;

use crate::config::{ToolConfig, UrlFormat};
use crate::pg::{percent_decode, percent_encode};
use crate::tools::detect::{definite_url_vars, referenced_env, Tree};

/// Variables every tool gets (as plain `postgresql://` URLs).
pub const URL_ALIASES: &[&str] = &[
    "DATABASE_URL",
    "DIRECT_URL",
    "DATABASE_URL_UNPOOLED",
    "POSTGRES_URL",
    "POSTGRES_URL_NON_POOLING",
    "POSTGRES_PRISMA_URL",
];

/// Split variables every tool gets.
pub const PART_ALIASES: &[(&str, Part)] = &[
    ("PGHOST", Part::Host),
    ("PGPORT", Part::Port),
    ("PGUSER", Part::User),
    ("PGPASSWORD", Part::Password),
    ("PGDATABASE", Part::Database),
    ("PGSSLMODE", Part::SslMode),
    ("DB_HOST", Part::Host),
    ("DB_PORT", Part::Port),
    ("DB_DATABASE", Part::Database),
    ("DB_USERNAME", Part::User),
    ("DB_PASSWORD", Part::Password),
];

/// One piece of a connection string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Host,
    Port,
    User,
    Password,
    Database,
    SslMode,
}

/// What a variable receives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "part")]
pub enum Value {
    /// The URL in the tool's format.
    Url,
    /// A plain `postgresql://` URL.
    PlainUrl,
    /// A JDBC URL (for names containing `JDBC`).
    JdbcUrl,
    Part(Part),
    /// A switch: this value selects Postgres (`DB=postgres`).
    Switch(String),
}

/// Files that may hold the project's database settings, besides the tool's own config files
/// (globs under the tool's working folder; dependency and build folders are never searched).
pub const SETTINGS_FILES: &[&str] = &[
    "**/*settings*.py",
    "**/*config*.py",
    "**/settings/*.py",
    "**/config/*.py",
    "**/{.env.example,.env.sample,.env.template,.env.dist,.env.defaults,example.env}",
    // `env-example-relational`, `.env.example.local`, `env.sample`: examples named otherwise.
    "**/{.env,env}{.,-,_}{example,sample,template}*",
    "{,*/}{docker-compose,compose}*.{yml,yaml}",
    "{,src/,lib/,app/,server/}{env,config,db,database}.{ts,js,mjs,cjs}",
    "{,src/,lib/,app/,server/}{db,database}/index.{ts,js,mjs,cjs}",
];
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "source", content = "file")]
pub enum Source {
    Alias,
    /// Read by this config file.
    Referenced(String),
    /// `url-env`, `user-env` or `password-env` of the tool.
    Explicit,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub name: String,
    pub value: Value,
    #[serde(flatten)]
    pub source: Source,
}

/// The variables a tool will get, worked out from its config (without the URL itself).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Plan {
    /// Aliases and referenced variables (before `[tool.env]`).
    pub base: Vec<Entry>,
    /// `url-env`, `user-env`, `password-env` (after `[tool.env]`: they win).
    pub explicit: Vec<Entry>,
    /// Variables the config files read that are not about the database: left alone.
    pub left_alone: Vec<(String, String)>,
    /// The SQLAlchemy driver suffix in use (`psycopg`, `asyncpg`, …), for `sqlalchemy`.
    pub driver: Option<String>,
    /// Switches that seem to select the database engine but whose Postgres value the files do
    /// not tell: (name, file). Left alone, and `plan` says so.
    pub unknown_switches: Vec<(String, String)>,
}

impl Plan {
    /// Works out the variables of `tool` for the project in `dir` (its config files are read).
    pub fn new(tool: &ToolConfig, dir: &Path) -> Plan {
        let mut plan = Plan::default();
        let set = |plan: &mut Plan, name: &str, value: Value, source: Source| {
            plan.base.retain(|e| e.name != name);
            plan.base.push(Entry {
                name: name.to_owned(),
                value,
                source,
            });
        };
        for name in URL_ALIASES {
            set(&mut plan, name, Value::PlainUrl, Source::Alias);
        }
        for (name, part) in PART_ALIASES {
            set(&mut plan, name, Value::Part(*part), Source::Alias);
        }
        let tree = Tree::new(dir);
        let mut texts = Vec::new();
        let mut files = tree.files(&tool.handoff.config_files);
        let settings: Vec<String> = SETTINGS_FILES.iter().map(|g| (*g).to_owned()).collect();
        for f in tree.files(&settings) {
            if !files.contains(&f) {
                files.push(f);
            }
        }
        let mut read: Vec<(String, String)> = Vec::new();
        for file in files {
            let Ok(text) = std::fs::read_to_string(dir.join(&file)) else {
                continue;
            };
            read.push((file, text));
        }
        for (file, text) in &read {
            for name in definite_url_vars(text) {
                set(
                    &mut plan,
                    &name,
                    Value::Url,
                    Source::Referenced(file.clone()),
                );
            }
            for name in settings_names(file, text) {
                if plan
                    .base
                    .iter()
                    .any(|e| e.name == name && e.source == Source::Referenced(file.clone()))
                {
                    continue;
                }
                match classify(&name) {
                    Some(value) => set(&mut plan, &name, value, Source::Referenced(file.clone())),
                    None => match switch_value(&name, &read) {
                        Some(v) => set(
                            &mut plan,
                            &name,
                            Value::Switch(v),
                            Source::Referenced(file.clone()),
                        ),
                        None if is_switch_name(&name) => {
                            if !plan.unknown_switches.iter().any(|(n, _)| n == &name) {
                                plan.unknown_switches.push((name, file.clone()));
                            }
                        }
                        None => {
                            if !plan.left_alone.iter().any(|(n, _)| n == &name) {
                                plan.left_alone.push((name, file.clone()));
                            }
                        }
                    },
                }
            }
        }
        plan.left_alone
            .retain(|(n, _)| !plan.base.iter().any(|e| &e.name == n));
        for (_, text) in read {
            texts.push(text);
        }
        if tool.handoff.format == UrlFormat::Sqlalchemy {
            plan.driver = tool
                .handoff
                .driver
                .clone()
                .or_else(|| texts.iter().find_map(|t| sqlalchemy_driver(t)));
        }
        for name in &tool.handoff.url_env {
            plan.explicit.push(Entry {
                name: name.clone(),
                value: Value::Url,
                source: Source::Explicit,
            });
        }
        for (names, part) in [
            (&tool.handoff.user_env, Part::User),
            (&tool.handoff.password_env, Part::Password),
        ] {
            for name in names {
                plan.explicit.push(Entry {
                    name: name.clone(),
                    value: Value::Part(part),
                    source: Source::Explicit,
                });
            }
        }
        plan
    }

    /// The values for `url`: (base, explicit).
    pub fn render(&self, tool: &ToolConfig, url: &str) -> Result<(EnvPairs, EnvPairs), String> {
        let parsed = PgUrl::parse(url).ok_or_else(|| {
            "the connection string of the Neon database branch is not a postgres:// URL".to_owned()
        })?;
        let mut drop = tool.handoff.drop_params.clone();
        if self
            .driver
            .as_deref()
            .is_some_and(|d| d.starts_with("asyncpg"))
        {
            drop.push("channel_binding".into());
        }
        let u = parsed.for_tool(&drop);
        let value = |v: &Value| -> String {
            match v {
                Value::Url => match tool.handoff.format {
                    UrlFormat::Url => u.render(),
                    UrlFormat::Sqlalchemy => u.sqlalchemy(self.driver.as_deref()),
                    UrlFormat::Jdbc => u.jdbc(),
                },
                Value::PlainUrl => u.render(),
                Value::JdbcUrl => u.jdbc(),
                Value::Part(p) => u.part(*p),
                Value::Switch(v) => v.clone(),
            }
        };
        let render = |entries: &[Entry]| -> Vec<(String, String)> {
            entries
                .iter()
                .filter(|e| {
                    !(e.value == Value::Part(Part::SslMode) && u.param("sslmode").is_none())
                })
                .map(|e| (e.name.clone(), value(&e.value)))
                .collect()
        };
        Ok((render(&self.base), render(&self.explicit)))
    }

    /// The names that receive the database, for messages.
    pub fn names(&self) -> Vec<String> {
        self.base
            .iter()
            .chain(&self.explicit)
            .map(|e| e.name.clone())
            .collect()
    }
}

/// What a variable read by a config file should receive, if it is about the database.
pub fn classify(name: &str) -> Option<Value> {
    if name.contains("SHADOW") || name.contains("TEST") || name.contains("REPLICA") {
        return None;
    }
    if let Some((_, part)) = PART_ALIASES.iter().find(|(n, _)| *n == name) {
        return Some(Value::Part(*part));
    }
    let tokens: Vec<&str> = name.split('_').filter(|t| !t.is_empty()).collect();
    const DBISH: &[&str] = &[
        "DB",
        "DATABASE",
        "PG",
        "POSTGRES",
        "POSTGRESQL",
        "PSQL",
        "SQL",
        "JDBC",
        "DIRECT",
        "NEON",
    ];
    let dbish = |ts: &[&str]| ts.iter().any(|t| DBISH.contains(t));
    let urlish = tokens.iter().any(|t| matches!(*t, "URL" | "URI" | "DSN"))
        || name.ends_with("CONNECTION_STRING")
        || name.ends_with("DBSTRING");
    if urlish && (dbish(&tokens) || name.ends_with("DBSTRING")) {
        return Some(if tokens.contains(&"JDBC") {
            Value::JdbcUrl
        } else {
            Value::Url
        });
    }
    let (last, prefix) = tokens.split_last()?;
    if !dbish(prefix) {
        return None;
    }
    let part = match *last {
        "HOST" | "HOSTNAME" | "SERVER" => Part::Host,
        "PORT" => Part::Port,
        "USER" | "USERNAME" => Part::User,
        "PASSWORD" | "PASS" | "PWD" => Part::Password,
        "DATABASE" | "NAME" | "DB" | "DBNAME" => Part::Database,
        "SSLMODE" => Part::SslMode,
        _ => return None,
    };
    Some(Value::Part(part))
}

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
fn is_dotenv(base: &str) -> bool {
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

/// A `postgres://` URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// Percent-encoded user, password.
    pub user: Option<String>,
    pub password: Option<String>,
    /// `host[:port]` (one host; bracketed IPv6 allowed).
    pub host: String,
    pub port: Option<String>,
    /// Percent-encoded database.
    pub database: String,
    pub params: Vec<(String, String)>,
}

impl PgUrl {
    pub fn parse(url: &str) -> Option<PgUrl> {
        let rest = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))?;
        let (head, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, database) = head.split_once('/').unwrap_or((head, ""));
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
                None => (Some(ui.to_owned()), None),
            },
            None => (None, None),
        };
        let (host, port) = if let Some(end) = hostport.strip_prefix('[').and_then(|h| h.find(']')) {
            let host = &hostport[..end + 2];
            let port = hostport[end + 2..].strip_prefix(':').map(str::to_owned);
            (host.to_owned(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p.to_owned())),
                None => (hostport.to_owned(), None),
            }
        };
        let params = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Some(PgUrl {
            user,
            password,
            host,
            port,
            database: database.to_owned(),
            params,
        })
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The direct (non-pooled) endpoint, without `drop` parameters, `sslmode=disable` added
    /// for a loopback host that sets none.
    pub fn for_tool(&self, drop: &[String]) -> PgUrl {
        let mut u = self.clone();
        u.host = direct_host(&u.host);
        // A `/` in the database name (the local provider names databases after Neon database
        // branches) stays raw: node-postgres decodes the path with decodeURI, which keeps
        // `%2F`, while libpq, SQLAlchemy, sqlx and lib/pq all read a raw `/` right (JDBC URLs
        // encode it again: pgjdbc is the exception).
        u.database = u.database.replace("%2F", "/").replace("%2f", "/");
        u.params.retain(|(k, _)| !drop.contains(k));
        let loopback = matches!(u.host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1");
        if loopback && u.param("sslmode").is_none() {
            u.params.push(("sslmode".into(), "disable".into()));
        }
        u
    }

    fn authority(&self) -> String {
        let mut s = String::new();
        if let Some(user) = &self.user {
            s.push_str(user);
            if let Some(p) = &self.password {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&self.host);
        if let Some(p) = &self.port {
            s.push(':');
            s.push_str(p);
        }
        s
    }

    fn query(&self) -> String {
        if self.params.is_empty() {
            return String::new();
        }
        let kv: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("?{}", kv.join("&"))
    }

    /// `postgresql://user:password@host:port/db?params`.
    pub fn render(&self) -> String {
        format!(
            "postgresql://{}/{}{}",
            self.authority(),
            self.database,
            self.query()
        )
    }

    /// `postgresql+<driver>://…` (plain `postgresql://` without a driver).
    pub fn sqlalchemy(&self, driver: Option<&str>) -> String {
        match driver {
            Some(d) => format!(
                "postgresql+{d}://{}/{}{}",
                self.authority(),
                self.database,
                self.query()
            ),
            None => self.render(),
        }
    }

    /// `jdbc:postgresql://host:port/db?sslmode=…` (credentials go apart; libpq's
    /// `channel_binding` becomes pgjdbc's `channelBinding`; other libpq-only parameters go).
    pub fn jdbc(&self) -> String {
        let mut params = Vec::new();
        for (k, v) in &self.params {
            match k.as_str() {
                "sslmode" | "options" | "connect_timeout" | "application_name" => {
                    let key = match k.as_str() {
                        "connect_timeout" => "connectTimeout",
                        "application_name" => "ApplicationName",
                        other => other,
                    };
                    params.push(format!("{key}={v}"));
                }
                "channel_binding" => params.push(format!("channelBinding={v}")),
                _ => {}
            }
        }
        let port = self.port.as_deref().unwrap_or("5432");
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{}", params.join("&"))
        };
        // pgjdbc splits at a raw `/` but decodes `%2F`.
        format!(
            "jdbc:postgresql://{}:{port}/{}{query}",
            self.host,
            self.database.replace('/', "%2F")
        )
    }

    /// One piece, decoded.
    pub fn part(&self, part: Part) -> String {
        match part {
            Part::Host => self.host.trim_matches(['[', ']']).to_owned(),
            Part::Port => self.port.clone().unwrap_or_else(|| "5432".into()),
            Part::User => percent_decode(self.user.as_deref().unwrap_or("")),
            Part::Password => percent_decode(self.password.as_deref().unwrap_or("")),
            Part::Database => percent_decode(&self.database),
            Part::SslMode => self.param("sslmode").unwrap_or("").to_owned(),
        }
    }
}

/// `ep-x-123-pooler.region.aws.neon.tech` → `ep-x-123.region.aws.neon.tech`.
pub fn direct_host(host: &str) -> String {
    match host.split_once('.') {
        Some((first, rest)) if first.ends_with("-pooler") => {
            format!("{}.{rest}", first.trim_end_matches("-pooler"))
        }
        _ => host.to_owned(),
    }
}

/// Percent-encodes a user or password for a URL (tests and fixtures).
pub fn encode(s: &str) -> String {
    percent_encode(s)
}

/// Environment variables as (name, value) pairs.
type EnvPairs = Vec<(String, String)>;

#[cfg(test)]
mod tests {
    use super::*;

    const NEON: &str = "postgresql://neondb_owner:npg_s%40cret@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require";

    #[test]
    fn direct_host_and_param_drops() {
        let u = PgUrl::parse(NEON)
            .unwrap()
            .for_tool(&["channel_binding".into()]);
        assert_eq!(
            u.render(),
            "postgresql://neondb_owner:npg_s%40cret@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require"
        );
        assert_eq!(u.part(Part::Password), "npg_s@cret");
        assert_eq!(u.part(Part::Port), "5432");
        let kept = PgUrl::parse(NEON).unwrap().for_tool(&[]);
        assert!(kept
            .render()
            .ends_with("?sslmode=require&channel_binding=require"));
    }

    #[test]
    fn jdbc_and_sqlalchemy_forms() {
        let u = PgUrl::parse(NEON).unwrap().for_tool(&[]);
        assert_eq!(
            u.jdbc(),
            "jdbc:postgresql://ep-cool-darkness-123456.us-east-2.aws.neon.tech:5432/neondb?sslmode=require&channelBinding=require"
        );
        assert!(u
            .sqlalchemy(Some("psycopg"))
            .starts_with("postgresql+psycopg://neondb_owner:"));
        assert_eq!(
            sqlalchemy_driver("sqlalchemy.url = postgresql+asyncpg://u@h/db"),
            Some("asyncpg".into())
        );
        assert_eq!(sqlalchemy_driver("postgresql+ nothing"), None);
    }

    #[test]
    fn loopback_without_sslmode_disables_tls() {
        let u = PgUrl::parse("postgres://postgres:pw@127.0.0.1:5433/it_x")
            .unwrap()
            .for_tool(&[]);
        assert_eq!(
            u.render(),
            "postgresql://postgres:pw@127.0.0.1:5433/it_x?sslmode=disable"
        );
        assert_eq!(
            u.jdbc(),
            "jdbc:postgresql://127.0.0.1:5433/it_x?sslmode=disable"
        );
        let slash = PgUrl::parse("postgres://p:pw@127.0.0.1:5433/migrate%2Ffeature%2Fx%3F")
            .unwrap()
            .for_tool(&[]);
        assert_eq!(
            slash.render(),
            "postgresql://p:pw@127.0.0.1:5433/migrate/feature/x%3F?sslmode=disable"
        );
        assert_eq!(slash.part(Part::Database), "migrate/feature/x?");
        assert_eq!(
            slash.jdbc(),
            "jdbc:postgresql://127.0.0.1:5433/migrate%2Ffeature%2Fx%3F?sslmode=disable"
        );
    }

    #[test]
    fn base_settings_fields_are_variables_with_the_prefix() {
        let py = r#"
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file="../.env", env_ignore_empty=True)
    PROJECT_NAME: str = "app"
    POSTGRES_SERVER: str = "localhost"
    POSTGRES_PORT: int = 5432
    postgres_user: str = "postgres"

    def url(self) -> str:
        x: int = 1
        return "postgresql+psycopg://"

class Other(Settings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    db_password: str = Field("changethis", validation_alias="POSTGRES_PASSWORD")
    replica_host: str = ""

class NotSettings:
    POSTGRES_DB: str = "decoy"
"#;
        assert_eq!(
            base_settings_fields(py),
            [
                "PROJECT_NAME",
                "POSTGRES_SERVER",
                "POSTGRES_PORT",
                "POSTGRES_USER",
                "POSTGRES_PASSWORD",
                "APP_REPLICA_HOST"
            ]
        );
    }

    #[test]
    fn switches_get_the_value_that_selects_postgres() {
        let settings = (
            "config/settings.py".to_owned(),
            "DB = os.environ.get(\"DB\", \"sqlite\")\nif DB == \"postgres\":\n    DATABASES = {}\n"
                .to_owned(),
        );
        assert!(is_switch_name("DB") && is_switch_name("DB_ENGINE"));
        assert!(!is_switch_name("NODE_ENV") && !is_switch_name("DB_HOST"));
        assert_eq!(
            switch_value("DB", std::slice::from_ref(&settings)).as_deref(),
            Some("postgres")
        );
        let env = (
            ".env.example".to_owned(),
            "DATABASE_ENGINE=django.db.backends.postgresql\nSECRET_KEY=x\n".to_owned(),
        );
        assert_eq!(
            switch_value("DATABASE_ENGINE", &[env]).as_deref(),
            Some("django.db.backends.postgresql")
        );
        // A default of sqlite and nothing else: unknown, not guessed.
        let unknown = (
            "s.py".to_owned(),
            "ENGINE = os.getenv(\"DB_ENGINE\", \"django.db.backends.sqlite3\")\n".to_owned(),
        );
        assert_eq!(switch_value("DB_ENGINE", &[unknown]), None);
        let compose = "services:\n  api:\n    environment:\n      - DB_TYPE=postgresql\n      POSTGRES_SERVER: db\n";
        assert_eq!(
            compose_pairs(compose),
            [
                ("DB_TYPE".to_owned(), "postgresql".to_owned()),
                ("POSTGRES_SERVER".to_owned(), "db".to_owned())
            ]
        );
    }

    #[test]
    fn plan_reads_dotenv_examples_compose_files_and_settings_classes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("knexfile.js", "module.exports = { client: 'pg' };\n");
        write(
            ".env.example",
            "APP_PG_HOST=localhost\nDB_ENGINE=postgres\nSECRET_KEY=x\n",
        );
        write(
            "docker-compose.yml",
            "services:\n  api:\n    environment:\n      - APP_PG_PASSWORD=changethis\n",
        );
        write(
            "node_modules/x/config.py",
            "class S(BaseSettings):\n    DECOY_DB_HOST: str = 'x'\n",
        );
        let config = crate::config::parse(
            crate::config::FILE_NAME,
            "[tool]\nname = \"knex\"\n",
            dir.path(),
        )
        .unwrap();
        let plan = Plan::new(&config.tool, dir.path());
        let get = |n: &str| {
            plan.base
                .iter()
                .find(|e| e.name == n)
                .map(|e| e.value.clone())
        };
        assert_eq!(get("APP_PG_HOST"), Some(Value::Part(Part::Host)));
        assert_eq!(get("APP_PG_PASSWORD"), Some(Value::Part(Part::Password)));
        assert_eq!(get("DB_ENGINE"), Some(Value::Switch("postgres".into())));
        // Dependency folders are never read.
        assert_eq!(get("DECOY_DB_HOST"), None);
        assert!(plan.left_alone.iter().any(|(n, _)| n == "SECRET_KEY"));
    }

    #[test]
    fn dotenv_examples_without_the_leading_dot_are_read() {
        // A NestJS/TypeORM layout: the data source reads DATABASE_TYPE; only the example file
        // (`cp env-example-relational .env`, says its README) tells which value is Postgres.
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "package.json",
            "{\"dependencies\": {\"typeorm\": \"0.3\"}}\n",
        );
        write(
            "src/database/data-source.ts",
            "export const AppDataSource = new DataSource({\n  type: process.env.DATABASE_TYPE,\n  host: process.env.DATABASE_HOST,\n});\n",
        );
        write(
            "env-example-relational",
            "DATABASE_TYPE=postgres\nAPP_DB_SCHEMA_NAME=api\nDATABASE_USERNAME=root\n",
        );
        for (name, yes) in [
            ("env-example-relational", true),
            ("env.sample", true),
            (".env_template", true),
            (".env.example.local", true),
            ("environment.ts", false),
            ("envoy.yaml", false),
        ] {
            assert_eq!(is_dotenv(name), yes, "{name}");
        }
        let config = crate::config::parse(
            crate::config::FILE_NAME,
            "[tool]\nname = \"typeorm\"\n",
            dir.path(),
        )
        .unwrap();
        let plan = Plan::new(&config.tool, dir.path());
        let get = |n: &str| {
            plan.base
                .iter()
                .find(|e| e.name == n)
                .map(|e| e.value.clone())
        };
        assert_eq!(get("DATABASE_TYPE"), Some(Value::Switch("postgres".into())));
        assert_eq!(get("DATABASE_USERNAME"), Some(Value::Part(Part::User)));
        assert!(
            plan.unknown_switches.is_empty(),
            "{:?}",
            plan.unknown_switches
        );
    }

    #[test]
    fn classifies_what_config_files_read() {
        assert_eq!(classify("DIRECT_URL"), Some(Value::Url));
        assert_eq!(classify("APP_DB_URL"), Some(Value::Url));
        assert_eq!(classify("JDBC_DATABASE_URL"), Some(Value::JdbcUrl));
        assert_eq!(classify("GOOSE_DBSTRING"), Some(Value::Url));
        assert_eq!(classify("POSTGRES_DB"), Some(Value::Part(Part::Database)));
        assert_eq!(classify("APP_DB_HOST"), Some(Value::Part(Part::Host)));
        assert_eq!(classify("PGPASSWORD"), Some(Value::Part(Part::Password)));
        for other in [
            "REDIS_URL",
            "SENTRY_DSN",
            "SECRET_KEY",
            "NODE_ENV",
            "APP_NAME",
            "SHADOW_DATABASE_URL",
        ] {
            assert_eq!(classify(other), None, "{other}");
        }
    }
}

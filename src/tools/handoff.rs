//! Handing the connection string to a migration tool: which variables, in which form.
//!
//! There is no universal variable, so a tool gets, in order (later wins):
//! 1. the common aliases (`DATABASE_URL`, `DIRECT_URL`, `POSTGRES_URL_NON_POOLING`, …, libpq's
//!    `PGHOST`…`PGDATABASE` and the split `DB_HOST`…`DB_PASSWORD`);
//! 2. every database variable its config files read (`process.env.X`, `env("X")`,
//!    `os.environ["X"]`, `getenv("X")`, …): URL-like names get the URL, `*_HOST`, `*_PORT`,
//!    `*_USER`, `*_PASSWORD`, `*_DB`/`*_NAME` names of a database prefix get the part;
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
}

/// Why a variable is set.
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
        for file in tree.files(&tool.handoff.config_files) {
            let Ok(text) = std::fs::read_to_string(dir.join(&file)) else {
                continue;
            };
            for name in definite_url_vars(&text) {
                set(
                    &mut plan,
                    &name,
                    Value::Url,
                    Source::Referenced(file.clone()),
                );
            }
            for name in referenced_env(&text) {
                if plan
                    .base
                    .iter()
                    .any(|e| e.name == name && e.source == Source::Referenced(file.clone()))
                {
                    continue;
                }
                match classify(&name) {
                    Some(value) => set(&mut plan, &name, value, Source::Referenced(file.clone())),
                    None => {
                        if !plan.left_alone.iter().any(|(n, _)| n == &name) {
                            plan.left_alone.push((name, file.clone()));
                        }
                    }
                }
            }
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

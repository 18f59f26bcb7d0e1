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

mod files;
mod url;

use crate::tools::detect::{definite_url_vars, Tree};
pub use files::{
    base_settings_fields, compose_pairs, dotenv_pairs, is_switch_name, settings_names,
    sqlalchemy_driver, switch_value,
};
pub use url::{direct_host, encode, PgUrl};

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
    pub fn render(
        &self,
        tool: &ToolConfig,
        url: &str,
    ) -> Result<(EnvPairs, EnvPairs), HandoffError> {
        let parsed = PgUrl::parse(url).ok_or(HandoffError::NotAPostgresUrl)?;
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

/// Why the connection string cannot be handed to a tool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    #[error("the connection string of the Neon database branch is not a postgres:// URL")]
    NotAPostgresUrl,
}

/// For callers that carry messages (`ToolError::new`).
impl From<HandoffError> for String {
    fn from(e: HandoffError) -> String {
        e.to_string()
    }
}

/// Environment variables as (name, value) pairs.
type EnvPairs = Vec<(String, String)>;

#[cfg(test)]
mod tests {
    use super::files::is_dotenv;
    use super::*;

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

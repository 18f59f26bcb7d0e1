//! `[provider]`: the local server or the Neon API, and the keys that belong to the other kind.

use std::ops::Range;
use std::path::Path;

use super::{span, Validator};
use crate::config::diag::Problem;
use crate::config::raw::{RawProvider, S};
use crate::config::{
    BusyParent, ConfigName, LocalConfig, NeonConfig, ProviderConfig, ProviderKind, ToolRole,
    DEFAULT_OPERATION_TIMEOUT, MAX_IDENTIFIER_BYTES, NEON_API_HOST, NEON_API_KEY_ENV,
};
use crate::template::Scope;

/// Keys only the `local` provider reads.
const LOCAL_ONLY: &[&str] = &[
    "url",
    "main-database",
    "data-dir",
    "busy-parent",
    "tool-role",
];
/// Keys only the `neon` provider reads.
const NEON_ONLY: &[&str] = &[
    "project-id",
    "api-key-env",
    "api-host",
    "parent",
    "database",
    "role",
    "operation-timeout",
];

impl Validator<'_> {
    pub(super) fn provider(&mut self, rp: RawProvider, root: &Path) -> ProviderConfig {
        let kind = rp
            .kind
            .as_ref()
            .and_then(|k| self.choice::<ProviderKind>(k, "provider kind"));
        if let Some(url) = &rp.url {
            self.provider_url(url);
        }
        if let Some(m) = &rp.main_database {
            self.main_database(m);
        }
        let busy_parent = rp
            .busy_parent
            .as_ref()
            .and_then(|b| self.choice(b, "busy-parent policy"))
            .unwrap_or(BusyParent::Fail);
        let tool_role = rp
            .tool_role
            .as_ref()
            .and_then(|r| self.choice(r, "tool role"))
            .unwrap_or(ToolRole::CopyOwner);
        if let Some(key) = &rp.api_key {
            self.secrets.push(span(key));
            self.push(
                Problem::new("config::secret", span(key), "an API key is written in `neon-migrate.toml`")
                    .label("secret in the repository")
                    .help(format!(
                        "secrets do not go in the repository: remove `api-key`, set the key in the environment variable `{NEON_API_KEY_ENV}` (or name another with `api-key-env`), and rotate the key if this file was ever committed"
                    )),
            );
        }
        let is_neon = kind == Some(ProviderKind::Neon);
        self.other_kind_keys(&rp, is_neon);
        self.api_settings(&rp);
        let operation_timeout = self.timeout(
            &rp.operation_timeout,
            "provider.operation-timeout",
            DEFAULT_OPERATION_TIMEOUT,
        );
        if is_neon {
            ProviderConfig::Neon(NeonConfig {
                project_id: rp.project_id.map(|p| p.into_inner()),
                api_key_env: rp
                    .api_key_env
                    .map(|e| e.into_inner())
                    .unwrap_or_else(|| NEON_API_KEY_ENV.into()),
                api_host: rp
                    .api_host
                    .map(|h| h.into_inner().trim_end_matches('/').to_owned()),
                parent: rp.parent.map(|p| p.into_inner()),
                database: rp
                    .database
                    .map(|d| d.into_inner())
                    .unwrap_or_else(|| "neondb".into()),
                role: rp
                    .role
                    .map(|r| r.into_inner())
                    .unwrap_or_else(|| "neondb_owner".into()),
                operation_timeout,
            })
        } else {
            // Without `url` (the embedded Postgres), every repository gets a main database of
            // its own; with one, the URL's database is the default (see LocalProvider::open).
            let main_database = match (&rp.main_database, &rp.url) {
                (Some(m), _) => Some(m.get_ref().clone()),
                (None, None) => Some(crate::providers::local::role::default_main_database(root)),
                (None, Some(_)) => None,
            };
            ProviderConfig::Local(LocalConfig {
                url: rp.url.map(|u| u.into_inner()),
                main_database,
                data_dir: rp.data_dir.map(|d| root.join(d.into_inner())),
                busy_parent,
                tool_role,
            })
        }
    }

    /// `provider.url`: a template for a postgresql:// URL, with no password written in it.
    fn provider_url(&mut self, url: &S<String>) {
        self.template(url, Scope::Command, "provider.url");
        // Every password the URL writes, not only the first: a templated userinfo does not
        // make a literal `?password=` behind it safe.
        let literal_password = crate::secret::url_passwords(url.get_ref())
            .into_iter()
            .find(|p| !(p.starts_with("{{") && p.ends_with("}}")));
        if let Some(password) = &literal_password {
            let sp = span(url);
            let at = self
                .source
                .get(sp.clone())
                .and_then(|v| v.find(password.as_str()))
                .map(|off| sp.start + off..sp.start + off + password.len())
                .unwrap_or(sp);
            self.secrets.push(at);
        }
        // Only the literal text before the first template can be judged here; the
        // rendered URL is checked again when the provider opens.
        let literal = url
            .get_ref()
            .split("{{")
            .next()
            .unwrap_or_default()
            .trim_start();
        let url_like = ["postgres://", "postgresql://"]
            .iter()
            .any(|s| literal.starts_with(s) || s.starts_with(literal));
        if !url_like {
            let why = crate::pg::check_url_form(literal)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            self.push(
                Problem::new("config::url", span(url), format!("`provider.url`: {why}"))
                    .label("not a postgresql:// URL")
                    .help("write the server as a URL, e.g. `url = \"postgresql://USER@HOST:5432/DATABASE\"`, with the password in `PGPASSWORD` or through `{{env.X}}`"),
            );
        }
        // A URL without templates is whole here: parse it as the connection will.
        if url_like && !url.get_ref().contains("{{") {
            if let Err(e) = url.get_ref().trim().parse::<tokio_postgres::Config>() {
                let why = crate::pg::url_error_detail(&e);
                self.push(
                    Problem::new("config::url", span(url), format!("`provider.url` does not parse: {why}"))
                        .label("not a valid connection URL")
                        .help("fix the URL: `postgresql://USER@HOST:PORT/DATABASE` (a port is 1–65535; percent-encode special characters)"),
                );
            }
        }
        if literal_password.is_some() {
            self.push(
                Problem::new("config::secret", span(url), "a password is written in `provider.url`")
                    .label("secret in the repository")
                    .help("secrets do not go in the repository: write `url = \"{{env.DATABASE_URL}}\"` and set the variable"),
            );
        }
    }

    /// `provider.main-database`: a name PostgreSQL keeps as written.
    fn main_database(&mut self, m: &S<String>) {
        let db = m.get_ref();
        let problem = if db.trim().is_empty() {
            Some("`main-database` is empty".to_owned())
        } else if db.len() > MAX_IDENTIFIER_BYTES {
            Some(format!(
                "`main-database` is {} bytes long; PostgreSQL names are at most {MAX_IDENTIFIER_BYTES} bytes",
                db.len()
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            self.push(
                Problem::new("config::main-database", span(m), message)
                    .label("not a usable database name")
                    .help(format!(
                        "give the name of the database that plays the main Neon database branch, 1 to {MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would cut a longer one, and then not find it)"
                    )),
            );
        }
    }

    /// `api-host` and `api-key-env` of the `neon` provider.
    fn api_settings(&mut self, rp: &RawProvider) {
        if let Some(host) = &rp.api_host {
            if !(host.get_ref().starts_with("https://") || host.get_ref().starts_with("http://")) {
                self.push(
                    Problem::new(
                        "config::provider",
                        span(host),
                        format!(
                            "`api-host` must be an http(s) URL, not `{}`",
                            host.get_ref()
                        ),
                    )
                    .help(format!("the default is `{NEON_API_HOST}`")),
                );
            }
        }
        if let Some(env) = &rp.api_key_env {
            let e = env.get_ref();
            if e.is_empty()
                || !e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || e.starts_with("napi_")
            {
                self.push(
                    Problem::new(
                        "config::provider",
                        span(env),
                        "`api-key-env` names an environment variable, not the key itself",
                    )
                    .help(
                        "write `api-key-env = \"NEON_API_KEY\"` and put the key in that variable",
                    ),
                );
            }
        }
    }

    /// Keys of the other provider kind are mistakes, not silently ignored settings.
    fn other_kind_keys(&mut self, rp: &RawProvider, is_neon: bool) {
        let given: [(&str, Option<Range<usize>>); 12] = [
            ("url", rp.url.as_ref().map(span)),
            ("main-database", rp.main_database.as_ref().map(span)),
            ("data-dir", rp.data_dir.as_ref().map(span)),
            ("busy-parent", rp.busy_parent.as_ref().map(span)),
            ("tool-role", rp.tool_role.as_ref().map(span)),
            ("project-id", rp.project_id.as_ref().map(span)),
            ("api-key-env", rp.api_key_env.as_ref().map(span)),
            ("api-host", rp.api_host.as_ref().map(span)),
            ("parent", rp.parent.as_ref().map(span)),
            ("database", rp.database.as_ref().map(span)),
            ("role", rp.role.as_ref().map(span)),
            ("operation-timeout", rp.operation_timeout.as_ref().map(span)),
        ];
        let (wrong, kind, other) = if is_neon {
            (LOCAL_ONLY, ProviderKind::Neon, ProviderKind::Local)
        } else {
            (NEON_ONLY, ProviderKind::Local, ProviderKind::Neon)
        };
        let (kind, other) = (kind.name(), other.name());
        for (key, sp) in given {
            let Some(sp) = sp else { continue };
            if wrong.contains(&key) {
                self.push(
                    Problem::new(
                        "config::provider",
                        sp,
                        format!("`{key}` is a `{other}` provider setting, but `kind` is `{kind}`"),
                    )
                    .label("not used by this provider")
                    .help(format!("remove `{key}`, or set `kind = \"{other}\"`")),
                );
            }
        }
    }
}

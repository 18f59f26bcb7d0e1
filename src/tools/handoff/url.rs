//! A `postgres://` URL taken apart and put back together in the forms tools read: a URL for
//! the direct host, SQLAlchemy's `postgresql+<driver>://`, JDBC, or one part.

use super::Part;
use crate::pg::{percent_decode, percent_encode};

/// A `postgres://` URL taken apart. `Debug` masks the password.
#[derive(Clone, PartialEq, Eq)]
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

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgUrl")
            .field("user", &self.user)
            .field(
                "password",
                &self.password.as_ref().map(|_| crate::secret::MASK),
            )
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field(
                "params",
                &self
                    .params
                    .iter()
                    .map(|(k, v)| {
                        let secret = k.eq_ignore_ascii_case("password");
                        (
                            k.as_str(),
                            if secret {
                                crate::secret::MASK
                            } else {
                                v.as_str()
                            },
                        )
                    })
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::handoff::sqlalchemy_driver;

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
    fn debug_masks_the_password() {
        let u = PgUrl::parse("postgres://app:handoff-unit-pw@h:5432/db?password=handoff-q-pw")
            .expect("parses");
        let debug = format!("{u:?}");
        assert!(debug.contains("app") && debug.contains("****"), "{debug}");
        assert!(!debug.contains("handoff-unit-pw"), "{debug}");
        assert!(!debug.contains("handoff-q-pw"), "{debug}");
    }
}

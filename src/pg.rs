//! Connecting to Postgres: TLS when the server offers it (Neon requires it, with SNI), plain
//! for a local server, and error text that keeps Postgres' own message, detail and SQLSTATE.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::secret::Secret;

/// A connection failure or a failed statement. The text never holds the connection URL's
/// password ([`describe`] masks it).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PgError {
    /// What we were doing (`context`) and what Postgres, or the network, said (`detail`).
    #[error("{context}: {detail}")]
    #[diagnostic(code(neon_migrate::postgres))]
    Failed {
        context: String,
        /// [`describe`] of `source`.
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// Statement `index` (from 1) of `total` of a plan failed; `sql` is the statement.
    #[error("statement {index} of {total} failed: {detail}\n{sql}")]
    #[diagnostic(code(neon_migrate::postgres::statement))]
    Statement {
        index: usize,
        total: usize,
        sql: String,
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A failure whose own words say enough (a session setting we always send).
    #[error("{detail}")]
    #[diagnostic(code(neon_migrate::postgres))]
    Bare {
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The connection string does not parse.
    #[error("invalid connection string: {detail}")]
    #[diagnostic(code(neon_migrate::postgres::url))]
    InvalidUrl {
        detail: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl PgError {
    /// `context: <what Postgres said>`.
    pub fn new(context: impl Into<String>, source: tokio_postgres::Error) -> Self {
        PgError::Failed {
            context: context.into(),
            detail: describe(&source),
            source,
        }
    }

    /// Only what Postgres said.
    pub fn bare(source: tokio_postgres::Error) -> Self {
        PgError::Bare {
            detail: describe(&source),
            source,
        }
    }

    /// Statement `index` (from 1) of `total` failed.
    pub fn statement(index: usize, total: usize, sql: &str, source: tokio_postgres::Error) -> Self {
        PgError::Statement {
            index,
            total,
            sql: sql.to_owned(),
            detail: describe(&source),
            source,
        }
    }

    fn source_error(&self) -> &tokio_postgres::Error {
        match self {
            PgError::Failed { source, .. }
            | PgError::Statement { source, .. }
            | PgError::Bare { source, .. }
            | PgError::InvalidUrl { source, .. } => source,
        }
    }

    /// The SQLSTATE, when the server answered with an error.
    pub fn code(&self) -> Option<&SqlState> {
        self.source_error().code()
    }

    /// The session could not be opened at all (no server answered, or it hung up).
    pub fn is_connect(&self) -> bool {
        matches!(self, PgError::Failed { context, .. } if context == CONNECT_CONTEXT)
    }

    /// A Postgres failure ends a run as a provider failure.
    pub fn exit_code(&self) -> i32 {
        crate::exit::PROVIDER
    }
}

/// Why a connection string does not parse, without tokio-postgres' own "invalid connection
/// string: " prefix (callers say that themselves).
pub fn url_error_detail(e: &tokio_postgres::Error) -> String {
    let said = describe(e);
    said.strip_prefix("invalid connection string: ")
        .map(str::to_owned)
        .unwrap_or(said)
}

/// Postgres' message, detail and hint, plus the SQLSTATE, in one line.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(d) = db.detail() {
            s.push_str(&format!("; detail: {d}"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        if let Some(tokio_postgres::error::ErrorPosition::Original(p)) = db.position() {
            s.push_str(&format!("; at character {p}"));
        }
        return crate::row_values::mask(&s);
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(&format!(": {text}"));
        }
        source = inner.source();
    }
    crate::secret::mask_url_passwords(&s)
}

fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Arc::new(config)
    });
    tokio_postgres_rustls::MakeRustlsConnect::new((**config).clone())
}

/// Makes this session's statistics (its own `pg_stat_database.sessions` count among them)
/// visible now rather than when it next idles for a second: a connection of ours that stays
/// open while a tool runs must not be counted later as one of the tool's sessions (see
/// [`crate::tools::witness`]). A no-op before PostgreSQL 15.
pub const FLUSH_OWN_STATS: &str = "DO $$ BEGIN \
    IF current_setting('server_version_num')::int >= 150000 THEN \
    PERFORM pg_stat_force_next_flush(); END IF; END $$";

/// Backend pids of our own sessions that read a test Neon database branch while a migration
/// runs there (the witness's tracking queries): the lock sampler leaves them out, so the locks
/// report shows only what the migration took.
static OWN_PIDS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Registers `pid` as one of ours (see [`own_pids`]) for the rest of the run, also once the
/// session is closed: a closed session lingers for a moment in `pg_locks` and
/// `pg_stat_activity` (its last statement; a cancelled write's locks until its backend
/// exits), and counted then it would be the migration's. The server hands pids out in
/// sequence, so none of the tool's sessions gets one of them back within a run.
pub fn note_own_pid(pid: i32) {
    if let Ok(mut p) = OWN_PIDS.lock() {
        if !p.contains(&pid) {
            p.push(pid);
        }
    }
}

/// The pids registered by [`note_own_pid`].
pub fn own_pids() -> Vec<i32> {
    OWN_PIDS.lock().map(|p| p.clone()).unwrap_or_default()
}

/// Connects to `url`. The connection task runs in the background and ends with the client.
/// What a failed connection attempt says first.
const CONNECT_CONTEXT: &str = "cannot connect";

pub async fn connect(url: &Secret<String>) -> Result<Client, PgError> {
    connect_with(url, None, false).await
}

/// `search_path` of [`connect_observer`]: the built-in functions and operators first.
pub const OBSERVER_SEARCH_PATH: &str = "pg_catalog,public";

/// Connects to a database a migration has just changed, to read it (what the checks, the
/// tracking query and the lock sampler see). A migration can set the database's own
/// `search_path` (`ALTER DATABASE … SET search_path = z, …`) and put a `count` aggregate or an
/// `=` operator in `z` that lies to every unqualified query; a setting sent when connecting
/// wins over the database's, so these sessions resolve names in `pg_catalog` first, then
/// `public`, whatever the migration did.
pub async fn connect_observer(url: &Secret<String>) -> Result<Client, PgError> {
    connect_with(url, Some(OBSERVER_SEARCH_PATH), false).await
}

/// [`connect_observer`] with `row_security = off`, for the checks that read what the migration
/// left (row counts, declared assertions, fingerprints). A migration can `FORCE ROW LEVEL
/// SECURITY` on a table with a policy that hides rows from the table's owner — the role the
/// checks read as — so a count would quietly see fewer rows and an assertion none of the bad
/// ones. With row security off, Postgres refuses such a query instead of filtering it (SQLSTATE
/// 42501, see [`hidden_by_row_security`]): the check fails or says NOT CHECKED, never passes
/// on a filtered view.
pub async fn connect_checker(url: &Secret<String>) -> Result<Client, PgError> {
    connect_with(url, Some(OBSERVER_SEARCH_PATH), true).await
}

/// Whether a query failed because row-level security would have filtered it under
/// `row_security = off` (see [`connect_checker`]).
pub fn hidden_by_row_security(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| {
        d.code() == &tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE
            && d.message().contains("row-level security")
    })
}

async fn connect_with(
    url: &Secret<String>,
    search_path: Option<&str>,
    no_row_security: bool,
) -> Result<Client, PgError> {
    let mut config: tokio_postgres::Config =
        url.expose()
            .parse()
            .map_err(|source: tokio_postgres::Error| PgError::InvalidUrl {
                detail: url_error_detail(&source),
                source,
            })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(15));
    }
    if config.get_application_name().is_none() {
        config.application_name("neon-migrate");
    }
    if let Some(path) = search_path {
        let options = config.get_options().unwrap_or_default().to_owned();
        config.options(format!("{options} -c search_path={path}").trim());
    }
    if no_row_security {
        let options = config.get_options().unwrap_or_default().to_owned();
        config.options(format!("{options} -c row_security=off").trim());
    }
    let (client, connection) = config
        .connect(tls())
        .await
        .map_err(|e| PgError::new(CONNECT_CONTEXT, e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Quotes an identifier for SQL.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQL.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The same server URL with another database name.
pub fn with_database(url: &str, db: &str) -> String {
    let (head, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    format!("{base}/{}{query}", percent_encode(db))
}

/// The database name in a URL (percent-decoded), if any.
pub fn database_of(url: &str) -> Option<String> {
    let head = url.split('?').next()?;
    let rest = &head[head.find("://")? + 3..];
    let db = &rest[rest.find('/')? + 1..];
    (!db.is_empty()).then(|| percent_decode(db))
}

/// Why a server URL was refused. The message never quotes the value (it may hold a password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlFormError {
    #[error("the URL is empty")]
    Empty,
    #[error("a key=value connection string (`host=… dbname=…`) is not supported; neon-migrate needs a `postgresql://` URL")]
    KeyValue,
    #[error("not a `postgres://` or `postgresql://` URL")]
    NotAUrl,
}

/// Checks that `url` is a `postgres://` or `postgresql://` URL. A key=value connection string
/// (`host=… dbname=…`) is refused with a clear message: the local provider derives the URL of
/// every test Neon database branch from the server URL by replacing its database.
pub fn check_url_form(url: &str) -> Result<(), UrlFormError> {
    let t = url.trim();
    if t.starts_with("postgres://") || t.starts_with("postgresql://") {
        return Ok(());
    }
    if t.is_empty() {
        return Err(UrlFormError::Empty);
    }
    let conninfo = t
        .split_whitespace()
        .next()
        .and_then(|w| w.split_once('='))
        .is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if conninfo {
        Err(UrlFormError::KeyValue)
    } else {
        Err(UrlFormError::NotAUrl)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (URL paths, query values).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; anything malformed is kept as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_database() {
        assert_eq!(
            with_database("postgres://u:p@h:5/main?sslmode=require", "x/y"),
            "postgres://u:p@h:5/x%2Fy?sslmode=require"
        );
        assert_eq!(with_database("postgres://h", "d"), "postgres://h/d");
        assert_eq!(
            database_of("postgres://h:1/x%2Fy?a=b").as_deref(),
            Some("x/y")
        );
        assert_eq!(database_of("postgres://h:1"), None);
    }

    #[test]
    fn quotes() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}

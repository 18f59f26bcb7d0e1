//! Where Neon database branches come from. One trait, one file (or folder) per provider.
//!
//! The engine only speaks this trait: create a test Neon database branch of the main one with
//! a TTL, hand out its connection string, delete it, list ours. The `local` provider emulates
//! a Neon database branch with a template copy of a database on a plain Postgres server.

pub mod local;
pub mod neon;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// A Neon database branch we can connect to.
#[derive(Debug, Clone)]
pub struct DbBranch {
    /// The Neon database branch name (e.g. `migrate/feature/add-orders`).
    pub name: String,
    /// Provider id (Neon: `br-…`; local: the database name).
    pub id: String,
    /// Name of the parent Neon database branch.
    pub parent: String,
    /// Connection URI (direct, non-pooled).
    pub url: Secret<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What we ask for when creating a test Neon database branch.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub name: String,
    pub ttl: Duration,
    pub git_branch: String,
    pub git_sha: String,
    pub pipeline: String,
    /// The id of the run that asks ([`new_run_id`]), recorded with the Neon database branch
    /// (local: its metadata; neon: an annotation): how every later stage tells its own copy
    /// from one another run put under the same name.
    pub run_id: String,
}

/// A new random run id (a version 4 UUID).
pub fn new_run_id() -> String {
    neon::new_run_id()
}

/// Whose a test Neon database branch is now, as far as the provider can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Still the one this run created.
    ThisRun,
    /// Gone: nothing exists under its id any more.
    Gone,
    /// Something else holds its id now: who, in words (another run's git branch, pipeline
    /// and creation time, or "a database neon-migrate did not create").
    Other(String),
}

/// A test Neon database branch created by neon-migrate, as listed by the provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DbBranchInfo {
    pub name: String,
    pub id: String,
    pub parent: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub git_branch: String,
    pub git_sha: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteOutcome {
    Deleted,
    AlreadyGone,
}

/// A provider failure: what happened, and how to fix it when we know. Every variant renders
/// one line for the user (`Display`) and may carry a help line ([`ProviderError::help_text`]).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProviderError {
    /// Refused or impossible, said in words for the user (a name clash, a missing setting, a
    /// Neon answer we do not trust, …).
    #[error("{message}")]
    #[diagnostic(code(neon_migrate::provider))]
    Refused {
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A Postgres connection or statement failed.
    #[error("{source}")]
    #[diagnostic(code(neon_migrate::provider::postgres))]
    Postgres {
        #[source]
        source: crate::pg::PgError,
        #[help]
        help: Option<String>,
    },
    /// A logical copy (`pg_dump | psql`) could not start.
    #[error("{source}")]
    #[diagnostic(code(neon_migrate::provider::copy))]
    Copy {
        #[source]
        source: local::dump::DumpError,
        #[help]
        help: Option<String>,
    },
    /// A file or folder of the embedded cluster could not be used.
    #[error("cannot {what} {}: {source}", path.display())]
    #[diagnostic(code(neon_migrate::provider::io))]
    Io {
        what: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
        #[help]
        help: Option<String>,
    },
    /// What we were doing when `source` happened (`context: source`).
    #[error("{context}: {source}")]
    #[diagnostic(code(neon_migrate::provider))]
    Context {
        context: String,
        #[source]
        source: Box<ProviderError>,
        #[help]
        help: Option<String>,
    },
}

impl ProviderError {
    /// A refusal in words for the user.
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError::Refused {
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a help line (how to fix it).
    pub fn help(mut self, text: impl Into<String>) -> Self {
        *self.help_slot() = Some(text.into());
        self
    }

    /// `context: <this error>`, keeping its help line.
    pub fn context(self, context: impl Into<String>) -> Self {
        let help = self.help_text();
        ProviderError::Context {
            context: context.into(),
            source: Box::new(self),
            help,
        }
    }

    /// How to fix it, when we know.
    pub fn help_text(&self) -> Option<String> {
        match self {
            ProviderError::Refused { help, .. }
            | ProviderError::Postgres { help, .. }
            | ProviderError::Copy { help, .. }
            | ProviderError::Io { help, .. }
            | ProviderError::Context { help, .. } => help.clone(),
        }
    }

    fn help_slot(&mut self) -> &mut Option<String> {
        match self {
            ProviderError::Refused { help, .. }
            | ProviderError::Postgres { help, .. }
            | ProviderError::Copy { help, .. }
            | ProviderError::Io { help, .. }
            | ProviderError::Context { help, .. } => help,
        }
    }

    /// A provider failure ends a run with [`crate::exit::PROVIDER`].
    pub fn exit_code(&self) -> i32 {
        crate::exit::PROVIDER
    }
}

impl From<crate::pg::PgError> for ProviderError {
    fn from(source: crate::pg::PgError) -> Self {
        let help = connection_help(&source);
        ProviderError::Postgres { source, help }
    }
}

/// How to fix a failure to reach or log in to the server, when that is what happened.
fn connection_help(e: &crate::pg::PgError) -> Option<String> {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => Some(
            "check the user and password the connection uses (`provider.url`, PGPASSWORD, or the Neon API key's project)".into(),
        ),
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => Some(
            "the database does not exist on that server: check the database name in `provider.url` / `main-database`".into(),
        ),
        None if e.is_connect() => Some(
            "is the server running and reachable? check the host and port in `provider.url` (for the embedded Postgres, `neon-migrate demo` shows a working setup)".into(),
        ),
        _ => None,
    }
}

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Short description for reports, e.g. `local (embedded PostgreSQL 15 at 127.0.0.1:5433)`.
    fn describe(&self) -> String;
    /// The main Neon database branch (the parent of test ones, the target of `apply`).
    async fn main_db_branch(&self) -> Result<DbBranch, ProviderError>;
    /// Creates a test Neon database branch of the main one, ready to connect to.
    async fn create(&self, req: &CreateRequest) -> Result<DbBranch, ProviderError>;
    /// Deletes a test Neon database branch that neon-migrate created.
    async fn delete(&self, id: &str) -> Result<DeleteOutcome, ProviderError>;
    /// Every test Neon database branch neon-migrate created and that still exists.
    async fn list(&self) -> Result<Vec<DbBranchInfo>, ProviderError>;
    /// Whether test Neon database branch `b` is still the one run `run_id` created. An error
    /// means the provider could not be asked (server or API unreachable).
    async fn owner(&self, b: &DbBranch, run_id: &str) -> Result<Owner, ProviderError>;

    /// Where the apply lock is taken: by default the main Neon database branch itself. The
    /// local provider takes it elsewhere, because a session on the main database would block
    /// the template copy of the restore point.
    fn apply_lock_url(&self, main: &DbBranch) -> Secret<String> {
        main.url.clone()
    }

    /// Restores the main Neon database branch from `from` (a restore point), keeping its
    /// current state as a Neon database branch named `preserve_as`.
    async fn restore_main(
        &self,
        from: &DbBranchInfo,
        preserve_as: &str,
    ) -> Result<(), ProviderError> {
        let _ = (from, preserve_as);
        Err(ProviderError::new(
            "this provider cannot restore the main Neon database branch",
        ))
    }
}

/// Name prefix of restore points.
pub const RESTORE_PREFIX: &str = "restore/";

/// Deletes every expired test Neon database branch; returns the deleted ones.
pub async fn reap_expired(
    provider: &dyn Provider,
    now: DateTime<Utc>,
) -> Result<Vec<DbBranchInfo>, ProviderError> {
    let mut reaped = Vec::new();
    for info in provider.list().await? {
        if info.expires_at <= now {
            provider.delete(&info.id).await?;
            reaped.push(info);
        }
    }
    Ok(reaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_db_branch_and_of_errors_shows_no_connection_secret() {
        let b = DbBranch {
            name: "migrate/x".into(),
            id: "br-x-1".into(),
            parent: "main".into(),
            url: Secret::new("postgres://u:provider-unit-pw@h/db".into()),
            expires_at: None,
        };
        let debug = format!("{b:?}");
        assert!(debug.contains("migrate/x"), "{debug}");
        assert!(!debug.contains("provider-unit-pw"), "{debug}");
    }

    #[test]
    fn errors_keep_their_text_help_and_exit_code_through_context() {
        let e = ProviderError::new("it failed").help("do this");
        assert_eq!(e.to_string(), "it failed");
        let e = e.context("cannot list");
        assert_eq!(e.to_string(), "cannot list: it failed");
        assert_eq!(e.help_text().as_deref(), Some("do this"));
        assert_eq!(e.exit_code(), crate::exit::PROVIDER);
        assert!(std::error::Error::source(&e).is_some());
    }
}

//! Logical copies through `pg_dump | psql`: an MVCC snapshot, so the source may be in use
//! meanwhile (a template copy needs it idle). Used by the local provider's busy-parent copy
//! and golden template, and by the emulator's copy of a parent that has sessions.

use std::path::Path;

use crate::providers::ProviderError;
use crate::runner::{self, Proc, RunError};
use crate::secret::{Redactor, Secret};

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// `pg_dump` or `psql` could not be started.
    #[error("cannot run pg_dump: {0}")]
    Start(#[source] std::io::Error),
    /// Either side failed or timed out: its stderr (redacted), or how it ended.
    #[error("{0}")]
    Failed(String),
}

impl From<DumpError> for ProviderError {
    fn from(source: DumpError) -> Self {
        ProviderError::Copy { source, help: None }
    }
}

/// `pg_dump <dump_args> -d <from> | psql -q -v ON_ERROR_STOP=1 -d <to>` with the binaries
/// of `bin`; `to` must exist and be empty. Both exit statuses count: a dump that fails
/// halfway fails the copy even when psql applied what it got.
pub async fn dump_restore(
    bin: &Path,
    from: &Secret<String>,
    to: &Secret<String>,
    dump_args: &[&str],
) -> Result<(), DumpError> {
    let redactor = Redactor::new();
    redactor.add_url(from.expose());
    redactor.add_url(to.expose());
    let dump = Proc::new(bin.join("pg_dump"))
        .args(dump_args)
        .arg("-d")
        .arg(from.expose());
    let restore = Proc::new(bin.join("psql"))
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(to.expose());
    let out = runner::pipe(&dump, &restore, &redactor)
        .await
        .map_err(|e| match e {
            RunError::Spawn { source, .. } | RunError::Pipe { source, .. } => {
                DumpError::Start(source)
            }
        })?;
    if out.success() {
        Ok(())
    } else {
        Err(DumpError::Failed(out.failure_text()))
    }
}

/// `pg_dump --schema-only --no-owner --no-privileges` of `url`: the SQL schema, with the
/// `\restrict <random key>` lines of pg_dump ≥ 15.14 dropped (or two identical schemas
/// would always differ).
pub async fn schema_sql(bin: &Path, url: &Secret<String>) -> Result<String, DumpError> {
    let redactor = Redactor::new();
    redactor.add_url(url.expose());
    let out = Proc::new(bin.join("pg_dump"))
        .args(["--schema-only", "--no-owner", "--no-privileges", "-d"])
        .arg(url.expose())
        .run(&redactor)
        .await
        .map_err(|e| match e {
            RunError::Spawn { source, .. } | RunError::Pipe { source, .. } => {
                DumpError::Start(source)
            }
        })?;
    if !out.success() {
        return Err(DumpError::Failed(format!(
            "pg_dump failed: {}",
            out.failure_text()
        )));
    }
    Ok(out
        .stdout_text()
        .lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .map(|l| format!("{l}\n"))
        .collect())
}

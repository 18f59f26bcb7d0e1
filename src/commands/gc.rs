//! `neon-migrate gc [--dry-run] [--all]`: delete expired test Neon database branches left by
//! killed runs.

use crate::app::{self, SetupError};
use crate::exit::{self, Failure};
use crate::secret::Redactor;

use super::Context;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum GcError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    /// The provider failed (redacted), with how to fix it when known.
    #[error("{message}")]
    Provider {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl GcError {
    fn provider(redactor: &Redactor, e: &crate::providers::ProviderError) -> Self {
        GcError::Provider {
            message: redactor.redact(&e.to_string()),
            help: e.help_text(),
        }
    }
}

impl Failure for GcError {
    fn exit_code(&self) -> i32 {
        match self {
            GcError::Setup(e) => e.exit_code(),
            GcError::Provider { .. } => exit::PROVIDER,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            GcError::Setup(e) => e.rendered(),
            GcError::Provider { .. } => None,
        }
    }
}

pub(crate) async fn run(cx: &Context, dry_run: bool, all: bool) -> Result<i32, GcError> {
    let config = cx.load_config()?;
    let redactor = Redactor::new();
    let provider_error = |e: crate::providers::ProviderError| GcError::provider(&redactor, &e);
    let provider = app::open_provider(&config, &redactor)
        .await
        .map_err(provider_error)?;
    let list = provider.list().await.map_err(provider_error)?;
    let now = chrono::Utc::now();
    let mut code = exit::OK;
    let (mut n, mut failed) = (0, 0);
    for info in &list {
        let expired = info.expires_at <= now;
        if !expired && !all {
            continue;
        }
        n += 1;
        let why = if expired { "expired" } else { "--all" };
        let when = crate::time::rfc3339(info.expires_at);
        let origin = git_branch_of(&info.git_branch);
        if dry_run {
            println!(
                "would delete {} ({origin}, expires {when}, {why})",
                info.name
            );
            continue;
        }
        match provider.delete(&info.id).await {
            Ok(_) => println!("deleted {} ({origin}, expires {when}, {why})", info.name),
            Err(e) => {
                // One failure does not stop the sweep: the others are still deleted.
                super::report(&GcError::Provider {
                    message: format!(
                        "cannot delete {}: {}",
                        info.name,
                        redactor.redact(&e.to_string())
                    ),
                    help: e.help_text(),
                });
                code = exit::PROVIDER;
                failed += 1;
            }
        }
    }
    let kept = list.len() - n;
    // Never counted as deleted when it was not: each failure is reported above.
    let not_deleted = if failed > 0 {
        format!("; {failed} could NOT be deleted (see above)")
    } else {
        String::new()
    };
    println!(
        "{} test Neon database branch(es) {}{not_deleted}; {kept} not expired kept",
        n - failed,
        if dry_run { "to delete" } else { "deleted" }
    );
    Ok(code)
}

/// "git branch NAME", or what is known when the annotation holds none. The name comes from
/// the provider's annotation: control characters are shown escaped, never sent to a terminal.
fn git_branch_of(name: &str) -> String {
    if name.trim().is_empty() {
        return "git branch not recorded".to_owned();
    }
    let shown: String = name.chars().flat_map(char::escape_debug).collect();
    format!("git branch {shown}")
}

#[cfg(test)]
mod tests {
    use super::git_branch_of;

    #[test]
    fn a_missing_or_hostile_git_branch_name_reads_clearly() {
        assert_eq!(git_branch_of(""), "git branch not recorded");
        assert_eq!(git_branch_of("feature/x"), "git branch feature/x");
        assert_eq!(git_branch_of("a\u{1b}[2Jb\n"), "git branch a\\u{1b}[2Jb\\n");
    }
}

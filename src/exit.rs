//! Named exit codes. They are part of the public interface (CI scripts branch on them), so
//! they are documented in the README and never renumbered.

/// Everything passed.
pub const OK: i32 = 0;
/// An unexpected internal error (a bug, or an I/O failure outside any stage).
pub const INTERNAL: i32 = 1;
/// The command line was malformed (clap's own code).
pub const USAGE: i32 = 2;
/// `neon-migrate.toml` (or a preset it overrides) has problems; nothing was run.
pub const CONFIG: i32 = 3;
/// A declared check failed on the test Neon database branch.
pub const CHECK_FAILED: i32 = 4;
/// The migration tool failed (on the test or the main Neon database branch).
pub const MIGRATION_FAILED: i32 = 5;
/// The provider (embedded Postgres, Postgres server or Neon API) failed.
pub const PROVIDER: i32 = 6;
/// Applying to the main Neon database branch was refused by policy.
pub const APPLY_REFUSED: i32 = 7;
/// A `shell` stage failed.
pub const STAGE_FAILED: i32 = 8;
/// git could not tell the repository, git branch or commit.
pub const GIT: i32 = 9;
/// The run was interrupted (Ctrl-C / SIGTERM); cleanup ran.
pub const INTERRUPTED: i32 = 130;

/// Every code with its name and meaning, for `--help` and the README table test.
pub const TABLE: &[(i32, &str, &str)] = &[
    (OK, "OK", "everything passed"),
    (INTERNAL, "INTERNAL", "unexpected internal error"),
    (USAGE, "USAGE", "malformed command line"),
    (CONFIG, "CONFIG", "configuration has problems; nothing ran"),
    (
        CHECK_FAILED,
        "CHECK_FAILED",
        "a check failed on the test Neon database branch",
    ),
    (
        MIGRATION_FAILED,
        "MIGRATION_FAILED",
        "the migration tool failed",
    ),
    (PROVIDER, "PROVIDER", "Postgres server or Neon API failure"),
    (
        APPLY_REFUSED,
        "APPLY_REFUSED",
        "apply to the main Neon database branch refused by policy",
    ),
    (STAGE_FAILED, "STAGE_FAILED", "a shell stage failed"),
    (
        GIT,
        "GIT",
        "git repository, git branch or commit could not be read",
    ),
    (
        INTERRUPTED,
        "INTERRUPTED",
        "interrupted by a signal; cleanup ran",
    ),
];

/// An error a command ends with: what stderr shows (`error: …`, then `  help: …` from
/// [`miette::Diagnostic::help`]) and the exit code. The command line renders every one in one
/// place; library functions return them, never print them.
pub trait Failure: miette::Diagnostic {
    /// The exit code this error ends the command with.
    fn exit_code(&self) -> i32;
    /// The whole text for stderr when it is more than `error:` and `help:` lines (a config
    /// error's snippets); `None` for the usual two lines.
    fn rendered(&self) -> Option<String> {
        None
    }
}

/// What stderr shows for `e`: [`Failure::rendered`], else `error: <e>` and its `help:` line.
pub fn render(e: &dyn Failure) -> String {
    let text = match e.rendered() {
        Some(text) => text,
        None => {
            let mut text = format!("error: {e}\n");
            if let Some(h) = e.help() {
                text.push_str(&format!("  help: {h}\n"));
            }
            text
        }
    };
    // An error may quote what the user typed — an argument, a path, a config line — and that
    // may hold a connection URL with its password: no error shows one.
    crate::secret::mask_url_passwords(&text)
}

#[cfg(test)]
mod tests {
    use super::{render, Failure};

    #[derive(Debug, thiserror::Error, miette::Diagnostic)]
    enum Example {
        #[error("the thing failed")]
        #[diagnostic(help("do it again"))]
        WithHelp,
        #[error("plain")]
        Plain,
        #[error("snippets")]
        Rendered,
    }

    impl Failure for Example {
        fn exit_code(&self) -> i32 {
            super::CONFIG
        }
        fn rendered(&self) -> Option<String> {
            matches!(self, Example::Rendered).then(|| "  × snippets\n".to_owned())
        }
    }

    #[test]
    fn one_renderer_writes_error_then_help() {
        assert_eq!(
            render(&Example::WithHelp),
            "error: the thing failed\n  help: do it again\n"
        );
        assert_eq!(render(&Example::Plain), "error: plain\n");
        assert_eq!(render(&Example::Rendered), "  × snippets\n");
    }

    #[test]
    fn readme_documents_every_exit_code() {
        let readme = include_str!("../README.md");
        for (code, name, what) in super::TABLE {
            let row = format!("| {code} | {name} | {what} |");
            assert!(readme.contains(&row), "README lacks the row `{row}`");
        }
    }
}

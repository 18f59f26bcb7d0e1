//! Stage kinds, one file each. A stage reads and updates the run context and returns what
//! it did; it never prints.

mod applied;
mod apply;
mod checks;
mod create;
mod delete;
mod main_authz;
mod migrate;
mod shell;

use crate::config::{Stage, StageKind};
use crate::engine::{RunContext, StageFailure, StageResult};
use crate::exit;
use crate::providers::Owner;
use crate::template::Vars;
use crate::tools::{Target, ToolContext};

pub use apply::{interrupted as apply_interrupted, ApplyInFlight};

/// Runs one stage.
pub async fn run(ctx: &mut RunContext<'_>, stage: &Stage) -> StageResult {
    match &stage.kind {
        StageKind::CreateDbBranch => create::run(ctx).await,
        StageKind::Migrate => migrate::run(ctx).await,
        StageKind::Checks => checks::run(ctx).await,
        StageKind::DeleteDbBranch => delete::run(ctx).await,
        StageKind::Apply => apply::run(ctx).await,
        StageKind::Shell(s) => shell::run(ctx, s).await,
    }
}

/// What to do when the test Neon database branch is not this run's any more.
const NOT_OURS_HELP: &str = "runs of one test Neon database branch name take turns (a lock on the main Neon database branch, held for the whole run), so something outside that lock changed it: `neon-migrate gc --all`, an older neon-migrate, or a change by hand. Nothing of this run was applied to the main Neon database branch; run again";

/// Checks that the test Neon database branch is still the one this run created (its run id,
/// recorded by the provider); `when` says at which point (`before the migration`). A copy
/// that is gone or another run's, or a provider that cannot tell, is a provider failure:
/// whatever the stage saw there proves nothing about this run's migration.
pub(crate) async fn verify_ours(ctx: &RunContext<'_>, when: &str) -> Result<(), StageFailure> {
    check_ours(ctx, when).await.map_err(|(_, f)| f)
}

/// [`verify_ours`], also telling whether the provider could not be asked at all (`true`) or
/// answered that the copy is gone or another's (`false`).
// Same error type as every stage result: boxing it here alone would buy nothing.
#[allow(clippy::result_large_err)]
pub(crate) async fn check_ours(
    ctx: &RunContext<'_>,
    when: &str,
) -> Result<(), (bool, StageFailure)> {
    let Some(b) = &ctx.db_branch else {
        return Ok(());
    };
    let fail = |message: String| {
        Err((
            false,
            StageFailure::new(exit::PROVIDER, message).help(Some(NOT_OURS_HELP.to_owned())),
        ))
    };
    match ctx.provider.owner(b, &ctx.run_id).await {
        Ok(Owner::ThisRun) => Ok(()),
        Ok(Owner::Gone) => fail(format!(
            "the test Neon database branch {} was deleted while this run used it (found gone {when})",
            b.name
        )),
        Ok(Owner::Other(who)) => fail(format!(
            "the test Neon database branch {} is no longer this run's {when}: it was replaced by {who}",
            b.name
        )),
        Err(e) => Err((
            true,
            StageFailure::new(
                exit::PROVIDER,
                format!(
                    "cannot tell whether the test Neon database branch {} is still this run's {when}: {}",
                    b.name, e
                ),
            )
            .help(e.help_text().or_else(|| {
                Some("the Postgres server (or the Neon API) stopped answering: check it and run again".into())
            })),
        )),
    }
}

/// The test Neon database branch as a tool target, or the failure that it does not exist.
// Same error type as every stage result: boxing it here alone would buy nothing.
#[allow(clippy::result_large_err)]
pub(crate) fn test_target(ctx: &RunContext<'_>) -> Result<Target, StageFailure> {
    match &ctx.db_branch {
        Some(b) if !ctx.deleted => Ok(Target {
            name: format!("test Neon database branch {}", b.name),
            url: b.url.clone(),
        }),
        _ => Err(StageFailure::new(
            exit::INTERNAL,
            "no test Neon database branch exists at this point",
        )
        .help(Some(
            "put `create-neon-database-branch` before this stage".into(),
        ))),
    }
}

/// The tool's context on the test Neon database branch `target`, outside `apply` (no
/// timeouts): for the checks' hooks, which run the tool's other commands.
pub(crate) fn test_tool<'a>(
    ctx: &'a RunContext<'_>,
    target: &Target,
    vars: &'a Vars,
) -> ToolContext<'a> {
    ToolContext {
        timeouts: None,
        connection_check: None,
        config: ctx.config,
        redactor: &ctx.redactor,
        vars,
        target: target.clone(),
        on_main: false,
    }
}

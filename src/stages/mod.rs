//! Stage kinds, one file each. A stage reads and updates the run context and returns what
//! it did; it never prints.

mod apply;
mod checks;
mod create;
mod delete;
mod migrate;
mod shell;

use crate::config::{Stage, StageKind};
use crate::engine::{RunContext, StageFailure, StageResult};
use crate::exit;
use crate::tools::Target;

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

//! `delete-neon-database-branch`: always runs, also after a failure or an interrupt.

use crate::engine::{RunContext, StageFailure, StageOutput, StageResult};
use crate::exit;
use crate::providers::{DeleteOutcome, Owner};

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let Some(branch) = &ctx.db_branch else {
        return Ok(StageOutput {
            summary: "nothing to delete: no test Neon database branch was created".into(),
            ..Default::default()
        });
    };
    if ctx.deleted {
        return Ok(StageOutput {
            summary: format!("{} is already deleted", branch.name),
            ..Default::default()
        });
    }
    // Only this run's copy: under the same name there may be another run's by now.
    let expires = branch
        .expires_at
        .map(crate::time::rfc3339)
        .unwrap_or_default();
    match ctx.provider.owner(branch, &ctx.run_id).await {
        Ok(Owner::ThisRun) => {}
        Ok(Owner::Gone) => {
            ctx.deleted = true;
            return Ok(StageOutput {
                summary: format!("{} was already gone", branch.name),
                ..Default::default()
            });
        }
        Ok(Owner::Other(who)) => {
            return Err(StageFailure::new(
                exit::PROVIDER,
                format!(
                    "not deleting the test Neon database branch {}: it is no longer this run's, it was replaced by {who}",
                    branch.name
                ),
            )
            .help(Some(
                "it is left to the run that made it; this run's own copy is gone. Runs of one test Neon database branch name take turns, so something outside that lock replaced it (`neon-migrate gc --all`, an older neon-migrate, a change by hand)".into(),
            )))
        }
        Err(e) => {
            return Err(StageFailure::new(
                exit::PROVIDER,
                format!(
                    "cannot delete the test Neon database branch {}: cannot tell whether it is still this run's: {}",
                    branch.name, e
                ),
            )
            .help(Some(format!(
                "it expires at {expires}; `neon-migrate gc` deletes it once expired, or delete it by hand"
            ))))
        }
    }
    match ctx.provider.delete(&branch.id).await {
        Ok(outcome) => {
            ctx.deleted = true;
            let summary = match outcome {
                DeleteOutcome::Deleted => format!("deleted {}", branch.name),
                DeleteOutcome::AlreadyGone => format!("{} was already gone", branch.name),
            };
            Ok(StageOutput {
                summary,
                ..Default::default()
            })
        }
        Err(e) => {
            Err(StageFailure::new(exit::PROVIDER, format!("cannot delete the test Neon database branch {}: {}", branch.name, e)).help(Some(
                format!("it expires at {expires}; `neon-migrate gc` deletes it once expired, or delete it by hand"),
            )))
        }
    }
}

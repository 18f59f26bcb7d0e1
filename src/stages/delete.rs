//! `delete-neon-database-branch`: always runs, also after a failure or an interrupt.

use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::providers::DeleteOutcome;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let Some(branch) = &ctx.db_branch else {
        return Ok(StageSuccess {
            summary: "nothing to delete: no test Neon database branch was created".into(),
            ..Default::default()
        });
    };
    if ctx.deleted {
        return Ok(StageSuccess {
            summary: format!("{} is already deleted", branch.name),
            ..Default::default()
        });
    }
    match ctx.provider.delete(&branch.id).await {
        Ok(outcome) => {
            ctx.deleted = true;
            let summary = match outcome {
                DeleteOutcome::Deleted => format!("deleted {}", branch.name),
                DeleteOutcome::AlreadyGone => format!("{} was already gone", branch.name),
            };
            Ok(StageSuccess {
                summary,
                ..Default::default()
            })
        }
        Err(e) => {
            let expires = branch
                .expires_at
                .map(crate::providers::local::rfc3339)
                .unwrap_or_default();
            Err(StageFailure::new(exit::PROVIDER, format!("cannot delete the test Neon database branch {}: {}", branch.name, e.message)).help(Some(
                format!("it expires at {expires}; `neon-migrate gc` deletes it once expired, or delete it by hand"),
            )))
        }
    }
}

//! `apply`: the same tool on the main Neon database branch. The engine only reaches this
//! stage when every stage before it passed in this run.

use crate::engine::{RunContext, StageFailure, StageResult};
use crate::exit;
use crate::tools::Target;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let main = ctx.provider.main_db_branch().await.map_err(|e| {
        StageFailure::new(
            exit::PROVIDER,
            format!("cannot reach the main Neon database branch: {}", e.message),
        )
        .help(e.help)
    })?;
    let target = Target {
        name: format!("main Neon database branch {}", main.name),
        url: main.url,
    };
    super::migrate::run_tool(ctx, target, true).await.0
}

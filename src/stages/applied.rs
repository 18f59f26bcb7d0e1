//! After `apply`: the main Neon database branch must now have the schema the test Neon
//! database branch had after the same migrations. The run proved the migrations on the copy;
//! a migration that behaves differently on main (it reads the database's name, the clock, or
//! data that changed since the copy) did something nobody proved, and the run must not say
//! PASSED. Compared under the apply lock, with the same fingerprint as the drift check.

use crate::engine::{RunContext, StageFailure, StageOutput, StageResult};
use crate::exit;
use crate::pg;
use crate::providers::DbBranch;
use crate::schema;

/// Holds main to the test copy's migrated schema; `out` is the apply's own output, kept as
/// it is with one more line when they agree.
pub(super) async fn verify(
    ctx: &RunContext<'_>,
    main: &DbBranch,
    mut out: StageOutput,
) -> StageResult {
    let Some(expected) = ctx.observations.after.as_ref() else {
        out.details.push(
            "NOT CHECKED: main's schema after the apply was not compared with the test copy's (no check read the migrated schema; the `schema` check does)".into(),
        );
        return Ok(out);
    };
    let unread = |e: String| {
        let mut f = StageFailure::new(
            exit::PROVIDER,
            format!("the migrations were applied, but the main Neon database branch could not be read to verify them: {e}"),
        )
        .help(Some(restore_help(ctx)));
        f.shown.details = out.details.clone();
        f
    };
    let client = pg::connect(&main.url)
        .await
        .map_err(|e| unread(e.to_string()))?;
    let now = schema::introspect(&client, &schema::default_excluded())
        .await
        .map_err(|e| unread(e.to_string()))?;
    drop(client);
    let (now, expected, note) = super::apply::comparable(ctx, now, expected);
    let print = schema::fingerprint(&now);
    if print == schema::fingerprint(&expected) {
        out.details.push(format!(
            "verified: main's schema now equals the test copy's after the same migrations (fingerprint {}){note}",
            &print[..12]
        ));
        return Ok(out);
    }
    let plan = schema::plan(&expected, &now, &schema::PlanOptions::default());
    let differences: Vec<String> = plan
        .statements
        .iter()
        .map(|s| s.sql.lines().next().unwrap_or("").to_owned())
        .chain(plan.unsupported.iter().cloned())
        .collect();
    let mut f = StageFailure::new(
        exit::MIGRATION_FAILED,
        format!(
            "the apply left the main Neon database branch with a schema the test Neon database branch did not have after the same migrations ({} difference(s)): what ran on main is not what was proven",
            differences.len().max(1)
        ),
    )
    .help(Some(format!(
        "{}; then find why the migration behaves differently on main (it may read the database's name, the clock, or data that changed since the copy)",
        restore_help(ctx)
    )));
    f.shown.details = out.details;
    f.shown.details.extend(differences.iter().take(10).map(|d| {
        format!(
            "main differs from the proven schema: {}",
            schema::comment_text(d)
        )
    }));
    Err(f)
}

/// How to get main back: the restore point, when this apply made one.
fn restore_help(ctx: &RunContext<'_>) -> String {
    match &ctx.restore_point {
        Some(rp) => format!("`neon-migrate rollback` restores main from the restore point {rp}"),
        None => "no restore point was made (`restore-point = false` under [apply]): restore main by your own means".into(),
    }
}

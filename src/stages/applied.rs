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

/// Holds main to the test copy's migrated schema, and main's changes to its database
/// privileges and owners since `main_before` (read just before the apply) to the copy's
/// ([`super::main_authz`]); `out` is the apply's own output, kept as it is with one more
/// line when they agree.
pub(super) async fn verify(
    ctx: &RunContext<'_>,
    main: &DbBranch,
    main_before: &schema::Model,
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
    // The copy's own change, from the schema the checks read before and after the migration.
    let authz = match ctx.observations.before.as_ref() {
        Some(copy_before) => super::main_authz::unproven(main_before, &now, copy_before, expected)
            .unwrap_or_else(|e| vec![format!("main's database privileges and owners could not be compared with the test copy's changes: {e}")]),
        None => vec!["main's database privileges and owners could not be compared with the test copy's changes: the copy's schema before the migration was not recorded".to_owned()],
    };
    let (now, expected, note) = super::apply::comparable(ctx, now, expected);
    let print = schema::fingerprint(&now);
    if print == schema::fingerprint(&expected) && authz.is_empty() {
        out.details.push(format!(
            "verified: main's schema now equals the test copy's after the same migrations (fingerprint {}){note}; main's database privileges and owners changed only as the copy's did",
            &print[..12]
        ));
        return Ok(out);
    }
    let mut differences: Vec<String> = Vec::new();
    if print != schema::fingerprint(&expected) {
        let plan = schema::plan(&expected, &now, &schema::PlanOptions::default());
        differences.extend(
            plan.statements
                .iter()
                .map(|s| s.sql.lines().next().unwrap_or("").to_owned())
                .chain(plan.unsupported.iter().cloned()),
        );
    }
    let authz_lines = authz.len();
    let mut f = StageFailure::new(
        exit::MIGRATION_FAILED,
        format!(
            "the apply left the main Neon database branch with a schema the test Neon database branch did not have after the same migrations ({} difference(s)): what ran on main is not what was proven",
            (differences.len() + authz_lines).max(1)
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
    f.shown.details.extend(
        authz
            .into_iter()
            .take(10)
            .map(|d| format!("main differs from the proven schema: {d}")),
    );
    Err(f)
}

/// How to get main back: the restore point, when this apply made one.
fn restore_help(ctx: &RunContext<'_>) -> String {
    match &ctx.restore_point {
        Some(rp) => format!("`neon-migrate rollback` restores main from the restore point {rp}"),
        None => "no restore point was made (`restore-point = false` under [apply]): restore main by your own means".into(),
    }
}

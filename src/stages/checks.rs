//! `checks`: every enabled check (see [`crate::checks::Check`]) evaluated on the test Neon
//! database branch after migrate, in registration order — shadowed built-ins, SQL
//! assertions, schema diff, lint, observed locks, data, ORM models, reversibility (last: it
//! runs the migrations down and up again). All run; the stage fails if any failed.
//!
//! A check that is enabled but could not run (nothing was recorded before the migration,
//! the tool has no print-SQL mode or down command, …) is shown as NOT RUN and counted in
//! the stage's summary: silence is never a pass. `required = true` under its table makes
//! NOT RUN a failure.

use tokio_postgres::Client;

use crate::checks::sql::Assertion;
use crate::checks::{Access, Check, CheckResult, CheckStatus, Evaluation};
use crate::config::ChecksConfig;
use crate::engine::{RunContext, StageFailure, StageOutput, StageResult};
use crate::exit;
use crate::pg;
use crate::schema::{self, Model};
use crate::tools::Target;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    super::verify_ours(ctx, "before the checks").await?;
    let client = pg::connect_checker(&target.url)
        .await
        .map_err(|e| StageFailure::new(exit::PROVIDER, e.to_string()))?;
    let mut checks = std::mem::take(&mut ctx.checks);
    let (results, after) = evaluate(ctx, &target, client, &mut checks).await;
    ctx.checks = checks;
    // What `apply` holds main to is the schema as introspection reads it.
    ctx.observations.after = after.map(|mut m| {
        schema::extprobe::unmark(&mut m);
        m
    });

    // A copy replaced or dropped while the checks ran voids them, passed or not: they may have
    // read another run's copy.
    if let Err(mut f) = super::verify_ours(ctx, "after the checks").await {
        f.shown.details.push(
            "the checks' results are void: they may have read a copy that is not this run's".into(),
        );
        return Err(f);
    }

    let nothing_applied = ctx.observations.applied.is_empty();
    conclude(&ctx.config.checks, &target, results, nothing_applied)
}

/// Every check's verdict, in order. The schema after the migration is read once, when the
/// first check that reads it comes (a failure to read it is the `schema` check's failure);
/// the reading connection is closed before a check that changes the database. Returns the
/// verdicts and that schema (what `apply` holds main to afterwards).
async fn evaluate(
    ctx: &RunContext<'_>,
    target: &Target,
    client: Client,
    checks: &mut [Box<dyn Check>],
) -> (Vec<CheckResult>, Option<Model>) {
    let vars = super::migrate::tool_vars(ctx, target);
    let tool = super::test_tool(ctx, target, &vars);
    let obs = &ctx.observations;
    let mut client = Some(client);
    let mut after: Option<Model> = None;
    let mut after_read = false;
    let mut results = Vec::new();
    for check in checks.iter_mut() {
        if check.needs().schema && !after_read {
            after_read = true;
            if let (Some(c), Some(_)) = (&client, &obs.before) {
                match schema::introspect(c, &schema::default_excluded()).await {
                    Ok(mut m) => {
                        if let Some(before) = &obs.before {
                            probe_extensions(ctx, target, before, &mut m).await;
                        }
                        after = Some(m)
                    }
                    Err(e) => results.push(CheckResult::failed(
                        "schema",
                        format!("cannot introspect the migrated test Neon database branch: {e}"),
                    )),
                }
            }
        }
        if check.access() == Access::ChangesDatabase {
            client = None;
        }
        let cx = Evaluation {
            tool: &tool,
            obs,
            after: after.as_ref(),
            client: client.as_ref(),
        };
        results.extend(check.evaluate(&cx).await);
    }
    (results, after)
}

/// Marks on `after` the members of the extensions the migration created (or updated) that
/// their scripts do not create ([`schema::extprobe`]), probed on the copy's server: the
/// local provider's scratch database, or one the copy's role creates on Neon.
async fn probe_extensions(
    ctx: &RunContext<'_>,
    target: &Target,
    before: &Model,
    after: &mut Model,
) {
    use crate::app::ext_probe::{probed, ProbeDb};
    let db = match &ctx.config.provider {
        crate::config::ProviderConfig::Local(_) => ProbeDb::Local,
        crate::config::ProviderConfig::Neon(_) => ProbeDb::Url(&target.url),
    };
    if let Some(found) = probed(before, after, db, ctx.config, &ctx.redactor).await {
        schema::extprobe::mark(None, after, &found);
    }
}

/// The stage's verdict: failed checks, and NOT RUN checks that are required, fail it.
// `StageResult` is every stage's result type; the async stage functions return it as well.
#[allow(clippy::result_large_err)]
fn conclude(
    cfg: &ChecksConfig,
    target: &Target,
    mut results: Vec<CheckResult>,
    nothing_applied: bool,
) -> StageResult {
    // The declared assertions are listed one by one under the stage's `checks`.
    let assertions: Vec<Assertion> = results
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.assertions))
        .collect();
    let not_run: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.status == CheckStatus::NotRun)
        .collect();
    // A required check that did not run fails, said once: "workload (required, NOT RUN)".
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| match r.status {
            CheckStatus::Failed => Some(r.name.clone()),
            CheckStatus::NotRun if cfg.required(&r.name) => {
                Some(format!("{} (required, NOT RUN)", r.name))
            }
            _ => None,
        })
        .collect();
    // Checks that ran, and required ones that could not: the verdict's denominator.
    let ran = results
        .iter()
        .filter(|r| {
            matches!(r.status, CheckStatus::Passed | CheckStatus::Failed)
                || (r.status == CheckStatus::NotRun && cfg.required(&r.name))
        })
        .count();
    let not_run_note = if not_run.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = not_run
            .iter()
            .filter(|r| !cfg.required(&r.name))
            .map(|r| r.name.as_str())
            .collect();
        match names.is_empty() {
            true => String::new(),
            false => format!("; {} NOT RUN: {}", names.len(), names.join(", ")),
        }
    };
    // With nothing pending, the models check is the only thing that could have seen a model
    // change without its migration: its absence is said in the summary itself.
    let models_unchecked = nothing_applied
        && not_run
            .iter()
            .any(|r| r.name == crate::checks::models::NAME);
    let not_run_note = if models_unchecked {
        format!("{not_run_note}; no migration was applied and the ORM models were NOT checked against the migrations")
    } else {
        not_run_note
    };
    if failed.is_empty() {
        let summary = if results.is_empty() {
            "no checks configured".to_owned()
        } else {
            format!("{ran} check(s) passed{not_run_note}")
        };
        return Ok(StageOutput {
            checks: assertions,
            results,
            ..StageOutput::new(summary)
        });
    }
    let mut message = format!(
        "{} of {ran} check(s) failed on {}: {}",
        failed.len(),
        target.name,
        failed.join(", ")
    );
    for r in not_run.iter().filter(|r| cfg.required(&r.name)) {
        message.push_str(&format!(
            "\n`{}` is required (`required = true` under [checks.{}]) but did not run: {}",
            r.name,
            r.name,
            r.summary.trim_start_matches("NOT RUN: ")
        ));
    }
    let summary = format!(
        "{} of {ran} check(s) failed: {}{not_run_note}",
        failed.len(),
        failed.join(", ")
    );
    let mut f = StageFailure::new(exit::CHECK_FAILED, message);
    f.shown = StageOutput {
        checks: assertions,
        results,
        ..StageOutput::new(summary)
    };
    Err(f)
}

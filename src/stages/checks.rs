//! `checks`: every configured check on the test Neon database branch after migrate —
//! SQL assertions, schema diff, lint, observed locks, data, reversibility (last: it runs the
//! migrations down and up again). All run; the stage fails if any failed.

use crate::checks::{self, CheckResult, CheckStatus, Finding, Severity};
use crate::config::ToolKind;
use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::pg;
use crate::schema;

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    super::verify_ours(ctx, "before the checks").await?;
    let client = pg::connect(&target.url)
        .await
        .map_err(|e| StageFailure::new(exit::PROVIDER, e.message))?;
    let cfg = &ctx.config.checks;
    let obs = &ctx.observations;
    let mut results: Vec<CheckResult> = Vec::new();

    // Declared SQL assertions.
    let mut reports = Vec::new();
    for check in &ctx.config.sql_checks {
        reports.push(checks::sql::evaluate(&client, check).await);
    }
    if !reports.is_empty() {
        let failed = reports.iter().filter(|r| !r.passed).count();
        let findings = reports
            .iter()
            .filter(|r| !r.passed)
            .map(|r| {
                Finding::new(
                    "sql",
                    Severity::Error,
                    format!("`{}`: expected {}, got {}", r.name, r.expected, r.got),
                    "a declared invariant of the data does not hold after the migration",
                )
                .at(r.query.trim().lines().next().unwrap_or("").to_owned())
            })
            .collect();
        let summary = if failed == 0 {
            format!("{} assertion(s) hold", reports.len())
        } else {
            format!("{failed} of {} assertion(s) failed", reports.len())
        };
        results.push(CheckResult::from_findings(
            "sql",
            summary,
            findings,
            Vec::new(),
        ));
    }

    // Schema: what the migration really changed.
    let needs_after = cfg.schema.enabled || cfg.reversible.enabled;
    let after = if needs_after && obs.before.is_some() {
        match schema::introspect(&client, &schema::default_excluded()).await {
            Ok(m) => Some(m),
            Err(e) => {
                results.push(CheckResult::failed(
                    "schema",
                    format!(
                        "cannot introspect the migrated test Neon database branch: {}",
                        e.message
                    ),
                ));
                None
            }
        }
    } else {
        None
    };
    if cfg.schema.enabled {
        match (&obs.before, &after) {
            (Some(before), Some(after)) => {
                let (plan, findings, details) =
                    checks::schema::evaluate(before, after, obs, &cfg.schema);
                let summary = match plan.statements.len() {
                    0 => "the migration changed nothing in the schema".to_owned(),
                    n => format!("{n} schema change(s)"),
                };
                results.push(CheckResult::from_findings(
                    "schema", summary, findings, details,
                ));
            }
            (None, _) => results.push(CheckResult::skipped(
                "schema",
                "the schema before the migration was not recorded (no migrate stage in this run)",
            )),
            _ => {}
        }
    }

    // Lint: the SQL that ran.
    if cfg.lint.enabled {
        match &ctx.config.tool.kind {
            ToolKind::Sql { migrations_dir } => {
                if obs.applied.is_empty() {
                    results.push(CheckResult::skipped(
                        "lint",
                        "no migration was applied in this run",
                    ));
                } else {
                    let major = (obs
                        .before
                        .as_ref()
                        .map(|m| m.server_version)
                        .unwrap_or(150_000))
                        / 10_000;
                    match checks::lint::lint_files(migrations_dir, obs, &cfg.lint, major) {
                        Ok(findings) => {
                            let n = findings.len();
                            results.push(CheckResult::from_findings(
                                "lint",
                                format!("{} file(s) linted, {n} finding(s)", obs.applied.len()),
                                findings,
                                Vec::new(),
                            ));
                        }
                        Err(e) => results.push(CheckResult::failed("lint", e)),
                    }
                }
            }
            ToolKind::Command { .. } => results.push(CheckResult::skipped(
                "lint",
                format!(
                    "`{}` has no print-SQL mode configured",
                    ctx.config.tool.name
                ),
            )),
        }
    }

    // Locks: what the migration held, measured.
    if cfg.locks.enabled {
        match &obs.locks {
            Some(report) => {
                let (findings, details) = checks::locks::evaluate(report, &cfg.locks);
                let summary = format!(
                    "{} table(s) locked, {} rewritten",
                    report.held_ms.len(),
                    report.rewrites.len()
                );
                results.push(CheckResult::from_findings(
                    "locks", summary, findings, details,
                ));
            }
            None => results.push(CheckResult::skipped(
                "locks",
                "no lock samples were recorded (no migrate stage in this run)",
            )),
        }
    }

    // Data: no rows lost.
    if cfg.data.enabled {
        match &obs.rows_before {
            Some(before) => match checks::data::count(&client, cfg.data.exact_below).await {
                Ok(after) => {
                    let (findings, details) = checks::data::evaluate(before, &after, &cfg.data);
                    results.push(CheckResult::from_findings(
                        "data",
                        format!("{} table(s) compared", before.len()),
                        findings,
                        details,
                    ));
                }
                Err(e) => results.push(CheckResult::failed(
                    "data",
                    format!("cannot count rows: {e}"),
                )),
            },
            None => results.push(CheckResult::skipped(
                "data",
                "row counts before the migration were not recorded",
            )),
        }
    }
    drop(client);

    // Reversible: last, since it runs the migrations down and up again.
    if cfg.reversible.enabled {
        match (&ctx.config.tool.kind, &obs.before, &after) {
            (ToolKind::Sql { migrations_dir }, Some(before), Some(after)) => {
                results.push(
                    checks::reversible::run(
                        migrations_dir,
                        &target.url,
                        before,
                        after,
                        obs,
                        &cfg.reversible,
                    )
                    .await,
                );
            }
            (ToolKind::Command { .. }, _, _) => results.push(CheckResult::skipped(
                "reversible",
                format!(
                    "no down command is configured for `{}`",
                    ctx.config.tool.name
                ),
            )),
            _ => results.push(CheckResult::skipped(
                "reversible",
                "the schema before the migration was not recorded",
            )),
        }
    }

    // A copy replaced or dropped while the checks ran voids them, passed or not: they may have
    // read another run's copy.
    if let Err(mut f) = super::verify_ours(ctx, "after the checks").await {
        f.details.push(
            "the checks' results are void: they may have read a copy that is not this run's".into(),
        );
        return Err(f);
    }

    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.status == CheckStatus::Failed)
        .map(|r| r.name.as_str())
        .collect();
    let ran = results
        .iter()
        .filter(|r| r.status != CheckStatus::Skipped)
        .count();
    if failed.is_empty() {
        let summary = if results.is_empty() {
            "no checks configured".to_owned()
        } else {
            format!("{ran} check(s) passed")
        };
        Ok(StageSuccess {
            summary,
            checks: reports,
            results,
            ..Default::default()
        })
    } else {
        let mut f = StageFailure::new(
            exit::CHECK_FAILED,
            format!(
                "{} of {ran} check(s) failed on {}: {}",
                failed.len(),
                target.name,
                failed.join(", ")
            ),
        );
        f.summary = format!(
            "{} of {ran} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
        f.checks = reports;
        f.results = results;
        Err(f)
    }
}

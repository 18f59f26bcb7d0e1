//! `checks`: every configured check on the test Neon database branch after migrate —
//! SQL assertions, schema diff, lint, observed locks, data, reversibility (last: it runs the
//! migrations down and up again). All run; the stage fails if any failed.
//!
//! A check that is enabled but could not run (nothing was recorded before the migration,
//! the tool has no print-SQL mode or down command, …) is shown as NOT RUN and counted in
//! the stage's summary: silence is never a pass. `required = true` under its table makes
//! NOT RUN a failure.

use crate::checks::{self, CheckResult, CheckStatus, Finding, Severity};
use crate::config::{ChecksConfig, ToolKind};
use crate::engine::{RunContext, StageFailure, StageResult, StageSuccess};
use crate::exit;
use crate::pg;
use crate::schema::{self, Model};
use crate::tools::command::{self as command_tool, Extra};
use crate::tools::{self, Target, ToolContext};

pub async fn run(ctx: &mut RunContext<'_>) -> StageResult {
    let target = super::test_target(ctx)?;
    super::verify_ours(ctx, "before the checks").await?;
    let client = pg::connect_observer(&target.url)
        .await
        .map_err(|e| StageFailure::new(exit::PROVIDER, e.message))?;
    let cfg = &ctx.config.checks;
    let obs = &ctx.observations;
    let mut results: Vec<CheckResult> = Vec::new();

    // First: whether anything read below can be trusted at all.
    if let Some(before) = &obs.shadows_before {
        match checks::shadowing::read(&client).await {
            Ok(after) => results.extend(checks::shadowing::evaluate(before, &after)),
            Err(e) => results.push(CheckResult::failed(
                "shadowing",
                format!("cannot list the functions and operators after the migration: {e}"),
            )),
        }
    }

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
                // `allow-migrations` may name a migration as the tool does (file name, tag,
                // revision): the tracking rows it names are allowed too.
                let mut schema_cfg = cfg.schema.clone();
                let tool = &ctx.config.tool;
                for m in &obs.applied {
                    if crate::tools::layout::allows(
                        &cfg.schema.allow_migrations,
                        &tool.name,
                        &tool.working_dir,
                        m,
                    ) {
                        schema_cfg.allow_migrations.push(m.clone());
                    }
                }
                let (plan, findings, details) =
                    checks::schema::evaluate(before, after, obs, &schema_cfg);
                let summary = match plan.statements.len() {
                    0 => "the migration changed nothing in the schema".to_owned(),
                    n => format!("{n} schema change(s)"),
                };
                results.push(CheckResult::from_findings(
                    "schema", summary, findings, details,
                ));
            }
            (None, _) => results.push(CheckResult::not_run(
                "schema",
                "the schema before the migration was not recorded (no migrate stage in this run)",
            )),
            _ => {}
        }
    }

    // Lint: the SQL that ran.
    if cfg.lint.enabled {
        results.push(lint(ctx));
    }

    // Locks: what the migration held, measured.
    if cfg.locks.enabled {
        match &obs.locks {
            Some(report) => {
                let (findings, details) = checks::locks::evaluate(report, &cfg.locks);
                // Indexes locked (rebuilt, reindexed, dropped) are listed in the details.
                let tables = report
                    .held_ms
                    .keys()
                    .filter(|k| !k.starts_with("index "))
                    .count();
                let summary = format!(
                    "{tables} table(s) locked, {} rewritten",
                    report.rewrites.len()
                );
                results.push(CheckResult::from_findings(
                    "locks", summary, findings, details,
                ));
            }
            None => results.push(CheckResult::not_run(
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
            None => results.push(CheckResult::not_run(
                "data",
                "row counts before the migration were not recorded (no migrate stage in this run)",
            )),
        }
    }
    // Integrity: every value the migration changed.
    if cfg.integrity.enabled {
        results.push(match &obs.integrity {
            Some(rec) => {
                let tool = &ctx.config.tool;
                let migration_allowed = obs.applied.iter().any(|m| {
                    crate::tools::layout::allows(
                        &cfg.integrity.allow_migrations,
                        &tool.name,
                        &tool.working_dir,
                        m,
                    )
                });
                let facts = checks::integrity::compare::RunFacts {
                    tool: &tool.name,
                    migration_allowed,
                };
                checks::integrity::evaluate(&client, rec, &cfg.integrity, facts).await
            }
            None => CheckResult::not_run(
                "integrity",
                "no fingerprints were recorded before the migration (no migrate stage in this run)",
            ),
        });
    }
    drop(client);

    // Reversible: last, since it runs the migrations down and up again.
    if cfg.reversible.enabled {
        let result = match (&ctx.config.tool.kind, &obs.before, &after) {
            (ToolKind::Sql { migrations_dir }, Some(before), Some(after)) => {
                checks::reversible::run(
                    migrations_dir,
                    &target.url,
                    before,
                    after,
                    obs,
                    &cfg.reversible,
                )
                .await
            }
            (ToolKind::Command { .. }, Some(before), Some(after)) => {
                reversible_with_tool(ctx, &target, before, after).await
            }
            _ => CheckResult::not_run(
                "reversible",
                "the schema before the migration was not recorded (no migrate stage in this run)",
            ),
        };
        results.push(result);
    }

    // A copy replaced or dropped while the checks ran voids them, passed or not: they may have
    // read another run's copy.
    if let Err(mut f) = super::verify_ours(ctx, "after the checks").await {
        f.details.push(
            "the checks' results are void: they may have read a copy that is not this run's".into(),
        );
        return Err(f);
    }

    conclude(cfg, &target, reports, results)
}

/// The stage's verdict: failed checks, and NOT RUN checks that are required, fail it.
// `StageResult` is every stage's result type; the async stage functions return it as well.
#[allow(clippy::result_large_err)]
fn conclude(
    cfg: &ChecksConfig,
    target: &Target,
    reports: Vec<crate::report::CheckReport>,
    results: Vec<CheckResult>,
) -> StageResult {
    let not_run: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.status == CheckStatus::NotRun)
        .collect();
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| {
            r.status == CheckStatus::Failed
                || (r.status == CheckStatus::NotRun && cfg.required(&r.name))
        })
        .map(|r| r.name.as_str())
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
        let names: Vec<&str> = not_run.iter().map(|r| r.name.as_str()).collect();
        format!("; {} NOT RUN: {}", names.len(), names.join(", "))
    };
    if failed.is_empty() {
        let summary = if results.is_empty() {
            "no checks configured".to_owned()
        } else {
            format!("{ran} check(s) passed{not_run_note}")
        };
        return Ok(StageSuccess {
            summary,
            checks: reports,
            results,
            ..Default::default()
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
    let mut f = StageFailure::new(exit::CHECK_FAILED, message);
    f.summary = format!(
        "{} of {ran} check(s) failed: {}{not_run_note}",
        failed.len(),
        failed.join(", ")
    );
    f.checks = reports;
    f.results = results;
    Err(f)
}

/// Lints the SQL of this run's migrations: the files for the built-in `sql` tool, the
/// print-SQL output (recorded by `migrate` before the tool ran) for any other tool.
fn lint(ctx: &RunContext<'_>) -> CheckResult {
    const NAME: &str = "lint";
    let obs = &ctx.observations;
    let cfg = &ctx.config.checks.lint;
    let major = obs
        .before
        .as_ref()
        .map(|m| m.server_version)
        .unwrap_or(150_000)
        / 10_000;
    if obs.applied.is_empty() {
        return CheckResult::skipped(NAME, "no migration was applied in this run");
    }
    match &ctx.config.tool.kind {
        ToolKind::Sql { migrations_dir } => {
            match checks::lint::lint_files(migrations_dir, obs, cfg, major) {
                Ok(findings) => {
                    let n = findings.len();
                    CheckResult::from_findings(
                        NAME,
                        format!("{} file(s) linted, {n} finding(s)", obs.applied.len()),
                        findings,
                        Vec::new(),
                    )
                }
                Err(e) => CheckResult::failed(NAME, e),
            }
        }
        ToolKind::Command { .. } => {
            let tool = &ctx.config.tool.name;
            match &obs.pending_sql {
                None => lint_sql_files(ctx, major).unwrap_or_else(|| {
                    CheckResult::not_run(
                        NAME,
                        format!("`{tool}` has no print-SQL mode and its migrations are not SQL files: set `print-sql-command` under [tool]"),
                    )
                }),
                Some(Err(e)) => {
                    CheckResult::not_run(NAME, format!("the print-SQL command failed: {e}"))
                }
                Some(Ok(text)) if !has_sql(text) => CheckResult::not_run(
                    NAME,
                    format!(
                        "the print-SQL command printed no SQL, yet {} migration(s) were applied",
                        obs.applied.len()
                    ),
                ),
                Some(Ok(text)) => {
                    let file = format!("{tool} print-SQL output");
                    // The tool's output carries its own BEGIN/COMMIT when it uses a
                    // transaction; otherwise each statement stands alone.
                    let in_tx = !text.lines().any(|l| {
                        let l = l.trim().to_ascii_uppercase();
                        l == "BEGIN;" || l.starts_with("BEGIN TRANSACTION")
                    });
                    let findings =
                        checks::lint::lint_observed_text(&file, text, obs, cfg, major, in_tx);
                    let n = findings.len();
                    CheckResult::from_findings(
                        NAME,
                        format!(
                            "the SQL of {} migration(s) linted (print-SQL mode), {n} finding(s)",
                            obs.applied.len()
                        ),
                        findings,
                        Vec::new(),
                    )
                }
            }
        }
    }
}

/// Lint for a tool without a print-SQL mode whose migrations are plain SQL files (Drizzle,
/// Prisma, sqlx, dbmate, diesel, refinery, Flyway): the files of the migrations this run
/// applied, found by the names the tracking table gives them. `None` when they cannot be
/// found (the caller says NOT RUN).
fn lint_sql_files(ctx: &RunContext<'_>, major: i32) -> Option<CheckResult> {
    const NAME: &str = "lint";
    let obs = &ctx.observations;
    let tool = &ctx.config.tool;
    let patterns = &tool.tracking.as_ref()?.migration_files;
    let files = crate::tools::detect::Tree::new(&tool.working_dir).files(patterns);
    let list =
        crate::tools::recorded::sql_files_of(&tool.name, &tool.working_dir, &obs.applied, &files)?;
    if list.is_empty() {
        return None;
    }
    let mut findings = Vec::new();
    for file in &list {
        let path = tool.working_dir.join(file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                return Some(CheckResult::failed(
                    NAME,
                    format!("cannot read {}: {e}", path.display()),
                ))
            }
        };
        // dbmate keeps the down migration in the same file, after `-- migrate:down`.
        let up = text.split("-- migrate:down").next().unwrap_or(&text);
        // These tools run each migration in a transaction unless the file opts out.
        let in_tx = !(up.contains("transaction:false") || up.contains("no-transaction"));
        findings.extend(checks::lint::lint_observed_text(
            file,
            up,
            obs,
            &ctx.config.checks.lint,
            major,
            in_tx,
        ));
    }
    let n = findings.len();
    Some(CheckResult::from_findings(
        NAME,
        format!(
            "{} SQL file(s) of {} migration(s) linted, {n} finding(s)",
            list.len(),
            obs.applied.len()
        ),
        findings,
        Vec::new(),
    ))
}

/// Whether a text holds anything but blank lines and `--` comments.
fn has_sql(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    })
}

/// `reversible` for a tool with a `down-command`: run it until the tool's tracking table is
/// back to what it recorded before the migration, compare the schema with the parent's,
/// then run the tool again and compare with the migrated schema.
async fn reversible_with_tool(
    ctx: &RunContext<'_>,
    target: &Target,
    before: &Model,
    after: &Model,
) -> CheckResult {
    const NAME: &str = "reversible";
    let obs = &ctx.observations;
    let tool = &ctx.config.tool;
    if obs.applied.is_empty() {
        return CheckResult::skipped(NAME, "no migration was applied in this run");
    }
    if tool.down_command.is_none() {
        return CheckResult::not_run(
            NAME,
            format!(
                "`{}` has no down command: set `down-command` under [tool]",
                tool.name
            ),
        );
    }
    let Some(tracked_before) = &obs.tracked_before else {
        return CheckResult::not_run(
            NAME,
            "the tool's tracking rows before the migration were not recorded (no `tracking-query` under [tool])",
        );
    };
    let vars = super::migrate::tool_vars(ctx, target);
    let tctx = ToolContext {
        timeouts: None,
        connection_check: None,
        config: ctx.config,
        redactor: &ctx.redactor,
        vars: &vars,
        target: target.clone(),
        on_main: false,
    };
    let mut details = Vec::new();
    // Each run of the down command reverts one migration; never more runs than were applied.
    let mut reverted = Vec::new();
    let mut back = false;
    let mut runs = 0;
    for _ in 0..obs.applied.len() {
        runs += 1;
        match command_tool::run_extra(&tctx, Extra::Down).await {
            Ok(run) => {
                if run.applied.is_empty() && run.tracked_before.is_none() {
                    return CheckResult::not_run(
                        NAME,
                        "the tracking table could not be read around the down command",
                    );
                }
                reverted.extend(run.applied);
                let now = current_tracking(&tctx).await;
                if now.as_deref() == Some(tracked_before.as_slice()) {
                    back = true;
                    break;
                }
            }
            Err(e) => {
                let f = Finding::new(
                    NAME,
                    Severity::Error,
                    format!("the down command failed: {}", e.message),
                    "a bad deploy could not be undone with the tool's down migrations",
                )
                .fix("make every migration of this run reversible, or disable the check under [checks.reversible]");
                let mut r = CheckResult::from_findings(NAME, "down failed", vec![f], details);
                if let Some(o) = e.output.filter(|o| !o.trim().is_empty()) {
                    r.details
                        .push(format!("output of the down command:\n{}", o.trim_end()));
                }
                return r;
            }
        }
    }
    details.push(format!(
        "down: {runs} run(s) of the down command, reverted {}",
        crate::report::collapse(&reverted, 10)
    ));
    let mut findings = Vec::new();
    if !back {
        findings.push(
            Finding::new(
                NAME,
                Severity::Error,
                format!(
                    "after {runs} run(s) of the down command the tool's tracking table does not record what it did before the migration"
                ),
                "a rollback would leave production between versions",
            )
            .fix("make each down migration revert exactly one up migration"),
        );
        return CheckResult::from_findings(
            NAME,
            "the round trip does not reproduce the schemas",
            findings,
            details,
        );
    }
    let excluded = schema::default_excluded();
    let read = || async {
        let client = pg::connect_observer(&target.url)
            .await
            .map_err(|e| e.message)?;
        schema::introspect(&client, &excluded)
            .await
            .map_err(|e| e.message)
    };
    let down_model = match read().await {
        Ok(m) => m,
        Err(e) => return CheckResult::failed(NAME, format!("cannot introspect after down: {e}")),
    };
    // The tool's own bookkeeping (its tracking table, lock table, schema) stays after the
    // down migrations: it is not part of what the migrations changed.
    let bookkeeping = bookkeeping_names(ctx);
    let left: Vec<String> = checks::reversible::differences(before, &down_model)
        .into_iter()
        .filter(|s| !bookkeeping.iter().any(|b| s.contains(b.as_str())))
        .collect();
    findings.extend(checks::reversible::left_after_down(left));
    let again = tools::from_config(ctx.config, false);
    match again.apply(&tctx).await {
        Ok(run) => details.push(format!(
            "up again: {}",
            crate::report::collapse(&run.applied, 10)
        )),
        Err(e) => {
            findings.push(checks::reversible::rerun_failed(&e.message));
            return CheckResult::from_findings(
                NAME,
                "the round trip does not reproduce the schemas",
                findings,
                details,
            );
        }
    }
    match read().await {
        Ok(up_model) => {
            findings.extend(checks::reversible::drift_after_up(
                checks::reversible::differences(after, &up_model),
            ));
        }
        Err(e) => return CheckResult::failed(NAME, format!("cannot introspect after up: {e}")),
    }
    let summary = if findings.is_empty() {
        "down then up again reproduces both schemas"
    } else if findings.iter().all(|f| f.severity != Severity::Error) {
        "down then up again reproduces both schemas, but for the warnings below"
    } else {
        "the round trip does not reproduce the schemas"
    };
    CheckResult::from_findings(NAME, summary, findings, details)
}

/// The relations (and schemas) the tool's tracking query reads: `knex_migrations` also covers
/// `knex_migrations_lock`, `databasechangelog` covers `databasechangeloglock`.
fn bookkeeping_names(ctx: &RunContext<'_>) -> Vec<String> {
    let Some(t) = &ctx.config.tool.tracking else {
        return Vec::new();
    };
    let words: Vec<&str> = t.query.split_whitespace().collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if !matches!(pair[0].to_ascii_lowercase().as_str(), "from" | "join") {
            continue;
        }
        for part in pair[1].trim_end_matches([';', ')', ',']).split('.') {
            let name = part.trim_matches('"');
            if !name.is_empty() && name != "public" && !out.iter().any(|o| o == name) {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// The tool's tracking rows on the target now.
async fn current_tracking(ctx: &ToolContext<'_>) -> Option<Vec<String>> {
    let t = ctx.config.tool.tracking.as_ref()?;
    let w = tools::witness::Witness::open(&ctx.target.url, false)
        .await
        .ok()?;
    w.tracked(&t.query).await.ok().map(|t| t.rows().to_vec())
}

//! `reversible`: down, then the schema equals the parent's; up again, then it equals the
//! migrated one. For the built-in `sql` tool a down migration is the file beside the up
//! one: `0003_add_orders.sql` → `0003_add_orders.down.sql`.

use std::path::Path;

use super::{Access, Check, CheckResult, Evaluation, Finding, Needs, Observations, Severity};
use crate::config::{Config, ReversibleCheck, ToolKind};
use crate::pg::PgError;
use crate::schema::{self, Model, PlanOptions};
use crate::secret::Secret;
use crate::tools::command::{self, Extra};
use crate::tools::{self, sql, ToolContext, ToolError};

const NAME: &str = "reversible";

/// `[checks.reversible]`: the round trip down and up again, on the test Neon database branch.
pub struct Reversible;

impl Reversible {
    pub fn new(config: &Config) -> Option<Self> {
        config.checks.reversible.enabled.then_some(Reversible)
    }
}

#[async_trait::async_trait]
impl Check for Reversible {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Needs {
        Needs::SCHEMA
    }

    /// It runs the migrations down and up again.
    fn access(&self) -> Access {
        Access::ChangesDatabase
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let obs = cx.obs;
        let url = &cx.tool.target.url;
        Some(match (&cx.config().tool.kind, &obs.before, cx.after) {
            (ToolKind::Sql { migrations_dir }, Some(before), Some(after)) => {
                let cfg = &cx.config().checks.reversible;
                run(migrations_dir, url, before, after, obs, cfg).await
            }
            (ToolKind::Command { .. }, Some(before), Some(after)) => {
                with_tool(cx.tool, obs, before, after).await
            }
            _ => CheckResult::not_run(
                NAME,
                "the schema before the migration was not recorded (no migrate stage in this run)",
            ),
        })
    }
}

/// Why the round trip could not be run to its end.
#[derive(Debug, thiserror::Error)]
enum RoundTripError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Db(#[from] PgError),
}

/// The statements that would turn `from` into `to` (first lines), and what the engine cannot
/// spell.
pub fn differences(from: &Model, to: &Model) -> Vec<String> {
    let plan = schema::plan(from, to, &PlanOptions::default());
    let mut out: Vec<String> = plan
        .statements
        .iter()
        .map(|s| s.sql.lines().next().unwrap_or("").to_owned())
        .collect();
    out.extend(plan.unsupported);
    out
}

/// Findings for what the down migrations left different from the parent (`left`, from
/// [`differences`]). An extension the parent did not have that is still installed is a
/// warning: nothing of the previous schema breaks on an extra extension, and tools install
/// some themselves on connecting (TypeORM's `uuid-ossp`), outside any migration. Everything
/// else is an error.
pub fn left_after_down(left: Vec<String>) -> Vec<Finding> {
    let (extensions, rest): (Vec<String>, Vec<String>) = left
        .into_iter()
        .partition(|s| s.starts_with("CREATE EXTENSION"));
    let mut findings = Vec::new();
    if !rest.is_empty() {
        findings.push(
            Finding::new(NAME, Severity::Error, format!("after the down migrations the schema differs from the parent's in {} way(s): {}", rest.len(), rest.join("; ")), "a rollback would not restore the schema production has now")
                .fix("make the down migrations undo exactly what the up migrations do"),
        );
    }
    if !extensions.is_empty() {
        findings.push(
            Finding::new(NAME, Severity::Warning, format!("after the down migrations {} extension(s) the parent did not have are still installed: {}", extensions.len(), extensions.join("; ")), "an extra extension breaks nothing of the previous schema, but the rollback is not exact")
                .fix("drop the extension in the down migration if a migration created it (a tool may create it when it connects)"),
        );
    }
    findings
}

/// The migrations failed when run again after the down ones.
pub fn rerun_failed(error: &str) -> Finding {
    Finding::new(
        NAME,
        Severity::Error,
        format!("the up migrations failed when run again after the down ones: {error}"),
        "after a rollback, deploying the same migrations again would fail on production",
    )
    .fix("make the down migrations undo exactly what the up migrations do")
}

/// Up after down left a schema other than the migrated one.
pub fn drift_after_up(drift: Vec<String>) -> Option<Finding> {
    (!drift.is_empty()).then(|| {
        Finding::new(
            NAME,
            Severity::Error,
            format!(
                "up after down does not reproduce the migrated schema: {}",
                drift.join("; ")
            ),
            "re-running the migrations after a rollback would give production a different schema",
        )
        .fix("make the down migrations drop everything the up migrations create")
    })
}

/// Runs the round trip on the test Neon database branch at `url`.
pub async fn run(
    dir: &Path,
    url: &Secret<String>,
    before: &Model,
    after: &Model,
    obs: &Observations,
    cfg: &ReversibleCheck,
) -> CheckResult {
    if obs.applied.is_empty() {
        return CheckResult::skipped(NAME, "no migration was applied in this run");
    }
    let missing: Vec<String> = obs
        .applied
        .iter()
        .filter(|f| !sql::down_path(dir, f).is_file())
        .cloned()
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|f| format!("{} (expected {})", f, sql::down_name(f)))
            .collect::<Vec<_>>()
            .join(", ");
        if cfg.required {
            let f = Finding::new(NAME, Severity::Error, format!("no down migration for {list}"), "without a down migration a bad deploy can only be undone by restoring from a restore point")
                .fix("write the down migration beside the up one, or set `required = false` under [checks.reversible]");
            return CheckResult::from_findings(
                NAME,
                "down migrations missing",
                vec![f],
                Vec::new(),
            );
        }
        return CheckResult::not_run(NAME, format!("no down migration for {list}"));
    }
    let excluded = schema::default_excluded();
    let outcome = async {
        let reverted = sql::revert(dir, url, &obs.applied).await?;
        let client = crate::pg::connect_observer(url).await?;
        let down_model = schema::introspect(&client, &excluded).await?;
        let mut findings = Vec::new();
        let mut details = vec![format!("down: {}", reverted.join(", "))];
        findings.extend(left_after_down(differences(before, &down_model)));
        let dir = dir.to_owned();
        let again = match sql::apply_files(&dir, url, &obs.applied).await {
            Ok(again) => again,
            // Often a consequence of the difference above (the up migration meets what
            // the down one left): report both, not only the second.
            Err(e) if !findings.is_empty() => {
                findings.push(rerun_failed(&e.to_string()));
                return Ok((findings, details));
            }
            Err(e) => return Err(e.into()),
        };
        details.push(format!("up again: {}", again.join(", ")));
        let up_model = schema::introspect(&client, &excluded).await?;
        findings.extend(drift_after_up(differences(after, &up_model)));
        Ok::<_, RoundTripError>((findings, details))
    }
    .await;
    match outcome {
        Ok((findings, details)) => concluded(findings, details),
        Err(e) => CheckResult::failed(NAME, format!("the down/up round trip failed: {e}")),
    }
}

/// The round trip's result from its findings.
fn concluded(findings: Vec<Finding>, details: Vec<String>) -> CheckResult {
    let summary = if findings.is_empty() {
        "down then up again reproduces both schemas"
    } else if findings.iter().all(|f| f.severity != Severity::Error) {
        "down then up again reproduces both schemas, but for the warnings below"
    } else {
        "the round trip does not reproduce the schemas"
    };
    CheckResult::from_findings(NAME, summary, findings, details)
}

/// `reversible` for a tool with a `down-command`: run it until the tool's tracking table is
/// back to what it recorded before the migration, compare the schema with the parent's,
/// then run the tool again and compare with the migrated schema.
async fn with_tool(
    tctx: &ToolContext<'_>,
    obs: &Observations,
    before: &Model,
    after: &Model,
) -> CheckResult {
    let tool = &tctx.config.tool;
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
    let mut details = Vec::new();
    // Each run of the down command reverts one migration; never more runs than were applied.
    let back = match down_to(tctx, obs.applied.len(), tracked_before, &mut details).await {
        Down::Back => true,
        Down::NotBack => false,
        Down::Ended(r) => return r,
    };
    let mut findings = Vec::new();
    if !back {
        findings.push(
            Finding::new(
                NAME,
                Severity::Error,
                format!(
                    "after {} run(s) of the down command the tool's tracking table does not record what it did before the migration",
                    obs.applied.len()
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
        let client = crate::pg::connect_observer(&tctx.target.url).await?;
        schema::introspect(&client, &excluded).await
    };
    let down_model = match read().await {
        Ok(m) => m,
        Err(e) => return CheckResult::failed(NAME, format!("cannot introspect after down: {e}")),
    };
    // The tool's own bookkeeping (its tracking table, lock table, schema) stays after the
    // down migrations: it is not part of what the migrations changed.
    let bookkeeping = bookkeeping_names(tctx.config);
    let left: Vec<String> = differences(before, &down_model)
        .into_iter()
        .filter(|s| !bookkeeping.iter().any(|b| s.contains(b.as_str())))
        .collect();
    findings.extend(left_after_down(left));
    let again = tools::from_config(tctx.config, false);
    match again.apply(tctx).await {
        Ok(run) => details.push(format!(
            "up again: {}",
            crate::report::collapse(&run.applied, 10)
        )),
        Err(e) => {
            findings.push(rerun_failed(&e.to_string()));
            return CheckResult::from_findings(
                NAME,
                "the round trip does not reproduce the schemas",
                findings,
                details,
            );
        }
    }
    match read().await {
        Ok(up_model) => findings.extend(drift_after_up(differences(after, &up_model))),
        Err(e) => return CheckResult::failed(NAME, format!("cannot introspect after up: {e}")),
    }
    concluded(findings, details)
}

/// Where the down command left the tool's tracking rows.
enum Down {
    /// As they were before the migration.
    Back,
    /// Elsewhere, after as many runs as migrations were applied.
    NotBack,
    /// The check ends here, with this result.
    Ended(CheckResult),
}

/// Runs the down command, at most `max` times, until the tool's tracking rows are
/// `tracked_before` again. A line on what was reverted goes to `details`.
async fn down_to(
    tctx: &ToolContext<'_>,
    max: usize,
    tracked_before: &[String],
    details: &mut Vec<String>,
) -> Down {
    let mut reverted = Vec::new();
    let mut runs = 0;
    let mut back = false;
    for _ in 0..max {
        runs += 1;
        match command::run_extra(tctx, Extra::Down).await {
            Ok(run) => {
                if run.applied.is_empty() && run.tracked_before.is_none() {
                    return Down::Ended(CheckResult::not_run(
                        NAME,
                        "the tracking table could not be read around the down command",
                    ));
                }
                reverted.extend(run.applied);
                if current_tracking(tctx).await.as_deref() == Some(tracked_before) {
                    back = true;
                    break;
                }
            }
            Err(e) => {
                let f = Finding::new(
                    NAME,
                    Severity::Error,
                    format!("the down command failed: {e}"),
                    "a bad deploy could not be undone with the tool's down migrations",
                )
                .fix("make every migration of this run reversible, or disable the check under [checks.reversible]");
                let mut r = CheckResult::from_findings(
                    NAME,
                    "down failed",
                    vec![f],
                    std::mem::take(details),
                );
                if let Some(o) = e.output().filter(|o| !o.trim().is_empty()) {
                    r.details
                        .push(format!("output of the down command:\n{}", o.trim_end()));
                }
                return Down::Ended(r);
            }
        }
    }
    details.push(format!(
        "down: {runs} run(s) of the down command, reverted {}",
        crate::report::collapse(&reverted, 10)
    ));
    if back {
        Down::Back
    } else {
        Down::NotBack
    }
}

/// The relations (and schemas) the tool's tracking query reads: `knex_migrations` also covers
/// `knex_migrations_lock`, `databasechangelog` covers `databasechangeloglock`.
fn bookkeeping_names(config: &Config) -> Vec<String> {
    let Some(t) = &config.tool.tracking else {
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

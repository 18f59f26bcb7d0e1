//! `reversible`: down, then the schema equals the parent's; up again, then it equals the
//! migrated one. For the built-in `sql` tool a down migration is the file beside the up
//! one: `0003_add_orders.sql` → `0003_add_orders.down.sql`.

use std::path::Path;

use super::{CheckResult, Finding, Observations, Severity};
use crate::config::ReversibleCheck;
use crate::schema::{self, Model, PlanOptions};
use crate::secret::Secret;
use crate::tools::sql;

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
            Finding::new("reversible", Severity::Error, format!("after the down migrations the schema differs from the parent's in {} way(s): {}", rest.len(), rest.join("; ")), "a rollback would not restore the schema production has now")
                .fix("make the down migrations undo exactly what the up migrations do"),
        );
    }
    if !extensions.is_empty() {
        findings.push(
            Finding::new("reversible", Severity::Warning, format!("after the down migrations {} extension(s) the parent did not have are still installed: {}", extensions.len(), extensions.join("; ")), "an extra extension breaks nothing of the previous schema, but the rollback is not exact")
                .fix("drop the extension in the down migration if a migration created it (a tool may create it when it connects)"),
        );
    }
    findings
}

/// The migrations failed when run again after the down ones.
pub fn rerun_failed(error: &str) -> Finding {
    Finding::new(
        "reversible",
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
            "reversible",
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
    const NAME: &str = "reversible";
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
        let reverted = sql::revert(dir, url, &obs.applied)
            .await
            .map_err(|e| e.message)?;
        let client = crate::pg::connect_observer(url)
            .await
            .map_err(|e| e.to_string())?;
        let down_model = schema::introspect(&client, &excluded)
            .await
            .map_err(|e| e.to_string())?;
        let mut findings = Vec::new();
        let mut details = vec![format!("down: {}", reverted.join(", "))];
        findings.extend(left_after_down(differences(before, &down_model)));
        let dir = dir.to_owned();
        let again = match sql::apply_files(&dir, url, &obs.applied).await {
            Ok(again) => again,
            // Often a consequence of the difference above (the up migration meets what
            // the down one left): report both, not only the second.
            Err(e) if !findings.is_empty() => {
                findings.push(rerun_failed(&e.message));
                return Ok((findings, details));
            }
            Err(e) => return Err(e.message),
        };
        details.push(format!("up again: {}", again.join(", ")));
        let up_model = schema::introspect(&client, &excluded)
            .await
            .map_err(|e| e.to_string())?;
        findings.extend(drift_after_up(differences(after, &up_model)));
        Ok::<_, String>((findings, details))
    }
    .await;
    match outcome {
        Ok((findings, details)) => {
            let summary = if findings.is_empty() {
                "down then up again reproduces both schemas"
            } else if findings.iter().all(|f| f.severity != Severity::Error) {
                "down then up again reproduces both schemas, but for the warnings below"
            } else {
                "the round trip does not reproduce the schemas"
            };
            CheckResult::from_findings(NAME, summary, findings, details)
        }
        Err(e) => CheckResult::failed(NAME, format!("the down/up round trip failed: {e}")),
    }
}

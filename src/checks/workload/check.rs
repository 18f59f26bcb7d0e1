//! The `workload` check behind [`Check`]: `record_before` reads the built-in tool's pending
//! migration files (the tables they touch); `start` — after every check recorded, the instant
//! before the tool starts — finds the queries, runs the baseline window, opens the long
//! transaction and starts the load; `stop` finishes it as soon as the tool exits; `evaluate`
//! judges what was measured (it reads no database).

use super::{Rehearsal, Target, WorkloadConfig, WorkloadError, WorkloadReport, NAME};
use crate::checks::{Check, CheckResult, Evaluation, Needs, Observations, RecordError, Recording};
use crate::config::{Config, ProviderConfig, ToolKind};
use crate::tools::{self, ToolContext};

/// The check, from its settings to its verdict.
pub struct Workload {
    cfg: WorkloadConfig,
    /// The built-in `sql` tool's pending migrations (other tools: their print-SQL output).
    pending: Option<String>,
    /// The provider is `neon` (the parent's `pg_stat_statements` is read on the parent).
    neon: bool,
    /// The parent's database, when its `pg_stat_statements` is read through the test Neon
    /// database branch's server (the local provider).
    parent_database: Option<String>,
    /// The `neon` provider: the main Neon database branch's connection URI, its
    /// `pg_stat_statements` read there (the test Neon database branch's own compute starts
    /// with empty statistics), or why the provider could not give it.
    parent_url: Option<crate::checks::ParentUrl>,
    running: Option<Result<Rehearsal, WorkloadError>>,
    outcome: Option<Result<WorkloadReport, WorkloadError>>,
}

impl Workload {
    pub fn new(config: &Config) -> Option<Self> {
        let cfg = &config.checks.workload;
        let tracking = config.tool.tracking.as_ref().map(|t| t.query.as_str());
        cfg.enabled.then(|| Workload {
            cfg: WorkloadConfig {
                tool_tables: crate::checks::integrity::bookkeeping(tracking),
                ..cfg.clone()
            },
            pending: None,
            neon: matches!(config.provider, ProviderConfig::Neon(_)),
            parent_database: None,
            parent_url: None,
            running: None,
            outcome: None,
        })
    }
}

/// The SQL of the built-in tool's migrations not applied yet.
async fn pending_files(dir: &std::path::Path, client: &tokio_postgres::Client) -> Option<String> {
    let all = tools::sql::load(dir).ok()?;
    // No tracking table yet (a first deploy): every file is pending.
    let done: Vec<String> = tools::sql::applied(client)
        .await
        .map(|a| a.into_iter().map(|(v, _, _)| v).collect())
        .unwrap_or_default();
    let text: Vec<String> = all
        .into_iter()
        .filter(|m| !done.contains(&m.version))
        .map(|m| m.sql)
        .collect();
    Some(text.join("\n;\n"))
}

#[async_trait::async_trait]
impl Check for Workload {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Needs {
        Needs {
            // Declared queries come first: then the parent is not read at all.
            parent_url: self.neon && self.cfg.queries.is_empty(),
            ..Needs::PENDING_SQL
        }
    }

    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        if let ToolKind::Sql { migrations_dir } = &cx.config().tool.kind {
            self.pending = pending_files(migrations_dir, cx.client).await;
        }
        // Local: one server holds the parent and its copies: its pg_stat_statements is read
        // there, for the parent's database (no session on the parent, which would block
        // template copies). Neon: the copy's compute starts with empty statistics, so it is
        // read on the main Neon database branch itself, one short read-only session.
        if matches!(cx.config().provider, ProviderConfig::Local(_)) {
            self.parent_database = cx.tool.vars.db_branch.as_ref().map(|b| b.parent.clone());
        }
        self.parent_url = cx.parent_url.cloned();
        Ok(())
    }

    async fn start(&mut self, cx: &ToolContext<'_>, obs: &Observations) -> Result<(), RecordError> {
        let printed = match &obs.pending_sql {
            Some(Ok(text)) => Some(text.clone()),
            _ => None,
        };
        let pending = self.pending.clone().or(printed);
        let target = Target {
            url: &cx.target.url,
            parent_url: self.parent_url.as_ref().and_then(|p| p.as_ref().ok()),
            parent_database: self.parent_database.as_deref(),
            pending_sql: pending.as_deref(),
            parent_error: self
                .parent_url
                .as_ref()
                .and_then(|p| p.as_ref().err())
                .map(|e| e.0.as_str()),
        };
        // A rehearsal that cannot start is this check's failure, not the migration's: the
        // tool still runs, and `evaluate` says why nothing was rehearsed.
        self.running = Some(Rehearsal::start(&self.cfg, &target).await);
        Ok(())
    }

    async fn stop(&mut self, _obs: &mut Observations) -> Result<(), RecordError> {
        self.outcome = match self.running.take() {
            Some(Ok(r)) => Some(r.finish().await),
            Some(Err(e)) => Some(Err(e)),
            None => None,
        };
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        Some(match &self.outcome {
            Some(Ok(report)) => {
                let mut r = super::evaluate(report, &self.cfg, cx.obs.locks.as_ref());
                r.data = serde_json::to_value(report).ok();
                r
            }
            // Nothing measured: NOT RUN, never the migration's failure (nor a pass).
            Some(Err(e)) => super::could_not_run::result(e),
            None => {
                CheckResult::not_run(NAME, "nothing was rehearsed (no migrate stage in this run)")
            }
        })
    }
}

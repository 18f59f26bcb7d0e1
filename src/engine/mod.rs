//! The engine: runs the ordered stages of one pipeline over a shared context.
//!
//! It never prints. It emits events (for live progress) and returns a [`Report`]; a failed
//! run returns [`RunFailed`], which carries the same report up to the failure, so callers
//! always know what already happened. Stages marked `always` (deleting the test Neon
//! database branch) run even after a failure or an interrupt; every other stage after a
//! failure is skipped — so `apply` only ever runs when everything before it passed.

use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;

use crate::config::{Config, Pipeline, Stage};
use crate::exit;
use crate::git::GitInfo;
use crate::providers::{self, DbBranch, Provider};
use crate::report::{
    DbBranchSection, GitSection, Outcome, Report, StageError, StageReport, StageStatus,
    SCHEMA_VERSION,
};
use crate::secret::Redactor;
use crate::stages;
use crate::template::{self, Vars};

/// Live progress, for the CLI's output. Implementations must not block.
pub trait EventSink: Send + Sync {
    fn run_started(&self, _report: &Report) {}
    fn stage_started(&self, _stage: &Stage) {}
    fn stage_finished(&self, _stage: &StageReport) {}
}

/// An event sink that ignores everything.
pub struct Silent;
impl EventSink for Silent {}

/// Everything a stage can see and change.
pub struct RunContext<'a> {
    pub config: &'a Config,
    pub git: &'a GitInfo,
    pub provider: &'a dyn Provider,
    pub redactor: Redactor,
    pub pipeline: &'a Pipeline,
    /// Template variables; `db_branch` is filled in once the test Neon database branch exists.
    pub vars: Vars,
    /// The test Neon database branch name (rendered and sanitized).
    pub db_branch_name: String,
    /// The test Neon database branch, once created.
    pub db_branch: Option<DbBranch>,
    /// This run's id, recorded with the test Neon database branch it creates: every stage that
    /// uses the copy checks it is still this run's.
    pub run_id: String,
    /// The run lock on this test Neon database branch name (taken by the create stage, held
    /// until the run ends, after `apply`).
    pub(crate) run_lock: Option<crate::rollback::ApplyLock>,
    pub deleted: bool,
    /// What the migrate stage recorded for the checks.
    pub observations: crate::checks::Observations,
    /// Timeouts handed to the tool (set by `apply`).
    pub tool_timeouts: Option<(Duration, Duration)>,
    /// `client_connection_check_interval` for the tool's sessions (apply, PostgreSQL 14+).
    pub tool_connection_check: Option<Duration>,
    /// The restore point `apply` created.
    pub restore_point: Option<String>,
    /// The tool's run on the main Neon database branch, while it runs (for an interrupt).
    pub apply_in_flight: Option<stages::ApplyInFlight>,
}

/// What a stage did when it passed.
#[derive(Debug, Default)]
pub struct StageSuccess {
    pub summary: String,
    pub details: Vec<String>,
    pub checks: Vec<crate::report::CheckReport>,
    pub results: Vec<crate::checks::CheckResult>,
}

/// Why a stage failed, and which exit code that means.
#[derive(Debug)]
pub struct StageFailure {
    pub message: String,
    pub help: Option<String>,
    pub output: Option<String>,
    pub exit_code: i32,
    pub summary: String,
    pub details: Vec<String>,
    pub checks: Vec<crate::report::CheckReport>,
    pub results: Vec<crate::checks::CheckResult>,
}

impl StageFailure {
    pub fn new(exit_code: i32, message: impl Into<String>) -> Self {
        let message = message.into();
        StageFailure {
            summary: "failed".into(),
            message,
            help: None,
            output: None,
            exit_code,
            details: Vec::new(),
            checks: Vec::new(),
            results: Vec::new(),
        }
    }
    pub fn help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

pub type StageResult = Result<StageSuccess, StageFailure>;

/// A run that did not pass; carries the report up to where it stopped.
#[derive(Debug)]
pub struct RunFailed {
    pub report: Report,
}

impl std::fmt::Display for RunFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.report.failed_stage() {
            Some(s) => write!(
                f,
                "pipeline `{}` failed at stage `{}`",
                self.report.pipeline, s.name
            ),
            None => write!(f, "pipeline `{}` was interrupted", self.report.pipeline),
        }
    }
}
impl std::error::Error for RunFailed {}

/// Template variables for a run (without the test Neon database branch yet).
pub fn base_vars(git: &GitInfo, pipeline: &str) -> Vars {
    Vars {
        git_branch: git.branch.clone(),
        git_sha: git.sha.clone(),
        pipeline: pipeline.to_owned(),
        timestamp: crate::providers::local::rfc3339(Utc::now()),
        db_branch: None,
        env: crate::template::Env::Process,
        secrets: Redactor::new(),
    }
}

/// The test Neon database branch name for this run: the template rendered, then sanitized.
pub fn db_branch_name(config: &Config, vars: &Vars) -> Result<String, String> {
    let raw = template::render(&config.db_branch.name_template, vars)?;
    // The name is printed everywhere and stored on the server: a value that carries a password
    // (a connection URL from `{{env.X}}`) must not become part of it.
    if crate::secret::mask_url_passwords(&raw) != raw {
        return Err(format!(
            "the test Neon database branch name would contain a password: the template `{}` takes a connection URL; use a variable without credentials",
            config.db_branch.name_template
        ));
    }
    let name = crate::naming::db_branch_name(&raw, crate::naming::MAX_LEN);
    // An empty name is sanitized to "unnamed": a run must not share such a name with others.
    if name.starts_with("unnamed") && !raw.to_ascii_lowercase().contains("unnamed") {
        return Err(format!(
            "the test Neon database branch name `{}` is empty once sanitized (template `{}`)",
            vars.secrets.redact(&raw),
            config.db_branch.name_template
        ));
    }
    Ok(name)
}

/// Runs `pipeline`. `cancel` turning `true` interrupts the current stage; cleanup still runs.
pub async fn run(
    config: &Config,
    git: &GitInfo,
    provider: &dyn Provider,
    pipeline: &Pipeline,
    redactor: Redactor,
    events: &dyn EventSink,
    mut cancel: watch::Receiver<bool>,
) -> Result<Report, RunFailed> {
    let started = Instant::now();
    let mut vars = base_vars(git, &pipeline.name);
    // Secret values the templates take are masked by this run's redactor.
    vars.secrets = redactor.clone();
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        pipeline: pipeline.name.clone(),
        git: GitSection {
            branch: git.branch.clone(),
            sha: git.sha.clone(),
            detached: git.detached,
        },
        neon_database_branch: DbBranchSection::default(),
        provider: redactor.redact(&provider.describe()),
        tool: config.tool.name.clone(),
        reaped: Vec::new(),
        stages: Vec::new(),
        restore_point: None,
        outcome: Outcome::Passed,
        exit_code: exit::OK,
        duration_ms: 0,
    };
    let name = match db_branch_name(config, &vars) {
        Ok(n) => n,
        Err(e) => {
            report.outcome = Outcome::Failed;
            report.exit_code = exit::CONFIG;
            report.stages.push(StageReport {
                name: "name-neon-database-branch".into(),
                kind: "setup".into(),
                status: StageStatus::Failed,
                duration_ms: 0,
                summary: "cannot name the test Neon database branch".into(),
                details: Vec::new(),
                checks: Vec::new(),
                results: Vec::new(),
                error: Some(StageError {
                    message: e,
                    help: None,
                    output: None,
                }),
            });
            return Err(RunFailed { report });
        }
    };
    report.neon_database_branch.name = name.clone();

    // Expired leftovers of killed runs go first: the TTL is the backstop, this is the sweep.
    if let Ok(reaped) = providers::reap_expired(provider, Utc::now()).await {
        report.reaped = reaped.into_iter().map(|r| r.name).collect();
    }
    events.run_started(&report);

    let mut ctx = RunContext {
        config,
        git,
        provider,
        redactor: redactor.clone(),
        pipeline,
        vars,
        db_branch_name: name,
        db_branch: None,
        run_id: providers::new_run_id(),
        run_lock: None,
        deleted: false,
        observations: Default::default(),
        tool_timeouts: None,
        tool_connection_check: None,
        restore_point: None,
        apply_in_flight: None,
    };

    let mut failed: Option<i32> = None;
    let mut interrupted = *cancel.borrow();
    for stage in &pipeline.stages {
        if (failed.is_some() || interrupted) && !stage.always {
            let why = if interrupted {
                "interrupted"
            } else {
                "skipped: an earlier stage failed"
            };
            let r = StageReport {
                name: stage.name.clone(),
                kind: stage.kind.as_str().into(),
                status: StageStatus::Skipped,
                duration_ms: 0,
                summary: why.into(),
                details: Vec::new(),
                checks: Vec::new(),
                results: Vec::new(),
                error: None,
            };
            events.stage_finished(&r);
            report.stages.push(r);
            continue;
        }
        events.stage_started(stage);
        let t = Instant::now();
        let result = if stage.always || interrupted {
            // Cleanup is not raced against the interrupt: it must finish.
            stages::run(&mut ctx, stage).await
        } else {
            let fut = stages::run(&mut ctx, stage);
            tokio::select! {
                r = fut => r,
                _ = cancel.wait_for(|c| *c) => {
                    interrupted = true;
                    Err(StageFailure::new(exit::INTERRUPTED, "interrupted by a signal"))
                }
            }
        };
        // An interrupted apply: the tool's process group is gone, but its sessions (and ours)
        // may still run on the main Neon database branch, holding their locks.
        let result = match (result, ctx.apply_in_flight.take()) {
            (Err(f), Some(flight)) if interrupted => {
                Err(stages::apply_interrupted(&ctx, flight, f).await)
            }
            (r, _) => r,
        };
        let r = stage_report(stage, result, t.elapsed(), &redactor, &mut failed);
        events.stage_finished(&r);
        report.stages.push(r);
        if !interrupted && *cancel.borrow() {
            interrupted = true;
        }
    }

    // The next run of this test Neon database branch name may go now: it copies main as this
    // run left it.
    if let Some(lock) = ctx.run_lock.take() {
        lock.release().await;
    }
    if let Some(b) = &ctx.db_branch {
        report.neon_database_branch.created = true;
        report.neon_database_branch.id = Some(b.id.clone());
        report.neon_database_branch.parent = Some(b.parent.clone());
        report.neon_database_branch.expires_at = b.expires_at.map(crate::providers::local::rfc3339);
    }
    report.neon_database_branch.deleted = ctx.deleted;
    report.restore_point = ctx.restore_point.clone();
    report.duration_ms = started.elapsed().as_millis() as u64;
    if interrupted {
        report.outcome = Outcome::Interrupted;
        report.exit_code = exit::INTERRUPTED;
        return Err(RunFailed { report });
    }
    if let Some(code) = failed {
        report.outcome = Outcome::Failed;
        report.exit_code = code;
        return Err(RunFailed { report });
    }
    Ok(report)
}

fn stage_report(
    stage: &Stage,
    result: StageResult,
    took: Duration,
    redactor: &Redactor,
    failed: &mut Option<i32>,
) -> StageReport {
    let r = |s: String| redactor.redact(&s);
    let base = StageReport {
        name: stage.name.clone(),
        kind: stage.kind.as_str().into(),
        status: StageStatus::Passed,
        duration_ms: took.as_millis() as u64,
        summary: String::new(),
        details: Vec::new(),
        checks: Vec::new(),
        results: Vec::new(),
        error: None,
    };
    // Findings quote SQL and tool output: they go through the redactor too.
    let scrub = |mut res: Vec<crate::checks::CheckResult>| {
        for c in &mut res {
            c.summary = redactor.redact(&c.summary);
            for f in &mut c.findings {
                f.what = redactor.redact(&f.what);
            }
            c.details = c.details.iter().map(|d| redactor.redact(d)).collect();
        }
        res
    };
    match result {
        Ok(s) => StageReport {
            summary: r(s.summary),
            details: s.details.into_iter().map(r).collect(),
            checks: s.checks,
            results: scrub(s.results),
            ..base
        },
        Err(f) => {
            failed.get_or_insert(f.exit_code);
            StageReport {
                status: StageStatus::Failed,
                summary: r(f.summary),
                details: f.details.into_iter().map(r).collect(),
                checks: f.checks,
                results: scrub(f.results),
                error: Some(StageError {
                    message: r(f.message),
                    help: f.help.map(r),
                    output: f.output.map(r),
                }),
                ..base
            }
        }
    }
}

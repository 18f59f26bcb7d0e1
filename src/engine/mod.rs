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
    pub(crate) run_lock: Option<crate::apply_lock::ApplyLock>,
    pub deleted: bool,
    /// What the migrate stage recorded for the checks.
    pub observations: crate::checks::Observations,
    /// The checks the config enables, built once per run: the `migrate` stage calls their
    /// recording hooks, the `checks` stage evaluates them (see [`crate::checks::Check`]).
    pub checks: Vec<Box<dyn crate::checks::Check>>,
    /// Timeouts handed to the tool (set by `apply`).
    pub tool_timeouts: Option<(Duration, Duration)>,
    /// `client_connection_check_interval` for the tool's sessions (apply, PostgreSQL 14+).
    pub tool_connection_check: Option<Duration>,
    /// The restore point `apply` created.
    pub restore_point: Option<String>,
    /// The tool's run on the main Neon database branch, while it runs (for an interrupt).
    pub apply_in_flight: Option<stages::ApplyInFlight>,
}

/// What a stage shows in the report, passed or failed: one line, the lines under it, and
/// (the `checks` stage) the checks' results.
#[derive(Debug, Default)]
pub struct StageOutput {
    pub summary: String,
    pub details: Vec<String>,
    /// The declared SQL assertions (`[[checks.sql]]`), one by one.
    pub checks: Vec<crate::checks::sql::Assertion>,
    pub results: Vec<crate::checks::CheckResult>,
}

impl StageOutput {
    /// Only a summary line.
    pub fn new(summary: impl Into<String>) -> Self {
        StageOutput {
            summary: summary.into(),
            ..Default::default()
        }
    }
}

/// Why a stage failed, and which exit code that means.
#[derive(Debug)]
pub struct StageFailure {
    pub message: String,
    pub help: Option<String>,
    pub output: Option<String>,
    pub exit_code: i32,
    /// What the report shows for the stage (its summary reads "failed" unless set).
    pub shown: StageOutput,
}

impl StageFailure {
    pub fn new(exit_code: i32, message: impl Into<String>) -> Self {
        StageFailure {
            message: message.into(),
            help: None,
            output: None,
            exit_code,
            shown: StageOutput::new("failed"),
        }
    }
    pub fn help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

pub type StageResult = Result<StageOutput, StageFailure>;

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
        timestamp: crate::time::rfc3339(Utc::now()),
        db_branch: None,
        env: crate::template::Env::Process,
        secrets: Redactor::new(),
    }
}

/// Why the test Neon database branch cannot be named.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum NameError {
    /// The name template does not render.
    #[error("{0}")]
    #[diagnostic(code(neon_migrate::name::template))]
    Template(String),
    /// The rendered name would carry a password.
    #[error("the test Neon database branch name would contain a password: the template `{template}` takes a connection URL; use a variable without credentials")]
    #[diagnostic(code(neon_migrate::name::password))]
    Password { template: String },
    /// Nothing is left once the name is sanitized.
    #[error("the test Neon database branch name `{name}` is empty once sanitized (template `{template}`)")]
    #[diagnostic(code(neon_migrate::name::empty))]
    Empty { name: String, template: String },
}

impl NameError {
    /// A name that cannot be made is a configuration problem.
    pub fn exit_code(&self) -> i32 {
        exit::CONFIG
    }
}

/// The test Neon database branch name for this run: the template rendered, then sanitized.
pub fn db_branch_name(config: &Config, vars: &Vars) -> Result<String, NameError> {
    let template = &config.db_branch.name_template;
    let raw = template::render(template, vars).map_err(|e| NameError::Template(e.to_string()))?;
    // The name is printed everywhere and stored on the server: a value that carries a password
    // (a connection URL from `{{env.X}}`) must not become part of it.
    if crate::secret::mask_url_passwords(&raw) != raw {
        return Err(NameError::Password {
            template: template.clone(),
        });
    }
    let name = crate::naming::db_branch_name(&raw, crate::naming::MAX_LEN);
    // An empty name is sanitized to "unnamed": a run must not share such a name with others.
    if name.starts_with("unnamed") && !raw.to_ascii_lowercase().contains("unnamed") {
        return Err(NameError::Empty {
            name: vars.secrets.redact(&raw),
            template: template.clone(),
        });
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
    cancel: watch::Receiver<bool>,
) -> Result<Report, RunFailed> {
    let started = Instant::now();
    let mut vars = base_vars(git, &pipeline.name);
    // Secret values the templates take are masked by this run's redactor.
    vars.secrets = redactor.clone();
    let mut report = new_report(config, git, provider, pipeline, &redactor);
    let name = match db_branch_name(config, &vars) {
        Ok(n) => n,
        Err(e) => {
            report.outcome = Outcome::Failed;
            report.exit_code = e.exit_code();
            report.stages.push(StageReport {
                error: Some(StageError {
                    message: e.to_string(),
                    help: None,
                    output: None,
                }),
                ..StageReport::new(
                    "name-neon-database-branch",
                    "setup",
                    StageStatus::Failed,
                    "cannot name the test Neon database branch",
                )
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
        checks: crate::checks::enabled(config),
        tool_timeouts: None,
        tool_connection_check: None,
        restore_point: None,
        apply_in_flight: None,
    };
    let (failed, interrupted) = run_stages(&mut ctx, &mut report, events, cancel).await;

    // The next run of this test Neon database branch name may go now: it copies main as this
    // run left it.
    if let Some(lock) = ctx.run_lock.take() {
        lock.release().await;
    }
    if let Some(b) = &ctx.db_branch {
        report.neon_database_branch.created = true;
        report.neon_database_branch.id = Some(b.id.clone());
        report.neon_database_branch.parent = Some(b.parent.clone());
        report.neon_database_branch.expires_at = b.expires_at.map(crate::time::rfc3339);
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

/// The report of a run that has not started a stage yet.
fn new_report(
    config: &Config,
    git: &GitInfo,
    provider: &dyn Provider,
    pipeline: &Pipeline,
    redactor: &Redactor,
) -> Report {
    Report {
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
    }
}

/// Runs the pipeline's stages in order into `report`; returns the exit code of the first
/// failure and whether the run was interrupted.
async fn run_stages(
    ctx: &mut RunContext<'_>,
    report: &mut Report,
    events: &dyn EventSink,
    mut cancel: watch::Receiver<bool>,
) -> (Option<i32>, bool) {
    let mut failed: Option<i32> = None;
    let mut interrupted = *cancel.borrow();
    let pipeline = ctx.pipeline;
    for stage in &pipeline.stages {
        if (failed.is_some() || interrupted) && !stage.always {
            let why = if interrupted {
                "interrupted"
            } else {
                "skipped: an earlier stage failed"
            };
            let r = StageReport::new(&stage.name, stage.kind.as_str(), StageStatus::Skipped, why);
            events.stage_finished(&r);
            report.stages.push(r);
            continue;
        }
        events.stage_started(stage);
        let t = Instant::now();
        let result = if stage.always || interrupted {
            // Cleanup is not raced against the interrupt: it must finish.
            stages::run(ctx, stage).await
        } else {
            let fut = stages::run(ctx, stage);
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
                Err(stages::apply_interrupted(ctx, flight, f).await)
            }
            (r, _) => r,
        };
        let r = stage_report(stage, result, t.elapsed(), &ctx.redactor, &mut failed);
        events.stage_finished(&r);
        report.stages.push(r);
        if !interrupted && *cancel.borrow() {
            interrupted = true;
        }
    }
    (failed, interrupted)
}

fn stage_report(
    stage: &Stage,
    result: StageResult,
    took: Duration,
    redactor: &Redactor,
    failed: &mut Option<i32>,
) -> StageReport {
    let r = |s: String| redactor.redact(&s);
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
    let (status, shown, error) = match result {
        Ok(s) => (StageStatus::Passed, s, None),
        Err(f) => {
            failed.get_or_insert(f.exit_code);
            let error = StageError {
                message: r(f.message),
                help: f.help.map(r),
                output: f.output.map(r),
            };
            (StageStatus::Failed, f.shown, Some(error))
        }
    };
    StageReport {
        duration_ms: took.as_millis() as u64,
        details: shown.details.into_iter().map(r).collect(),
        checks: shown.checks,
        results: scrub(shown.results),
        error,
        ..StageReport::new(&stage.name, stage.kind.as_str(), status, r(shown.summary))
    }
}

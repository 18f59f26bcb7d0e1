//! The report tree of a run, and its renderings (human text, JSON).
//!
//! The engine builds a [`Report`] and never prints; the CLI renders it. The JSON form is
//! versioned (`schema_version`) because CI scripts read it. Every string in it has been
//! through the redactor.

use serde::Serialize;

use crate::exit;

/// Version of the JSON report's shape. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub pipeline: String,
    pub git: GitSection,
    pub neon_database_branch: DbBranchSection,
    pub provider: String,
    pub tool: String,
    /// Expired test Neon database branches deleted before this run.
    pub reaped: Vec<String>,
    pub stages: Vec<StageReport>,
    /// The restore point created before applying, if any (`neon-migrate rollback` uses it).
    pub restore_point: Option<String>,
    pub outcome: Outcome,
    pub exit_code: i32,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GitSection {
    pub branch: String,
    pub sha: String,
    pub detached: bool,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct DbBranchSection {
    /// The test Neon database branch name.
    pub name: String,
    /// Provider id, once created.
    pub id: Option<String>,
    /// The parent (main) Neon database branch.
    pub parent: Option<String>,
    /// RFC 3339 UTC.
    pub expires_at: Option<String>,
    pub created: bool,
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    Failed,
    Interrupted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageStatus {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub name: String,
    pub kind: String,
    pub status: StageStatus,
    pub duration_ms: u64,
    /// One line: what the stage did, or why it was skipped.
    pub summary: String,
    /// Further lines worth showing.
    pub details: Vec<String>,
    /// SQL check results (checks stage only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::checks::sql::Assertion>,
    /// Results of the schema, lint, locks, data and reversible checks (checks stage only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<crate::checks::CheckResult>,
    pub error: Option<StageError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageError {
    pub message: String,
    pub help: Option<String>,
    /// Output of the child tool, redacted.
    pub output: Option<String>,
}

impl StageReport {
    /// A stage's report with its status and summary line; nothing else yet.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        status: StageStatus,
        summary: impl Into<String>,
    ) -> Self {
        StageReport {
            name: name.into(),
            kind: kind.into(),
            status,
            duration_ms: 0,
            summary: summary.into(),
            details: Vec::new(),
            checks: Vec::new(),
            results: Vec::new(),
            error: None,
        }
    }
}

impl Report {
    pub fn failed_stage(&self) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.status == StageStatus::Failed)
    }
}

pub(crate) fn ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

pub(crate) fn exit_name(code: i32) -> &'static str {
    exit::TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, n, _)| *n)
        .unwrap_or("?")
}

/// The header printed when a run starts.
pub fn render_header(r: &Report) -> String {
    let mut out = format!("neon-migrate · pipeline `{}`\n", r.pipeline);
    let detached = if r.git.detached {
        "  (detached HEAD: using the short sha as the git branch name)"
    } else {
        ""
    };
    out.push_str(&format!(
        "  git branch            {} @ {}{detached}\n",
        r.git.branch,
        &r.git.sha[..7.min(r.git.sha.len())]
    ));
    out.push_str(&format!(
        "  Neon database branch  {}\n",
        r.neon_database_branch.name
    ));
    out.push_str(&format!("  tool                  {}\n", r.tool));
    out.push_str(&format!("  provider              {}\n", r.provider));
    for name in &r.reaped {
        out.push_str(&format!(
            "  reaped expired test Neon database branch {name}\n"
        ));
    }
    out
}

/// Longest list of details printed for one stage or check; the rest is counted.
const MAX_LINES: usize = 20;

/// One stage as printed when it finishes.
pub fn render_stage(s: &StageReport) -> String {
    let mark = match s.status {
        StageStatus::Passed => "✓",
        StageStatus::Failed => "✗",
        StageStatus::Skipped => "-",
    };
    let time = if s.status == StageStatus::Skipped {
        String::new()
    } else {
        ms(s.duration_ms)
    };
    let mut out = format!("  {mark} {:<30} {:>8}   {}\n", s.name, time, s.summary);
    for c in &s.checks {
        let m = if c.passed { "✓" } else { "✗" };
        out.push_str(&format!("      {m} {}", c.name));
        if c.passed {
            out.push('\n');
        } else {
            out.push_str(&format!(
                ": expected {}, got {}\n          query: {}\n",
                c.expected,
                c.got,
                c.query.trim()
            ));
        }
    }
    for d in s.details.iter().take(MAX_LINES) {
        out.push_str(&format!("      {d}\n"));
    }
    if s.details.len() > MAX_LINES {
        out.push_str(&format!(
            "      … and {} more (all of them in --json)\n",
            s.details.len() - MAX_LINES
        ));
    }
    for c in &s.results {
        let m = match c.status {
            crate::checks::CheckStatus::Passed => "✓",
            crate::checks::CheckStatus::Failed => "✗",
            crate::checks::CheckStatus::Skipped => "-",
            crate::checks::CheckStatus::NotRun => "!",
        };
        out.push_str(&format!("      {m} {}: {}\n", c.name, c.summary));
        // The assertions are listed one by one above.
        // Info findings (hazards the observations refuted, such as a first deploy's history
        // on tables it created) are capped; errors and warnings are all shown.
        let infos = c
            .findings
            .iter()
            .filter(|f| f.severity == crate::checks::Severity::Info)
            .count();
        let mut info_shown = 0;
        for f in c.findings.iter().filter(|_| c.name != "sql") {
            if f.severity == crate::checks::Severity::Info {
                info_shown += 1;
                if info_shown > MAX_LINES {
                    continue;
                }
            }
            let sev = match f.severity {
                crate::checks::Severity::Error => "error",
                crate::checks::Severity::Warning => "warning",
                crate::checks::Severity::Info => "info",
            };
            let at = f
                .location
                .as_deref()
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default();
            out.push_str(&format!("          {sev}: {}{at}\n", f.what));
            out.push_str(&format!("            why: {}\n", f.why));
            if let Some(fix) = &f.fix {
                out.push_str(&format!("            fix: {fix}\n"));
            }
        }
        if infos > MAX_LINES && c.name != "sql" {
            out.push_str(&format!(
                "          … and {} more info finding(s) (all of them in --json)\n",
                infos - MAX_LINES
            ));
        }
        for d in c.details.iter().take(MAX_LINES) {
            // Multi-line details (a CREATE TABLE) keep their shape under the bullet.
            for (i, line) in d.lines().enumerate() {
                let lead = if i == 0 { "· " } else { "  " };
                out.push_str(&format!("          {lead}{line}\n"));
            }
        }
        if c.details.len() > MAX_LINES {
            out.push_str(&format!(
                "          … and {} more (all of them in --json)\n",
                c.details.len() - MAX_LINES
            ));
        }
    }
    if let Some(e) = &s.error {
        for line in e.message.lines() {
            out.push_str(&format!("      error: {line}\n"));
        }
        if let Some(h) = &e.help {
            out.push_str(&format!("      help: {h}\n"));
        }
        if let Some(o) = &e.output {
            out.push_str("      output:\n");
            for line in crate::runner::fence(o).lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

/// The closing line.
pub fn render_footer(r: &Report) -> String {
    let word = match r.outcome {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
        Outcome::Interrupted => "INTERRUPTED",
    };
    let mut out = format!(
        "\n{word} in {} (exit {}: {})\n",
        ms(r.duration_ms),
        r.exit_code,
        exit_name(r.exit_code)
    );
    let b = &r.neon_database_branch;
    if b.created {
        if b.deleted {
            out.push_str(&format!(
                "The test Neon database branch {} was deleted.\n",
                b.name
            ));
        } else {
            out.push_str(&format!(
                "The test Neon database branch {} was NOT deleted; it expires at {} (or run `neon-migrate gc`).\n",
                b.name,
                b.expires_at.as_deref().unwrap_or("?")
            ));
        }
    }
    out
}

/// The whole report as text.
pub fn render_human(r: &Report) -> String {
    let mut out = render_header(r);
    out.push('\n');
    for s in &r.stages {
        out.push_str(&render_stage(s));
    }
    out.push_str(&render_footer(r));
    no_workflow_commands(&crate::secret::mask_url_passwords(&out))
}

/// `text` with no line a GitHub Actions runner reads as a workflow command: the runner takes
/// any stdout line that starts with `::` once leading whitespace is trimmed (`::add-mask::`,
/// `::error …::`), and the report prints names, messages and SQL that a migration chose (a
/// table named `"y\n::error title=forged::…"`). Such a line gets a space between its colons;
/// the run's own annotations are printed apart from the report.
pub fn no_workflow_commands(text: &str) -> String {
    if !text.lines().any(|l| l.trim_start().starts_with("::")) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        if let Some(rest) = body.strip_prefix("::") {
            out.push_str(&line[..line.len() - body.len()]);
            out.push_str(": :");
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The report of a run that could not start (the config is invalid, no git repository, an
/// unknown pipeline, a provider that cannot be opened): one failed `setup` stage named
/// `stage` whose error says why, `details` listing every problem. `--json` prints it, so a
/// CI script always gets a report to read.
pub fn setup_failure(
    pipeline: &str,
    git: Option<&crate::git::GitInfo>,
    stage: &str,
    exit_code: i32,
    message: String,
    help: Option<String>,
    details: Vec<String>,
) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        pipeline: pipeline.to_owned(),
        git: GitSection {
            branch: git.map(|g| g.branch.clone()).unwrap_or_default(),
            sha: git.map(|g| g.sha.clone()).unwrap_or_default(),
            detached: git.is_some_and(|g| g.detached),
        },
        neon_database_branch: DbBranchSection::default(),
        provider: String::new(),
        tool: String::new(),
        reaped: Vec::new(),
        stages: vec![StageReport {
            details,
            error: Some(StageError {
                message: message.clone(),
                help,
                output: None,
            }),
            ..StageReport::new(
                stage,
                "setup",
                StageStatus::Failed,
                message.lines().next().unwrap_or_default(),
            )
        }],
        restore_point: None,
        outcome: Outcome::Failed,
        exit_code,
        duration_ms: 0,
    }
}

/// The whole report as pretty JSON.
pub fn render_json(r: &Report) -> String {
    // Values a user typed (a pipeline name, a path) may hold a URL with a password: the
    // report's text never shows one, whatever field it came through.
    crate::secret::mask_url_passwords(&serde_json::to_string_pretty(r).expect("report serializes"))
}

/// `a, b, c` — or, past `max` items, the first `max` and "… and N more": a first deploy of
/// hundreds of migrations must not print hundreds of lines.
pub fn collapse<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let mut out = shown.join(", ");
    if items.len() > max {
        out.push_str(&format!(" … and {} more", items.len() - max));
    }
    out
}

#[cfg(test)]
mod collapse_tests {
    use super::*;

    #[test]
    fn long_details_are_counted_not_printed() {
        let s = StageReport {
            name: "checks".into(),
            kind: "checks".into(),
            status: StageStatus::Passed,
            duration_ms: 1,
            summary: "ok".into(),
            details: (0..100).map(|i| format!("line {i}")).collect(),
            checks: Vec::new(),
            results: Vec::new(),
            error: None,
        };
        let text = render_stage(&s);
        assert!(
            text.contains("line 19\n") && !text.contains("line 20\n"),
            "{text}"
        );
        assert!(
            text.contains("… and 80 more (all of them in --json)"),
            "{text}"
        );
        assert_eq!(collapse(&["a", "b", "c"], 2), "a, b … and 1 more");
    }
}

#[cfg(test)]
mod workflow_command_tests {
    use super::no_workflow_commands;

    /// A table named `"y\n::add-mask::secret\n::error title=forged::…"` printed by the
    /// report (a lint message, the schema diff) opened no workflow command: the runner reads a
    /// line that starts with `::` after its leading whitespace.
    #[test]
    fn no_report_line_is_a_workflow_command() {
        let report = "  error: `y\n::add-mask::secret\n   ::error title=forged::ok\n` is too long\n  · a::b\n";
        let safe = no_workflow_commands(report);
        assert_eq!(
            safe,
            "  error: `y\n: :add-mask::secret\n   : :error title=forged::ok\n` is too long\n  · a::b\n"
        );
        assert!(safe.lines().all(|l| !l.trim_start().starts_with("::")));
        assert_eq!(no_workflow_commands("plain\n"), "plain\n");
    }
}

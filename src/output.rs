//! Where a report meets a terminal or a CI system: live progress (a spinner with the elapsed
//! time on a TTY, plain lines otherwise), colour (never with `NO_COLOR`), the Markdown
//! summary (`--summary-md`, `$GITHUB_STEP_SUMMARY`) and GitHub Actions annotations.
//!
//! What to produce is decided once, from the flags and the environment, in [`Outputs`]; the
//! renderings are pure functions of the [`Report`], so snapshot tests pin them down.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::checks::{CheckStatus, Severity};
use crate::config::Stage;
use crate::engine::EventSink;
use crate::report::{self, Outcome, Report, StageReport, StageStatus};

/// How the terminal gets the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// A spinner with the elapsed time while a stage runs.
    pub progress: bool,
}

/// Everything a run produces besides its exit code.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The report as JSON on stdout instead of the human text.
    pub json: bool,
    /// `--summary-md FILE`: the Markdown report, written.
    pub summary_md: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`: the Markdown report, appended.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_ACTIONS=true`: findings as workflow-command annotations.
    pub annotations: bool,
    pub style: Style,
    /// The git work tree root: annotation paths are relative to it.
    pub git_root: Option<PathBuf>,
}

impl Outputs {
    /// The outputs the flags ask for, plus what the environment implies.
    pub fn from_env(json: bool, summary_md: Option<PathBuf>, git_root: Option<&Path>) -> Self {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let tty = std::io::stdout().is_terminal() && var("TERM").is_none_or(|t| t != "dumb");
        Outputs {
            json,
            summary_md,
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            annotations: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            style: Style {
                color: tty && var("NO_COLOR").is_none(),
                progress: tty && !json,
            },
            git_root: git_root.map(Path::to_owned),
        }
    }
}

/// Prints `text` on stdout, ignoring a reader that has gone (`neon-migrate run … | head`): a run
/// still finishes and cleans up, and its verdict is the exit code.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

// ---------------------------------------------------------------------------------------
// Colour

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD_GREEN: &str = "\x1b[1;32m";
const BOLD_RED: &str = "\x1b[1;31m";
const RESET: &str = "\x1b[0m";

/// Colours the human report's marks and verdicts (the text itself is unchanged).
pub fn colorize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let painted = [
            ("✓ ", GREEN),
            ("✗ ", RED),
            ("- ", DIM),
            ("error:", RED),
            ("warning:", YELLOW),
            ("PASSED", BOLD_GREEN),
            ("FAILED", BOLD_RED),
            ("INTERRUPTED", BOLD_RED),
        ]
        .iter()
        .find_map(|(mark, color)| {
            let word = mark.trim_end();
            body.starts_with(mark)
                .then(|| format!("{indent}{color}{word}{RESET}{}", &body[word.len()..]))
        });
        out.push_str(painted.as_deref().unwrap_or(line));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Live progress

/// The event sink of a human run: the header, then each stage as it finishes; on a TTY a
/// spinner with the elapsed time replaces itself with the stage's line.
pub struct Live {
    style: Style,
    spinner: Mutex<Option<Spinner>>,
}

impl Live {
    pub fn new(style: Style) -> Self {
        Live {
            style,
            spinner: Mutex::new(None),
        }
    }

    fn print(&self, text: &str) {
        // As in the JSON report: no URL password or `password=` value reaches the terminal,
        // whatever it came through (a migration statement quoted in a finding, a query).
        let text = &crate::secret::mask_url_passwords(text);
        let mut out = std::io::stdout().lock();
        if self.style.color {
            let _ = out.write_all(colorize(text).as_bytes());
        } else {
            let _ = out.write_all(text.as_bytes());
        }
        let _ = out.flush();
    }

    fn stop_spinner(&self) {
        let spinner = self.spinner.lock().map(|mut s| s.take()).unwrap_or(None);
        if let Some(s) = spinner {
            s.stop();
        }
    }
}

impl EventSink for Live {
    fn run_started(&self, r: &Report) {
        self.print(&format!("{}\n", report::render_header(r)));
    }
    fn stage_started(&self, stage: &Stage) {
        if self.style.progress {
            self.stop_spinner();
            if let Ok(mut s) = self.spinner.lock() {
                *s = Some(Spinner::start(stage.name.clone()));
            }
        }
    }
    fn stage_finished(&self, s: &StageReport) {
        self.stop_spinner();
        self.print(&report::render_stage(s));
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}

/// Stages shorter than this never show a spinner (it would only flicker).
const SPINNER_AFTER: Duration = Duration::from_millis(300);
const FRAMES: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

struct Spinner {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Spinner {
    fn start(name: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut drawn = false;
            let mut frame = 0;
            loop {
                std::thread::park_timeout(Duration::from_millis(100));
                if flag.load(Ordering::Acquire) {
                    break;
                }
                if started.elapsed() < SPINNER_AFTER {
                    continue;
                }
                let line = format!(
                    "\r\x1b[2K  {} {:<30} {:>8}",
                    FRAMES[frame % FRAMES.len()],
                    name,
                    format!("{:.1} s", started.elapsed().as_secs_f64())
                );
                frame += 1;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(line.as_bytes());
                let _ = out.flush();
                drawn = true;
            }
            if drawn {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(b"\r\x1b[2K");
                let _ = out.flush();
            }
        });
        Spinner { stop, thread }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

// ---------------------------------------------------------------------------------------
// Markdown

fn status_icon(s: StageStatus) -> &'static str {
    match s {
        StageStatus::Passed => "✅",
        StageStatus::Failed => "❌",
        StageStatus::Skipped => "⏭️",
    }
}

fn check_icon(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Passed => "✅",
        CheckStatus::Failed => "❌",
        CheckStatus::Skipped => "⏭️",
        CheckStatus::NotRun => "⚠️",
    }
}

fn severity(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Error => ("❌", "error"),
        Severity::Warning => ("⚠️", "warning"),
        Severity::Info => ("ℹ️", "info"),
    }
}

/// `s` as a Markdown code span, whatever backticks it holds: fenced by a run of backticks
/// longer than any inside.
pub(crate) fn code(s: &str) -> String {
    // A line break (a blank line ends the list item) stays out, as in `cell`.
    let s = &s.replace(['\r', '\n'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{s}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {s} {fence}")
}

/// Untrusted text (a finding's message, which quotes names a migration chose) as inline
/// Markdown that renders as written: line breaks become spaces (no heading, list or block of
/// its own) and every Markdown-active character is backslash-escaped (no link, image, HTML,
/// emphasis or code span).
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            // Line-start markers (`-`, `+`, `1.`, `>`) cannot start a line here.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text fit for one table cell.
pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A fenced block whose fence is longer than any backtick run inside.
fn fenced(lang: &str, body: &str) -> String {
    let mut fence = "```".to_owned();
    while body.contains(&fence) {
        fence.push('`');
    }
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end())
}

/// The report as Markdown, fit for `$GITHUB_STEP_SUMMARY` or a pull-request comment.
pub fn render_markdown(r: &Report) -> String {
    let mut md = String::new();
    md_summary(&mut md, r);
    md_stages(&mut md, r);
    md_checks(&mut md, r);
    md_findings(&mut md, r);
    // The workload rehearsal's table and charts, from the report it carries.
    if let Some(report) = r
        .stages
        .iter()
        .flat_map(|s| &s.results)
        .find(|c| c.name == crate::checks::workload::NAME)
        .and_then(|c| c.data.clone())
        .and_then(|d| serde_json::from_value(d).ok())
    {
        md.push_str(&crate::checks::workload::render::markdown(&report));
    }
    let mut results = r.stages.iter().flat_map(|s| &s.results);
    if let Some(schema) = results.find(|c| c.name == "schema") {
        let _ = writeln!(md, "\n### Schema diff\n");
        if schema.details.is_empty() {
            let _ = writeln!(md, "{}", schema.summary);
        } else {
            md.push_str(&fenced("sql", &schema.details.join("\n")));
        }
    }
    md_error(&mut md, r);
    // As in the JSON report: no URL password or `password=` value, whatever field it is in.
    crate::secret::mask_url_passwords(&md)
}

/// The verdict and the table of facts: git branch, test Neon database branch, tool, result.
fn md_summary(md: &mut String, r: &Report) {
    let verdict = match (r.outcome, r.failed_stage()) {
        (Outcome::Passed, _) => "✅ passed".to_owned(),
        (Outcome::Failed, Some(s)) => format!("❌ failed at {}", code(&s.name)),
        (Outcome::Failed, None) => "❌ failed".to_owned(),
        (Outcome::Interrupted, _) => "⛔ interrupted".to_owned(),
    };
    let _ = writeln!(md, "## neon-migrate {}: {verdict}\n", code(&r.pipeline));

    let b = &r.neon_database_branch;
    let fate = match (b.created, b.deleted) {
        (false, _) => " (not created)".to_owned(),
        (true, true) => " (deleted)".to_owned(),
        (true, false) => format!(
            " (**not deleted**; expires {})",
            b.expires_at.as_deref().unwrap_or("?")
        ),
    };
    let detached = if r.git.detached {
        " (detached HEAD)"
    } else {
        ""
    };
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| git branch | {} @ {}{detached} |",
        code(&r.git.branch),
        code(&r.git.sha[..r.git.sha.len().min(7)])
    );
    let _ = writeln!(
        md,
        "| test Neon database branch | {}{fate} |",
        code(&cell(&b.name))
    );
    if let Some(parent) = &b.parent {
        let _ = writeln!(
            md,
            "| parent Neon database branch | {} |",
            code(&cell(parent))
        );
    }
    let _ = writeln!(md, "| tool | {} |", code(&r.tool));
    let _ = writeln!(md, "| provider | {} |", code(&cell(&r.provider)));
    let _ = writeln!(
        md,
        "| result | exit {} ({}) in {} |",
        r.exit_code,
        report::exit_name(r.exit_code),
        report::ms(r.duration_ms)
    );
}

fn md_stages(md: &mut String, r: &Report) {
    let _ = writeln!(
        md,
        "\n### Stages\n\n| | stage | duration | summary |\n|---|---|--:|---|"
    );
    for s in &r.stages {
        let took = if s.status == StageStatus::Skipped {
            "—".to_owned()
        } else {
            report::ms(s.duration_ms)
        };
        let _ = writeln!(
            md,
            "| {} | {} | {took} | {} |",
            status_icon(s.status),
            code(&s.name),
            cell(&s.summary)
        );
    }
}

fn md_checks(md: &mut String, r: &Report) {
    let sql: Vec<_> = r.stages.iter().flat_map(|s| &s.checks).collect();
    let results: Vec<_> = r.stages.iter().flat_map(|s| &s.results).collect();
    if sql.is_empty() && results.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n### Checks\n\n| | check | summary |\n|---|---|---|");
    for c in &results {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            check_icon(c.status),
            code(&c.name),
            cell(&c.summary)
        );
    }
    for c in &sql {
        let (icon, what) = if c.passed {
            ("✅", "passed".to_owned())
        } else {
            (
                "❌",
                format!("expected {}, got {}", cell(&c.expected), cell(&c.got)),
            )
        };
        let _ = writeln!(md, "| {icon} | SQL check {} | {what} |", code(&c.name));
    }
}

fn md_findings(md: &mut String, r: &Report) {
    // The `sql` check's findings are its assertions, listed above.
    let findings: Vec<_> = r
        .stages
        .iter()
        .flat_map(|s| &s.results)
        .filter(|c| c.name != "sql")
        .flat_map(|c| &c.findings)
        .collect();
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n### Findings\n");
    for f in findings {
        let (icon, word) = severity(f.severity);
        let at = f
            .location
            .as_deref()
            .map(|l| format!(" at {}", code(l)))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "- {icon} **{word}** ({}){at}: {}  \n  why: {}",
            code(&f.check),
            text(f.what.trim()),
            text(f.why.trim())
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(md, "  fix: {}", text(fix.trim()));
        }
    }
}

fn md_error(md: &mut String, r: &Report) {
    let Some(s) = r.failed_stage() else {
        return;
    };
    let Some(e) = &s.error else {
        return;
    };
    let _ = writeln!(md, "\n### Error in {}\n", code(&s.name));
    md.push_str(&fenced("text", &e.message));
    if let Some(h) = &e.help {
        let _ = writeln!(md, "\nhelp: {}", h.trim());
    }
    if let Some(o) = e.output.as_deref().filter(|o| !o.trim().is_empty()) {
        let _ = writeln!(md, "\n<details><summary>output</summary>\n");
        md.push_str(&fenced("text", o));
        let _ = writeln!(md, "\n</details>");
    }
}

// ---------------------------------------------------------------------------------------
// GitHub Actions annotations

/// Escapes the message of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `file:line[:col]` of a finding's location, when it names a file `resolve` can place.
fn file_position(location: &str, resolve: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut parts = location.split(':');
    let file = parts.next()?;
    let line: u32 = parts.next()?.parse().ok()?;
    let col: Option<u32> = parts.next().and_then(|c| c.parse().ok());
    let path = resolve(file)?;
    let mut p = format!("file={},line={line}", escape_property(&path));
    if let Some(c) = col {
        let _ = write!(p, ",col={c}");
    }
    Some(p)
}

/// One workflow command per error or warning finding (`::error …::`), and one for a failed
/// stage that has no finding of its own. `resolve` maps a file name in a location to a path
/// relative to the repository root.
pub fn annotations(r: &Report, resolve: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for s in &r.stages {
        let mut annotated = false;
        for f in s.results.iter().flat_map(|c| &c.findings) {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => continue,
            };
            let mut props = Vec::new();
            let mut message = f.what.trim().to_owned();
            if let Some(l) = f.location.as_deref() {
                match file_position(l, resolve) {
                    Some(p) => props.push(p),
                    None => message = format!("{message} [{l}]"),
                }
            }
            props.push(format!(
                "title={}",
                escape_property(&format!("neon-migrate {}", f.check))
            ));
            let _ = write!(message, "\n{}", f.why.trim());
            if let Some(fix) = &f.fix {
                let _ = write!(message, "\nfix: {}", fix.trim());
            }
            out.push(format!(
                "::{level} {}::{}",
                props.join(","),
                escape_data(&message)
            ));
            annotated |= level == "error";
        }
        if let (StageStatus::Failed, Some(e), false) = (s.status, &s.error, annotated) {
            let mut message = e.message.trim().to_owned();
            if let Some(h) = &e.help {
                let _ = write!(message, "\nhelp: {}", h.trim());
            }
            out.push(format!(
                "::error title={}::{}",
                escape_property(&format!("neon-migrate: stage {} failed", s.name)),
                escape_data(&message)
            ));
        }
    }
    out
}

/// After a run: the Markdown files and the annotations. Failures to write are warnings: the
/// run's verdict is the exit code, not its summary.
pub fn finish(r: &Report, config: &crate::config::Config, outputs: &Outputs) {
    let wanted = outputs.summary_md.is_some() || outputs.step_summary.is_some();
    let md = if wanted {
        render_markdown(r)
    } else {
        String::new()
    };
    if let Some(path) = &outputs.summary_md {
        if let Err(e) = std::fs::write(path, &md) {
            eprintln!(
                "warning: cannot write the Markdown summary to {}: {e}",
                path.display()
            );
        }
    }
    if let Some(path) = &outputs.step_summary {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(format!("{md}\n").as_bytes()));
        if let Err(e) = appended {
            eprintln!(
                "warning: cannot append to $GITHUB_STEP_SUMMARY ({}): {e}",
                path.display()
            );
        }
    }
    if outputs.annotations {
        let root = outputs
            .git_root
            .clone()
            .unwrap_or_else(|| config.root.clone());
        // A command tool's files are named from its working folder (`drizzle/0044_x.sql` in
        // `apps/api`); the annotation names them from the repository root.
        let mut dirs: Vec<PathBuf> = vec![config.root.clone(), config.tool.working_dir.clone()];
        if let crate::config::ToolKind::Sql { migrations_dir } = &config.tool.kind {
            dirs.push(migrations_dir.clone());
        }
        let resolve = |file: &str| -> Option<String> {
            dirs.iter()
                .map(|d| d.join(file))
                .find(|p| p.is_file())
                .map(|p| relative_to(&p, &root))
        };
        // stdout carries the JSON with `--json`; the runner reads workflow commands from both.
        let lines = annotations(r, &resolve).join("\n");
        if !lines.is_empty() {
            if outputs.json {
                eprintln!("{lines}");
            } else {
                // A reader that has gone does not change the run's verdict.
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{lines}");
            }
        }
    }
}

fn relative_to(path: &Path, root: &Path) -> String {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    let (p, r) = (canon(path), canon(root));
    p.strip_prefix(&r)
        .map(|x| x.to_string_lossy().into_owned())
        .unwrap_or_else(|_| p.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_marks_only_the_marks() {
        let text = "  ✓ migrate    12 ms   applied 1\n      error: boom\nplain - line\n";
        let c = colorize(text);
        assert!(c.contains(&format!("  {GREEN}✓{RESET} migrate")), "{c:?}");
        assert!(
            c.contains(&format!("      {RED}error:{RESET} boom")),
            "{c:?}"
        );
        assert!(c.ends_with("plain - line\n"), "{c:?}");
        let stripped = c.replace(GREEN, "").replace(RED, "").replace(RESET, "");
        assert_eq!(stripped, text, "colour never changes the text");
    }

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let resolve = |f: &str| (f == "0002_x.sql").then(|| format!("db/{f}"));
        assert_eq!(
            file_position("0002_x.sql:3:7", &resolve).as_deref(),
            Some("file=db/0002_x.sql,line=3,col=7")
        );
        assert_eq!(file_position("public.orders", &resolve), None);
        assert_eq!(file_position("other.sql:3", &resolve), None);
    }

    #[test]
    fn markdown_fences_outgrow_the_text() {
        assert_eq!(fenced("text", "a ``` b"), "````text\na ``` b\n````\n");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("x`y"), "`` x`y ``");
        assert_eq!(code("a ``` b"), "```` a ``` b ````");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(cell(&code("rd` | x")), "`` rd` \\| x ``");
        assert_eq!(code("a\n\nb"), "`a  b`");
    }

    /// A name a migration chose, quoted by a finding, cannot add a heading, a link, an
    /// image or HTML to the summary: it renders as the text it is, on its one line.
    #[test]
    fn untrusted_text_renders_as_written() {
        let name = "`y\n\n## ✅ all checks passed — [details](https://evil.example/) ![x](y) <b>z</b> *e*\r\n`";
        let t = text(name);
        assert!(!t.contains('\n') && !t.contains('\r'), "{t}");
        assert_eq!(
            t,
            "\\`y  \\#\\# ✅ all checks passed — \\[details\\](https://evil.example/) \\!\\[x\\](y) \\<b\\>z\\</b\\> \\*e\\*  \\`"
        );
        assert_eq!(text("plain words, 1.5 - ok"), "plain words, 1.5 - ok");
    }
}

//! What a run shows people and CI: the human report, `--json`, the Markdown summary
//! (`--summary-md`, `$GITHUB_STEP_SUMMARY`), GitHub Actions annotations, and progress on a TTY.
//!
//! Snapshots (insta, in `snapshots/`) pin the human, JSON and Markdown output of a passing and
//! a failing run. Every snapshot goes through one redaction filter, [`redact`], which replaces
//! what differs between runs and machines: durations, ports, paths, shas, timestamps, the
//! PostgreSQL version and the test's database names.

use std::path::Path;
use std::process::Command;

use neon_migrate::exit;
use regex::Regex;
use serde_json::Value;

use crate::support::{Output, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        outputs_of_a_passing_run_match_the_human_json_and_markdown_snapshots,
        outputs_of_a_failing_run_match_the_human_json_and_markdown_snapshots,
        github_actions_gets_annotations_for_findings_and_the_markdown_step_summary,
        a_tty_shows_a_spinner_with_the_elapsed_time_and_no_color_drops_the_colors,
        the_readme_documents_every_key_of_the_json_report,
        the_readme_carries_the_example_github_actions_workflow,
        diff_prints_no_workflow_command_and_no_comment_line_from_an_object_name,
    ]
}

const ORDERS: &str =
    "create table orders (\n    id bigint primary key,\n    total numeric(10, 2) not null\n);\n";

/// A 32-bit column: the lint check warns (a finding with `file:line:col`).
const ITEMS: &str = "create table items (\n    id int primary key\n);\n";

const PASSING_CHECK: &str = r#"
[[checks.sql]]
name = "orders starts empty"
query = "select count(*) from orders"
expect-value = "0"
"#;

const FAILING_CHECK: &str = r#"
[[checks.sql]]
name = "orders is seeded"
query = "select count(*) from orders"
expect-value = "3"
"#;

/// The one redaction filter of every snapshot.
pub fn redact(text: &str, p: &Project) -> String {
    let mut s = text.to_owned();
    // Literal, machine- and run-specific names first.
    let canonical = p
        .path()
        .canonicalize()
        .unwrap_or_else(|_| p.path().to_owned());
    for (path, with) in [
        (canonical.display().to_string(), "[project]"),
        (p.path().display().to_string(), "[project]"),
        (
            crate::support::cluster().dir.display().to_string(),
            "[cluster]",
        ),
        (p.main_db().to_owned(), "[main-db]"),
    ] {
        s = s.replace(&path, with);
    }
    let rules: &[(&str, &str)] = &[
        // Timestamps before numbers, so their digits are not taken for durations.
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[timestamp]",
        ),
        (r"\b[0-9a-f]{40}\b", "[sha]"),
        (r"@ [0-9a-f]{7}\b", "@ [short-sha]"),
        (r"`[0-9a-f]{7}`", "`[short-sha]`"),
        (r"(127\.0\.0\.1|localhost):\d+", "$1:[port]"),
        (r"PostgreSQL \d+", "PostgreSQL [major]"),
        (r"/pg\d+\b", "/pg[major]"),
        // Durations: the padding before them varies with the number's width.
        (r" *\b\d+(\.\d+)? (ms|s)\b", " [duration]"),
        (r#""(duration_ms)": \d+"#, r#""$1": "[duration]""#),
        (r"\b\d+ samples every", "[n] samples every"),
        // The local provider's id of a test Neon database branch (its database name).
        (r#""id": "[^"]+""#, r#""id": "[id]""#),
    ];
    for (re, with) in rules {
        s = Regex::new(re)
            .expect("a valid redaction rule")
            .replace_all(&s, *with)
            .into_owned();
    }
    s
}

#[track_caller]
fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Runs `run pre-push` twice — human with `--summary-md`, then `--json` — and snapshots all
/// three outputs under `<name>_{human,json,markdown}`.
fn snapshot_run(p: &Project, name: &str, code: i32) -> Value {
    let md = p.path().join("summary.md");
    let md_arg = md.display().to_string();
    let human = p.run(&["run", "pre-push", "--summary-md", &md_arg]);
    human.code(code);
    assert!(
        !human.stdout.contains('\x1b'),
        "no escape codes without a TTY\n{human}"
    );
    let markdown = std::fs::read_to_string(&md).expect("the Markdown summary was written");
    let json = p.run(&["run", "pre-push", "--json"]);
    json.code(code);
    let value = json.json();
    snapshot(&format!("{name}_human"), &redact(&human.stdout, p));
    snapshot(&format!("{name}_markdown"), &redact(&markdown, p));
    snapshot(&format!("{name}_json"), &redact(&json.stdout, p));
    value
}

fn outputs_of_a_passing_run_match_the_human_json_and_markdown_snapshots() {
    let p = Project::new("outputs_pass")
        .config(PASSING_CHECK)
        .migration("0001_orders.sql", ORDERS)
        .commit();
    let v = snapshot_run(&p, "passing_run", exit::OK);
    assert_eq!(v["outcome"], "passed");
    assert_eq!(v["schema_version"], 1);
    p.assert_no_test_db_branches();
}

fn failing_project(name: &str) -> Project {
    Project::new(name)
        .config(FAILING_CHECK)
        .migration("0001_orders.sql", ORDERS)
        .migration("0002_items.sql", ITEMS)
        .commit()
}

fn outputs_of_a_failing_run_match_the_human_json_and_markdown_snapshots() {
    let p = failing_project("outputs_fail");
    let v = snapshot_run(&p, "failing_run", exit::CHECK_FAILED);
    assert_eq!(v["outcome"], "failed");
    p.assert_no_test_db_branches();
}

fn github_actions_gets_annotations_for_findings_and_the_markdown_step_summary() {
    let p = failing_project("outputs_gha");
    let summary = p.path().join("step-summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let md = p.path().join("summary.md");
    let mut c = p.command(&["run", "pre-push", "--summary-md", &md.display().to_string()]);
    c.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary);
    let out = crate::support::run_command(c, &["run", "pre-push", "--summary-md", "summary.md"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("::warning file=migrations/0002_items.sql,line=2,col=")
        .stdout_has(",title=neon-migrate lint::prefer-bigint-over-int")
        .stdout_has(
            "::error title=neon-migrate sql::`orders is seeded`: expected the value `3`, got `0`",
        )
        // The failed stage is covered by its error finding: no second annotation.
        .stdout_lacks("stage checks failed");
    let ours = std::fs::read_to_string(&md).unwrap();
    assert!(ours.contains("### Findings"), "{ours}");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("# earlier step\n{ours}\n"),
        "the step summary is appended, never replaced"
    );

    // With --json, stdout stays pure JSON and the annotations go to stderr.
    let mut c = p.command(&["run", "pre-push", "--json"]);
    c.env("GITHUB_ACTIONS", "true");
    let out = crate::support::run_command(c, &["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED)
        .stderr_has("::warning file=migrations/0002_items.sql");
    out.json();
    p.assert_no_test_db_branches();

    // A failed stage without findings gets one annotation of its own.
    let p = Project::new("outputs_gha_broken")
        .migration("0001_broken.sql", "create table broken (id bigint,);\n")
        .commit();
    let mut c = p.command(&["run", "pre-push"]);
    c.env("GITHUB_ACTIONS", "true");
    crate::support::run_command(c, &["run", "pre-push"])
        .code(exit::MIGRATION_FAILED)
        .stdout_has("::error title=neon-migrate%3A stage migrate failed::0001_broken.sql:1:");
    p.assert_no_test_db_branches();
}

/// Runs the binary under a pseudo-terminal (`script`), returning what the terminal got.
fn under_tty(p: &Project, args: &str, no_color: bool) -> Output {
    let inner = p.command(&[]);
    let mut script = Command::new("script");
    script
        .args([
            "-qefc",
            &format!("{} {args}", crate::support::BIN),
            "/dev/null",
        ])
        .current_dir(p.path());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script.env("TERM", "xterm").env_remove("NO_COLOR");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    crate::support::run_command(script, &[args])
}

fn a_tty_shows_a_spinner_with_the_elapsed_time_and_no_color_drops_the_colors() {
    if !Path::new("/usr/bin/script").exists() {
        panic!("`script` (util-linux) is needed to give the binary a terminal");
    }
    let p = Project::new("outputs_tty")
        .config(
            r#"
[stages.wait]
kind = "shell"
run = "sleep 1.2"

[pipelines.slow]
stages = ["create-neon-database-branch", "wait", "delete-neon-database-branch"]
"#,
        )
        .commit();
    let out = under_tty(&p, "run slow", false);
    out.code(exit::OK)
        // A spinner frame, the stage's name and the elapsed time, redrawn in place.
        .stdout_has("\r\x1b[2K  ")
        .stdout_has(" wait ")
        .stdout_has("\x1b[32m✓\x1b[0m wait")
        .stdout_has("\x1b[1;32mPASSED\x1b[0m");
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    assert!(
        out.stdout.chars().any(|c| frames.contains(&c)),
        "no spinner frame\n{out}"
    );
    assert!(
        Regex::new(r"wait +\d\.\d s").unwrap().is_match(&out.stdout),
        "no elapsed time next to the spinner\n{out}"
    );

    let out = under_tty(&p, "run slow", true);
    out.code(exit::OK).stdout_has("\r\x1b[2K  ");
    for color in ["\x1b[32m", "\x1b[1;32m", "\x1b[31m"] {
        assert!(
            !out.stdout.contains(color),
            "NO_COLOR: no colors\n{out:?}",
            out = out.stdout
        );
    }
    p.assert_no_test_db_branches();
}

/// Every key of a real report with findings, as `a.b.c` paths (array items add nothing).
fn keys(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                out.push(k.clone());
                keys(child, &format!("{prefix}{k}."), out);
            }
        }
        Value::Array(items) => {
            for i in items {
                keys(i, prefix, out);
            }
        }
        _ => {}
    }
}

fn readme_section(title: &str) -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find(title)
        .unwrap_or_else(|| panic!("README has no {title:?}"));
    let rest = &readme[start + title.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_owned()
}

fn the_readme_documents_every_key_of_the_json_report() {
    let p = failing_project("outputs_keys");
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED);
    let mut all = Vec::new();
    keys(&out.json(), "", &mut all);
    all.sort();
    all.dedup();
    let section = readme_section("## JSON report");
    let missing: Vec<&String> = all
        .iter()
        .filter(|k| !section.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README § JSON report does not document: {missing:?}"
    );
    p.assert_no_test_db_branches();
}

fn the_readme_carries_the_example_github_actions_workflow() {
    let workflow = include_str!("../../examples/github-actions/neon-migrate.yml");
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(workflow),
        "README must show examples/github-actions/neon-migrate.yml verbatim"
    );
    // Every neon-migrate command line it runs parses.
    for line in workflow.lines() {
        let Some(cmd) = line.trim().strip_prefix("run: neon-migrate ") else {
            continue;
        };
        let mut args: Vec<&str> = cmd.split_whitespace().collect();
        args.push("--help");
        let out = Command::new(crate::support::BIN)
            .args(&args)
            .output()
            .expect("run neon-migrate");
        assert!(
            out.status.success(),
            "`neon-migrate {cmd}` does not parse: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Names, comments and bodies of the desired schema are repository content: one holding
/// `"\n::error::…"` put a GitHub Actions workflow command at the start of a line of `diff`'s
/// output (a CI log), and one holding `"\n-- …"` a line that reads as a comment of the plan.
/// Written with Unicode escapes (`U&"a\000A::error::x"`), the plan still makes exactly those
/// names: applied, a second `diff` finds nothing.
fn diff_prints_no_workflow_command_and_no_comment_line_from_an_object_name() {
    let p = Project::new("diff_printable")
        .file(
            "target.sql",
            "create table victim (x int);\n\
             create table \"a\n::error::x\" (\"b\n-- DROP TABLE victim; --\" int default 1, \
               note text default 'v\n::warning::w');\n\
             comment on table \"a\n::error::x\" is 'c\n-- DROP TABLE victim;';\n\
             create function \"f\n::notice::n\"() returns int language sql as $$select 1\n::int$$;\n\
             create view \"v\n::group::g\" as select \"b\n-- DROP TABLE victim; --\" as \"c\n::debug::d\" from \"a\n::error::x\";\n",
        )
        .commit();
    p.main_sql("create table victim (x int)");
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.code(exit::OK).stdout_has("U&\"a\\000A::error::x\"");
    for line in out.stdout.lines() {
        let l = line.trim_start();
        assert!(!l.starts_with("::"), "a workflow command: {line:?}\n{out}");
        assert!(!l.starts_with("-- DROP"), "a comment line from a name: {line:?}\n{out}");
    }
    for format in ["markdown", "json"] {
        let out = p.run(&["diff", "--from", "main", "--to", "target.sql", "--format", format]);
        out.code(exit::OK);
        assert!(
            !out.stdout.lines().any(|l| l.trim_start().starts_with("::")),
            "{out}"
        );
    }
    p.main_sql(&out.stdout);
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK)
        .stdout_has("-- no schema changes");
}

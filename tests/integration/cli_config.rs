//! `neon-migrate check`: every problem of a config in one run, each pointing at its place.

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        check_reports_every_config_problem_at_once_with_place_and_suggestion,
    ]
}

const BROKEN: &str = r#"[neon-database-branch]
ttl = "4hours"

[provider]
main-databse = "it_never_created"

[pipelines.mine]
stages = ["create-neon-database-branch", "migrat", "delete-neon-database-branch"]
"#;

/// `line:col` (1-based) of the first occurrence of `needle` in `text`.
fn place(text: &str, needle: &str) -> String {
    let at = text.find(needle).expect("needle in text");
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    format!("{line}:{col}")
}

fn check_reports_every_config_problem_at_once_with_place_and_suggestion() {
    let p = Project::new("check_all").config_raw(BROKEN).commit();
    let out = p.run(&["check"]);
    out.code(exit::CONFIG)
        .stderr_has("neon-migrate.toml has 3 problems");
    let problems = [
        (
            "\"4hours\"",
            "malformed duration for `neon-database-branch.ttl`: unknown unit `hours`",
            "help: write a number with a unit: `500ms`, `90s`",
        ),
        (
            "main-databse",
            "unknown key `main-databse` in `[provider]`",
            "did you mean `main-database`?",
        ),
        (
            "\"migrat\"",
            "unknown stage `migrat` in pipeline `mine`",
            "did you mean `migrate`?",
        ),
    ];
    for (needle, message, suggestion) in problems {
        out.stderr_has(&format!("neon-migrate.toml:{}\n", place(BROKEN, needle)))
            .stderr_has(message)
            .stderr_has(suggestion);
    }
    assert!(out.stdout.is_empty(), "nothing is reported as ok\n{out}");

    // The same config stops `run` before anything touches a database.
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::CONFIG)
        .stderr_has("did you mean `main-database`?");
    let main = p.block_on(crate::support::database_exists("it_never_created"));
    assert!(!main, "a run with an invalid config created a database");
    p.assert_no_test_db_branches();
}

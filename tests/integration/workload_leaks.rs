//! The `workload` check against an outside attacker's leaks, through the binary:
//!
//! - a trigger raising SQLSTATE 22023 (not class P0) with a row's e-mail in its message and
//!   detail showed it in the terminal, the Markdown summary and the JSON report;
//! - a query `name` with a line break, a GitHub Actions workflow command and escape codes
//!   passed `check` and was printed raw.

use crate::support::Project;
use crate::workload::{accounts_project, workload_result};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        workload_leaks_a_trigger_s_error_with_row_values_shows_only_its_sqlstate,
        workload_leaks_a_query_name_with_control_characters_is_refused,
    ]
}

/// From an outside attacker: the migration adds a trigger that fails every replayed update
/// with `RAISE … USING ERRCODE = '22023'`, its message and detail built from a row. Only
/// class P0 messages were masked: the e-mail showed in every output. Now a request error is
/// its SQLSTATE and condition name, never the server's words.
fn workload_leaks_a_trigger_s_error_with_row_values_shows_only_its_sqlstate() {
    let config = r#"
[checks.workload]
enabled = true
baseline = "1s"
max-errors = 0

[[checks.workload.query]]
name = "touch account"
sql = "UPDATE accounts SET n = n WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "20/s"
"#;
    let migration = "CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$\n\
        BEGIN\n\
          RAISE EXCEPTION USING ERRCODE = '22023',\n\
            MESSAGE = 'account ' || NEW.id || ' belongs to ' || (SELECT email FROM owners WHERE id = NEW.id),\n\
            DETAIL = 'owner ' || (SELECT email FROM owners WHERE id = NEW.id);\n\
        END $$;\n\
        CREATE TRIGGER guard BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION guard();\n\
        SELECT pg_sleep(1);\n";
    let p = accounts_project(
        "workload_leak_trigger",
        config,
        ("0001_guard.sql", migration),
        100,
        "CREATE TABLE owners (id int PRIMARY KEY, email text); \
         INSERT INTO owners SELECT g, 'user' || g || '@secret-corp.example' FROM generate_series(1, 100) g;",
    );
    let md = p.path().join("summary.md");
    let md_arg = md.display().to_string();
    let human = p.run(&["run", "pre-push", "--summary-md", &md_arg]);
    human.code(neon_migrate::exit::CHECK_FAILED);
    let markdown = std::fs::read_to_string(&md).expect("the Markdown summary was written");
    let json = p.run(&["run", "pre-push", "--json"]);
    json.code(neon_migrate::exit::CHECK_FAILED);
    p.assert_no_test_db_branches();
    for (what, text) in [
        ("stdout", &human.stdout),
        ("stderr", &human.stderr),
        ("Markdown", &markdown),
        ("JSON stdout", &json.stdout),
        ("JSON stderr", &json.stderr),
    ] {
        assert!(
            !text.contains("secret-corp"),
            "a row value is shown in {what}:\n{text}"
        );
    }
    // What failed is still said: the SQLSTATE and its condition name.
    let w = workload_result(&json.json());
    assert_eq!(w["status"], "failed", "{w:#}");
    assert!(
        w.to_string().contains("22023 invalid_parameter_value"),
        "{w:#}"
    );
    assert!(human.stdout.contains("22023 invalid_parameter_value"), "{human}");
}

/// From an outside attacker: a query named with a line break, `::warning …` (a GitHub Actions
/// workflow command when it starts a line) and escape codes (clear the terminal) passed
/// `check` and was printed raw. It is refused where it is written.
fn workload_leaks_a_query_name_with_control_characters_is_refused() {
    let config = r#"
[checks.workload]
enabled = true

[[checks.workload.query]]
name = "rd\n::warning title=fake::all good\n✓ workload: passed\u001b[2J"
sql = "SELECT id FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 10"
rate = "10/s"
"#;
    let p = Project::new("workload_name_control")
        .config(config)
        .commit()
        .git_branch("feature/workload-name-control");
    let out = p.run(&["check"]);
    out.code(neon_migrate::exit::CONFIG);
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains('\x1b'), "an escape code is printed:\n{out}");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("::warning")),
            "a workflow command starts a line:\n{out}"
        );
    }
    assert!(out.stderr.contains("control character"), "{out}");
    // Where: the `name` line of the entry.
    assert!(out.stderr.contains("neon-migrate.toml:6:"), "{out}");
}

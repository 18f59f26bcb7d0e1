//! What `neon-migrate check` prints for a broken `neon-migrate.toml`, pinned as insta snapshots
//! (in `snapshots/`, named `config_diagnostics_<case>`): every message, label, help line,
//! did-you-mean and list of valid names, with the `file:line:col` of each problem.
//!
//! Each case writes one config exactly as given, runs `check`, asserts the config exit code and
//! an empty stdout, and snapshots stderr through the suite's one redaction filter
//! ([`crate::outputs::redact`]); one case also pins the `--json` report of `run`, whose
//! `details` carry the same problems as plain lines. A change in any wording, order or position
//! shows as a diff.

use neon_migrate::exit;

use crate::outputs::redact;
use crate::support::Project;
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        config_diagnostics_of_an_unknown_key_suggest_the_nearest_key,
        config_diagnostics_of_a_wrong_type_point_at_the_value,
        config_diagnostics_of_bad_durations_show_the_valid_forms,
        config_diagnostics_of_bad_enum_values_list_the_valid_names,
        config_diagnostics_of_stage_kinds_and_stage_names_list_the_valid_names,
        config_diagnostics_of_template_variables_name_the_valid_variables,
        config_diagnostics_of_several_problems_come_all_at_once_in_file_order,
        config_diagnostics_never_quote_a_secret_written_in_the_file,
        config_diagnostics_of_a_toml_syntax_error_point_at_it,
        config_diagnostics_of_a_provider_url_that_does_not_parse_say_why,
        config_diagnostics_of_the_workload_check_say_what_where_and_how,
        config_diagnostics_of_workload_settings_without_enabled_say_what_where_and_how,
    ]
}

/// Writes `toml` as the project's config, runs `check`, and snapshots its stderr as
/// `config_diagnostics_<case>`. Returns the project for more runs.
#[track_caller]
fn snapshot_check(case: &str, toml: &str) -> Project {
    let p = Project::new(&format!("diag_{case}"))
        .config_raw(toml)
        .commit();
    let out = p.run(&["check"]);
    out.code(exit::CONFIG);
    assert!(out.stdout.is_empty(), "nothing is reported as ok\n{out}");
    let text = format!(
        "--- neon-migrate.toml ---\n{toml}--- stderr ---\n{}",
        out.stderr
    );
    snapshot(&format!("config_diagnostics_{case}"), &redact(&text, &p));
    p
}

#[track_caller]
fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn config_diagnostics_of_an_unknown_key_suggest_the_nearest_key() {
    snapshot_check(
        "unknown_key",
        r#"colour = "blue"

[neon-database-branch]
nmae = "migrate/{{git.branch}}"

[provider]
main-databse = "app"

[pipelines.mine]
stages = ["create-neon-database-branch", "migrate", "checks", "delete-neon-database-branch"]
descripton = "mine"
"#,
    );
}

/// A whole URL (no templates) is parsed by `check` as the connection will parse it, and the
/// reason is said once.
fn config_diagnostics_of_a_provider_url_that_does_not_parse_say_why() {
    snapshot_check(
        "bad_url",
        "[provider]\nurl = \"postgresql://u@db.example:99999/app\"\n",
    );
}

fn config_diagnostics_of_a_wrong_type_point_at_the_value() {
    snapshot_check(
        "wrong_type",
        r#"[neon-database-branch]
ttl = 4
"#,
    );
}

fn config_diagnostics_of_bad_durations_show_the_valid_forms() {
    snapshot_check(
        "bad_durations",
        r#"[neon-database-branch]
ttl = "4hours"
lock-wait = "1.5ms"

[tool]
name = "sql"
timeout = "0s"

[apply]
lock-timeout = "3"
restore-point-ttl = "90d"

[checks.locks]
access-exclusive-budget = "fast"
"#,
    );
}

fn config_diagnostics_of_bad_enum_values_list_the_valid_names() {
    snapshot_check(
        "bad_enum_values",
        r#"[provider]
kind = "lokal"
busy-parent = "wait"
tool-role = "superuser"

[tool]
name = "sql"
url-format = "odbc"

[checks.schema]
deny = ["deletes_data", "table_rewrites", "locks"]

[checks.lint]
ignore = ["prefer-big-int"]
"#,
    );
}

fn config_diagnostics_of_stage_kinds_and_stage_names_list_the_valid_names() {
    snapshot_check(
        "bad_stages",
        r#"[stages.smoke]
kind = "shel"
run = "make smoke"

[stages.nokind]
run = "true"

[stages.migrate]
kind = "shell"
run = "true"

[stages.notes]
kind = "checks"
run = "true"

[pipelines.mine]
stages = ["create-neon-database-branch", "migrat", "smoke", "delete-neon-database-branch", "apply"]
"#,
    );
}

fn config_diagnostics_of_template_variables_name_the_valid_variables() {
    snapshot_check(
        "template_errors",
        r#"[neon-database-branch]
name = "migrate/{{git.brnach}}-{{neon_database_branch.name}}"

[tool]
name = "acme"
command = ["acme", "migrate", "--url", "{{neon_database_branch.ulr}}"]

[tool.env]
ACME_TAG = "{{#if git.sha}}x{{/if}}"

[stages.notify]
kind = "shell"
run = "echo {{pipline}}"
"#,
    );
}

fn config_diagnostics_of_several_problems_come_all_at_once_in_file_order() {
    let p = snapshot_check(
        "several_problems",
        r#"version = 2

[neon-database-branch]
ttl = "4hours"

[provider]
main-databse = "it_never_created"

[[checks.sql]]
name = "totals"
query = "select count(*) from orders where total < 0"
expect-rows = -1
expect-true = true

[[checks.sql]]
name = "totals"

[apply]
git-branches = []
retries = 99

[pipelines.mine]
stages = ["migrate", "create-neon-database-branch", "migrat"]
"#,
    );
    // `--json` carries the same problems, one `file:line:col: message (help: …)` line each.
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::CONFIG);
    snapshot(
        "config_diagnostics_several_problems_json",
        &redact(&out.stdout, &p),
    );
}

fn config_diagnostics_never_quote_a_secret_written_in_the_file() {
    snapshot_check(
        "secrets_masked",
        r#"[provider]
url = "postgres://app:hunter2-not-shown@db.example.com/app"
kind = "neon"
api-key = "napi_not_shown_either"
"#,
    );
}

fn config_diagnostics_of_a_toml_syntax_error_point_at_it() {
    snapshot_check(
        "syntax_error",
        r#"[provider
kind = "local"
"#,
    );
}

/// From an outside attacker: a rate under 1/s was raised to 1/s in silence, `inf` was "below
/// 1", `1.5s` had an "unknown unit `.`", and a `[[checks.workload.query]]` without `sql` was
/// reported at the `[checks.workload]` header. Each problem now says what, at its own line
/// (a missing key at its entry's header), and how to fix it; `baseline = "1.5s"` is accepted.
fn config_diagnostics_of_the_workload_check_say_what_where_and_how() {
    snapshot_check(
        "workload",
        r#"[checks.workload]
enabled = true
rate = "0.5/s"
max-p99-ratio = inf
baseline = "1.5s"
max-blocked = "0.0001s"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 10"
rate = "1/min"

[[checks.workload.query]]
name = "update account"
rate = "10/s"
"#,
    );
}

/// From an outside attacker: `[checks.workload]` with `max-blocked` and a query, but no
/// `enabled = true`: `check` said ok and every run skipped the workload check. An error at the
/// section, saying how to turn it on (or remove it); `max-blocked = "0s"` and `connections`
/// below the queries declared are refused too, once the section is enabled.
fn config_diagnostics_of_workload_settings_without_enabled_say_what_where_and_how() {
    snapshot_check(
        "workload_not_enabled",
        r#"[checks.locks]
access-exclusive-budget = "5s"

[checks.workload]
max-blocked = "50ms"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 500"
rate = "100/s"
"#,
    );
    snapshot_check(
        "workload_zero_and_too_few_connections",
        r#"[checks.workload]
enabled = true
connections = 1
max-blocked = "0s"

[[checks.workload.query]]
name = "q1"
sql = "SELECT 1"
rate = "5/s"

[[checks.workload.query]]
name = "q2"
sql = "SELECT 2"
rate = "5/s"
"#,
    );
}

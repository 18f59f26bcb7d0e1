//! The `workload` check's windows, against an outside attacker's false results, through the
//! binary:
//!
//! - at a low rate no request of a query was due while the migration held a lock that blocks
//!   it (c22): nothing was measured there, and the check passed;
//! - a column rename broke a query, but no request of it ran after the migration (c31);
//! - a rehearsal that could not run (no `params` row, too many queries for the connection
//!   cap, too few free connection slots on the server) was the migration's FAILURE, exit 4
//!   (c21, c24, c25).

use crate::workload::{accounts_project, workload_result};
use crate::Test;
use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::providers::local::{self, role};
use neon_migrate::secret::Secret;

pub fn tests() -> Vec<Test> {
    tests![
        workload_window_no_request_due_in_a_lock_that_blocks_the_query_is_not_checked,
        workload_window_a_query_the_migration_breaks_is_seen_failing_after_it,
        workload_window_a_params_query_with_no_rows_is_not_run_not_the_migrations_failure,
        workload_window_more_queries_than_the_connection_cap_is_not_run,
        workload_window_too_few_free_connection_slots_is_not_run,
    ]
}

/// The findings' `what` + `fix`, one string each.
fn findings(w: &serde_json::Value) -> Vec<String> {
    w["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| format!("{} | {}", f["what"], f["fix"]))
                .collect()
        })
        .unwrap_or_default()
}

const LOCKING_MIGRATION: &str = "-- neon-migrate: no-transaction\n\
    SELECT pg_sleep(0.25);\n\
    DO $$ BEGIN LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE; PERFORM pg_sleep(0.45); END $$;\n\
    SELECT pg_sleep(0.6);\n";

fn locking_config(rate: &str) -> String {
    format!(
        r#"
[checks.locks]
access-exclusive-budget = "5s"

[checks.workload]
enabled = true
max-p99-ratio = 50.0

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "{rate}"
"#
    )
}

/// From an outside attacker (c22): at `rate = "1/s"` the requests were due 2.0 s and 3.0 s
/// after the load started; the migration held ACCESS EXCLUSIVE on the table they read from
/// ~2.25 s to ~2.7 s. No request was due inside the lock, so nothing measured what a reader
/// would feel — and the check passed. The same migration at 20/s is measured (and passes:
/// ~450 ms < max-blocked; `max-p99-ratio` is set high so that the lock alone decides).
fn workload_window_no_request_due_in_a_lock_that_blocks_the_query_is_not_checked() {
    let p = accounts_project(
        "workload_window_lock",
        &locking_config("1/s"),
        ("0001_lock.sql", LOCKING_MIGRATION),
        1_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("NOT CHECKED: "), "{summary}");
    assert!(summary.contains("`read account`"), "{summary}");
    let f = findings(&w);
    let window = f
        .iter()
        .find(|f| f.contains("no request of `read account` was due"))
        .unwrap_or_else(|| panic!("no window finding: {w:#}"));
    assert!(window.contains("ACCESS EXCLUSIVE"), "{window}");
    assert!(window.contains("public.accounts"), "{window}");
    assert!(window.contains("raise `rate`"), "{window}");
    out.code(exit::OK);
    println!("1/s: {summary}\n  {window}");

    // Control: at 20/s requests fall inside the lock; they waited for it, under max-blocked.
    let p = accounts_project(
        "workload_window_lock_ok",
        &locking_config("20/s"),
        ("0001_lock.sql", LOCKING_MIGRATION),
        1_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "passed", "{w:#}");
    let longest = w["data"]["longest"]["ms"].as_f64().unwrap_or(0.0);
    assert!(longest >= 250.0, "requests waited for the lock: {w:#}");
    out.code(exit::OK);
}

/// From an outside attacker (c31): a column rename 1.2 s into the migration; at 1/s the
/// last request ran before it and the load stopped 300 ms after the migration, so the
/// query it breaks never failed and the check passed. The load now runs on until each query
/// sent a few requests after the migration ended: they fail.
fn workload_window_a_query_the_migration_breaks_is_seen_failing_after_it() {
    let config = r#"
[checks.lint]
enabled = false

[checks.workload]
enabled = true

[[checks.workload.query]]
name = "read n"
sql = "SELECT n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "1/s"
"#;
    let p = accounts_project(
        "workload_window_rename",
        config,
        (
            "0001_rename.sql",
            "SELECT pg_sleep(1.2);\nALTER TABLE accounts RENAME COLUMN n TO n2;\n",
        ),
        1_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "failed", "{w:#}");
    let q = &w["data"]["queries"][0];
    assert!(q["during"]["errors"].as_u64().unwrap_or(0) >= 2, "{w:#}");
    assert!(
        q["errors"].to_string().contains("42703"),
        "undefined_column: {w:#}"
    );
    out.code(exit::CHECK_FAILED);
}

/// From an outside attacker (c24): a `params` query that returns no rows stopped the
/// rehearsal, shown as the migration's FAILURE (exit 4). Nothing was measured: NOT RUN,
/// naming the query and its `params` SQL.
fn workload_window_a_params_query_with_no_rows_is_not_run_not_the_migrations_failure() {
    let config = r#"
[checks.workload]
enabled = true

[[checks.workload.query]]
name = "read account"
sql = "SELECT id FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts WHERE id < 0"
rate = "50/s"
"#;
    let p = accounts_project(
        "workload_window_params",
        config,
        ("0001_add.sql", "ALTER TABLE accounts ADD COLUMN extra int;\n"),
        1_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("NOT RUN: "), "{summary}");
    assert!(summary.contains("`read account`"), "{summary}");
    assert!(summary.contains("returned no rows"), "{summary}");
    let f = findings(&w).join("\n");
    assert!(f.contains("SELECT id FROM accounts WHERE id < 0"), "{f}");
    out.code(exit::OK);
}

/// From an outside attacker (c25): 60 declared queries opened 120 connections (2 each), the
/// 32-connection default cap not applied; the server ran out of slots and the run FAILED
/// (exit 4). Now it is NOT RUN before a connection is opened, with the numbers and the fix.
fn workload_window_more_queries_than_the_connection_cap_is_not_run() {
    let mut config = String::from("[checks.workload]\nenabled = true\n");
    for i in 1..=20 {
        config.push_str(&format!(
            "\n[[checks.workload.query]]\nname = \"q{i}\"\nsql = \"SELECT id FROM accounts WHERE id = {i} + $1\"\nparams = \"SELECT 1\"\nrate = \"5/s\"\n"
        ));
    }
    let p = accounts_project(
        "workload_window_cap",
        &config,
        ("0001_add.sql", "ALTER TABLE accounts ADD COLUMN extra int;\n"),
        1_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("20 queries"), "{summary}");
    assert!(summary.contains("32"), "{summary}");
    let f = findings(&w).join("\n");
    assert!(f.contains("connections = "), "{f}");
    out.code(exit::OK);
}

/// From an outside attacker (c21): `connections = 100` where the server had fewer free
/// slots: "remaining connection slots are reserved", and the run FAILED (exit 4). The free
/// slots (the server's, the role's and the database's limits) are counted before any
/// connection is opened: NOT RUN, needed vs free and what to change. Here the test Neon
/// database branch's own login role has `CONNECTION LIMIT 12` (made before the run; the
/// provider renews the role and keeps the limit), so no other test is starved.
fn workload_window_too_few_free_connection_slots_is_not_run() {
    let config = r#"
[checks.workload]
enabled = true
connections = 100

[[checks.workload.query]]
name = "read account"
sql = "SELECT id FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "20/s"
"#;
    let name = "workload_window_slots";
    let p = accounts_project(
        name,
        config,
        ("0001_add.sql", "ALTER TABLE accounts ADD COLUMN extra int;\n"),
        1_000,
        "",
    );
    let db = local::local_db_name(&format!("migrate/feature/{name}"));
    let login = role::login_role(&db);
    let limit = format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {group}) THEN \
             CREATE ROLE {group_id} NOLOGIN; END IF; \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {db}) THEN \
             CREATE ROLE {db_id} NOLOGIN IN ROLE {group_id}; END IF; \
           IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {login}) THEN \
             ALTER ROLE {login_id} CONNECTION LIMIT 12; \
           ELSE CREATE ROLE {login_id} LOGIN CONNECTION LIMIT 12 IN ROLE {group_id}, {db_id}; END IF; \
         END $$",
        db = pg::literal(&db),
        db_id = pg::ident(&db),
        group = pg::literal(role::GROUP),
        group_id = pg::ident(role::GROUP),
        login = pg::literal(&login),
        login_id = pg::ident(&login),
    );
    p.block_on(async {
        let c = pg::connect(&Secret::new(cluster_url()))
            .await
            .expect("connect");
        c.batch_execute(&limit).await.expect("limit the copy's role");
    });
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    p.block_on(async {
        let c = pg::connect(&Secret::new(cluster_url()))
            .await
            .expect("connect");
        let _ = c
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {}; DROP ROLE IF EXISTS {}",
                pg::ident(&login),
                pg::ident(&db)
            ))
            .await;
    });
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("connection slot"), "{summary}");
    assert!(summary.contains("CONNECTION LIMIT"), "{summary}");
    let f = findings(&w).join("\n");
    assert!(f.contains("`connections = "), "{f}");
    assert!(f.contains("max_connections"), "{f}");
    out.code(exit::OK);
}

fn cluster_url() -> String {
    crate::support::cluster().url("postgres")
}

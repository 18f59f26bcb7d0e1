//! A main Neon database branch with an open connection: Postgres cannot copy a database in
//! use. By default the run stops at once and names the session; `busy-parent =
//! "golden-template"` copies from a template nobody connects to instead.

use std::time::Duration;

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        open_connection_on_main_fails_fast_or_uses_the_golden_template,
    ]
}

const CHECKS: &str = r#"
[[checks.sql]]
name = "every customer has an email"
query = "select count(*) from customers where email is not null"
expect-value = "3"
"#;

const LATE_CHECK: &str = r#"
[[checks.sql]]
name = "the table created on main after the first copy is there"
query = "select count(*) from late"
expect-value = "1"
"#;

/// The server itself waits 5 s for other sessions before refusing a template copy: a run
/// that tried the copy took at least that long, whatever the machine's load, and one that
/// failed fast took less (however loaded the machine, it does far less than 5 s of work).
const FAST: Duration = Duration::from_secs(5);

fn open_connection_on_main_fails_fast_or_uses_the_golden_template() {
    let p = Project::new("busy_parent")
        .config(CHECKS)
        .migration(
            "0001_customer_email.sql",
            "alter table customers add column email text;\nupdate customers set email = name || '@example.com';\n",
        )
        .commit()
        .git_branch("feature/customer-email");
    p.main_sql("create table customers (id int primary key, name text not null); insert into customers values (1, 'ada'), (2, 'bob'), (3, 'cy')");
    let held = p.hold_main_connection();

    let out = p.run(&["run", "pre-push"]);
    out.code(exit::PROVIDER)
        .stdout_has(&format!(
            "database `{}`) has 1 other session(s)",
            p.main_db()
        ))
        .stdout_has(&format!("pid {} (user `postgres`", held.pid))
        .stdout_has("busy-parent = \"golden-template\"");
    assert!(
        out.took < FAST,
        "took {:?}: it waited for the server instead of failing fast\n{out}",
        out.took
    );
    assert!(out.stage_line("migrate").starts_with("  -"), "{out}");
    p.assert_no_test_db_branches();

    // With the golden template, the same run passes while the session stays open.
    let p = p.config(&format!(
        "[provider]\nbusy-parent = \"golden-template\"\n{CHECKS}"
    ));
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::OK)
        .stdout_has("✓ every customer has an email");
    p.assert_no_test_db_branches();
    let still_open = p.block_on(held.client.simple_query("select 1"));
    assert!(
        still_open.is_ok(),
        "the held session was disturbed: {still_open:?}"
    );
    assert!(
        p.block_on(held.client.query_one("select pg_backend_pid()", &[]))
            .map(|r| r.get::<_, i32>(0))
            .ok()
            == Some(held.pid)
    );
    assert_eq!(
        p.main_sql("select count(*) from information_schema.columns where table_name = 'customers' and column_name = 'email'")[0][0].as_deref(),
        Some("0"),
        "pre-push changed the main Neon database branch"
    );

    // The template follows the main Neon database branch: a change made there is in the
    // next copy (the template is refreshed when the schema fingerprint changes).
    p.block_on(
        held.client
            .batch_execute("create table late (id int); insert into late values (1)"),
    )
    .expect("create late");
    let p = p.config(&format!(
        "[provider]\nbusy-parent = \"golden-template\"\n{CHECKS}{LATE_CHECK}"
    ));
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::OK)
        .stdout_has("✓ the table created on main after the first copy is there");
    p.assert_no_test_db_branches();
    p.release(held);
}

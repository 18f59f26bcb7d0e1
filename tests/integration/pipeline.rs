//! The pipelines end to end: passing, a failing migration, failing checks, and `deploy`.

use neon_migrate::exit;

use neon_migrate::providers::local::cluster;

use crate::support::{query_on, run_command, stage, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        pre_push_passes_then_deploy_applies_to_the_main_neon_database_branch,
        failing_migration_exits_5_names_file_and_line_and_still_deletes,
        failing_checks_exit_4_and_every_failure_is_reported,
        deploy_after_a_failing_check_skips_apply_and_leaves_main_unchanged,
        a_test_neon_database_branch_gone_before_migrate_stops_the_run_instead_of_skipping_checks,
        demo_runs_the_whole_workflow_and_what_it_claims_holds_on_the_database,
    ]
}

const ORDERS: &str =
    "create table orders (\n    id bigint primary key,\n    total numeric(10, 2) not null\n);\n";

const ORDERS_CHECK: &str = r#"
[[checks.sql]]
name = "orders starts empty"
query = "select count(*) from orders"
expect-value = "0"
"#;

/// A duration as the report prints it: `12 ms` or `1.3 s`.
fn is_duration(number: &str, unit: &str) -> bool {
    match unit {
        "ms" => number.parse::<u64>().is_ok(),
        "s" => number.parse::<f64>().is_ok(),
        _ => false,
    }
}

fn pre_push_passes_then_deploy_applies_to_the_main_neon_database_branch() {
    let p = Project::new("pre_push_passes")
        .config(ORDERS_CHECK)
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("feature/add-orders");
    p.main_sql(
        "create table customers (id int primary key); insert into customers values (1), (2)",
    );

    let out = p.run(&["run", "pre-push"]);
    out.code(exit::OK)
        .stdout_has("git branch            feature/add-orders @ ")
        .stdout_has("Neon database branch  migrate/feature/add-orders")
        .stdout_has("applied 0001_create_orders.sql")
        .stdout_has("✓ orders starts empty")
        .stdout_has("The test Neon database branch migrate/feature/add-orders was deleted.")
        .stdout_has("PASSED in ");
    for name in [
        "create-neon-database-branch",
        "migrate",
        "checks",
        "delete-neon-database-branch",
    ] {
        let line = out.stage_line(name);
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], "✓", "stage `{name}` did not pass: {line}\n{out}");
        assert!(
            is_duration(words[2], words[3]),
            "stage `{name}` shows no duration: {line:?}\n{out}"
        );
    }
    p.assert_no_test_db_branches();
    assert!(!p.block_on(crate::support::database_exists(
        "migrate/feature/add-orders"
    )));
    assert!(
        !p.main_has("public.orders"),
        "pre-push must not touch the main Neon database branch"
    );
    assert!(
        !p.main_has("neon_migrate.schema_migrations"),
        "pre-push must not record anything on main"
    );
    assert_eq!(
        p.main_sql("select count(*) from customers")[0][0].as_deref(),
        Some("2")
    );

    let out = p.run(&["run", "deploy"]);
    out.code(exit::OK).stdout_has("✓ apply");
    assert!(
        out.stage_line("apply").contains("applied 1 migration(s)"),
        "{out}"
    );
    assert!(
        p.main_has("public.orders"),
        "deploy applies to the main Neon database branch\n{out}"
    );
    let recorded = p.main_sql("select version, file from neon_migrate.schema_migrations");
    assert_eq!(
        recorded,
        vec![vec![
            Some("0001".to_owned()),
            Some("0001_create_orders.sql".to_owned())
        ]]
    );
    p.assert_no_test_db_branches();
    // Before touching main, apply kept a restore point of it: the state before the apply.
    let restore = p.restore_points();
    assert_eq!(
        restore.len(),
        1,
        "one restore point per apply: {restore:#?}\n{out}"
    );
    let before = p
        .block_on(crate::support::query(
            &restore[0].database,
            "select to_regclass('public.orders') is null, (select count(*) from customers)",
        ))
        .expect("query the restore point");
    assert_eq!(
        before,
        vec![vec![Some("t".to_owned()), Some("2".to_owned())]]
    );

    // Idempotent: a second deploy finds everything applied, on both Neon database branches.
    let out = p.run(&["run", "deploy"]);
    out.code(exit::OK);
    assert!(out.stage_line("migrate").contains("is up to date"), "{out}");
    assert!(out.stage_line("apply").contains("is up to date"), "{out}");
    p.assert_no_test_db_branches();
}

fn failing_migration_exits_5_names_file_and_line_and_still_deletes() {
    let p = Project::new("failing_migration")
        .migration("0001_create_a.sql", "create table a (id int);\n")
        .migration(
            "0002_broken.sql",
            "create table b (id int);\n\ninsert into b values (1);\nselec 1;\ncreate table c (id int);\n",
        )
        .commit()
        .git_branch("feature/broken-migration");

    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("0002_broken.sql:4:1: syntax error at or near \"selec\"")
        .stdout_has("applied 0001_create_a.sql before the failure")
        .stdout_has("FAILED in ")
        .stdout_has("The test Neon database branch migrate/feature/broken-migration was deleted.");
    assert!(out.stage_line("migrate").starts_with("  ✗"), "{out}");
    assert!(
        out.stage_line("checks").starts_with("  -"),
        "checks must be skipped\n{out}"
    );
    assert!(
        out.stage_line("delete-neon-database-branch")
            .starts_with("  ✓"),
        "{out}"
    );
    p.assert_no_test_db_branches();
    for t in [
        "public.a",
        "public.b",
        "public.c",
        "neon_migrate.schema_migrations",
    ] {
        assert!(!p.main_has(t), "{t} reached the main Neon database branch");
    }

    // The same through deploy: apply never runs after a failed migration.
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    let report = out.json();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["exit_code"], exit::MIGRATION_FAILED);
    let migrate = stage(&report, "migrate");
    assert_eq!(migrate["status"], "failed");
    let message = migrate["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("0002_broken.sql:4:1:"), "{message}");
    assert_eq!(
        stage(&report, "delete-neon-database-branch")["status"],
        "passed"
    );
    assert_eq!(stage(&report, "apply")["status"], "skipped");
    assert_eq!(report["neon_database_branch"]["deleted"], true);
    p.assert_no_test_db_branches();
    assert!(!p.main_has("public.a"));
}

fn failing_checks_exit_4_and_every_failure_is_reported() {
    let p = Project::new("failing_checks")
        .config(
            r#"
[[checks.sql]]
name = "orders exist"
query = "select to_regclass('public.orders') is not null"
expect-true = true

[[checks.sql]]
name = "one seeded order"
query = "select count(*) from orders"
expect-value = "1"

[[checks.sql]]
name = "no negative totals"
query = "select id from orders where total < 0"
expect-rows = 0
"#,
        )
        .migration("0001_create_orders.sql", ORDERS)
        .migration(
            "0002_seed.sql",
            "insert into orders values (1, 10), (2, -5);\n",
        )
        .commit()
        .git_branch("feature/failing-checks");

    let out = p.run(&["run", "pre-push"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("✓ orders exist")
        // Both failures, each with what was expected, what came back, and the query.
        .stdout_has("✗ one seeded order: expected the value `1`, got `2`")
        .stdout_has("query: select count(*) from orders")
        .stdout_has("✗ no negative totals: expected 0 row(s), got 1 row(s)")
        .stdout_has("query: select id from orders where total < 0")
        .stdout_has("2 of 3 assertion(s) failed")
        .stdout_has("The test Neon database branch migrate/feature/failing-checks was deleted.");
    assert!(out.stage_line("checks").starts_with("  ✗"), "{out}");
    assert!(
        out.stage_line("delete-neon-database-branch")
            .starts_with("  ✓"),
        "{out}"
    );
    p.assert_no_test_db_branches();
    assert!(!p.main_has("public.orders"));

    // The JSON report carries every check too.
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED);
    let report = out.json();
    let checks = stage(&report, "checks")["checks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c["passed"] == false)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        failed,
        ["one seeded order", "no negative totals"],
        "{report:#}"
    );
    let second = &checks[1];
    assert_eq!(second["expected"], "the value `1`");
    assert_eq!(second["got"], "`2`");
    assert_eq!(second["query"], "select count(*) from orders");
    p.assert_no_test_db_branches();
}

fn deploy_after_a_failing_check_skips_apply_and_leaves_main_unchanged() {
    let p = Project::new("deploy_failing_check")
        .config(
            r#"
[[checks.sql]]
name = "orders has a status column"
query = "select count(*) from information_schema.columns where table_name = 'orders' and column_name = 'status'"
expect-value = "1"
"#,
        )
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("feature/deploy-blocked");
    p.main_sql("create table audit (id int); insert into audit values (7)");

    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::CHECK_FAILED);
    let report = out.json();
    assert_eq!(stage(&report, "migrate")["status"], "passed");
    assert_eq!(stage(&report, "checks")["status"], "failed");
    assert_eq!(
        stage(&report, "delete-neon-database-branch")["status"],
        "passed"
    );
    let apply = stage(&report, "apply");
    assert_eq!(apply["status"], "skipped", "{report:#}");
    assert!(
        apply["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("earlier stage failed"),
        "{report:#}"
    );
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["exit_code"], exit::CHECK_FAILED);

    assert!(
        !p.main_has("public.orders"),
        "apply ran despite a failing check"
    );
    assert!(
        !p.main_has("neon_migrate.schema_migrations"),
        "apply ran despite a failing check"
    );
    assert_eq!(
        p.main_sql("select id from audit"),
        vec![vec![Some("7".to_owned())]]
    );
    p.assert_no_test_db_branches();
}

/// The test Neon database branch disappears between `create` and `migrate` (here `gc --all`
/// deletes it): `migrate` finds it is no longer this run's, so the run stops with exit 6
/// before the tool runs — the checks never pass by being skipped.
fn a_test_neon_database_branch_gone_before_migrate_stops_the_run_instead_of_skipping_checks() {
    let bin = env!("CARGO_BIN_EXE_neon-migrate");
    let p = Project::new("vanish")
        .config(&format!(
            r#"
[stages.vanish]
kind = "shell"
run = "{bin} gc --all"

[pipelines.vanish]
stages = ["create-neon-database-branch", "vanish", "migrate", "checks", "delete-neon-database-branch"]
"#
        ))
        .migration("0001_orders.sql", ORDERS)
        .commit()
        .git_branch("feature/vanish");
    let out = p.run(&["run", "vanish", "--json"]);
    out.code(exit::PROVIDER);
    let report = out.json();
    let migrate = stage(&report, "migrate");
    assert_eq!(migrate["status"], "failed", "{out}");
    let message = migrate["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "the test Neon database branch migrate/feature/vanish was deleted while this run used it"
        ),
        "{out}"
    );
    assert_eq!(stage(&report, "checks")["status"], "skipped", "{out}");
    assert!(
        !p.main_has("orders"),
        "the main Neon database branch is untouched"
    );
    p.assert_no_test_db_branches();
}

/// The README's first command: `neon-migrate demo` on the embedded Postgres. It verifies its
/// own claims; this test checks them again from outside. The demo names its test Neon database
/// branches after fixed git branches, so it gets a cluster of its own (as a user's first run
/// would), stopped at the end.
fn demo_runs_the_whole_workflow_and_what_it_claims_holds_on_the_database() {
    let p = Project::new("demo");
    let own = DemoCluster::start();
    let sample = p.path().join("sample");
    let sample_arg = sample.to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        let mut c = p.command(args);
        c.env(cluster::ENV_DIR, &own.0.dir);
        run_command(c, args)
    };
    let out = run(&["demo", sample_arg]);
    out.code(exit::OK)
        .stdout_has("verified: customers on the main Neon database branch: 1000 before, 1000 after")
        .stdout_has(
            "verified: test Neon database branch migrate/feature/dedupe-customers exists: no",
        )
        .stdout_has("Demo finished: every claim above was verified");
    assert!(sample.join("neon-migrate.toml").is_file(), "{out}");
    assert!(sample.join(".git").is_dir(), "{out}");

    // From outside: `deploy` applied 0002 to the demo's main database, the row-losing 0003
    // did not reach it, and of ours only the restore point of `deploy` is left.
    let sql = |db: &str, sql: &str| -> Vec<String> {
        p.block_on(query_on(&own.0, db, sql))
            .unwrap_or_else(|e| panic!("on {db}: {sql}: {e}\n{out}"))
            .into_iter()
            .map(|row| row[0].clone().unwrap_or_default())
            .collect()
    };
    let db = "neon_migrate_demo";
    assert_eq!(sql(db, "select count(*) from customers"), ["1000"], "{out}");
    assert_eq!(
        sql(db, "select to_regclass('public.orders') is not null"),
        ["t"],
        "{out}"
    );
    assert_eq!(
        sql(
            db,
            "select file from neon_migrate.schema_migrations order by file"
        ),
        ["0001_customers.sql", "0002_add_orders.sql"],
        "{out}"
    );
    let ours = sql(
        "postgres",
        "select datname from pg_database \
         where shobj_description(oid, 'pg_database') like '{\"neon_migrate\":%' order by 1",
    );
    assert!(
        ours.len() == 1 && ours[0].starts_with("restore/neon_migrate_demo-"),
        "only the restore point is left, got {ours:?}\n{out}"
    );

    // The sample repository is never overwritten: a folder that is not empty is refused.
    run(&["demo", sample_arg])
        .code(exit::USAGE)
        .stderr_has("is not empty; give an empty or new folder");
}

/// A cluster beside the suite's, for the demo; stopped and removed when dropped.
struct DemoCluster(cluster::Cluster);

impl DemoCluster {
    fn start() -> Self {
        let dir =
            std::path::PathBuf::from(format!("{}-demo", crate::support::cluster().dir.display()));
        if dir.exists() {
            // A killed earlier run left it: stop its server before the folder goes.
            if let Ok(left) = cluster::ensure(Some(&dir)) {
                let _ = cluster::stop(&left);
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).expect("create the demo's cluster folder");
        match cluster::ensure(Some(&dir)) {
            Ok(c) => DemoCluster(c),
            Err(e) => panic!(
                "cannot start the demo's cluster in {}: {}",
                dir.display(),
                e
            ),
        }
    }
}

impl Drop for DemoCluster {
    fn drop(&mut self) {
        if let Err(e) = cluster::stop(&self.0) {
            eprintln!("warning: cannot stop the demo's cluster: {}", e);
        }
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

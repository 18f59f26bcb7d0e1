//! The `workload` check against three false signals an outside attacker found:
//!
//! - row locks: a mass `UPDATE` followed by more work in the same transaction keeps every row
//!   it changed locked; with only reads replayed the check passed, though every writer of
//!   those rows would have waited. Now NOT CHECKED naming the table until a write of its rows
//!   is replayed, and that write's wait is blamed on the row and the migration's statement;
//! - sequences: `ALTER SEQUENCE` blocks `nextval()` of every INSERT into the tables whose
//!   column takes values from it; the lock (on the sequence) was mapped to no table. Now the
//!   table is named, in the coverage and in the blame;
//! - the migration tool's own tracking table (`alembic_version`) was replayed as user traffic
//!   from `pg_stat_statements` and picked by the fallback source.

use std::time::Duration;

use neon_migrate::checks::workload::sources::{self, Origin};
use neon_migrate::checks::workload::Target;
use neon_migrate::pg;
use neon_migrate::secret::Secret;

use crate::support::query_on;
use crate::workload::{accounts_project, config, pgss_cluster, rt, workload_result};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        workload_rows_a_mass_update_needs_a_replayed_write_whose_wait_is_blamed_on_the_row_locks,
        workload_rows_a_locked_sequence_names_its_tables_and_needs_a_replayed_insert,
        workload_rows_the_tools_tracking_tables_are_not_replayed,
        workload_rows_writes_of_other_rows_are_not_checked_and_a_locking_read_meets_the_locked_ones,
        workload_rows_a_migration_s_select_for_update_keeps_rows_locked_and_is_not_checked_with_reads_only,
    ]
}

/// The findings (`what`, `why`, `fix`, `location`), one string each.
fn findings(w: &serde_json::Value) -> Vec<String> {
    w["findings"]
        .as_array()
        .map(|f| f.iter().map(|f| f.to_string()).collect())
        .unwrap_or_default()
}

const READ: &str = r#"
[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 500"
rate = "50/s"
"#;

const LOCKS: &str = r#"
[checks.locks]
access-exclusive-budget = "10s"

[checks.workload]
enabled = true
baseline = "1s"
"#;

/// From an outside attacker (c02, c02b): `UPDATE accounts SET n = n + 1` then 1.5 s more in
/// the same transaction. Only a read declared: it passed. Now NOT CHECKED naming the table,
/// with how to declare a write; with a write declared, it fails, blamed on a row of accounts
/// and the migration's statement. A backfill into a table the migration creates, and the
/// tool's tracking table it updates, need no write.
fn workload_rows_a_mass_update_needs_a_replayed_write_whose_wait_is_blamed_on_the_row_locks() {
    let migration = (
        "0001_backfill.sql",
        "UPDATE accounts SET n = n + 1;\nSELECT pg_sleep(1.5);\n",
    );
    // Reads only.
    let p = accounts_project(
        "workload_rows_reads",
        &format!("{LOCKS}{READ}"),
        migration,
        10_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("NOT CHECKED: the migration changed or locked rows of public.accounts"),
        "{summary}"
    );
    let f = findings(&w);
    assert!(
        f.iter().any(|f| f.contains("updated or deleted 10000 row(s) of public.accounts")
            && f.contains("no replayed query updates or deletes rows of public.accounts")
            && f.contains("UPDATE public.accounts SET")),
        "{f:#?}"
    );
    println!("reads only: {summary}");
    out.code(0);

    // A write of those rows: blocked behind the row locks, and said so.
    let write = r#"
[[checks.workload.query]]
name = "bump account"
sql = "UPDATE accounts SET n = n - 1 WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 500"
rate = "10/s"
"#;
    let p = accounts_project(
        "workload_rows_write",
        &format!("{LOCKS}{READ}{write}"),
        migration,
        10_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "failed", "{w:#}");
    let longest = &w["data"]["longest"];
    assert_eq!(longest["query"], "bump account", "{w:#}");
    assert!(longest["ms"].as_f64().unwrap_or(0.0) >= 1000.0, "{w:#}");
    assert_eq!(longest["table"], "a row of public.accounts", "{w:#}");
    assert_eq!(longest["behind"], "migration", "{w:#}");
    assert!(
        longest["behind_statement"]
            .as_str()
            .is_some_and(|s| s.contains("UPDATE accounts SET n = n + 1")),
        "{w:#}"
    );
    let blocked = w["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["what"].as_str().is_some_and(|w| w.contains("was blocked")))
        })
        .unwrap_or_else(|| panic!("no max-blocked finding: {w:#}"));
    assert_eq!(blocked["location"], "public.accounts", "{blocked:#}");
    let why = blocked["why"].as_str().unwrap_or_default();
    assert!(
        why.contains("a row of public.accounts")
            && why.contains("kept locked until its transaction ended"),
        "{why}"
    );
    assert!(
        blocked["fix"]
            .as_str()
            .is_some_and(|f| f.contains("in batches")),
        "{blocked:#}"
    );
    println!("with a write: {why}");
    out.code(neon_migrate::exit::CHECK_FAILED);

    // A backfill into a new table, and the tool's tracking table: no write needed.
    let p = accounts_project(
        "workload_rows_new_table",
        &format!("{LOCKS}{READ}"),
        (
            "0001_copy.sql",
            "CREATE TABLE copy (id int PRIMARY KEY, n int);\n\
             INSERT INTO copy SELECT id, n FROM accounts;\n\
             UPDATE copy SET n = n + 1;\n\
             UPDATE alembic_version SET version_num = 'b';\n\
             SELECT pg_sleep(1);\n",
        ),
        10_000,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); \
         INSERT INTO alembic_version VALUES ('a');",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "passed", "{w:#}");
    assert!(
        w["details"].as_array().is_some_and(|d| d.iter().any(|d| d
            .as_str()
            .is_some_and(|d| d.contains("public.alembic_version need no replayed write")))),
        "{w:#}"
    );
    out.code(0);
}

/// From an outside attacker (c03, c03b): `ALTER SEQUENCE ticket_seq …` in a transaction that
/// lasts 1.5 s blocks every INSERT into `tickets` (its id defaults to `nextval('ticket_seq')`);
/// with only a read declared, it passed. Now NOT CHECKED naming the tables — by a default and
/// by an identity column — and with an INSERT declared, its wait is blamed on the sequence of
/// `tickets`.
fn workload_rows_a_locked_sequence_names_its_tables_and_needs_a_replayed_insert() {
    let migration = (
        "0001_seq.sql",
        "ALTER SEQUENCE ticket_seq CACHE 1;\nALTER SEQUENCE badges_id_seq CACHE 1;\nSELECT pg_sleep(1.5);\n",
    );
    let tables = "CREATE SEQUENCE ticket_seq; \
         CREATE TABLE tickets (id bigint PRIMARY KEY DEFAULT nextval('ticket_seq'), note text); \
         INSERT INTO tickets (note) SELECT 'n' || g FROM generate_series(1, 500) g; \
         CREATE TABLE badges (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text); \
         INSERT INTO badges (label) SELECT 'b' FROM generate_series(1, 100);";
    let p = accounts_project(
        "workload_seq_reads",
        &format!("{LOCKS}{READ}"),
        migration,
        1000,
        tables,
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("locked the sequence of public.badges, public.tickets")
            || summary.contains("locked the sequence of public.tickets, public.badges"),
        "{summary}"
    );
    let f = findings(&w);
    assert!(
        f.iter().any(|f| f.contains("on sequence public.ticket_seq")
            && f.contains("no replayed INSERT into public.tickets")
            && f.contains("SHARE ROW EXCLUSIVE")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|f| f.contains("on sequence public.badges_id_seq")),
        "{f:#?}"
    );
    println!("reads only: {summary}");
    out.code(0);

    let insert = r#"
[[checks.workload.query]]
name = "new ticket"
sql = "INSERT INTO tickets (note) VALUES ($1)"
params = "SELECT note FROM tickets LIMIT 100"
rate = "10/s"
"#;
    let p = accounts_project(
        "workload_seq_insert",
        &format!("{LOCKS}{READ}{insert}"),
        migration,
        1000,
        tables,
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "failed", "{w:#}");
    assert_eq!(w["data"]["longest"]["query"], "new ticket", "{w:#}");
    let blocked = w["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["what"].as_str().is_some_and(|w| w.contains("was blocked")))
        })
        .unwrap_or_else(|| panic!("no max-blocked finding: {w:#}"));
    assert!(
        blocked["location"]
            .as_str()
            .is_some_and(|a| a.starts_with("public.tickets")),
        "{blocked:#}"
    );
    let why = blocked["why"].as_str().unwrap_or_default();
    assert!(
        why.contains("sequence public.ticket_seq")
            && why.contains("every INSERT into public.tickets"),
        "{why}"
    );
    // The identity column's table is still not covered: said, not passed.
    assert!(
        findings(&w)
            .iter()
            .any(|f| f.contains("not checked") && f.contains("public.badges")),
        "{w:#}"
    );
    println!("with an insert: {why}");
    out.code(neon_migrate::exit::CHECK_FAILED);
}

/// From an outside attacker: the parent's `pg_stat_statements` holds Alembic's own
/// statements (`UPDATE alembic_version …`, run by every deploy), which were replayed as the
/// application's; the fallback source picked `alembic_version` from the migration's SQL (and
/// among the largest tables). They are left out, and the details say which and why.
fn workload_rows_the_tools_tracking_tables_are_not_replayed() {
    let own = pgss_cluster("tracking");
    let rt = rt();
    let c = &own.0;
    rt.block_on(async {
        query_on(c, "postgres", "DROP DATABASE IF EXISTS parent WITH (FORCE)").await.unwrap();
        query_on(c, "postgres", "DROP DATABASE IF EXISTS child WITH (FORCE)").await.unwrap();
        query_on(c, "postgres", "CREATE DATABASE parent").await.unwrap();
        query_on(
            c,
            "parent",
            "CREATE EXTENSION pg_stat_statements;
             CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
             INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 2000) g;
             CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
             INSERT INTO alembic_version VALUES ('a');
             ANALYZE;
             SELECT pg_stat_statements_reset();",
        )
        .await
        .unwrap();
        let app = pg::connect(&Secret::new(c.url("parent"))).await.unwrap();
        for i in 1..=100 {
            // Alembic's own statements, more often than the application's.
            app.simple_query("SELECT alembic_version.version_num FROM alembic_version").await.unwrap();
            app.simple_query("UPDATE alembic_version SET version_num='a' WHERE alembic_version.version_num = 'a'")
                .await
                .unwrap();
            if i % 2 == 0 {
                app.simple_query(&format!("SELECT id, email FROM accounts WHERE id = {}", 1 + i * 7))
                    .await
                    .unwrap();
            }
        }
        drop(app);
        tokio::time::sleep(Duration::from_millis(300)).await;
        query_on(c, "postgres", "CREATE DATABASE child TEMPLATE parent").await.unwrap();
    });
    let url = Secret::new(c.url("child"));
    let cfg = config("enabled = true\nbaseline = \"500ms\"\nrate = \"20/s\"");
    let target = Target {
        url: &url,
        parent_url: None,
        parent_database: Some("parent"),
        pending_sql: None,
        parent_error: None,
    };
    let plan = rt.block_on(sources::plan(&cfg, &target)).expect("plan");
    assert_eq!(plan.origin, Origin::PgStatStatements, "{:?}", plan.notes);
    let sqls: Vec<&str> = plan.queries.iter().map(|q| q.sql.as_str()).collect();
    assert!(
        sqls.iter().all(|q| !q.contains("alembic_version")),
        "{sqls:#?}"
    );
    assert!(
        sqls.iter().any(|q| q.contains("FROM accounts")),
        "{sqls:#?}"
    );
    let left: Vec<&sources::Skipped> = plan
        .skipped
        .iter()
        .filter(|s| s.query.contains("alembic_version"))
        .collect();
    assert_eq!(left.len(), 2, "{:#?}", plan.skipped);
    assert!(
        left.iter().all(|s| s.why.contains("tracking table")),
        "{left:#?}"
    );

    // The fallback: the migration's SQL names alembic_version; and with no SQL, the largest
    // tables (two here) leave it out too.
    let pending = "ALTER TABLE accounts ADD COLUMN x int;\nUPDATE alembic_version SET version_num = 'b';\n";
    for sql in [Some(pending), None] {
        let target = Target {
            url: &url,
            parent_url: None,
            parent_database: None,
            pending_sql: sql,
            parent_error: None,
        };
        let plan = rt.block_on(sources::plan(&cfg, &target)).expect("plan");
        assert_eq!(plan.origin, Origin::PrimaryKey, "{:?}", plan.notes);
        assert_eq!(plan.tables, ["public.accounts"], "{:?}", plan.notes);
        assert!(
            plan.queries.iter().all(|q| !q.sql.contains("alembic_version")),
            "{:#?}",
            plan.queries
        );
        if sql.is_some() {
            assert!(
                plan.notes
                    .iter()
                    .any(|n| n.contains("alembic_version") && n.contains("tracking table")),
                "{:?}",
                plan.notes
            );
        }
    }
    drop(own);
}

/// From a second outside attacker (r2, r4/r6): the migration keeps 5,000 rows locked for
/// 1.5 s. A declared write of other rows changed rows, so the check passed, though no write
/// met a locked row: now NOT CHECKED, saying where to aim it. A declared `SELECT … FOR
/// UPDATE` was replayed in a read-only transaction and failed (a false red): it is a locking
/// read, replayed as a write, and its wait for the locked rows is measured and blamed.
fn workload_rows_writes_of_other_rows_are_not_checked_and_a_locking_read_meets_the_locked_ones() {
    let migration = (
        "0001_backfill.sql",
        "UPDATE accounts SET n = n + 1 WHERE id <= 5000;\nSELECT pg_sleep(1.5);\n",
    );
    let other_rows = r#"
[[checks.workload.query]]
name = "bump other account"
sql = "UPDATE accounts SET n = n - 1 WHERE id = $1"
params = "SELECT id FROM accounts WHERE id > 8000 LIMIT 500"
rate = "20/s"
"#;
    let p = accounts_project(
        "workload_rows_other",
        &format!("{LOCKS}{READ}{other_rows}"),
        migration,
        10_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "not-run", "{w:#}");
    let f = findings(&w);
    assert!(
        f.iter().any(|f| f.contains("no replayed write was seen waiting for one of those rows")
            && f.contains("aim the write's `params` at rows the migration changes")),
        "{f:#?}"
    );

    let locking_read = r#"
[[checks.workload.query]]
name = "lock account"
sql = "SELECT id FROM accounts WHERE id = $1 FOR UPDATE"
params = "SELECT id FROM accounts WHERE id <= 5000 LIMIT 500"
rate = "20/s"
"#;
    let p = accounts_project(
        "workload_rows_for_update",
        &format!("{LOCKS}{READ}{locking_read}"),
        migration,
        10_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert!(
        !findings(&w).iter().any(|f| f.contains("read-only")),
        "a locking read is not replayed read-only: {w:#}"
    );
    assert_eq!(w["status"], "failed", "{w:#}");
    let longest = &w["data"]["longest"];
    assert_eq!(longest["query"], "lock account", "{w:#}");
    assert_eq!(longest["table"], "a row of public.accounts", "{w:#}");
    assert_eq!(longest["behind"], "migration", "{w:#}");
}

/// From a second outside attacker (r4): the migration locks 5,000 rows with `SELECT … FOR
/// UPDATE` (ROW SHARE on the table, no row changed, so no statistic counts them) and sleeps.
/// With only reads replayed it passed; every writer of those rows waited. Now NOT CHECKED.
fn workload_rows_a_migration_s_select_for_update_keeps_rows_locked_and_is_not_checked_with_reads_only() {
    let migration = (
        "0001_lock_rows.sql",
        "SELECT count(*) FROM (SELECT id FROM accounts WHERE id <= 5000 FOR UPDATE) s;\nSELECT pg_sleep(1.5);\n",
    );
    let p = accounts_project(
        "workload_rows_for_update_mig",
        &format!("{LOCKS}{READ}"),
        migration,
        10_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "not-run", "{w:#}");
    assert!(
        findings(&w).iter().any(|f| f.contains("locked rows of public.accounts with a locking read")
            && f.contains("holding ROW SHARE on public.accounts")),
        "{w:#}"
    );
}

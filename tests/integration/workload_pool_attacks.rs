//! The `workload` check against an outside attacker's false results, through the binary:
//!
//! - a SHARE lock blocks the replayed writes, which held every connection of a shared pool,
//!   so reads the lock never blocked waited for a connection and were reported as blocked;
//! - a session a custom tool left open after it exited kept its lock: the reads it blocked
//!   were blamed on the migration, with the locks check's (shorter) time;
//! - a lock shorter than the lock sampler's interval on a table no replayed query goes to
//!   passed the coverage rule.

use crate::support::cluster;
use crate::workload::{accounts_project, workload_result};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        workload_reads_a_share_lock_never_blocked_are_not_reported_blocked_behind_the_blocked_writes,
        workload_a_lock_kept_by_a_session_the_tool_left_open_is_named_as_such_with_its_observed_time,
        workload_a_lock_shorter_than_the_sampling_on_a_table_no_query_goes_to_is_not_checked,
        workload_a_changed_table_no_query_goes_to_is_not_checked_though_no_sample_caught_its_lock,
        workload_a_read_that_calls_a_writing_function_writes_nothing,
        workload_with_the_locks_check_off_coverage_is_not_checked_even_where_the_sql_is_known,
        workload_a_foreign_key_check_on_a_table_is_not_a_write_of_it,
        workload_fewer_connections_than_the_queries_found_is_said_in_the_details,
    ]
}

/// The query of `name` in the workload check's `data`.
fn query<'a>(w: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    w["data"]["queries"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == name))
        .unwrap_or_else(|| panic!("no query `{name}`: {w:#}"))
}

/// The findings' `what`s.
fn whats(w: &serde_json::Value) -> Vec<String> {
    w["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["what"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// From an outside attacker: under `LOCK … IN SHARE MODE` (what `CREATE INDEX` takes) the
/// replayed writes block; they held every connection of the one pool all queries shared, so
/// the reads — which SHARE does not block — waited for a connection and were reported as
/// blocked reads behind the migration's lock. Each query now has connections of its own.
fn workload_reads_a_share_lock_never_blocked_are_not_reported_blocked_behind_the_blocked_writes() {
    let config = r#"
[checks.locks]
access-exclusive-budget = "10s"

[checks.workload]
enabled = true
baseline = "1s"
max-blocked = "500ms"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 500"
rate = "100/s"

[[checks.workload.query]]
name = "bump account"
sql = "UPDATE accounts SET n = n + 1 WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 500"
rate = "100/s"
"#;
    let p = accounts_project(
        "workload_share_pool",
        config,
        (
            "0001_index.sql",
            "LOCK TABLE accounts IN SHARE MODE;\nSELECT pg_sleep(1.5);\nCREATE INDEX accounts_n ON accounts (n);\n",
        ),
        10_000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    // The writes were blocked by the SHARE lock: a true failure, named as such.
    assert_eq!(w["status"], "failed", "{w:#}");
    let bump = query(&w, "bump account");
    let read = query(&w, "read account");
    assert!(
        bump["during"]["max_ms"].as_f64().unwrap_or(0.0) >= 1000.0,
        "{w:#}"
    );
    assert_eq!(bump["slowest"]["behind"], "migration", "{w:#}");
    assert_eq!(bump["slowest"]["behind_lock"], "SHARE", "{w:#}");
    // Its requests waited up to ~1.5 s for one of its own connections, all held by writes
    // waiting for the lock: the lock's wait. At most the backlog's drain after the release is
    // the generator's own (tens of ms on a busy machine), and the reads never waited.
    let own = bump["generator_wait"]["longest_ms"].as_f64().unwrap_or(0.0);
    assert!(own < 300.0, "{w:#}");
    assert!(read["generator_wait"].is_null(), "{w:#}");
    // The reads never waited for the lock, nor for a connection held by a blocked write.
    assert!(read["during"]["count"].as_u64().unwrap_or(0) > 50, "{w:#}");
    let max = read["during"]["max_ms"].as_f64().unwrap_or(f64::MAX);
    assert!(max < 500.0, "reads are not blocked by SHARE: {max} ms\n{w:#}");
    assert!(read["slowest"]["behind"].is_null(), "{w:#}");
    assert!(
        !whats(&w).iter().any(|f| f.contains("`read account`")),
        "{w:#}"
    );
    println!(
        "under SHARE: reads max {max} ms, writes max {} ms; {}",
        bump["during"]["max_ms"], w["summary"]
    );
    out.code(neon_migrate::exit::CHECK_FAILED);
}

/// From an outside attacker: a custom tool that leaves a session behind (here a psql in the
/// background holding ACCESS EXCLUSIVE for 2.5 s) exits after 0.5 s. The reads it blocked
/// for ~2 s were blamed on "the migration" with the locks check's ~0.5 s — the lock sampler
/// stops when the tool exits. The blocker is now named as a session that outlived the
/// migration tool, with the time the workload's own observer saw it hold the lock.
fn workload_a_lock_kept_by_a_session_the_tool_left_open_is_named_as_such_with_its_observed_time() {
    let psql = cluster().bin.join("psql");
    let script = format!(
        "set -e\n\
         \"{psql}\" -X -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c \"insert into trk values ('0001_add')\" -c 'alter table accounts add column extra int'\n\
         \"{psql}\" -X -q \"$DATABASE_URL\" -c \"set application_name = 'left behind'\" -c begin -c 'lock table accounts in access exclusive mode' -c 'select pg_sleep(2.5)' -c commit >/dev/null 2>&1 </dev/null &\n\
         sleep 0.5\n",
        psql = psql.display()
    );
    let config = r#"
[tool]
name = "leaves-a-session"
command = "sh migrate.sh"
tracking-query = "select name from trk order by name"

[checks.locks]
access-exclusive-budget = "10s"

[checks.workload]
enabled = true
baseline = "1s"
max-blocked = "300ms"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 500"
rate = "100/s"
"#;
    let p = accounts_project(
        "workload_left_open",
        config,
        (
            "0001_add.sql",
            "alter table accounts add column extra int;\n",
        ),
        10_000,
        "CREATE TABLE trk (name text PRIMARY KEY)",
    )
    .file("migrate.sh", &script)
    .commit();
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "failed", "{w:#}");
    let longest = &w["data"]["longest"];
    assert!(longest["ms"].as_f64().unwrap_or(0.0) >= 1500.0, "{w:#}");
    assert_eq!(longest["behind"], "outlived-tool", "{w:#}");
    // The time said is what was observed: the lock held ≥ 2 s, most of it after the tool exited.
    let held = longest["behind_held_ms"].as_u64().unwrap_or(0);
    let after = longest["behind_held_after_ms"].as_u64().unwrap_or(0);
    assert!(held >= 2000 && after >= 1500, "{w:#}");
    let what = whats(&w)
        .into_iter()
        .find(|f| f.contains("was blocked"))
        .unwrap_or_else(|| panic!("no max-blocked finding: {w:#}"));
    assert!(
        what.contains("a session that outlived the migration tool")
            && what.contains(&format!("for ~{held} ms as observed")),
        "{what}"
    );
    assert!(!what.contains("the locks check measured"), "{what}");
    // The locks check says the lock outlived the tool, not that it lasted its ~0.5 s.
    let locks = crate::support::stage(&report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == "locks"))
        .cloned()
        .unwrap_or_default();
    let text = locks.to_string();
    assert!(
        text.contains("still held") && text.contains("after the migration tool exited"),
        "{locks:#}"
    );
    println!("{what}\nlocks: {}", locks["findings"][0]["what"]);
    out.code(neon_migrate::exit::CHECK_FAILED);
}

/// From an outside attacker: `ALTER TABLE other …` on a small table holds ACCESS EXCLUSIVE
/// for a millisecond or two — between two samples of the lock sampler (`sample-interval`
/// raised to 500 ms here so that it is missed every time; at the default 20 ms it is missed
/// nearly every time) — and no replayed query reads `other`: the coverage rule saw no lock
/// and passed. The tables the migration's SQL names now count too.
fn workload_a_lock_shorter_than_the_sampling_on_a_table_no_query_goes_to_is_not_checked() {
    let config = r#"
[checks.locks]
access-exclusive-budget = "10s"
sample-interval = "500ms"

[checks.workload]
enabled = true
baseline = "500ms"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "100/s"
"#;
    let p = accounts_project(
        "workload_short_lock",
        config,
        (
            "0001_other.sql",
            "ALTER TABLE other ADD COLUMN extra int;\n",
        ),
        1000,
        "CREATE TABLE other (id int PRIMARY KEY, v int)",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("NOT CHECKED: ") && summary.contains("public.other"),
        "{summary}"
    );
    assert!(
        whats(&w).iter().any(|f| f.contains("ACCESS EXCLUSIVE")
            && f.contains("`ALTER TABLE other ADD COLUMN …`")
            && f.contains("no replayed query reads public.other")),
        "{w:#}"
    );
    out.code(0);
}

/// From a real-project trial (Knex, no print-SQL mode): the migration added a column to a
/// small table (a lock of a millisecond, between two samples) that no replayed query goes to,
/// while the tool's own bookkeeping held ROW EXCLUSIVE on a table the queries read. That lock
/// was taken as the migration's table set, every table in it was covered, and the check
/// passed. The tables whose definition the migration changed (catalog before vs after) now
/// need a replayed query whether or not a sample caught their lock.
fn workload_a_changed_table_no_query_goes_to_is_not_checked_though_no_sample_caught_its_lock() {
    let psql = cluster().bin.join("psql");
    let script = format!(
        "set -e\n\
         \"{psql}\" -X -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c begin -c \"insert into trk values ('0001_funds')\" -c 'update accounts set n = n where id = 1' -c 'select pg_sleep(1.2)' -c commit >/dev/null\n\
         \"{psql}\" -X -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c 'alter table funds add column code text'\n",
        psql = psql.display()
    );
    let config = r#"
[tool]
name = "no-print-sql"
command = "sh migrate.sh"
tracking-query = "select name from trk order by name"

[checks.locks]
access-exclusive-budget = "10s"
sample-interval = "300ms"

[checks.workload]
enabled = true
baseline = "500ms"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "50/s"
"#;
    let p = accounts_project(
        "workload_changed_unseen",
        config,
        ("0001_funds.sh", "# adds funds.code (run by migrate.sh)\n"),
        1000,
        "CREATE TABLE trk (name text PRIMARY KEY); CREATE TABLE funds (id int PRIMARY KEY)",
    )
    .file("migrate.sh", &script)
    .commit();
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("NOT CHECKED: ") && summary.contains("public.funds"),
        "{summary}"
    );
    assert!(
        whats(&w).iter().any(|f| f.contains("changed the definition of public.funds")
            && f.contains("no replayed query goes to public.funds")),
        "{w:#}"
    );
    // The bookkeeping table is only written: nothing to replay there.
    assert!(!summary.contains("public.trk"), "{summary}");
}

/// From an outside attacker: a replayed read that calls a function which writes
/// (`SELECT log_audit($1)`) ran outside any transaction and committed its rows on the test
/// Neon database branch — the data check then saw rows the migration never added (hiding a
/// deletion, or blaming one on it). Reads now run read-only: such a query fails before the
/// migration and says so; nothing is written.
fn workload_a_read_that_calls_a_writing_function_writes_nothing() {
    let config = r#"
[checks.locks]
access-exclusive-budget = "10s"

[checks.workload]
enabled = true
baseline = "500ms"

[[checks.workload.query]]
name = "log a read"
sql = "SELECT log_audit($1)"
params = "SELECT id FROM accounts LIMIT 100"
rate = "50/s"
"#;
    let p = accounts_project(
        "workload_read_writes",
        config,
        ("0001_other.sql", "CREATE TABLE other (id int);\n"),
        1000,
        "CREATE TABLE audit (id serial PRIMARY KEY, account int); \
         CREATE FUNCTION log_audit(a int) RETURNS int LANGUAGE sql AS \
         'INSERT INTO audit (account) VALUES (a) RETURNING id'",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert!(
        whats(&w)
            .iter()
            .any(|f| f.contains("`log a read` failed before the migration started")
                && f.contains("read-only")),
        "{w:#}"
    );
    // A query that cannot run measured nothing: the rehearsal could not run as declared, which
    // is not the migration's failure (an outside attacker's false red).
    assert_eq!(w["status"], "not-run", "{w:#}");
    assert!(
        w["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("NOT RUN: `log a read` failed before the migration started")),
        "{w:#}"
    );
    // The data check saw no row appear in audit.
    let data = crate::support::stage(&report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == "data"))
        .cloned()
        .unwrap_or_default();
    assert!(
        data.to_string().contains("public.audit: 0 → 0 row(s)"),
        "{data:#}"
    );
}

/// From an outside attacker: with the locks check off, the coverage rule trusted the tables the
/// migration's SQL names — and `EXECUTE 'LOCK TABLE accounts …'` names none, so a query set
/// that never reads the locked table passed. Without the locks check the tables the migration
/// locks are not measured: NOT CHECKED.
fn workload_with_the_locks_check_off_coverage_is_not_checked_even_where_the_sql_is_known() {
    let config = r#"
[checks.locks]
enabled = false

[checks.workload]
enabled = true
baseline = "500ms"

[[checks.workload.query]]
name = "read other"
sql = "SELECT id FROM other WHERE id = $1"
params = "SELECT id FROM other LIMIT 10"
rate = "50/s"
"#;
    let p = accounts_project(
        "workload_locks_off",
        config,
        (
            "0001_dynamic.sql",
            "DO $$ BEGIN EXECUTE 'LOCK TABLE ' || 'accounts' || ' IN ACCESS EXCLUSIVE MODE'; PERFORM pg_sleep(1); END $$;\n",
        ),
        1000,
        "CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other SELECT generate_series(1, 10)",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let w = workload_result(&out.json());
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("NOT CHECKED: ") && summary.contains("which tables the migration locks"),
        "{summary}"
    );
    assert!(
        whats(&w).iter().any(|f| f.contains("the locks check is off")),
        "{w:#}"
    );
}

/// From an outside attacker: `INSERT INTO orders` checks its foreign key to `accounts`, which
/// locks `accounts` (ROW SHARE, the FK check's `FOR KEY SHARE`); every relation a write locked
/// counted as written, so a migration holding SHARE on `accounts` (`CREATE INDEX`, which
/// blocks writes to `accounts`) passed with no replayed write on `accounts`. A table is now
/// written only where the replayed write took ROW EXCLUSIVE (or stronger) on it.
fn workload_a_foreign_key_check_on_a_table_is_not_a_write_of_it() {
    let config = r#"
[checks.lint]
enabled = false

[checks.locks]
access-exclusive-budget = "10s"

[checks.workload]
enabled = true
baseline = "500ms"

[[checks.workload.query]]
name = "read account"
sql = "SELECT id, n FROM accounts WHERE id = $1"
params = "SELECT id FROM accounts LIMIT 100"
rate = "50/s"

[[checks.workload.query]]
name = "place order"
sql = "INSERT INTO orders (id, account_id) VALUES ($1 + 1000000, $1)"
params = "SELECT id FROM accounts LIMIT 100"
rate = "20/s"
"#;
    let p = accounts_project(
        "workload_fk_not_write",
        config,
        (
            "0001_index.sql",
            "CREATE INDEX accounts_n ON accounts (n);\nSELECT pg_sleep(1.5);\n",
        ),
        1000,
        "CREATE TABLE orders (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id))",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    assert_eq!(w["status"], "not-run", "{w:#}");
    let summary = w["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("NOT CHECKED: ") && summary.contains("public.accounts"),
        "{summary}"
    );
    assert!(
        whats(&w).iter().any(|f| f.contains("SHARE")
            && f.contains("no replayed query writes public.accounts")),
        "{w:#}"
    );
    // The write goes to orders, the read (and the FK check) to accounts.
    let cov = &w["data"]["coverage"];
    assert!(cov.to_string().contains("orders"), "{w:#}");
    assert!(
        !cov["writes"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t.as_str().is_some_and(|t| t.contains("accounts")))),
        "{w:#}"
    );
    out.code(0);
}

/// From an outside attacker: `connections = 1` with two queries was raised to 2 without a
/// word (each query has connections of its own). Declared queries are refused below one
/// connection each (a config error); with the queries found, the details say it.
fn workload_fewer_connections_than_the_queries_found_is_said_in_the_details() {
    let config = r#"
[checks.locks]
access-exclusive-budget = "10s"

[checks.workload]
enabled = true
baseline = "500ms"
connections = 1
rate = "20/s"
"#;
    let p = accounts_project(
        "workload_conn_found",
        config,
        (
            "0001_add.sql",
            "ALTER TABLE accounts ADD COLUMN extra int;\n",
        ),
        1000,
        "",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let w = workload_result(&report);
    let details = w["details"].to_string();
    assert!(
        details.contains("`connections = 1` is fewer than the 2 queries found")
            && details.contains("so 2 were opened")
            && details.contains("2 connection(s)"),
        "{w:#}"
    );
}

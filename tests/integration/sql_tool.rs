//! The built-in `sql` tool: history checksums, `$$` bodies, and files that must run outside
//! a transaction.

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        editing_an_applied_migration_is_a_checksum_mismatch,
        dollar_quoted_function_bodies_apply_and_work,
        create_index_concurrently_needs_the_no_transaction_header,
        a_file_that_ends_the_tools_transaction_is_refused_and_not_recorded,
    ]
}

fn editing_an_applied_migration_is_a_checksum_mismatch() {
    let p = Project::new("checksum_mismatch")
        .migration(
            "0001_init.sql",
            "create table accounts (id int primary key);\n",
        )
        .commit()
        .git_branch("feature/checksum");
    p.run(&["run", "deploy"]).code(exit::OK);
    assert!(p.main_has("public.accounts"));

    let p = p.migration(
        "0001_init.sql",
        "create table accounts (id bigint primary key);\n",
    );
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("checksum mismatch: 0001_init.sql (applied as 0001_init.sql) changed after being applied")
        .stdout_has("never edit an applied migration");
    assert!(
        out.stage_line("delete-neon-database-branch")
            .starts_with("  ✓"),
        "{out}"
    );
    p.assert_no_test_db_branches();

    // Nothing reaches main either: history is verified before anything runs.
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    let report = out.json();
    assert_eq!(crate::support::stage(&report, "apply")["status"], "skipped");
    let ty = p.main_sql("select data_type from information_schema.columns where table_name = 'accounts' and column_name = 'id'");
    assert_eq!(ty[0][0].as_deref(), Some("integer"));
    p.assert_no_test_db_branches();
}

const COUNTERS: &str = r#"create table counters (name text primary key, n int not null default 0);

-- Semicolons inside the bodies must not split the file.
create function bump(p text) returns int language plpgsql as $$
declare
    result int;
begin
    insert into counters (name, n) values (p, 1)
        on conflict (name) do update set n = counters.n + 1
        returning n into result;
    return result; -- a comment; with a semicolon
end;
$$;

create function twice(x int) returns int language sql immutable as $body$ select x * 2; $body$;

comment on function twice(int) is 'doubles; safely';
"#;

fn dollar_quoted_function_bodies_apply_and_work() {
    let p = Project::new("dollar_quoted")
        .config(
            r#"
[[checks.sql]]
name = "bump counts up"
query = "select bump('a') + bump('a')"
expect-value = "3"

[[checks.sql]]
name = "twice doubles"
query = "select twice(21)"
expect-value = "42"
"#,
        )
        .migration("0001_counters.sql", COUNTERS)
        .commit()
        .git_branch("feature/functions");

    let out = p.run(&["run", "deploy"]);
    out.code(exit::OK)
        .stdout_has("✓ bump counts up")
        .stdout_has("✓ twice doubles");
    p.assert_no_test_db_branches();
    // On main, the function works too; the checks' calls did not happen here.
    assert_eq!(
        p.main_sql("select bump('z'), twice(5)"),
        vec![vec![Some("1".to_owned()), Some("10".to_owned())]]
    );
    assert_eq!(
        p.main_sql("select count(*) from counters where name = 'a'")[0][0].as_deref(),
        Some("0")
    );
}

const ORDERS: &str = "create table orders (id int primary key, total numeric not null);\n";

const CONCURRENTLY: &str = r#"-- neon-migrate: no-transaction
-- Builds the index without blocking writes.

create index concurrently orders_total_idx on orders (total);
do $$ begin perform 1; raise notice 'done; really'; end $$;
"#;

const VALID_INDEX: &str = r#"
[[checks.sql]]
name = "the index is valid"
query = "select indisvalid from pg_index where indexrelid = 'orders_total_idx'::regclass"
expect-true = true
"#;

fn create_index_concurrently_needs_the_no_transaction_header() {
    let p = Project::new("index_concurrently")
        .config(VALID_INDEX)
        .migration("0001_orders.sql", ORDERS)
        .migration("0002_orders_total_idx.sql", CONCURRENTLY)
        .commit()
        .git_branch("feature/index-concurrently");
    let out = p.run(&["run", "deploy"]);
    out.code(exit::OK)
        .stdout_has("✓ the index is valid")
        .stdout_has("applied 0002_orders_total_idx.sql");
    p.assert_no_test_db_branches();
    let valid = p.main_sql(
        "select indisvalid from pg_index where indexrelid = 'orders_total_idx'::regclass",
    );
    assert_eq!(valid, vec![vec![Some("t".to_owned())]]);
    let recorded = p.main_sql("select file from neon_migrate.schema_migrations order by version");
    assert_eq!(recorded.len(), 2, "{recorded:?}");

    // Without the header the file runs in a transaction, which Postgres refuses.
    let q = Project::new("index_in_transaction")
        .config(VALID_INDEX)
        .migration("0001_orders.sql", ORDERS)
        .migration(
            "0002_orders_total_idx.sql",
            "create index concurrently orders_total_idx on orders (total);\n",
        )
        .commit()
        .git_branch("feature/index-in-transaction");
    let out = q.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("0002_orders_total_idx.sql")
        .stdout_has("CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
    q.assert_no_test_db_branches();
}

/// A file that runs in the tool's transaction and ends it itself: its `BEGIN; … ROLLBACK;`
/// silently undid everything above it, and the file was recorded as applied (attack9 F11).
fn a_file_that_ends_the_tools_transaction_is_refused_and_not_recorded() {
    // squawk's `transaction-nesting` would fail the run too: the tool itself must.
    let no_lint = "[checks.lint]\nignore = [\"transaction-nesting\"]\n";
    let p = Project::new("own_rollback")
        .config(no_lint)
        .migration("0001_init.sql", "create table accounts (id int primary key);\n")
        .commit();
    p.run(&["run", "deploy"]).code(exit::OK);
    let p = p
        .migration(
            "0002_rollback.sql",
            "create table important (id int);\nalter table accounts enable row level security;\n\
             begin; create table scratch (id int); rollback;\ncreate table later (id int);\n",
        )
        .commit()
        .git_branch("feature/own-rollback");
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("0002_rollback.sql: the file ends the transaction the sql tool runs it in");
    p.assert_no_test_db_branches();
    assert!(!p.main_has("public.important"), "nothing reached main");

    // Savepoints stay inside the tool's transaction: no false failure.
    // (squawk calls `ROLLBACK TO SAVEPOINT` nesting too.)
    let q = Project::new("own_savepoint")
        .config(no_lint)
        .migration(
            "0001_init.sql",
            "create table a (id int);\nsavepoint s; create table b (id int); \
             rollback to savepoint s;\ncreate table c (id int);\n",
        )
        .commit()
        .git_branch("feature/own-savepoint");
    q.run(&["run", "deploy"]).code(exit::OK);
    assert!(q.main_has("public.a") && q.main_has("public.c") && !q.main_has("public.b"));
}

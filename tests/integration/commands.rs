//! `diff` and `generate` through the real binary (every output format, every kind of source,
//! destructive plans refused and allowed), and README promises that had no test: `[tool]
//! timeout` ends everything the tool started, apply hands `lock_timeout`/`statement_timeout` to
//! non-`sql` tools in `PGOPTIONS`, a kept `pre-push.old` runs first on the same stdin, tag
//! pushes are skipped, and `NEON_MIGRATE=0` bypasses the hook under every hook manager.

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use neon_migrate::exit;

use crate::hooks::{path_with, skip, with_husky, with_lefthook, with_pre_commit, Manager, Pushable};
use crate::reliability::NeonEmu;
use crate::support::{cluster, note_secret, query, unique_db, Output, Project, BIN};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        diff_prints_sql_json_and_markdown_and_the_sql_applied_leaves_an_empty_diff,
        diff_reads_main_a_url_a_sql_file_and_a_neon_database_branch_name,
        diff_loads_a_sql_file_with_transaction_control_as_psql_does,
        diff_of_a_bad_source_exits_6_naming_it_and_unsupported_changes_exit_4,
        diff_and_generate_work_on_the_first_use_when_the_main_database_does_not_exist_yet,
        generate_writes_the_next_migration_that_proves_and_a_second_generate_finds_nothing,
        generate_marks_its_own_helper_constraint_for_the_lint,
        generate_refuses_a_destructive_plan_without_allow_destructive_and_writes_it_with,
        generate_refuses_a_non_sql_tool_a_missing_schema_and_an_empty_name,
        generate_runs_after_every_pending_migration_and_never_overwrites_one,
        generate_writes_a_foreign_key_on_an_existing_table_to_validate_in_its_own_transaction,
        generate_writes_begin_atomic_bodies_and_rule_actions_the_sql_tool_runs_without_a_transaction,
        diff_and_generate_on_the_neon_provider_read_main_through_the_api_and_write_a_no_transaction_file,
        tool_timeout_kills_the_tool_and_every_process_it_started,
        apply_gives_a_command_tool_lock_and_statement_timeouts_in_pgoptions_on_main,
        git_push_runs_the_kept_pre_push_old_first_on_the_same_stdin,
        git_push_of_a_kept_pre_push_old_that_fails_stops_the_push_before_neon_migrate,
        git_push_of_a_tag_proves_nothing,
        husky_with_neon_migrate_0_bypasses_neon_migrate => skip(&[Manager::Husky]),
        lefthook_with_neon_migrate_0_bypasses_neon_migrate => skip(&[Manager::Lefthook]),
        pre_commit_with_neon_migrate_0_bypasses_neon_migrate => skip(&[Manager::PreCommit]),
    ]
}

// ---- diff ---------------------------------------------------------------------------------

const SQL_TOOL: &str = "[tool]\nname = \"sql\"\n";
const CUSTOMERS: &str = "create table customers (id bigint primary key, name text not null);\n";
const DESIRED: &str = "create table customers (id bigint primary key, name text not null);\n\
create table orders (id bigint primary key, customer_id bigint not null references customers (id), total numeric(10, 2) not null);\n\
create index orders_customer_idx on orders (customer_id);\n";

/// Runs the binary and returns its output and process id (scratch databases carry the pid).
fn run_with_pid(p: &Project, args: &[&str]) -> (Output, u32) {
    let started = Instant::now();
    let mut c = p.command(args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = c.spawn().expect("spawn neon-migrate");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait for neon-migrate");
    let out = Output::recorded(format!("neon-migrate {}", args.join(" ")), &out, started.elapsed());
    (out, pid)
}

/// Asserts that the process `pid` left no scratch database behind.
#[track_caller]
fn no_scratch_left(p: &Project, pid: u32) {
    let rows = p
        .block_on(query(
            "postgres",
            &format!(
                "SELECT datname FROM pg_database WHERE datname LIKE 'neon\\_migrate\\_scratch\\_{pid}\\_%'"
            ),
        ))
        .expect("list scratch databases");
    assert!(rows.is_empty(), "scratch databases left behind: {rows:?}");
}

/// Runs `diff` and checks it left no scratch database.
#[track_caller]
fn diff(p: &Project, args: &[&str]) -> Output {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let (out, pid) = run_with_pid(p, &all);
    no_scratch_left(p, pid);
    out
}

/// Runs `file` on `db` with psql, stopping at the first error.
#[track_caller]
fn psql_file(db: &str, file: &Path) {
    let out = std::process::Command::new(cluster().bin.join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(cluster().url(db))
        .arg("-f")
        .arg(file)
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql -f {} failed: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn diff_prints_sql_json_and_markdown_and_the_sql_applied_leaves_an_empty_diff() {
    let p = Project::new("diff_formats")
        .config(SQL_TOOL)
        .file("schema.sql", DESIRED)
        .commit();
    p.main_sql(CUSTOMERS);

    // SQL (the default, for humans and psql): only what is missing, each statement in order.
    let sql = diff(&p, &["--from", "main", "--to", "schema.sql"]);
    sql.code(exit::OK)
        .stdout_has("SET check_function_bodies = false;")
        .stdout_has("CREATE TABLE public.orders")
        .stdout_has("orders_customer_idx")
        .stdout_has("FOREIGN KEY (customer_id) REFERENCES public.customers(id)")
        .stdout_lacks("CREATE TABLE public.customers");
    let explicit = diff(
        &p,
        &["--from", "main", "--to", "schema.sql", "--format", "sql"],
    );
    explicit.code(exit::OK);
    assert_eq!(explicit.stdout, sql.stdout, "`--format sql` is the default");

    // JSON: versioned, with both fingerprints and the statements.
    let json = diff(
        &p,
        &["--from", "main", "--to", "schema.sql", "--format", "json"],
    );
    json.code(exit::OK);
    let v = json.json();
    assert_eq!(v["schema_version"], 1, "{json}");
    let (from_fp, to_fp) = (v["from_fingerprint"].clone(), v["to_fingerprint"].clone());
    assert!(from_fp.is_string() && to_fp.is_string(), "{json}");
    assert_ne!(from_fp, to_fp, "the schemas differ\n{json}");
    let statements = v["plan"]["statements"].as_array().expect("statements");
    let texts: Vec<&str> = statements
        .iter()
        .map(|s| s["sql"].as_str().unwrap_or_default())
        .collect();
    assert!(
        texts
            .iter()
            .any(|s| s.contains("CREATE TABLE public.orders")),
        "{json}"
    );
    assert!(
        texts.iter().all(|s| sql.stdout.contains(s)),
        "the JSON statements are the SQL output's\n{json}\n{sql}"
    );

    // Markdown: a count and a table with one row per statement.
    let md = diff(
        &p,
        &[
            "--from",
            "main",
            "--to",
            "schema.sql",
            "--format",
            "markdown",
        ],
    );
    md.code(exit::OK)
        .stdout_has(&format!("{} statement(s)", statements.len()))
        .stdout_has("| # | statement | hazards |")
        .stdout_has("| 1 |")
        .stdout_has("CREATE TABLE public.orders");

    // The SQL applied to main gives the desired schema: a second diff is empty everywhere.
    let script = p.path().join("plan.sql");
    std::fs::write(&script, &sql.stdout).unwrap();
    psql_file(p.main_db(), &script);
    assert!(p.main_has("public.orders"));
    diff(&p, &["--from", "main", "--to", "schema.sql"])
        .code(exit::OK)
        .stdout_has("-- no schema changes")
        .stdout_lacks("CREATE");
    let v = diff(&p, &["--to", "schema.sql", "--format", "json"])
        .code(exit::OK)
        .json();
    assert_eq!(v["plan"]["statements"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["from_fingerprint"], v["to_fingerprint"]);
    assert_eq!(
        v["to_fingerprint"], to_fp,
        "main now has the desired schema"
    );
    diff(&p, &["--to", "schema.sql", "--format", "markdown"])
        .code(exit::OK)
        .stdout_has("No schema changes.");

    // Destructive changes are shown with their hazard (diff never refuses: it writes nothing).
    let p = p.file("smaller.sql", CUSTOMERS);
    diff(&p, &["--from", "main", "--to", "smaller.sql"])
        .code(exit::OK)
        .stdout_has("-- hazard deletes_data:")
        .stdout_has("DROP TABLE public.orders");
    assert!(p.main_has("public.orders"), "diff changes nothing");
    p.assert_no_test_db_branches();
}

/// A schema file's `BEGIN; … ROLLBACK;` rolls back only its own block, and its `SET LOCAL`
/// outside a block does nothing, as under `psql -f`. Sent as one batch, the ROLLBACK threw
/// away everything above it: the plan silently missed a schema, its tables and a policy
/// (attack9 F11).
fn diff_loads_a_sql_file_with_transaction_control_as_psql_does() {
    let p = Project::new("diff_sql_rollback")
        .config(SQL_TOOL)
        .file(
            "schema.sql",
            "begin; create table public.tmp_check (id int); rollback;\n\
             create schema app;\ncreate table app.t (id int primary key, x int);\n\
             alter table app.t enable row level security;\n\
             create policy only_owner on app.t using (x = 1);\n\
             begin; create table public.tmp_check (id int); rollback;\n\
             set local search_path = app;\ncreate table public.audit (id int);\n\
             create table t2 (id int);\n",
        )
        .file("broken.sql", "create table ok (id int);\nbegin;\nselect 1/0;\n")
        .commit();
    diff(&p, &["--to", "schema.sql"])
        .code(exit::OK)
        .stdout_has("CREATE SCHEMA app")
        .stdout_has("CREATE TABLE app.t")
        .stdout_has("CREATE POLICY only_owner ON app.t")
        .stdout_has("CREATE TABLE public.audit")
        .stdout_has("CREATE TABLE public.t2")
        .stdout_lacks("tmp_check")
        .stdout_lacks("app.t2");
    // The failing statement's line is named.
    diff(&p, &["--to", "broken.sql"])
        .code(exit::PROVIDER)
        .stderr_has("broken.sql:3 does not load: division by zero");
}

fn diff_reads_main_a_url_a_sql_file_and_a_neon_database_branch_name() {
    let p = Project::new("diff_sources")
        .config(SQL_TOOL)
        .file("schema.sql", DESIRED)
        .file("db/current.sql", CUSTOMERS)
        .commit();
    p.main_sql(CUSTOMERS);
    let want = |out: &Output| {
        out.code(exit::OK)
            .stdout_has("CREATE TABLE public.orders")
            .stdout_lacks("CREATE TABLE public.customers");
    };
    // `main`, implicitly and by name.
    want(&diff(&p, &["--to", "schema.sql"]));
    // A .sql file on both sides, relative to the config's folder (also from a subfolder) and
    // absolute.
    want(&diff(
        &p,
        &["--from", "db/current.sql", "--to", "schema.sql"],
    ));
    std::fs::create_dir_all(p.path().join("sub")).unwrap();
    let mut c = p.command(&[
        "-C",
        "sub",
        "diff",
        "--from",
        "db/current.sql",
        "--to",
        "schema.sql",
    ]);
    c.current_dir(p.path());
    want(&crate::support::run_command(c, &["-C sub diff"]));
    let absolute = p.path().join("schema.sql").display().to_string();
    want(&diff(&p, &["--from", "main", "--to", &absolute]));
    // A connection URL (with its password: never printed).
    let url = cluster().url(p.main_db());
    want(&diff(&p, &["--from", &url, "--to", "schema.sql"]));
    // A Neon database branch name: a database of the local server.
    let copy = unique_db("diff_sources_copy");
    p.block_on(query(
        "postgres",
        &format!("CREATE DATABASE \"{copy}\" TEMPLATE template0"),
    ))
    .expect("create the Neon database branch");
    p.block_on(query(&copy, DESIRED)).expect("load it");
    want(&diff(&p, &["--from", "main", "--to", &copy]));
    // Reversed: the plan goes the other way.
    diff(&p, &["--from", &copy, "--to", "main"])
        .code(exit::OK)
        .stdout_has("DROP TABLE public.orders");
    p.block_on(query(
        "postgres",
        &format!("DROP DATABASE \"{copy}\" WITH (FORCE)"),
    ))
    .expect("drop the copy");
}

fn diff_of_a_bad_source_exits_6_naming_it_and_unsupported_changes_exit_4() {
    let p = Project::new("diff_bad")
        .config(SQL_TOOL)
        .file("broken.sql", "create table broken (id bigint,);\n")
        .file(
            "plain.sql",
            "create table events (id bigint not null, at date not null);\n",
        )
        // What pg_dump 18 (and 17.6, 16.10, …) writes around a dump, and a psql meta-command
        // a hand-written file may carry.
        .file(
            "dumped.sql",
            "\\restrict Zq9X1\ncreate table events (id bigint not null, at date not null);\n\\unrestrict Zq9X1\n",
        )
        .file(
            "meta.sql",
            "create table events (id bigint not null);\n\\connect other\ncreate table more (id int);\n",
        )
        .file(
            "partitioned.sql",
            "create table events (id bigint not null, at date not null) partition by range (at);\n",
        )
        .commit();
    p.main_sql(CUSTOMERS);
    diff(&p, &["--to", "broken.sql"])
        .code(exit::PROVIDER)
        .stderr_has("broken.sql does not load")
        .stderr_has(
            "help: sources: a postgres:// URL, `main`, a .sql file, or a Neon database branch name",
        );
    diff(&p, &["--from", "plain.sql", "--to", "dumped.sql"])
        .code(exit::OK)
        .stdout_has("-- no schema changes");
    diff(&p, &["--to", "meta.sql"])
        .code(exit::PROVIDER)
        .stderr_has("help: line 2 is the psql meta-command `\\connect`");
    diff(&p, &["--to", "no_such_neon_database_branch"])
        .code(exit::PROVIDER)
        .stderr_has("no Neon database branch (database) named `no_such_neon_database_branch`");
    // An unreachable URL: the error names no password.
    let password = "diff-url-password-9f3k";
    note_secret(password);
    diff(
        &p,
        &[
            "--to",
            &format!("postgres://someone:{password}@127.0.0.1:9/nowhere"),
        ],
    )
    .code(exit::PROVIDER);
    // A change the engine cannot express: printed as a warning, exit 4.
    diff(&p, &["--from", "plain.sql", "--to", "partitioned.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("-- WARNING: changes the schema engine cannot express")
        .stdout_has("partitioning or inheritance changed")
        .stderr_has("change(s) the schema engine cannot express");
}

// ---- generate -----------------------------------------------------------------------------

/// The migrations/ files, sorted.
fn migration_files(p: &Project) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(p.path().join("migrations"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `generate` and checks it left no scratch database and no test Neon database branch.
#[track_caller]
fn generate(p: &Project, args: &[&str]) -> Output {
    let mut all = vec!["generate"];
    all.extend_from_slice(args);
    let (out, pid) = run_with_pid(p, &all);
    no_scratch_left(p, pid);
    p.assert_no_test_db_branches();
    out
}

/// The one file that appeared in migrations/ since `before`; asserts its name.
#[track_caller]
fn new_file(p: &Project, before: &[String], slug: &str) -> (String, String) {
    let added: Vec<String> = migration_files(p)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    assert_eq!(added.len(), 1, "one new migration file: {added:?}");
    let name = added[0].clone();
    let (stamp, rest) = name.split_once('_').expect("<timestamp>_<name>.sql");
    assert!(
        stamp.len() == 14 && stamp.chars().all(|c| c.is_ascii_digit()),
        "a UTC timestamp YYYYMMDDHHMMSS: {name}"
    );
    assert_eq!(rest, format!("{slug}.sql"), "{name}");
    let text = std::fs::read_to_string(p.path().join("migrations").join(&name)).unwrap();
    (name, text)
}

/// `run pre-push` applies exactly `files`, in order, on a test Neon database branch.
#[track_caller]
fn applies_cleanly(p: &Project, files: &[&str]) {
    let run = p.run(&["run", "pre-push", "--json"]);
    let r = run.json();
    let migrate = crate::support::stage(&r, "migrate");
    assert_eq!(migrate["status"], "passed", "{run}");
    let applied: Vec<String> = migrate["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|l| l.as_str()?.strip_prefix("applied ").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(applied, files, "{run}");
    p.assert_no_test_db_branches();
}

/// attack10 F29: a generated SET NOT NULL adds a helper CHECK NOT VALID, validates it and drops
/// it again; the lint of the next `run pre-push` failed the file on that drop
/// (`ban-drop-constraint`), advice that does not apply. The drop is marked for squawk, and
/// nothing else is: the same rule on the user's own drop still fails.
fn generate_marks_its_own_helper_constraint_for_the_lint() {
    let p = Project::new("generate_lint_helper")
        .config(&format!("{SQL_TOOL}\n[checks.reversible]\nenabled = false\n"))
        .file(
            "schema.sql",
            "create table t (id bigint primary key, n bigint not null);\n",
        )
        .commit();
    p.main_sql(
        "create table t (id bigint primary key, n bigint, constraint n_positive check (n > 0)); \
         insert into t select g, g from generate_series(1, 100) g",
    );
    let before = migration_files(&p);
    generate(&p, &["n_not_null"]).code(exit::OK);
    let (name, text) = new_file(&p, &before, "n_not_null");
    assert!(
        text.contains("-- squawk-ignore ban-drop-constraint -- the plan's own helper CHECK"),
        "{text}"
    );
    let p = p.commit();
    let run = p.run(&["run", "pre-push", "--json"]);
    let r = run.json();
    let lint = crate::support::check_result(&r, "lint");
    let rules: Vec<&str> = lint["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["what"].as_str())
        .collect();
    // The user's own drop of n_positive is still flagged; the helper's is not.
    assert_eq!(
        rules
            .iter()
            .filter(|w| w.starts_with("ban-drop-constraint"))
            .count(),
        1,
        "{lint:#}"
    );
    let at: Vec<&str> = lint["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["what"].as_str().is_some_and(|w| w.starts_with("ban-drop-constraint")))
        .filter_map(|f| f["location"].as_str())
        .collect();
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| format!("{name}:{}:", i + 1))
            .unwrap_or_else(|| panic!("{needle} not in\n{text}"))
    };
    assert!(
        at.len() == 1 && at[0].starts_with(&line("DROP CONSTRAINT \"n_positive\"")),
        "{at:?} {lint:#}\n{text}"
    );
}

fn generate_writes_the_next_migration_that_proves_and_a_second_generate_finds_nothing() {
    // Main has nothing yet; the pending 0001 creates customers: generate must count it.
    let p = Project::new("generate_next")
        .config(SQL_TOOL)
        .migration("0001_customers.sql", CUSTOMERS)
        .file("schema.sql", DESIRED)
        .commit();
    p.ensure_main();
    let before = migration_files(&p);
    let out = generate(&p, &["add_orders"]);
    out.code(exit::OK)
        .stdout_has("wrote ")
        .stdout_has("_add_orders.sql (")
        .stdout_has("next: review it, then `neon-migrate run pre-push`");
    let (name, text) = new_file(&p, &before, "add_orders");
    assert!(
        text.contains("-- Generated by `neon-migrate generate add_orders` from schema.sql on "),
        "{text}"
    );
    assert!(text.contains("CREATE TABLE public.orders"), "{text}");
    assert!(text.contains("orders_customer_idx"), "{text}");
    // The search_path the plan was deparsed for is pinned, and the session's own set again
    // at the end (for the files the `sql` tool runs after it in the same session).
    let pin = text
        .find(neon_migrate::schema::PIN_SEARCH_PATH)
        .expect("pinned");
    let saved = text
        .find("SELECT pg_catalog.set_config('neon_migrate.search_path', pg_catalog.current_setting('search_path'), false);")
        .expect("kept");
    assert!(saved < pin && pin < text.find("CREATE TABLE public.orders").unwrap(), "{text}");
    assert!(
        text.trim_end().ends_with("SELECT pg_catalog.set_config('search_path', pg_catalog.current_setting('neon_migrate.search_path'), false);"),
        "{text}"
    );
    assert!(
        !text.contains("CREATE TABLE public.customers"),
        "the pending migration already creates customers:\n{text}"
    );
    assert!(
        !p.main_has("public.customers"),
        "generate never touches main"
    );

    // It proves on a test Neon database branch (0001 then the generated file)…
    let p = p.commit();
    // (Only the migrate stage is asserted: the lint check flags the generated file's
    // `ADD CONSTRAINT … PRIMARY KEY` on the table it creates; see the report of issue #15.)
    applies_cleanly(&p, &["0001_customers.sql", &name]);
    p.assert_no_test_db_branches();

    // …and with it pending, the desired schema is reached: nothing more to generate.
    let before = migration_files(&p);
    generate(&p, &["again"]).code(exit::OK).stdout_has(
        "no changes: the main Neon database branch plus the pending migrations already matches",
    );
    assert_eq!(migration_files(&p), before, "no file written");

    // The same through diff: main with both migrations applied is the schema file.
    for f in &before {
        psql_file(p.main_db(), &p.path().join("migrations").join(f));
    }
    diff(&p, &["--to", "schema.sql"])
        .code(exit::OK)
        .stdout_has("-- no schema changes");
}

fn generate_refuses_a_destructive_plan_without_allow_destructive_and_writes_it_with() {
    let p = Project::new("generate_destructive")
        .config(SQL_TOOL)
        .migration("0001_init.sql", DESIRED)
        .file("schema.sql", CUSTOMERS)
        .commit();
    p.ensure_main();
    let before = migration_files(&p);
    generate(&p, &["drop_orders"])
        .code(exit::CHECK_FAILED)
        .stderr_has("error: the plan deletes data:")
        .stderr_has("DROP TABLE public.orders")
        .stderr_has("help: if that is intended, run again with `--allow-destructive`");
    assert_eq!(migration_files(&p), before, "nothing written when refused");

    let out = generate(&p, &["drop_orders", "--allow-destructive"]);
    out.code(exit::OK).stdout_has("hazard: deletes_data");
    let (name, text) = new_file(&p, &before, "drop_orders");
    assert!(text.contains("DROP TABLE public.orders"), "{text}");
    assert!(text.contains("-- hazard deletes_data:"), "{text}");
    assert!(!text.contains("customers"), "customers stays:\n{text}");

    let p = p.commit();
    // (The lint check refuses the DROP TABLE, as it should: only the migrate stage counts.)
    applies_cleanly(&p, &["0001_init.sql", &name]);
    generate(&p, &["again"])
        .code(exit::OK)
        .stdout_has("no changes:");
    p.assert_no_test_db_branches();
}

/// A foreign key added to tables that hold rows is written `NOT VALID`, then validated: the
/// file runs statement by statement, or the `ADD`'s lock on both tables would be held through
/// the validating scan (the lint check says so too).
fn generate_writes_a_foreign_key_on_an_existing_table_to_validate_in_its_own_transaction() {
    let without_fk = "create table customers (id bigint primary key, name text not null);\n\
        create table orders (id bigint primary key, customer_id bigint not null);\n";
    let with_fk = "create table customers (id bigint primary key, name text not null);\n\
        create table orders (id bigint primary key, customer_id bigint not null references customers (id));\n";
    let p = Project::new("generate_fk_validate")
        .config(SQL_TOOL)
        .migration("0001_init.sql", without_fk)
        .file("schema.sql", with_fk)
        .commit();
    p.ensure_main();
    let before = migration_files(&p);
    generate(&p, &["orders_fk"]).code(exit::OK);
    let (name, text) = new_file(&p, &before, "orders_fk");
    assert_eq!(
        text.lines().next(),
        Some("-- neon-migrate: no-transaction"),
        "{text}"
    );
    assert!(text.contains("NOT VALID"), "{text}");
    assert!(text.contains("VALIDATE CONSTRAINT"), "{text}");
    let p = p.commit();
    applies_cleanly(&p, &["0001_init.sql", &name]);
}

/// A no-transaction file (a concurrent index build) that also holds a SQL-standard `BEGIN
/// ATOMIC` function and procedure and a rule with two actions: the `sql` tool splits it as psql
/// does (it used to cut the bodies at their first `;`, leaving the file half-applied).
fn generate_writes_begin_atomic_bodies_and_rule_actions_the_sql_tool_runs_without_a_transaction() {
    let init = "create table accounts (id int primary key, email text);\n\
        create table audit (id int, what text);\n";
    let desired = format!(
        "{init}create index accounts_email on accounts (email);\n\
        create function f_atomic(a int) returns int language sql begin atomic\n\
          select case when a > 0 then a + 1 else 0 end;\nend;\n\
        create procedure p_atomic(a int) language sql begin atomic\n\
          insert into audit values (a, 'one');\n  insert into audit values (a, 'two');\nend;\n\
        create rule accounts_ins as on insert to accounts do also\n\
          (insert into audit values (new.id, 'x'); insert into audit values (new.id, 'y'));\n"
    );
    let p = Project::new("generate_atomic")
        .config(SQL_TOOL)
        .migration("0001_init.sql", init)
        .file("schema.sql", &desired)
        .commit();
    p.ensure_main();
    let before = migration_files(&p);
    generate(&p, &["atomic"]).code(exit::OK);
    let (name, text) = new_file(&p, &before, "atomic");
    assert_eq!(
        text.lines().next(),
        Some("-- neon-migrate: no-transaction"),
        "{text}"
    );
    assert!(text.contains("BEGIN ATOMIC"), "{text}");
    assert!(text.contains("CREATE RULE accounts_ins"), "{text}");
    let p = p.commit();
    applies_cleanly(&p, &["0001_init.sql", &name]);
}

fn generate_refuses_a_non_sql_tool_a_missing_schema_and_an_empty_name() {
    let p = Project::new("generate_refusals")
        .config("[tool]\nname = \"custom\"\ncommand = \"true\"\n")
        .file("schema.sql", CUSTOMERS)
        .commit();
    generate(&p, &["x"]).code(exit::CONFIG).stderr_has(
        "`generate` writes files for the built-in `sql` tool, but this project uses `custom`",
    );
    let p = p.config(SQL_TOOL).commit();
    generate(&p, &["x", "--schema", "db/missing.sql"])
        .code(exit::CONFIG)
        .stderr_has("db/missing.sql does not exist")
        .stderr_has("pass `--schema FILE`");
    generate(&p, &["!!!"])
        .code(exit::USAGE)
        .stderr_has("give the migration a name");
    assert!(migration_files(&p).is_empty());
}

/// A pending migration versioned in the future (a clock ahead, or files named by hand): the
/// plan was made with it applied, so the new file must sort after it — and a file of the same
/// version and name must never be overwritten (it was: the pending migration's text was lost).
fn generate_runs_after_every_pending_migration_and_never_overwrites_one() {
    let pending = "99990101000000_same.sql";
    let p = Project::new("generate_after_pending")
        .config(SQL_TOOL)
        .migration(pending, CUSTOMERS)
        .file("schema.sql", DESIRED)
        .commit();
    p.ensure_main();
    let before = migration_files(&p);
    generate(&p, &["same"]).code(exit::OK).stdout_has("wrote ");
    let added: Vec<String> = migration_files(&p)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    assert_eq!(added, ["99990101000001_same.sql"], "{:?}", migration_files(&p));
    let kept = std::fs::read_to_string(p.path().join("migrations").join(pending)).unwrap();
    assert_eq!(kept, CUSTOMERS, "the pending migration is untouched");
    let text = std::fs::read_to_string(p.path().join("migrations").join(&added[0])).unwrap();
    assert!(
        text.contains("CREATE TABLE public.orders") && !text.contains("TABLE public.customers"),
        "{text}"
    );
}

// ---- the neon provider -------------------------------------------------------------------

fn diff_and_generate_on_the_neon_provider_read_main_through_the_api_and_write_a_no_transaction_file() {
    let tag = "commands_neon";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    // Main (through its endpoint) has both tables but not the index; the pending 0001 adds
    // `notes`; the desired schema has all three and the index.
    neon.main_sql(
        "create table customers (id bigint primary key, name text not null);\n\
         create table orders (id bigint primary key, customer_id bigint not null references customers (id), total numeric(10, 2) not null);",
    );
    let notes = "create table notes (id bigint primary key);\n";
    let p = p
        .config_raw(&neon.toml(SQL_TOOL))
        .migration("0001_notes.sql", notes)
        .file("schema.sql", &format!("{DESIRED}{notes}"))
        .commit();

    // diff: `main` is read through the Neon API, the .sql file on the embedded server.
    let online = neon.run(&p, &["diff", "--to", "schema.sql"]);
    online
        .code(exit::OK)
        .stdout_has("CREATE INDEX CONCURRENTLY orders_customer_idx")
        .stdout_has("-- runs outside a transaction")
        .stdout_has("CREATE TABLE public.notes")
        .stdout_lacks("CREATE TABLE public.orders");
    neon.run(&p, &["diff", "--to", "schema.sql", "--offline"])
        .code(exit::OK)
        .stdout_has("CREATE INDEX orders_customer_idx")
        .stdout_lacks("CONCURRENTLY");
    neon.run(&p, &["diff", "--to", "preview/x"])
        .code(exit::PROVIDER)
        .stderr_has("not supported with the neon provider yet; pass its connection URL");

    // generate: main plus the pending 0001 on a Neon database branch (deleted after), so only
    // the index is left, built CONCURRENTLY: the file runs outside a transaction.
    let before = migration_files(&p);
    neon.run(&p, &["generate", "orders_index"]).code(exit::OK);
    neon.wait_idle();
    assert_eq!(
        neon.names(),
        Vec::<String>::new(),
        "generate deleted its Neon database branch"
    );
    let (name, text) = new_file(&p, &before, "orders_index");
    assert_eq!(
        text.lines().next(),
        Some("-- neon-migrate: no-transaction"),
        "{text}"
    );
    assert!(
        text.contains("CREATE INDEX CONCURRENTLY orders_customer_idx"),
        "{text}"
    );
    assert!(
        !text.contains("notes"),
        "0001 is pending, not missing:\n{text}"
    );
    assert!(
        !neon.main_has("public.notes"),
        "generate never touches main"
    );

    let p = p.commit();
    let run = neon.run(&p, &["run", "pre-push", "--json"]);
    let r = run.json();
    let migrate = crate::support::stage(&r, "migrate");
    assert_eq!(migrate["status"], "passed", "{run}");
    assert!(run.stdout.contains(&format!("applied {name}")), "{run}");
    neon.run(&p, &["generate", "again"])
        .code(exit::OK)
        .stdout_has("no changes:");
    neon.wait_idle();
    assert_eq!(neon.names(), Vec::<String>::new());
}

// ---- [tool] timeout -----------------------------------------------------------------------

/// `(pid, process group, state)` of every process in /proc.
fn processes() -> Vec<(u32, u32, char)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut w = rest.split_whitespace();
        let state = w.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let pgrp = w.nth(1).and_then(|g| g.parse().ok()).unwrap_or(0);
        out.push((pid, pgrp, state));
    }
    out
}

/// Live (not zombie) processes of process group `pgid`.
fn live_in_group(pgid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|(_, g, state)| *g == pgid && *state != 'Z' && *state != 'X')
        .map(|(p, _, _)| p)
        .collect()
}

fn tool_timeout_kills_the_tool_and_every_process_it_started() {
    // The tool (`sh`, leader of its own process group) starts a grandchild `sleep` in the
    // background and another in the foreground, both detached from the output pipes, and
    // writes down its pid and the grandchild's.
    let tool = "[tool]\nname = \"slow\"\ntimeout = \"2s\"\ncommand = '''echo $$ > tool.pid; sleep 300 >/dev/null 2>&1 & echo $! > grandchild.pid; sleep 300 >/dev/null 2>&1'''\n";
    let p = Project::new("tool_timeout")
        .config(tool)
        .migration("0001_init.sql", CUSTOMERS)
        .commit();
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("`slow` did not finish within 2s");
    let read = |f: &str| -> u32 {
        std::fs::read_to_string(p.path().join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}\n{out}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let (pgid, grandchild) = (read("tool.pid"), read("grandchild.pid"));
    assert_ne!(pgid, 0);
    // neon-migrate has exited: nothing of the tool's group may live on (zombies waiting for
    // a reaper do not count: they run nothing). A SIGKILL sent just before the exit may not
    // have been acted on yet: wait for the group to empty, bounded far below the sleeps' 300 s.
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let mut live = live_in_group(pgid);
    while !live.is_empty() && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        live = live_in_group(pgid);
    }
    assert!(
        live.is_empty(),
        "processes of the tool's group {pgid} still alive after the timeout: {live:?} (grandchild sleep {grandchild})\n{out}"
    );
    let gc_state = processes()
        .into_iter()
        .find(|(pid, _, _)| *pid == grandchild)
        .map(|(_, _, s)| s);
    assert!(
        matches!(gc_state, None | Some('Z') | Some('X')),
        "the grandchild sleep {grandchild} is still running ({gc_state:?})"
    );
    p.assert_no_test_db_branches();
}

// ---- PGOPTIONS on main --------------------------------------------------------------------

fn apply_gives_a_command_tool_lock_and_statement_timeouts_in_pgoptions_on_main() {
    let psql = cluster().bin.join("psql");
    let git_branch = "apply-pgoptions/x";
    // A psql tool that records, on each database it is run on, the timeouts its session got.
    let tool = format!(
        "[tool]\nname = \"psql-timeouts\"\ncommand = '''\"{}\" -X -q -v ON_ERROR_STOP=1 -d \"$DATABASE_URL\" -f migrations/0001_init.sql -At -c \"select current_database() || '|' || current_setting('lock_timeout') || '|' || current_setting('statement_timeout')\" >> timeouts.txt'''\n\n[apply]\ngit-branches = [\"{git_branch}\"]\nrestore-point = false\nlock-timeout = \"1234ms\"\nstatement-timeout = \"56s\"\n",
        psql.display()
    );
    let p = Project::new("apply_pgoptions")
        .config(&tool)
        .migration(
            "0001_init.sql",
            "create table if not exists customers (id bigint primary key);\n",
        )
        .commit()
        .git_branch(git_branch);
    p.ensure_main();
    let out = p.run(&["run", "deploy"]);
    out.code(exit::OK).stdout_has("PASSED");
    let lines = std::fs::read_to_string(p.path().join("timeouts.txt"))
        .unwrap_or_else(|e| panic!("the tool wrote nothing ({e})\n{out}"));
    let on_main: Vec<&str> = lines
        .lines()
        .filter(|l| l.starts_with(&format!("{}|", p.main_db())))
        .collect();
    assert_eq!(
        on_main,
        vec![format!("{}|1234ms|56s", p.main_db()).as_str()],
        "the tool's session on the main Neon database branch has apply's timeouts:\n{lines}\n{out}"
    );
    assert!(p.main_has("public.customers"));
    p.assert_no_test_db_branches();
    p.run(&["gc", "--all"]).code(exit::OK);
}

// ---- hooks --------------------------------------------------------------------------------

const ORDERS: &str = "create table orders (id bigint primary key);\n";
const BROKEN: &str = "create table broken (id bigint primary key,);\n";

/// Writes an executable file.
fn executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A project with a foreign `pre-push` (`old`) kept by `hooks install`, and a neon-migrate
/// wrapper that records the order and its stdin before running the real binary.
fn with_old_hook(name: &str, old: &str) -> (Pushable, tempfile::TempDir) {
    let s = Pushable::new(name);
    let hooks = s.p.path().join(".git/hooks");
    executable(&hooks.join("pre-push"), old);
    s.install();
    assert!(hooks.join("pre-push.old").exists());
    let rec = tempfile::tempdir().unwrap();
    executable(
        &rec.path().join("neon-migrate"),
        &format!(
            "#!/bin/sh\necho neon-migrate >> \"$REC/order\"\ncat > \"$REC/nm-stdin\"\nexec '{BIN}' \"$@\" < \"$REC/nm-stdin\"\n"
        ),
    );
    (s, rec)
}

fn git_push_runs_the_kept_pre_push_old_first_on_the_same_stdin() {
    let (s, rec) = with_old_hook(
        "push_old_hook",
        "#!/bin/sh\necho old >> \"$REC/order\"\necho \"$@\" > \"$REC/old-args\"\ncat > \"$REC/old-stdin\"\n",
    );
    let p = s.p.migration("0002_orders.sql", ORDERS).commit();
    let s = Pushable { p, ..s };
    let r = rec.path().display().to_string();
    let wrapper = rec.path().join("neon-migrate").display().to_string();
    let out = s.git_env(
        &["push", "origin", "HEAD"],
        &[("NEON_MIGRATE_BIN", &wrapper), ("REC", &r)],
    );
    out.success().has("PASSED");
    let read = |f: &str| std::fs::read_to_string(rec.path().join(f)).unwrap_or_default();
    assert_eq!(read("order"), "old\nneon-migrate\n", "{}", *out);
    let sha = s.p.git(&["rev-parse", "HEAD"]);
    let old_stdin = read("old-stdin");
    assert!(
        old_stdin.starts_with(&format!("HEAD {sha} refs/heads/{} ", s.main)),
        "the kept hook got git's refs on stdin: {old_stdin:?}"
    );
    assert_eq!(
        read("nm-stdin").trim_end(),
        old_stdin.trim_end(),
        "neon-migrate got the same stdin"
    );
    assert!(
        read("old-args").starts_with("origin "),
        "{}",
        read("old-args")
    );
    assert_eq!(s.remote_sha(&s.main), sha);
    s.p.assert_no_test_db_branches();
}

fn git_push_of_a_kept_pre_push_old_that_fails_stops_the_push_before_neon_migrate() {
    let (s, rec) = with_old_hook(
        "push_old_hook_fails",
        "#!/bin/sh\necho old >> \"$REC/order\"\necho 'old hook says no' >&2\nexit 3\n",
    );
    let before = s.remote_sha(&s.main);
    let p = s.p.migration("0002_orders.sql", ORDERS).commit();
    let s = Pushable { p, ..s };
    let r = rec.path().display().to_string();
    let wrapper = rec.path().join("neon-migrate").display().to_string();
    let out = s.git_env(
        &["push", "origin", "HEAD"],
        &[("NEON_MIGRATE_BIN", &wrapper), ("REC", &r)],
    );
    assert_ne!(out.code, 0, "the push must fail\n{}", *out);
    out.has("old hook says no").lacks("pipeline `pre-push`");
    assert_eq!(
        std::fs::read_to_string(rec.path().join("order")).unwrap_or_default(),
        "old\n"
    );
    assert_eq!(s.remote_sha(&s.main), before, "the remote is unchanged");
}

fn git_push_of_a_tag_proves_nothing() {
    let s = Pushable::new("push_tag");
    s.install();
    // The tagged commit has a migration that would fail if it were proven.
    let p = s.p.migration("0002_broken.sql", BROKEN).commit();
    p.git(&["tag", "v1"]);
    let s = Pushable { p, ..s };
    let out = s.git(&["push", "origin", "v1"]);
    out.success()
        .has("neon-migrate: refs/tags/v1: a tag, not a git branch; nothing to prove")
        .lacks("pipeline `pre-push`");
    let tagged = crate::hooks::run_git(s.remote.path(), &["rev-parse", "refs/tags/v1"], &[]);
    assert_eq!(tagged.stdout.trim(), s.p.git(&["rev-parse", "HEAD"]));
    s.p.assert_no_test_db_branches();
}

/// Pushes a commit with a broken migration with `NEON_MIGRATE=0`: it must go through unproven.
fn push_broken_bypassed(s: Pushable, env: &[(&str, &str)]) {
    let git_branch = "feature/bypass";
    let p =
        s.p.git_branch(git_branch)
            .migration("0002_broken.sql", BROKEN)
            .commit();
    let s = Pushable { p, ..s };
    let path = path_with(&[Path::new(BIN).parent().unwrap()]);
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "PATH") {
        env.push(("PATH", &path));
    }
    env.push(("NEON_MIGRATE", "0"));
    let out = s.git_env(&["push", "origin", git_branch], &env);
    out.success()
        .has("neon-migrate: skipped (NEON_MIGRATE=0)")
        .lacks("pipeline `pre-push`");
    assert_eq!(s.remote_sha(git_branch), s.p.git(&["rev-parse", "HEAD"]));
    s.p.assert_no_test_db_branches();
}

fn husky_with_neon_migrate_0_bypasses_neon_migrate() {
    push_broken_bypassed(with_husky("husky_bypass"), &[]);
}

fn lefthook_with_neon_migrate_0_bypasses_neon_migrate() {
    let (s, path) = with_lefthook("lefthook_bypass");
    push_broken_bypassed(s, &[("PATH", &path)]);
}

fn pre_commit_with_neon_migrate_0_bypasses_neon_migrate() {
    let (s, _home_dir, home) = with_pre_commit("pre_commit_bypass");
    push_broken_bypassed(s, &[("PRE_COMMIT_HOME", home.as_str())]);
}

/// On the first use in a repository the main database does not exist yet, and `diff --from
/// main` / `generate` open the provider for both sides at once: both used to create it, and
/// the second failed with a duplicate key (exit 6).
fn diff_and_generate_work_on_the_first_use_when_the_main_database_does_not_exist_yet() {
    let schema = "CREATE TABLE first_use (id bigint PRIMARY KEY);\n";
    let p = Project::new("first_use_diff").file("schema.sql", schema);
    let out = p.run(&["diff", "--from", "main", "--to", "schema.sql"]);
    assert_eq!(out.code, exit::OK, "{out}");
    assert!(out.stdout.contains("CREATE TABLE public.first_use"), "{out}");
    let p = Project::new("first_use_generate").file("schema.sql", schema);
    let out = p.run(&["generate", "first"]);
    assert_eq!(out.code, exit::OK, "{out}");
}

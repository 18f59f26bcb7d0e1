//! The `integrity` check end to end (issue 19): trip and pass fixtures through `pre-push` on
//! the local provider, the built-in `sql` tool, and `diff` counting the rows a plan would fail
//! on. Every scenario asserts on the JSON report (`checks` stage → `results[]` → the result
//! named `integrity`) and on the human one.
//!
//! The `schema` and `lint` checks are off in these projects (they deny the dropped columns some
//! scenarios need), and `reversible` too (no down files): what passes or fails is `integrity`
//! alone.

use neon_migrate::exit;
use serde_json::Value;

use crate::support::{check_result as result, findings_starting, Output, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        integrity_lower_casing_a_column_fails_naming_the_column_and_the_count,
        integrity_delete_and_reinsert_of_as_many_rows_fails_where_counts_pass,
        integrity_rename_as_drop_add_is_flagged_and_rename_by_copy_passes,
        integrity_narrowing_types_report_the_values_they_changed,
        integrity_a_declared_change_passes_as_information,
        integrity_a_backfilled_new_column_is_information,
        integrity_diff_counts_the_nulls_a_set_not_null_fails_on,
        integrity_diff_never_prints_a_value_a_conversion_refuses,
        integrity_diff_refuses_a_not_null_column_without_a_default_on_rows,
        integrity_diff_refuses_a_type_change_without_a_cast,
        integrity_diff_refuses_enum_values_dropped_while_rows_hold_them,
        integrity_diff_refuses_nulls_duplicates_and_orphans_a_new_constraint_fails_on,
        integrity_diff_never_runs_a_desired_check_calling_functions_on_the_from_database,
        integrity_diff_a_key_with_a_line_break_stays_inside_its_comment,
        integrity_diff_counts_duplicates_orphans_check_violations_and_narrowed_values,
        integrity_a_case_insensitive_collation_does_not_hide_a_lower_casing,
        integrity_a_migration_that_edits_the_fingerprints_fails,
        integrity_keyless_tables_use_aggregates_and_big_tables_a_sample_both_said,
        integrity_generate_counts_the_nulls_a_set_not_null_fails_on,
        integrity_the_schema_check_counts_the_nulls_a_set_not_null_met_before_the_migration,
    ]
}

/// The checks of these projects; `{extra}` goes under `[checks.integrity]`.
pub(crate) const BASE: &str = "[checks.integrity]\nenabled = true\n{extra}\n[checks.schema]\nenabled = false\n\n[checks.lint]\nenabled = false\n\n[checks.reversible]\nenabled = false\n";

/// 100 accounts; the first 40 have a capitalised email.
const ACCOUNTS: &str = "create table accounts (id bigint primary key, email text not null, note text); \
     insert into accounts select g, case when g <= 40 then 'User' else 'user' end || g || '@example.com', null \
     from generate_series(1, 100) g";

pub(crate) fn project(name: &str, extra_config: &str, migration: &str) -> Project {
    Project::new(name)
        .config(&BASE.replace("{extra}", extra_config))
        .migration("0001_change.sql", migration)
        .commit()
        .git_branch(&format!("feature/{name}"))
}

/// `pre-push` for the human report and with `--json`; both exit `code`.
#[track_caller]
pub(crate) fn pre_push(p: &Project, code: i32) -> (Output, Value) {
    let out = p.run(&["run", "pre-push"]);
    out.code(code);
    let json = p.run(&["run", "pre-push", "--json"]);
    json.code(code);
    p.assert_no_test_db_branches();
    (out, json.json())
}

/// The one `integrity` finding whose `what` starts with `prefix`.
#[track_caller]
pub(crate) fn finding<'a>(report: &'a Value, prefix: &str) -> &'a Value {
    let found = findings_starting(report, "integrity", "what", prefix);
    assert_eq!(
        found.len(),
        1,
        "want one integrity finding starting with {prefix:?}:\n{:#}",
        result(report, "integrity")
    );
    found[0]
}

#[track_caller]
pub(crate) fn errors(report: &Value) -> Vec<String> {
    result(report, "integrity")["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["what"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn integrity_lower_casing_a_column_fails_naming_the_column_and_the_count() {
    let p = project(
        "integrity_lower",
        "",
        "update accounts set email = lower(email);\n",
    );
    p.main_sql(ACCOUNTS);
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    // The row counts see nothing.
    assert_eq!(result(&report, "data")["status"], "passed", "{report:#}");
    assert_eq!(result(&report, "integrity")["status"], "failed");
    let f = finding(&report, "public.accounts.email: 40 value(s) changed");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["location"], "public.accounts");
    // Keys are named, values never.
    let what = f["what"].as_str().unwrap_or("");
    assert!(what.contains("(e.g. keys "), "{what}");
    assert!(!out.stdout.contains("example.com"), "{out}");
    assert!(
        f["fix"]
            .as_str()
            .unwrap_or("")
            .contains("\"public.accounts.email\" to `allow-change` under [checks.integrity]"),
        "{f:#}"
    );
    out.stdout_has("error: public.accounts.email: 40 value(s) changed");
    assert_eq!(errors(&report).len(), 1, "{:?}", errors(&report));
    // The parent is untouched.
    assert_eq!(
        p.main_sql("select count(*) from accounts where email <> lower(email)")[0][0].as_deref(),
        Some("40")
    );
}

fn integrity_delete_and_reinsert_of_as_many_rows_fails_where_counts_pass() {
    let p = project(
        "integrity_reinsert",
        "",
        "delete from accounts where id <= 10;\n\
         insert into accounts select g + 1000, 'new' || g || '@example.com' from generate_series(1, 10) g;\n",
    );
    p.main_sql(ACCOUNTS);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(result(&report, "data")["status"], "passed", "{report:#}");
    let f = finding(&report, "public.accounts: 10 row(s) deleted");
    assert_eq!(f["severity"], "error");
    let what = f["what"].as_str().unwrap_or("");
    assert!(
        what.contains("and 10 inserted: the row count is the same, the rows are not"),
        "{what}"
    );

    // Deleting and re-inserting the very same rows changes nothing, and passes.
    let p = p
        .migration(
            "0001_change.sql",
            "create temp table keep as select * from accounts where id <= 10;\n\
             delete from accounts where id <= 10;\n\
             insert into accounts select * from keep;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        result(&report, "integrity")["status"],
        "passed",
        "{report:#}"
    );
}

const PEOPLE: &str = "create table people (id int primary key, full_name text); \
     insert into people select g, 'person ' || g from generate_series(1, 50) g";

fn integrity_rename_as_drop_add_is_flagged_and_rename_by_copy_passes() {
    // Drop + add: the values are gone.
    let p = project(
        "integrity_rename",
        "",
        "alter table people add column name text;\nalter table people drop column full_name;\n",
    );
    p.main_sql(PEOPLE);
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(
        &report,
        "public.people: full_name dropped and name added looks like a rename done as drop + add: 50 value(s) lost",
    );
    assert_eq!(f["severity"], "error");
    assert!(
        f["fix"]
            .as_str()
            .unwrap_or("")
            .contains("ALTER TABLE \"public\".\"people\" RENAME COLUMN \"full_name\" TO \"name\""),
        "{f:#}"
    );
    out.stdout_has("looks like a rename done as drop + add: 50 value(s) lost");

    // Rename by copy: every value kept.
    let p = p
        .migration(
            "0001_change.sql",
            "alter table people add column name text;\n\
             update people set name = full_name;\n\
             alter table people drop column full_name;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    let f = finding(
        &report,
        "public.people.full_name renamed to name by copy: all 50 non-null value(s) kept",
    );
    assert_eq!(f["severity"], "info");
    assert!(errors(&report).is_empty(), "{:?}", errors(&report));

    // A real rename keeps the column itself: nothing to report.
    let p = p
        .migration(
            "0001_change.sql",
            "alter table people rename column full_name to name;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        result(&report, "integrity")["status"],
        "passed",
        "{report:#}"
    );
}

fn integrity_narrowing_types_report_the_values_they_changed() {
    let p = project(
        "integrity_narrowing",
        "",
        "alter table items alter column label type varchar(10) using left(label, 10);\n\
         alter table items alter column price type numeric(12,0);\n",
    );
    // 30 labels longer than 10 characters; 75 prices with cents (every 4th is whole).
    p.main_sql(
        "create table items (id int primary key, label varchar(100), price numeric(12,2)); \
         insert into items select g, case when g <= 30 then 'a long label ' || g else 'item' || g end, g / 4.0 \
         from generate_series(1, 100) g",
    );
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    let label = finding(
        &report,
        "public.items.label: type character varying(100) → character varying(10): 30 value(s) not equal after casting back",
    );
    assert_eq!(label["severity"], "error");
    let price = finding(
        &report,
        "public.items.price: type numeric(12,2) → numeric(12,0): 75 value(s) not equal after casting back",
    );
    assert_eq!(price["severity"], "error");
    out.stdout_has("30 value(s) not equal after casting back");
    assert_eq!(errors(&report).len(), 2, "{:?}", errors(&report));
}

fn integrity_a_declared_change_passes_as_information() {
    let p = project(
        "integrity_declared",
        "allow-change = [\"public.accounts.email\"]\n",
        "update accounts set email = lower(email);\n",
    );
    p.main_sql(ACCOUNTS);
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        result(&report, "integrity")["status"],
        "passed",
        "{report:#}"
    );
    let f = finding(&report, "public.accounts.email: 40 value(s) changed");
    assert_eq!(f["severity"], "info");
    assert!(
        f["what"]
            .as_str()
            .unwrap_or("")
            .ends_with("(declared in allow-change)"),
        "{f:#}"
    );
}

fn integrity_a_backfilled_new_column_is_information() {
    let p = project(
        "integrity_backfill",
        "",
        "alter table accounts add column status text not null default 'active';\n",
    );
    p.main_sql(ACCOUNTS);
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        result(&report, "integrity")["status"],
        "passed",
        "{report:#}"
    );
    let f = finding(
        &report,
        "public.accounts.status added, backfilled: 100 non-null value(s)",
    );
    assert_eq!(f["severity"], "info");
}

fn integrity_diff_counts_the_nulls_a_set_not_null_fails_on() {
    let p = Project::new("integrity_diff")
        .file(
            "target.sql",
            "create table accounts (id bigint primary key, email text not null, note text not null);\n",
        )
        .commit();
    p.main_sql(ACCOUNTS);
    p.main_sql("update accounts set note = 'kept' where id > 3");
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.code(exit::CHECK_FAILED).stdout_has("SET NOT NULL").stdout_has(
        "3 row(s) of main hold NULL in note (e.g. keys 1, 3): this statement fails on them",
    );
    let json = p.run(&[
        "diff",
        "--from",
        "main",
        "--to",
        "target.sql",
        "--format",
        "json",
    ]);
    json.code(exit::CHECK_FAILED);
    let v = json.json();
    let hazards: Vec<String> = v["plan"]["statements"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["hazards"].as_array().cloned().unwrap_or_default())
        .map(|h| h["message"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        hazards
            .iter()
            .any(|h| h.starts_with("3 row(s) of main hold NULL in note")),
        "{hazards:#?}"
    );
    // A column without NULLs gets no count.
    assert!(
        !hazards.iter().any(|h| h.contains("in email")),
        "{hazards:#?}"
    );
}

/// A conversion the data refuses makes Postgres quote the value in its error: the hazard says
/// the SQLSTATE, never the message (the value may be personal data or a secret).
fn integrity_diff_never_prints_a_value_a_conversion_refuses() {
    const SECRET: &str = "SECRETVALUE-9c41";
    let p = Project::new("integrity_diff_no_values")
        .file(
            "target.sql",
            "create table vault (id bigint primary key, secret integer);\n",
        )
        .commit();
    p.main_sql(&format!(
        "create table vault (id bigint primary key, secret text);\n\
         insert into vault select g, '{SECRET}' || g from generate_series(1, 3) g;"
    ));
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("the conversion raises SQLSTATE 22P02 — this statement fails on it")
        .stdout_has("3 row(s) of main (e.g. keys 1, 3): column public.vault.secret holds values that text → integer refuses — the type change fails on them");
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET), "{out}");
}

/// A NOT NULL column without a default added to a table with rows: the ADD COLUMN fails on
/// them, so the plan is refused (exit 4) naming the column; on an empty table it stands.
fn integrity_diff_refuses_a_not_null_column_without_a_default_on_rows() {
    let p = Project::new("integrity_diff_not_null_add")
        .file(
            "target.sql",
            "create table t (id int primary key, c timestamp not null);\n\
             create table e (id int primary key, c timestamp not null);\n",
        )
        .commit();
    p.main_sql("create table t (id int primary key); insert into t values (1), (2);");
    p.main_sql("create table e (id int primary key);");
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("column public.t.c is added NOT NULL without a default")
        .stderr_has("1 change(s) the schema engine cannot express");
    assert!(!out.stdout.contains("public.e.c is added"), "{out}");
    p.main_sql("delete from t");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK);
}

/// A type change Postgres has no cast for (integer → inet, and back): refused (exit 4)
/// naming the column, not planned as a `USING ip::inet` that fails to apply.
fn integrity_diff_refuses_a_type_change_without_a_cast() {
    let p = Project::new("integrity_diff_no_cast")
        .file(
            "target.sql",
            "create table t (id int primary key, ip inet, n integer);\n",
        )
        .commit();
    p.main_sql("create table t (id int primary key, ip integer not null, n inet);");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("column public.t.ip: integer → inet has no cast")
        .stdout_has("column public.t.n: inet → integer has no cast");
}

/// Enum values the desired schema drops while rows hold them (a scalar column and an array):
/// the recreated enum's retype fails on those rows — after the view and the default went, in
/// a plan without a transaction — so the plan is refused (exit 4) naming the column and the
/// values; with no row holding them it stands (found by an outside attacker).
fn integrity_diff_refuses_enum_values_dropped_while_rows_hold_them() {
    let p = Project::new("integrity_diff_enum_drop")
        .file(
            "target.sql",
            "create type status as enum ('new', 'settled', 'gone');\n\
             create table orders (id int primary key, st status default 'new', past status[]);\n\
             create view v as select * from orders;\n",
        )
        .commit();
    p.main_sql(
        "create type status as enum ('new', 'paid', 'gone');\n\
         create table orders (id int primary key, st status default 'new', past status[]);\n\
         create view v as select * from orders;\n\
         insert into orders select g, 'paid', null from generate_series(1, 3) g;\n\
         insert into orders values (4, 'new', array['new', 'paid']::status[]);",
    );
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("3 row(s) of main (e.g. keys 1, 3): column public.orders.st holds enum values the desired schema drops from public.status ('paid')")
        .stdout_has("1 row(s) of main (e.g. key 4): column public.orders.past holds enum values the desired schema drops");
    // `generate` refuses it the same way, and writes nothing.
    p.run(&["generate", "drop_paid", "--schema", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stderr_has("column public.orders.st holds enum values the desired schema drops");
    assert!(!p.path().join("migrations").exists() || std::fs::read_dir(p.path().join("migrations")).unwrap().next().is_none());
    p.main_sql("update orders set st = 'gone', past = null");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK)
        .stdout_has("CREATE TYPE public.status AS ENUM ('new', 'settled', 'gone')");
}

/// NULLs under a new SET NOT NULL, duplicates under a new PRIMARY KEY or unique index on
/// plain columns, orphans under a new validated FOREIGN KEY: each statement fails on those
/// rows of `--from` — after the plan's NOT VALID constraint or its invalid CONCURRENTLY index
/// stayed behind — so the plan is refused (exit 4), saying what, where and how to get past it.
/// Unique indexes on expressions or with a predicate are counted too (among the rows of the
/// predicate: none of tags_part's collide). With the rows fixed, the plan stands.
fn integrity_diff_refuses_nulls_duplicates_and_orphans_a_new_constraint_fails_on() {
    let p = Project::new("integrity_diff_sure")
        .file(
            "target.sql",
            "create table accounts (id bigint primary key, email text not null, note text not null);\n\
             create table tags (id int primary key, name text, lname text);\n\
             create unique index tags_name on tags (name);\n\
             create unique index tags_lname on tags (lower(lname));\n\
             create unique index tags_part on tags (lname) where id > 0;\n\
             create table codes (code text primary key, n int);\n\
             create table orders (id int primary key, account_id bigint references accounts (id));\n",
        )
        .commit();
    with_three_null_notes(&p);
    p.main_sql(
        "create table tags (id int primary key, name text, lname text);\n\
         insert into tags values (1, 'a', 'x'), (2, 'a', 'X'), (3, 'b', 'z');\n\
         create table codes (code text, n int); insert into codes values ('c', 1), ('c', 2), ('d', 3);\n\
         create table orders (id int primary key, account_id bigint);\n\
         insert into orders select g, case when g <= 2 then 999 else g end from generate_series(1, 5) g;",
    );
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.code(exit::CHECK_FAILED)
        .stderr_has("5 change(s) the schema engine cannot express")
        .stdout_has("3 row(s) of main (e.g. keys 1, 3): column public.accounts.note holds NULL, and the desired schema makes it NOT NULL — the SET NOT NULL fails on them: fill those rows first")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.tags share their values of (name), which the new unique index public.tags_name requires to be unique — building it fails on them")
        .stdout_has("2 row(s) of main: rows of public.codes duplicate or leave NULL (code), which the new PRIMARY KEY \"codes_pkey\" requires to be unique")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.orders reference no row of public.accounts through (account_id), and the new FOREIGN KEY \"orders_account_id_fkey\" is validated — the validation fails on them")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.tags share their values of (lower(lname)), which the new unique index public.tags_lname")
        .stdout_lacks("public.tags_part");
    p.run(&["generate", "sure", "--schema", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stderr_has("rows of public.orders reference no row of public.accounts through (account_id)");
    assert!(!p.path().join("migrations").exists() || std::fs::read_dir(p.path().join("migrations")).unwrap().next().is_none());
    p.main_sql(
        "update accounts set note = 'x' where note is null; delete from tags where id = 2;\n\
         delete from codes where n = 2; update orders set account_id = 1 where id <= 2;",
    );
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK)
        .stdout_has("CREATE UNIQUE INDEX CONCURRENTLY tags_name");
}

/// A CHECK of the desired schema (repository content) is run on `--from` to count the rows
/// that violate it — with the role of `--from`, and the count and example keys say what its
/// functions returned: a file reading `pg_read_file` or `current_setting` leaked production's
/// server files or settings, one byte per key (found by an outside attacker). Only immutable
/// built-in calls are run; the others are named, not counted.
fn integrity_diff_never_runs_a_desired_check_calling_functions_on_the_from_database() {
    let p = Project::new("integrity_diff_check_exfil")
        .file(
            "target.sql",
            "create table t (id int primary key,\n\
               constraint leak check (id <> ascii(substr(current_setting('server_version'), 1, 1)) - 40),\n\
               constraint fine check (abs(id) < 3));\n",
        )
        .commit();
    p.main_sql("create table t (id int primary key); insert into t select g from generate_series(1, 20) g;");
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    // The counted CHECK is a sure failure: refused (exit 4); the other is not counted.
    out.code(exit::CHECK_FAILED)
        .stdout_has("the rows of main that violate CHECK ((id <> (ascii(substr(current_setting('server_version'::text), 1, 1)) - 40))) were not counted: the expression calls current_setting")
        .stdout_has("18 row(s) of main violate CHECK ((abs(id) < 3))");
    assert!(!out.stdout.contains("row(s) of main violate CHECK ((id <>"), "{out}");
}

/// Example keys are data: one holding a line break must not end the hazard's `--` comment
/// and become a statement of the plan (found by an outside attacker).
fn integrity_diff_a_key_with_a_line_break_stays_inside_its_comment() {
    let p = Project::new("integrity_diff_newline_key")
        .file(
            "target.sql",
            "create table victim (x int);\ncreate table t (id text primary key, n int);\n",
        )
        .commit();
    p.main_sql(
        "create table victim (x int);\n\
         create table t (id text primary key, n numeric);\n\
         insert into t values (E'k\\nDROP TABLE victim; --', 1.5);",
    );
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    // A key of text is a row value: not shown at all (it was once, escaped).
    out.code(exit::OK).stdout_lacks("DROP TABLE victim");
    assert!(
        !out.stdout.lines().any(|l| l.trim_start().starts_with("DROP TABLE victim")),
        "a line of the plan runs the key's text:\n{out}"
    );
}

fn integrity_a_migration_that_edits_the_fingerprints_fails() {
    // The migration lower-cases the emails, then deletes its rows' fingerprints to hide it.
    let p = project(
        "integrity_tamper",
        "",
        "update accounts set email = lower(email);\n\
         do $$ declare t text; begin\n\
           for t in select format('%I.%I', schemaname, tablename) from pg_tables where schemaname = 'neon_migrate_integrity' loop\n\
             execute format('delete from %s where k::int <= 40', t);\n\
           end loop;\n\
         end $$;\n",
    );
    p.main_sql(ACCOUNTS);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(
        &report,
        "the fingerprints of public.accounts recorded before the migration were changed while it ran",
    );
    assert_eq!(f["severity"], "error");

    // Dropping the scratch schema does not make the check pass either.
    let p = p
        .migration(
            "0001_change.sql",
            "update accounts set email = lower(email);\ndrop schema neon_migrate_integrity cascade;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(
        result(&report, "integrity")["status"],
        "failed",
        "{report:#}"
    );
}

fn integrity_keyless_tables_use_aggregates_and_big_tables_a_sample_both_said() {
    // No key: aggregates, and the finding says the rows cannot be named.
    let p = project(
        "integrity_keyless",
        "sample-above = 10\n",
        "update events set kind = upper(kind) where n <= 5;\n\
         update accounts set email = lower(email);\n",
    );
    p.main_sql(ACCOUNTS);
    p.main_sql(
        "create table events (n int, kind text); \
         insert into events select g, 'kind' || g from generate_series(1, 20) g; \
         analyze accounts; analyze events",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let how = finding(&report, "public.events: no primary key or unique NOT NULL key: compared by order-independent aggregates");
    assert_eq!(how["severity"], "info");
    let changed = finding(&report, "public.events.kind: values changed (aggregate");
    assert_eq!(changed["severity"], "error");
    // 100 accounts above `sample-above = 10`: 64 key ranges of `id`, the same before and after.
    let sampled = finding(&report, "public.accounts.email: ");
    let what = sampled["what"].as_str().unwrap_or("");
    assert!(
        what.contains("value(s) changed")
            && what.ends_with("(sampled: 64 key range(s) of id out of ~100 row(s))"),
        "{what}"
    );
}

/// Every hazard message of a `diff --format json`.
pub(crate) fn diff_hazards(p: &Project, to: &str, code: i32) -> Vec<String> {
    let json = p.run(&["diff", "--from", "main", "--to", to, "--format", "json"]);
    json.code(code);
    json.json()["plan"]["statements"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["hazards"].as_array().cloned().unwrap_or_default())
        .map(|h| h["message"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn integrity_diff_counts_duplicates_orphans_check_violations_and_narrowed_values() {
    let p = Project::new("integrity_diff_more")
        .file(
            "target.sql",
            "create table accounts (id bigint primary key, email text not null, note text, \
             constraint accounts_note_key unique (note));\n\
             create table orders (id int primary key, account_id bigint references accounts (id), \
             amount numeric(12,2) check (amount > 0), code varchar(5));\n",
        )
        .commit();
    p.main_sql(ACCOUNTS);
    p.main_sql(
        "update accounts set note = 'same' where id <= 2; \
         create table orders (id int primary key, account_id bigint, amount numeric(12,2), code varchar(20)); \
         insert into orders select g, case when g <= 3 then 999 else g end, case when g <= 2 then -1 else g end, \
         case when g <= 4 then 'longcode' || g else 'c' || g end from generate_series(1, 10) g",
    );
    let hazards = diff_hazards(&p, "target.sql", exit::CHECK_FAILED);
    for want in [
        "2 row(s) of main share their (note) with another row (e.g. keys 1, 2): this statement fails on them",
        "3 row(s) of main reference no row of public.accounts (account_id) (e.g. keys 1, 3): this statement fails on them",
        "2 row(s) of main violate CHECK ((amount > (0)::numeric)) (e.g. keys 1, 2): this statement fails on them",
        "4 row(s) of main hold values of code that character varying(20) → character varying(5) changes (e.g. keys 1, 4)",
    ] {
        assert!(hazards.iter().any(|h| h.starts_with(want)), "want {want:?} in {hazards:#?}");
    }
    // Each sure failure refuses the plan, saying what, where and how to get past it.
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.accounts share their values of (note), which the new UNIQUE constraint \"accounts_note_key\" requires to be unique — building it fails on them: change or delete those rows first, or leave the constraint out")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.orders violate the new CHECK ((amount > (0)::numeric)) (\"orders_amount_check\"), which is validated");
}

fn integrity_a_case_insensitive_collation_does_not_hide_a_lower_casing() {
    // Under a nondeterministic collation 'Ann' = 'ann': the hashes must still tell them apart.
    let p = project(
        "integrity_collation",
        "",
        "update names set name = lower(name);\n",
    );
    p.main_sql(
        "create collation ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false); \
         create table names (id int primary key, name text collate ci); \
         insert into names select g, case when g <= 7 then 'Name' else 'name' end || g from generate_series(1, 20) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(&report, "public.names.name: 7 value(s) changed");
    assert_eq!(f["severity"], "error");
}

/// `accounts` with NULL in `note` for keys 1–3 only.
fn with_three_null_notes(p: &Project) {
    p.main_sql(ACCOUNTS);
    p.main_sql("update accounts set note = 'kept' where id > 3");
}

fn integrity_generate_counts_the_nulls_a_set_not_null_fails_on() {
    let p = Project::new("integrity_generate")
        .file(
            "schema.sql",
            "create table accounts (id bigint primary key, email text not null, note text not null);\n",
        )
        .commit();
    with_three_null_notes(&p);
    // A sure failure: refused, nothing written, the copy of main deleted.
    p.run(&["generate", "note_not_null"])
        .code(exit::CHECK_FAILED)
        .stderr_has("3 row(s) of main (with the pending migrations) (e.g. keys 1, 3): column public.accounts.note holds NULL, and the desired schema makes it NOT NULL");
    p.assert_no_test_db_branches();
    assert!(!p.path().join("migrations").exists() || std::fs::read_dir(p.path().join("migrations")).unwrap().next().is_none());
    // Values a narrowing changes (not a failure): counted, in the file and on the terminal.
    p.main_sql("update accounts set note = 'kept-and-longer' where note is null");
    let p = p
        .file(
            "schema.sql",
            "create table accounts (id bigint primary key, email text not null, note varchar(4) not null);\n",
        )
        .commit();
    let counted = "3 row(s) of main (with the pending migrations) hold values of note that text → character varying(4) changes (e.g. keys 1, 3): they are truncated, rounded or shifted without an error";
    let out = p.run(&["generate", "note_short", "--allow-destructive"]);
    out.code(exit::OK).stdout_has(&format!("rows: {counted} — "));
    p.assert_no_test_db_branches();
    // In the file, next to the statement's other hazards.
    let dir = p.path().join("migrations");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("the migration");
    assert!(
        text.contains(&format!("-- hazard correctness: {counted}\n")),
        "{text}"
    );
    // A column without NULLs gets no count.
    assert!(!text.contains("in email"), "{text}");
}

fn integrity_the_schema_check_counts_the_nulls_a_set_not_null_met_before_the_migration() {
    // The migration fills the NULLs, then sets NOT NULL: it passes on the copy, and the schema
    // check says how many rows it had to change for its SET NOT NULL not to fail.
    let p = Project::new("integrity_schema_nulls")
        .config("[checks.lint]\nenabled = false\n\n[checks.reversible]\nenabled = false\n")
        .migration(
            "0001_change.sql",
            "update accounts set note = 'filled' where note is null;\n\
             alter table accounts alter column note set not null;\n",
        )
        .commit()
        .git_branch("feature/integrity_schema_nulls");
    with_three_null_notes(&p);
    let (out, report) = pre_push(&p, exit::OK);
    let counted = "3 row(s) of the test Neon database branch before the migration (the parent's copy) held NULL in note (e.g. keys 1, 3): this statement fails on them";
    let found = findings_starting(&report, "schema", "why", counted);
    assert_eq!(found.len(), 1, "{:#}", result(&report, "schema"));
    let what = found[0]["what"].as_str().unwrap_or("");
    assert!(
        what.starts_with("correctness: ALTER TABLE public.accounts"),
        "{what}"
    );
    out.stdout_has(counted);
}

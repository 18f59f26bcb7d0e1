//! The schema engine's safety net through the real binary: a change only the catalog
//! fingerprint sees (a conversion, a kind the engine deliberately does not model) makes `diff`
//! exit 4 naming the object, in every format, never printing "no schema changes"; two equal
//! schemas created in different orders print "no schema changes" and exit 0; and the schema
//! check of `run pre-push` fails on a migration that only the net sees.

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        diff_of_a_change_only_the_catalog_fingerprint_sees_exits_4_naming_it,
        diff_of_one_schema_created_in_two_orders_prints_no_schema_changes,
        schema_check_fails_on_a_migration_only_the_catalog_fingerprint_sees,
        diff_of_a_column_added_in_the_middle_says_the_order_differs,
        schema_check_fails_on_a_migration_that_changes_neon_migrates_own_tracking_table,
        schema_check_reports_a_rename_as_a_rename_not_as_lost_rows,
    ]
}

const SQL_TOOL: &str = "[tool]\nname = \"sql\"\n";

const BASE: &str = "create table f410_t (id bigint primary key, note text);\n";

const WITH_CONVERSION: &str = "create table f410_t (id bigint primary key, note text);\n\
create conversion public.f410_conv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;\n";

/// The same objects as `SAME_2`, created in another order (other OIDs).
const SAME_1: &str = "create schema f411;\n\
create type f411.mood as enum ('sad', 'ok');\n\
create table f411.t (id int primary key, mood f411.mood, note text);\n\
create index t_note on f411.t (note);\n\
create function f411.f(i int) returns int language sql as 'select i';\n\
create view f411.v as select id, f411.f(id) from f411.t;\n\
create conversion f411.conv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;\n\
alter table f411.t alter column note set storage external;\n\
comment on table f411.t is 'rows';\n\
grant usage on schema f411 to public;\n\
grant select (note) on f411.t to public;\n";

const SAME_2: &str = "create table filler (x int);\ndrop table filler;\n\
create schema f411;\n\
create function f411.f(i int) returns int language sql as 'select i';\n\
create conversion f411.conv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;\n\
create type f411.mood as enum ('sad', 'ok');\n\
create table f411.t (id int primary key, mood f411.mood, note text);\n\
grant select (note) on f411.t to public;\n\
comment on table f411.t is 'rows';\n\
alter table f411.t alter column note set storage external;\n\
create view f411.v as select id, f411.f(id) from f411.t;\n\
create index t_note on f411.t (note);\n\
grant usage on schema f411 to public;\n";

/// PostgreSQL adds columns at the end: a desired schema with the new column in the middle
/// gets a plan whose result orders columns otherwise: the plan says so and is refused (exit
/// 4), as the re-diff after it would be.
fn diff_of_a_column_added_in_the_middle_says_the_order_differs() {
    let p = Project::new("net_column_order")
        .config(SQL_TOOL)
        .file("a.sql", "create table f412_t (id bigint primary key, note text);\n")
        .file(
            "b.sql",
            "create table f412_t (id bigint primary key, added int, note text);\n",
        )
        .file(
            "c.sql",
            "create table f412_t (id bigint primary key, note text, added int);\n",
        )
        .commit();
    // Refused, not only said: once applied, every later diff would find the order differing.
    p.run(&["diff", "--from", "a.sql", "--to", "b.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("ADD COLUMN added integer")
        .stdout_has(
            "-- hazard correctness: added is added after the last column, not before note as in the desired schema",
        )
        .stdout_has("put it last in the desired schema");
    // At the end, as PostgreSQL adds it: nothing to say.
    p.run(&["diff", "--from", "a.sql", "--to", "c.sql"])
        .code(exit::OK)
        .stdout_has("ADD COLUMN added integer")
        .stdout_lacks("column order differs");
}

fn diff_of_a_change_only_the_catalog_fingerprint_sees_exits_4_naming_it() {
    let p = Project::new("net_conversion")
        .config(SQL_TOOL)
        .file("base.sql", BASE)
        .file("conv.sql", WITH_CONVERSION)
        .commit();
    p.run(&["diff", "--from", "base.sql", "--to", "conv.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("not modeled by the schema engine: conversion public.f410_conv differs")
        .stdout_lacks("no schema changes")
        .stderr_has("change(s) the schema engine cannot express");
    p.run(&[
        "diff",
        "--from",
        "base.sql",
        "--to",
        "conv.sql",
        "--format",
        "markdown",
    ])
    .code(exit::CHECK_FAILED)
    .stdout_has("conversion public.f410_conv")
    .stdout_lacks("No schema changes");
    let out = p.run(&[
        "diff",
        "--from",
        "conv.sql",
        "--to",
        "base.sql",
        "--format",
        "json",
    ]);
    out.code(exit::CHECK_FAILED);
    let v = out.json();
    assert_ne!(v["from_fingerprint"], v["to_fingerprint"], "{v:#}");
    let unsupported = v["plan"]["unsupported"].to_string();
    assert!(
        unsupported.contains("conversion public.f410_conv differs"),
        "{v:#}"
    );
}

fn diff_of_one_schema_created_in_two_orders_prints_no_schema_changes() {
    let p = Project::new("net_same")
        .config(SQL_TOOL)
        .file("one.sql", SAME_1)
        .file("two.sql", SAME_2)
        .commit();
    p.run(&["diff", "--from", "one.sql", "--to", "two.sql"])
        .code(exit::OK)
        .stdout_has("-- no schema changes")
        .stdout_lacks("WARNING");
    let out = p.run(&[
        "diff",
        "--from",
        "two.sql",
        "--to",
        "one.sql",
        "--format",
        "json",
    ]);
    out.code(exit::OK);
    let v = out.json();
    assert_eq!(v["from_fingerprint"], v["to_fingerprint"], "{v:#}");
}

fn schema_check_fails_on_a_migration_only_the_catalog_fingerprint_sees() {
    let p = Project::new("net_check")
        .config(SQL_TOOL)
        .migration(
            "0001_conversion.sql",
            "create conversion public.f410_conv for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8;\n",
        )
        .commit()
        .git_branch("feature/net_check");
    p.main_sql(BASE);
    p.run(&["run", "pre-push"])
        .code(exit::CHECK_FAILED)
        .stdout_has("not modeled by the schema engine: conversion public.f410_conv differs");
    p.assert_no_test_db_branches();
}

/// `neon_migrate` and its tracking table are the tool's, skipped by the model; a migration
/// that opens them (every role may then mark a migration applied, or create objects in the
/// tool's schema) passed as "changed nothing". Seen whether the tool creates the table in the
/// run or main already had it; the table as the tool creates it is no change.
fn schema_check_fails_on_a_migration_that_changes_neon_migrates_own_tracking_table() {
    const OPEN: &str = "grant all on neon_migrate.schema_migrations to public;\n\
        grant usage, create on schema neon_migrate to public;\n\
        alter table neon_migrate.schema_migrations add column note text;\n\
        alter table neon_migrate.schema_migrations enable row level security;\n\
        create policy pp on neon_migrate.schema_migrations using (true);\n\
        comment on table neon_migrate.schema_migrations is 'x';\n";
    const TRACKING: &str = "create schema neon_migrate;\n\
        create table neon_migrate.schema_migrations (version text primary key, file text not null, \
        checksum text not null, applied_at timestamptz not null default now(), duration_ms bigint not null);\n";
    for (name, main) in [
        ("net_own_new", BASE.to_owned()),
        ("net_own_kept", format!("{BASE}{TRACKING}")),
    ] {
        let p = Project::new(name)
            .config(SQL_TOOL)
            .migration("0001_plain.sql", "create table f413_t (id int);\n")
            .commit()
            .git_branch(&format!("feature/{name}"));
        p.main_sql(&main);
        // The tracking table as the tool makes it, or as main had it: nothing to say.
        p.run(&["run", "pre-push"])
            .stdout_has("✓ schema: 1 schema change(s)")
            .stdout_lacks("neon-migrate's own");
        let p = p.migration("0002_open.sql", OPEN).commit();
        p.run(&["run", "pre-push"])
            .code(exit::CHECK_FAILED)
            .stdout_has("neon-migrate's own schema neon_migrate differs (")
            .stdout_has(
                "neon-migrate's own table neon_migrate.schema_migrations differs (",
            )
            .stdout_has("neon-migrate's own table neon_migrate.schema_migrations: columns differs")
            .stdout_has(
                "neon-migrate's own table neon_migrate.schema_migrations: row level security differs",
            )
            .stdout_has("neon-migrate's own policy pp on neon_migrate.schema_migrations differs")
            .stdout_has(
                "neon-migrate's own comment on table neon_migrate.schema_migrations differs",
            )
            .stdout_lacks("changed nothing in the schema");
        p.assert_no_test_db_branches();
    }
}

/// The schema check compares one database before and after the migration: a table renamed,
/// moved to another schema, or a column renamed keeps its OID and column number and its
/// rows. The engine (keyed by names) plans DROP + CREATE; the check said `deletes_data` and
/// failed the run, telling the reviewer to allow data deletion.
fn schema_check_reports_a_rename_as_a_rename_not_as_lost_rows() {
    let p = Project::new("net_renames")
        .config(SQL_TOOL)
        .migration(
            "0001_renames.sql",
            "create schema f414_other;\n\
             alter table f414_orders rename to f414_purchases;\n\
             alter table f414_accounts rename column note to remark;\n\
             alter table f414_items set schema f414_other;\n",
        )
        .commit()
        .git_branch("feature/net_renames");
    p.main_sql(
        "create table f414_orders (id bigint primary key);\n\
         create table f414_accounts (id bigint primary key, note text);\n\
         create table f414_items (id bigint primary key);\n\
         insert into f414_orders select generate_series(1, 5);\n\
         insert into f414_accounts select generate_series(1, 5), 'n';\n\
         insert into f414_items select generate_series(1, 5);\n",
    );
    p.run(&["run", "pre-push"])
        .stdout_has("✓ schema:")
        .stdout_has(
            "renamed: public.f414_orders is now public.f414_purchases (the same object, no row lost)",
        )
        .stdout_has("renamed: public.f414_accounts column note is now public.f414_accounts column remark")
        .stdout_has("renamed: public.f414_items is now f414_other.f414_items")
        .stdout_lacks("error: deletes_data")
        // The data check follows the renamed tables by OID too (attack11 B1): nothing
        // "disappeared with its rows".
        .stdout_lacks("disappeared with its");
    p.assert_no_test_db_branches();
}

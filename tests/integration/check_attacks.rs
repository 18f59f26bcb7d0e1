//! The `data` and `schema` checks against an outside attacker's pipeline false passes (issue 17,
//! attack round 5): each scenario is a migration that did something a user must hear about and
//! passed `pre-push` before. They run through `pre-push` on the local provider with the built-in
//! `sql` tool and assert on the JSON report. Lint and reversibility are off: the verdict is the
//! `data` or `schema` check's alone.

use neon_migrate::exit;

use crate::copy_fidelity::{pre_push_on_server, ON_SERVER};
use crate::integrity::pre_push;
use crate::support::{check_result as result, findings_starting, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        data_check_counts_rows_that_leave_a_partitioned_or_inherited_table,
        data_check_counts_a_users_table_in_the_integrity_checks_schema,
        data_check_sees_a_materialized_view_emptied_and_large_objects_deleted,
        checks_read_with_row_security_off_and_say_what_a_forced_policy_hides,
        schema_check_sees_enum_labels_and_composite_attributes_swapped_in_place,
        schema_check_sees_a_sequence_moved_back_that_a_function_feeds,
        schema_check_allow_migrations_excuses_nothing_beside_an_unlisted_migration,
        schema_check_denies_changes_that_break_writes_and_names_a_policys_function,
        schema_check_denies_triggers_rules_functions_and_sequences_that_break_writes,
        schema_check_denies_a_view_written_through_made_non_updatable,
        diff_refuses_a_sequence_left_at_its_new_maxvalue,
        schema_check_denies_a_sequence_left_with_no_value_to_hand_out,
        schema_check_says_a_narrowing_whose_data_fits_breaks_writes_not_deletes_data,
        diff_counts_the_rows_of_every_partition_a_new_constraint_fails_on,
        diff_counts_null_duplicates_under_nulls_not_distinct,
        diff_counts_unique_keys_over_a_column_the_plan_adds,
        locks_check_budgets_write_blocking_locks_and_samples_sequences_and_views,
        schema_check_fails_a_change_the_engine_sees_but_cannot_express,
        schema_check_sees_a_granted_view_or_definer_function_read_more,
        data_check_rows_moved_between_partitions_are_no_loss,
    ]
}

const CHECKS: &str = "[checks.lint]\nenabled = false\n\n[checks.reversible]\nenabled = false\n";

fn project(name: &str, extra: &str, migration: &str) -> Project {
    Project::new(name)
        .config(&format!("{CHECKS}{extra}"))
        .migration("0001_change.sql", migration)
        .commit()
        .git_branch(&format!("feature/{name}"))
}

/// The one finding of check `check` whose `what` starts with `prefix`, with its severity.
#[track_caller]
fn one(report: &serde_json::Value, check: &str, prefix: &str) -> String {
    let found = findings_starting(report, check, "what", prefix);
    assert_eq!(
        found.len(),
        1,
        "want one {check} finding starting with {prefix:?}:\n{:#}",
        result(report, check)
    );
    found[0]["severity"].as_str().unwrap_or("").to_owned()
}

/// A detached partition and a table taken out of an inheritance lose no row of their own, but a
/// query of the parent no longer reads them: for the application they are deleted.
fn data_check_counts_rows_that_leave_a_partitioned_or_inherited_table() {
    let p = project(
        "data_detach",
        "",
        "alter table p detach partition p1;\nalter table ch no inherit par;\n",
    );
    p.main_sql(
        "create table p (k int, v text) partition by range (k); \
         create table p1 partition of p for values from (0) to (100); \
         create table p2 partition of p for values from (100) to (200); \
         insert into p select g, 'v' from generate_series(0, 199) g; \
         create table par (id int); create table ch () inherits (par); \
         insert into ch select generate_series(1, 30)",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let sev = one(
        &report,
        "data",
        "100 row(s) left public.p: a query of it reads 200 → 100 (exact) (public.p1 no longer part of it)",
    );
    assert_eq!(sev, "error");
    assert_eq!(one(&report, "data", "30 row(s) left public.par"), "error");
    // The tables themselves kept their rows: no "lost" finding for them.
    assert!(findings_starting(&report, "data", "what", "public.p1 lost").is_empty());

    // Declared in allow-loss: information, and the run passes.
    let p = project(
        "data_detach_allowed",
        "[checks.data]\nallow-loss = [\"public.p\"]\n\n[checks.schema]\nenabled = false\n",
        "alter table p detach partition p1;\n",
    );
    p.main_sql(
        "create table p (k int) partition by range (k); \
         create table p1 partition of p for values from (0) to (100); \
         insert into p select generate_series(0, 9)",
    );
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(one(&report, "data", "10 row(s) left public.p"), "info");
}

/// A user's schema named like the integrity check's scratch schema was skipped by the `data`
/// check: a migration emptied a table there unseen.
fn data_check_counts_a_users_table_in_the_integrity_checks_schema() {
    let p = project(
        "data_scratch_schema",
        "",
        "delete from neon_migrate_integrity.keep;\nalter table t add column x int;\n",
    );
    p.main_sql(
        "create table t (id int); create schema neon_migrate_integrity; \
         create table neon_migrate_integrity.keep (id int); \
         insert into neon_migrate_integrity.keep select generate_series(1, 100)",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(
        one(
            &report,
            "data",
            "neon_migrate_integrity.keep lost 100 row(s): 100 → 0 (exact)"
        ),
        "error"
    );
}

fn data_check_sees_a_materialized_view_emptied_and_large_objects_deleted() {
    let p = project(
        "data_matview_lo",
        "",
        "refresh materialized view mv with no data;\nselect lo_unlink(blob) from docs;\n",
    );
    p.main_sql(
        "create table t (id int); insert into t select generate_series(1, 10); \
         create materialized view mv as select id from t; \
         create table docs (id int, blob oid); \
         insert into docs select g, lo_from_bytea(0, 'x') from generate_series(1, 5) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(
        one(
            &report,
            "data",
            "materialized view public.mv is no longer populated: 10 row(s) → none"
        ),
        "error"
    );
    assert_eq!(
        one(&report, "data", "5 large object(s) deleted: 5 → 0 (exact)"),
        "error"
    );
}

/// A migration forced row-level security on a table with a policy that hides rows from its
/// owner — the role the checks read as. The count and a declared assertion saw a filtered table
/// and passed; read with row security off, Postgres refuses the filtered query instead. The
/// copy's role is filtered only where it may not bypass row-level security as the superuser
/// that applies on main does: a server that is not the embedded cluster (`provider.url`).
fn checks_read_with_row_security_off_and_say_what_a_forced_policy_hides() {
    const SQL_CHECK: &str = "[checks.schema]\nenabled = false\n\n[[checks.sql]]\nname = \"every user has an email\"\n\
         query = \"select count(*) = 0 from public.users where email is null\"\n";
    const MIGRATION: &str = "update users set email = null where id <= 3;\n\
         alter table users enable row level security;\n\
         alter table users force row level security;\n\
         create policy visible on users using (email is not null);\n\
         insert into users select g, 'new' || g from generate_series(11, 13) g;\n";
    const USERS: &str = "create table users (id int primary key, email text); \
         insert into users select g, 'u' || g from generate_series(1, 10) g";
    let p = project(
        "checks_forced_rls",
        &format!("{SQL_CHECK}{ON_SERVER}"),
        MIGRATION,
    );
    p.main_sql(USERS);
    let report = pre_push_on_server(&p, exit::CHECK_FAILED);
    assert_eq!(
        one(
            &report,
            "data",
            "public.users: NOT CHECKED: the migration hid its 10 row(s) behind row-level security"
        ),
        "error"
    );
    let sql = result(&report, "sql");
    assert_eq!(sql["status"], "failed", "{sql:#}");
    assert!(
        sql.to_string().contains("row-level security"),
        "the assertion's failure says why: {sql:#}"
    );

    // On the embedded cluster the copy's role bypasses row-level security, as main's
    // superuser does: every row is counted, and the assertion sees the three NULLs.
    let p = project("checks_forced_rls_embedded", SQL_CHECK, MIGRATION);
    p.main_sql(USERS);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let data = result(&report, "data");
    assert_eq!(data["status"], "passed", "{data:#}");
    assert!(
        data.to_string().contains("public.users: 10 → 13 row(s) (exact)"),
        "{data:#}"
    );
    let sql = result(&report, "sql");
    assert_eq!(sql["status"], "failed", "{sql:#}");
    assert!(!sql.to_string().contains("row-level security"), "{sql:#}");

    // Hidden before the migration: the integrity check does not fail the run before the tool
    // starts, nor fingerprint the filtered rows; it says NOT CHECKED for that table. The data
    // check fails it: the migration ran filtered here, and will run unfiltered on main.
    const HIDDEN: &str = "create table users (id int primary key, email text); \
         insert into users select g, 'u' || g from generate_series(1, 10) g; \
         alter table users enable row level security; alter table users force row level security; \
         create policy visible on users using (id > 5); \
         create table other (id int primary key); insert into other select generate_series(1, 5)";
    let p = project(
        "checks_forced_rls_before",
        &format!("[checks.integrity]\nenabled = true\n\n{ON_SERVER}"),
        "alter table other add column note text;\n",
    );
    p.main_sql(HIDDEN);
    let report = pre_push_on_server(&p, exit::CHECK_FAILED);
    let integrity = result(&report, "integrity");
    assert_eq!(integrity["status"], "passed", "{integrity:#}");
    assert_eq!(
        one(&report, "integrity", "NOT CHECKED: public.users: a row-level security policy hid its rows"),
        "warning"
    );
    assert!(
        integrity["summary"]
            .as_str()
            .unwrap_or("")
            .ends_with("; 1 NOT CHECKED (rows hidden by row-level security)"),
        "{integrity:#}"
    );
    assert_eq!(
        one(&report, "data", "public.users: NOT CHECKED: row-level security hides its rows on the test copy, but not from the role that applies on main"),
        "error"
    );

    // The same on the embedded cluster: nothing is hidden from the copy's role.
    let p = project(
        "checks_forced_rls_before_embedded",
        "[checks.integrity]\nenabled = true\n",
        "alter table other add column note text;\n",
    );
    p.main_sql(HIDDEN);
    let (_, report) = pre_push(&p, exit::OK);
    let integrity = result(&report, "integrity");
    assert_eq!(integrity["status"], "passed", "{integrity:#}");
    assert!(
        findings_starting(&report, "integrity", "what", "NOT CHECKED").is_empty(),
        "{integrity:#}"
    );
}

/// Renames that swap two enum labels or two attributes of a composite type keep every name, so
/// a comparison by name saw at most a reordering: every stored value changed meaning.
fn schema_check_sees_enum_labels_and_composite_attributes_swapped_in_place() {
    let p = project(
        "schema_label_swap",
        "",
        "alter type st rename value 'active' to 'tmp';\n\
         alter type st rename value 'banned' to 'active';\n\
         alter type st rename value 'tmp' to 'banned';\n\
         alter type mode rename value 'on' to 'enabled';\n\
         alter type pt rename attribute lat to tmp;\n\
         alter type pt rename attribute lon to lat;\n\
         alter type pt rename attribute tmp to lon;\n",
    );
    p.main_sql(
        "create type st as enum ('active', 'banned'); create type mode as enum ('on', 'off'); \
         create type pt as (lat float8, lon float8); \
         create table u (id int, s st, m mode, loc pt); \
         insert into u select g, 'active', 'on', row(g, -g)::pt from generate_series(1, 10) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(
        one(
            &report,
            "schema",
            "correctness: enum public.st: every stored value 'active' now reads 'banned'"
        ),
        "error"
    );
    assert_eq!(
        one(
            &report,
            "schema",
            "correctness: enum public.st: every stored value 'banned' now reads 'active'"
        ),
        "error"
    );
    assert_eq!(
        one(
            &report,
            "schema",
            "enum public.mode: label 'on' was renamed to 'enabled' in place"
        ),
        "warning"
    );
    assert_eq!(
        one(
            &report,
            "schema",
            "correctness: attribute lat of composite type public.pt now holds other values: its former values are under attribute lon"
        ),
        "error"
    );
}

/// A sequence that a function's `nextval` feeds (no catalog link to the column) moved back.
fn schema_check_sees_a_sequence_moved_back_that_a_function_feeds() {
    let p = project("schema_seq_fn", "", "select setval('s', 1);\n");
    p.main_sql(
        "create sequence s; \
         create function next_id() returns bigint language sql as $$ select nextval('s') $$; \
         create table t (id bigint primary key default next_id(), v text); \
         insert into t (v) select 'x' from generate_series(1, 100)",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(
        one(
            &report,
            "schema",
            "correctness: sequence public.s was moved back: its next value was 101, now 2"
        ),
        "error"
    );
}

/// `allow-migrations` listing one migration excused the data loss of another applied in the
/// same run: hazards are not told apart by migration, so only a run whose every migration is
/// listed is excused.
fn schema_check_allow_migrations_excuses_nothing_beside_an_unlisted_migration() {
    let main = "create table t (id int, legacy text, email text); \
                insert into t select g, 'l', 'e' from generate_series(1, 10) g";
    let config = format!("{CHECKS}[checks.schema]\nallow-migrations = [\"0001_drop_legacy.sql\"]\n");
    let p = Project::new("schema_allow_one_of_two")
        .config(&config)
        .migration("0001_drop_legacy.sql", "alter table t drop column legacy;\n")
        .migration("0002_oops.sql", "alter table t drop column email;\n")
        .commit()
        .git_branch("feature/schema_allow_one_of_two");
    p.main_sql(main);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let schema = result(&report, "schema");
    for col in ["legacy", "email"] {
        let what = format!("deletes_data: ALTER TABLE public.t DROP COLUMN {col}");
        assert_eq!(one(&report, "schema", &what), "error", "{schema:#}");
    }
    assert!(
        schema.to_string().contains("allow-migrations excuses nothing in this run: it lists 0001_drop_legacy.sql but not 0002_oops.sql"),
        "{schema:#}"
    );

    // Every migration of the run listed: excused, shown as warnings.
    let p = Project::new("schema_allow_only_one")
        .config(&config)
        .migration("0001_drop_legacy.sql", "alter table t drop column legacy;\n")
        .commit()
        .git_branch("feature/schema_allow_only_one");
    p.main_sql(main);
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        one(&report, "schema", "deletes_data: ALTER TABLE public.t DROP COLUMN legacy"),
        "warning"
    );
}

/// Changes that apply cleanly and fast and leave the application's writes failing, vanishing or
/// doing less: `breaks_writes`, denied by default; a table made UNLOGGED is `deletes_data`; a
/// function a policy calls, changed, is `authz_update`.
fn schema_check_denies_changes_that_break_writes_and_names_a_policys_function() {
    let p = project(
        "schema_breaks_writes",
        "",
        "alter table pub_t replica identity nothing;\n\
         alter table pub_k drop constraint pub_k_pkey;\n\
         alter table audited disable trigger audit;\n\
         create rule drop_inserts as on insert to orders do instead nothing;\n\
         alter table scratch set unlogged;\n\
         create or replace function can_see(o text) returns boolean language sql as $$ select true $$;\n",
    );
    p.main_sql(
        "create table pub_t (id int primary key); create table pub_k (id int primary key); \
         create publication pub for table pub_t, pub_k; \
         create table audited (id int); create table audit_log (n int); \
         create function log() returns trigger language plpgsql as $$ begin insert into audit_log values (1); return new; end $$; \
         create trigger audit after insert on audited for each row execute function log(); \
         create table orders (id int); create table scratch (id int); \
         create function can_see(o text) returns boolean language sql as $$ select o = current_user $$; \
         create table docs (owner text); alter table docs enable row level security; \
         create policy mine on docs using (can_see(owner))",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let schema = result(&report, "schema");
    let with = |kind: &str, text: &str| {
        findings_starting(&report, "schema", "what", kind)
            .into_iter()
            .filter(|f| f.to_string().contains(text))
            .map(|f| f["severity"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    for text in [
        "ALTER TABLE public.pub_t REPLICA IDENTITY NOTHING",
        "DROP CONSTRAINT \\\"pub_k_pkey\\\"",
        "DISABLE TRIGGER audit",
        "drop_inserts",
    ] {
        assert_eq!(with("breaks_writes", text), ["error"], "{text}: {schema:#}");
    }
    assert_eq!(with("deletes_data", "SET UNLOGGED"), ["error"], "{schema:#}");
    assert!(
        !with("authz_update", "called by row-level security policy public.docs.mine").is_empty(),
        "{schema:#}"
    );
}

/// The equivalents of `DISABLE TRIGGER` and of a `DO INSTEAD` rule (attack11 A3, A4, A4b, A6)
/// passed with no hazard: a trigger set to fire only in replica sessions, a `DO ALSO` rule
/// that deletes, an immutable function a unique index stores changed in place, a serial's
/// sequence made to count down — `breaks_writes`, denied; a user trigger dropped and a BEFORE
/// ROW trigger's function changed — `correctness`, a warning, not denied.
fn schema_check_denies_triggers_rules_functions_and_sequences_that_break_writes() {
    let p = project(
        "schema_breaks_writes_2",
        "",
        "alter table orders enable replica trigger orders_touch;\n\
         drop trigger audit on audited;\n\
         create rule orders_purge as on update to orders do also delete from orders where id < new.id;\n\
         create or replace function norm(t text) returns text language sql immutable as $$ select upper(t) $$;\n\
         create or replace function stamp() returns trigger language plpgsql as $$ begin return null; end $$;\n\
         alter sequence items_id_seq increment by -1 minvalue -1000000;\n",
    );
    p.main_sql(
        "create table orders (id int, total int); \
         create function touch() returns trigger language plpgsql as $$ begin new.total := coalesce(new.total, 0); return new; end $$; \
         create trigger orders_touch before insert or update on orders for each row execute function touch(); \
         create table audited (id int); create table audit_log (n int); \
         create function log() returns trigger language plpgsql as $$ begin insert into audit_log values (1); return new; end $$; \
         create trigger audit after insert on audited for each row execute function log(); \
         create function stamp() returns trigger language plpgsql as $$ begin return new; end $$; \
         create table stamped (id int); \
         create trigger stamped_stamp before insert on stamped for each row execute function stamp(); \
         create function norm(t text) returns text language sql immutable as $$ select lower(t) $$; \
         create table users (email text); create unique index users_email on users (norm(email)); \
         insert into users values ('A@x'), ('b@x'); \
         create table items (id serial primary key); insert into items default values",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let schema = result(&report, "schema");
    let with = |kind: &str, text: &str| {
        findings_starting(&report, "schema", "what", kind)
            .into_iter()
            .filter(|f| f.to_string().contains(text))
            .map(|f| f["severity"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    for text in [
        "ENABLE REPLICA TRIGGER orders_touch",
        "orders_purge",
        "index public.users_email",
        "INCREMENT BY goes from 1 to -1",
    ] {
        assert_eq!(with("breaks_writes", text), ["error"], "{text}: {schema:#}");
    }
    for text in ["DROP TRIGGER audit", "public.stamp() is new or changed on public.stamped"] {
        // The schema check reports `correctness` as a warning: visible, not denied.
        assert_eq!(with("correctness", text), ["warning"], "{text}: {schema:#}");
    }
}

/// A view a role writes through, re-created non-updatable (DISTINCT) or with a CHECK OPTION
/// (attack11 A10): no hazard, PASS, and every INSERT through it failed on main afterwards.
/// The server's own updatability before and after: `breaks_writes`, denied, naming the role.
fn schema_check_denies_a_view_written_through_made_non_updatable() {
    let p = project(
        "schema_view_writes",
        "",
        "create or replace view users as select distinct id, email, active from users_t;\n\
         create or replace view members as select id, email, active from users_t where active with check option;\n",
    );
    p.main_sql(
        "DO $$ BEGIN CREATE ROLE nm_ca_view_rw; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         create table users_t (id bigserial primary key, email text not null, active bool not null default true); \
         insert into users_t (email) select 'u' || g from generate_series(1, 100) g; \
         create view users as select id, email, active from users_t; \
         create view members as select id, email, active from users_t; \
         grant select, insert, update, delete on users, members to nm_ca_view_rw",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let schema = result(&report, "schema");
    let with = |text: &str| {
        findings_starting(&report, "schema", "what", "breaks_writes")
            .into_iter()
            .filter(|f| f.to_string().contains(text))
            .map(|f| f["severity"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    for text in [
        "view public.users no longer accepts INSERT, UPDATE, DELETE",
        "view public.members gains WITH CASCADED CHECK OPTION",
    ] {
        assert_eq!(with(text), ["error"], "{text}: {schema:#}");
    }
    assert!(schema.to_string().contains("role nm_ca_view_rw"), "{schema:#}");
}

/// `MAXVALUE` lowered to the sequence's position: the `ALTER SEQUENCE` applies, and the next
/// `nextval` fails ("reached maximum value"). It was an `info` and exited 0 (attack11 A6):
/// the position is read from main and the plan refused.
fn diff_refuses_a_sequence_left_at_its_new_maxvalue() {
    let p = Project::new("diff_seq_at_max")
        .file(
            "target.sql",
            "create table users (id serial primary key);\n\
             alter sequence users_id_seq maxvalue 3;\n",
        )
        .commit();
    p.main_sql("create table users (id serial primary key); insert into users select from generate_series(1, 3)");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("already stands at the last value its new bounds allow");
    p.main_sql("select setval('users_id_seq', 2)");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK);
}

/// The pipeline half of attack11 A6: `MAXVALUE` lowered to where the sequence stands (its next
/// `nextval` fails), or below the values its column holds, was only `correctness` (info) in the
/// schema check, PASS. The migrated copy holds the data: `breaks_writes`, denied.
fn schema_check_denies_a_sequence_left_with_no_value_to_hand_out() {
    let p = project(
        "schema_seq_exhausted",
        "",
        "alter sequence users_id_seq maxvalue 1000;\n\
         alter sequence items_id_seq maxvalue 300;\n\
         alter sequence roomy_id_seq maxvalue 100000;\n",
    );
    p.main_sql(
        "create table users (id bigserial primary key, email text); \
         insert into users (email) select 'u' || g from generate_series(1, 1000) g; \
         create table items (id serial primary key); \
         insert into items (id) select g from generate_series(1, 500) g; select setval('items_id_seq', 5); \
         create table roomy (id serial primary key); insert into roomy default values",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let schema = result(&report, "schema");
    let with = |text: &str| {
        findings_starting(&report, "schema", "what", "breaks_writes")
            .into_iter()
            .filter(|f| f.to_string().contains(text))
            .map(|f| f["severity"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(with("sequence public.users_id_seq stands at 1000"), ["error"], "{schema:#}");
    assert_eq!(with("column public.items.id, fed by sequence public.items_id_seq, holds 500"), ["error"], "{schema:#}");
    assert!(with("roomy").is_empty(), "{schema:#}");
}

/// attack11 B4: narrowing whose data all fits (`text → varchar(4)` over values of at most 3
/// characters, `integer → smallint` over small numbers) was `deletes_data` "values longer than 4
/// characters are cut" — the migration cut nothing (without `USING` Postgres refuses what does
/// not fit). The data on the migrated copy shows it: `breaks_writes` (later writes of what no
/// longer fits fail). An explicit `USING s::varchar(4)` over longer values really cuts: still
/// `deletes_data`, saying the values at the new length may have been cut.
fn schema_check_says_a_narrowing_whose_data_fits_breaks_writes_not_deletes_data() {
    let p = project(
        "schema_narrow_fits",
        "",
        "alter table users alter column code type varchar(4);\n\
         alter table users alter column n type smallint;\n\
         alter table cut alter column s type varchar(4) using s::varchar(4);\n",
    );
    p.main_sql(
        "create table users (id int primary key, code text, n int); \
         insert into users select g, 'c' || (g % 100), g % 100 from generate_series(1, 200) g; \
         create table cut (id int primary key, s text); insert into cut values (1, 'abcdefgh'), (2, 'ab')",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let schema = result(&report, "schema");
    let with = |kind: &str, text: &str| {
        findings_starting(&report, "schema", "what", kind)
            .into_iter()
            .filter(|f| f.to_string().contains(text))
            .map(|f| f["severity"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(with("breaks_writes", "ALTER COLUMN code TYPE"), ["error"], "{schema:#}");
    assert_eq!(with("breaks_writes", "ALTER COLUMN n TYPE"), ["error"], "{schema:#}");
    assert!(with("deletes_data", "ALTER COLUMN code TYPE").is_empty(), "{schema:#}");
    assert!(with("deletes_data", "ALTER COLUMN n TYPE").is_empty(), "{schema:#}");
    assert_eq!(with("deletes_data", "1 value(s) of public.cut.s"), ["error"], "{schema:#}");
    assert!(schema.to_string().contains("the migration cut nothing"), "{schema:#}");
}

/// A partitioned table holds no rows itself: the counts that refuse a sure failure read
/// `ONLY` the table and found nothing, so a NOT NULL or CHECK the partitions' rows fail was
/// planned (exit 0) and failed half-way.
fn diff_counts_the_rows_of_every_partition_a_new_constraint_fails_on() {
    let p = Project::new("diff_partition_sure")
        .file(
            "target.sql",
            "create table p (k int, rid int not null, check (rid > 0)) partition by range (k);\n\
             create table p1 partition of p for values from (0) to (10);\n\
             create table p2 partition of p for values from (10) to (20);\n",
        )
        .commit();
    p.main_sql(
        "create table p (k int, rid int) partition by range (k); \
         create table p1 partition of p for values from (0) to (10); \
         create table p2 partition of p for values from (10) to (20); \
         insert into p values (1, 1), (2, -1), (15, null), (16, 3)",
    );
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("1 row(s) of main: column public.p.rid holds NULL")
        .stdout_has("1 row(s) of main: rows of public.p violate the new CHECK ((rid > 0))");
    p.main_sql("update p set rid = 5 where rid is null or rid < 0");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK);
}

/// Under `NULLS NOT DISTINCT` two NULL keys are duplicates, but the count matched rows with
/// `IN`, which never matches a NULL: the plan exited 0 and its build failed, leaving an invalid
/// index. A constraint made `NULLS NOT DISTINCT` in place is built under a temporary name first:
/// it was not counted at all.
fn diff_counts_null_duplicates_under_nulls_not_distinct() {
    let p = Project::new("diff_nulls_not_distinct")
        .file(
            "target.sql",
            "create table t (id int primary key, a int, b int, constraint u unique nulls not distinct (a, b));\n\
             create table s (id int primary key, c int);\n\
             create unique index s_c on s (c) nulls not distinct;\n",
        )
        .commit();
    p.main_sql(
        "create table t (id int primary key, a int, b int, constraint u unique (a, b)); \
         insert into t values (1, null, 1), (2, null, 1), (3, 1, 1); \
         create table s (id int primary key, c int); insert into s values (1, null), (2, null), (3, 3)",
    );
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.t share their values of (a, b), which the new UNIQUE constraint \"u\" requires to be unique")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.s share their values of (c), which the new unique index public.s_c requires to be unique");
    p.main_sql("update t set a = id + 10 where a is null; update s set c = id + 10 where c is null");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK);
}

/// A unique index or UNIQUE constraint over a column the plan adds with a constant default:
/// every existing row gets the same value, so two rows are duplicates — it was not counted
/// (the plan exited 0, the build failed). An expression index over a new column was refused
/// even where it is safe; a column drawn per row (`gen_random_uuid()`) is distinct.
fn diff_counts_unique_keys_over_a_column_the_plan_adds() {
    let p = Project::new("diff_new_column_keys")
        .file(
            "target.sql",
            "create table t (id int primary key, code text not null default 'x');\n\
             create unique index t_code on t (code);\n\
             create table v (id int primary key, flag int default 0, constraint v_flag unique (flag));\n\
             create table s (id int primary key, email text, tag text default 'k');\n\
             create unique index s_tag_email on s (lower(email), tag);\n\
             create table n (id int primary key, note text);\n\
             create unique index n_note on n (note);\n\
             create table u (id int primary key, uid uuid default gen_random_uuid());\n\
             create unique index u_uid on u (uid);\n",
        )
        .commit();
    p.main_sql(
        "create table t (id int primary key); insert into t values (1), (2), (3); \
         create table v (id int primary key); insert into v values (1), (2); \
         create table s (id int primary key, email text); insert into s values (1, 'a'), (2, 'b'); \
         create table n (id int primary key); insert into n values (1), (2); \
         create table u (id int primary key); insert into u values (1), (2)",
    );
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("3 row(s) of main (e.g. keys 1, 3): rows of public.t share their values of (code), which the new unique index public.t_code requires to be unique")
        .stdout_has("2 row(s) of main (e.g. keys 1, 2): rows of public.v share their values of (flag), which the new UNIQUE constraint \"v_flag\" requires to be unique");
    p.main_sql("delete from t where id > 1; delete from v where id > 1");
    p.run(&["diff", "--from", "main", "--to", "target.sql"])
        .code(exit::OK);
}

/// attack10 F13: a lock that blocks every write (EXCLUSIVE) held for seconds passed with a
/// warning; F12: a long SHARE ROW EXCLUSIVE on a sequence (every INSERT drawing from it waits)
/// and an ACCESS EXCLUSIVE on a view (every read through it waits) were not sampled at all.
fn locks_check_budgets_write_blocking_locks_and_samples_sequences_and_views() {
    let p = project(
        "locks_write_block",
        "[checks.locks]\naccess-exclusive-budget = \"100ms\"\n",
        "lock table t in exclusive mode;\n\
         alter sequence t_id_seq cache 1;\n\
         alter view v alter column id set default 1;\n\
         select pg_sleep(1);\n",
    );
    p.main_sql(
        "create table t (id serial primary key, v text); \
         insert into t (v) select 'x' from generate_series(1, 10); \
         create view v as select id, v from t",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(result(&report, "locks")["status"], "failed");
    assert_eq!(one(&report, "locks", "EXCLUSIVE lock on public.t held ~"), "error");
    let seq = findings_starting(
        &report,
        "locks",
        "what",
        "SHARE ROW EXCLUSIVE lock on sequence public.t_id_seq feeding public.t held ~",
    );
    assert_eq!(seq.len(), 1, "{:#}", result(&report, "locks"));
    assert_eq!(seq[0]["severity"], "error");
    assert!(
        seq[0]["what"]
            .as_str()
            .unwrap_or("")
            .ends_with("(budget for locks that block writes: 400 ms)"),
        "{:#}",
        seq[0]
    );
    assert!(seq[0]["why"]
        .as_str()
        .unwrap_or("")
        .starts_with("every nextval() of public.t_id_seq, so every INSERT into public.t that draws from it, waits"));
    assert_eq!(
        one(&report, "locks", "ACCESS EXCLUSIVE lock on public.v held ~"),
        "error"
    );
}

/// attack10 F3: `NO INHERIT` is a change the schema engine sees and cannot express; it was a
/// warning, and the run passed. With empty tables no row leaves the parent, so only the schema
/// check can say it: an error, unless every migration of the run is in `allow-migrations`.
fn schema_check_fails_a_change_the_engine_sees_but_cannot_express() {
    let migration = "alter table ch no inherit par;\n";
    let setup = "create table par (id int); create table ch () inherits (par)";
    let p = project("schema_no_inherit", "", migration);
    p.main_sql(setup);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(result(&report, "data")["status"], "passed");
    let found = findings_starting(&report, "schema", "why", "the schema engine sees this change but cannot express it");
    assert_eq!(found.len(), 1, "{:#}", result(&report, "schema"));
    assert_eq!(found[0]["severity"], "error");
    assert!(
        found[0]["what"].as_str().unwrap_or("").contains("public.ch"),
        "{:#}",
        found[0]
    );

    let p = project(
        "schema_no_inherit_allowed",
        "[checks.schema]\nallow-migrations = [\"0001_change.sql\"]\n",
        migration,
    );
    p.main_sql(setup);
    let (_, report) = pre_push(&p, exit::OK);
    let found = findings_starting(&report, "schema", "why", "the schema engine sees this change but cannot express it");
    assert_eq!(found.len(), 1, "{:#}", result(&report, "schema"));
    assert_eq!(found[0]["severity"], "warning");
}

/// A view granted to a role, redefined to read `password_hash` (attack10 p49/F23), and a
/// SECURITY DEFINER function the role may call, given a new body: no GRANT changed, so the
/// schema check passed while the role could read every hash. Now each carries an
/// `authz_update` finding (denied here) naming the role and, for the view, the column. A view
/// created again reading the same columns is no finding (the run passes).
fn schema_check_sees_a_granted_view_or_definer_function_read_more() {
    const MAIN: &str = "DO $$ BEGIN CREATE ROLE f164_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         create table acct (id int primary key, name text, password_hash text); \
         insert into acct values (1, 'a', 'h'); \
         create view pub_acct as select id, name from acct; \
         grant select on pub_acct to f164_app; \
         create function lookup(i int) returns text language plpgsql security definer \
           as $f$ begin return (select name from acct where id = i); end $f$; \
         revoke all on function lookup(int) from public; \
         grant execute on function lookup(int) to f164_app";
    const DENY: &str = "[checks.schema]\ndeny = [\"deletes_data\", \"authz_update\"]\n";
    let p = project(
        "schema_view_exposes",
        DENY,
        "create or replace view pub_acct as select id, name, password_hash from acct;\n\
         create or replace function lookup(i int) returns text language plpgsql security definer \
           as $f$ begin return (select password_hash from acct where id = i); end $f$;\n",
    );
    p.main_sql(MAIN);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let view = findings_starting(
        &report,
        "schema",
        "what",
        "authz_update: CREATE VIEW public.pub_acct",
    );
    assert_eq!(view.len(), 1, "{:#}", result(&report, "schema"));
    assert_eq!(view[0]["severity"], "error");
    let why = view[0]["why"].as_str().unwrap_or("");
    assert!(
        why.contains("role f164_app") && why.contains("column public.acct.password_hash"),
        "{why}"
    );
    let func = findings_starting(
        &report,
        "schema",
        "what",
        "authz_update: CREATE OR REPLACE FUNCTION public.lookup",
    );
    assert_eq!(func.len(), 1, "{:#}", result(&report, "schema"));
    assert!(func[0]["why"]
        .as_str()
        .is_some_and(|w| w.contains("SECURITY DEFINER") && w.contains("role f164_app")));

    // The same view created again, reading the same columns: nothing to deny.
    let p = project(
        "schema_view_same_reads",
        DENY,
        "create or replace view pub_acct as select id, name from acct where id > 0;\n",
    );
    p.main_sql(MAIN);
    let (_, report) = pre_push(&p, exit::OK);
    assert!(
        findings_starting(&report, "schema", "what", "authz_update").is_empty(),
        "{:#}",
        result(&report, "schema")
    );
}

/// Trial 8 P3: rows moved from the default partition into a new one (the plan `generate`
/// writes for a new partition), or by an UPDATE of the partition key, were "lost" from the
/// partition they left, although the partitioned table kept every row. A real loss in the same
/// tree still fails.
fn data_check_rows_moved_between_partitions_are_no_loss() {
    let setup = "create table events (id int, at date) partition by range (at); \
         create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01'); \
         create table events_default partition of events default; \
         insert into events select g, date '2026-01-01' + (g % 700) from generate_series(1, 2000) g";
    let p = project(
        "data_partition_move",
        "[checks.schema]\nenabled = false\n",
        "alter table events detach partition events_default;\n\
         create table events_2027 partition of events for values from ('2027-01-01') to ('2028-01-01');\n\
         insert into events_2027 select * from events_default where at >= '2027-01-01' and at < '2028-01-01';\n\
         delete from events_default where at >= '2027-01-01' and at < '2028-01-01';\n\
         alter table events attach partition events_default default;\n\
         update events set at = at + 365 where at < '2026-02-01';\n",
    );
    p.main_sql(setup);
    let (_, report) = pre_push(&p, exit::OK);
    let data = result(&report, "data");
    assert_eq!(data["status"], "passed", "{data:#}");
    assert!(
        data.to_string()
            .contains("moved within its partitioned table, whose rows were all kept"),
        "{data:#}"
    );
    assert!(
        !data.to_string().contains("public.events_pkey"),
        "a partitioned index is no table: {data:#}"
    );

    let p = project(
        "data_partition_move_and_loss",
        "[checks.schema]\nenabled = false\n",
        "update events set at = at + 365 where at < '2026-02-01';\n\
         delete from events_default where id % 2 = 0;\n",
    );
    p.main_sql(setup);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    assert_eq!(result(&report, "data")["status"], "failed");
    assert_eq!(one(&report, "data", "public.events_default lost "), "error");
}

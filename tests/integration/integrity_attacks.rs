//! The `integrity` check against what an outside attacker tried (issue 19, second round): each
//! scenario is a false green or a gap found from the README and the binary, run through
//! `pre-push` (or `diff`) as a user would, and asserted on the JSON report.

use neon_migrate::exit;

use crate::integrity::{diff_hazards, errors, finding, pre_push, project};
use crate::support::{check_result as result, findings_starting, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        integrity_columns_swapped_by_renames_are_changed_values,
        integrity_a_column_dropped_and_added_again_is_not_a_rename_to_itself,
        integrity_a_type_change_that_rounds_on_the_way_back_fails,
        integrity_lossless_type_changes_pass,
        integrity_a_detached_partition_fails_like_a_deletion_unless_declared,
        integrity_a_table_of_1200_columns_is_compared,
        integrity_the_schema_check_counts_nulls_in_a_table_of_1200_columns,
        integrity_tables_in_a_schema_named_neon_migrate_are_compared,
        integrity_a_schema_named_like_the_scratch_schema_is_left_alone_and_fails,
        integrity_diff_counts_the_rows_a_narrowing_conversion_refuses,
        integrity_diff_does_not_blame_rows_for_a_check_on_a_new_enum_value,
        data_check_counts_a_users_table_in_the_schema_named_neon_migrate,
        integrity_a_sample_over_sparse_keys_reads_rows_and_sees_every_row_updated,
        integrity_a_sample_that_reads_almost_nothing_is_not_checked,
        integrity_keyless_tables_see_values_swapped_between_rows,
        integrity_allow_migrations_excuses_nothing_when_the_run_applies_unlisted_ones,
        integrity_allow_change_entries_are_sql_names_matched_exactly,
    ]
}

/// 20 rows whose `a` and `b` hold different values.
const PAIR: &str = "create table pair (id int primary key, a text, b text); \
     insert into pair select g, 'a' || g, 'b' || g from generate_series(1, 20) g";

fn integrity_columns_swapped_by_renames_are_changed_values() {
    let p = project(
        "integrity_swap",
        "",
        "alter table pair rename column a to tmp;\n\
         alter table pair rename column b to a;\n\
         alter table pair rename column tmp to b;\n",
    );
    p.main_sql(PAIR);
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    // A column is its name: both named columns now hold other values.
    for col in ["a", "b"] {
        let f = finding(&report, &format!("public.pair.{col}: 20 value(s) changed"));
        assert_eq!(f["severity"], "error", "{f:#}");
    }
    assert_eq!(errors(&report).len(), 2, "{:?}", errors(&report));
    out.stdout_has("public.pair.a: 20 value(s) changed");
}

fn integrity_a_column_dropped_and_added_again_is_not_a_rename_to_itself() {
    // A type change done as drop + add: the same name, every value gone.
    let p = project(
        "integrity_readd",
        "",
        "alter table pair drop column b;\nalter table pair add column b bigint;\n",
    );
    p.main_sql(PAIR);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(
        &report,
        "public.pair.b: dropped and added again (type text → bigint): 20 value(s) lost",
    );
    assert_eq!(f["severity"], "error");
    let fix = f["fix"].as_str().unwrap_or("");
    assert!(!fix.contains("RENAME COLUMN"), "{fix}");
    assert!(
        fix.contains("ALTER TABLE \"public\".\"pair\" ALTER COLUMN \"b\" TYPE bigint USING"),
        "{fix}"
    );
    assert_eq!(errors(&report).len(), 1, "{:?}", errors(&report));

    // A rename by copy onto a dropped name, and a plain drop + add of another name, still
    // report as such.
    let p = p
        .migration(
            "0001_change.sql",
            "alter table pair add column c text;\nupdate pair set c = a;\nalter table pair drop column a;\n\
             alter table pair add column d text;\nalter table pair drop column b;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(
        &report,
        "public.pair.a renamed to c by copy: all 20 non-null value(s) kept",
    );
    assert_eq!(f["severity"], "info");
    let f = finding(
        &report,
        "public.pair: b dropped and d added looks like a rename done as drop + add: 20 value(s) lost",
    );
    assert_eq!(f["severity"], "error");
    assert_eq!(errors(&report).len(), 1, "{:?}", errors(&report));
}

fn integrity_a_type_change_that_rounds_on_the_way_back_fails() {
    let p = project(
        "integrity_roundtrip",
        "",
        "alter table nums alter column v type numeric using v + 0.4;\n\
         alter table nums alter column d type timestamp using d + interval '5 hours';\n",
    );
    p.main_sql(
        "create table nums (id int primary key, v int, d date); \
         insert into nums select g, g, date '2024-01-01' + g from generate_series(1, 10) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(
        &report,
        "public.nums.v: type integer → numeric: 10 value(s) not equal after casting back",
    );
    assert_eq!(f["severity"], "error");
    let f = finding(
        &report,
        "public.nums.d: type date → timestamp without time zone: 10 value(s) not equal after casting back",
    );
    assert_eq!(f["severity"], "error");
    assert_eq!(errors(&report).len(), 2, "{:?}", errors(&report));
}

fn integrity_lossless_type_changes_pass() {
    let p = project(
        "integrity_lossless",
        "",
        "alter table kinds alter column ts type timestamptz;\n\
         alter table kinds alter column n type bigint;\n\
         alter table kinds alter column code type integer using code::integer;\n\
         alter table kinds alter column price type numeric(14,2);\n\
         alter table kinds alter column label type text;\n",
    );
    p.main_sql(
        "create table kinds (id int primary key, ts timestamp, n int, code text, price numeric(12,2), label varchar(20)); \
         insert into kinds select g, timestamp '2024-03-01 10:30:00' + g * interval '1 day', g * 1000, (g * 7)::text, \
         g / 4.0, 'label ' || g from generate_series(1, 30) g; \
         insert into kinds values (31, null, null, null, null, null)",
    );
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        result(&report, "integrity")["status"],
        "passed",
        "{report:#}"
    );
    assert!(errors(&report).is_empty(), "{:?}", errors(&report));
}

const PARTITIONED: &str = "create table measures (id int, y int, v text, primary key (id, y)) partition by range (y); \
     create table measures_2023 partition of measures for values from (2023) to (2024); \
     create table measures_2024 partition of measures for values from (2024) to (2025); \
     insert into measures select g, 2023 + g % 2, 'v' || g from generate_series(1, 30) g";

fn integrity_a_detached_partition_fails_like_a_deletion_unless_declared() {
    let p = project(
        "integrity_detach",
        "",
        "alter table measures detach partition measures_2024;\n",
    );
    p.main_sql(PARTITIONED);
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(
        &report,
        "public.measures: partition public.measures_2024 detached: its 15 row(s) left public.measures",
    );
    assert_eq!(f["severity"], "error");
    assert_eq!(f["location"], "public.measures");
    out.stdout_has("its 15 row(s) left public.measures");

    // Detached, then dropped: the rows are counted once more, as a dropped table.
    let p = p
        .migration(
            "0001_change.sql",
            "alter table measures detach partition measures_2024;\ndrop table measures_2024;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    finding(&report, "table public.measures_2024 dropped with its 15 row(s)");

    // Declared on the parent: information (to the `data` check too, which counts the rows
    // that left the partitioned table).
    let config = format!(
        "{}\n[checks.data]\nallow-loss = [\"public.measures\"]\n",
        crate::integrity::BASE.replace("{extra}", "allow-change = [\"public.measures\"]\n")
    );
    let p = p
        .config(&config)
        .migration(
            "0001_change.sql",
            "alter table measures detach partition measures_2024;\n",
        )
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    let f = finding(
        &report,
        "public.measures: partition public.measures_2024 detached",
    );
    assert_eq!(f["severity"], "info");
    // The partitioned parent is a name `allow-change` knows.
    assert!(
        findings_starting(&report, "integrity", "what", "allow-change entry").is_empty(),
        "{:#}",
        result(&report, "integrity")
    );
}

fn integrity_a_table_of_1200_columns_is_compared() {
    let cols: Vec<String> = (1..=1200).map(|i| format!("c{i} int")).collect();
    let values: Vec<String> = (1..=1200).map(|i| format!("g + {i}")).collect();
    let p = project(
        "integrity_wide",
        "",
        "update wide set c1100 = c1100 + 1 where id <= 2;\n",
    );
    p.main_sql(&format!(
        "create table wide (id int primary key, {}); insert into wide select g, {} from generate_series(1, 5) g",
        cols.join(", "),
        values.join(", ")
    ));
    // `pre_push` runs twice: the first run leaves nothing that breaks the second.
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(&report, "public.wide.c1100: 2 value(s) changed");
    assert_eq!(f["severity"], "error");
    assert_eq!(errors(&report).len(), 1, "{:?}", errors(&report));
    // And a run that changes nothing passes.
    let p = p
        .migration("0001_change.sql", "select 1;\n")
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    assert_eq!(
        result(&report, "integrity")["status"],
        "passed",
        "{report:#}"
    );
}

fn integrity_the_schema_check_counts_nulls_in_a_table_of_1200_columns() {
    let cols: Vec<String> = (1..=1200).map(|i| format!("c{i} int")).collect();
    let p = Project::new("integrity_wide_nulls")
        .config("[checks.lint]\nenabled = false\n\n[checks.reversible]\nenabled = false\n")
        .migration(
            "0001_change.sql",
            "update wide set c1200 = 0 where c1200 is null;\n\
             alter table wide alter column c1200 set not null;\n",
        )
        .commit()
        .git_branch("feature/integrity_wide_nulls");
    p.main_sql(&format!(
        "create table wide (id int primary key, {}); \
         insert into wide (id, c1200) select g, case when g > 3 then g end from generate_series(1, 6) g",
        cols.join(", ")
    ));
    let (_, report) = pre_push(&p, exit::OK);
    let counted = "3 row(s) of the test Neon database branch before the migration (the parent's copy) held NULL in c1200 (e.g. keys 1, 3)";
    let found = findings_starting(&report, "schema", "why", counted);
    assert_eq!(found.len(), 1, "{:#}", result(&report, "schema"));
}

fn integrity_tables_in_a_schema_named_neon_migrate_are_compared() {
    let p = project(
        "integrity_own_schema",
        "",
        "update neon_migrate.users set email = lower(email);\n",
    );
    p.main_sql(
        "create schema neon_migrate; \
         create table neon_migrate.users (id int primary key, email text); \
         insert into neon_migrate.users select g, 'User' || g || '@example.com' from generate_series(1, 12) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(&report, "neon_migrate.users.email: 12 value(s) changed");
    assert_eq!(f["severity"], "error");
    // Our own tracking table is not the user's data.
    assert!(
        findings_starting(&report, "integrity", "what", "neon_migrate.schema_migrations").is_empty(),
        "{:#}",
        result(&report, "integrity")
    );
}

fn integrity_a_schema_named_like_the_scratch_schema_is_left_alone_and_fails() {
    // A user's schema of the scratch schema's name used to be dropped on the copy (with the
    // tables the migration then changed unseen) and the check passed.
    let p = project(
        "integrity_scratch_name",
        "",
        "update neon_migrate_integrity.audit set note = 'rewritten';\n",
    );
    p.main_sql(
        "create schema neon_migrate_integrity; \
         create table neon_migrate_integrity.audit (id int primary key, note text); \
         insert into neon_migrate_integrity.audit select g, 'note ' || g from generate_series(1, 5) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let integrity = result(&report, "integrity");
    assert_eq!(integrity["status"], "failed", "{integrity:#}");
    assert!(
        integrity["summary"]
            .as_str()
            .unwrap_or("")
            .starts_with("nothing compared: a schema named neon_migrate_integrity already existed"),
        "{integrity:#}"
    );
}

fn integrity_diff_counts_the_rows_a_narrowing_conversion_refuses() {
    const SECRET: &str = "SECRET-7f3e";
    let p = Project::new("integrity_diff_refused")
        .file(
            "target.sql",
            "create table big (id int primary key, n integer, code integer, amount numeric(4,2));\n",
        )
        .commit();
    p.main_sql(&format!(
        "create table big (id int primary key, n bigint, code text, amount numeric(8,3)); \
         insert into big select g, case when g <= 3 then 5000000000 + g else g end, \
         case when g between 4 and 5 then '{SECRET}' || g else g::text end, \
         case when g = 10 then 123.5 when g = 9 then 1.005 else g end from generate_series(1, 10) g"
    ));
    let hazards = diff_hazards(&p, "target.sql", exit::CHECK_FAILED);
    for want in [
        "3 row(s) of main hold values of n that bigint → integer refuses (e.g. keys 1, 3): the conversion raises SQLSTATE 22003 — this statement fails on it",
        "2 row(s) of main hold values of code that text → integer refuses (e.g. keys 4, 5): the conversion raises SQLSTATE 22P02 — this statement fails on it",
        "1 row(s) of main hold values of amount that numeric(8,3) → numeric(4,2) refuses (e.g. key 10): the conversion raises SQLSTATE 22003",
    ] {
        assert!(
            hazards.iter().any(|h| h.starts_with(want)),
            "want {want:?} in {hazards:#?}"
        );
    }
    let all = hazards.join("\n");
    assert!(!all.contains(SECRET) && !all.contains("5000000001"), "{all}");
    // The value a narrowing rounds is counted as well, next to the ones it refuses.
    assert!(
        all.contains("1 row(s) of main hold values of amount that numeric(8,3) → numeric(4,2) changes (e.g. key 9)"),
        "{all}"
    );
}

/// A CHECK naming an enum value the plan adds, on an empty table: the counting query fails
/// on `--from` (the value does not exist there yet), which is no row's fault. It used to say
/// "at least one row … violate …: this statement fails on it" (outside attacker, F7).
fn integrity_diff_does_not_blame_rows_for_a_check_on_a_new_enum_value() {
    let p = Project::new("integrity_diff_new_enum")
        .file(
            "target.sql",
            "create type e as enum ('a', 'b', 'c');\n\
             create table t (id int, x e, check (x <> 'b'::e or id > 0));\n",
        )
        .commit();
    p.main_sql("create type e as enum ('a', 'c'); create table t (id int, x e)");
    let hazards = diff_hazards(&p, "target.sql", exit::OK);
    let all = hazards.join("\n");
    assert!(!all.contains("at least one row"), "{all}");
    assert!(
        all.contains("the rows of main that violate CHECK") && all.contains("could not be counted: the counting query itself raises SQLSTATE 22P02 before reading a row"),
        "{all}"
    );
}

/// The `data` check skipped the whole `neon_migrate` schema: a user's table there lost rows
/// unseen. Only the `sql` tool's tracking table is ours.
fn data_check_counts_a_users_table_in_the_schema_named_neon_migrate() {
    let p = Project::new("data_own_schema")
        .config("[checks.schema]\nenabled = false\n\n[checks.lint]\nenabled = false\n\n[checks.reversible]\nenabled = false\n")
        .migration("0001_change.sql", "delete from neon_migrate.users where id > 6;\n")
        .commit()
        .git_branch("feature/data_own_schema");
    p.main_sql(
        "create schema neon_migrate; \
         create table neon_migrate.users (id int primary key, email text); \
         insert into neon_migrate.users select g, 'u' || g from generate_series(1, 12) g",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let lost = findings_starting(&report, "data", "what", "neon_migrate.users lost 6 row(s)");
    assert_eq!(lost.len(), 1, "{:#}", result(&report, "data"));
    assert!(
        findings_starting(&report, "data", "what", "neon_migrate.schema_migrations").is_empty(),
        "{:#}",
        result(&report, "data")
    );
}

/// 20,000 rows with keys 1..20000 and two far away (issue 19, third round: a sample spread over
/// the span of key values read none of them).
const SPARSE: &str = "create table t (id bigint primary key, v text); \
     insert into t select g, 'v' || g from generate_series(1, 20000) g; \
     insert into t values (-1000000000000012345, 'far'), (9000000000000000000, 'far'); analyze t";

fn integrity_a_sample_over_sparse_keys_reads_rows_and_sees_every_row_updated() {
    let p = project(
        "integrity_sparse_sample",
        "sample-above = 1000\n",
        "update t set v = 'zz' where id <= 20000;\n",
    );
    p.main_sql(SPARSE);
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(&report, "public.t.v: ");
    let what = f["what"].as_str().unwrap_or("");
    assert!(
        what.contains("value(s) changed") && what.contains("(sampled: "),
        "{what}"
    );
    assert_eq!(f["severity"], "error");
    // The summary says the table was sampled.
    let summary = result(&report, "integrity")["summary"].as_str().unwrap_or("");
    assert!(summary.contains("(1 sampled)"), "{summary}");
    out.stdout_has("1 sampled");
}

fn integrity_a_sample_that_reads_almost_nothing_is_not_checked() {
    // The estimate says 20,000 rows, 100 are left: a sample aiming at 1,000 reads 100 at most,
    // which proves nothing — never "unchanged".
    let p = project("integrity_thin_sample", "sample-above = 1000\n", "select 1;\n");
    p.main_sql(
        "create table t (id bigint primary key, v text) with (autovacuum_enabled = false); \
         insert into t select g, 'v' || g from generate_series(1, 20000) g; analyze t; \
         delete from t where id > 100",
    );
    let (out, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(&report, "public.t: NOT CHECKED: its sample read ");
    assert_eq!(f["severity"], "error");
    assert!(
        f["what"].as_str().unwrap_or("").contains("where it aimed for ~1000"),
        "{f:#}"
    );
    assert!(!out.stdout.contains("column(s) unchanged"), "{out}");
}

fn integrity_keyless_tables_see_values_swapped_between_rows() {
    let p = project(
        "integrity_keyless_swap",
        "",
        "update t set b = case b when 'x' then 'y' when 'y' then 'x' else b end;\n",
    );
    p.main_sql("create table t (a int, b text); insert into t values (1, 'x'), (2, 'y'), (3, 'z')");
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let f = finding(&report, "public.t: rows changed: ");
    assert_eq!(f["severity"], "error");
    let summary = result(&report, "integrity")["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("1 by aggregates") && !summary.contains("1 value by value"),
        "{summary}"
    );

    // Untouched: passes, and the summary says nothing changed.
    let p = p.migration("0001_change.sql", "select 1;\n").commit();
    let (_, report) = pre_push(&p, exit::OK);
    let summary = result(&report, "integrity")["summary"].as_str().unwrap_or("");
    assert!(
        summary.ends_with("0 with changes that fail, 0 with information only"),
        "{summary}"
    );
}

fn integrity_allow_migrations_excuses_nothing_when_the_run_applies_unlisted_ones() {
    let config = crate::integrity::BASE.replace(
        "{extra}",
        "allow-migrations = [\"0001_backfill.sql\"]\n",
    );
    let p = Project::new("integrity_allow_mig")
        .config(&config)
        .migration("0001_backfill.sql", "update t set v = 'y';\n")
        .migration("0002_other.sql", "update u set secret = 'lost';\n")
        .commit()
        .git_branch("feature/integrity_allow_mig");
    p.main_sql(
        "create table t (id int primary key, v text); insert into t values (1, 'x'); \
         create table u (id int primary key, secret text); insert into u values (1, 's')",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    for prefix in ["public.u.secret: 1 value(s) changed", "public.t.v: 1 value(s) changed"] {
        let f = finding(&report, prefix);
        assert_eq!(f["severity"], "error", "{f:#}");
        assert!(
            f["what"].as_str().unwrap_or("").contains("the run also applied 0002_other"),
            "{f:#}"
        );
    }

    // Every migration of the run listed: information.
    let p = p
        .config(&crate::integrity::BASE.replace(
            "{extra}",
            "allow-migrations = [\"0001_backfill.sql\", \"0002_other.sql\"]\n",
        ))
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    let f = finding(&report, "public.u.secret: 1 value(s) changed");
    assert_eq!(f["severity"], "info", "{f:#}");
}

fn integrity_allow_change_entries_are_sql_names_matched_exactly() {
    let p = project(
        "integrity_allow_names",
        "allow-change = [\"public.a.b\", \"public.nosuch\"]\n",
        "update \"a.b\" set v = 'changed'; update \"T\" set v = 'changed'; update a set b = 'changed';\n",
    );
    p.main_sql(
        "create table a (id int primary key, b text); insert into a values (1, 'x'); \
         create table \"a.b\" (id int primary key, v text); insert into \"a.b\" values (1, 'x'); \
         create table \"T\" (id int primary key, v text); insert into \"T\" values (1, 'x')",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    // Table "a.b" is not column b of table a: not declared, and named as SQL would.
    let f = finding(&report, "public.\"a.b\".v: 1 value(s) changed");
    assert_eq!(f["severity"], "error", "{f:#}");
    assert!(
        f["fix"].as_str().unwrap_or("").contains("'public.\"a.b\".v' to `allow-change`"),
        "{f:#}"
    );
    let f = finding(&report, "public.\"T\".v: 1 value(s) changed");
    assert_eq!(f["severity"], "error", "{f:#}");
    // The declared column: information, without a fix to declare it again.
    let f = finding(&report, "public.a.b: 1 value(s) changed");
    assert_eq!(f["severity"], "info", "{f:#}");
    assert!(f["fix"].is_null() || !f["fix"].as_str().unwrap_or("").contains("allow-change"), "{f:#}");
    // An entry that matches nothing is said.
    let w = finding(&report, "allow-change entry \"public.nosuch\" declares nothing");
    assert_eq!(w["severity"], "warning", "{w:#}");

    // Quoted, the entry declares the table "a.b".
    let p = p
        .config(&crate::integrity::BASE.replace(
            "{extra}",
            "allow-change = ['public.\"a.b\".v', 'public.\"T\"', \"public.a.b\"]\n",
        ))
        .commit();
    let (_, report) = pre_push(&p, exit::OK);
    let f = finding(&report, "public.\"a.b\".v: 1 value(s) changed");
    assert_eq!(f["severity"], "info", "{f:#}");
}

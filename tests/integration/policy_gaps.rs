//! Trust gaps of the schema check's policy and of the catalog net (a lead's list, the cases
//! rebuilt from their descriptions): objects a migration leaves owned by or granted to
//! neon-migrate's own roles (F23); domain CHECKs the stored rows fail, counted as sure
//! failures (F13); the values a dropped composite attribute loses, counted (F2).

use neon_migrate::exit;

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        schema_check_fails_on_objects_owned_by_or_granted_to_the_tool_roles,
        schema_check_fails_on_an_object_owned_by_the_copys_own_group_role,
        diff_refuses_domain_checks_the_stored_values_fail,
        diff_counts_the_values_a_dropped_composite_attribute_loses,
    ]
}

const SQL_TOOL: &str = "[tool]\nname = \"sql\"\n";

/// `SET ROLE neon_migrate_test_copies` (the group of every test copy's role) and a table it
/// owns; a grant to it on another table. Neither role exists on production: passed silently.
fn schema_check_fails_on_objects_owned_by_or_granted_to_the_tool_roles() {
    let p = Project::new("f960_setrole")
        .config(SQL_TOOL)
        .migration(
            "0001_setrole.sql",
            "create table f960_granted (id int);\n\
             grant select on f960_granted to neon_migrate_test_copies;\n\
             grant create on schema public to neon_migrate_test_copies;\n\
             set role neon_migrate_test_copies;\n\
             create table f960_owned (id int);\n\
             reset role;\n\
             revoke create on schema public from neon_migrate_test_copies;\n",
        )
        .commit()
        .git_branch("feature/f960_setrole");
    p.main_sql("create table f960_t (id int);\n");
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("table public.f960_owned: owned by neon_migrate_test_copies, neon-migrate's own role")
        .stdout_has("table public.f960_granted: with privileges granted to (or by) neon_migrate_test_copies");
    p.assert_no_test_db_branches();
}

/// The copy's group role named like its database (what `pg_hba.conf`'s `samerole` matches).
fn schema_check_fails_on_an_object_owned_by_the_copys_own_group_role() {
    let p = Project::new("f961_dbrole")
        .config(SQL_TOOL)
        .migration(
            "0001_dbrole.sql",
            "do $$ begin\n\
               execute format('grant create on schema public to %I', current_database());\n\
               execute format('set role %I', current_database());\n\
             end $$;\n\
             create table f961_owned (id int);\n\
             reset role;\n",
        )
        .commit()
        .git_branch("feature/f961_dbrole");
    p.main_sql("create table f961_t (id int);\n");
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("table public.f961_owned: owned by ")
        .stdout_has("neon-migrate's own role");
    p.assert_no_test_db_branches();
}

/// A column changed `int` → a domain whose CHECK its values fail (attack cases e_int2dom,
/// e_int2dom_plain), and `ALTER DOMAIN … ADD CHECK` that stored values fail
/// (e_dom_addchk_plain): `diff` exited 0 and the plan failed on apply. Now counted on
/// `--from` and refused (exit 4) with the count; with the rows fixed, the plan stands.
fn diff_refuses_domain_checks_the_stored_values_fail() {
    let p = Project::new("f963_domcheck")
        .file(
            "int2dom.sql",
            "create domain positive as int check (value > 0);\n\
             create table f963_t (id int primary key, n positive);\n\
             create domain small as int;\n\
             create table f963_u (id int primary key, s small);\n",
        )
        .file(
            "addchk.sql",
            "create table f963_t (id int primary key, n int);\n\
             create domain small as int check (value < 10);\n\
             create table f963_u (id int primary key, s small);\n",
        )
        .commit();
    p.main_sql(
        "create table f963_t (id int primary key, n int);\n\
         create domain small as int;\n\
         create table f963_u (id int primary key, s small);\n\
         insert into f963_t select g, g - 3 from generate_series(1, 10) g;\n\
         insert into f963_u select g, g * 3 from generate_series(1, 10) g;",
    );
    p.run(&["diff", "--from", "main", "--to", "int2dom.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("3 row(s) of main (e.g. keys 1, 3): column public.f963_t.n holds values that the CHECK ((VALUE > 0)) (positive_check) of domain public.positive refuses");
    p.run(&["diff", "--from", "main", "--to", "addchk.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has("7 row(s) of main (e.g. keys 10, 9): column public.f963_u.s holds values that the CHECK ((VALUE < 10)) (small_check) of domain public.small refuses");
    p.main_sql("update f963_t set n = 1 where n <= 0; update f963_u set s = 1 where s >= 10");
    p.run(&["diff", "--from", "main", "--to", "int2dom.sql"])
        .code(exit::OK);
    p.run(&["diff", "--from", "main", "--to", "addchk.sql"])
        .code(exit::OK);
}

/// `ALTER TYPE pair DROP ATTRIBUTE b` while a column (and an array column) stores the type:
/// `deletes_data` named the columns but not how many values go. Now counted on `--from`.
fn diff_counts_the_values_a_dropped_composite_attribute_loses() {
    let p = Project::new("f966_compattr")
        .file(
            "target.sql",
            "create type f966_pair as (a int);\n\
             create table f966_t (id int primary key, p f966_pair, ps f966_pair[]);\n",
        )
        .commit();
    p.main_sql(
        "create type f966_pair as (a int, b int);\n\
         create table f966_t (id int primary key, p f966_pair, ps f966_pair[]);\n\
         insert into f966_t select g, row(g, case when g > 2 then g end)::f966_pair, null from generate_series(1, 5) g;\n\
         insert into f966_t values (6, null, array[row(1, 2)::f966_pair]);",
    );
    let out = p.run(&["diff", "--from", "main", "--to", "target.sql"]);
    out.stdout_has("ALTER TYPE public.f966_pair DROP ATTRIBUTE b")
        .stdout_has("3 row(s) of main hold a value of attribute b of public.f966_pair in p (e.g. keys 3, 5): those values are lost")
        .stdout_has("1 row(s) of main hold a value of attribute b of public.f966_pair in ps (e.g. key 6): those values are lost");
}

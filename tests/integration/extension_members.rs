//! Members added by hand to an extension the migration (or the desired schema) creates
//! (attack8 F-extmember, F-shadow-bypass): a role that creates a trusted extension owns it,
//! so it can `ALTER EXTENSION citext ADD TABLE …` — a PUBLIC-writable table, a SECURITY
//! DEFINER function, a function shadowing a built-in. The engine took every member of a new
//! extension as explained by its creation. Now the extension is created at that version in a
//! scratch database and every member its script does not create is reported (`diff` exits 4,
//! the schema check fails, `shadowing` judges it); where no probe can be made, the
//! extension's members are said to be NOT checked (exit 4), never trusted silently.

use neon_migrate::exit;

use crate::support::{cluster, query, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        diff_of_members_added_to_a_new_extension_exits_4_naming_them,
        schema_check_fails_on_a_public_writable_table_added_to_a_new_extension,
        shadowing_reports_a_built_in_shadowed_by_a_member_added_to_a_new_extension,
        diff_says_a_new_extensions_members_are_not_checked_when_no_probe_can_be_made,
    ]
}

const SQL_TOOL: &str = "[tool]\nname = \"sql\"\n";

const BASE: &str = "create table f820_t (id int);\n";

/// `citext` as its script makes it, and the same with a table and a function added by hand.
const WITH_CITEXT: &str = "create table f820_t (id int);\ncreate extension citext;\n";

const ADDED: &str = "create table f820_t (id int);\n\
create extension citext;\n\
create table f820_sneaky (id int, secret text);\n\
grant all on f820_sneaky to public;\n\
alter extension citext add table f820_sneaky;\n\
create function f820_fn() returns int language sql security definer as 'select 1';\n\
alter extension citext add function f820_fn();\n";

fn diff_of_members_added_to_a_new_extension_exits_4_naming_them() {
    let p = Project::new("extmember_diff")
        .config(SQL_TOOL)
        .file("base.sql", BASE)
        .file("citext.sql", WITH_CITEXT)
        .file("added.sql", ADDED)
        .commit();
    // The extension as its script makes it: its members are explained by its creation.
    p.run(&["diff", "--from", "base.sql", "--to", "citext.sql"])
        .code(exit::OK)
        .stdout_has("CREATE EXTENSION IF NOT EXISTS citext")
        .stdout_lacks("WARNING");
    p.run(&["diff", "--from", "base.sql", "--to", "added.sql"])
        .code(exit::CHECK_FAILED)
        .stdout_has(
            "table public.f820_sneaky on extension citext is not created by the extension's script",
        )
        .stdout_has(
            "function public.f820_fn() on extension citext is not created by the extension's script",
        )
        .stdout_lacks("no schema changes");
}

fn schema_check_fails_on_a_public_writable_table_added_to_a_new_extension() {
    let p = Project::new("extmember_check")
        .config(SQL_TOOL)
        .migration("0001_citext.sql", "create extension if not exists citext;\n")
        .commit()
        .git_branch("feature/extmember_check");
    p.main_sql("create table f821_t (id int);\n");
    // A plain `CREATE EXTENSION` passes: the probe finds every member in the script.
    p.run(&["run", "pre-push"])
        .code(exit::OK)
        .stdout_has("✓ schema: 1 schema change(s)")
        .stdout_lacks("not created by the extension's script");
    let p = Project::new("extmember_check2")
        .config(SQL_TOOL)
        .migration(
            "0001_sneaky.sql",
            "create extension if not exists citext;\n\
             create table f821_sneaky (id int, secret text);\n\
             grant all on f821_sneaky to public;\n\
             alter extension citext add table f821_sneaky;\n",
        )
        .commit()
        .git_branch("feature/extmember_check2");
    p.main_sql("create table f821_t (id int);\n");
    p.run(&["run", "pre-push"])
        .code(exit::CHECK_FAILED)
        .stdout_has(
            "table public.f821_sneaky on extension citext is not created by the extension's script",
        );
    p.assert_no_test_db_branches();
}

fn shadowing_reports_a_built_in_shadowed_by_a_member_added_to_a_new_extension() {
    let p = Project::new("extmember_shadow")
        .config(SQL_TOOL)
        .migration(
            "0001_shadow.sql",
            "create extension if not exists citext;\n\
             create function public.length(varchar) returns int language sql as 'select 7';\n\
             alter extension citext add function public.length(varchar);\n",
        )
        .commit()
        .git_branch("feature/extmember_shadow");
    p.main_sql("create table f822_t (id int);\n");
    p.run(&["run", "pre-push"])
        .code(exit::CHECK_FAILED)
        .stdout_has("the migration defines public.length(character varying)")
        // citext's own overloads of built-ins (`strpos(citext, citext)`…) are its script's.
        .stdout_lacks("public.strpos(");
    p.assert_no_test_db_branches();
}

/// The `--to` database is read by a role without CREATEDB: no scratch database can be made
/// on its server, so the new extension's members are NOT checked — loudly, exit 4.
fn diff_says_a_new_extensions_members_are_not_checked_when_no_probe_can_be_made() {
    let p = Project::new("extmember_unchecked")
        .config(SQL_TOOL)
        .file("base.sql", BASE)
        .commit();
    p.main_sql(WITH_CITEXT);
    p.block_on(query(
        "postgres",
        "DO $$ BEGIN CREATE ROLE f823_reader LOGIN PASSWORD 'f823-pw' NOCREATEDB; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
    ))
    .expect("create role");
    let url = cluster().url(p.main_db());
    let at = url.find('@').expect("a URL with a user");
    let url = format!("postgres://f823_reader:f823-pw{}", &url[at..]);
    p.run(&["diff", "--from", "base.sql", "--to", &url])
        .code(exit::CHECK_FAILED)
        .stdout_has("the members of extension citext were NOT checked against its script")
        .stdout_has("CREATEDB")
        .stdout_lacks("no schema changes");
}

//! The local provider's test copy runs a migration the way `apply` will run it on main
//! (attack11 A2, A9, B3, B5): the copy's own role gets the row-level security exposure, the
//! default privileges and the publications the role that applies on main has; what it cannot
//! get fails with a reason and the way out.

use neon_migrate::exit;

use crate::integrity::pre_push;
use crate::support::{check_result as result, cluster, findings_starting, run_command, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        copy_role_bypasses_row_security_like_the_superuser_that_applies_on_main,
        copy_role_without_bypassrls_fails_the_tables_a_policy_hides,
        copy_role_gets_the_default_privileges_of_the_role_that_applies_on_main,
        copy_role_owns_the_copys_publications,
        copy_role_says_why_it_cannot_act_as_an_application_role,
        schema_check_names_an_owner_main_loses_to_an_object_created_again,
    ]
}

/// `[provider]` of a project that reaches the shared cluster through `provider.url` (set by
/// [`pre_push_on_server`]): to neon-migrate a server of the user's, whose `pg_hba.conf` is not
/// known to keep a copy's role in its own database.
pub(crate) const ON_SERVER: &str = "[provider]\nurl = \"{{env.NM_IT_SERVER_URL}}\"\n";

/// `run pre-push --json` of a project configured with [`ON_SERVER`], expecting `code`.
pub(crate) fn pre_push_on_server(p: &Project, code: i32) -> serde_json::Value {
    let args = ["run", "pre-push", "--json"];
    let mut cmd = p.command(&args);
    cmd.env("NM_IT_SERVER_URL", cluster().url(p.main_db()));
    let out = run_command(cmd, &args);
    out.code(code);
    p.assert_no_test_db_branches();
    out.json()
}

const CHECKS: &str = "[checks.lint]\nenabled = false\n\n[checks.reversible]\nenabled = false\n";

const RLS_MAIN: &str = "create table docs (id int primary key, archived bool, tenant text); \
     insert into docs select g, g <= 900, 't' || (g % 3) from generate_series(1, 1000) g; \
     alter table docs enable row level security; alter table docs force row level security; \
     create policy tenant_docs on docs using (tenant = current_setting('app.tenant', true))";

fn project(name: &str, extra: &str, migration: &str) -> Project {
    Project::new(name)
        .config(&format!("{CHECKS}{extra}"))
        .migration("0001_change.sql", migration)
        .commit()
        .git_branch(&format!("feature/{name}"))
}

/// A2: on main the superuser that applies bypasses row-level security and deletes 900 rows;
/// the copy's role (the owner, filtered by FORCE ROW LEVEL SECURITY) deleted none, and the run
/// passed with a warning. Now the copy's role bypasses it too: the data check sees the loss.
fn copy_role_bypasses_row_security_like_the_superuser_that_applies_on_main() {
    let p = project("fid_rls", "", "delete from docs where archived;\n");
    p.main_sql(RLS_MAIN);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let lost = findings_starting(&report, "data", "what", "public.docs lost 900 row(s)");
    assert_eq!(lost.len(), 1, "{:#}", result(&report, "data"));
    assert_eq!(lost[0]["severity"], "error");
    assert!(
        findings_starting(&report, "data", "what", "public.docs: NOT CHECKED").is_empty(),
        "{:#}",
        result(&report, "data")
    );
}

/// A2 where the copy's role may not bypass row-level security: a server that is not the
/// embedded cluster, whose main database lets every role connect (BYPASSRLS would let the
/// copy's role read main's rows their policies hide). The table the policy hides fails the
/// data check, saying why and what to do.
fn copy_role_without_bypassrls_fails_the_tables_a_policy_hides() {
    let p = project("fid_rls_url", ON_SERVER, "delete from docs where archived;\n");
    p.main_sql(&format!(
        "{RLS_MAIN}; grant connect on database {} to public",
        p.main_db()
    ));
    let report = pre_push_on_server(&p, exit::CHECK_FAILED);
    let hidden = findings_starting(
        &report,
        "data",
        "what",
        "public.docs: NOT CHECKED: row-level security hides its rows on the test copy, but not from the role that applies on main",
    );
    assert_eq!(hidden.len(), 1, "{:#}", result(&report, "data"));
    assert_eq!(hidden[0]["severity"], "error");
    let why = hidden[0]["why"].as_str().unwrap_or("");
    assert!(
        why.contains("was not given BYPASSRLS") && why.contains("neon_migrate_copy_"),
        "{why}"
    );
    assert!(
        hidden[0]["fix"]
            .as_str()
            .is_some_and(|f| f.contains("tool-role = \"server\"")),
        "{:#}",
        hidden[0]
    );
}

/// A9: main's role has `ALTER DEFAULT PRIVILEGES … GRANT SELECT ON TABLES TO …`: a new table
/// is readable by that role on main. The copy's role creates the table on the copy, so it must
/// get the same default privileges there, and the schema check names the grant before main
/// has it (it showed only after `apply`, and `deploy` failed with main changed).
fn copy_role_gets_the_default_privileges_of_the_role_that_applies_on_main() {
    let p = project(
        "fid_defacl",
        "[checks.schema]\ndeny = [\"authz_update\"]\n",
        "create table api_keys (id int primary key, secret text);\n",
    );
    p.main_sql(
        "DO $$ BEGIN CREATE ROLE fid_defacl_ro; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         alter default privileges in schema public grant select on tables to fid_defacl_ro; \
         create table t (id int)",
    );
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let found = findings_starting(
        &report,
        "schema",
        "what",
        "authz_update: GRANT SELECT ON TABLE public.api_keys TO fid_defacl_ro",
    );
    assert_eq!(found.len(), 1, "{:#}", result(&report, "schema"));

    // `deploy` (the grant not denied): main gets the grant the copy showed, and the check after
    // the apply agrees (it failed there, with main changed).
    let name = "fid_defacl_deploy";
    let p = Project::new(name)
        .config(&format!(
            "{CHECKS}[apply]\nrestore-point-ttl = \"2h\"\ngit-branches = [\"{name}/x\"]\n"
        ))
        .migration(
            "0001_change.sql",
            "create table api_keys (id int primary key, secret text);\n",
        )
        .commit()
        .git_branch(&format!("{name}/x"));
    p.main_sql(
        "DO $$ BEGIN CREATE ROLE fid_defacl_ro; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         alter default privileges in schema public grant select on tables to fid_defacl_ro; \
         create table t (id int)",
    );
    p.run(&["run", "deploy"])
        .code(exit::OK)
        .stdout_has("verified: main's schema now equals the test copy's");
    let granted = p.main_sql("select has_table_privilege('fid_defacl_ro', 'public.api_keys', 'SELECT')");
    assert_eq!(granted[0][0].as_deref(), Some("t"));
    p.run(&["gc", "--all"]).code(exit::OK);
}

/// B3: `ALTER PUBLICATION` needs the publication's owner; on the copy the publication kept
/// main's owner and the migration failed ("must be owner of publication").
fn copy_role_owns_the_copys_publications() {
    let p = project(
        "fid_pub",
        "",
        "alter publication fid_analytics set (publish = 'insert, update, delete');\n",
    );
    p.main_sql(
        "create table events (id int primary key); \
         create publication fid_analytics for table events with (publish = 'insert')",
    );
    let out = p.run(&["run", "pre-push"]);
    assert!(
        !out.to_string().contains("must be owner of publication"),
        "{out}"
    );
    out.code(exit::OK);
}

/// B5: acting as an application role (`ALTER … OWNER TO`, `SET ROLE`) works on main and
/// fails on the copy, whose role is not a member of it: the failure says so and names the way
/// out.
fn copy_role_says_why_it_cannot_act_as_an_application_role() {
    let p = project(
        "fid_owner_to",
        "",
        "create table notes (id int primary key);\nalter table notes owner to fid_app_owner;\n",
    );
    p.main_sql(
        "DO $$ BEGIN CREATE ROLE fid_app_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         create table t (id int)",
    );
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED);
    let text = out.to_string();
    assert!(
        text.contains("neon_migrate_copy_")
            && text.contains("fid_app_owner")
            && text.contains("tool-role = \"server\""),
        "{out}"
    );
}

/// deployfid: a view owned on main by an application role, dropped and created again, is the
/// applying role's on main afterwards; on the copy every object is the copy's role's, so no
/// owner change showed and `deploy` failed only after the apply. The schema check names it
/// before, from main's owners the provider recorded when it made the copy.
fn schema_check_names_an_owner_main_loses_to_an_object_created_again() {
    const MAIN: &str = "DO $$ BEGIN CREATE ROLE fid_view_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         create table t (id int primary key); create view v as select id from t; \
         alter view v owner to fid_view_owner; create view w as select id from t";
    const MIGRATION: &str = "drop view v;\ncreate view v as select id, id + 1 as next from t;\n\
         create or replace view w as select id, 1 as one from t;\n";
    let p = project("fid_recreate", "", MIGRATION);
    p.main_sql(MAIN);
    let (_, report) = pre_push(&p, exit::CHECK_FAILED);
    let found = findings_starting(
        &report,
        "schema",
        "what",
        "authz_update: the owner of view public.v changes on main from fid_view_owner to ",
    );
    assert_eq!(found.len(), 1, "{:#}", result(&report, "schema"));
    assert_eq!(found[0]["severity"], "error");
    // A view replaced in place keeps its OID: no owner change to name.
    assert!(
        findings_starting(&report, "schema", "what", "authz_update: the owner of view public.w")
            .is_empty(),
        "{:#}",
        result(&report, "schema")
    );

    // `deploy` stops before the apply: main keeps its view and its owner.
    let name = "fid_recreate_deploy";
    let p = Project::new(name)
        .config(&format!(
            "{CHECKS}[apply]\nrestore-point-ttl = \"2h\"\ngit-branches = [\"{name}/x\"]\n"
        ))
        .migration("0001_change.sql", MIGRATION)
        .commit()
        .git_branch(&format!("{name}/x"));
    p.main_sql(MAIN);
    p.run(&["run", "deploy"]).code(exit::CHECK_FAILED);
    let owner = p.main_sql("select pg_get_userbyid(relowner) from pg_class where relname = 'v'");
    assert_eq!(owner[0][0].as_deref(), Some("fid_view_owner"));
    p.run(&["gc", "--all"]).code(exit::OK);
}

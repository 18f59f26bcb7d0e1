//! `run deploy` on the local provider where the test copy does not start as main is: it has
//! none of `PUBLIC`'s default privileges on the database, a role of its own owns every object,
//! and that role (not main's) runs the migration. A migration whose effect depends on those
//! must not pass on the copy and then do something else on main.

use neon_migrate::exit;

use crate::support::{stage, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        deploy_fails_when_main_loses_a_database_privilege_the_copy_never_had,
        deploy_fails_when_an_owner_changes_on_main_but_not_on_the_copy,
        deploy_gives_the_copys_role_the_settings_mains_role_has_in_main,
    ]
}

/// The apply stage's message and details, joined.
fn apply_text(out: &crate::support::Output) -> String {
    let report = out.json();
    let a = stage(&report, "apply");
    let mut text = vec![a["error"]["message"].as_str().unwrap_or_default().to_owned()];
    for d in a["details"].as_array().into_iter().flatten() {
        text.push(d.as_str().unwrap_or_default().to_owned());
    }
    text.join("\n")
}

fn deploy_project(name: &str, main: &str, migration: &str) -> Project {
    let p = Project::new(name);
    p.main_sql(main);
    p.config(&format!(
        "[apply]\nrestore-point-ttl = \"2h\"\ngit-branches = [\"{name}/x\"]\n"
    ))
    .migration("0001_m.sql", migration)
    .commit()
    .git_branch(&format!("{name}/x"))
}

/// A0: `REVOKE CONNECT ON DATABASE <current> FROM PUBLIC` is a no-op on the copy (created
/// without PUBLIC's grants) and locks every application role out of main.
fn deploy_fails_when_main_loses_a_database_privilege_the_copy_never_had() {
    let p = deploy_project(
        "authz_dbacl",
        "create table accounts (id bigint primary key)",
        "do $$ begin execute format('revoke connect on database %I from public', current_database()); end $$;\n",
    );
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    let text = apply_text(&out);
    assert!(
        text.contains("privileges on this database changed on main")
            && text.contains("lost PUBLIC:CONNECT")
            && text.contains("neon-migrate rollback"),
        "{text}\n{out}"
    );
    p.run(&["gc", "--all"]).code(exit::OK);
}

/// A0b: `ALTER TABLE … OWNER TO CURRENT_USER` is a no-op on the copy (its role owns
/// everything) and takes the table from the application's owner role on main.
fn deploy_fails_when_an_owner_changes_on_main_but_not_on_the_copy() {
    let p = deploy_project(
        "authz_owner",
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authz_owner_app') THEN
             CREATE ROLE authz_owner_app;
           END IF;
         END $$;
         create table docs (id bigint primary key);
         alter table docs owner to authz_owner_app",
        "alter table docs owner to current_user;\n",
    );
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    let text = apply_text(&out);
    assert!(
        text.contains("the owner of table public.docs changed on main from authz_owner_app"),
        "{text}\n{out}"
    );
    p.run(&["gc", "--all"]).code(exit::OK);
}

/// A1: main's role has `search_path = app, public` in main's database; the copy's role must
/// have it too, or `delete from events` empties `public.events` on the copy (nothing) and
/// `app.events` on main.
fn deploy_gives_the_copys_role_the_settings_mains_role_has_in_main() {
    let p = deploy_project(
        "authz_rolesetting",
        "create schema app;
         create table app.events (id int primary key, kind text not null);
         insert into app.events select g, case when g <= 9 then 'debug' else 'info' end from generate_series(1, 10) g;
         create table public.events (id int primary key, kind text not null);
         DO $$ BEGIN
           EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET search_path = app, public', current_database());
         END $$",
        "delete from events where kind = 'debug';\n",
    );
    let out = p.run(&["run", "deploy", "--json"]);
    let left = p.main_sql("select count(*) from app.events")[0][0].clone();
    assert_eq!(
        left.as_deref(),
        Some("10"),
        "main lost rows the copy never lost\n{out}"
    );
    assert_ne!(out.code, exit::OK, "{out}");
    p.run(&["gc", "--all"]).code(exit::OK);
}

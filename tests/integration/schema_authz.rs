//! Privileges and owners through the real binary: `diff` of two live databases that differ
//! only by a REVOKE, a `.sql` target loaded by another role than the live side's (no owner
//! change invented), and the drift check before `apply` — a GRANT or an owner change made on
//! main after the test copy is drift, while a local test copy owned by a role of its own is
//! not; and the schema check fails on a migration that grants a role membership, sets a
//! role attribute or creates a superuser (roles are not in the schema it diffs).

use neon_migrate::exit;
use neon_migrate::pg;
use serde_json::Value;

use crate::support::{cluster, query, run_command, stage, unique_db, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        diff_of_two_databases_differing_by_a_revoke_plans_it_with_an_authz_update_hazard,
        diff_to_a_sql_file_loaded_by_another_role_invents_no_owner_change,
        diff_as_a_role_that_cannot_read_user_mapping_options_says_not_checked,
        apply_refused_when_a_grant_was_made_on_main_after_the_test_copy,
        apply_refused_when_an_owner_changed_on_main_after_the_test_copy,
        schema_check_fails_on_a_migration_that_grants_a_role_membership,
        schema_check_fails_on_a_migration_that_sets_its_own_role_in_every_database,
        schema_check_fails_on_a_migration_that_grants_on_parameters_tablespaces_and_databases,
        schema_check_fails_on_a_migration_that_changes_a_memberships_inherit_option => below_16(),
    ]
}

/// `CREATE ROLE name` unless it exists (roles are cluster-wide; tests run in parallel).
fn role(name: &str, extra: &str) -> String {
    format!(
        "DO $$ BEGIN CREATE ROLE {} {extra}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
        pg::ident(name)
    )
}

/// A new database of the shared cluster, loaded with `sql`.
fn database(p: &Project, name: &str, sql: &str) {
    p.block_on(async {
        query(
            "postgres",
            &format!("CREATE DATABASE {} TEMPLATE template0", pg::ident(name)),
        )
        .await
        .expect("create database");
        query(name, sql).await.expect("load database");
    });
}

fn diff_of_two_databases_differing_by_a_revoke_plans_it_with_an_authz_update_hazard() {
    let p = Project::new("authz_diff");
    let schema = format!(
        "{}\ncreate table t (id int primary key);\ngrant select, insert on t to it_authz_reader;\n",
        role("it_authz_reader", "")
    );
    let (a, b) = (unique_db("authz_a"), unique_db("authz_b"));
    database(&p, &a, &schema);
    database(
        &p,
        &b,
        &format!("{schema}revoke select on t from it_authz_reader;\n"),
    );
    let (ua, ub) = (cluster().url(&a), cluster().url(&b));
    let out = p.run(&["diff", "--from", &ua, "--to", &ub]);
    // Exit 4 is for changes the engine cannot express; a planned REVOKE is 0.
    out.code(exit::OK);
    out.stdout_has("REVOKE SELECT ON TABLE public.t FROM it_authz_reader;");
    out.stdout_has("-- hazard authz_update: role it_authz_reader loses SELECT on TABLE public.t");
    assert!(!out.stdout.contains("no schema changes"), "{out}");
    assert!(!out.stdout.contains("INSERT"), "only the REVOKE:\n{out}");

    let json = p.run(&["diff", "--from", &ua, "--to", &ub, "--format", "json"]);
    json.code(exit::OK);
    let v: Value = serde_json::from_str(&json.stdout).expect("json");
    let statements = v["plan"]["statements"].as_array().expect("statements");
    assert_eq!(statements.len(), 1, "{json}");
    assert_eq!(statements[0]["hazards"][0]["kind"], "authz_update", "{json}");
    assert_ne!(v["from_fingerprint"], v["to_fingerprint"], "{json}");
}

fn diff_to_a_sql_file_loaded_by_another_role_invents_no_owner_change() {
    // The live side is read as the role that owns its objects; the .sql target is loaded
    // into a scratch database by a role of its own: both are "the default owner". Roles are
    // server-wide and the loader may not create any: the one the target grants to exists
    // (the live side's set-up made it).
    let live = unique_db("authz_live");
    let app = "it_authz_app";
    let schema = "create table t (id int primary key, note text);\n\
                  create function f() returns int language sql as 'select 1';\n";
    let p = Project::new("authz_sql_target").file(
        "target.sql",
        &format!("{schema}grant select on t to it_authz_reader;\n"),
    );
    database(
        &p,
        &live,
        &format!(
            "{}\n{}\nALTER ROLE {app} LOGIN PASSWORD 'it-authz-pw';\n{schema}\
             alter table t owner to {app};\nalter function f() owner to {app};\n\
             alter schema public owner to {app};\n",
            role(app, "LOGIN"),
            role("it_authz_reader", "")
        ),
    );
    let url = neon_migrate::providers::local::role::url_as(
        &cluster().url(&live),
        app,
        "it-authz-pw",
        &live,
    );
    let url = url.expose().to_owned();
    let out = p.run(&["diff", "--from", &url, "--to", "target.sql"]);
    out.code(exit::OK);
    out.stdout_has("GRANT SELECT ON TABLE public.t TO it_authz_reader;");
    assert!(!out.stdout.contains("OWNER TO"), "an owner change was invented:\n{out}");
    assert!(
        !out.stdout.contains("EXECUTE"),
        "the loader's implicit privileges were planned:\n{out}"
    );
}

/// `pg_user_mappings` shows a mapping's options only to the mapped role, the server's owner
/// (for PUBLIC) or a superuser; to anyone else they are NULL. They were taken as "no
/// options": a changed password compared equal ("no schema changes", exit 0) and a new mapping
/// was planned without its options (found by an outside attacker).
fn diff_as_a_role_that_cannot_read_user_mapping_options_says_not_checked() {
    let reader = "it_authz_um_reader";
    let setup = format!(
        "{}\n{}\nALTER ROLE {reader} LOGIN PASSWORD 'it-authz-pw';\n\
         create extension if not exists postgres_fdw;\n\
         create server s foreign data wrapper postgres_fdw options (host 'localhost', dbname 'x');\n\
         create table t (id int);\n",
        role(reader, "LOGIN"),
        role("it_authz_um_alice", "")
    );
    let p = Project::new("authz_um");
    let (a, b) = (unique_db("authz_um_a"), unique_db("authz_um_b"));
    database(
        &p,
        &a,
        &format!("{setup}create user mapping for it_authz_um_alice server s options (user 'alice', password 'old');\n"),
    );
    database(
        &p,
        &b,
        &format!("{setup}create user mapping for it_authz_um_alice server s options (user 'admin', password 'new');\n\
                  create user mapping for public server s options (user 'shared', password 'pw');\n"),
    );
    let as_reader = |db: &str| {
        let url = neon_migrate::providers::local::role::url_as(
            &cluster().url(db),
            reader,
            "it-authz-pw",
            db,
        );
        url.expose().to_owned()
    };
    let out = p.run(&["diff", "--from", &as_reader(&a), "--to", &as_reader(&b)]);
    out.code(exit::CHECK_FAILED)
        .stdout_has("user mapping FOR it_authz_um_alice SERVER s: its options are NOT CHECKED")
        .stdout_has("user mapping FOR PUBLIC SERVER s: its options are NOT CHECKED");
    assert!(!out.stdout.contains("no schema changes"), "{out}");
    assert!(!out.stdout.contains("'old'") && !out.stdout.contains("'new'"), "{out}");
    // Even unchanged, what cannot be read is not called equal.
    let same = p.run(&["diff", "--from", &as_reader(&a), "--to", &as_reader(&a)]);
    same.code(exit::CHECK_FAILED)
        .stdout_has("user mapping FOR it_authz_um_alice SERVER s: its options are NOT CHECKED");
    // The superuser reads them: the change is named (values never printed).
    let (ua, ub) = (cluster().url(&a), cluster().url(&b));
    p.run(&["diff", "--from", &ua, "--to", &ub])
        .code(exit::CHECK_FAILED)
        .stdout_has("user mapping FOR it_authz_um_alice SERVER s: options (password, user) differ");
}

/// A project whose main has `accounts` owned by another role with a grant, and a pipeline
/// that runs `change` on main between the test copy and `apply`.
fn drift_project(name: &str, change: &str, provider: &str) -> (Project, std::path::PathBuf) {
    let p = Project::new(name);
    p.main_sql(&format!(
        "{}{}create table accounts (id bigint primary key);\n\
         alter table accounts owner to it_authz_owner;\n\
         grant select on accounts to it_authz_reader;\n",
        role("it_authz_owner", ""),
        role("it_authz_reader", "")
    ));
    let psql = cluster().bin.join("psql");
    let git_branch = format!("{}/x", name.replace('_', "-"));
    let p = p
        .config(&format!(
            r#"
[apply]
restore-point-ttl = "2h"
git-branches = ["{git_branch}"]

[stages.alter-main]
kind = "shell"
run = '"$NM_PSQL" -q -v ON_ERROR_STOP=1 -d "$NM_MAIN_URL" -c "{change}"'

[pipelines.deploy-drift]
stages = ["create-neon-database-branch", "migrate", "checks", "delete-neon-database-branch", "alter-main", "apply"]
{provider}
"#
        ))
        .migration(
            "0001_create_orders.sql",
            "create table orders (id bigint primary key);\n",
        )
        .commit()
        .git_branch(&git_branch);
    (p, psql)
}

/// Runs the drifting pipeline: refused, naming `needle`; then the plain one applies.
fn refused_then_applied(p: &Project, psql: &std::path::Path, needle: &str) {
    let mut c = p.command(&["run", "deploy-drift", "--json"]);
    c.env("NM_PSQL", psql)
        .env("NM_MAIN_URL", cluster().url(p.main_db()));
    let out = run_command(c, &["run", "deploy-drift", "--json"]);
    out.code(exit::APPLY_REFUSED);
    let a = stage(&out.json(), "apply").clone();
    let details = a["details"].to_string();
    assert!(
        a["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the main Neon database branch changed since this run copied it"),
        "{out}"
    );
    assert!(details.contains(needle), "{needle} not named:\n{details}\n{out}");
    assert!(!p.main_has("public.orders"), "applied despite the drift\n{out}");

    // Proven again against the current main: applied (the copy's own owner is no drift).
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    let a = stage(&out.json(), "apply").clone();
    assert!(a["details"].to_string().contains("no drift"), "{out}");
    assert!(p.main_has("public.orders"), "{out}");
    p.run(&["gc", "--all"]).code(exit::OK);
    p.assert_no_test_db_branches();
}

fn apply_refused_when_a_grant_was_made_on_main_after_the_test_copy() {
    // The default local set-up: the test copy is handed to a role of its own.
    let (p, psql) = drift_project(
        "authz_drift_grant",
        "grant insert on accounts to it_authz_reader",
        "",
    );
    refused_then_applied(
        &p,
        &psql,
        "GRANT INSERT ON TABLE public.accounts TO it_authz_reader",
    );
}

fn apply_refused_when_an_owner_changed_on_main_after_the_test_copy() {
    // With the server's role on the copy too, owners are compared.
    let (p, psql) = drift_project(
        "authz_drift_owner",
        "alter table accounts owner to it_authz_reader",
        "[provider]\ntool-role = \"server\"\n",
    );
    refused_then_applied(
        &p,
        &psql,
        "ALTER TABLE public.accounts OWNER TO it_authz_reader",
    );
}

fn schema_check_fails_on_a_migration_that_grants_a_role_membership() {
    // The server's role runs the migration (it may manage roles); the roles exist before.
    let p = Project::new("authz_roles")
        .config("[tool]\nname = \"sql\"\n\n[provider]\ntool-role = \"server\"\n")
        .migration(
            "0001_roles.sql",
            "grant it_authz_role_r2 to it_authz_role_r1;\n\
             alter role it_authz_role_r3 bypassrls;\n\
             alter role it_authz_role_r2 set search_path = evil, public;\n\
             create role it_authz_role_sneaky superuser;\n",
        )
        .commit()
        .git_branch("feature/authz_roles");
    p.main_sql(&format!(
        "{}{}{}create table t (id int);\n",
        role("it_authz_role_r1", ""),
        role("it_authz_role_r2", ""),
        role("it_authz_role_r3", "")
    ));
    let out = p.run(&["run", "pre-push"]);
    // Cluster-wide: undone before any assertion can fail.
    p.block_on(async {
        query(
            "postgres",
            "DROP ROLE IF EXISTS it_authz_role_sneaky; \
             REVOKE it_authz_role_r2 FROM it_authz_role_r1; \
             ALTER ROLE it_authz_role_r3 NOBYPASSRLS; \
             ALTER ROLE it_authz_role_r2 RESET ALL",
        )
        .await
        .expect("undo the roles");
    });
    out.code(exit::CHECK_FAILED);
    out.stdout_has("role it_authz_role_r1 changed: member of none → it_authz_role_r2");
    out.stdout_has("role it_authz_role_r3 changed: attributes none → BYPASSRLS");
    out.stdout_has("role it_authz_role_sneaky created (attributes: SUPERUSER");
    // A setting of the role in every database: named, its value never printed.
    out.stdout_has("role it_authz_role_r2 changed: attributes none → SET search_path #");
    out.stdout_lacks("evil");
    assert!(!out.stdout.contains("changed nothing"), "{out}");
    p.assert_no_test_db_branches();
}

/// `ALTER ROLE CURRENT_USER SET …` in a migration: on the copy it changes the copy's own role
/// (left out of the roles the check reads, as every run's copy roles are), and on deploy it
/// changes main's role in every database — it was "changed nothing" (found by an outside
/// attacker). The connecting role is read: the check fails naming the setting, never its value.
fn schema_check_fails_on_a_migration_that_sets_its_own_role_in_every_database() {
    let p = Project::new("authz_own_role_set")
        .config("[tool]\nname = \"sql\"\n")
        .migration(
            "0001_own_role.sql",
            "create table t (id int);\nalter role current_user set search_path = evil, public;\n",
        )
        .commit()
        .git_branch("feature/authz_own_role_set");
    p.ensure_main();
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::CHECK_FAILED);
    // The copy's role bypasses row-level security as the superuser that applies on main does.
    out.stdout_has("changed: attributes LOGIN BYPASSRLS → LOGIN BYPASSRLS SET search_path #");
    out.stdout_lacks("evil");
    p.assert_no_test_db_branches();
}

fn schema_check_fails_on_a_migration_that_grants_on_parameters_tablespaces_and_databases() {
    // Cluster-wide GRANTs a migration makes (the server's role runs it): not in the schema
    // the engine diffs, made on production too by apply (found by an outside attacker).
    let p = Project::new("authz_cluster")
        .config("[tool]\nname = \"sql\"\n\n[provider]\ntool-role = \"server\"\n")
        .migration(
            "0001_cluster.sql",
            "grant set on parameter log_statement to it_authz_cluster_r1;\n\
             grant alter system on parameter work_mem to it_authz_cluster_r2;\n\
             grant create on tablespace pg_default to it_authz_cluster_r1;\n\
             grant connect, create, temporary on database postgres to it_authz_cluster_r2;\n",
        )
        .commit()
        .git_branch("feature/authz_cluster");
    p.main_sql(&format!(
        "{}{}create table t (id int);\n",
        role("it_authz_cluster_r1", ""),
        role("it_authz_cluster_r2", ""),
    ));
    let out = p.run(&["run", "pre-push"]);
    // Cluster-wide: undone before any assertion can fail.
    p.block_on(async {
        query(
            "postgres",
            "REVOKE SET ON PARAMETER log_statement FROM it_authz_cluster_r1; \
             REVOKE ALTER SYSTEM ON PARAMETER work_mem FROM it_authz_cluster_r2; \
             REVOKE CREATE ON TABLESPACE pg_default FROM it_authz_cluster_r1; \
             REVOKE ALL ON DATABASE postgres FROM it_authz_cluster_r2",
        )
        .await
        .expect("undo the grants");
    });
    out.code(exit::CHECK_FAILED);
    out.stdout_has("parameter log_statement changed: privileges none → +it_authz_cluster_r1:SET");
    out.stdout_has(
        "parameter work_mem changed: privileges none → +it_authz_cluster_r2:ALTER SYSTEM",
    );
    out.stdout_has("tablespace pg_default changed: privileges none → +it_authz_cluster_r1:CREATE");
    out.stdout_has("database postgres changed: privileges ");
    out.stdout_has("+it_authz_cluster_r2:CONNECT,+it_authz_cluster_r2:CREATE,+it_authz_cluster_r2:TEMPORARY");
    assert!(!out.stdout.contains("changed nothing"), "{out}");
    p.assert_no_test_db_branches();
}

/// Why a test needing PostgreSQL ≥ 16 cannot run, if it cannot.
fn below_16() -> Option<&'static str> {
    match neon_migrate::providers::local::cluster::find_bin() {
        Ok((_, major)) if major >= 16 => None,
        Ok((_, major)) => Some(Box::leak(
            format!("needs PostgreSQL ≥ 16 (membership INHERIT and SET options), this run has {major}: run with NEON_MIGRATE_PG_BIN")
                .into_boxed_str(),
        )),
        Err(_) => Some("no PostgreSQL binaries"),
    }
}

fn schema_check_fails_on_a_migration_that_changes_a_memberships_inherit_option() {
    // PostgreSQL 16: a membership's INHERIT and SET options change what the member may do
    // with the role's privileges, as surely as the membership itself.
    let p = Project::new("authz_inherit")
        .config("[tool]\nname = \"sql\"\n\n[provider]\ntool-role = \"server\"\n")
        .migration(
            "0001_inherit.sql",
            "grant it_authz_opt_r2 to it_authz_opt_r1 with inherit false, set false;\n",
        )
        .commit()
        .git_branch("feature/authz_inherit");
    p.main_sql(&format!(
        "{}{}grant it_authz_opt_r2 to it_authz_opt_r1 with inherit true, set true;\ncreate table t (id int);\n",
        role("it_authz_opt_r1", ""),
        role("it_authz_opt_r2", ""),
    ));
    let out = p.run(&["run", "pre-push"]);
    // Cluster-wide: undone before any assertion can fail.
    p.block_on(async {
        query(
            "postgres",
            "GRANT it_authz_opt_r2 TO it_authz_opt_r1 WITH INHERIT TRUE, SET TRUE",
        )
        .await
        .expect("undo the options");
    });
    out.code(exit::CHECK_FAILED);
    out.stdout_has("role it_authz_opt_r1 changed: member of it_authz_opt_r2 → it_authz_opt_r2 WITH INHERIT FALSE WITH SET FALSE");
    p.assert_no_test_db_branches();
}

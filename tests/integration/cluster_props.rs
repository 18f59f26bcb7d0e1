//! Changes a migration makes beside the schema, to its own database's properties and to the
//! server's configuration, which the schema check passed as "changed nothing" and deploy
//! would have made on production (found by an outside attacker): `ALTER DATABASE
//! <current> CONNECTION LIMIT 5 | IS_TEMPLATE true` (a template copy was also left
//! undeletable) and `ALTER SYSTEM SET …` under `tool-role = "server"`.

use neon_migrate::exit;

use crate::support::{query, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        schema_check_fails_on_a_migration_that_changes_its_databases_properties,
        schema_check_fails_on_a_migration_that_runs_alter_system,
    ]
}

/// The copy's owner may cap its connections, make it a template and replace its comment: named
/// (the properties with their values), and the template copy is still deleted at the end of
/// the run.
fn schema_check_fails_on_a_migration_that_changes_its_databases_properties() {
    let p = Project::new("dbprops_limit")
        .config("[tool]\nname = \"sql\"\n")
        .migration(
            "0001_dbprops.sql",
            "create table t2 (id int);\n\
             do $$ begin\n\
               execute format('alter database %I connection limit 5', current_database());\n\
               execute format('alter database %I is_template true', current_database());\n\
               execute format('comment on database %I is %L', current_database(), 'hello');\n\
             end $$;\n",
        )
        .commit()
        .git_branch("feature/dbprops_limit");
    p.main_sql("create table t (id int);\n");
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::CHECK_FAILED);
    out.stdout_has(
        "not modeled by the schema engine: database (this database) differs (definition, CONNECTION LIMIT -1 → 5, IS_TEMPLATE false → true)",
    );
    // Its comment, where the local provider also writes its record of the copy, replaced:
    // still this run's copy (the record its role keeps is), checked and deleted.
    out.stdout_lacks("no longer this run's");
    out.stdout_lacks("cannot drop a template database");
    assert!(!out.stdout.contains("changed nothing"), "{out}");
    // The copy, a template now, was deleted all the same.
    p.assert_no_test_db_branches();
}

/// `ALTER SYSTEM` reconfigures the server every database lives on: named, its value never
/// printed. Cluster-wide: runs alone, undone before any assertion can fail.
fn schema_check_fails_on_a_migration_that_runs_alter_system() {
    let p = Project::new("alter_system")
        .config("[tool]\nname = \"sql\"\n\n[provider]\ntool-role = \"server\"\n")
        .migration(
            "0001_system.sql",
            "-- neon-migrate: no-transaction\n\
             create table t2 (id int);\n\
             alter system set log_min_duration_statement = '12345';\n",
        )
        .commit()
        .git_branch("feature/alter_system");
    p.main_sql("create table t (id int);\n");
    let out = p.run(&["run", "pre-push"]);
    p.block_on(async {
        query("postgres", "ALTER SYSTEM RESET log_min_duration_statement")
            .await
            .expect("undo ALTER SYSTEM");
        query("postgres", "SELECT pg_reload_conf()")
            .await
            .expect("reload");
    });
    out.code(exit::CHECK_FAILED);
    out.stdout_has(
        "server setting log_min_duration_statement set by ALTER SYSTEM (postgresql.auto.conf; value not shown)",
    );
    out.stdout_lacks("12345");
    assert!(!out.stdout.contains("changed nothing"), "{out}");
    p.assert_no_test_db_branches();
}

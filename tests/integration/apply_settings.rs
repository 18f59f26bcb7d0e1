//! `run deploy` on the local provider with per-database settings on main (`ALTER DATABASE
//! … SET`, `ALTER ROLE … IN DATABASE … SET`): the test copy keeps them, as a Neon database
//! branch does, so the drift check sees no change nobody made — and still sees one made.

use neon_migrate::exit;
use serde_json::Value;

use crate::support::{cluster, run_command, stage, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![deploy_keeps_mains_database_settings_and_still_refuses_a_changed_one]
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

fn deploy_keeps_mains_database_settings_and_still_refuses_a_changed_one() {
    let p = Project::new("apply_settings");
    p.main_sql(
        "create table accounts (id bigint primary key);
         DO $$ BEGIN
           EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB');
           EXECUTE format('ALTER DATABASE %I SET search_path = %L, %L', current_database(), '$user', 'public');
           EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET statement_timeout = %L', current_database(), '5min');
         END $$",
    );
    let psql = cluster().bin.join("psql");
    let p = p
        .config(
            r#"
[apply]
restore-point-ttl = "2h"
git-branches = ["apply-settings/x"]

[stages.alter-main]
kind = "shell"
run = "\"$NM_PSQL\" -q -v ON_ERROR_STOP=1 -d \"$NM_MAIN_URL\" -c 'DO $$ BEGIN EXECUTE format($f$ALTER DATABASE %I SET work_mem = %L$f$, current_database(), $v$16MB$v$); END $$'"

[pipelines.deploy-drift]
stages = ["create-neon-database-branch", "migrate", "checks", "delete-neon-database-branch", "alter-main", "apply"]
"#,
        )
        .migration(
            "0001_create_orders.sql",
            "create table orders (id bigint primary key);\n",
        )
        .commit()
        .git_branch("apply-settings/x");

    // A setting changed on main between the copy and the apply is still a drift.
    let mut c = p.command(&["run", "deploy-drift", "--json"]);
    c.env("NM_PSQL", &psql)
        .env("NM_MAIN_URL", cluster().url(p.main_db()));
    let out = run_command(c, &["run", "deploy-drift", "--json"]);
    out.code(exit::APPLY_REFUSED);
    let text = apply_text(&out);
    assert!(
        text.contains("changed since this run copied it")
            && text.contains("database setting work_mem differs"),
        "{text}\n{out}"
    );
    assert!(!p.main_has("public.orders"), "applied despite the drift\n{out}");

    // Nothing changed in between: the copy had main's settings, so no drift (it used to be
    // refused with "database setting work_mem differs", run after run).
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    assert!(p.main_has("public.orders"), "{out}");
    assert_eq!(stage(&out.json(), "apply")["status"], "passed", "{out}");
    assert_ne!(out.json()["restore_point"], Value::Null, "{out}");
    p.run(&["gc", "--all"]).code(exit::OK);
    p.assert_no_test_db_branches();
}

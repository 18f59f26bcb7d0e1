//! False passes and a false failure the real-project trial of 2026-12-07 found (trial7): a
//! knexfile writing its migrations folder as `__dirname + '/knex/migrations'` (F6.1), a watched
//! folder that does not exist letting a push through as "nothing to prove" (F6.1), a
//! `migration-files` pattern that matches nothing reported as "no migration file was edited"
//! (F6.2), and `ALTER DATABASE … SET timezone` that nothing but turning the schema check off
//! let through (F7.1).

use neon_migrate::exit;

use crate::hooks::{run_git, Git, Pushable, SHOP_MIGRATE};
use crate::support::{all, has, stage, Output, Project, BIN};
use crate::tools::tool_path;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        trial7_init_reads_a_knexfile_directory_written_with_dirname,
        trial7_hook_push_with_a_missing_watched_folder_is_proved_and_says_not_watched,
        trial7_migration_files_matching_nothing_says_not_checked,
        trial7_alter_database_set_fails_the_schema_check_unless_its_migration_is_allowed,
    ]
}

fn trial7_init_reads_a_knexfile_directory_written_with_dirname() {
    let p = Project::new("trial7_knex_dirname");
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    let p = p
        .file(
            "knexfile.js",
            "module.exports = {\n  development: {\n    client: 'postgresql',\n    connection: process.env.DATABASE_URL,\n    migrations: {\n      directory: __dirname + '/knex/migrations',\n    },\n    seeds: {\n      directory: __dirname + '/knex/seeds'\n    }\n  },\n};\n",
        )
        .file(
            "knex/migrations/20200911152255_create_users_table.js",
            "exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments(); });\nexports.down = (knex) => knex.schema.dropTable('users');\n",
        )
        .commit();
    let out = p.run(&["init"]);
    out.code(exit::OK).stdout_has("tool `knex`");
    assert!(!all(&out).contains("NOT WATCHED"), "{out}");
    let text = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    assert!(text.contains("knex/migrations"), "{text}");
    let p = p.config(&text);
    let status = p.run(&["hooks", "status"]);
    status.code(exit::OK);
    has(
        &status,
        "watches knex/migrations, knexfile.js, neon-migrate.toml",
    );
    assert!(!all(&status).contains("NOT WATCHED"), "{status}");
}

/// A `shop` tool (a shell script applying db/*.sql) whose `watch` names `migrations`, a folder
/// the repository does not have: the preset's guess when a tool's config is not understood.
const SHOP_WRONG_WATCH: &str = r#"[tool]
name = "shop"
command = ["sh", "bin/shop-migrate"]
watch = ["migrations"]
tracking-query = "select name from shop_migrations order by name"
migration-files = ["db/*.sql"]
"#;

fn push(s: &Pushable, args: &[&str]) -> Git {
    run_git(
        s.p.path(),
        args,
        &[("NEON_MIGRATE_BIN", BIN), ("PATH", &tool_path())],
    )
}

fn trial7_hook_push_with_a_missing_watched_folder_is_proved_and_says_not_watched() {
    let p = Project::new("trial7_missing_watch")
        .config(SHOP_WRONG_WATCH)
        .file("bin/shop-migrate", SHOP_MIGRATE)
        .file("db/0001_init.sql", "create table customers (id bigint primary key);\n")
        .commit();
    let s = Pushable::with(p);
    s.install();
    s.p.main_sql(
        "create table customers (id bigint primary key);
         insert into customers values (1);
         create table shop_migrations (name text primary key);
         insert into shop_migrations values ('0001_init.sql')",
    );
    let status = s.p.run(&["hooks", "status"]);
    status.code(exit::OK);
    has(&status, "NOT WATCHED migrations does not exist here");

    // A new migration outside the watched (missing) folder: never "nothing to prove".
    let p =
        s.p.git_branch("feature/drop-customers")
            .file("db/0002_drop.sql", "drop table customers;\n")
            .commit();
    let s = Pushable { p, ..s };
    let out = push(&s, &["push", "origin", "feature/drop-customers"]);
    assert_ne!(
        out.code, 0,
        "the destructive migration must stop the push\n{}",
        *out
    );
    out.has("NOT WATCHED")
        .has("which does not exist in the pushed commit")
        .has("pipeline `pre-push`")
        .has("deletes_data")
        .lacks("nothing to prove");
    assert_eq!(s.remote_sha("feature/drop-customers"), "");
    s.p.assert_no_test_db_branches();
}

fn trial7_migration_files_matching_nothing_says_not_checked() {
    let config = SHOP_WRONG_WATCH
        .replace("watch = [\"migrations\"]", "watch = [\"db\"]")
        .replace("migration-files = [\"db/*.sql\"]", "migration-files = [\"knex/migrations/*.sql\"]");
    let p = Project::new("trial7_files_nothing")
        .config(&config)
        .file("bin/shop-migrate", SHOP_MIGRATE)
        .file("db/0001_init.sql", "create table customers (id bigint primary key);\n")
        .commit();
    let s = Pushable::with(p);
    s.p.main_sql(
        "create table customers (id bigint primary key);
         create table shop_migrations (name text primary key);
         insert into shop_migrations values ('0001_init.sql')",
    );
    // The applied 0001 is edited: the guard cannot tell, as its pattern matches no file.
    let p =
        s.p.git_branch("feature/edit-applied")
            .file(
                "db/0001_init.sql",
                "create table customers (id bigint primary key, note text);\n",
            )
            .commit();
    let run = p.run_env(&["run", "pre-push"], &[("PATH", &tool_path())]);
    let text = all(&run);
    assert!(
        !text.contains("was edited or deleted"),
        "a check that never ran must not report a negative\n{run}"
    );
    has(&run, "edits of already-applied migration files NOT CHECKED");
    has(&run, "`migration-files` (knex/migrations/*.sql) matches no file");
    p.assert_no_test_db_branches();
}

/// A migration setting the database's own timezone, as a DO block (ALTER DATABASE needs the
/// name, which differs between the test copy and production).
const SET_TIMEZONE: &str = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'Pacific/Auckland'); END $$;\n";

fn trial7_alter_database_set_fails_the_schema_check_unless_its_migration_is_allowed() {
    let p = Project::new("trial7_db_setting")
        .migration("0001_timezone.sql", SET_TIMEZONE)
        .commit();
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED);
    let report = out.json();
    let schema = schema_result(&report, &out);
    assert_eq!(schema["status"], "failed", "{out}");
    let text = schema.to_string();
    assert!(text.contains("database setting TimeZone differs"), "{out}");
    assert!(
        text.contains("list the migration in `allow-migrations`"),
        "the fix must name a remedy that works\n{out}"
    );
    p.assert_no_test_db_branches();

    // Listed in allow-migrations: the check passes and still shows the change.
    let p = p
        .config("[tool]\nname = \"sql\"\n\n[checks.schema]\nallow-migrations = [\"0001_timezone.sql\"]\n")
        .commit();
    let out = p.run(&["run", "pre-push", "--json"]);
    let report = out.json();
    let schema = schema_result(&report, &out);
    assert_eq!(schema["status"], "passed", "{out}");
    let shown = schema["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["what"]
                .as_str()
                .is_some_and(|w| w.contains("database setting TimeZone differs"))
        })
        .unwrap_or_else(|| panic!("the change must still be shown\n{out}"));
    assert_eq!(shown["severity"], "warning", "{out}");
    out.code(exit::OK);
    p.assert_no_test_db_branches();
}

#[track_caller]
fn schema_result<'a>(report: &'a serde_json::Value, out: &Output) -> &'a serde_json::Value {
    stage(report, "checks")["results"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "schema"))
        .unwrap_or_else(|| panic!("no schema check\n{out}"))
}

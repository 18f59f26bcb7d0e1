//! False PASSes an outside tester found on real projects (the trial of 2026-12-06): a
//! Flask-Migrate folder given to the built-in `sql` tool, a migration file the tool never
//! loads, an edited migration that was already applied, a watch list read from the
//! checked-out tree instead of the pushed commit, and a Prisma schema path written with
//! `path.join`. Each fixture is small and self-contained; every test goes through the CLI.

use std::path::PathBuf;

use neon_migrate::exit;

use crate::hooks::{run_git, Git, Pushable, SHOP_MIGRATE};
use crate::support::{all, has, Project, BIN};
use crate::tools::{copy_tree, nm, project as tool_project, require, skip_unless, tool_path, Need};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        init_detects_flask_migrate_and_the_sql_tool_refuses_a_folder_of_alembic_revisions,
        init_and_hooks_status_read_a_prisma_schema_written_with_path_join,
        hook_push_of_an_edited_applied_migration_fails_and_an_edit_of_a_pending_one_passes,
        hook_push_reads_the_watch_list_from_the_pushed_commits_config,
        tool_sequelize_mjs_migration_it_never_loads_fails_check_and_the_run => skip_unless(&[Need::Npm("sequelize-cli")]),
    ]
}

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

// ---- 1: Flask-Migrate ---------------------------------------------------------------------

fn init_detects_flask_migrate_and_the_sql_tool_refuses_a_folder_of_alembic_revisions() {
    let p = Project::new("trust_flask");
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    copy_tree(&fixture("tests/tools/flask-migrate"), p.path());
    let p = p.commit();

    // init: Flask-Migrate, run with `flask db upgrade` from the project folder (not alembic
    // in migrations/, which has no script_location).
    let out = p.run(&["init"]);
    out.code(exit::OK)
        .stdout_has("wrote neon-migrate.toml: tool `flask-migrate`");
    let text = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    assert!(text.contains("name = \"flask-migrate\""), "{text}");
    assert!(!text.contains("working-dir"), "{text}");
    let generated = text;
    let p = p.config(&generated);
    p.run(&["check"])
        .code(exit::OK)
        .stdout_has("tool `flask-migrate`");
    let plan = p.run(&["plan", "pre-push"]);
    plan.code(exit::OK);
    has(&plan, "flask db upgrade");
    // The models the app imports are watched: a model changed without its revision runs.
    let status = p.run(&["hooks", "status"]);
    has(&status, "app/models.py");
    has(&status, "migrations");

    // The built-in sql tool on the same folder: refused by check, by the run, and by init.
    let p = p.config("[tool]\nname = \"sql\"\nmigrations-dir = \"migrations\"\n");
    let out = p.run(&["check"]);
    out.code(exit::CONFIG);
    for want in [
        "holds no `.sql` file but another tool's migrations",
        "versions/0001_create_widgets.py",
        "alembic.ini",
        "name = \"flask-migrate\"",
    ] {
        has(&out, want);
    }
    let out = p.run(&["run", "pre-push"]);
    assert_ne!(out.code, exit::OK, "never a pass\n{out}");
    has(&out, "holds no `.sql` file but another tool's migrations");
    assert!(!out.stdout.contains("PASSED"), "{out}");
    let out = p.run(&["init", "--tool", "sql", "--force"]);
    out.code(exit::CONFIG);
    has(&out, "versions/0001_create_widgets.py");
    p.assert_no_test_db_branches();
}

// ---- 5: Prisma's path.join ----------------------------------------------------------------

fn init_and_hooks_status_read_a_prisma_schema_written_with_path_join() {
    let p = Project::new("trust_prisma_join");
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    let p = p
        .file(
            "prisma.config.ts",
            "import path from 'node:path';\nimport { defineConfig } from 'prisma/config';\nexport default defineConfig({\n  schema: path.join('src', 'prisma', 'schema.prisma'),\n});\n",
        )
        .file("src/prisma/schema.prisma", "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n")
        .file("src/prisma/migrations/20240101000000_init/migration.sql", "create table t (id int);\n")
        .file("src/prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n")
        .commit();
    p.run(&["init"])
        .code(exit::OK)
        .stdout_has("tool `prisma`");
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p.config(&generated);
    let out = p.run(&["check"]);
    out.code(exit::OK);
    assert!(!all(&out).contains("NOT WATCHED"), "{out}");
    let status = p.run(&["hooks", "status"]);
    has(&status, "src/prisma/migrations");
    has(&status, "src/prisma/schema.prisma");
    let plan = p.run(&["plan", "pre-push", "--json"]);
    plan.code(exit::OK);
    let json = plan.stdout.clone();
    assert!(
        !json.contains(" prisma/schema.prisma"),
        "the models check must not use the preset's guess\n{plan}"
    );

    // A schema path that cannot be read: the whole project is watched, and check says so.
    let p = p.file(
        "prisma.config.ts",
        "import { defineConfig } from 'prisma/config';\nconst where = process.env.SCHEMA;\nexport default defineConfig({ schema: where });\n",
    );
    let out = p.run(&["check"]);
    out.code(exit::OK);
    has(&out, "the Prisma schema path `schema: where` is not a string");
    let status = p.run(&["hooks", "status"]);
    has(&status, "every path");
}

// ---- 3: an edited applied migration -------------------------------------------------------

const SHOP: &str = r#"[tool]
name = "shop"
command = ["sh", "bin/shop-migrate"]
watch = ["db"]
tracking-query = "select name from shop_migrations order by name"
migration-files = ["db/*.sql"]
"#;

fn shop_project(name: &str) -> Project {
    Project::new(name)
        .config(SHOP)
        .file("bin/shop-migrate", SHOP_MIGRATE)
        .file("db/0001_init.sql", "create table customers (id bigint primary key);\n")
        .commit()
}

fn push(s: &Pushable, args: &[&str]) -> Git {
    run_git(
        s.p.path(),
        args,
        &[("NEON_MIGRATE_BIN", BIN), ("PATH", &tool_path())],
    )
}

fn hook_push_of_an_edited_applied_migration_fails_and_an_edit_of_a_pending_one_passes() {
    let s = Pushable::with(shop_project("trust_edited"));
    s.install();
    // The main Neon database branch has applied 0001.
    s.p.main_sql(
        "create table customers (id bigint primary key);
         create table shop_migrations (name text primary key);
         insert into shop_migrations values ('0001_init.sql')",
    );
    let main = s.main.clone();

    // Editing the applied 0001 proves nothing: it fails, through the hook and through `run`.
    let p =
        s.p.git_branch("feature/edit-applied")
            .file(
                "db/0001_init.sql",
                "create table customers (id bigint primary key);\ndrop table shop_migrations;\n",
            )
            .commit();
    let s = Pushable { p, ..s };
    let out = push(&s, &["push", "origin", "feature/edit-applied"]);
    assert_ne!(out.code, 0, "the push must fail\n{}", *out);
    out.has("already-applied migration(s) changed since")
        .has("db/0001_init.sql (edited)")
        .has("write the change as a new migration")
        .lacks("PASSED");
    assert_eq!(s.remote_sha("feature/edit-applied"), "");
    let run = s.p.run_env(&["run", "pre-push"], &[("PATH", &tool_path())]);
    assert_ne!(run.code, exit::OK, "{run}");
    has(&run, "db/0001_init.sql (edited)");
    has(&run, &format!("the merge-base with origin/{main}"));

    // A migration pushed but not yet applied on the main Neon database branch may be edited.
    s.p.git(&["checkout", "-q", &main]);
    let p =
        s.p.git_branch("feature/orders")
            .file("db/0002_orders.sql", "create table orders (id bigint primary key);\n")
            .commit();
    let s = Pushable { p, ..s };
    push(&s, &["push", "origin", "feature/orders"]).success();
    let p =
        s.p.file(
            "db/0002_orders.sql",
            "create table orders (id bigint primary key, note text);\n",
        )
        .commit();
    let s = Pushable { p, ..s };
    let out = push(&s, &["push", "origin", "feature/orders"]);
    out.success()
        .has("were not yet applied on the main Neon database branch")
        .has("db/0002_orders.sql (edited)")
        .has("PASSED");
    s.p.assert_no_test_db_branches();
}

// ---- 4: the watch list of the pushed commit -----------------------------------------------

fn hook_push_reads_the_watch_list_from_the_pushed_commits_config() {
    let p = Project::new("trust_moved")
        .migration("0001_init.sql", "create table customers (id bigint primary key);\n")
        .commit();
    let s = Pushable::with(p);
    s.install();
    s.p.main_sql("create table legacy (id bigint primary key); insert into legacy values (1)");
    let main = s.main.clone();
    // Commit 1 moves the migrations (and says so in the config); commit 2 drops a table.
    s.p.git(&["checkout", "-q", "-b", "feature/move"]);
    s.p.git(&["mv", "migrations", "db"]);
    let p =
        s.p.config("[tool]\nname = \"sql\"\nmigrations-dir = \"db\"\n")
            .commit();
    let s = Pushable { p, ..s };
    push(&s, &["push", "origin", "feature/move"]).success();
    let p =
        s.p.file("db/0002_drop.sql", "drop table legacy;\n")
            .commit();
    let s = Pushable { p, ..s };
    s.p.git(&["checkout", "-q", &main]);
    assert!(s.p.path().join("migrations").is_dir());
    let out = push(&s, &["push", "origin", "feature/move"]);
    assert_ne!(out.code, 0, "the destructive migration must stop the push\n{}", *out);
    out.has("1 watched file(s) changed: db/0002_drop.sql")
        .has("pipeline `pre-push`")
        .has("deletes_data")
        .lacks("nothing to prove");
    assert_eq!(
        s.remote_sha("feature/move"),
        s.p.git(&["rev-parse", "feature/move~1"])
    );

    // A config that cannot be read in the pushed commit runs (and fails), never skips.
    s.p.git(&["checkout", "-q", "-b", "feature/bad-config", &main]);
    let p = s.p.config_raw("[tool\nname = \"sql\"\n").commit();
    let s = Pushable { p, ..s };
    s.p.git(&["checkout", "-q", &main]);
    let out = push(&s, &["push", "origin", "feature/bad-config"]);
    assert_ne!(out.code, 0, "{}", *out);
    out.lacks("nothing to prove");
    assert_eq!(s.remote_sha("feature/bad-config"), "");
    s.p.assert_no_test_db_branches();
}

// ---- 2: a migration file the tool never loads ---------------------------------------------

fn tool_sequelize_mjs_migration_it_never_loads_fails_check_and_the_run() {
    require(&[Need::Npm("sequelize-cli")]);
    let p = tool_project("sequelize", true);
    nm(&p, &["init"]).code(exit::OK);
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p.config(&generated).commit();
    nm(&p, &["check"]).code(exit::OK);
    // sequelize-cli loads .js, .cjs and .ts: this file is never run.
    let p = p
        .file(
            "migrations/20240103000000-drop-widgets.mjs",
            "export async function up(queryInterface) {\n  await queryInterface.dropTable(\"widgets\");\n}\nexport async function down() {}\n",
        )
        .commit();
    let out = nm(&p, &["check"]);
    out.code(exit::CONFIG);
    has(&out, "migrations/20240103000000-drop-widgets.mjs");
    has(&out, "so the tool will not run them");
    let out = nm(&p, &["run", "pre-push"]);
    assert_ne!(out.code, exit::OK, "never a pass\n{out}");
    has(&out, "so the tool will not run them: migrations/20240103000000-drop-widgets.mjs");
    assert!(!out.stdout.contains("PASSED"), "{out}");
    p.assert_no_test_db_branches();
}

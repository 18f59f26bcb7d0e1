//! A PASS is a proof: a tool that exits 0 must show, on the database it was given, that it
//! worked there — sessions it opened on the test Neon database branch, and its tracking
//! table there. Each fixture has a decoy database that a tool reading the wrong setting
//! migrates instead: the run fails, says what the tool was given, and the main Neon database
//! branch stays untouched. Checks that could not run are shown as NOT RUN, and fail the run
//! when `required = true`.

use neon_migrate::exit;

use crate::neonctl::{tools_dir, tools_required};
use crate::support::{check_status, cluster, query, runtime, stage, unique_db, Output, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        proof_a_tool_that_migrates_another_database_fails_and_names_what_it_was_given,
        proof_a_tool_that_leaves_no_tracking_table_on_the_test_copy_fails,
        proof_apply_whose_tool_misses_the_main_neon_database_branch_fails_and_main_is_untouched,
        proof_checks_that_cannot_run_are_not_run_and_fail_when_required,
        proof_a_migration_cannot_forge_the_checks_by_shadowing_count_through_the_database_search_path,
        proof_every_migration_file_must_be_recorded_by_name_not_only_by_count,
        proof_real_django_app_missing_from_installed_apps_is_not_nothing_pending => venv_missing("python"),
        proof_the_tool_does_not_inherit_the_variables_of_the_provider_url,
        proof_a_migration_that_overloads_a_built_in_function_or_operator_fails_the_checks,
        proof_rows_moved_into_an_inheriting_child_table_are_lost_rows,
        proof_the_hook_watches_django_settings_which_decide_the_apps_and_their_migrations,
        proof_an_index_locked_access_exclusive_by_a_hidden_reindex_is_measured,
        proof_real_alembic_reading_an_unknown_variable_migrates_the_decoy_and_the_run_fails => alembic_missing(),
        proof_a_migration_that_does_something_else_on_main_fails_the_apply_naming_the_difference,
    ]
}

/// A database on the shared cluster that a tool reading the wrong setting reaches.
struct Decoy {
    name: String,
}

impl Decoy {
    fn new(test: &str) -> Decoy {
        let name = unique_db(&format!("decoy_{test}"));
        runtime()
            .block_on(query("postgres", &format!("create database \"{name}\"")))
            .expect("create the decoy database");
        Decoy { name }
    }
    fn url(&self) -> String {
        cluster().url(&self.name)
    }
    fn has(&self, relation: &str) -> bool {
        let rows = runtime()
            .block_on(query(
                &self.name,
                &format!("select to_regclass('{relation}') is not null"),
            ))
            .expect("query the decoy");
        rows[0][0].as_deref() == Some("t")
    }
}

impl Drop for Decoy {
    fn drop(&mut self) {
        let _ = runtime().block_on(query(
            "postgres",
            &format!("drop database if exists \"{}\" with (force)", self.name),
        ));
    }
}

/// What a psql "tool" runs to migrate the database in `$var`: a table and one tracking row.
fn psql_migrating(var: &str) -> String {
    format!(
        "psql \\\"${var}\\\" -v ON_ERROR_STOP=1 -qc 'create table widgets (id int); create table quiet_migrations (name text); insert into quiet_migrations values (1)'"
    )
}

fn proof_a_tool_that_migrates_another_database_fails_and_names_what_it_was_given() {
    let decoy = Decoy::new("elsewhere");
    // The project reads APP_DB, which no convention names: neon-migrate cannot hand it over.
    let p = Project::new("proof_elsewhere")
        .config(&format!(
            "[tool]\nname = \"elsewhere\"\ncommand = \"{}\"\ntracking-query = \"select name from quiet_migrations\"\n\n[tool.env]\nAPP_DB = \"{}\"\n",
            psql_migrating("APP_DB"),
            decoy.url()
        ))
        .commit()
        .git_branch("feature/elsewhere");
    for pipeline in ["pre-push", "deploy"] {
        let out = p.run(&["run", pipeline]);
        out.code(exit::MIGRATION_FAILED)
            .stdout_has("exited with code 0, but it opened no session on test Neon database branch migrate/feature/elsewhere")
            .stdout_has("It was given: DATABASE_URL")
            .stdout_has("`url-env` under [tool]")
            .stdout_lacks("PASSED");
        assert!(
            decoy.has("public.widgets"),
            "the fixture is wrong: its tool did not reach the decoy\n{out}"
        );
        runtime()
            .block_on(query(&decoy.name, "drop table widgets, quiet_migrations"))
            .expect("reset the decoy");
        assert!(
            !p.main_has("public.widgets"),
            "the main Neon database branch was touched\n{out}"
        );
        p.assert_no_test_db_branches();
    }
}

fn proof_a_tool_that_leaves_no_tracking_table_on_the_test_copy_fails() {
    // The tool connects to the test Neon database branch, but records nothing there.
    let p = Project::new("proof_no_tracking")
        .config(
            "[tool]\nname = \"idle\"\ncommand = \"psql \\\"$DATABASE_URL\\\" -qc 'select 1'\"\ntracking-query = \"select name from idle_migrations\"\n",
        )
        .commit()
        .git_branch("feature/no-tracking");
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    let report = out.json();
    let migrate = stage(&report, "migrate");
    assert_eq!(migrate["status"], "failed", "{out}");
    let message = migrate["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(
            "has no tracking table (`select name from idle_migrations` found none): the tool did not migrate the database it was given"
        ),
        "{out}"
    );
    assert_eq!(report["outcome"], "failed", "{out}");
    p.assert_no_test_db_branches();
}

fn proof_apply_whose_tool_misses_the_main_neon_database_branch_fails_and_main_is_untouched() {
    let decoy = Decoy::new("apply_elsewhere");
    // The tool proves itself on the test Neon database branch, but on main its
    // `apply-command` reads a setting neon-migrate does not fill and migrates the decoy:
    // "main is up to date" must not be inferred from the exit code.
    let p = Project::new("proof_apply_elsewhere")
        .config(&format!(
            "[tool]\nname = \"split\"\ncommand = \"{}\"\napply-command = \"{}\"\ntracking-query = \"select name from quiet_migrations\"\n\n[tool.env]\nAPP_DB = \"{}\"\n",
            psql_migrating("DATABASE_URL"),
            psql_migrating("APP_DB"),
            decoy.url()
        ))
        .commit()
        .git_branch("feature/apply-elsewhere");
    let out = p.run(&["run", "deploy"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("has no tracking table (`select name from quiet_migrations` found none): the tool did not migrate the database it was given")
        .stdout_lacks("PASSED");
    assert!(decoy.has("public.widgets"), "{out}");
    assert!(
        !p.main_has("public.quiet_migrations"),
        "main has the tracking table, so the tool did reach it\n{out}"
    );
    p.assert_no_test_db_branches();
}

fn proof_checks_that_cannot_run_are_not_run_and_fail_when_required() {
    // A tool without print-SQL mode nor down command: lint and reversible cannot run.
    let config = format!(
        "[tool]\nname = \"plain\"\ncommand = \"{}\"\ntracking-query = \"select name from quiet_migrations\"\n",
        psql_migrating("DATABASE_URL")
    );
    let p = Project::new("proof_not_run")
        .config(&config)
        .commit()
        .git_branch("feature/not-run");
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::OK);
    let report = out.json();
    let checks = stage(&report, "checks");
    assert!(
        checks["summary"]
            .as_str()
            .is_some_and(|s| s.ends_with("; 2 NOT RUN: lint, reversible")),
        "{out}"
    );
    let status = |name: &str| check_status(&report, name, &out);
    assert_eq!(status("lint"), "not-run", "{out}");
    assert_eq!(status("reversible"), "not-run", "{out}");
    let human = p.run(&["run", "pre-push"]);
    human
        .code(exit::OK)
        .stdout_has(
            "! lint: NOT RUN: `plain` has no print-SQL mode and its migrations are not SQL files: set `print-sql-command` under [tool]",
        )
        .stdout_has(
            "! reversible: NOT RUN: `plain` has no down command: set `down-command` under [tool]",
        );

    for check in ["lint", "reversible"] {
        let p = Project::new(&format!("proof_required_{check}"))
            .config(&format!("{config}\n[checks.{check}]\nrequired = true\n"))
            .commit()
            .git_branch("feature/required");
        let out: Output = p.run(&["run", "pre-push"]);
        out.code(exit::CHECK_FAILED)
            .stdout_has(&format!(
                "`{check}` is required (`required = true` under [checks.{check}]) but did not run"
            ))
            // Counted once, as a failure, not also among the NOT RUN.
            .stdout_has(&format!("check(s) failed: {check} (required, NOT RUN)"));
        assert!(
            !out.stdout.contains(&format!("NOT RUN: {check}")),
            "{}",
            out.stdout
        );
        p.assert_no_test_db_branches();
    }
}

/// Why the real-Alembic test cannot run here, if it cannot.
fn alembic_missing() -> Option<&'static str> {
    venv_missing("alembic")
}

/// Why a test needing `program` of the migration tools' venv cannot run here, if it cannot.
fn venv_missing(program: &str) -> Option<&'static str> {
    let bin = tools_dir().join("migration-tools/venv/bin").join(program);
    if tools_required() || bin.is_file() {
        return None;
    }
    Some("the migration tools' venv is not installed; scripts/test installs it into the test-tools cache")
}

fn proof_real_alembic_reading_an_unknown_variable_migrates_the_decoy_and_the_run_fails() {
    let venv = tools_dir().join("migration-tools/venv/bin");
    assert!(
        venv.join("alembic").is_file(),
        "alembic is missing from {} (NEON_MIGRATE_REQUIRE_TOOLS=1); run scripts/test",
        venv.display()
    );
    let decoy = Decoy::new("alembic");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/alembic");
    let read = |f: &str| std::fs::read_to_string(fixture.join(f)).expect("fixture file");
    // A settings object with a default that points at another local database, read from a
    // variable no convention names — the failure seen on a real project.
    let env_py = format!(
        "import os\n\nfrom alembic import context\nfrom sqlalchemy import create_engine\n\nurl = \"postgresql+psycopg://\" + os.environ.get(\"APP_SETTINGS_DSN\", \"{}\").split(\"://\", 1)[1]\n\nengine = create_engine(url)\nwith engine.connect() as connection:\n    context.configure(connection=connection, target_metadata=None)\n    with context.begin_transaction():\n        context.run_migrations()\n",
        decoy.url()
    );
    let p = Project::new("proof_alembic")
        .file("alembic.ini", &read("alembic.ini"))
        .file("alembic/env.py", &env_py)
        .file("alembic/script.py.mako", &read("alembic/script.py.mako"))
        .file(
            "alembic/versions/0001_create_widgets.py",
            &read("alembic/versions/0001_create_widgets.py"),
        )
        .file(
            "alembic/versions/0002_widget_name.py",
            &read("alembic/versions/0002_widget_name.py"),
        )
        .config("[tool]\nname = \"alembic\"\n")
        .commit()
        .git_branch("feature/alembic-decoy");
    let out = p.run_with_path(&venv, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("opened no session on test Neon database branch migrate/feature/alembic-decoy")
        .stdout_lacks("PASSED");
    assert!(
        decoy.has("public.widgets") && decoy.has("public.alembic_version"),
        "the fixture is wrong: alembic did not reach the decoy\n{out}"
    );
    assert!(!p.main_has("public.widgets"), "{out}");
    p.assert_no_test_db_branches();
}

/// A migration that deletes rows, then makes every unqualified `count(*)` on its database
/// answer 1000 (an aggregate in a schema it puts first in the database's `search_path`): the
/// data check and a declared SQL check must still see the real count.
fn proof_a_migration_cannot_forge_the_checks_by_shadowing_count_through_the_database_search_path() {
    let p = Project::new("proof_forged_count")
        .config(
            "[[checks.sql]]\nname = \"customers are all there\"\nquery = \"select count(*) from customers\"\nexpect-value = \"1000\"\n",
        )
        .migration(
            "0001_cleanup.sql",
            "delete from customers where id > 10;\n\
             create schema z;\n\
             create function z.keep(s bigint) returns bigint language sql immutable as 'select s';\n\
             create aggregate z.count(*) (sfunc = z.keep, stype = bigint, initcond = '1000');\n\
             do $$ begin execute format('alter database %I set search_path = z, pg_catalog, public', current_database()); end $$;\n",
        )
        .commit()
        .git_branch("feature/forged-count");
    p.main_sql(
        "create table customers (id bigint primary key); insert into customers select g from generate_series(1, 1000) g",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED);
    let report = out.json();
    let status = |name: &str| check_status(&report, name, &out);
    assert_eq!(status("data"), "failed", "the row count was forged\n{out}");
    assert_eq!(status("sql"), "failed", "the SQL check was forged\n{out}");
    assert!(
        out.stdout
            .contains("public.customers lost 990 row(s): 1000 → 10 (exact)"),
        "the data check must report the real count\n{out}"
    );
    p.assert_no_test_db_branches();
}

/// Two tracking rows for two files — but one row names another migration (as Django's table
/// records its built-in apps): the file nobody recorded fails the run.
fn proof_every_migration_file_must_be_recorded_by_name_not_only_by_count() {
    let p = Project::new("proof_by_name")
        .config(
            "[tool]\nname = \"counted\"\ncommand = \"psql \\\"$DATABASE_URL\\\" -v ON_ERROR_STOP=1 -qc 'create table if not exists counted (name text); insert into counted values ($$0001_a$$), ($$builtin_0001$$)'\"\ntracking-query = \"select name from counted\"\nmigration-files = [\"db/*.sql\"]\n",
        )
        .file("db/0001_a.sql", "create table a ();\n")
        .file("db/0002_b.sql", "create table b ();\n")
        .commit()
        .git_branch("feature/by-name");
    p.run(&["run", "pre-push"])
        .code(exit::MIGRATION_FAILED)
        .stdout_has(
        "the tool's tracking table does not record 1 of the project's migration(s): db/0002_b.sql",
    );
    p.assert_no_test_db_branches();
}

/// Django: a new app with a migration, left out of INSTALLED_APPS. `migrate` applies nothing
/// and exits 0; the tracking table has as many rows as before. Not "nothing was pending".
fn proof_real_django_app_missing_from_installed_apps_is_not_nothing_pending() {
    let venv = tools_dir().join("migration-tools/venv/bin");
    assert!(
        venv.join("python").is_file(),
        "the migration tools' venv is missing (NEON_MIGRATE_REQUIRE_TOOLS=1); run scripts/test"
    );
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/django");
    let read = |f: &str| std::fs::read_to_string(fixture.join(f)).expect("fixture file");
    let mut p = Project::new("proof_django_app");
    // Django's built-in contenttypes app records rows of its own: the count of rows then
    // exceeds the project's files, and only the names tell the new app's migration is missing.
    let settings = read("config/settings.py").replace(
        "INSTALLED_APPS = [\"shop\"]",
        "INSTALLED_APPS = [\"django.contrib.contenttypes\", \"shop\"]",
    );
    assert!(
        settings.contains("contenttypes"),
        "the fixture's settings changed"
    );
    p = p.file("config/settings.py", &settings);
    for f in [
        "manage.py",
        "config/__init__.py",
        "shop/__init__.py",
        "shop/models.py",
        "shop/migrations/__init__.py",
        "shop/migrations/0001_initial.py",
        "shop/migrations/0002_widget_name.py",
    ] {
        p = p.file(f, &read(f));
    }
    let p = p
        .file("billing/__init__.py", "")
        .file("billing/migrations/__init__.py", "")
        .file(
            "billing/migrations/0001_initial.py",
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n    operations = [\n        migrations.CreateModel(name=\"Invoice\", fields=[(\"id\", models.BigAutoField(primary_key=True))]),\n    ]\n",
        )
        .config("[tool]\nname = \"django\"\n")
        .commit()
        .git_branch("feature/billing");
    let out = p.run_with_path(&venv, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has(
            "does not record 1 of the project's migration(s): billing/migrations/0001_initial.py",
        )
        .stdout_lacks("PASSED");
    p.assert_no_test_db_branches();
}

/// The provider's URL reads the server's admin password from a variable: the tool (which runs
/// a migration from a git branch) must not inherit it, or it could reach main itself.
fn proof_the_tool_does_not_inherit_the_variables_of_the_provider_url() {
    let admin = cluster().url("postgres");
    let password = cluster().password().to_owned();
    let templated = admin.replacen(&format!(":{password}@"), ":{{env.NM_ADMIN_PW}}@", 1);
    assert_ne!(
        templated, admin,
        "the cluster URL has no password to template"
    );
    let p = Project::new("proof_withheld")
        .config(&format!(
            "[provider]\nurl = \"{templated}\"\n\n[tool]\nname = \"nosy\"\ncommand = \"test -z \\\"$NM_ADMIN_PW\\\" || exit 9; {}\"\ntracking-query = \"select name from quiet_migrations\"\n",
            psql_migrating("DATABASE_URL")
        ))
        .commit()
        .git_branch("feature/withheld");
    p.ensure_main();
    let mut c = p.command(&["run", "pre-push"]);
    c.env("NM_ADMIN_PW", &password);
    let out = crate::support::run_command(c, &["run", "pre-push"]);
    out.code(exit::OK).stdout_has("PASSED");
    p.assert_no_test_db_branches();
}

/// Overloads whose argument types match better than the built-in's are run by every query,
/// whatever the `search_path`: one that swaps two tables' names in our own listings (the data
/// check then compares a copy), one that makes `length()` lie to a declared check, an `=`.
fn proof_a_migration_that_overloads_a_built_in_function_or_operator_fails_the_checks() {
    let attacks = [
        (
            "quote_ident",
            "create table big_decoy as select * from big; delete from big;\n\
             create function public.quote_ident(name) returns text language sql stable as\n\
             $f$ select pg_catalog.quote_ident(case $1::text when 'big_decoy' then 'big' when 'big' then 'big_decoy' else $1::text end) $f$;\n",
            "public.quote_ident(name)",
        ),
        (
            "length",
            "update big set email = '' where id > 1;\n\
             create function public.length(character varying) returns integer language sql immutable as 'select 100';\n",
            "public.length(character varying)",
        ),
        (
            "equals",
            "create function public.always(a varchar, b varchar) returns boolean language sql immutable as 'select true';\n\
             create operator public.= (leftarg = varchar, rightarg = varchar, function = public.always);\n",
            "public.=(character varying, character varying)",
        ),
    ];
    for (name, sql, object) in attacks {
        let p = Project::new(&format!("proof_overload_{name}"))
            .config(
                "[[checks.sql]]\nname = \"emails are real\"\nquery = \"select count(*) from big where length(email) < 5\"\nexpect-value = \"0\"\n",
            )
            .migration("0001_attack.sql", sql)
            .commit()
            .git_branch(&format!("feature/overload-{name}"));
        p.main_sql(
            "create table big (id bigint primary key, email varchar(200)); insert into big select g, 'user' || g || '@example.com' from generate_series(1, 1000) g",
        );
        let out = p.run(&["run", "pre-push"]);
        out.code(exit::CHECK_FAILED)
            .stdout_has(&format!(
                "the migration defines {object}, with the name of a built-in"
            ))
            .stdout_lacks("PASSED");
        p.assert_no_test_db_branches();
    }
}

/// Rows moved into a child table that inherits from the table are gone from the table.
fn proof_rows_moved_into_an_inheriting_child_table_are_lost_rows() {
    let p = Project::new("proof_inherit")
        .migration(
            "0001_archive.sql",
            "create table customers_archive () inherits (customers);\n\
             insert into customers_archive select * from customers;\n\
             delete from only customers;\n",
        )
        .commit()
        .git_branch("feature/archive");
    p.main_sql(
        "create table customers (id bigint primary key); insert into customers select g from generate_series(1, 1000) g",
    );
    p.run(&["run", "pre-push"])
        .code(exit::CHECK_FAILED)
        .stdout_has("public.customers lost 1000 row(s): 1000 → 0 (exact)");
    p.assert_no_test_db_branches();
}

/// A push that only adds an app to INSTALLED_APPS brings that app's migrations: the hook must
/// not call it "nothing to prove".
fn proof_the_hook_watches_django_settings_which_decide_the_apps_and_their_migrations() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/django");
    let read = |f: &str| std::fs::read_to_string(fixture.join(f)).expect("fixture file");
    let mut p = Project::new("proof_django_watch");
    for f in [
        "manage.py",
        "config/__init__.py",
        "config/settings.py",
        "shop/__init__.py",
        "shop/models.py",
        "shop/migrations/__init__.py",
        "shop/migrations/0001_initial.py",
    ] {
        p = p.file(f, &read(f));
    }
    let p = p.config("[tool]\nname = \"django\"\n").commit();
    let out = p.run(&["plan", "pre-push", "--json"]);
    out.code(exit::OK);
    let watch = out.json()["migration_tool"]["watch"].clone();
    assert!(
        watch
            .as_array()
            .is_some_and(|w| w.iter().any(|v| v == "config/settings.py")),
        "{watch}\n{out}"
    );
}

/// REINDEX inside `DO … EXECUTE` (lint does not see it) holds ACCESS EXCLUSIVE on the index —
/// reads through it wait — while the table itself only gets SHARE: the locks check must see
/// the index's lock and hold it to the budget.
fn proof_an_index_locked_access_exclusive_by_a_hidden_reindex_is_measured() {
    let p = Project::new("proof_reindex")
        .config("[checks.locks]\naccess-exclusive-budget = \"1ms\"\n")
        .migration(
            "0001_reindex.sql",
            "do $$ begin for i in 1..4 loop execute 'reindex index ledger_pkey'; end loop; end $$;\n",
        )
        .commit()
        .git_branch("feature/reindex");
    p.main_sql(
        "create table ledger (id bigint primary key, label text); insert into ledger select g, 'l' || g from generate_series(1, 200000) g",
    );
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED);
    let report = out.json();
    let locks = stage(&report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == "locks").cloned())
        .unwrap_or_else(|| panic!("no locks check\n{out}"));
    assert_eq!(locks["status"], "failed", "{out}");
    assert!(
        locks
            .to_string()
            .contains("index public.ledger_pkey on ledger"),
        "the index's lock is not in the report\n{locks:#}"
    );
    p.assert_no_test_db_branches();
}

/// The apply is held to the rehearsal: a migration that behaves differently on main (here it
/// reads the database's name) leaves main with a schema the test copy never had — the run
/// fails after the apply, names the difference and the way back; an ordinary one is verified.
fn proof_a_migration_that_does_something_else_on_main_fails_the_apply_naming_the_difference() {
    let p = Project::new("proof_apply_differs");
    p.main_sql("create table accounts (id bigint primary key)");
    let sneaky = format!(
        "create table orders (id bigint primary key);\n\
         do $$ begin if current_database() = {} then \
         execute 'alter table accounts add column sneaky integer'; end if; end $$;\n",
        neon_migrate::pg::literal(p.main_db())
    );
    let p = p
        .config("[apply]\nrestore-point-ttl = \"2h\"\n")
        .migration("0001_orders.sql", &sneaky)
        .commit();
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    let r = out.json();
    let apply = stage(&r, "apply");
    assert_eq!(apply["status"], "failed", "{out}");
    let message = apply["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("the apply left the main Neon database branch with a schema the test Neon database branch did not have after the same migrations"),
        "{out}"
    );
    let help = apply["error"]["help"].as_str().unwrap_or_default();
    assert!(help.contains("`neon-migrate rollback` restores main from the restore point"), "{help}");
    let details = apply["details"].to_string();
    assert!(
        details.contains("main differs from the proven schema") && details.contains("sneaky"),
        "the difference is named:\n{out}"
    );

    // An ordinary migration: main is verified against the copy.
    let p = p.migration("0002_note.sql", "alter table orders add column note text;\n").commit();
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    let details = stage(&out.json(), "apply")["details"].to_string();
    assert!(
        details.contains("verified: main's schema now equals the test copy's after the same migrations"),
        "{out}"
    );
    p.run(&["gc", "--all"]).code(exit::OK);
}

//! Defects found by running neon-migrate on real open-source projects, one test each: a tool
//! that could not load its config file, folders resolved from the wrong place, annotations
//! without a file, connection variables under the project's own names.

use neon_migrate::exit;

use crate::support::{flat_words, Project};
use crate::tools::{nm, project, require, skip_unless, Need};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        trial_knexfile_ts_node_cannot_load_is_a_tool_that_could_not_start_not_a_failed_migration => skip_unless(&[Need::Npm("knex")]),
        trial_tool_that_reached_the_database_is_never_a_start_failure_whatever_its_output_quotes,
        trial_sql_tool_migrations_dir_is_relative_to_working_dir,
        trial_init_tool_django_finds_manage_py_in_a_subfolder_whose_apps_live_elsewhere,
        trial_annotations_name_a_command_tool_s_files_from_the_repository_root,
        trial_knexfile_connection_parts_with_an_environment_suffix_reach_the_test_copy => skip_unless(&[Need::Npm("knex")]),
        trial_django_apps_outside_working_dir_are_watched_by_the_hook,
        trial_django_settings_that_fail_to_import_are_a_tool_that_could_not_start_not_a_failed_migration => skip_unless(&[Need::Venv("django-admin")]),
        trial_django_settings_reading_an_unset_variable_name_it_and_its_line_in_the_help => skip_unless(&[Need::Venv("django-admin")]),
    ]
}

/// knexfile.ts in an ESM package, run by plain `knex` (a `command` that names it): Node.js
/// cannot load the config, so the tool could not start — not a failed migration. With tsx
/// installed beside it, the preset runs knex under tsx and the migration is proven.
fn trial_knexfile_ts_node_cannot_load_is_a_tool_that_could_not_start_not_a_failed_migration() {
    require(&[Need::Npm("knex")]);
    let p = project("knex", true);
    std::fs::remove_file(p.path().join("knexfile.js")).expect("rm knexfile.js");
    let p = p
        .file(
            "knexfile.ts",
            "export default { client: \"pg\", connection: process.env.DATABASE_URL };\n",
        )
        .file("package.json", "{ \"name\": \"ts-knex\" }\n")
        .config("[tool]\nname = \"knex\"\n")
        .commit()
        .git_branch("feature/knexfile-ts");
    // The preset's variant: tsx is in node_modules/.bin (the fixture's migrations are
    // CommonJS: the package is too).
    let init = nm(&p, &["init", "--force"]);
    init.code(exit::OK);
    let written = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    assert!(
        written.contains("\"tsx\", \"node_modules/knex/bin/cli.js\", \"migrate:latest\""),
        "{written}"
    );
    let p = p.config("[tool]\nname = \"knex\"\n").commit();
    nm(&p, &["run", "pre-push"])
        .code(exit::OK)
        .stdout_has("20240102000000_widget_name.js");
    p.assert_no_test_db_branches();
    let p = p
        .file("package.json", "{ \"name\": \"ts-knex\", \"type\": \"module\" }\n")
        .config("[tool]\nname = \"knex\"\ncommand = [\"npx\", \"--no\", \"--\", \"knex\", \"migrate:latest\"]\n")
        .commit();
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("ERR_UNKNOWN_FILE_EXTENSION");
    let flat = flat_words(&out.stdout);
    for want in [
        "`npx --no -- knex migrate:latest` exited with code 1 and could not start",
        "Node.js could not load the tool's config file (unknown file extension); the migration was not tried",
        "`command = \"npx tsx node_modules/.bin/knex migrate:latest\"`",
    ] {
        assert!(flat.contains(want), "stdout lacks {want:?}\n{out}");
    }
    assert!(!p.main_has("public.widgets"), "{out}");
    p.assert_no_test_db_branches();
}

/// A tool that connected to the target, or whose output carries the server's error, started:
/// its failure is the migration's, even when the text quotes "Cannot find module".
fn trial_tool_that_reached_the_database_is_never_a_start_failure_whatever_its_output_quotes() {
    for (name, command) in [
        (
            "sql_error",
            r#"psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "select 'Cannot find module x' from nope""#,
        ),
        (
            "connected",
            r#"psql "$DATABASE_URL" -qc "select 1" >/dev/null && echo "Error: Cannot find module './seed' imported from migrations/0002.js" && exit 1"#,
        ),
    ] {
        let p = Project::new(&format!("started_{name}"))
            .config(&format!("[tool]\nname = \"shop\"\ncommand = '''{command}'''\n"))
            .commit()
            .git_branch(&format!("feature/{name}"));
        let out = p.run(&["run", "pre-push"]);
        out.code(exit::MIGRATION_FAILED)
            .stdout_has("exited with code 1 on")
            .stdout_has("Cannot find module")
            .stdout_lacks("could not start");
        p.assert_no_test_db_branches();
    }
}

/// `migrations-dir` is read from `working-dir`; a folder that exists only relative to the
/// config's folder is a config error naming both.
fn trial_sql_tool_migrations_dir_is_relative_to_working_dir() {
    let p = Project::new("sql_working_dir")
        .config("[tool]\nname = \"sql\"\nworking-dir = \"db\"\n")
        .file(
            "db/migrations/0001_init.sql",
            "create table accounts (id int primary key);\n",
        )
        .commit()
        .git_branch("feature/sql-working-dir");
    p.run(&["run", "pre-push"])
        .code(exit::OK)
        .stdout_has("applied 0001_init.sql");
    p.assert_no_test_db_branches();
    // The folder only where the config is: both named, nothing runs.
    std::fs::rename(p.path().join("db/migrations"), p.path().join("migrations")).expect("mv");
    let out = p.run(&["check"]);
    out.code(exit::CONFIG);
    let flat = flat_words(&out.stderr);
    for want in [
        "the `sql` tool's folder `migrations` is relative to `working-dir` (`db`): db/migrations does not exist, but migrations (relative to the config's folder) does",
        "set `migrations-dir` relative to `working-dir`",
    ] {
        assert!(flat.contains(want), "stderr lacks {want:?}\n{out}");
    }
}

/// `app/manage.py` with the apps (and their migrations) beside `app/`, not in it: `init
/// --tool django --force` writes `working-dir = "app"`, and `check`/`plan` do not warn that
/// nothing in `app` shows Django.
fn trial_init_tool_django_finds_manage_py_in_a_subfolder_whose_apps_live_elsewhere() {
    let p = Project::new("django_subfolder")
        .file(
            "app/manage.py",
            "import os, sys\nsys.path.insert(0, '..')\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n",
        )
        .file("app/settings.py", "INSTALLED_APPS = ['shop']\n")
        .file("shop/__init__.py", "")
        .file("shop/migrations/__init__.py", "")
        .file("shop/migrations/0001_initial.py", "# a migration\n")
        .commit();
    nm(&p, &["init", "--tool", "django", "--force"])
        .code(exit::OK)
        .stdout_has("its files are in app/ (app/manage.py (contains `django`)), so it runs there; its migrations are not under app/: set `watch` and `migration-files`");
    let text = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    assert!(text.contains("working-dir = \"app\""), "{text}");
    let p = p.config("[tool]\nname = \"django\"\nworking-dir = \"app\"\n");
    for args in [&["check"][..], &["plan", "pre-push"][..]] {
        let out = nm(&p, args);
        out.code(exit::OK);
        assert!(!out.stderr.contains("nothing in working-dir"), "{out}");
        assert!(!out.stdout.contains("nothing in working-dir"), "{out}");
    }
}

/// A command tool in `apps/api` whose migrations are `drizzle/*.sql` there, applied by psql
/// and recorded by file name.
const MONOREPO_TOOL: &str = r#"[tool]
name = "shop"
working-dir = "apps/api"
tracking-query = "select name from shop_migrations order by name"
migration-files = ["drizzle/*.sql"]
command = '''
set -e
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "create table if not exists shop_migrations (name text primary key)"
for f in drizzle/*.sql; do
  n=$(basename "$f")
  if [ -z "$(psql "$DATABASE_URL" -tAc "select 1 from shop_migrations where name = '$n'")" ]; then
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -1 -f "$f" -c "insert into shop_migrations values ('$n')"
  fi
done
'''
"#;

/// GitHub annotations of a command tool's migration file carry `file=` (from the repository
/// root, not the tool's working-dir), `line=` and `col=`, as the built-in tool's do.
fn trial_annotations_name_a_command_tool_s_files_from_the_repository_root() {
    let p = Project::new("gha_monorepo")
        .config(MONOREPO_TOOL)
        .file(
            "apps/api/drizzle/0001_items.sql",
            "create table items (id int primary key);\n",
        )
        .commit()
        .git_branch("feature/items");
    let mut c = p.command(&["run", "pre-push"]);
    c.env("GITHUB_ACTIONS", "true");
    let out = crate::support::run_command(c, &["run", "pre-push"]);
    out.stdout_has("::warning file=apps/api/drizzle/0001_items.sql,line=1,col=")
        .stdout_has(",title=neon-migrate lint::prefer-bigint-over-int")
        .stdout_lacks("::warning title=neon-migrate lint");
    p.assert_no_test_db_branches();
}

/// A knexfile whose connection parts carry the environment's name (`DB_USER_DEV`, …): `plan`
/// says each gets its part, and the run migrates the test Neon database branch with them.
fn trial_knexfile_connection_parts_with_an_environment_suffix_reach_the_test_copy() {
    require(&[Need::Npm("knex")]);
    let p = project("knex", true);
    let p = p
        .file(
            "knexfile.js",
            "module.exports = {\n  client: \"pg\",\n  connection: {\n    host: process.env.DB_HOST_DEV,\n    port: process.env.DB_PORT_DEV,\n    user: process.env.DB_USER_DEV,\n    password: process.env.DB_PASSWORD_DEV,\n    database: process.env.DB_NAME_DEV,\n  },\n  migrations: { directory: \"./migrations\" },\n};\n",
        )
        .config("[tool]\nname = \"knex\"\n")
        .commit()
        .git_branch("feature/knex-dev-parts");
    let plan = nm(&p, &["plan", "pre-push", "--json"]).json();
    let vars = plan["migration_tool"]["connection"]["variables"]
        .as_array()
        .expect("variables")
        .clone();
    for (name, part) in [
        ("DB_HOST_DEV", "host"),
        ("DB_PORT_DEV", "port"),
        ("DB_USER_DEV", "user"),
        ("DB_PASSWORD_DEV", "password"),
        ("DB_NAME_DEV", "database"),
    ] {
        let v = vars
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not set: {vars:#?}"));
        assert_eq!(v["value"]["part"], part, "{v}");
    }
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::OK)
        .stdout_has("20240102000000_widget_name.js");
    assert!(!p.main_has("public.widgets"), "{out}");
    p.assert_no_test_db_branches();
}

/// Django whose settings raise while importing (`ImportError: cannot import name …`, which
/// no "missing module" pattern names): the server counted no session on the test Neon
/// database branch, so the migration was not tried, and the report says so with the
/// traceback — not "the migration failed".
fn trial_django_settings_that_fail_to_import_are_a_tool_that_could_not_start_not_a_failed_migration() {
    require(&[Need::Venv("django-admin")]);
    let p = project("django", false);
    let settings = p.path().join("config/settings.py");
    let text = std::fs::read_to_string(&settings).expect("settings.py");
    std::fs::write(
        &settings,
        format!("{text}\nfrom django.conf import no_such_setting_helper  # noqa\n"),
    )
    .expect("write settings.py");
    let p = p
        .config("[tool]\nname = \"django\"\n")
        .commit()
        .git_branch("feature/settings-import");
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("ImportError: cannot import name 'no_such_setting_helper'")
        .stdout_lacks("PASSED");
    let flat = flat_words(&out.stdout);
    for want in [
        "could not start on test Neon database branch migrate/feature/settings-import",
        "it failed before it opened any session on it",
        "the migration was not tried",
        "the error is in the tool's start-up, not in a migration",
    ] {
        assert!(flat.contains(want), "stdout lacks {want:?}\n{out}");
    }
    p.assert_no_test_db_branches();
}

/// Django settings that read a variable neon-migrate does not set
/// (`os.environ.get("…").split(" ")`, as the Django docker templates do): the help names the
/// variable, the settings line, and [tool.env] — and with it set there, the run passes.
fn trial_django_settings_reading_an_unset_variable_name_it_and_its_line_in_the_help() {
    require(&[Need::Venv("django-admin")]);
    let p = project("django", false);
    let settings = p.path().join("config/settings.py");
    let text = std::fs::read_to_string(&settings).expect("settings.py");
    // The settings' lines, an empty one, `import os`, then the line that reads the variable.
    let line = text.lines().count() + 3;
    std::fs::write(
        &settings,
        format!("{text}\nimport os\nALLOWED_HOSTS = os.environ.get(\"NM_TEST_ALLOWED_HOSTS\").split(\" \")\n"),
    )
    .expect("write settings.py");
    let p = p
        .config("[tool]\nname = \"django\"\n")
        .commit()
        .git_branch("feature/unset-variable");
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED).stdout_lacks("PASSED");
    let flat = flat_words(&out.stdout);
    let want = format!("the project's code reads `NM_TEST_ALLOWED_HOSTS` from the environment (config/settings.py:{line}) and it is not set where neon-migrate runs the tool: set it under [tool.env]");
    assert!(flat.contains(&want), "stdout lacks {want:?}\n{out}");
    let p = p
        .config("[tool]\nname = \"django\"\n[tool.env]\nNM_TEST_ALLOWED_HOSTS = \"localhost\"\n")
        .commit();
    nm(&p, &["run", "pre-push"]).code(exit::OK);
    p.assert_no_test_db_branches();
}

/// `app/manage.py` whose INSTALLED_APPS live beside `app/` (`shop`, and `billing` named by its
/// AppConfig): the hook watches their migrations folders too, not only `app/**/migrations`,
/// so a push of a new migration there is proved rather than skipped.
fn trial_django_apps_outside_working_dir_are_watched_by_the_hook() {
    let p = Project::new("django_outside")
        .file(
            "app/manage.py",
            "import os, sys\nsys.path.insert(0, '..')\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n",
        )
        .file(
            "app/settings.py",
            "INSTALLED_APPS = [\n    'django.contrib.contenttypes',\n    'shop',\n    'billing.apps.BillingConfig',\n]\n",
        )
        .file("shop/__init__.py", "")
        .file("shop/migrations/__init__.py", "")
        .file("shop/migrations/0001_initial.py", "# a migration\n")
        .file("billing/__init__.py", "")
        .file("billing/apps.py", "# AppConfig\n")
        .file("billing/migrations/__init__.py", "")
        .file("billing/migrations/0001_initial.py", "# a migration\n")
        .config("[tool]\nname = \"django\"\nworking-dir = \"app\"\n")
        .commit();
    let out = nm(&p, &["hooks", "status"]);
    out.code(exit::OK);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("watches"))
        .unwrap_or_else(|| panic!("no watch list\n{out}"));
    for want in ["shop/migrations", "billing/migrations", "app/settings.py"] {
        assert!(
            line.split(", ").any(|w| w.trim().ends_with(want)),
            "{want} is not watched: {line}\n{out}"
        );
    }
}

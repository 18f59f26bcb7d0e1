//! Where the project's migration system is, and how it gets the database (issue #13): each
//! fixture under tests/layouts/ reproduces one way a run went wrong — settings that read
//! POSTGRES_* parts, a tool in a subfolder, migrations outside the preset's folder, a switch
//! that selects Postgres, a Drizzle tag in `allow-migrations`. Where a wrong hand-off would
//! reach another database, the fixture's defaults point at a decoy (a database of the test
//! cluster, or a SQLite file): the run must prove the migration on the test Neon database
//! branch and leave the decoy untouched.

use std::path::{Path, PathBuf};

use neon_migrate::config;
use neon_migrate::exit;
use neon_migrate::tools::handoff::{Part, PgUrl};

use crate::support::{cluster, query, stage, Project};
use crate::tools::{
    apply, copy_tree, nm, npm_dir, require, skip_unless, tool_path, Need, WIDGET_NAME_CHECK,
};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        layout_init_at_the_root_finds_alembic_in_a_subfolder_and_check_warns_without_working_dir,
        layout_alembic_base_settings_parts_reach_the_test_neon_database_branch_not_the_decoy => skip_unless(&[Need::Venv("alembic")]),
        layout_drizzle_out_folder_is_watched_and_counted_an_out_of_order_journal_entry_fails => skip_unless(&[Need::Npm("drizzle-kit")]),
        layout_drizzle_allow_migrations_accepts_the_journal_tag => skip_unless(&[Need::Npm("drizzle-kit")]),
        layout_django_db_postgres_switch_is_set_and_the_sqlite_decoy_untouched => skip_unless(&[Need::Venv("python")]),
        layout_uv_workspace_venv_above_working_dir_runs_alembic_and_history_on_new_tables_passes => skip_unless(&[Need::Venv("alembic")]),
    ]
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/layouts")
        .join(name)
}

/// A project holding a copy of fixture `name`, without a config (init writes it).
fn project(name: &str, node: bool) -> Project {
    let p = Project::new(&format!("layout_{}", name.replace('-', "_")));
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    copy_tree(&fixture(name), p.path());
    let p = p.file(".gitignore", "node_modules\n*.sqlite3\n__pycache__\n");
    if node {
        std::os::unix::fs::symlink(
            npm_dir().join("node_modules"),
            p.path().join("node_modules"),
        )
        .expect("link node_modules");
    }
    p
}

/// A database of the test cluster that a wrong hand-off would reach.
struct Decoy {
    name: String,
}

impl Decoy {
    fn new(p: &Project) -> Decoy {
        let name = format!("{}_decoy", p.main_db());
        p.block_on(query("postgres", &format!("CREATE DATABASE \"{name}\"")))
            .expect("create the decoy");
        Decoy { name }
    }

    /// Tables in the decoy's public schema (none: untouched).
    fn tables(&self, p: &Project) -> Vec<String> {
        p.block_on(query(
            &self.name,
            "select table_name from information_schema.tables where table_schema = 'public' order by 1",
        ))
        .expect("query the decoy")
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect()
    }
}

fn replace_in(path: &Path, pairs: &[(&str, &str)]) {
    let mut text = std::fs::read_to_string(path).expect("read");
    for (from, to) in pairs {
        text = text.replace(from, to);
    }
    std::fs::write(path, text).expect("write");
}

/// Applies the project's migrations to its main database with the tool itself, on a runtime
/// of its own: its sessions are closed before the test Neon database branch is copied from
/// main (Postgres cannot copy a database in use).
fn apply_on_main(p: &Project) -> usize {
    let mut c = config::load(&p.path().join("neon-migrate.toml")).expect("config");
    c.tool.env.push(("PATH".into(), tool_path()));
    let url = cluster().url(p.main_db());
    p.ensure_main();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let run = rt
        .block_on(apply(&c, &url))
        .unwrap_or_else(|e| panic!("apply on main: {e}"));
    drop(rt);
    let sql = format!(
        "select count(*) from pg_stat_activity where datname = '{}' and pid <> pg_backend_pid()",
        p.main_db()
    );
    // Generous bound: the server notices the closed sockets at once.
    for _ in 0..600 {
        if p.block_on(query("postgres", &sql)).expect("sessions")[0][0].as_deref() == Some("0") {
            return run.applied.len();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("sessions on the main database stay open after the apply");
}

/// The run's proof: migrate passed with `applied`, the widgets.name check passed.
#[track_caller]
fn assert_proven(out: &crate::support::Output, applied: usize, tool: &str) {
    out.code(exit::OK);
    let report = out.json();
    let migrate = stage(&report, "migrate");
    assert_eq!(migrate["status"], "passed", "{out}");
    assert_eq!(
        migrate["summary"],
        format!("applied {applied} migration(s) with `{tool}`"),
        "{out}"
    );
    crate::tools::assert_widgets_name_proven(&report, out);
}

/// The flattened words of stderr and stdout (diagnostics wrap to the terminal's width).
fn flat(out: &crate::support::Output) -> String {
    crate::support::flat_words(&format!("{} {}", out.stdout, out.stderr))
}

fn layout_init_at_the_root_finds_alembic_in_a_subfolder_and_check_warns_without_working_dir() {
    let p = project("alembic-monorepo", false).commit();
    // `init` at the root: nothing here, Alembic in backend/.
    let out = nm(&p, &["init"]);
    out.code(exit::OK)
        .stdout_has("tool `alembic`")
        .stdout_has("detected in backend/ from backend/alembic.ini");
    let text = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    assert!(text.contains("working-dir = \"backend\""), "{text}");
    let check = nm(&p, &["check"]);
    check.code(exit::OK).stdout_has("tool `alembic`");
    assert!(!check.stderr.contains("warning:"), "{check}");
    // The plan: the settings class's names, and script_location's folder watched.
    let plan = nm(&p, &["plan", "pre-push"]);
    plan.code(exit::OK)
        .stdout_has("POSTGRES_SERVER (read by app/core/config.py)")
        .stdout_has("POSTGRES_PASSWORD (read by app/core/config.py)")
        .stdout_has("POSTGRES_DB (read by app/core/config.py)")
        .stdout_has("backend/app/alembic");
    let j = nm(&p, &["plan", "pre-push", "--json"]).json();
    let watch = j["migration_tool"]["watch"].clone();
    assert_eq!(
        watch,
        serde_json::json!([
            "backend/alembic.ini",
            "backend/app/alembic",
            // What env.py imports: where the models (target_metadata) are.
            "backend/app/__init__.py",
            "backend/app/core/__init__.py",
            "backend/app/core/_standin.py",
            "backend/app/core/config.py",
            "backend/app/models.py"
        ]),
        "{j:#}"
    );
    let vars = j["migration_tool"]["connection"]["variables"]
        .as_array()
        .expect("variables")
        .clone();
    let server = vars
        .iter()
        .find(|v| v["name"] == "POSTGRES_SERVER")
        .unwrap_or_else(|| panic!("POSTGRES_SERVER is not set: {vars:#?}"));
    assert_eq!(server["value"]["kind"], "part", "{server}");
    assert_eq!(server["value"]["part"], "host", "{server}");
    // --tool too writes the working folder.
    nm(&p, &["init", "--force", "--tool", "alembic"])
        .code(exit::OK)
        .stdout_has("its files are in backend/");
    let text = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    assert!(text.contains("working-dir = \"backend\""), "{text}");
    // A config that names the tool without its folder: `check` says where it is.
    let p = p.config("[tool]\nname = \"alembic\"\n");
    let check = nm(&p, &["check"]);
    check.code(exit::OK);
    let words = flat(&check);
    assert!(
        words.contains("warning: tool `alembic`: nothing in working-dir `.` shows it")
            && words.contains("its files are in backend/: set `working-dir = \"backend\"`"),
        "{check}"
    );
}

fn layout_alembic_base_settings_parts_reach_the_test_neon_database_branch_not_the_decoy() {
    require(&[Need::Venv("alembic")]);
    let p = project("alembic-monorepo", false);
    let decoy = Decoy::new(&p);
    // The settings' defaults reach the decoy: the same server, another database.
    let url = PgUrl::parse(&cluster().url(&decoy.name)).expect("cluster URL");
    replace_in(
        &p.path().join("backend/app/core/config.py"),
        &[
            ("__DECOY_HOST__", &url.part(Part::Host)),
            ("__DECOY_PORT__", &url.part(Part::Port)),
            ("__DECOY_USER__", &url.part(Part::User)),
            ("__DECOY_PASSWORD__", &url.part(Part::Password)),
            ("__DECOY_DB__", &decoy.name),
        ],
    );
    let p = p.commit();
    nm(&p, &["init"])
        .code(exit::OK)
        .stdout_has("tool `alembic`");
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p
        .config(&format!("{generated}{WIDGET_NAME_CHECK}"))
        .commit()
        .git_branch("feature/settings-parts");
    let out = nm(&p, &["run", "pre-push", "--json"]);
    // alembic_version holds only the head revision; the revisions between the old and the new
    // head are counted from the revision files: both.
    assert_proven(&out, 2, "alembic");
    assert_eq!(
        decoy.tables(&p),
        Vec::<String>::new(),
        "the decoy was migrated\n{out}"
    );
    assert!(!p.main_has("public.widgets"), "main was touched\n{out}");
    p.assert_no_test_db_branches();
}

const OUT_OF_ORDER_JOURNAL: &str = r#"{
  "version": "7",
  "dialect": "postgresql",
  "entries": [
    { "idx": 0, "version": "7", "when": 1704153600000, "tag": "0000_create_widgets", "breakpoints": true },
    { "idx": 1, "version": "7", "when": 1704067200000, "tag": "0001_widget_name", "breakpoints": true }
  ]
}
"#;

fn layout_drizzle_out_folder_is_watched_and_counted_an_out_of_order_journal_entry_fails() {
    require(&[Need::Npm("drizzle-kit")]);
    let p = project("drizzle-out", true);
    // The main database already has 0000 (a later `when` than the 0001 a git branch brings).
    let migrations = p.path().join("lib/db/migrations");
    std::fs::remove_file(migrations.join("0001_widget_name.sql")).expect("rm");
    let first_only = OUT_OF_ORDER_JOURNAL.replace(
        ",\n    { \"idx\": 1, \"version\": \"7\", \"when\": 1704067200000, \"tag\": \"0001_widget_name\", \"breakpoints\": true }",
        "",
    );
    let p = p
        .file("lib/db/migrations/meta/_journal.json", &first_only)
        .commit();
    nm(&p, &["init"])
        .code(exit::OK)
        .stdout_has("tool `drizzle`");
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p.config(&generated).commit();
    assert_eq!(apply_on_main(&p), 1, "0000 on main");

    // The git branch adds 0001 with an older `when`: drizzle-kit skips it and exits 0.
    let p = p
        .git_branch("feature/late-migration")
        .file(
            "lib/db/migrations/0001_widget_name.sql",
            "ALTER TABLE \"widgets\" ADD COLUMN \"name\" text;\n",
        )
        .file("lib/db/migrations/meta/_journal.json", OUT_OF_ORDER_JOURNAL)
        .commit();
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("exited with code 0, but on")
        .stdout_has(
            "records 1 applied migration(s) while the project has 2 (lib/db/migrations/*.sql)",
        );
    // The git hook watches the out folder and the schema the config names.
    nm(&p, &["hooks", "status"]).stdout_has(
        "watches        drizzle.config.ts, lib/db/migrations, lib/db/schema.ts, neon-migrate.toml",
    );
    p.assert_no_test_db_branches();
}

fn layout_drizzle_allow_migrations_accepts_the_journal_tag() {
    require(&[Need::Npm("drizzle-kit")]);
    let p = project("drizzle-out", true)
        .file(
            "lib/db/migrations/0000_create_widgets.sql",
            "CREATE TABLE \"widgets\" (\n\t\"id\" serial PRIMARY KEY NOT NULL,\n\t\"legacy\" text\n);\n",
        )
        .file(
            "lib/db/migrations/0001_widget_name.sql",
            "ALTER TABLE \"widgets\" ADD COLUMN \"name\" text;--> statement-breakpoint\nALTER TABLE \"widgets\" DROP COLUMN \"legacy\";\n",
        )
        .commit();
    nm(&p, &["init"]).code(exit::OK);
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p
        .config(&format!(
            "{generated}{WIDGET_NAME_CHECK}\n[checks.schema]\nallow-migrations = [\"0001_widget_name\"]\n\n# Drizzle's SQL files are linted now: the intended drop is accepted there too.\n[checks.lint]\nignore = [\"ban-drop-column\"]\n"
        ))
        .commit();
    // First on main: the test Neon database branch starts from 0000 applied.
    std::fs::remove_file(p.path().join("lib/db/migrations/0001_widget_name.sql")).expect("rm");
    let journal = p.path().join("lib/db/migrations/meta/_journal.json");
    let full = std::fs::read_to_string(&journal).expect("journal");
    let first_only: String = {
        let mut v: serde_json::Value = serde_json::from_str(&full).expect("json");
        v["entries"].as_array_mut().expect("entries").truncate(1);
        v.to_string()
    };
    std::fs::write(&journal, first_only).expect("journal");
    assert_eq!(apply_on_main(&p), 1, "0000 on main");
    p.git(&["checkout", "-q", "--", "."]);
    let p = p.git_branch("feature/drop-legacy");
    let out = nm(&p, &["run", "pre-push", "--json"]);
    // The column drop deletes data; the tag in allow-migrations allows it.
    assert_proven(&out, 1, "drizzle");
    let report = out.json();
    let schema = stage(&report, "checks")["results"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "schema").cloned())
        .unwrap_or_else(|| panic!("no schema check\n{out}"));
    assert_eq!(schema["status"], "passed", "{out}");
    // Still reported, as a warning.
    assert_eq!(schema["findings"][0]["severity"], "warning", "{out}");
    assert!(
        schema["findings"][0]["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("deletes_data")),
        "{out}"
    );
    p.assert_no_test_db_branches();
}

fn layout_django_db_postgres_switch_is_set_and_the_sqlite_decoy_untouched() {
    require(&[Need::Venv("python")]);
    let p = project("django-switch", false).commit();
    nm(&p, &["init"]).code(exit::OK).stdout_has("tool `django`");
    let plan = nm(&p, &["plan", "pre-push"]);
    plan.code(exit::OK)
        .stdout_has("DB=postgres (read by config/settings.py: this value selects Postgres)")
        .stdout_has("POSTGRES_HOST (read by config/settings.py)");
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p
        .config(&format!("{generated}{WIDGET_NAME_CHECK}"))
        .commit()
        .git_branch("feature/postgres-switch");
    let out = nm(&p, &["run", "pre-push", "--json"]);
    assert_proven(&out, 2, "django");
    assert!(
        !p.path().join("decoy.sqlite3").exists(),
        "the SQLite decoy was migrated\n{out}"
    );
    assert!(!p.main_has("public.widgets"), "main was touched\n{out}");
    p.assert_no_test_db_branches();
}

/// The check `name` of the run's `checks` stage.
fn check_result<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    stage(report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// A uv workspace (the layout of a FastAPI full-stack template): `alembic.ini` in backend/,
/// the virtualenv `uv sync` made at the root, nothing on PATH. A first run replays history
/// onto an empty main database: a type change and SET NOT NULL on a table the same run
/// created are no hazard (lint: info), and an extension the downgrade leaves is a warning.
fn layout_uv_workspace_venv_above_working_dir_runs_alembic_and_history_on_new_tables_passes() {
    require(&[Need::Venv("alembic")]);
    let p = project("uv-workspace", false);
    let venv = crate::neonctl::tools_dir().join("migration-tools/venv");
    std::os::unix::fs::symlink(&venv, p.path().join(".venv")).expect("link .venv");
    let p = p.file(".gitignore", ".venv\n__pycache__\n").commit();
    // The test's own PATH: alembic is only in the workspace's .venv.
    p.run(&["init"])
        .code(exit::OK)
        .stdout_has("detected in backend/ from backend/alembic.ini");
    p.run(&["plan", "pre-push"])
        .code(exit::OK)
        .stdout_has(".venv (its bin first on the tool's PATH)");
    let p = p.commit().git_branch("feature/gadgets");
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::OK);
    let report = out.json();
    let migrate = stage(&report, "migrate");
    assert_eq!(
        migrate["summary"], "applied 1 migration(s) with `alembic`",
        "{out}"
    );
    let lint = check_result(&report, "lint");
    assert_eq!(lint["status"], "passed", "{out}");
    let findings = lint["findings"].as_array().expect("lint findings");
    for rule in ["changing-column-type", "adding-not-nullable-field"] {
        let f = findings
            .iter()
            .find(|f| f["what"].as_str().is_some_and(|w| w.starts_with(rule)))
            .unwrap_or_else(|| panic!("no {rule} finding\n{out}"));
        assert_eq!(f["severity"], "info", "{out}");
        assert!(
            f["what"]
                .as_str()
                .is_some_and(|w| w.contains("gadgets did not exist on the parent")),
            "{out}"
        );
    }
    let reversible = check_result(&report, "reversible");
    assert_eq!(reversible["status"], "passed", "{out}");
    let left = reversible["findings"]
        .as_array()
        .expect("reversible findings");
    assert!(
        left.len() == 1
            && left[0]["severity"] == "warning"
            && left[0]["what"]
                .as_str()
                .is_some_and(|w| w.contains("uuid-ossp")),
        "{out}"
    );
    assert!(!p.main_has("public.gadgets"), "main was touched\n{out}");
    p.assert_no_test_db_branches();
}

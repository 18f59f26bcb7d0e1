//! The tool presets, end to end: each fixture project under tests/tools/<tool>/ (two
//! migrations: create `widgets`, then add `widgets.name`) goes through `init`, `check`, `plan`
//! and the `pre-push` pipeline with the real tool, installed by scripts/test into the test-tools
//! cache (tests/tools/migration-tools/). The proof that the migrations ran on the test Neon
//! database branch is an SQL check on it (`widgets.name` exists there); the main Neon database
//! branch must stay untouched and the test Neon database branch must be gone. Then, on the
//! main database directly, the preset's print-SQL command (where the tool has one) must print
//! the pending SQL without running it, the apply must record both migrations in the tool's
//! tracking table, and the down command (where the tool has one) must revert exactly one.
//!
//! Prisma runs here only in the one mode that needs no native engine download: Prisma 6.19 with
//! the Wasm schema engine its CLI bundles (`engine: "js"` and `@prisma/adapter-pg` in
//! prisma.config.ts); the native schema engine (Prisma 7's only mode) is on no npm package, and
//! its failed download must come with the preset's help.
//!
//! Tools whose runtimes cannot be had here (Rails, Flyway, golang-migrate, goose, Ecto,
//! Laravel, Atlas, SeaORM) are tested on their fixture trees: detection, and the exact command
//! and environment neon-migrate would run.

use std::path::{Path, PathBuf};

use neon_migrate::config::{self, CommandSpec, Config};
use neon_migrate::exit;
use neon_migrate::secret::{Redactor, Secret};
use neon_migrate::template::{DbBranchVars, Vars};
use neon_migrate::tools::command::{self, Extra};
use neon_migrate::tools::{Target, ToolContext, ToolRun};

use crate::neonctl::{tools_dir, tools_required};
use crate::support::{check_status, cluster, flat_words, run_command, stage, Output, Project};
use crate::Test;

/// Every test of this file, with why it is skipped (its tool is not installed).
pub fn tests() -> Vec<Test> {
    let node = |bin: &'static str| skip_unless(&[Need::Npm(bin)]);
    tests![
        tool_sql_fixture_is_initialized_and_proven_on_a_test_neon_database_branch,
        tool_prisma_6_wasm_schema_engine_fixture_is_proven_on_a_test_neon_database_branch => node("prisma"),
        tool_prisma_failed_engine_download_says_how_to_run_offline => node("prisma"),
        tool_drizzle_kit_fixture_is_initialized_and_proven_on_a_test_neon_database_branch => node("drizzle-kit"),
        tool_knex_fixture_is_proven_and_its_down_command_reverts_one_migration => node("knex"),
        tool_node_pg_migrate_fixture_is_proven_prints_sql_and_reverts_one_migration => node("node-pg-migrate"),
        tool_typeorm_fixture_is_proven_and_its_down_command_reverts_one_migration => node("typeorm"),
        tool_sequelize_fixture_is_proven_and_its_down_command_reverts_one_migration => node("sequelize-cli"),
        tool_liquibase_from_npm_is_proven_prints_sql_and_reverts_one_changeset => skip_unless(&[Need::Npm("node-liquibase"), Need::Program("java")]),
        tool_dbmate_from_npm_is_proven_and_its_down_command_reverts_one_migration => node("dbmate"),
        tool_django_fixture_is_proven_prints_sql_and_reverts_one_migration => skip_unless(&[Need::Venv("python")]),
        tool_alembic_fixture_keeps_its_driver_suffix_prints_sql_and_downgrades_one => skip_unless(&[Need::Venv("alembic")]),
        tool_sqlx_cli_fixture_is_proven_and_its_down_command_reverts_one_migration => skip_unless(&[Need::Cargo("sqlx")]),
        tool_diesel_cli_fixture_is_proven_and_its_down_command_reverts_one_migration => skip_unless(&[Need::Cargo("diesel")]),
        tool_refinery_cli_fixture_is_proven_on_a_test_neon_database_branch => skip_unless(&[Need::Cargo("refinery")]),
        tool_detection_names_exactly_the_fixture_tool_for_every_preset,
        tool_init_writes_a_config_that_check_accepts_and_plan_explains_for_every_fixture,
        tool_detection_with_two_candidates_is_an_error_naming_both_and_how_to_choose,
        tool_detection_with_no_candidate_suggests_sql_and_generate,
        tool_commands_and_environment_for_tools_without_a_runtime_here,
        tool_prisma_command_environment_and_offline_engine_variable,
        tool_exit_code_zero_without_recorded_migrations_is_a_migration_failure,
        tool_failure_shows_the_whole_output_redacted,
        tool_user_keys_override_the_preset_and_init_refuses_to_overwrite,
    ]
}

// ---- where the tools are ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub(crate) enum Need {
    /// A bin of the npm migration tools.
    Npm(&'static str),
    /// A program of the Python migration tools' venv.
    Venv(&'static str),
    /// A binary installed by `cargo install` into the cache.
    Cargo(&'static str),
    /// A program on PATH.
    Program(&'static str),
}

pub(crate) fn npm_dir() -> PathBuf {
    tools_dir().join("migration-tools/npm")
}
fn venv_bin() -> PathBuf {
    tools_dir().join("migration-tools/venv/bin")
}
fn cargo_bin() -> PathBuf {
    tools_dir().join("cargo/bin")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

impl Need {
    fn problem(self) -> Option<String> {
        let (path, what, stamp) = match self {
            Need::Npm(bin) => (
                npm_dir().join("node_modules/.bin").join(bin),
                bin,
                Some(npm_dir().join(".stamp")),
            ),
            Need::Venv(p) => (
                venv_bin().join(p),
                p,
                Some(tools_dir().join("migration-tools/venv/.stamp")),
            ),
            Need::Cargo(b) => (cargo_bin().join(b), b, None),
            Need::Program(p) => {
                return (!on_path(p)).then(|| format!("`{p}` is not on PATH"));
            }
        };
        if !path.exists() {
            return Some(format!(
                "{what} is not installed ({} is missing)",
                path.display()
            ));
        }
        if let Some(s) = stamp.filter(|s| !s.exists()) {
            return Some(format!(
                "{what} is installed only in part ({} is missing)",
                s.display()
            ));
        }
        None
    }
}

/// Why a test needing `needs` is skipped (`None` under NEON_MIGRATE_REQUIRE_TOOLS=1: it then
/// runs and fails on what is missing).
pub(crate) fn skip_unless(needs: &[Need]) -> Option<&'static str> {
    if tools_required() {
        return None;
    }
    let problems: Vec<String> = needs.iter().filter_map(|n| n.problem()).collect();
    if problems.is_empty() {
        return None;
    }
    let reason = format!(
        "{}; scripts/test installs the migration tools of tests/tools/migration-tools/ into {}",
        problems.join("; "),
        tools_dir().display()
    );
    Some(Box::leak(reason.into_boxed_str()))
}

#[track_caller]
pub(crate) fn require(needs: &[Need]) {
    for n in needs {
        if let Some(p) = n.problem() {
            panic!("{p} (NEON_MIGRATE_REQUIRE_TOOLS=1); run scripts/test, which installs them");
        }
    }
}

/// PATH with the venv and the cargo-installed tools first.
pub(crate) fn tool_path() -> String {
    let mut dirs = vec![venv_bin(), cargo_bin()];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

// ---- fixtures ----------------------------------------------------------------------------------

fn fixture(tool: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tools")
        .join(tool)
}

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("create folder");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// A project holding a copy of fixture `tool` (and the npm tools as its node_modules).
pub(crate) fn project(tool: &str, node: bool) -> Project {
    let p = Project::new(&format!("tool_{}", tool.replace('-', "_")));
    // `init` writes the config; the test's main database goes in afterwards.
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    copy_tree(&fixture(tool), p.path());
    let p = p.file(".gitignore", "node_modules\n");
    if node {
        std::os::unix::fs::symlink(
            npm_dir().join("node_modules"),
            p.path().join("node_modules"),
        )
        .expect("link node_modules");
    }
    p.commit()
}

/// Runs the binary in `p` with the tools on PATH.
pub(crate) fn nm(p: &Project, args: &[&str]) -> Output {
    let mut c = p.command(args);
    c.env("PATH", tool_path());
    run_command(c, args)
}

pub(crate) const WIDGET_NAME_CHECK: &str = r#"
[[checks.sql]]
name = "widgets.name exists on the test Neon database branch"
query = "select count(*) = 1 from information_schema.columns where table_schema = 'public' and table_name = 'widgets' and column_name = 'name'"
expect-true = true
"#;

/// What one end-to-end run expects.
struct E2e {
    tool: &'static str,
    node: bool,
    /// Files `init` must name as the evidence.
    evidence: &'static [&'static str],
    /// Variables `plan` must say the project's config files read.
    referenced: &'static [&'static str],
    has_down: bool,
    has_print_sql: bool,
}

impl E2e {
    /// Migrations the run applied: both, also for Alembic, whose alembic_version holds only
    /// the head revision (the revisions between the old and the new head are counted).
    fn tracked(&self) -> usize {
        2
    }
}

/// init → check → plan → run pre-push → (print SQL) → apply → (down), as described at the top.
fn e2e(spec: E2e) -> Project {
    let (tool, node) = (spec.tool, spec.node);
    let p = project(tool, node);

    let out = nm(&p, &["init"]);
    out.code(exit::OK)
        .stdout_has(&format!("tool `{tool}`"))
        .stdout_has("neon-migrate plan pre-push")
        .stdout_has("neon-migrate run pre-push");
    for e in spec.evidence {
        out.stdout_has(e);
    }
    nm(&p, &["check"])
        .code(exit::OK)
        .stdout_has(&format!("tool `{tool}`"));
    let plan = nm(&p, &["plan", "pre-push"]);
    plan.code(exit::OK)
        .stdout_has(&format!("tool                  {tool}"));
    for e in spec.evidence {
        plan.stdout_has(e);
    }
    for v in spec.referenced {
        plan.stdout_has(&format!("{v} (read by "));
    }
    let json = nm(&p, &["plan", "pre-push", "--json"]);
    let j = json.code(exit::OK).json();
    assert_eq!(j["migration_tool"]["name"], tool, "{json}");

    // The generated config, with this test's main database and the proof of the migration.
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p
        .config(&format!("{generated}{WIDGET_NAME_CHECK}"))
        .commit()
        .git_branch(&format!("feature/widgets-{tool}"));
    let out = nm(&p, &["run", "pre-push", "--json"]);
    out.code(exit::OK);
    let report = out.json();
    let migrate = stage(&report, "migrate");
    assert_eq!(migrate["status"], "passed", "{out}");
    if tool != "sql" {
        assert_eq!(
            migrate["summary"],
            format!("applied {} migration(s) with `{tool}`", spec.tracked()),
            "the tracking table must show both migrations\n{out}"
        );
    }
    assert_widgets_name_proven(&report, &out);
    // Lint reads the tool's print-SQL output and reversible runs its down command: for a
    // preset that has them, neither may be left NOT RUN.
    let status = |name: &str| check_status(&report, name, &out);
    if tool != "sql" {
        // Tools without a print-SQL mode whose migrations are SQL files are linted from the
        // files of the migrations they applied.
        let sql_files = ["drizzle", "prisma", "sqlx", "dbmate", "diesel", "refinery"];
        let want = if spec.has_print_sql || sql_files.contains(&tool) {
            "passed"
        } else {
            "not-run"
        };
        assert_eq!(status("lint"), want, "lint of `{tool}`\n{out}");
        let want = if spec.has_down { "passed" } else { "not-run" };
        assert_eq!(status("reversible"), want, "reversible of `{tool}`\n{out}");
    }
    assert!(
        !p.main_has("public.widgets"),
        "the main Neon database branch was touched\n{out}"
    );
    p.assert_no_test_db_branches();

    if tool == "sql" {
        return p;
    }
    // The other commands, on the main database itself.
    let mut config = config::load(&p.path().join("neon-migrate.toml")).expect("load config");
    config.tool.env.push(("PATH".into(), tool_path()));
    let url = cluster().url(p.main_db());
    p.ensure_main();
    if spec.has_print_sql {
        let run = p
            .block_on(extra(&config, &url, Extra::PrintSql))
            .unwrap_or_else(|e| panic!("print-sql-command failed: {e}"));
        // Both pending migrations, as SQL statements (not just their file names, which
        // also say `widgets`).
        for statement in ["create table", "alter table"] {
            assert!(
                sql_statement_on(&run.output, statement, "widgets"),
                "the print-SQL command printed no `{statement} … widgets` statement:\n{}",
                run.output
            );
        }
        assert!(
            !p.main_has("public.widgets"),
            "printing the SQL ran it:\n{}",
            run.output
        );
    } else {
        assert!(config.tool.print_sql_command.is_none());
    }
    let applied = p
        .block_on(apply(&config, &url))
        .unwrap_or_else(|e| panic!("apply on main failed: {e}"));
    assert_eq!(applied.applied.len(), spec.tracked(), "{applied:#?}");
    assert!(widget_has_name(&p));
    if spec.has_down {
        let run = p
            .block_on(extra(&config, &url, Extra::Down))
            .unwrap_or_else(|e| panic!("down-command failed: {e}"));
        assert_eq!(
            run.applied.len(),
            1,
            "exactly one migration reverted: {run:#?}"
        );
        assert!(
            p.main_has("public.widgets"),
            "down reverted more than one:\n{}",
            run.output
        );
        assert!(
            !widget_has_name(&p),
            "down did not revert the last migration:\n{}",
            run.output
        );
    } else {
        assert!(config.tool.down_command.is_none());
    }
    p
}

/// Whether `output` has a line that starts (case aside, after blanks) with `statement` and
/// names `table`: a statement, where a file or revision name would only name the table.
fn sql_statement_on(output: &str, statement: &str, table: &str) -> bool {
    output.lines().any(|l| {
        let l = l.trim_start().to_lowercase();
        l.starts_with(statement) && l.contains(table)
    })
}

/// Asserts that the `widgets.name` check of a fixture's config ran and passed.
#[track_caller]
pub fn assert_widgets_name_proven(report: &serde_json::Value, out: &Output) {
    let proof = stage(report, "checks")["checks"]
        .as_array()
        .and_then(|c| {
            c.iter().find(|c| {
                c["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("widgets.name"))
            })
        })
        .unwrap_or_else(|| panic!("no widgets.name check\n{out}"));
    assert_eq!(proof["passed"], true, "{out}");
}

fn widget_has_name(p: &Project) -> bool {
    p.main_sql(
        "select count(*) from information_schema.columns where table_schema = 'public' and table_name = 'widgets' and column_name = 'name'",
    )[0][0]
        .as_deref()
        == Some("1")
}

fn context<'a>(
    config: &'a Config,
    redactor: &'a Redactor,
    vars: &'a Vars,
    url: &str,
) -> ToolContext<'a> {
    ToolContext {
        config,
        redactor,
        vars,
        target: Target {
            name: "the main Neon database branch".into(),
            url: Secret::new(url.to_owned()),
        },
        timeouts: None,
        connection_check: None,
        on_main: false,
    }
}

fn vars(url: &str) -> Vars {
    Vars {
        db_branch: Some(DbBranchVars {
            name: "main".into(),
            url: neon_migrate::secret::Secret::new(url.to_owned()),
            parent: "main".into(),
        }),
        ..Default::default()
    }
}

fn describe(e: neon_migrate::tools::ToolError) -> String {
    format!("{e}\n{}", e.output().unwrap_or_default())
}

pub(crate) async fn apply(config: &Config, url: &str) -> Result<ToolRun, String> {
    let (redactor, vars) = (Redactor::new(), vars(url));
    let tool = neon_migrate::tools::from_config(config, true);
    tool.apply(&context(config, &redactor, &vars, url))
        .await
        .map_err(describe)
}

async fn extra(config: &Config, url: &str, which: Extra) -> Result<ToolRun, String> {
    let (redactor, vars) = (Redactor::new(), vars(url));
    command::run_extra(&context(config, &redactor, &vars, url), which)
        .await
        .map_err(describe)
}

// ---- end to end, per tool ---------------------------------------------------------------------

fn tool_sql_fixture_is_initialized_and_proven_on_a_test_neon_database_branch() {
    e2e(E2e {
        tool: "sql",
        node: false,
        evidence: &[],
        referenced: &[],
        has_down: false,
        has_print_sql: false,
    });
}

fn tool_prisma_6_wasm_schema_engine_fixture_is_proven_on_a_test_neon_database_branch() {
    require(&[Need::Npm("prisma")]);
    e2e(E2e {
        tool: "prisma",
        node: true,
        evidence: &[
            "prisma/migrations/migration_lock.toml",
            "prisma/schema.prisma",
            "prisma.config.ts",
        ],
        referenced: &["POSTGRES_URL_NON_POOLING", "MIGRATE_DATABASE_URL"],
        has_down: false,
        has_print_sql: false,
    });
}

/// The fixture with Prisma's default (native) schema engine: the CLI downloads it first. The
/// download goes to a closed local port (PRISMA_ENGINES_MIRROR), so it fails the same on a
/// machine with internet access, in seconds.
fn tool_prisma_failed_engine_download_says_how_to_run_offline() {
    require(&[Need::Npm("prisma")]);
    let p = project("prisma", true)
        .file(
            "prisma.config.ts",
            "import { defineConfig } from \"prisma/config\";\n\nexport default defineConfig({ schema: \"prisma/schema.prisma\" });\n",
        )
        .config(
            "[tool]\nname = \"prisma\"\n[tool.env]\nPRISMA_ENGINES_MIRROR = \"http://127.0.0.1:9\"\n",
        )
        .commit()
        .git_branch("feature/widgets-prisma-native-engine");
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("npx --no -- prisma migrate deploy` exited with code 1")
        .stdout_has("schema-engine.gz.sha256 failed, reason:");
    // The help wraps to the terminal's width: compare the words.
    let flat = flat_words(&out.stdout);
    for want in [
        "could not download its native schema engine",
        "set PRISMA_SCHEMA_ENGINE_BINARY under [tool.env]",
        "`engine: \"js\"`",
    ] {
        assert!(flat.contains(want), "stdout lacks {want:?}\n{out}");
    }
    assert!(
        !p.main_has("public.widgets"),
        "the main Neon database branch was touched\n{out}"
    );
    p.assert_no_test_db_branches();
}

fn tool_drizzle_kit_fixture_is_initialized_and_proven_on_a_test_neon_database_branch() {
    require(&[Need::Npm("drizzle-kit")]);
    let p = e2e(E2e {
        tool: "drizzle",
        node: true,
        evidence: &["drizzle.config.ts"],
        referenced: &["APP_DB_URL"],
        has_down: false,
        has_print_sql: false,
    });
    // The preset's watched paths reach the git pre-push hook (the glob names what exists).
    nm(&p, &["hooks", "status"])
        .stdout_has("watches        drizzle, drizzle.config.ts, neon-migrate.toml, schema.ts");
}

fn tool_knex_fixture_is_proven_and_its_down_command_reverts_one_migration() {
    require(&[Need::Npm("knex")]);
    e2e(E2e {
        tool: "knex",
        node: true,
        evidence: &["knexfile.js"],
        referenced: &["KNEX_DATABASE_URL"],
        has_down: true,
        has_print_sql: false,
    });
}

fn tool_node_pg_migrate_fixture_is_proven_prints_sql_and_reverts_one_migration() {
    require(&[Need::Npm("node-pg-migrate")]);
    e2e(E2e {
        tool: "node-pg-migrate",
        node: true,
        evidence: &["package.json (contains `\"node-pg-migrate\"`)"],
        referenced: &[],
        has_down: true,
        has_print_sql: true,
    });
}

fn tool_typeorm_fixture_is_proven_and_its_down_command_reverts_one_migration() {
    require(&[Need::Npm("typeorm")]);
    e2e(E2e {
        tool: "typeorm",
        node: true,
        evidence: &["data-source.js"],
        referenced: &["TYPEORM_DATABASE_URL"],
        has_down: true,
        has_print_sql: false,
    });
}

fn tool_sequelize_fixture_is_proven_and_its_down_command_reverts_one_migration() {
    require(&[Need::Npm("sequelize-cli")]);
    e2e(E2e {
        tool: "sequelize",
        node: true,
        evidence: &["package.json (contains `\"sequelize-cli\"`)"],
        referenced: &["SEQUELIZE_URL"],
        has_down: true,
        has_print_sql: false,
    });
}

fn tool_liquibase_from_npm_is_proven_prints_sql_and_reverts_one_changeset() {
    require(&[Need::Npm("node-liquibase"), Need::Program("java")]);
    let p = e2e(E2e {
        tool: "liquibase",
        node: true,
        evidence: &[
            "liquibase.properties",
            "db/changelog/db.changelog-master.yaml",
        ],
        referenced: &[],
        has_down: true,
        has_print_sql: true,
    });
    // The npm package's own script, not a `liquibase` on PATH.
    let config = config::load(&p.path().join("neon-migrate.toml")).expect("config");
    assert_eq!(
        config
            .tool
            .kind_command()
            .map(CommandSpec::display)
            .as_deref(),
        Some("sh node_modules/liquibase/dist/liquibase/liquibase update")
    );
}

fn tool_dbmate_from_npm_is_proven_and_its_down_command_reverts_one_migration() {
    require(&[Need::Npm("dbmate")]);
    e2e(E2e {
        tool: "dbmate",
        node: true,
        evidence: &["db/migrations/20240101000000_create_widgets.sql (contains `-- migrate:up`)"],
        referenced: &[],
        has_down: true,
        has_print_sql: false,
    });
}

fn tool_django_fixture_is_proven_prints_sql_and_reverts_one_migration() {
    require(&[Need::Venv("python")]);
    e2e(E2e {
        tool: "django",
        node: false,
        evidence: &[
            "manage.py (contains `django`)",
            "shop/migrations/0001_initial.py",
        ],
        referenced: &[],
        has_down: true,
        has_print_sql: true,
    });
}

fn tool_alembic_fixture_keeps_its_driver_suffix_prints_sql_and_downgrades_one() {
    require(&[Need::Venv("alembic")]);
    let p = e2e(E2e {
        tool: "alembic",
        node: false,
        evidence: &["alembic.ini"],
        referenced: &[],
        has_down: true,
        has_print_sql: true,
    });
    // env.py refuses any URL without the project's driver: the run above proves the suffix.
    nm(&p, &["plan", "pre-push"]).stdout_has("postgresql+psycopg://");
}

fn tool_sqlx_cli_fixture_is_proven_and_its_down_command_reverts_one_migration() {
    require(&[Need::Cargo("sqlx")]);
    e2e(E2e {
        tool: "sqlx",
        node: false,
        evidence: &["Cargo.toml (contains `sqlx`)"],
        referenced: &[],
        has_down: true,
        has_print_sql: false,
    });
}

fn tool_diesel_cli_fixture_is_proven_and_its_down_command_reverts_one_migration() {
    require(&[Need::Cargo("diesel")]);
    e2e(E2e {
        tool: "diesel",
        node: false,
        evidence: &["diesel.toml"],
        referenced: &[],
        has_down: true,
        has_print_sql: false,
    });
}

fn tool_refinery_cli_fixture_is_proven_on_a_test_neon_database_branch() {
    require(&[Need::Cargo("refinery")]);
    e2e(E2e {
        tool: "refinery",
        node: false,
        evidence: &[
            "Cargo.toml (contains `refinery`)",
            "migrations/V1__create_widgets.sql",
        ],
        referenced: &[],
        has_down: false,
        has_print_sql: false,
    });
}

// ---- detection and commands without the tools ----------------------------------------------

/// Every fixture folder, and the tool it must be detected as (`sql`: none detected).
const FIXTURES: &[&str] = &[
    "sql",
    "prisma",
    "drizzle",
    "django",
    "alembic",
    "rails",
    "flyway",
    "liquibase",
    "sqlx",
    "diesel",
    "refinery",
    "seaorm",
    "golang-migrate",
    "goose",
    "dbmate",
    "knex",
    "node-pg-migrate",
    "typeorm",
    "sequelize",
    "ecto",
    "laravel",
    "atlas",
    "flask-migrate",
];

fn tool_detection_names_exactly_the_fixture_tool_for_every_preset() {
    use neon_migrate::tools::{detect::Tree, presets};
    assert_eq!(
        {
            let mut a = FIXTURES.to_vec();
            a.sort();
            a
        },
        {
            let mut b = presets::names();
            b.sort();
            b
        },
        "one fixture per preset"
    );
    for tool in FIXTURES {
        let found = presets::detect(&Tree::new(&fixture(tool)));
        let names: Vec<&str> = found.iter().map(|c| c.name).collect();
        let want: Vec<&str> = if *tool == "sql" { vec![] } else { vec![tool] };
        assert_eq!(names, want, "fixture tests/tools/{tool}: {found:#?}");
        // Without a config, the same decision, with the files as evidence in `plan`.
        let c = config::defaults(&fixture(tool));
        assert_eq!(c.tool.name, *tool);
        match (&c.tool.origin, *tool) {
            (config::ToolOrigin::Default { note }, "sql") => {
                assert!(
                    note.contains("built-in `sql` tool applies migrations/*.sql"),
                    "{note}"
                )
            }
            (config::ToolOrigin::Detected { evidence }, _) => assert!(!evidence.is_empty()),
            (other, _) => panic!("{tool}: {other:?}"),
        }
    }
}

fn tool_init_writes_a_config_that_check_accepts_and_plan_explains_for_every_fixture() {
    use neon_migrate::tools::{detect::Tree, presets};
    for tool in FIXTURES {
        let p = project(tool, false);
        nm(&p, &["init"])
            .code(exit::OK)
            .stdout_has(&format!("wrote neon-migrate.toml: tool `{tool}`"));
        nm(&p, &["check"])
            .code(exit::OK)
            .stdout_has(&format!("tool `{tool}`"));
        let plan = nm(&p, &["plan", "pre-push"]);
        plan.code(exit::OK)
            .stdout_has(&format!("tool                  {tool}"));
        if *tool == "sql" {
            plan.stdout_has(&format!("{:<22}migrations/*.sql (built in)", "  applies"));
            continue;
        }
        // `plan` names the files that prove the tool, and the command it will run.
        let found = presets::detect(&Tree::new(&fixture(tool)));
        plan.stdout_has(&format!(
            "{:<22}set in neon-migrate.toml; its files: {}",
            "  why", found[0].evidence[0]
        ))
        .stdout_has(&format!("{:<22}", "  apply"));
    }
}

fn tool_detection_with_two_candidates_is_an_error_naming_both_and_how_to_choose() {
    let p = Project::new("tool_two_candidates")
        .config_raw("")
        .file("knexfile.js", "module.exports = {};\n")
        .file("drizzle.config.ts", "export default {};\n")
        .commit();
    let out = nm(&p, &["check"]);
    out.code(exit::CONFIG);
    // The diagnostic wraps to the terminal's width: compare the words.
    let flat = flat_words(&out.stderr);
    for want in [
        "2 migration tools detected",
        "`drizzle` (Drizzle Kit: drizzle.config.ts)",
        "`knex` (Knex: knexfile.js)",
        "`name = \"drizzle\"` or `name = \"knex\"`",
    ] {
        assert!(flat.contains(want), "stderr lacks {want:?}\n{out}");
    }
    // Without any config file, the same error rather than a silent default.
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    nm(&p, &["plan", "pre-push"])
        .code(exit::CONFIG)
        .stderr_has("2 migration tools detected");
    let out = nm(&p, &["init"]);
    out.code(exit::CONFIG)
        .stderr_has("2 migration tools detected")
        .stderr_has("neon-migrate init --tool drizzle")
        .stderr_has("neon-migrate init --tool knex");
    assert!(!p.path().join("neon-migrate.toml").exists());
    nm(&p, &["init", "--tool", "knex"]).code(exit::OK);
    nm(&p, &["check"]).code(exit::OK).stdout_has("tool `knex`");
}

fn tool_detection_with_no_candidate_suggests_sql_and_generate() {
    let p = Project::new("tool_no_candidate").commit();
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove config");
    let out = nm(&p, &["init"]);
    out.code(exit::OK)
        .stdout_has("tool `sql`")
        .stdout_has("no migration tool detected")
        .stdout_has("neon-migrate generate");
    nm(&p, &["check"]).code(exit::OK).stdout_has("tool `sql`");
}

const NEON_POOLED: &str = "postgresql://neondb_owner:npg_Secret99@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require";
const DIRECT: &str = "postgresql://neondb_owner:npg_Secret99@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require";
const DIRECT_NO_CB: &str = "postgresql://neondb_owner:npg_Secret99@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require";
const JDBC: &str = "jdbc:postgresql://ep-cool-darkness-123456.us-east-2.aws.neon.tech:5432/neondb?sslmode=require&channelBinding=require";

/// The config `init` would write for fixture `tool`, and what its tool would get for a pooled
/// Neon URL: (argv or shell string, environment).
fn rendered(
    tool: &str,
    spec: fn(&Config) -> Option<CommandSpec>,
) -> (String, Vec<(String, String)>) {
    let dir = fixture(tool);
    let choice = neon_migrate::init::choose(&dir, None).expect("one tool");
    assert_eq!(choice.name, tool);
    let text = neon_migrate::init::render(&choice, &dir);
    let config = config::parse("neon-migrate.toml", &text, &dir)
        .unwrap_or_else(|e| panic!("{tool}: {:?}", e.plain_lines()));
    let spec = spec(&config).unwrap_or_else(|| panic!("{tool}: no such command"));
    let (cmd, env) = command::rendered(&config, &spec, NEON_POOLED).expect("render");
    (cmd.display(), env)
}

fn apply_spec(c: &Config) -> Option<CommandSpec> {
    c.tool.kind_command().cloned()
}
fn down_spec(c: &Config) -> Option<CommandSpec> {
    c.tool.down_command.clone()
}
fn print_spec(c: &Config) -> Option<CommandSpec> {
    c.tool.print_sql_command.clone()
}

/// The value the tool gets for `name` (the last one set wins, as in the process).
fn var<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[track_caller]
fn assert_var(env: &[(String, String)], name: &str, want: &str) {
    assert_eq!(var(env, name), Some(want), "{name} in {env:#?}");
}

fn tool_commands_and_environment_for_tools_without_a_runtime_here() {
    // No tool ever gets the pooled host, whatever the variable.
    for tool in FIXTURES.iter().filter(|t| **t != "sql") {
        let (_, env) = rendered(tool, apply_spec);
        assert!(
            env.iter().all(|(_, v)| !v.contains("-pooler")),
            "{tool} got the pooled host: {env:#?}"
        );
        assert_eq!(
            var(&env, "PGHOST"),
            Some("ep-cool-darkness-123456.us-east-2.aws.neon.tech")
        );
        assert_eq!(var(&env, "PGPASSWORD"), Some("npg_Secret99"));
    }

    let (cmd, env) = rendered("rails", apply_spec);
    assert_eq!(cmd, "bin/rails db:migrate");
    assert_var(&env, "DATABASE_URL", DIRECT);
    // config/database.yml reads its own variable.
    assert_var(&env, "PRIMARY_DATABASE_URL", DIRECT);
    assert_eq!(
        rendered("rails", down_spec).0,
        "bin/rails db:rollback STEP=1"
    );

    let (cmd, env) = rendered("flyway", apply_spec);
    assert_eq!(cmd, "flyway migrate");
    assert_var(&env, "FLYWAY_URL", JDBC);
    assert_var(&env, "FLYWAY_USER", "neondb_owner");
    assert_var(&env, "FLYWAY_PASSWORD", "npg_Secret99");
    assert_var(&env, "SPRING_DATASOURCE_URL", JDBC);
    assert_var(&env, "DATABASE_URL", DIRECT);

    let (cmd, env) = rendered("golang-migrate", apply_spec);
    assert_eq!(
        cmd,
        "migrate -path db/migrations -database \"$DATABASE_URL\" up"
    );
    // lib/pq rejects channel_binding.
    assert_var(&env, "DATABASE_URL", DIRECT_NO_CB);
    assert_eq!(
        rendered("golang-migrate", down_spec).0,
        "migrate -path db/migrations -database \"$DATABASE_URL\" down 1"
    );

    let (cmd, env) = rendered("goose", apply_spec);
    assert_eq!(cmd, "goose up");
    assert_var(&env, "GOOSE_DRIVER", "postgres");
    assert_var(&env, "GOOSE_DBSTRING", DIRECT_NO_CB);
    assert_var(&env, "GOOSE_MIGRATION_DIR", "migrations");
    assert_eq!(rendered("goose", down_spec).0, "goose down");

    let (cmd, env) = rendered("ecto", apply_spec);
    assert_eq!(cmd, "mix ecto.migrate");
    assert_var(&env, "MIX_ENV", "prod");
    assert_var(&env, "DATABASE_URL", DIRECT);
    assert_eq!(rendered("ecto", down_spec).0, "mix ecto.rollback --step 1");

    let (cmd, env) = rendered("laravel", apply_spec);
    assert_eq!(cmd, "php artisan migrate --force");
    assert_var(&env, "DB_URL", DIRECT);
    assert_var(&env, "DB_CONNECTION", "pgsql");
    assert_var(
        &env,
        "DB_HOST",
        "ep-cool-darkness-123456.us-east-2.aws.neon.tech",
    );
    assert_var(&env, "DB_DATABASE", "neondb");
    assert_var(&env, "DB_SSLMODE", "require");
    // config/database.php also reads REDIS_URL: not the database, left alone.
    assert_eq!(var(&env, "REDIS_URL"), None);
    assert_eq!(
        rendered("laravel", print_spec).0,
        "php artisan migrate --pretend --force"
    );

    let (cmd, env) = rendered("atlas", apply_spec);
    assert_eq!(
        cmd,
        "atlas migrate apply --url \"$DATABASE_URL\" --dir file://migrations"
    );
    // atlas.hcl reads getenv("ATLAS_DATABASE_URL").
    assert_var(&env, "ATLAS_DATABASE_URL", DIRECT);

    let (cmd, env) = rendered("seaorm", apply_spec);
    assert_eq!(cmd, "cargo run --manifest-path migration/Cargo.toml -- up");
    assert_var(&env, "DATABASE_URL", DIRECT);

    // The runnable tools' commands, exactly (their end-to-end tests run them).
    for (tool, want) in [
        ("sqlx", "sqlx migrate run --no-dotenv"),
        ("diesel", "diesel migration run"),
        (
            "refinery",
            "refinery migrate -e DATABASE_URL -p ./migrations",
        ),
        ("knex", "npx --no -- knex migrate:latest"),
        ("node-pg-migrate", "npx --no -- node-pg-migrate up"),
        (
            "typeorm",
            "npx --no -- typeorm migration:run -d data-source.js",
        ),
        ("sequelize", "npx --no -- sequelize-cli db:migrate"),
        ("drizzle", "npx --no -- drizzle-kit migrate"),
        ("django", "python manage.py migrate --noinput"),
        ("alembic", "alembic upgrade head"),
    ] {
        assert_eq!(rendered(tool, apply_spec).0, want, "{tool}");
    }
    let (_, env) = rendered("alembic", apply_spec);
    assert_var(
        &env,
        "DATABASE_URL",
        &DIRECT.replace("postgresql://", "postgresql+psycopg://"),
    );
    let (_, env) = rendered("liquibase", apply_spec);
    assert_var(&env, "LIQUIBASE_COMMAND_URL", JDBC);
    assert_var(&env, "LIQUIBASE_COMMAND_USERNAME", "neondb_owner");
    assert_var(&env, "LIQUIBASE_COMMAND_PASSWORD", "npg_Secret99");
    let (_, env) = rendered("dbmate", apply_spec);
    assert_var(&env, "DATABASE_URL", DIRECT_NO_CB);
    let (_, env) = rendered("sequelize", apply_spec);
    assert_var(&env, "SEQUELIZE_URL", DIRECT);
}

fn tool_prisma_command_environment_and_offline_engine_variable() {
    let (cmd, env) = rendered("prisma", apply_spec);
    assert_eq!(cmd, "npx --no -- prisma migrate deploy");
    // prisma.config.ts reads both: Prisma's env() throws when its variable is unset.
    assert_var(&env, "POSTGRES_URL_NON_POOLING", DIRECT);
    assert_var(&env, "MIGRATE_DATABASE_URL", DIRECT);
    assert_var(&env, "CHECKPOINT_DISABLE", "1");
    // Offline, the schema engine comes from a path the project gives.
    let dir = fixture("prisma");
    let text = "[tool]\nname = \"prisma\"\n[tool.env]\nPRISMA_SCHEMA_ENGINE_BINARY = \"/opt/prisma/schema-engine\"\n";
    let config = config::parse("neon-migrate.toml", text, &dir).expect("config");
    let (_, env) = command::rendered(&config, config.tool.kind_command().unwrap(), NEON_POOLED)
        .expect("render");
    assert_var(
        &env,
        "PRISMA_SCHEMA_ENGINE_BINARY",
        "/opt/prisma/schema-engine",
    );
    assert_var(&env, "CHECKPOINT_DISABLE", "1");
}

fn tool_exit_code_zero_without_recorded_migrations_is_a_migration_failure() {
    // A "tool" that exits 0 and records nothing on the test Neon database branch (it creates
    // its tracking table there, empty), while the project has two migration files.
    let p = Project::new("tool_silent_failure")
        .config(
            r#"[tool]
name = "quiet"
command = "psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -qc 'create table quiet_migrations (name text)'"
tracking-query = "select name from quiet_migrations"
migration-files = ["db/*.sql"]
"#,
        )
        .file("db/0001_a.sql", "create table a ();\n")
        .file("db/0002_b.sql", "create table b ();\n")
        .commit()
        .git_branch("feature/quiet");
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("exited with code 0, but on")
        .stdout_has("records 0 applied migration(s) while the project has 2 (db/*.sql)")
        .stdout_has("the tool skipped migrations without failing");
    p.assert_no_test_db_branches();
}

fn tool_failure_shows_the_whole_output_redacted() {
    // The tool prints its URL and fails: every line is shown, the password never.
    let p = Project::new("tool_failure_output")
        .config(
            r#"[tool]
name = "noisy"
command = "echo \"connecting to $DATABASE_URL\"; echo 'line two' >&2; echo \"pw $PGPASSWORD\"; exit 3"
"#,
        )
        .commit()
        .git_branch("feature/noisy");
    let out = nm(&p, &["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("exited with code 3")
        .stdout_has("connecting to postgresql://")
        .stdout_has("line two")
        .stdout_has("pw ");
    let password = cluster().password().to_owned();
    assert!(
        !out.stdout.contains(&password) && !out.stderr.contains(&password),
        "{out}"
    );
    p.assert_no_test_db_branches();
}

fn tool_user_keys_override_the_preset_and_init_refuses_to_overwrite() {
    let p = project("knex", false);
    nm(&p, &["init"]).code(exit::OK);
    let again = nm(&p, &["init"]);
    again
        .code(exit::USAGE)
        .stderr_has("already exists")
        .stderr_has("--force");
    // A key of the project's wins; the others still come from the preset.
    let p = p.config_raw(
        "[tool]\nname = \"knex\"\ncommand = [\"npx\", \"--no\", \"--\", \"knex\", \"migrate:latest\", \"--env\", \"production\"]\nwatch = [\"db\"]\n",
    );
    let plan = nm(&p, &["plan", "pre-push", "--json"]);
    let j = plan.code(exit::OK).json();
    let t = &j["migration_tool"];
    assert_eq!(
        t["command"], "npx --no -- knex migrate:latest --env production",
        "{plan}"
    );
    assert_eq!(t["down_command"], "npx --no -- knex migrate:down", "{plan}");
    assert_eq!(t["watch"], serde_json::json!(["db"]), "{plan}");
    assert_eq!(t["origin"], "config", "{plan}");
    assert_eq!(t["evidence"][0]["path"], "knexfile.js", "{plan}");
    // The built-in sql tool would run none of the knex migrations in migrations/: refused,
    // naming the tool they belong to (it was accepted before, and every run "passed").
    let out = nm(&p, &["init", "--force", "--tool", "sql"]);
    out.code(exit::CONFIG);
    assert!(
        flat_words(&out.stderr).contains("these are `knex` migrations"),
        "{out}"
    );
}

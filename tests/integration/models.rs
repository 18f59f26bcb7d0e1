//! The `models` check with the real tools (test-tools cache): a model changed without its
//! migration fails `run pre-push` (exit 4) with the check's finding, even when nothing was
//! pending — the main database already holds every migration, as on a developer's push that
//! forgot `makemigrations`; with the migration the run passes; a tool with models but no way
//! to compare them (Drizzle Kit, Alembic without `target_metadata`) is NOT RUN, said in the
//! `checks` stage's summary, and `required = true` makes that exit 4.

use std::path::PathBuf;

use neon_migrate::config;
use neon_migrate::exit;

use crate::support::{check_result, check_status, cluster, stage, Output, Project};
use crate::tools::{apply, copy_tree, nm, require, skip_unless, tool_path, Need};
use crate::Test;

pub fn tests() -> Vec<Test> {
    let venv = |p: &'static str| skip_unless(&[Need::Venv(p)]);
    tests![
        checks_models_django_change_without_its_migration_fails_pre_push => venv("python"),
        checks_models_django_change_with_its_migration_passes => venv("python"),
        checks_models_django_models_are_watched_by_the_pre_push_hook,
        checks_models_alembic_change_without_its_revision_fails_pre_push => venv("alembic"),
        checks_models_alembic_change_with_its_revision_passes => venv("alembic"),
        checks_models_alembic_without_target_metadata_is_not_run => venv("alembic"),
        checks_models_drizzle_without_a_model_check_command_is_not_run_and_said => skip_unless(&[Need::Npm("drizzle-kit")]),
        checks_models_prisma_with_a_driver_adapter_is_not_run => skip_unless(&[Need::Npm("prisma")]),
    ]
}

/// A project holding a copy of fixture `tool` whose main database already holds the
/// fixture's migrations (applied by the tool itself), with `files` written over the fixture
/// and `extra` appended to the config, committed on a feature git branch.
fn migrated(tool: &str, test: &str, files: &[(&str, &str)], extra: &str) -> Project {
    let p = Project::new(&format!("models_{test}"));
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tools")
        .join(tool);
    copy_tree(&fixture, p.path());
    let mut p = p
        .config(&format!("[tool]\nname = \"{tool}\"\n{extra}"))
        .file(".gitignore", "node_modules\n__pycache__\n");
    for (path, text) in files {
        p = p.file(path, text);
    }
    if matches!(tool, "drizzle" | "prisma") {
        std::os::unix::fs::symlink(
            crate::tools::npm_dir().join("node_modules"),
            p.path().join("node_modules"),
        )
        .expect("link node_modules");
    }
    let p = p.commit();
    let mut config = config::load(&p.path().join("neon-migrate.toml")).expect("load config");
    config.tool.env.push(("PATH".into(), tool_path()));
    p.ensure_main();
    let url = cluster().url(p.main_db());
    p.block_on(apply(&config, &url))
        .unwrap_or_else(|e| panic!("migrating main failed: {e}"));
    // The tool's evidence connection may outlive the runtime that no longer runs: the main
    // database must have no session left, or the test copy cannot be made.
    p.main_sql(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
    );
    p.git_branch(&format!("feature/models-{test}"))
}

/// Writes `files`, commits, and runs `run pre-push --json`.
fn push(p: Project, files: &[(&str, &str)]) -> (Project, Output, serde_json::Value) {
    let mut p = p;
    for (path, text) in files {
        p = p.file(path, text);
    }
    let p = p.commit();
    let out = nm(&p, &["run", "pre-push", "--json"]);
    let report = out.json();
    p.assert_no_test_db_branches();
    (p, out, report)
}

/// The `models` result of a report (`out` is shown when there is none).
#[track_caller]
fn models_result<'a>(report: &'a serde_json::Value, out: &Output) -> &'a serde_json::Value {
    if report["stages"].is_null() {
        panic!("no report\n{out}");
    }
    check_result(report, "models")
}

/// The run failed on the `models` check alone, nothing pending, with a finding naming `fix`.
#[track_caller]
fn assert_models_failed(out: &Output, report: &serde_json::Value, fix: &str) {
    out.code(exit::CHECK_FAILED);
    assert!(
        stage(report, "migrate")["summary"]
            .as_str()
            .is_some_and(|s| s.ends_with("is up to date")),
        "nothing was pending\n{out}"
    );
    let models = models_result(report, out);
    assert_eq!(models["status"], "failed", "{out}");
    let finding = &models["findings"][0];
    assert!(
        finding["what"]
            .as_str()
            .is_some_and(|w| w.contains("the ORM models differ")),
        "{out}"
    );
    assert!(
        finding["fix"].as_str().is_some_and(|f| f.contains(fix)),
        "the finding must name `{fix}`\n{out}"
    );
    assert!(
        stage(report, "checks")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("failed: models")),
        "{out}"
    );
}

// ---- Django ----------------------------------------------------------------------------------

const DJANGO_MODELS_WITH_PRICE: &str = r#"from django.db import models


class Widget(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.TextField(null=True)
    price = models.IntegerField()

    class Meta:
        db_table = "widgets"
"#;

fn checks_models_django_change_without_its_migration_fails_pre_push() {
    require(&[Need::Venv("python")]);
    let p = migrated("django", "django-without", &[], "");
    let (_p, out, report) = push(p, &[("shop/models.py", DJANGO_MODELS_WITH_PRICE)]);
    assert_models_failed(&out, &report, "python manage.py makemigrations");
    // The command's own output says what it would have written.
    let details = models_result(&report, &out)["details"].to_string();
    assert!(details.contains("price"), "{out}");
}

fn checks_models_django_change_with_its_migration_passes() {
    require(&[Need::Venv("python")]);
    let p = migrated("django", "django-with", &[], "");
    let models = DJANGO_MODELS_WITH_PRICE.replace("IntegerField()", "IntegerField(null=True)");
    let (_p, out, report) = push(
        p,
        &[
            ("shop/models.py", &models),
            (
                "shop/migrations/0003_widget_price.py",
                r#"from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_widget_name")]
    operations = [
        migrations.AddField(model_name="widget", name="price", field=models.IntegerField(null=True)),
    ]
"#,
            ),
        ],
    );
    out.code(exit::OK);
    assert_eq!(
        stage(&report, "migrate")["summary"],
        "applied 1 migration(s) with `django`",
        "{out}"
    );
    assert_eq!(check_status(&report, "models", &out), "passed", "{out}");
}

/// The models are watched paths of the Django preset: a push that changes only a model runs
/// the hook's pipeline.
fn checks_models_django_models_are_watched_by_the_pre_push_hook() {
    let p = Project::new("models_django_watch");
    copy_tree(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/django"),
        p.path(),
    );
    let p = p
        .config("[tool]\nname = \"django\"\n")
        .file("shop/models/extra.py", "")
        .commit();
    let config = config::load(&p.path().join("neon-migrate.toml")).expect("load config");
    let watch = config.tool.watch.expect("the Django preset has watched paths");
    for model in ["shop/models.py", "shop/models/extra.py"] {
        assert!(
            watch.contains(&p.path().join(model)),
            "{model} is not watched: {watch:?}"
        );
    }
}

// ---- Alembic ---------------------------------------------------------------------------------

/// env.py with the models' metadata as `target_metadata` (the fixture's has none).
const ALEMBIC_ENV: &str = r#"import os
import sys

from alembic import context
from sqlalchemy import create_engine

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from models import metadata  # noqa: E402

url = os.environ["DATABASE_URL"]


def run_migrations_offline():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"#;

const ALEMBIC_MODELS: &str = r#"from sqlalchemy import Column, Integer, MetaData, Table, Text

metadata = MetaData()
Table(
    "widgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
)
"#;

fn alembic_models_with_price(nullable: bool) -> String {
    ALEMBIC_MODELS.replace(
        "    Column(\"name\", Text),\n",
        &format!("    Column(\"name\", Text),\n    Column(\"price\", Integer, nullable={}),\n", if nullable { "True" } else { "False" }),
    )
}

fn alembic_project(test: &str) -> Project {
    migrated(
        "alembic",
        test,
        &[("alembic/env.py", ALEMBIC_ENV), ("models.py", ALEMBIC_MODELS)],
        "",
    )
}

fn checks_models_alembic_change_without_its_revision_fails_pre_push() {
    require(&[Need::Venv("alembic")]);
    let p = alembic_project("alembic-without");
    let models = alembic_models_with_price(false);
    let (_p, out, report) = push(p, &[("models.py", &models)]);
    assert_models_failed(&out, &report, "alembic revision --autogenerate");
    let details = models_result(&report, &out)["details"].to_string();
    assert!(details.contains("add_column"), "{out}");
}

fn checks_models_alembic_change_with_its_revision_passes() {
    require(&[Need::Venv("alembic")]);
    let p = alembic_project("alembic-with");
    let models = alembic_models_with_price(true);
    let (_p, out, report) = push(
        p,
        &[
            ("models.py", &models),
            (
                "alembic/versions/0003_widget_price.py",
                r#""""widget price"""
revision = "0003"
down_revision = "0002"

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("widgets", sa.Column("price", sa.Integer, nullable=True))


def downgrade():
    op.drop_column("widgets", "price")
"#,
            ),
        ],
    );
    out.code(exit::OK);
    assert_eq!(
        stage(&report, "migrate")["summary"],
        "applied 1 migration(s) with `alembic`",
        "{out}"
    );
    assert_eq!(check_status(&report, "models", &out), "passed", "{out}");
}

/// The fixture's env.py has no `target_metadata`: `alembic check` has nothing to compare, and
/// the check says so instead of failing or passing.
fn checks_models_alembic_without_target_metadata_is_not_run() {
    require(&[Need::Venv("alembic")]);
    let p = migrated("alembic", "alembic-no-metadata", &[], "");
    let (_p, out, report) = push(p, &[("README", "a change\n")]);
    out.code(exit::OK);
    let models = models_result(&report, &out);
    assert_eq!(models["status"], "not-run", "{out}");
    assert!(
        models["summary"]
            .as_str()
            .is_some_and(|s| s.contains("`target_metadata` is None")),
        "{out}"
    );
}

// ---- Drizzle ---------------------------------------------------------------------------------

/// Drizzle Kit cannot compare its schema with the database without writing: NOT RUN, loudly,
/// and a failure under `required = true`.
fn checks_models_drizzle_without_a_model_check_command_is_not_run_and_said() {
    require(&[Need::Npm("drizzle-kit")]);
    let schema = r#"import { integer, pgTable, serial, text } from "drizzle-orm/pg-core";

export const widgets = pgTable("widgets", {
  id: serial("id").primaryKey(),
  name: text("name"),
  price: integer("price").notNull(),
});
"#;
    let p = migrated("drizzle", "drizzle", &[], "");
    let (p, out, report) = push(p, &[("schema.ts", schema)]);
    out.code(exit::OK);
    let models = models_result(&report, &out);
    assert_eq!(models["status"], "not-run", "{out}");
    assert!(
        models["summary"]
            .as_str()
            .is_some_and(|s| s.contains("model-check-command")),
        "{out}"
    );
    let summary = stage(&report, "checks")["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("NOT RUN: models")
            && summary.contains("the ORM models were NOT checked"),
        "the summary must say the models were not checked\n{out}"
    );
    // Required: the run fails.
    let generated = std::fs::read_to_string(p.path().join("neon-migrate.toml")).expect("config");
    let p = p
        .config_raw(&format!("{generated}\n[checks.models]\nrequired = true\n"))
        .commit();
    let out = nm(&p, &["run", "pre-push", "--json"]);
    out.code(exit::CHECK_FAILED);
    assert_eq!(check_status(&out.json(), "models", &out), "not-run", "{out}");
    p.assert_no_test_db_branches();
}

// ---- Prisma ----------------------------------------------------------------------------------

/// The fixture runs Prisma 6 with a driver adapter (the Wasm schema engine), where
/// `migrate diff` reads no database: NOT RUN with why, not a failure blamed on the models.
fn checks_models_prisma_with_a_driver_adapter_is_not_run() {
    require(&[Need::Npm("prisma")]);
    let p = migrated("prisma", "prisma", &[], "");
    let (_p, out, report) = push(p, &[("README", "a change\n")]);
    out.code(exit::OK);
    let models = models_result(&report, &out);
    assert_eq!(models["status"], "not-run", "{out}");
    assert!(
        models["summary"]
            .as_str()
            .is_some_and(|s| s.contains("driver adapter")),
        "{out}"
    );
}

//! `neon-migrate generate <NAME>`: the next migration for the built-in `sql` tool, from a
//! desired schema file.
//!
//! The fallback for repositories without a migration system: the desired schema
//! (`schema.sql`) is loaded into a scratch database, the main Neon database branch plus the
//! pending migrations is loaded into a test Neon database branch, and the plan between them
//! becomes the next file. Destructive plans need `--allow-destructive`.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::app::schema_source::{self, Scratch};
use crate::app::SetupError;
use crate::checks::integrity::hazards::{self, Offending};
use crate::config;
use crate::exit::{self, Failure};
use crate::schema::{self, Plan, PlanOptions};
use crate::secret::Redactor;

use super::Context;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum GenerateError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    #[error("`generate` writes files for the built-in `sql` tool, but this project uses `{0}`")]
    #[diagnostic(help("use your tool's own generator, or set `name = \"sql\"` under [tool]"))]
    NotSqlTool(String),
    #[error("give the migration a name, e.g. `neon-migrate generate add_orders`")]
    Unnamed,
    #[error("the desired schema {} does not exist", .0.display())]
    #[diagnostic(help("write the schema you want in that file, or pass `--schema FILE`"))]
    NoSchema(PathBuf),
    /// A side could not be read (redacted).
    #[error("{0}")]
    Source(String),
    #[error("the desired schema has changes the schema engine cannot express:{}", list(.0))]
    Unsupported(Vec<String>),
    #[error("the plan deletes data:{}", list(.0))]
    #[diagnostic(help("if that is intended, run again with `--allow-destructive`"))]
    DeletesData(Vec<String>),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `\n  - item` per item, each on its one line (a name's line break is written `\n`: a line of
/// its own could be a GitHub Actions workflow command in a CI log).
fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\n  - {}", schema::comment_text(i)))
        .collect()
}

impl Failure for GenerateError {
    fn exit_code(&self) -> i32 {
        match self {
            GenerateError::Setup(e) => e.exit_code(),
            GenerateError::NotSqlTool(_) | GenerateError::NoSchema(_) => exit::CONFIG,
            GenerateError::Unnamed => exit::USAGE,
            GenerateError::Source(_) => exit::PROVIDER,
            GenerateError::Unsupported(_) | GenerateError::DeletesData(_) => exit::CHECK_FAILED,
            GenerateError::Write { .. } => exit::INTERNAL,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            GenerateError::Setup(e) => e.rendered(),
            _ => None,
        }
    }
}

/// The flags of `generate`.
pub(crate) struct Options {
    pub name: String,
    pub schema: PathBuf,
    pub allow_destructive: bool,
}

pub(crate) async fn run(cx: &Context, o: &Options) -> Result<i32, GenerateError> {
    let (config, git) = cx.setup()?;
    let redactor = Redactor::new();
    let config::ToolKind::Sql { migrations_dir } = &config.tool.kind else {
        return Err(GenerateError::NotSqlTool(config.tool.name.clone()));
    };
    let slug = crate::naming::sanitize(&o.name, 60).replace('/', "_");
    if slug == "unnamed" {
        return Err(GenerateError::Unnamed);
    }
    let schema_path = if o.schema.is_absolute() {
        o.schema.clone()
    } else {
        config.root.join(&o.schema)
    };
    if !schema_path.is_file() {
        return Err(GenerateError::NoSchema(schema_path));
    }
    let source =
        |e: schema_source::SourceError| GenerateError::Source(redactor.redact(&e.to_string()));
    // Desired side: the schema file in a scratch database. Current side: the main Neon
    // database branch plus the pending migrations, on a test Neon database branch.
    let (desired, current) = tokio::join!(
        Scratch::load_sql(&config, &schema_path, &redactor),
        schema_source::with_pending_migrations(&config, &git, migrations_dir, &redactor)
    );
    // The copy of main is kept until its rows are counted; deleted whatever failed.
    let (copy, mut a, mut b) = match (current, desired) {
        (Ok((copy, a)), Ok((scratch, b))) => {
            scratch.finish().await;
            (copy, a, b)
        }
        (current, desired) => {
            // The desired side's error first, as before the copy was kept.
            let mut errors = Vec::new();
            match desired {
                Ok((scratch, _)) => scratch.finish().await,
                Err(e) => errors.push(e),
            }
            match current {
                Ok((copy, _)) => copy.finish().await,
                Err(e) => errors.push(e),
            }
            return Err(source(errors.remove(0)));
        }
    };

    // Members added by hand to an extension the schema file creates (`schema::extprobe`).
    {
        use crate::app::ext_probe::{probed, ProbeDb};
        if let Some(found) = probed(&a, &b, ProbeDb::Local, &config, &redactor).await {
            schema::extprobe::mark(Some(&mut a), &mut b, &found);
        }
    }
    let mut plan = schema::plan(&a, &b, &PlanOptions::default());
    // The rows the plan would fail on or change, counted on the copy of main it starts from.
    let counted = count_offending_rows(&mut plan, &a, &b, &copy.client).await;
    copy.finish().await;
    let counted = counted.unwrap_or_else(|e| {
        eprintln!(
            "warning: the rows the plan would fail on could not be counted: {}",
            redactor.redact(&e.to_string())
        );
        Vec::new()
    });
    // A statement sure to fail on main's rows (counted, or no cast) refuses the file, as in `diff`.
    plan.unsupported
        .extend(counted.iter().filter_map(|o| o.refusal.clone()));
    refuse(&plan, o.allow_destructive)?;
    if plan.statements.is_empty() {
        println!("no changes: the main Neon database branch plus the pending migrations already matches {}", schema_path.display());
        return Ok(exit::OK);
    }
    let file = write(migrations_dir, &slug, o, &plan)?;
    println!(
        "wrote {} ({} statement(s))",
        file.display(),
        plan.statements.len()
    );
    for k in plan.hazard_kinds() {
        println!(
            "  hazard: {}",
            serde_json::to_value(k)
                .expect("enum")
                .as_str()
                .unwrap_or("?")
        );
    }
    for o in &counted {
        let sql = schema::printable_sql(&plan.statements[o.statement].sql)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        println!(
            "  rows: {} — {}",
            schema::comment_text(&o.message),
            schema::comment_text(&sql)
        );
    }
    println!("next: review it, then `neon-migrate run pre-push` proves it on a test Neon database branch");
    Ok(exit::OK)
}

/// The rows each statement of `plan` would fail on or silently change, counted on the copy
/// of main it starts from ([`crate::checks::integrity::hazards`]), as one more hazard of
/// that statement: in the file's comments and on the terminal.
async fn count_offending_rows(
    plan: &mut Plan,
    a: &schema::Model,
    b: &schema::Model,
    client: &tokio_postgres::Client,
) -> Result<Vec<Offending>, crate::checks::integrity::IntegrityError> {
    hazards::annotate(plan, a, b, client, "main (with the pending migrations)").await
}

/// A plan `generate` does not write: changes it cannot express, or data deleted without
/// `--allow-destructive`.
fn refuse(plan: &Plan, allow_destructive: bool) -> Result<(), GenerateError> {
    if !plan.unsupported.is_empty() {
        return Err(GenerateError::Unsupported(
            plan.unsupported.iter().map(|u| u.to_string()).collect(),
        ));
    }
    if plan.statements.is_empty() || !plan.deletes_data() || allow_destructive {
        return Ok(());
    }
    let mut lines = Vec::new();
    for s in &plan.statements {
        for hz in s
            .hazards
            .iter()
            .filter(|h| h.kind == schema::HazardKind::DeletesData)
        {
            lines.push(format!(
                "{} ({})",
                s.sql.lines().next().unwrap_or(""),
                hz.message
            ));
        }
    }
    Err(GenerateError::DeletesData(lines))
}

/// Writes the migration file; returns its path.
/// A constraint added `NOT VALID` and validated later is online-safe only with a commit in
/// between: in one transaction the lock the `ADD` took is held through the validating scan.
/// Such a plan is written to run statement by statement, as `schema::apply` runs it.
fn validates_separately(plan: &Plan) -> bool {
    plan.statements
        .iter()
        .any(|s| s.sql.contains(" VALIDATE CONSTRAINT "))
}

/// The session's `search_path`, kept in a setting of its own before the plan pins it.
const SAVE_SEARCH_PATH: &str = "SELECT pg_catalog.set_config('neon_migrate.search_path', pg_catalog.current_setting('search_path'), false);\n";
/// The session's `search_path` again, after the plan.
const RESTORE_SEARCH_PATH: &str = "\nSELECT pg_catalog.set_config('search_path', pg_catalog.current_setting('neon_migrate.search_path'), false);\n";

fn write(
    migrations_dir: &Path,
    slug: &str,
    o: &Options,
    plan: &Plan,
) -> Result<PathBuf, GenerateError> {
    let stamp = next_version(
        migrations_dir,
        Utc::now().format("%Y%m%d%H%M%S").to_string(),
    );
    let file = migrations_dir.join(format!("{stamp}_{slug}.sql"));
    let mut text = String::new();
    if !plan.transactional() || validates_separately(plan) {
        text.push_str(&format!("-- {}\n", crate::tools::sql::NO_TRANSACTION));
    }
    text.push_str(&format!(
        "-- Generated by `neon-migrate generate {}` from {} on {}.\n",
        schema::comment_text(&o.name),
        schema::comment_text(&o.schema.display().to_string()),
        crate::time::rfc3339(Utc::now())
    ));
    // The plan pins `search_path` (`schema::PIN_SEARCH_PATH`); the session's own is kept
    // beside it and set again at the end, so the later files the `sql` tool runs in the same
    // session resolve names as before this one.
    text.push_str(SAVE_SEARCH_PATH);
    text.push_str(&schema::render_sql(plan));
    text.push_str(RESTORE_SEARCH_PATH);
    // Never over an existing file: a pending migration of the same second and name is kept.
    std::fs::create_dir_all(migrations_dir)
        .and_then(|_| {
            use std::io::Write as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)?
                .write_all(text.as_bytes())
        })
        .map_err(|source| GenerateError::Write {
            path: file.clone(),
            source,
        })?;
    Ok(file)
}

/// The version of the next migration: `now` (`YYYYMMDDHHMMSS`), or one more than the highest
/// version already in `dir` when that is not below it — the plan was made from every pending
/// migration, so the new file must run after all of them (the sql tool orders by version).
fn next_version(dir: &Path, now: String) -> String {
    let highest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
            name.ends_with(".sql")
                .then(|| digits.parse::<u128>().ok())
                .flatten()
        })
        .max();
    match (highest, now.parse::<u128>()) {
        (Some(h), Ok(n)) if h >= n => format!("{:0width$}", h + 1, width = now.len()),
        _ => now,
    }
}

//! `neon-migrate demo`: the whole workflow on a sample repository and the embedded Postgres,
//! with no account and nothing to configure.
//!
//! Scenario 1: git branch `feature/add-orders` adds a migration; `pre-push` proves it on a
//! test Neon database branch; after the merge, `deploy` proves it again and applies it to the
//! main Neon database branch. Scenario 2: a migration that loses rows breaks a declared
//! check; the pipeline fails, the test Neon database branch is deleted, and the demo queries
//! both databases to show that the main Neon database branch did not change.

mod sample;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app;
use crate::config::{self, Config};
use crate::exit::{self, Failure};
use crate::git::{self, GitError};
use crate::output::Outputs;
use crate::pg::{self, PgError};
use crate::providers::local::LocalProvider;
use crate::providers::{Provider, ProviderError};
use crate::secret::{Redactor, Secret};
use crate::tools::{sql::SqlTool, Target, Tool, ToolContext, ToolError};

use sample::{commit, switch, write, CUSTOMERS, MAIN_DB};

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DemoError {
    #[error("{} is not empty; give an empty or new folder (`neon-migrate demo DIR`)", .0.display())]
    NotEmpty(PathBuf),
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    /// The fast-forward of the main git branch.
    #[error("{0}")]
    Merge(git2::Error),
    #[error(transparent)]
    Discover(#[from] GitError),
    #[error(transparent)]
    Config(#[from] config::LoadError),
    #[error("the demo's config must use the local provider")]
    NotLocal,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error(transparent)]
    Postgres(#[from] PgError),
    #[error("{}", pg::describe(.0))]
    Statement(#[from] tokio_postgres::Error),
    #[error("{scenario} failed with exit code {code}")]
    Scenario { scenario: &'static str, code: i32 },
}

/// The demo failed: it says so and ends with the code of what failed (README, "Exit codes").
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("demo failed: {0}")]
pub(crate) struct DemoFailed(#[from] DemoError);

impl Failure for DemoFailed {
    fn exit_code(&self) -> i32 {
        match &self.0 {
            // The folder came from the command line.
            DemoError::NotEmpty(_) => exit::USAGE,
            DemoError::Provider(_) | DemoError::Postgres(_) | DemoError::Statement(_) => {
                exit::PROVIDER
            }
            DemoError::Tool(_) => exit::MIGRATION_FAILED,
            DemoError::Config(_) | DemoError::NotLocal => exit::CONFIG,
            DemoError::Git(_) | DemoError::Merge(_) | DemoError::Discover(_) => exit::GIT,
            DemoError::Create { .. }
            | DemoError::Write { .. }
            | DemoError::Io(_)
            | DemoError::Scenario { .. } => exit::INTERNAL,
        }
    }
}

fn step(title: &str) {
    println!("\n━━ {title}");
}

/// Runs the demo in `dir` (default: a new temporary folder); returns the exit code.
pub(crate) async fn run(dir: Option<PathBuf>) -> Result<i32, DemoFailed> {
    let started = Instant::now();
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("neon-migrate-demo-{}", std::process::id()))
    });
    let (dir, repo, config) = sample_repository(&dir)?;
    let redactor = Redactor::new();
    let config::ProviderConfig::Local(local) = &config.provider else {
        return Err(DemoError::NotLocal.into());
    };
    step("Main Neon database branch: the embedded Postgres, seeded");
    let provider = LocalProvider::open(local, None, &redactor)
        .await
        .map_err(DemoError::from)?;
    println!("  {}", provider.describe());
    let main_url = seed_main(&provider, &dir, &config, &redactor).await?;
    scenario_one(&dir, &repo, &config, &main_url).await?;
    let ok = scenario_two(&dir, &repo, &config, &provider, &main_url).await?;
    step(if ok {
        "Demo finished: every claim above was verified"
    } else {
        "Demo finished: a verification FAILED"
    });
    println!(
        "  {:.1} s in all; the sample repository stays in {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    println!("  try: cd {} && neon-migrate plan deploy", dir.display());
    Ok(if ok { exit::OK } else { exit::INTERNAL })
}

/// The sample repository in `dir` (empty or new): the config and the first migration,
/// committed on git branch `main`.
fn sample_repository(dir: &Path) -> Result<(PathBuf, git2::Repository, Config), DemoError> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(DemoError::NotEmpty(dir.to_owned()));
    }
    std::fs::create_dir_all(dir).map_err(|source| DemoError::Create {
        path: dir.to_owned(),
        source,
    })?;
    let dir = dir.canonicalize()?;
    step(&format!("Sample repository in {}", dir.display()));
    write(&dir, "neon-migrate.toml", sample::CONFIG)?;
    write(&dir, "migrations/0001_customers.sql", sample::M1)?;
    let repo = git2::Repository::init_opts(
        &dir,
        git2::RepositoryInitOptions::new().initial_head("main"),
    )?;
    commit(&repo, "customers")?;
    println!("  git branch main: neon-migrate.toml, migrations/0001_customers.sql");
    let config = config::load(&dir.join(config::FILE_NAME))?;
    Ok((dir, repo, config))
}

/// A clean main database (the demo can be rerun) with the first migration and its
/// customers; returns its URL.
async fn seed_main(
    provider: &LocalProvider,
    dir: &Path,
    config: &Config,
    redactor: &Redactor,
) -> Result<Secret<String>, DemoError> {
    let admin = pg::connect(&provider.url_of("postgres")).await?;
    for leftover in provider.list().await? {
        if leftover.parent == MAIN_DB {
            provider.delete(&leftover.id).await?;
        }
    }
    for sql in [
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        "CREATE DATABASE {}",
    ] {
        admin
            .batch_execute(&sql.replace("{}", &pg::ident(MAIN_DB)))
            .await?;
    }
    let main_url = provider.url_of(MAIN_DB);
    let tool = SqlTool::new(dir.join("migrations"));
    let vars = crate::template::Vars::default();
    let target = Target {
        name: "main Neon database branch".into(),
        url: main_url.clone(),
    };
    tool.apply(&ToolContext {
        timeouts: None,
        connection_check: None,
        on_main: true,
        config,
        redactor,
        vars: &vars,
        target,
    })
    .await?;
    let main = pg::connect(&main_url).await?;
    main.batch_execute(&format!(
        "insert into customers (email) select 'customer' || g || '@example.com' from generate_series(1, {CUSTOMERS}) g"
    ))
    .await?;
    // A session on the parent would block the template copy: let go of it while pipelines run.
    drop(main);
    println!("  database `{MAIN_DB}`: 0001_customers.sql applied, {CUSTOMERS} customers");
    Ok(main_url)
}

/// `run <pipeline>` in the sample repository, as the command line runs it.
async fn run_pipeline(dir: &Path, config: &Config, pipeline: &str) -> Result<i32, DemoError> {
    let git = git::discover(dir)?;
    let outputs = Outputs::from_env(false, None, Some(&git.root));
    Ok(
        match app::run_pipeline(config, &git, pipeline, &outputs).await {
            Ok(code) => code,
            Err(e) => super::report(&e),
        },
    )
}

/// Scenario 1: a new migration proven by `pre-push`, then applied by `deploy`.
async fn scenario_one(
    dir: &Path,
    repo: &git2::Repository,
    config: &Config,
    main_url: &Secret<String>,
) -> Result<(), DemoError> {
    step("Scenario 1 — git branch feature/add-orders adds a migration");
    switch(repo, "feature/add-orders")?;
    write(dir, "migrations/0002_add_orders.sql", sample::M2)?;
    commit(repo, "orders")?;
    println!(
        "  $ git checkout -b feature/add-orders; add migrations/0002_add_orders.sql; git commit"
    );
    println!("  $ neon-migrate run pre-push\n");
    let code = run_pipeline(dir, config, "pre-push").await?;
    if code != exit::OK {
        return Err(DemoError::Scenario {
            scenario: "scenario 1 pre-push",
            code,
        });
    }
    let orders_on_main = table_exists(main_url, "orders").await?;
    println!(
        "  verified: orders on the main Neon database branch: {} (pre-push never touches it)",
        yes_no(orders_on_main)
    );

    step("Scenario 1 — merged to the main git branch: deploy");
    switch(repo, "main")?;
    sample::fast_forward(repo, "main", "feature/add-orders")?;
    println!("  $ git checkout main; git merge --ff-only feature/add-orders");
    println!("  $ neon-migrate run deploy\n");
    let code = run_pipeline(dir, config, "deploy").await?;
    if code != exit::OK {
        return Err(DemoError::Scenario {
            scenario: "scenario 1 deploy",
            code,
        });
    }
    let orders = count(main_url, "select count(*) from orders").await?;
    println!("  verified: the main Neon database branch now has orders ({orders} rows)");
    Ok(())
}

/// Scenario 2: a migration that loses rows fails a check; returns whether every claim held.
async fn scenario_two(
    dir: &Path,
    repo: &git2::Repository,
    config: &Config,
    provider: &LocalProvider,
    main_url: &Secret<String>,
) -> Result<bool, DemoError> {
    step("Scenario 2 — git branch feature/dedupe-customers breaks a declared check");
    switch(repo, "feature/dedupe-customers")?;
    write(dir, "migrations/0003_dedupe_customers.sql", sample::M3)?;
    commit(repo, "dedupe customers")?;
    println!("  $ git checkout -b feature/dedupe-customers; add migrations/0003_dedupe_customers.sql; git commit");
    println!("  $ neon-migrate run pre-push\n");
    let before = count(main_url, "select count(*) from customers").await?;
    let code = run_pipeline(dir, config, "pre-push").await?;
    println!(
        "  exit code {code} (expected {}: CHECK_FAILED)",
        exit::CHECK_FAILED
    );

    let after = count(main_url, "select count(*) from customers").await?;
    let applied_on_main = count(
        main_url,
        "select count(*) from neon_migrate.schema_migrations where file = '0003_dedupe_customers.sql'",
    )
    .await?;
    let test_db = crate::providers::local::local_db_name("migrate/feature/dedupe-customers");
    let still_there = count(
        &provider.url_of("postgres"),
        &format!(
            "select count(*) from pg_database where datname = {}",
            pg::literal(&test_db)
        ),
    )
    .await?;
    println!(
        "  verified: test Neon database branch migrate/feature/dedupe-customers exists: {}",
        yes_no(still_there > 0)
    );
    println!(
        "  verified: customers on the main Neon database branch: {before} before, {after} after"
    );
    println!(
        "  verified: 0003_dedupe_customers.sql recorded on the main Neon database branch: {}",
        yes_no(applied_on_main > 0)
    );
    Ok(code == exit::CHECK_FAILED
        && still_there == 0
        && before == after
        && after == CUSTOMERS
        && applied_on_main == 0)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Short-lived connections: a session left open on the main database would block the next
/// template copy.
async fn table_exists(url: &Secret<String>, table: &str) -> Result<bool, DemoError> {
    let client = pg::connect(url).await?;
    let row = client
        .query_one("select to_regclass($1) is not null", &[&table])
        .await?;
    Ok(row.get(0))
}

async fn count(url: &Secret<String>, sql: &str) -> Result<i64, DemoError> {
    let client = pg::connect(url).await?;
    let row = client.query_one(sql, &[]).await?;
    Ok(row.get(0))
}

//! `neon-migrate demo`: the whole workflow on a sample repository and the embedded Postgres,
//! with no account and nothing to configure.
//!
//! Scenario 1: git branch `feature/add-orders` adds a migration; `pre-push` proves it on a
//! test Neon database branch; after the merge, `deploy` proves it again and applies it to the
//! main Neon database branch. Scenario 2: a migration that loses rows breaks a declared
//! check; the pipeline fails, the test Neon database branch is deleted, and the demo queries
//! both databases to show that the main Neon database branch did not change.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config;
use crate::exit;
use crate::git;
use crate::pg;
use crate::providers::local::LocalProvider;
use crate::providers::Provider;
use crate::secret::{Redactor, Secret};
use crate::tools::{sql::SqlTool, Target, Tool, ToolContext};

/// Database that plays the main Neon database branch in the demo.
const MAIN_DB: &str = "neon_migrate_demo";
const CUSTOMERS: i64 = 1000;

const CONFIG: &str = r#"# neon-migrate.toml — written by `neon-migrate demo`.
# Every key is documented in neon-migrate.toml.example.

[neon-database-branch]
# The test Neon database branch is named after the git branch, and expires on its own.
name = "migrate/{{git.branch}}"
ttl = "4h"

[provider]
# The embedded Postgres: neon-migrate starts it; a database plays the main Neon database branch.
kind = "local"
main-database = "neon_migrate_demo"

[tool]
# Plain SQL files in migrations/, applied in version order.
name = "sql"
migrations-dir = "migrations"

[[checks.sql]]
name = "no customer lost"
query = "select count(*) from customers"
expect-value = "1000"

[[checks.sql]]
name = "every order has a customer"
query = """
select count(*) = 0
  from orders o left join customers c on c.id = o.customer_id
 where to_regclass('orders') is not null and c.id is null
"""
expect-true = true
"#;

const M1: &str = "-- Customers, seeded with 1,000 rows on the main Neon database branch.
create table customers (
    id         bigint generated always as identity primary key,
    email      text not null unique,
    created_at timestamptz not null default now()
);
";

const M2: &str =
    "-- Orders: a new table, a foreign key and a trigger function (its body has semicolons).
create table orders (
    id          bigint generated always as identity primary key,
    customer_id bigint not null references customers (id),
    total_cents integer not null check (total_cents >= 0),
    updated_at  timestamptz not null default now()
);
create index orders_customer_id_idx on orders (customer_id);

create function orders_touch() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
create trigger orders_touch before update on orders for each row execute function orders_touch();

insert into orders (customer_id, total_cents)
select id, (id * 37) % 10000 from customers where id % 3 = 0;
";

const M3: &str = "-- A \"dedupe\" that deletes far more than duplicates: the checks must catch it.
delete from orders where customer_id % 10 = 0;
delete from customers where id % 10 = 0;
";

fn step(title: &str) {
    println!("\n━━ {title}");
}

/// Runs the demo; returns the exit code.
pub async fn run(dir: Option<PathBuf>) -> i32 {
    match demo(dir).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: demo failed: {e}");
            exit::INTERNAL
        }
    }
}

fn write(dir: &Path, rel: &str, text: &str) -> Result<(), String> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn commit(repo: &git2::Repository, message: &str) -> Result<git2::Oid, String> {
    let e = |e: git2::Error| format!("git: {e}");
    let mut index = repo.index().map_err(e)?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(e)?;
    index.write().map_err(e)?;
    let tree = repo.find_tree(index.write_tree().map_err(e)?).map_err(e)?;
    let sig = git2::Signature::now("neon-migrate demo", "demo@neon-migrate.invalid").map_err(e)?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .map_err(e)
}

fn switch(repo: &git2::Repository, git_branch: &str) -> Result<(), String> {
    let e = |e: git2::Error| format!("git: {e}");
    let head = repo.head().map_err(e)?.peel_to_commit().map_err(e)?;
    if repo
        .find_branch(git_branch, git2::BranchType::Local)
        .is_err()
    {
        repo.branch(git_branch, &head, false).map_err(e)?;
    }
    repo.set_head(&format!("refs/heads/{git_branch}"))
        .map_err(e)?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .map_err(e)
}

async fn demo(dir: Option<PathBuf>) -> Result<i32, String> {
    let started = Instant::now();
    let dir = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("neon-migrate-demo-{}", std::process::id())),
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(format!(
            "{} is not empty; give an empty or new folder (`neon-migrate demo DIR`)",
            dir.display()
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;

    step(&format!("Sample repository in {}", dir.display()));
    write(&dir, "neon-migrate.toml", CONFIG)?;
    write(&dir, "migrations/0001_customers.sql", M1)?;
    let repo = git2::Repository::init_opts(
        &dir,
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .map_err(|e| format!("git: {e}"))?;
    commit(&repo, "customers")?;
    println!("  git branch main: neon-migrate.toml, migrations/0001_customers.sql");

    let config = config::load(&dir.join(config::FILE_NAME)).map_err(|e| e.to_string())?;
    let config::ProviderConfig::Local(local) = &config.provider else {
        return Err("the demo's config must use the local provider".into());
    };
    let redactor = Redactor::new();

    step("Main Neon database branch: the embedded Postgres, seeded");
    // Start from a clean main database so the demo can be rerun.
    let provider = LocalProvider::open(local, None, &redactor)
        .await
        .map_err(|e| e.message)?;
    println!("  {}", provider.describe());
    let admin = pg::connect(&provider.url_of("postgres"))
        .await
        .map_err(|e| e.message)?;
    for leftover in provider.list().await.map_err(|e| e.message)? {
        if leftover.parent == MAIN_DB {
            provider.delete(&leftover.id).await.map_err(|e| e.message)?;
        }
    }
    for sql in [
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        "CREATE DATABASE {}",
    ] {
        admin
            .batch_execute(&sql.replace("{}", &pg::ident(MAIN_DB)))
            .await
            .map_err(|e| pg::describe(&e))?;
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
        config: &config,
        redactor: &redactor,
        vars: &vars,
        target,
    })
    .await
    .map_err(|e| e.to_string())?;
    let main = pg::connect(&main_url).await.map_err(|e| e.message)?;
    main.batch_execute(&format!(
        "insert into customers (email) select 'customer' || g || '@example.com' from generate_series(1, {CUSTOMERS}) g"
    ))
    .await
    .map_err(|e| pg::describe(&e))?;
    // A session on the parent would block the template copy: let go of it while pipelines run.
    drop(main);
    println!("  database `{MAIN_DB}`: 0001_customers.sql applied, {CUSTOMERS} customers");

    step("Scenario 1 — git branch feature/add-orders adds a migration");
    switch(&repo, "feature/add-orders")?;
    write(&dir, "migrations/0002_add_orders.sql", M2)?;
    commit(&repo, "orders")?;
    println!(
        "  $ git checkout -b feature/add-orders; add migrations/0002_add_orders.sql; git commit"
    );
    println!("  $ neon-migrate run pre-push\n");
    let git = git::discover(&dir).map_err(|e| e.to_string())?;
    let code = crate::cli::run(&config, &git, "pre-push", false).await;
    if code != exit::OK {
        return Err(format!("scenario 1 pre-push failed with exit code {code}"));
    }
    let orders_on_main = table_exists(&main_url, "orders").await?;
    println!(
        "  verified: orders on the main Neon database branch: {} (pre-push never touches it)",
        yes_no(orders_on_main)
    );

    step("Scenario 1 — merged to the main git branch: deploy");
    switch(&repo, "main")?;
    let head = repo
        .find_branch("feature/add-orders", git2::BranchType::Local)
        .map_err(|e| e.to_string())?
        .get()
        .target();
    if let Some(oid) = head {
        repo.reference("refs/heads/main", oid, true, "fast-forward")
            .map_err(|e| e.to_string())?;
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .map_err(|e| e.to_string())?;
    }
    println!("  $ git checkout main; git merge --ff-only feature/add-orders");
    println!("  $ neon-migrate run deploy\n");
    let git = git::discover(&dir).map_err(|e| e.to_string())?;
    let code = crate::cli::run(&config, &git, "deploy", false).await;
    if code != exit::OK {
        return Err(format!("scenario 1 deploy failed with exit code {code}"));
    }
    let orders = count(&main_url, "select count(*) from orders").await?;
    println!("  verified: the main Neon database branch now has orders ({orders} rows)");

    step("Scenario 2 — git branch feature/dedupe-customers breaks a declared check");
    switch(&repo, "feature/dedupe-customers")?;
    write(&dir, "migrations/0003_dedupe_customers.sql", M3)?;
    commit(&repo, "dedupe customers")?;
    println!("  $ git checkout -b feature/dedupe-customers; add migrations/0003_dedupe_customers.sql; git commit");
    println!("  $ neon-migrate run pre-push\n");
    let before = count(&main_url, "select count(*) from customers").await?;
    let git = git::discover(&dir).map_err(|e| e.to_string())?;
    let code = crate::cli::run(&config, &git, "pre-push", false).await;
    println!(
        "  exit code {code} (expected {}: CHECK_FAILED)",
        exit::CHECK_FAILED
    );

    let after = count(&main_url, "select count(*) from customers").await?;
    let applied_on_main = count(
        &main_url,
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

    let ok = code == exit::CHECK_FAILED
        && still_there == 0
        && before == after
        && after == CUSTOMERS
        && applied_on_main == 0;
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

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Short-lived connections: a session left open on the main database would block the next
/// template copy.
async fn table_exists(url: &Secret<String>, table: &str) -> Result<bool, String> {
    let client = pg::connect(url).await.map_err(|e| e.message)?;
    let row = client
        .query_one("select to_regclass($1) is not null", &[&table])
        .await
        .map_err(|e| pg::describe(&e))?;
    Ok(row.get(0))
}

async fn count(url: &Secret<String>, sql: &str) -> Result<i64, String> {
    let client = pg::connect(url).await.map_err(|e| e.message)?;
    let row = client
        .query_one(sql, &[])
        .await
        .map_err(|e| pg::describe(&e))?;
    Ok(row.get(0))
}

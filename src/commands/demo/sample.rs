//! The demo's sample repository: its config, its three migrations, and the git steps.

use std::path::Path;

use super::DemoError;

/// Database that plays the main Neon database branch in the demo.
pub(super) const MAIN_DB: &str = "neon_migrate_demo";
pub(super) const CUSTOMERS: i64 = 1000;

pub(super) const CONFIG: &str = r#"# neon-migrate.toml — written by `neon-migrate demo`.
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

pub(super) const M1: &str = "-- Customers, seeded with 1,000 rows on the main Neon database branch.
create table customers (
    id         bigint generated always as identity primary key,
    email      text not null unique,
    created_at timestamptz not null default now()
);
";

pub(super) const M2: &str =
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

pub(super) const M3: &str =
    "-- A \"dedupe\" that deletes far more than duplicates: the checks must catch it.
delete from orders where customer_id % 10 = 0;
delete from customers where id % 10 = 0;
";

pub(super) fn write(dir: &Path, rel: &str, text: &str) -> Result<(), DemoError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| DemoError::Create {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(&path, text).map_err(|source| DemoError::Write { path, source })
}

pub(super) fn commit(repo: &git2::Repository, message: &str) -> Result<git2::Oid, DemoError> {
    let mut index = repo.index()?;
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = git2::Signature::now("neon-migrate demo", "demo@neon-migrate.invalid")?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    Ok(repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?)
}

pub(super) fn switch(repo: &git2::Repository, git_branch: &str) -> Result<(), DemoError> {
    let head = repo.head()?.peel_to_commit()?;
    if repo
        .find_branch(git_branch, git2::BranchType::Local)
        .is_err()
    {
        repo.branch(git_branch, &head, false)?;
    }
    repo.set_head(&format!("refs/heads/{git_branch}"))?;
    Ok(repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?)
}

/// `git merge --ff-only <git_branch>` into the checked-out git branch `into`.
pub(super) fn fast_forward(
    repo: &git2::Repository,
    into: &str,
    git_branch: &str,
) -> Result<(), DemoError> {
    let merge = DemoError::Merge;
    let head = repo
        .find_branch(git_branch, git2::BranchType::Local)
        .map_err(merge)?
        .get()
        .target();
    if let Some(oid) = head {
        repo.reference(&format!("refs/heads/{into}"), oid, true, "fast-forward")
            .map_err(merge)?;
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .map_err(merge)?;
    }
    Ok(())
}

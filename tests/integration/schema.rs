//! The schema engine's correctness proof: one trial per fixture under `tests/schema_fixtures/`.
//!
//! A fixture is an (A, B) pair of schemas in one file:
//!
//! ```text
//! -- what the fixture is about (free text)
//! -- [a]
//! create table t (id int);
//! -- [b]
//! create table t (id bigint);
//! -- [hazards] access_exclusive_lock, table_rewrite
//! -- [sql] ALTER COLUMN id TYPE bigint        (optional, repeatable: the plan contains this)
//! -- [no-sql] COMMENT ON                      (optional, repeatable: no statement contains this)
//! -- [unsupported] partitioning               (optional, repeatable: the plan reports this)
//! -- [hazard-text] gains SELECT                (optional, repeatable: a hazard says this)
//! -- [tablespaces] f720_ts1, f720_ts2         (optional: created in place, cluster-wide, first)
//! ```
//!
//! The oracle, on two fresh databases of the shared test cluster: load A and B; introspect
//! both; plan A → B; the set of hazard kinds is exactly `[hazards]`; apply the plan to A with
//! `schema::apply`; `pg_dump --schema-only` of A equals B's after normalization; A now has B's
//! fingerprint and the same catalog fingerprint (every user-visible catalog row, see
//! `schema::catalog`); re-introspecting A and re-planning against B gives an empty plan. A fixture
//! with `[unsupported]` expects the plan to report those changes instead: the rest of its plan
//! must still apply, and the unsupported report must survive the re-plan (it is never silently
//! dropped) — its dumps are not compared, since the difference is the point.
//!
//! Run them alone with `cargo test --test integration schema_engine::`; on another
//! PostgreSQL with `NEON_MIGRATE_PG_BIN=<bin folder>` (the harness then uses its own cluster).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Failed, Trial};
use neon_migrate::pg;
use neon_migrate::schema::{self, Model, Plan, PlanOptions};
use neon_migrate::secret::Secret;
use tokio_postgres::Client;

use crate::support::{cluster, query, runtime, MAIN_DB_PREFIX};

const PREFIX: &str = "schema_engine::";

/// Every trial of the schema engine: one per fixture, plus the fingerprint round trips.
pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for path in fixture_paths() {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        let name = format!("{PREFIX}fixture::{stem}");
        out.push(Trial::test(name.clone(), move || {
            let _machine = crate::hold(&name);
            let fixture = Fixture::read(&path)?;
            runtime().block_on(fixture.check())
        }));
    }
    out.push(Trial::test(
        format!("{PREFIX}fingerprint_is_stable_and_sees_a_one_column_change"),
        || {
            let _machine = crate::shared();
            runtime().block_on(fingerprint_round_trip())
        },
    ));
    out.push(Trial::test(
        format!("{PREFIX}index_definitions_are_the_servers"),
        || {
            let _machine = crate::shared();
            runtime().block_on(index_definitions())
        },
    ));
    out.push(Trial::test(
        format!("{PREFIX}constraint_definitions_are_the_servers"),
        || {
            let _machine = crate::shared();
            runtime().block_on(constraint_definitions())
        },
    ));
    out.push(Trial::test(
        format!("{PREFIX}fixture_suite_is_large_enough"),
        || {
            let n = fixture_paths().len();
            if n < 60 {
                return Err(
                    format!("only {n} fixtures under tests/schema_fixtures (want ≥ 60)").into(),
                );
            }
            Ok(())
        },
    ));
    out
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema_fixtures")
}

fn fixture_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("tests/schema_fixtures exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    paths
}

/// One (A, B) pair and what the plan between them must look like.
#[derive(Debug, Default)]
struct Fixture {
    name: String,
    a: String,
    b: String,
    hazards: Option<BTreeSet<String>>,
    sql: Vec<String>,
    no_sql: Vec<String>,
    unsupported: Vec<String>,
    hazard_text: Vec<String>,
    /// Tablespaces the fixture uses (cluster-wide, created before A and B are loaded).
    tablespaces: Vec<String>,
}

impl Fixture {
    fn read(path: &Path) -> Result<Fixture, Failed> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut f = Fixture {
            name: path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into(),
            ..Default::default()
        };
        let mut section: Option<char> = None;
        for line in text.lines() {
            let t = line.trim();
            if t == "-- [a]" {
                section = Some('a');
            } else if t == "-- [b]" {
                section = Some('b');
            } else if let Some(rest) = t.strip_prefix("-- [hazards]") {
                section = None;
                let kinds = rest
                    .split(',')
                    .map(|k| k.trim().to_owned())
                    .filter(|k| !k.is_empty());
                f.hazards = Some(kinds.collect());
            } else if let Some(rest) = t.strip_prefix("-- [sql]") {
                section = None;
                f.sql.push(rest.trim().to_owned());
            } else if let Some(rest) = t.strip_prefix("-- [no-sql]") {
                section = None;
                f.no_sql.push(rest.trim().to_owned());
            } else if let Some(rest) = t.strip_prefix("-- [unsupported]") {
                section = None;
                f.unsupported.push(rest.trim().to_owned());
            } else if let Some(rest) = t.strip_prefix("-- [hazard-text]") {
                section = None;
                f.hazard_text.push(rest.trim().to_owned());
            } else if let Some(rest) = t.strip_prefix("-- [tablespaces]") {
                section = None;
                let names = rest.split(',').map(|k| k.trim().to_owned());
                f.tablespaces.extend(names.filter(|k| !k.is_empty()));
            } else if t.starts_with("-- [") {
                return Err(format!("{}: unknown section `{t}`", path.display()).into());
            } else {
                match section {
                    Some('a') => f.a.push_str(&format!("{line}\n")),
                    Some('b') => f.b.push_str(&format!("{line}\n")),
                    _ => {}
                }
            }
        }
        if f.hazards.is_none() {
            return Err(format!(
                "{}: no `-- [hazards]` line (write `-- [hazards]` alone for none)",
                path.display()
            )
            .into());
        }
        Ok(f)
    }

    async fn check(&self) -> Result<(), Failed> {
        let pid = std::process::id();
        let short: String = self.name.chars().take(40).collect();
        let db_a = format!("{MAIN_DB_PREFIX}schema_{short}_a_{pid}");
        let db_b = format!("{MAIN_DB_PREFIX}schema_{short}_b_{pid}");
        let result = self.check_on(&db_a, &db_b).await;
        for db in [&db_a, &db_b] {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(db));
            query("postgres", &drop)
                .await
                .map_err(|e| format!("cannot drop {db}: {e}"))?;
        }
        result.map_err(Failed::from)
    }

    async fn check_on(&self, db_a: &str, db_b: &str) -> Result<(), String> {
        for space in &self.tablespaces {
            tablespace(space).await?;
        }
        let (ca, cb) = tokio::try_join!(fresh_db(db_a, &self.a), fresh_db(db_b, &self.b))?;
        let excluded = schema::default_excluded();
        let (a, b) = tokio::try_join!(
            schema::introspect(&ca, &excluded),
            schema::introspect(&cb, &excluded)
        )
        .map_err(|e| e.to_string())?;
        let plan = schema::plan(&a, &b, &PlanOptions::default());
        let shown = || schema::render_sql(&plan);

        // The plan's shape: hazards, wanted statements, unsupported reports, invariants.
        let kinds: BTreeSet<String> = plan
            .hazard_kinds()
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .expect("enum")
                    .as_str()
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect();
        let want = self.hazards.clone().unwrap_or_default();
        if kinds != want {
            return Err(format!(
                "hazard kinds differ: the plan has {kinds:?}, the fixture expects {want:?}\n--- plan ---\n{}",
                shown()
            ));
        }
        if let Some(needle) = self
            .no_sql
            .iter()
            .find(|n| plan.statements.iter().any(|s| s.sql.contains(n.as_str())))
        {
            return Err(format!(
                "a statement contains `{needle}`\n--- plan ---\n{}",
                shown()
            ));
        }
        for needle in &self.sql {
            if !plan
                .statements
                .iter()
                .any(|s| s.sql.contains(needle.as_str()))
            {
                return Err(format!(
                    "no statement contains `{needle}`\n--- plan ---\n{}",
                    shown()
                ));
            }
        }
        if let Some(needle) = self.hazard_text.iter().find(|n| {
            !plan
                .statements
                .iter()
                .any(|s| s.hazards.iter().any(|h| h.message.contains(n.as_str())))
        }) {
            return Err(format!(
                "no hazard says `{needle}`\n--- plan ---\n{}",
                shown()
            ));
        }
        check_invariants(&plan).map_err(|e| format!("{e}\n--- plan ---\n{}", shown()))?;
        check_unsupported(&self.unsupported, &plan)
            .map_err(|e| format!("{e}\n--- plan ---\n{}", shown()))?;
        if plan.statements.is_empty() && self.unsupported.is_empty() {
            return Err(
                "the plan is empty: A and B do not differ (a fixture that cannot fail)".into(),
            );
        }

        // Apply to A, on a new session: it takes the database's own settings (its
        // `search_path`, say), as a target's session would.
        let ca = pg::connect(&Secret::new(cluster().url(db_a)))
            .await
            .map_err(|e| e.to_string())?;
        schema::apply(&ca, &plan).await.map_err(|e| {
            format!(
                "applying the plan to A failed: {}\n--- plan ---\n{}",
                e,
                shown()
            )
        })?;

        // Re-introspect and re-plan: nothing left to do.
        let a2 = schema::introspect(&ca, &excluded)
            .await
            .map_err(|e| e.to_string())?;
        let again = schema::plan(&a2, &b, &PlanOptions::default());
        if !again.statements.is_empty() {
            return Err(format!(
                "re-planning the migrated A against B is not empty:\n{}\n--- first plan ---\n{}",
                schema::render_sql(&again),
                shown()
            ));
        }
        if !self.unsupported.is_empty() {
            // The difference stays, and so does the report of it.
            return check_unsupported(&self.unsupported, &again)
                .map_err(|e| format!("after applying the plan: {e}"));
        }
        catalogs_equal(&a2, &b).map_err(|e| format!("{e}\n--- plan ---\n{}", shown()))?;
        if !again.unsupported.is_empty() {
            return Err(format!(
                "re-plan reports unsupported changes: {:?}",
                again.unsupported
            ));
        }
        model_equal(&a2, &b).map_err(|e| format!("{e}\n--- plan ---\n{}", shown()))?;
        drop((ca, cb));

        // The oracle that does not trust our own introspection: pg_dump.
        let (da, db) = (dump(db_a)?, dump(db_b)?);
        if !db.contains("CREATE ") {
            return Err(format!("pg_dump of B printed no DDL:\n{db}"));
        }
        if da != db {
            return Err(format!(
                "pg_dump --schema-only of the migrated A differs from B's (- A, + B):\n{}\n--- plan ---\n{}",
                line_diff(&da, &db),
                shown()
            ));
        }
        Ok(())
    }
}

/// Invariants of every plan: timeouts are set, CONCURRENTLY never runs in a transaction,
/// and no value a fixture marks as secret (any word containing `s3cret`) is ever printed.
fn check_invariants(plan: &Plan) -> Result<(), String> {
    let text = format!("{}\n{:?}", schema::render_sql(plan), plan.unsupported);
    if text.contains("s3cret") {
        return Err("the plan prints a secret option value (`…s3cret…`)".into());
    }
    for s in &plan.statements {
        if s.lock_timeout_ms == 0 || s.statement_timeout_ms == 0 {
            return Err(format!("statement without timeouts: {}", s.sql));
        }
        if s.sql.contains(" CONCURRENTLY ") && s.transactional {
            return Err(format!("CONCURRENTLY marked transactional: {}", s.sql));
        }
        if s.sql.trim().is_empty() {
            return Err("an empty statement".into());
        }
    }
    check_security_windows(plan)
}

/// No non-transactional statement (a concurrent index build: minutes) runs while a policy or
/// trigger is dropped and not yet created again, nor while a function the plan creates lacks
/// its owner and privileges (executable by PUBLIC, `SECURITY DEFINER` as the plan's role).
fn check_security_windows(plan: &Plan) -> Result<(), String> {
    let st = &plan.statements;
    let name_after = |sql: &str, head: &str, end: char| -> Option<String> {
        let rest = &sql[sql.find(head)? + head.len()..];
        Some(rest.split(end).next()?.trim().to_owned())
    };
    check_key_windows(st)?;
    crate::schema_windows::check(plan)?;
    for (i, s) in st.iter().enumerate() {
        // (what is missing, the statements that restore it)
        let closers: Vec<usize> = if let Some(rest) = s
            .sql
            .strip_prefix("DROP POLICY ")
            .or_else(|| s.sql.strip_prefix("DROP TRIGGER "))
        {
            let kind = if s.sql.starts_with("DROP POLICY") {
                "POLICY"
            } else {
                "TRIGGER"
            };
            let name = rest.split(' ').next().unwrap_or("");
            (i + 1..st.len())
                .filter(|&j| {
                    [
                        format!("CREATE {kind} {name} "),
                        format!("CREATE CONSTRAINT {kind} {name} "),
                    ]
                    .iter()
                    .any(|p| st[j].sql.starts_with(p.as_str()))
                })
                .collect()
        } else if s.sql.contains("CREATE OR REPLACE FUNCTION ")
            || s.sql.starts_with("CREATE FUNCTION ")
        {
            let Some(name) = name_after(&s.sql, "FUNCTION ", '(') else {
                continue;
            };
            (i + 1..st.len())
                .filter(|&j| {
                    let t = &st[j].sql;
                    (t.starts_with("GRANT ")
                        || t.starts_with("REVOKE ")
                        || t.contains(" OWNER TO "))
                        && name_after(t, "FUNCTION ", '(').as_deref() == Some(name.as_str())
                })
                .collect()
        } else {
            continue;
        };
        let Some(&last) = closers.last() else {
            continue;
        };
        if let Some(n) = (i + 1..last).find(|&n| !st[n].transactional) {
            return Err(format!(
                "security window: `{}` … `{}` runs outside a transaction … before `{}`",
                s.sql.lines().next().unwrap_or(""),
                st[n].sql,
                st[last].sql.lines().next().unwrap_or("")
            ));
        }
        if !in_one_transaction(st, i, last) && !names_window(s) {
            return Err(format!(
                "security window: in a plan that runs statement by statement, `{}` … `{}` is not in one BEGIN … COMMIT, and no authz_update hazard names it",
                s.sql.lines().next().unwrap_or(""),
                st[last].sql.lines().next().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// A key (PRIMARY KEY, UNIQUE, EXCLUDE: its drop drops an index) dropped and added again:
/// in between the table has no such key. In a plan that runs statement by statement, that
/// stretch is one transaction, or a `correctness` hazard on the drop names it.
fn check_key_windows(st: &[schema::Statement]) -> Result<(), String> {
    for (i, s) in st.iter().enumerate() {
        let drops_index = s
            .hazards
            .iter()
            .any(|h| h.kind == schema::HazardKind::IndexDropped);
        let Some((table, name)) = s
            .sql
            .strip_prefix("ALTER TABLE ")
            .and_then(|r| r.split_once(" DROP CONSTRAINT "))
            .filter(|_| drops_index)
        else {
            continue;
        };
        let name = name.trim_end_matches(';');
        let add = format!("ALTER TABLE {table} ADD CONSTRAINT {name} ");
        let Some(last) = (i + 1..st.len()).find(|&j| st[j].sql.starts_with(&add)) else {
            continue;
        };
        // On the drop, or on the statement that opened its stretch (a swapped key's first
        // foreign key dropped).
        let start = (0..i)
            .rev()
            .find(|&n| !st[n].transactional)
            .map_or(0, |n| n + 1);
        let named = st[start..=i].iter().flat_map(|s| &s.hazards).any(|h| {
            h.kind == schema::HazardKind::Correctness && h.message.contains(" from here until ")
        });
        if !in_one_transaction(st, i, last) && !named {
            return Err(format!(
                "key window: in a plan that runs statement by statement, `{}` … `{}` is not in one BEGIN … COMMIT, and no correctness hazard names it",
                s.sql,
                st[last].sql.lines().next().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// Whether statements `from..=to` run in one transaction: the whole plan does (nothing in it
/// runs outside one), or a `BEGIN` before `from` is not closed until after `to`.
fn in_one_transaction(st: &[schema::Statement], from: usize, to: usize) -> bool {
    if st.iter().all(|s| s.transactional) {
        return true;
    }
    let Some(begin) = (0..from).rev().find(|&n| st[n].sql == "BEGIN;") else {
        return false;
    };
    !st[begin..=to].iter().any(|s| s.sql == "COMMIT;")
}

/// Whether a window's opener warns that it stays open.
fn names_window(s: &schema::Statement) -> bool {
    s.hazards.iter().any(|h| {
        h.kind == schema::HazardKind::AuthzUpdate && h.message.contains(" from here until ")
    })
}

fn check_unsupported(want: &[String], plan: &Plan) -> Result<(), String> {
    if want.is_empty() && !plan.unsupported.is_empty() {
        return Err(format!(
            "unexpected unsupported changes: {:?}",
            plan.unsupported
        ));
    }
    for needle in want {
        if !plan.unsupported.iter().any(|u| u.contains(needle.as_str())) {
            return Err(format!(
                "the plan does not report `{needle}` as unsupported (it reports {:?})",
                plan.unsupported
            ));
        }
    }
    Ok(())
}

/// The migrated A and B have the same catalog fingerprint (the safety net's): every
/// user-visible catalog row agrees, not only what the model holds.
fn catalogs_equal(a: &Model, b: &Model) -> Result<(), String> {
    let (Some(ca), Some(cb)) = (&a.catalog, &b.catalog) else {
        return Err("a model without its catalog fingerprint".into());
    };
    if ca == cb {
        return Ok(());
    }
    Err(format!(
        "the catalog fingerprints of the migrated A and of B differ (object: A's digests → B's):\n{}",
        schema::catalog::describe(ca, cb)
    ))
}

/// The migrated A and B are the same model (so the drift check's fingerprints agree).
fn model_equal(a: &Model, b: &Model) -> Result<(), String> {
    if schema::fingerprint(a) == schema::fingerprint(b) {
        return Ok(());
    }
    let ja = serde_json::to_string_pretty(a).expect("model serializes");
    let jb = serde_json::to_string_pretty(b).expect("model serializes");
    Err(format!(
        "the migrated A's fingerprint differs from B's although the re-plan is empty (- A, + B):\n{}",
        line_diff(&ja, &jb)
    ))
}

/// Creates database `name` (dropping a leftover) and loads `sql` into it.
/// Tablespace `name`, created in place (inside the cluster's data directory: the test
/// clusters are PostgreSQL 15 or later) unless it exists; kept for the next run.
async fn tablespace(name: &str) -> Result<(), String> {
    let client = pg::connect(&Secret::new(cluster().url("postgres")))
        .await
        .map_err(|e| e.to_string())?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_tablespace WHERE spcname = $1", &[&name])
        .await
        .map_err(|e| pg::describe(&e))?;
    if exists.is_some() {
        return Ok(());
    }
    client
        .batch_execute("SET allow_in_place_tablespaces = on")
        .await
        .map_err(|e| pg::describe(&e))?;
    let create = format!("CREATE TABLESPACE {} LOCATION ''", pg::ident(name));
    match client.batch_execute(&create).await {
        // Another fixture created it meanwhile.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_OBJECT) => Ok(()),
        r => r.map_err(|e| format!("cannot create tablespace {name}: {}", pg::describe(&e))),
    }
}

async fn fresh_db(name: &str, sql: &str) -> Result<Client, String> {
    query(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(name)),
    )
    .await?;
    query(
        "postgres",
        &format!("CREATE DATABASE {} TEMPLATE template0", pg::ident(name)),
    )
    .await?;
    let client = pg::connect(&Secret::new(cluster().url(name)))
        .await
        .map_err(|e| e.to_string())?;
    client
        .batch_execute(sql)
        .await
        .map_err(|e| format!("loading {name} failed: {}", pg::describe(&e)))?;
    Ok(client)
}

/// `pg_dump --schema-only` of `db`, normalized: comments, `SET` lines, `set_config` calls,
/// `\restrict`/`\unrestrict` lines (random keys, PG ≥ 17.6/15.14) and blank lines go.
/// Nothing else is normalized: any other difference is a real one.
fn dump(db: &str) -> Result<String, String> {
    let c = cluster();
    let out = Command::new(c.bin.join("pg_dump"))
        .args(["--schema-only", "--dbname", &c.url(db)])
        .output()
        .map_err(|e| format!("cannot run pg_dump: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pg_dump of {db} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(normalize_dump(&String::from_utf8_lossy(&out.stdout)))
}

fn normalize_dump(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let t = l.trim();
            !(t.is_empty()
                || t.starts_with("--")
                || t.starts_with("SET ")
                || t.starts_with("SELECT pg_catalog.set_config(")
                || t.starts_with("\\restrict")
                || t.starts_with("\\unrestrict"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A minimal line diff (longest common subsequence): `-` lines only in `a`, `+` only in `b`,
/// with two lines of context.
fn line_diff(a: &str, b: &str) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let near = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, l)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("   …\n");
                skipped = false;
            }
            out.push_str(&format!("{c}  {l}\n"));
        } else {
            skipped = true;
        }
    }
    out
}

const ROUND_TRIP_SCHEMA: &str = r#"
create schema app;
create type app.mood as enum ('sad', 'ok', 'happy');
create domain app.email as text check (value like '%@%');
create function app.twice(i int) returns int language sql immutable as $$ select i * 2 $$;
create table app.customers (
    id bigint generated always as identity primary key,
    email app.email not null unique,
    mood app.mood default 'ok',
    score int default app.twice(21),
    name text collate "C"
);
create table app.orders (
    id bigserial primary key,
    customer_id bigint not null references app.customers (id),
    total numeric(12, 2) check (total >= 0),
    doubled numeric generated always as (total * 2) stored
);
create index orders_customer on app.orders (customer_id) where total > 0;
create view app.big_orders as select * from app.orders where total > 100;
create materialized view app.totals as select customer_id, sum(total) from app.orders group by 1;
alter table app.orders enable row level security;
create policy own on app.orders using (customer_id > 0);
comment on table app.orders is 'orders';
"#;

/// Introspecting the same database twice gives the same fingerprint; so does the same schema
/// in another database (OIDs do not count); a one-column change gives another one.
async fn fingerprint_round_trip() -> Result<(), Failed> {
    let pid = std::process::id();
    let dbs = [
        format!("{MAIN_DB_PREFIX}schema_fingerprint_1_{pid}"),
        format!("{MAIN_DB_PREFIX}schema_fingerprint_2_{pid}"),
    ];
    let result = async {
        let c1 = fresh_db(&dbs[0], ROUND_TRIP_SCHEMA).await?;
        // Other OIDs in the second database: something created and dropped first.
        let c2 = fresh_db(
            &dbs[1],
            &format!("create table filler (x int); drop table filler;\n{ROUND_TRIP_SCHEMA}"),
        )
        .await?;
        let ex = schema::default_excluded();
        let fp = |m: &Model| schema::fingerprint(m);
        let first = schema::introspect(&c1, &ex)
            .await
            .map_err(|e| e.to_string())?;
        let second = schema::introspect(&c1, &ex)
            .await
            .map_err(|e| e.to_string())?;
        if fp(&first) != fp(&second) {
            return Err(format!(
                "two introspections of one database differ:\n{}",
                line_diff(
                    &serde_json::to_string_pretty(&first).expect("json"),
                    &serde_json::to_string_pretty(&second).expect("json")
                )
            ));
        }
        if first.tables.len() != 2 || first.views.len() != 2 || first.policies.len() != 1 {
            return Err(format!("the model misses objects: {first:#?}"));
        }
        let other = schema::introspect(&c2, &ex)
            .await
            .map_err(|e| e.to_string())?;
        model_equal(&first, &other).map_err(|e| format!("same schema, two databases: {e}"))?;

        c1.batch_execute("alter table app.customers alter column name type varchar(80)")
            .await
            .map_err(|e| pg::describe(&e))?;
        let changed = schema::introspect(&c1, &ex)
            .await
            .map_err(|e| e.to_string())?;
        if fp(&changed) == fp(&first) {
            return Err("a column type change left the fingerprint unchanged".into());
        }
        c2.batch_execute("alter table app.orders add column note text")
            .await
            .map_err(|e| pg::describe(&e))?;
        let added = schema::introspect(&c2, &ex)
            .await
            .map_err(|e| e.to_string())?;
        if fp(&added) == fp(&other) {
            return Err("an added column left the fingerprint unchanged".into());
        }
        Ok(())
    }
    .await;
    for db in &dbs {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(db));
        query("postgres", &drop)
            .await
            .map_err(|e| format!("cannot drop {db}: {e}"))?;
    }
    result.map_err(Failed::from)
}

const INDEXES_SCHEMA: &str = r#"
create table "Mixed Case" ("Id" int, "select" text, code varchar(20), name text collate "C",
                           doc jsonb, tags text[], during tstzrange, n numeric);
create index plain on "Mixed Case" ("Id");
create index multi on "Mixed Case" (code, "Id");
create index descending on "Mixed Case" ("Id" desc, code desc nulls last, name nulls first);
create unique index uniq on "Mixed Case" ("Id") include (code, name);
create unique index nnd on "Mixed Case" (code) nulls not distinct;
create index by_keyword on "Mixed Case" ("select");
create index own_collation on "Mixed Case" (name);
create index other_collation on "Mixed Case" (name collate "POSIX");
create index pattern on "Mixed Case" (code varchar_pattern_ops);
create index text_pattern on "Mixed Case" ("select" text_pattern_ops);
create index gin_doc on "Mixed Case" using gin (doc);
create index gin_path on "Mixed Case" using gin (doc jsonb_path_ops);
create index gin_tags on "Mixed Case" using gin (tags);
create index hashed on "Mixed Case" using hash (code);
create index brin_n on "Mixed Case" using brin (n);
create index gist_during on "Mixed Case" using gist (during);
create index expr on "Mixed Case" (lower("select"));
create index partial on "Mixed Case" ("Id") where code is not null;
create index with_options on "Mixed Case" ("Id") with (fillfactor = 70);
create table parted (at date, v int) partition by range (at);
create table parted_1 partition of parted for values from ('2024-01-01') to ('2025-01-01');
create index parted_v on parted (v desc);
create materialized view mv as select "Id", code from "Mixed Case";
create index mv_code on mv (code);
"#;

/// Plain indexes are spelled out by the engine itself (for speed): the text must be exactly
/// what `pg_get_indexdef` prints, for every kind of index the engine handles that way.
async fn index_definitions() -> Result<(), Failed> {
    let (model, rows) = introspect_beside(
        "indexes",
        INDEXES_SCHEMA,
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname), pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE n.nspname = 'public'",
    )
    .await?;
    let mut checked = 0;
    for r in &rows {
        let (name, server): (String, String) = (r.get(0), r.get(1));
        if let Some(i) = model.indexes.get(&name) {
            if i.definition != server {
                return Err(format!(
                    "index {name}:\n  engine: {}\n  server: {server}",
                    i.definition
                )
                .into());
            }
            checked += 1;
        }
    }
    if checked != model.indexes.len() || checked < 21 {
        return Err(format!(
            "only {checked} indexes compared: {:?}",
            model.indexes.keys()
        )
        .into());
    }
    Ok(())
}

const CONSTRAINTS_SCHEMA: &str = r#"
create schema neon_migrate;
create table neon_migrate.outside (id int primary key);
create schema "Other";
create table "Other".parent (id int primary key, "Code" text unique, during tstzrange);
create table "Mixed Case" ("Id" int, "select" text, code varchar(20), n int, m int, during tstzrange,
  constraint pk primary key ("Id", "select"),
  constraint uniq unique (code),
  constraint uniq_multi unique (n, m) deferrable initially deferred,
  constraint uniq_nnd unique nulls not distinct (m),
  constraint uniq_incl unique (n) include (m),
  constraint uniq_ff unique (m, n) with (fillfactor = 70),
  constraint chk check (n > 0),
  constraint chk_nv check (m > 0) not valid,
  constraint excl exclude using gist (during with &&));
create table child (id int generated always as identity primary key, a int, b text, c int, d text,
  constraint fk_plain foreign key (a) references "Other".parent (id),
  constraint fk_full foreign key (b) references "Other".parent ("Code") match full on update cascade on delete set null,
  constraint fk_actions foreign key (c) references "Other".parent (id) on update restrict on delete set default deferrable,
  constraint fk_set_cols foreign key (c, d) references "Mixed Case" ("Id", "select") on delete set null (c),
  constraint fk_cascade foreign key (a) references child (id) on delete cascade not valid,
  constraint fk_outside foreign key (c) references neon_migrate.outside (id));
"#;

/// Common PRIMARY KEY, UNIQUE and FOREIGN KEY constraints are spelled by the engine itself
/// (for speed): the text must be exactly what `pg_get_constraintdef` prints, and the others
/// must come from the server.
async fn constraint_definitions() -> Result<(), Failed> {
    let (model, rows) = introspect_beside(
        "constraints",
        CONSTRAINTS_SCHEMA,
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(t.relname), co.conname,
                pg_get_constraintdef(co.oid)
                -- pg_get_constraintdef leaves a key's index storage parameters out (pg_dump
                -- adds them): the model keeps them, or a rebuilt key would lose them.
                || coalesce(' WITH (' || array_to_string(i.reloptions, ', ') || ')', '')
           FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           LEFT JOIN pg_class i ON i.oid = co.conindid AND co.contype IN ('p', 'u')
          WHERE n.nspname IN ('public', 'Other')
            -- PostgreSQL 18 records NOT NULL as constraints too (contype 'n'); the model
            -- keeps NOT NULL on the column, where the fixtures check it.
            AND co.contype <> 'n'",
    )
    .await?;
    let mut checked = 0;
    for r in &rows {
        let (table, name, server): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let Some(engine) = model
            .tables
            .get(&table)
            .and_then(|t| t.constraints.get(&name))
        else {
            return Err(format!("constraint {name} of {table} is not in the model").into());
        };
        if engine.definition != server {
            return Err(format!(
                "constraint {name} of {table}:\n  engine: {}\n  server: {server}",
                engine.definition
            )
            .into());
        }
        checked += 1;
    }
    let fk = &model.tables["public.child"].constraints["fk_full"];
    if fk.references.as_deref() != Some("\"Other\".parent") {
        return Err(format!("fk_full references {:?}", fk.references).into());
    }
    // A table outside the introspected schemas: the definition and the referenced name come
    // from the server's fallback query.
    let outside = &model.tables["public.child"].constraints["fk_outside"];
    if outside.references.as_deref() != Some("neon_migrate.outside") {
        return Err(format!("fk_outside references {:?}", outside.references).into());
    }
    if checked < 18 {
        return Err(format!("only {checked} constraints compared").into());
    }
    Ok(())
}

/// Loads `sql` into a fresh database, introspects it, and runs `server_query` there with the
/// engine's empty `search_path` (so the server qualifies names as the engine does). The
/// database is dropped again whatever happens.
async fn introspect_beside(
    what: &str,
    sql: &str,
    server_query: &str,
) -> Result<(schema::Model, Vec<tokio_postgres::Row>), String> {
    let db = format!("{MAIN_DB_PREFIX}schema_{what}_{}", std::process::id());
    let result = async {
        let c = fresh_db(&db, sql).await?;
        let model = schema::introspect(&c, &schema::default_excluded())
            .await
            .map_err(|e| e.to_string())?;
        c.batch_execute("SET search_path = ''")
            .await
            .map_err(|e| pg::describe(&e))?;
        let rows = c
            .query(server_query, &[])
            .await
            .map_err(|e| pg::describe(&e))?;
        Ok((model, rows))
    }
    .await;
    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(&db));
    query("postgres", &drop)
        .await
        .map_err(|e| format!("cannot drop {db}: {e}"))?;
    result
}

//! What an outside attacker found in the `workload` check's sources, against the real embedded
//! Postgres:
//!
//! - `INSERT … VALUES ($1, …)` statements of the parent's `pg_stat_statements` were always
//!   skipped. They are replayed: values sampled from the target table's columns, a fresh value
//!   for a column of each unique index the statement fills, in a transaction rolled back (no
//!   row is left); a statement that cannot be filled stays skipped with its reason; a unique
//!   index the migration adds on a sampled column makes requests collide, which is counted
//!   apart — neither an error nor a success.
//! - The total `rate` was split with each query raised to 1/s: `rate = "2/s"` replayed 2.5/s.
//!   The rates now add up to the configured one.

use std::time::Duration;

use neon_migrate::checks::workload::insert::Fresh;
use neon_migrate::checks::workload::sources::{self, Origin, Params};
use neon_migrate::checks::workload::{evaluate, Rehearsal, Target};
use neon_migrate::pg;
use neon_migrate::secret::Secret;

use crate::support::{cluster, query, query_on, unique_db};
use crate::workload::{config, pgss_cluster, rt};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        workload_pg_stat_statements_inserts_are_replayed_with_sampled_and_fresh_values_and_leave_no_row,
        workload_the_total_rate_of_the_queries_found_adds_up_to_the_configured_rate,
    ]
}

/// Counts of the three tables, to show nothing was left.
const COUNTS: &str = "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM orders), (SELECT count(*) FROM events)";

fn workload_pg_stat_statements_inserts_are_replayed_with_sampled_and_fresh_values_and_leave_no_row() {
    let own = pgss_cluster("pgss-insert");
    let rt = rt();
    let c = &own.0;
    rt.block_on(async {
        for db in ["parent", "child"] {
            query_on(c, "postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await.unwrap();
        }
        query_on(c, "postgres", "CREATE DATABASE parent").await.unwrap();
        query_on(
            c,
            "parent",
            "CREATE EXTENSION pg_stat_statements;
             CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, handle text NOT NULL);
             CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts,
                                  state text NOT NULL CHECK (state IN ('new', 'paid', 'shipped')));
             CREATE TABLE events (id bigserial PRIMARY KEY, account_id bigint REFERENCES accounts, kind text NOT NULL);
             INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'h' || g FROM generate_series(1, 2000) g;
             INSERT INTO orders SELECT g, 1 + g % 2000, (ARRAY['new','paid','shipped'])[1 + g % 3] FROM generate_series(1, 8000) g;
             INSERT INTO events (account_id, kind) SELECT 1 + g % 2000, 'login' FROM generate_series(1, 4000) g;
             ANALYZE;
             SELECT pg_stat_statements_reset();",
        )
        .await
        .unwrap();
        // The application's inserts, each with new values, as it sends them.
        let app = pg::connect(&Secret::new(c.url("parent"))).await.unwrap();
        for i in 1..=120 {
            let acc = 1 + (i * 37) % 2000;
            app.simple_query(&format!("SELECT id, email FROM accounts WHERE id = {acc}")).await.unwrap();
            if i % 2 == 0 {
                app.simple_query(&format!(
                    "INSERT INTO orders (id, account_id, state) VALUES ({}, {acc}, 'new')",
                    100_000 + i
                ))
                .await
                .unwrap();
            }
            if i % 3 == 0 {
                app.simple_query(&format!(
                    "INSERT INTO accounts (id, email, handle) VALUES ({}, 'new{i}@example.com', 'n{i}')",
                    100_000 + i
                ))
                .await
                .unwrap();
            }
            if i % 4 == 0 {
                app.simple_query(&format!("INSERT INTO events (account_id, kind) VALUES ({acc}, 'login')"))
                    .await
                    .unwrap();
            }
            if i % 5 == 0 {
                app.simple_query(&format!("INSERT INTO events (account_id, kind) VALUES ({acc}, lower('LOGOUT'))"))
                    .await
                    .unwrap();
            }
        }
        drop(app);
        tokio::time::sleep(Duration::from_millis(300)).await;
        query_on(c, "postgres", "CREATE DATABASE child TEMPLATE parent").await.unwrap();
    });
    let url = Secret::new(c.url("child"));
    let cfg = config("enabled = true\nbaseline = \"500ms\"\nconnections = 4\nrate = \"80/s\"");
    let target = Target {
        url: &url,
        parent_url: None,
        parent_database: Some("parent"),
        pending_sql: None,
        parent_error: None,
    };
    let plan = rt.block_on(sources::plan(&cfg, &target)).expect("plan");
    assert_eq!(plan.origin, Origin::PgStatStatements, "{:?}", plan.notes);
    let sqls: Vec<&str> = plan.queries.iter().map(|q| q.sql.as_str()).collect();
    let find = |prefix: &str| {
        plan.queries
            .iter()
            .find(|q| q.sql.starts_with(prefix))
            .unwrap_or_else(|| panic!("`{prefix}…` is replayed: {sqls:#?}\nskipped: {:#?}", plan.skipped))
    };
    let fresh_of = |q: &sources::Query| match &q.params {
        Params::Insert(p) => p.fresh.clone(),
        other => panic!("an insert's parameters: {other:?}"),
    };
    // orders: its key gets numbers above the max; account_id and state are sampled (a
    // foreign key and a CHECK they satisfy).
    let orders = find("INSERT INTO orders");
    assert!(orders.write);
    let fresh = fresh_of(orders);
    assert!(
        matches!(fresh.as_slice(), [(0, Fresh::Number(n))] if *n > 100_000),
        "{fresh:?}"
    );
    // accounts: two unique indexes, a fresh value for each (the key, the e-mail).
    let fresh = fresh_of(find("INSERT INTO accounts"));
    assert!(
        matches!(fresh.as_slice(), [(0, Fresh::Number(_)), (1, Fresh::Text)]),
        "{fresh:?}"
    );
    // events: its serial key is left to its default; nothing unique is filled.
    let events = plan
        .queries
        .iter()
        .find(|q| q.sql.starts_with("INSERT INTO events") && !q.sql.contains("lower("))
        .unwrap_or_else(|| panic!("the events insert is replayed: {sqls:#?}"));
    assert!(fresh_of(events).is_empty());
    let lowered = plan
        .skipped
        .iter()
        .find(|s| s.query.contains("lower("))
        .unwrap_or_else(|| panic!("the insert with lower($2) is skipped: {:#?}", plan.skipped));
    assert!(lowered.why.contains("inside an expression in VALUES"), "{lowered:?}");
    let before = rt.block_on(query_on(c, "child", COUNTS)).unwrap();
    // Replayed, with a unique index the migration adds on a column whose values are sampled:
    // the accounts insert then collides — counted apart, not as errors.
    let report = rt.block_on(async {
        let r = Rehearsal::start(&cfg, &target).await.expect("start");
        query_on(c, "child", "CREATE UNIQUE INDEX accounts_handle ON accounts (handle)")
            .await
            .expect("the migration");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        r.finish().await.expect("finish")
    });
    let shown = format!("{report:#?}");
    for q in report.queries.iter().filter(|q| q.sql.starts_with("INSERT")) {
        assert!(q.baseline.count > 0 && q.during.count > 0, "{q:?}");
        assert_eq!(q.baseline.errors + q.during.errors, 0, "{q:?}");
        assert_eq!(q.baseline.conflicts, 0, "no conflict before the unique index: {q:?}");
    }
    let accounts = report
        .queries
        .iter()
        .find(|q| q.sql.starts_with("INSERT INTO accounts"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(accounts.during.conflicts > 0, "{accounts:?}");
    let mut strict = cfg.clone();
    strict.max_p99_ratio = 1000.0;
    let result = evaluate(&report, &strict, None);
    assert!(
        !result.findings.iter().any(|f| f.what.contains("failed while the migration ran")),
        "{:#?}",
        result.findings
    );
    assert!(
        result.details.iter().any(|l| l.contains("hit a unique violation with values sampled")),
        "{:#?}",
        result.details
    );
    // Nothing was left: every insert was rolled back.
    assert_eq!(rt.block_on(query_on(c, "child", COUNTS)).unwrap(), before);
    drop(own);
}

fn workload_the_total_rate_of_the_queries_found_adds_up_to_the_configured_rate() {
    let db = unique_db("workload_rate_split");
    let rt = rt();
    rt.block_on(async {
        query("postgres", &format!("CREATE DATABASE {}", pg::ident(&db))).await.unwrap();
        query(
            &db,
            "CREATE TABLE big (id int PRIMARY KEY, v int); INSERT INTO big SELECT g, g FROM generate_series(1, 3000) g;
             CREATE TABLE small (id int PRIMARY KEY, v int); INSERT INTO small SELECT g, g FROM generate_series(1, 300) g;
             ANALYZE;",
        )
        .await
        .unwrap();
    });
    let url = Secret::new(cluster().url(&db));
    let plan_at = |rate: &str| {
        let cfg = config(&format!("enabled = true\nrate = \"{rate}\""));
        let target = Target {
            url: &url,
            parent_url: None,
            parent_database: None,
            pending_sql: Some("ALTER TABLE big ADD COLUMN x int; ALTER TABLE small ADD COLUMN x int;"),
            parent_error: None,
        };
        rt.block_on(sources::plan(&cfg, &target)).expect("plan")
    };
    let total = |p: &sources::Plan| p.queries.iter().map(|q| q.rate).sum::<f64>();
    let plan = plan_at("100/s");
    assert_eq!(plan.queries.len(), 4, "{:?}", plan.queries);
    assert!((total(&plan) - 100.0).abs() < 1e-6, "{:?}", plan.queries);
    // Before: a read and an update per table at ¾ and ¼ of the share, each raised to 1/s.
    let plan = plan_at("2/s");
    assert!((total(&plan) - 2.0).abs() < 1e-6, "{:#?}", plan.queries);
    assert!(plan.queries.iter().all(|q| q.rate >= 1.0), "{:#?}", plan.queries);
    assert_eq!(plan.skipped.len(), 2, "{:#?}", plan.skipped);
    assert!(
        plan.skipped.iter().all(|s| s.why.contains("raise `rate` under [checks.workload] to at least 4/s")),
        "{:#?}",
        plan.skipped
    );
    rt.block_on(query("postgres", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(&db))))
        .unwrap();
}

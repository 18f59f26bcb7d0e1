//! The `workload` check against false signals an outside attacker found:
//!
//! - the migration tool's own tracking table (`alembic_version`) was replayed as user traffic
//!   from `pg_stat_statements` and picked by the fallback source.

use std::time::Duration;

use neon_migrate::checks::workload::sources::{self, Origin};
use neon_migrate::checks::workload::Target;
use neon_migrate::pg;
use neon_migrate::secret::Secret;

use crate::support::query_on;
use crate::workload::{config, pgss_cluster, rt};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![workload_rows_the_tools_tracking_tables_are_not_replayed,]
}

/// From an outside attacker: the parent's `pg_stat_statements` holds Alembic's own
/// statements (`UPDATE alembic_version …`, run by every deploy), which were replayed as the
/// application's; the fallback source picked `alembic_version` from the migration's SQL (and
/// among the largest tables). They are left out, and the details say which and why.
fn workload_rows_the_tools_tracking_tables_are_not_replayed() {
    let own = pgss_cluster("tracking");
    let rt = rt();
    let c = &own.0;
    rt.block_on(async {
        query_on(c, "postgres", "DROP DATABASE IF EXISTS parent WITH (FORCE)").await.unwrap();
        query_on(c, "postgres", "DROP DATABASE IF EXISTS child WITH (FORCE)").await.unwrap();
        query_on(c, "postgres", "CREATE DATABASE parent").await.unwrap();
        query_on(
            c,
            "parent",
            "CREATE EXTENSION pg_stat_statements;
             CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
             INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 2000) g;
             CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
             INSERT INTO alembic_version VALUES ('a');
             ANALYZE;
             SELECT pg_stat_statements_reset();",
        )
        .await
        .unwrap();
        let app = pg::connect(&Secret::new(c.url("parent"))).await.unwrap();
        for i in 1..=100 {
            // Alembic's own statements, more often than the application's.
            app.simple_query("SELECT alembic_version.version_num FROM alembic_version").await.unwrap();
            app.simple_query("UPDATE alembic_version SET version_num='a' WHERE alembic_version.version_num = 'a'")
                .await
                .unwrap();
            if i % 2 == 0 {
                app.simple_query(&format!("SELECT id, email FROM accounts WHERE id = {}", 1 + i * 7))
                    .await
                    .unwrap();
            }
        }
        drop(app);
        tokio::time::sleep(Duration::from_millis(300)).await;
        query_on(c, "postgres", "CREATE DATABASE child TEMPLATE parent").await.unwrap();
    });
    let url = Secret::new(c.url("child"));
    let cfg = config("enabled = true\nbaseline = \"500ms\"\nrate = \"20/s\"");
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
    assert!(
        sqls.iter().all(|q| !q.contains("alembic_version")),
        "{sqls:#?}"
    );
    assert!(
        sqls.iter().any(|q| q.contains("FROM accounts")),
        "{sqls:#?}"
    );
    let left: Vec<&sources::Skipped> = plan
        .skipped
        .iter()
        .filter(|s| s.query.contains("alembic_version"))
        .collect();
    assert_eq!(left.len(), 2, "{:#?}", plan.skipped);
    assert!(
        left.iter().all(|s| s.why.contains("tracking table")),
        "{left:#?}"
    );

    // The fallback: the migration's SQL names alembic_version; and with no SQL, the largest
    // tables (two here) leave it out too.
    let pending =
        "ALTER TABLE accounts ADD COLUMN x int;\nUPDATE alembic_version SET version_num = 'b';\n";
    for sql in [Some(pending), None] {
        let target = Target {
            url: &url,
            parent_url: None,
            parent_database: None,
            pending_sql: sql,
            parent_error: None,
        };
        let plan = rt.block_on(sources::plan(&cfg, &target)).expect("plan");
        assert_eq!(plan.origin, Origin::PrimaryKey, "{:?}", plan.notes);
        assert_eq!(plan.tables, ["public.accounts"], "{:?}", plan.notes);
        assert!(
            plan.queries
                .iter()
                .all(|q| !q.sql.contains("alembic_version")),
            "{:#?}",
            plan.queries
        );
        if sql.is_some() {
            assert!(
                plan.notes
                    .iter()
                    .any(|n| n.contains("alembic_version") && n.contains("tracking table")),
                "{:?}",
                plan.notes
            );
        }
    }
    drop(own);
}

//! `CLUSTER ON` marks (tables' and materialized views' indexes, constraint indexes too);
//! statistics targets of index columns come with the columns (`columns.rs`: one pass over
//! `pg_attribute`).

use tokio_postgres::Row;

use super::{q, Build};

pub(super) fn clustering_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(ic.relname)
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
  JOIN ns ON ns.oid = c.relnamespace
 WHERE i.indisclustered AND c.relkind IN ('r', 'p', 'm')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)"#)
}

/// (table, its clustered index).
pub(super) type ClusteringRow = (String, String);

pub(super) fn clustering_row(r: &Row) -> ClusteringRow {
    (r.get(0), r.get(1))
}

pub(super) fn add(b: &mut Build, rows: Vec<ClusteringRow>) {
    b.m.clustered.extend(rows);
}

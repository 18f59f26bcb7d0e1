//! `CLUSTER ON` marks (tables' and materialized views' indexes, constraint indexes too) and
//! statistics targets of index columns (`ALTER INDEX … ALTER COLUMN n SET STATISTICS`): one
//! query over the indexes that have either. `attstattarget` is NULL by default from PG 17 on,
//! -1 before.

use std::collections::BTreeMap;

use tokio_postgres::Row;

use super::{q, Build};

pub(super) fn clustering_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(ic.relname), i.indisclustered,
       coalesce((SELECT array_agg(a.attnum::int2 ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = ic.oid AND coalesce(a.attstattarget::int4, -1) >= 0), '{}'),
       coalesce((SELECT array_agg(a.attstattarget::int4 ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = ic.oid AND coalesce(a.attstattarget::int4, -1) >= 0), '{}')
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
  JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND (i.indisclustered OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = ic.oid
                                     AND coalesce(a.attstattarget::int4, -1) >= 0))
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1, 2"#)
}

/// (table, index, clustered, column numbers, statistics targets).
pub(super) type ClusteringRow = (String, String, bool, Vec<i16>, Vec<i32>);

pub(super) fn clustering_row(r: &Row) -> ClusteringRow {
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

pub(super) fn add(b: &mut Build, rows: Vec<ClusteringRow>) {
    for (table, index, clustered, columns, targets) in rows {
        let schema = super::super::split_qualified(&table).map_or("public", |(s, _)| s);
        if !columns.is_empty() {
            let stats: BTreeMap<i16, i32> = columns.into_iter().zip(targets).collect();
            b.m.index_statistics
                .insert(format!("{schema}.{index}"), stats);
        }
        if clustered {
            b.m.clustered.insert(table, index);
        }
    }
}

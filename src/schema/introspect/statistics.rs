//! Extended statistics (`CREATE STATISTICS`), with their `SET STATISTICS` target.

use tokio_postgres::Row;

use super::super::model::Statistics;
use super::{q, Build};

/// `stxstattarget` is an `int4` up to PG 16 and a nullable `int2` from PG 17 (NULL is the
/// default); both read as an `int4` with -1 for the default.
pub(super) fn statistics_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(s.stxname),
       quote_ident(cn.nspname) || '.' || quote_ident(c.relname),
       pg_get_statisticsobjdef(s.oid), coalesce(s.stxstattarget::int4, -1)
  FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
  JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_statistic_ext'::regclass AND ext.objid = s.oid)
 ORDER BY 1"#)
}

/// (name, statistics).
pub(super) type StatisticsRow = (String, Statistics);

pub(super) fn statistics_row(r: &Row) -> StatisticsRow {
    let s = Statistics {
        table: r.get(1),
        definition: r.get(2),
        target: r.get(3),
    };
    (r.get(0), s)
}

pub(super) fn add(b: &mut Build, rows: Vec<StatisticsRow>) {
    b.m.statistics = rows.into_iter().collect();
}

//! Replica identities and publications (columns' storage, compression and statistics
//! settings: `columns.rs`).

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Row;

use super::super::model::Publication;
use super::{q, Build};

pub(super) fn replica_identities_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       CASE c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING' ELSE
         'USING INDEX ' || coalesce((SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                      WHERE i.indrelid = c.oid AND i.indisreplident), '?') END
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'd'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)"#)
}

pub(super) fn pair_row(r: &Row) -> (String, String) {
    (r.get(0), r.get(1))
}

pub(super) const PUBLICATIONS: &str = r#"
SELECT quote_ident(p.pubname), p.puballtables,
       concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                 CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END),
       p.pubviaroot
  FROM pg_publication p"#;

pub(super) type PublicationRow = (String, bool, String, bool);

pub(super) fn publication_row(r: &Row) -> PublicationRow {
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// The tables of publications, with their column lists and row filters from PG 15 on.
pub(super) fn publication_tables_query(version: i32) -> String {
    let (cols, filter) = if version >= 150_000 {
        (
            "CASE WHEN r.prattrs IS NOT NULL THEN (SELECT array_agg(quote_ident(a.attname::text) ORDER BY a.attnum) \
               FROM pg_attribute a WHERE a.attrelid = r.prrelid AND a.attnum = ANY (r.prattrs::int2[])) END",
            "pg_get_expr(r.prqual, r.prrelid)",
        )
    } else {
        ("NULL::text[]", "NULL::text")
    };
    q(&format!(
        r#"
SELECT quote_ident(p.pubname), quote_ident(ns.nspname) || '.' || quote_ident(c.relname), {cols}, {filter}
  FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid
  JOIN pg_class c ON c.oid = r.prrelid JOIN ns ON ns.oid = c.relnamespace"#
    ))
}

pub(super) type PublicationTableRow = (String, String, Option<Vec<String>>, Option<String>);

pub(super) fn publication_table_row(r: &Row) -> PublicationTableRow {
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// `FOR TABLES IN SCHEMA` (PG 15 on).
pub(super) fn publication_schemas_query(version: i32) -> String {
    if version >= 150_000 {
        q(r#"
SELECT quote_ident(p.pubname), quote_ident(ns.nspname)
  FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid
  JOIN ns ON ns.oid = pn.pnnspid"#)
    } else {
        q("SELECT NULL::text, NULL::text WHERE $1::text[] IS NULL")
    }
}

/// Everything this file reads, in one value.
pub(super) struct Rows {
    pub identities: Vec<(String, String)>,
    pub publications: Vec<PublicationRow>,
    pub tables: Vec<PublicationTableRow>,
    pub schemas: Vec<(String, String)>,
}

pub(super) fn add(b: &mut Build, rows: Rows) {
    b.m.replica_identities = rows.identities.into_iter().collect();
    let mut pubs: BTreeMap<String, Publication> = BTreeMap::new();
    for (name, all_tables, publish, via_root) in rows.publications {
        pubs.insert(
            name,
            Publication {
                all_tables,
                publish,
                via_root,
                tables: BTreeMap::new(),
                schemas: BTreeSet::new(),
            },
        );
    }
    for (name, table, cols, filter) in rows.tables {
        if let Some(p) = pubs.get_mut(&name) {
            p.tables.insert(table, (cols, filter));
        }
    }
    for (name, schema) in rows.schemas {
        if let Some(p) = pubs.get_mut(&name) {
            p.schemas.insert(schema);
        }
    }
    b.m.publications = pubs;
}

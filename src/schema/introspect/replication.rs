//! Replica identities, publications, and columns' storage, compression and statistics
//! settings: only what differs from the defaults comes back.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Row;

use super::super::model::{AclDelta, ColumnSettings, Publication};
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

/// `attcompression` exists from PG 14 on, `attstattarget` is NULL by default from PG 17 on.
pub(super) fn column_settings_query(version: i32) -> String {
    let compression = if version >= 140_000 {
        "CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END"
    } else {
        "NULL::text"
    };
    let compressed = if version >= 140_000 {
        "a.attcompression IN ('p', 'l')"
    } else {
        "false"
    };
    q(&format!(
        r#"
SELECT quote_ident(c.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname),
       CASE WHEN a.attstorage <> t.typstorage THEN
         CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'm' THEN 'MAIN' WHEN 'e' THEN 'EXTERNAL' ELSE 'EXTENDED' END END,
       {compression},
       CASE WHEN coalesce(a.attstattarget, -1) >= 0 THEN a.attstattarget::int4 END,
       CASE t.typstorage WHEN 'p' THEN 'PLAIN' WHEN 'm' THEN 'MAIN' WHEN 'e' THEN 'EXTERNAL' ELSE 'EXTENDED' END,
       coalesce((SELECT array_agg(DISTINCT '+' || CASE WHEN e.grantee = 0 THEN 'p' WHEN e.grantee = c.relowner THEN 'o' ELSE 'r' END
                          || CASE WHEN e.is_grantable THEN '*' ELSE ' ' END || e.privilege_type || ':'
                          || CASE WHEN e.grantee = 0 OR e.grantee = c.relowner THEN '' ELSE quote_ident(pg_get_userbyid(e.grantee)) END)
                   FROM aclexplode(a.attacl) e), '{{}}')
  FROM pg_attribute a
  JOIN (SELECT c.oid, c.relname, c.relkind, c.relowner, ns.nspname FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm')
           AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
        OFFSET 0) c ON c.oid = a.attrelid
  JOIN (SELECT oid, typstorage FROM pg_type OFFSET 0) t ON t.oid = a.atttypid
 WHERE a.attnum > 0 AND NOT a.attisdropped
   AND (a.attacl IS NOT NULL OR (c.relkind IN ('r', 'p')
        AND (a.attstorage <> t.typstorage OR {compressed} OR coalesce(a.attstattarget, -1) >= 0))
        OR (c.relkind = 'm' AND coalesce(a.attstattarget, -1) >= 0))"#
    ))
}

/// (`table.column`, settings, column privileges as `introspect::authz` items).
pub(super) type ColumnRow = (String, ColumnSettings, Vec<String>);

pub(super) fn column_settings_row(r: &Row) -> ColumnRow {
    let s = ColumnSettings {
        storage: r.get(1),
        compression: r.get(2),
        statistics: r.get(3),
        type_storage: r.get(4),
    };
    (r.get(0), s, r.get(5))
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
    pub settings: Vec<ColumnRow>,
    pub publications: Vec<PublicationRow>,
    pub tables: Vec<PublicationTableRow>,
    pub schemas: Vec<(String, String)>,
}

pub(super) fn add(b: &mut Build, rows: Rows) {
    b.m.replica_identities = rows.identities.into_iter().collect();
    for (key, settings, acl) in rows.settings {
        let delta = AclDelta {
            granted: acl
                .iter()
                .filter_map(|i| super::authz::parse_item(i))
                .map(|(_, item)| item)
                .collect(),
            revoked: Default::default(),
        };
        if !delta.granted.is_empty() {
            b.m.privileges.insert(format!("COLUMN {key}"), delta);
        }
        let default = ColumnSettings {
            type_storage: settings.type_storage.clone(),
            ..Default::default()
        };
        if settings != default {
            b.m.column_settings.insert(key, settings);
        }
    }
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

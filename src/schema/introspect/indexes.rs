//! Indexes (not those of PRIMARY KEY, UNIQUE and EXCLUDE constraints, nor partitions'
//! clones): plain ones spelled here from their raw rows, the others deparsed by the server.

use std::collections::{HashMap, HashSet};

use tokio_postgres::{Client, Row};

use super::super::model::{DepKey, Index};
use super::super::spell;
use super::{fetch, nulls_not_distinct, oid_of, q, Build, ObjKind};
use crate::pg::PgError;

/// Indexes on plain columns come back raw and are spelled by `spell::index`; those with
/// expressions, predicates or storage options (and materialized views' indexes, whose
/// columns the columns query does not read) are deparsed by the server.
pub(super) fn indexes_query(version: i32) -> String {
    let nulls_not_distinct = nulls_not_distinct(version);
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(ic.relname), quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       CASE WHEN i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR ic.reloptions IS NOT NULL OR c.relkind = 'm'
            THEN pg_get_indexdef(i.indexrelid) END,
       i.indisunique, c.relkind = 'p', i.indexrelid::int8, i.indrelid::int8, quote_ident(ic.relname), am.amname::text,
       i.indnkeyatts::int4, i.indkey::int2[], i.indclass::oid[], i.indoption::int2[], i.indcollation::oid[],
       {nulls_not_distinct}, ic.relkind = 'I'
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
  JOIN ns ON ns.oid = c.relnamespace JOIN pg_am am ON am.oid = ic.relam
 WHERE c.relkind IN ('r', 'p', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
   AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)"#
    ))
}

/// (name, OID, index (definition empty when not deparsed by the query), raw row).
pub(super) type IndexRow = (String, i64, Index, spell::RawIndex);

pub(super) fn index_row(r: &Row) -> IndexRow {
    let i = Index {
        table: r.get(1),
        definition: r.get::<_, Option<String>>(2).unwrap_or_default(),
        unique: r.get(3),
        on_partitioned: r.get(4),
    };
    let raw = spell::RawIndex {
        bare: r.get(7),
        table: i.table.clone(),
        table_oid: r.get(6),
        am: r.get(8),
        unique: i.unique,
        only: r.get(15),
        key_columns: usize::try_from(r.get::<_, i32>(9)).unwrap_or(0),
        attnums: r.get(10),
        opclasses: r.get(11),
        options: r.get(12),
        collations: r.get(13),
        nulls_not_distinct: r.get(14),
    };
    (r.get(0), r.get(5), i, raw)
}

/// The default operator classes: an index on them does not name them.
pub(super) const DEFAULT_OPCLASSES: &str = "SELECT oid FROM pg_opclass WHERE opcdefault";

pub(super) fn opclass_row(r: &Row) -> u32 {
    r.get(0)
}

/// The server's spelling of the indexes `spell::index` could not write.
const INDEXES_BY_OID: &str = "SELECT i.indexrelid::int8, pg_get_indexdef(i.indexrelid) \
                              FROM pg_index i WHERE i.indexrelid = ANY($1::oid[])";

fn by_oid_row(r: &Row) -> (i64, String) {
    (r.get(0), r.get(1))
}

/// Puts the indexes into the model, each under its dependency key.
pub(super) async fn add(
    client: &Client,
    b: &mut Build,
    indexes: Vec<IndexRow>,
    default_opclasses: Vec<u32>,
) -> Result<(), PgError> {
    let defaults: HashSet<u32> = default_opclasses.into_iter().collect();
    let mut ask_server: Vec<u32> = Vec::new();
    let mut by_oid: HashMap<i64, String> = HashMap::new();
    for (name, oid, mut i, raw) in indexes {
        if i.definition.is_empty() {
            match spell::index(&raw, &b.names, &defaults) {
                Some(d) => i.definition = d,
                None => ask_server.push(oid_of(oid)),
            }
        }
        by_oid.insert(oid, name.clone());
        b.key(ObjKind::Class, oid, DepKey::Index(name.clone()));
        b.m.indexes.insert(name, i);
    }
    if !ask_server.is_empty() {
        let rows = fetch(
            client,
            "index definitions",
            INDEXES_BY_OID,
            &[&ask_server],
            by_oid_row,
        )
        .await?;
        for (oid, definition) in rows {
            if let Some(i) = by_oid.get(&oid).and_then(|n| b.m.indexes.get_mut(n)) {
                i.definition = definition;
            }
        }
    }
    Ok(())
}

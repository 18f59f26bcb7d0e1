//! Tables, their columns and their identity columns' sequences.

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::Row;

use super::super::model::{Column, DepKey, IdentityOptions, Table, TableKind};
use super::super::spell;
use super::{first_char, q, Build, ObjKind};

/// Dependency keys come from the queries below: tables, views, sequences, indexes and
/// the indexes of constraints (named after their constraint); a relation's row type
/// stands for the relation.
pub(super) fn tables_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind::text, c.oid::int8,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
              FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhrelid = c.oid) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       coalesce((SELECT array_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) ORDER BY i.inhseqno)
                   FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  WHERE i.inhrelid = c.oid AND NOT c.relispartition), '{}'),
       c.relrowsecurity, c.relforcerowsecurity, coalesce(c.reloptions, '{}'), c.relpersistence = 'u',
       c.reltype::int8
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#)
}

/// (name, OID, table without its columns and constraints, OID of its row type).
pub(super) type TableRow = (String, i64, Table, i64);

pub(super) fn table_row(r: &Row) -> TableRow {
    let parent: Option<String> = r.get(4);
    let bound: Option<String> = r.get(5);
    let t = Table {
        kind: TableKind::from_relkind(first_char(r.get::<_, &str>(1), 'r')),
        columns: Vec::new(),
        constraints: BTreeMap::new(),
        partition_key: r.get(3),
        partition_of: parent.zip(bound),
        inherits: r.get(6),
        rls: r.get(7),
        rls_forced: r.get(8),
        options: r.get(9),
        unlogged: r.get(10),
    };
    (r.get(0), r.get(2), t, r.get(11))
}

/// A default cannot refer to a column, so it is deparsed without its table (relid 0):
/// with one, pg_get_expr opens the table for every default, the cost of most of this query.
/// Generated columns do refer to columns and keep theirs. The tables are picked first
/// (`OFFSET 0` keeps the planner from folding them back in), so pg_attribute is read in one
/// pass and hashed, not probed once per table.
pub(super) fn columns_query() -> String {
    q(r#"
SELECT a.attrelid::int8, a.attnum::int4, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END,
       nullif(a.attidentity::text, ''),
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
       NOT a.attislocal, a.attcollation
  FROM pg_attribute a
  JOIN (SELECT c.oid FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'f')
           AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
        OFFSET 0) c ON c.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped"#)
}

/// (table OID, attnum, column, collation OID).
pub(super) type ColumnRow = (i64, i32, Column, u32);

pub(super) fn column_row(r: &Row) -> ColumnRow {
    let identity: Option<String> = r.get(6);
    let c = Column {
        name: r.get(2),
        data_type: r.get(3),
        not_null: r.get(4),
        default: r.get(5),
        identity: identity.and_then(|s| s.chars().next()),
        identity_options: None,
        generated: r.get(7),
        collation: r.get(8),
        inherited: r.get(9),
    };
    (r.get(0), r.get(1), c, r.get(10))
}

/// Identity columns' sequences (internal to the column, so not among the sequences query).
pub(super) const IDENTITIES: &str = r#"
SELECT d.refobjid::int8, d.refobjsubid, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
  FROM pg_sequence s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
   AND d.objsubid = 0 AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i'"#;

/// (table OID, attnum, options).
pub(super) type IdentityRow = (i64, i32, IdentityOptions);

pub(super) fn identity_row(r: &Row) -> IdentityRow {
    let o = IdentityOptions {
        start: r.get(2),
        increment: r.get(3),
        min: r.get(4),
        max: r.get(5),
        cache: r.get(6),
        cycle: r.get(7),
    };
    (r.get(0), r.get(1), o)
}

/// Puts the tables into the model, each under its dependency key (its row type too).
pub(super) fn add(b: &mut Build, tables: Vec<TableRow>) {
    for (name, oid, t, rowtype) in tables {
        let key = DepKey::Rel(name.clone());
        if rowtype != 0 {
            b.key(ObjKind::Type, rowtype, key.clone());
        }
        b.key(ObjKind::Class, oid, key);
        b.table_of.insert(oid, name.clone());
        b.m.tables.insert(name, t);
    }
}

/// Puts each column into its table (in attnum order), records its name for the spelling of
/// definitions, and gives identity columns their sequence's options.
pub(super) fn add_columns(
    b: &mut Build,
    mut columns: Vec<ColumnRow>,
    identities: Vec<IdentityRow>,
) {
    let mut identities: HashMap<(i64, i32), Box<IdentityOptions>> = identities
        .into_iter()
        .map(|(relid, attnum, o)| ((relid, attnum), Box::new(o)))
        .collect();
    columns.sort_unstable_by_key(|(relid, attnum, _, _)| (*relid, *attnum));
    b.names.reserve(columns.len());
    // Sorted by table: each table is looked up once for all its columns, and its column
    // list gets the room it needs at once (growing it by doubling left a third unused).
    let mut rest = columns.as_slice();
    let mut runs = Vec::new();
    while let Some(&(relid, ..)) = rest.first() {
        let n = rest.iter().take_while(|c| c.0 == relid).count();
        runs.push(n);
        rest = &rest[n..];
    }
    let mut columns = columns.into_iter();
    for n in runs {
        let mut run = columns.by_ref().take(n).peekable();
        let Some(&(relid, ..)) = run.peek() else {
            continue;
        };
        let Some(t) = b
            .table_of
            .get(&relid)
            .and_then(|name| b.m.tables.get_mut(name))
        else {
            run.for_each(drop);
            continue;
        };
        t.columns.reserve_exact(n);
        for (_, attnum, mut c, collation) in run {
            b.names.insert(
                (relid, attnum),
                spell::ColumnName {
                    quoted: c.name.clone(),
                    collation,
                },
            );
            c.identity_options = identities.remove(&(relid, attnum));
            t.columns.push(c);
        }
    }
}

//! Tables (their columns: `columns.rs`).

use tokio_postgres::Row;

use super::super::model::{DepKey, Table, TableKind};
use super::{first_char, q, Build, ObjKind};

/// Dependency keys come from the queries below: tables, views, sequences, indexes and
/// the indexes of constraints (named after their constraint); a relation's row type
/// stands for the relation.
///
/// A table's parents are looked up per table: when the census found `pg_inherits` empty
/// (`inherits` false) no table has any, and the query says so without the 2,000 lookups (a
/// third of its server CPU at 2,000 tables).
pub(super) fn tables_query(inherits: bool) -> String {
    let parents = if inherits {
        r#"coalesce((SELECT array_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) ORDER BY i.inhseqno)
                   FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  WHERE i.inhrelid = c.oid AND NOT c.relispartition), '{}')"#
    } else {
        "'{}'::text[]"
    };
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind::text, c.oid::int8,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
              FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhrelid = c.oid) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       {parents},
       c.relrowsecurity, c.relforcerowsecurity, coalesce(c.reloptions, '{{}}'), c.relpersistence = 'u',
       c.reltype::int8, quote_ident(sp.spcname), CASE WHEN am.amname <> 'heap' THEN quote_ident(am.amname) END,
       CASE WHEN c.relispartition THEN pg_get_partition_constraintdef(c.oid) END,
       CASE WHEN c.relispartition THEN (SELECT array_agg(a.relid::oid::text || ' ' || quote_ident(an.nspname) || '.' || quote_ident(ac.relname))
              FROM pg_partition_ancestors(c.oid) a JOIN pg_class ac ON ac.oid = a.relid JOIN pg_namespace an ON an.oid = ac.relnamespace) END
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_tablespace sp ON sp.oid = c.reltablespace
  LEFT JOIN pg_am am ON am.oid = c.relam
 WHERE c.relkind IN ('r', 'p', 'f')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#
    ))
}

/// (name, OID, table without its columns and constraints, OID of its row type, its
/// partition constraint when a partition).
pub(super) type TableRow = (String, i64, Table, i64, Option<String>);

pub(super) fn table_row(r: &Row) -> TableRow {
    let parent: Option<String> = r.get(4);
    let bound: Option<String> = r.get(5);
    let t = Table {
        kind: TableKind::from_relkind(first_char(r.get::<_, &str>(1), 'r')),
        columns: Vec::new(),
        constraints: Default::default(),
        partition_key: r.get(3),
        partition_of: parent.zip(bound),
        inherits: r.get(6),
        rls: r.get(7),
        rls_forced: r.get(8),
        options: r.get(9),
        unlogged: r.get(10),
        tablespace: r.get(12),
        access_method: r.get(13),
    };
    (
        r.get(0),
        r.get(2),
        t,
        r.get(11),
        partition_check(r.get(14), r.get(15)),
    )
}

/// A partition's constraint (`pg_get_partition_constraintdef`) as SQL that holds on another
/// database: the OIDs of its ancestors (a hash bound's `satisfies_hash_partition('16390'::oid,
/// …)`) replaced by their names.
fn partition_check(check: Option<String>, ancestors: Option<Vec<String>>) -> Option<String> {
    let mut check = check?;
    for a in ancestors.unwrap_or_default() {
        if let Some((oid, name)) = a.split_once(' ') {
            let lit = format!("'{}'::regclass::oid", name.replace('\'', "''"));
            check = check.replace(&format!("'{oid}'::oid"), &lit);
        }
    }
    Some(check)
}

/// Puts the tables into the model, each under its dependency key (its row type too).
pub(super) fn add(b: &mut Build, tables: Vec<TableRow>) {
    for (name, oid, t, rowtype, check) in tables {
        if let Some(check) = check {
            b.m.partition_checks.insert(name.clone(), check);
        }
        let key = DepKey::Rel(name.clone());
        if rowtype != 0 {
            b.key(ObjKind::Type, rowtype, key.clone());
        }
        b.key(ObjKind::Class, oid, key);
        b.table_of.insert(oid, name.clone());
        b.m.tables.insert(name, t);
    }
}

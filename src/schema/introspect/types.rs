//! Types: enums, domains and composite types.

use tokio_postgres::Row;

use super::super::model::{DepKey, Domain};
use super::{q, Build, ObjKind};

pub(super) fn enums_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 GROUP BY 1, 2 ORDER BY 1"#)
}

/// (name, OID, labels in order).
pub(super) type EnumRow = (String, i64, Vec<String>);

pub(super) fn enum_row(r: &Row) -> EnumRow {
    (r.get(0), r.get(1), r.get(2))
}

pub(super) fn domains_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       -- `typdefault` is the text as deparsed under its creator's search_path: deparsed
       -- again here, under the engine's empty one, every name in it is qualified.
       format_type(t.typbasetype, t.typtypmod), coalesce(pg_get_expr(t.typdefaultbin, 0), t.typdefault), t.typnotnull,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c JOIN pg_namespace cn ON cn.oid = c.collnamespace WHERE c.oid = t.typcollation) END,
       coalesce((SELECT array_agg(quote_ident(c.conname) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}'),
       coalesce((SELECT array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}'),
       coalesce((SELECT array_agg(c.oid::int8 ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}')
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
 WHERE t.typtype = 'd'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 ORDER BY 1"#)
}

/// (name, OID, domain, OIDs of its CHECK constraints).
pub(super) type DomainRow = (String, i64, Domain, Vec<i64>);

pub(super) fn domain_row(r: &Row) -> DomainRow {
    let names: Vec<String> = r.get(6);
    let defs: Vec<String> = r.get(7);
    let d = Domain {
        base: r.get(2),
        default: r.get(3),
        not_null: r.get(4),
        collation: r.get(5),
        checks: names.into_iter().zip(defs).collect(),
    };
    (r.get(0), r.get(1), d, r.get(8))
}

pub(super) fn composites_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       array_agg(quote_ident(a.attname) ORDER BY a.attnum),
       array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum), t.typrelid::int8
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 GROUP BY 1, 2, t.typrelid ORDER BY 1"#)
}

/// (name, OID, attributes (name, type), OID of its relation).
pub(super) type CompositeRow = (String, i64, Vec<(String, String)>, i64);

pub(super) fn composite_row(r: &Row) -> CompositeRow {
    let names: Vec<String> = r.get(2);
    let types: Vec<String> = r.get(3);
    let attrs: Vec<(String, String)> = names.into_iter().zip(types).collect();
    (r.get(0), r.get(1), attrs, r.get(4))
}

/// Puts the types into the model, each under its dependency key.
pub(super) fn add(
    b: &mut Build,
    enums: Vec<EnumRow>,
    domains: Vec<DomainRow>,
    composites: Vec<CompositeRow>,
) {
    for (name, oid, labels) in enums {
        b.key(ObjKind::Type, oid, DepKey::Type(name.clone()));
        b.m.enums.insert(name, labels);
    }
    for (name, oid, d, checks) in domains {
        for c in checks {
            b.key(ObjKind::Constraint, c, DepKey::Type(name.clone()));
        }
        b.key(ObjKind::Type, oid, DepKey::Type(name.clone()));
        b.m.domains.insert(name, d);
    }
    for (name, oid, attrs, relation) in composites {
        b.key(ObjKind::Type, oid, DepKey::Type(name.clone()));
        b.key(ObjKind::Class, relation, DepKey::Type(name.clone()));
        b.m.composites.insert(name, attrs);
    }
}

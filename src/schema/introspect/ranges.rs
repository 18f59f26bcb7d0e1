//! Range types. Their constructor functions, multirange type and array types are created
//! with them: they stand for the range in the dependency graph and are not modelled apart.

use tokio_postgres::Row;

use super::super::model::DepKey;
use super::{q, Build, ObjKind};

/// `multirange_type_name` and the multirange's constructors exist from PG 14 on.
pub(super) fn ranges_query(version: i32) -> String {
    let (multi, multi_oids, multi_type) = if version >= 140_000 {
        (
            "|| ', multirange_type_name = ' || (SELECT quote_ident(mn.nspname) || '.' || quote_ident(mt.typname) FROM pg_type mt JOIN pg_namespace mn ON mn.oid = mt.typnamespace WHERE mt.oid = r.rngmultitypid)",
            "ARRAY[r.rngmultitypid::int8, (SELECT mt.typarray::int8 FROM pg_type mt WHERE mt.oid = r.rngmultitypid)]",
            "r.rngmultitypid",
        )
    } else {
        ("", "'{}'::int8[]", "0")
    };
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       '(subtype = ' || format_type(r.rngsubtype, NULL)
       || CASE WHEN NOT oc.opcdefault THEN ', subtype_opclass = ' || quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) ELSE '' END
       || CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
               THEN ', collation = ' || (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = r.rngcollation) ELSE '' END
       || CASE WHEN r.rngcanonical <> 0 THEN ', canonical = ' || r.rngcanonical::regproc::text ELSE '' END
       || CASE WHEN r.rngsubdiff <> 0 THEN ', subtype_diff = ' || r.rngsubdiff::regproc::text ELSE '' END
       {multi} || ')',
       ARRAY[t.typarray::int8] || {multi_oids},
       coalesce((SELECT array_agg(d.objid::int8) FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_type'::regclass AND d.deptype = 'i'
                    AND d.refobjid IN (t.oid, {multi_type})), '{{}}')
  FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid JOIN ns ON ns.oid = t.typnamespace
  JOIN pg_type st ON st.oid = r.rngsubtype
  JOIN pg_opclass oc ON oc.oid = r.rngsubopc JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 ORDER BY 1"#
    ))
}

/// (name, OID, definition, OIDs of its implicit types, OIDs of its implicit functions).
pub(super) type RangeRow = (String, i64, String, Vec<i64>, Vec<i64>);

pub(super) fn range_row(r: &Row) -> RangeRow {
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

/// After the functions were added: the constructors leave the functions and become the
/// range in the dependency graph, as do the multirange and array types.
pub(super) fn add(b: &mut Build, rows: Vec<RangeRow>) {
    for (name, oid, definition, types, functions) in rows {
        let key = DepKey::Type(name.clone());
        b.key(ObjKind::Type, oid, key.clone());
        for t in types.into_iter().filter(|t| *t != 0) {
            b.key(ObjKind::Type, t, key.clone());
        }
        for f in functions {
            if let Some(DepKey::Fn(fname)) = b.keys.get(&(ObjKind::Proc, f)).cloned() {
                b.m.functions.remove(&fname);
            }
            b.key(ObjKind::Proc, f, key.clone());
        }
        b.m.ranges.insert(name, definition);
    }
}

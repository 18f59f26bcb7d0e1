//! Views and materialized views.

use tokio_postgres::Row;

use super::super::model::{DepKey, View};
use super::{q, Build, ObjKind};

/// Column 11, what a view accepts (`View::updatable`): the server asks the wrapper of a foreign
/// table under it, which raises without a handler — a view reading one (through other views
/// too) is taken to accept nothing.
pub(super) fn views_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind = 'm', pg_get_viewdef(c.oid, true),
       coalesce(c.reloptions, '{}'), c.oid::int8, c.reltype::int8,
       ARRAY(SELECT quote_ident(a.attname) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
              WHERE d.adrelid = c.oid ORDER BY a.attnum),
       ARRAY(SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
              WHERE d.adrelid = c.oid ORDER BY a.attnum),
       c.relispopulated, quote_ident(sp.spcname), CASE WHEN am.amname <> 'heap' THEN quote_ident(am.amname) END,
       CASE WHEN c.relkind = 'v' AND NOT EXISTS (
              WITH RECURSIVE r(oid) AS (
                SELECT c.oid
                UNION
                SELECT d.refobjid FROM r JOIN pg_rewrite w ON w.ev_class = r.oid
                  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                   AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.oid)
              SELECT 1 FROM r JOIN pg_foreign_table ft ON ft.ftrelid = r.oid
                JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
                JOIN pg_foreign_data_wrapper fw ON fw.oid = fs.srvfdw
               WHERE fw.fdwhandler = 0)
            THEN pg_relation_is_updatable(c.oid::regclass, true) ELSE 0 END,
       -- A view whose rule reads its own columns reads itself: its columns, to create it in two steps.
       CASE WHEN EXISTS (SELECT 1 FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                          WHERE rw.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                            AND d.refobjsubid > 0 AND d.deptype = 'n')
            THEN ARRAY(SELECT 'NULL::' || format_type(a.atttypid, a.atttypmod)
                              || CASE WHEN a.attcollation <> t.typcollation
                                      THEN ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END
                              || ' AS ' || quote_ident(a.attname)
                         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                         LEFT JOIN pg_collation co ON co.oid = a.attcollation
                         LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
            ELSE '{}' END
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_tablespace sp ON sp.oid = c.reltablespace
  LEFT JOIN pg_am am ON am.oid = c.relam
 WHERE c.relkind IN ('v', 'm')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#)
}

/// (name, view, OID, OID of its row type).
pub(super) type ViewRow = (String, View, i64, i64);

pub(super) fn view_row(r: &Row) -> ViewRow {
    let v = View {
        materialized: r.get(1),
        definition: r.get(2),
        options: r.get(3),
        column_defaults: r
            .get::<_, Vec<String>>(6)
            .into_iter()
            .zip(r.get::<_, Vec<String>>(7))
            .collect(),
        populated: r.get(8),
        tablespace: r.get(9),
        access_method: r.get(10),
        updatable: r.get(11),
        self_seed: r.get(12),
    };
    (r.get(0), v, r.get(4), r.get(5))
}

pub(super) fn add(b: &mut Build, views: Vec<ViewRow>) {
    for (name, v, oid, rowtype) in views {
        let key = DepKey::Rel(name.clone());
        if rowtype != 0 {
            b.key(ObjKind::Type, rowtype, key.clone());
        }
        b.key(ObjKind::Class, oid, key);
        b.m.views.insert(name, v);
    }
}

//! User-defined casts (not built in, not from an extension, not the implicit casts of a
//! range type to its multirange).

use tokio_postgres::Row;

/// Each cast as `(source AS target)` and how it converts (`WITH FUNCTION f(int)`,
/// `WITHOUT FUNCTION`, `WITH INOUT`) with its context (`AS ASSIGNMENT`, `AS IMPLICIT`).
pub(super) fn casts_query() -> String {
    r#"
SELECT '(' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')',
       CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure::text
                         WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END
       || CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END
  FROM pg_cast c
 WHERE c.oid >= 16384
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
 ORDER BY 1"#
        .to_owned()
}

/// (`(source AS target)`, method and context).
pub(super) fn cast_row(r: &Row) -> (String, String) {
    (r.get(0), r.get(1))
}

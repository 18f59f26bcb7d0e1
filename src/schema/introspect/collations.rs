//! Collations of the modelled schemas (not from an extension). The ICU locale is in
//! `colliculocale` on PG 15–16 and `colllocale` from PG 17 on; ICU rules exist from PG 16.

use tokio_postgres::Row;

use super::q;

pub(super) fn collations_query(version: i32) -> String {
    let locale = if version >= 170_000 {
        "co.colllocale"
    } else if version >= 150_000 {
        "co.colliculocale"
    } else {
        "co.collcollate"
    };
    let rules = if version >= 160_000 {
        "|| CASE WHEN co.collicurules IS NOT NULL THEN ', rules = ' || quote_literal(co.collicurules) ELSE '' END"
    } else {
        ""
    };
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(co.collname),
       '(provider = ' || CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END
       || CASE WHEN co.collprovider IN ('i', 'b') THEN ', locale = ' || coalesce(quote_literal({locale}), '''''')
               ELSE ', lc_collate = ' || coalesce(quote_literal(co.collcollate), '''''') || ', lc_ctype = ' || coalesce(quote_literal(co.collctype), '''''') END
       {rules}
       || CASE WHEN NOT co.collisdeterministic THEN ', deterministic = false' ELSE '' END || ')'
  FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = co.oid)
 ORDER BY 1"#
    ))
}

/// (name, definition).
pub(super) fn collation_row(r: &Row) -> (String, String) {
    (r.get(0), r.get(1))
}

//! Objects the engine does not model, each with a digest of its definition: a difference
//! there is reported, never silently ignored.

use tokio_postgres::Row;

use super::q;

pub(super) fn unsupported_query() -> String {
    q(r#"
SELECT 'aggregate ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       md5(coalesce(p.prosrc, '') || p.prorettype::regtype::text)
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('a', 'w') AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'operator ' || quote_ident(ns.nspname) || '.' || o.oprname || '(' || o.oprleft::regtype || ',' || o.oprright::regtype || ')', md5(o.oprcode::text)
  FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)
UNION ALL
SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), md5(pg_get_ruledef(r.oid))
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'statistics ' || quote_ident(ns.nspname) || '.' || quote_ident(s.stxname), md5(pg_get_statisticsobjdef(s.oid))
  FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
UNION ALL
SELECT 'text search configuration ' || quote_ident(ns.nspname) || '.' || quote_ident(t.cfgname), md5(t.cfgparser::text)
  FROM pg_ts_config t JOIN ns ON ns.oid = t.cfgnamespace
"#)
}

/// (what and name, digest).
pub(super) fn unsupported_row(r: &Row) -> (String, String) {
    (r.get(0), r.get(1))
}

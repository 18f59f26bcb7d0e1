//! Objects the engine does not model, each with a digest of its definition: a difference
//! there is reported, never silently ignored.

use tokio_postgres::Row;

use super::census::{Census, Flag};
use super::q;

/// Each kind's `SELECT`, and whether the census says its catalog holds a user's object.
#[rustfmt::skip]
const PARTS: &[(Flag, &str)] = &[
    (|c| c.functions, r#"
SELECT 'window function ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       md5(coalesce(p.prosrc, '') || p.prorettype::regtype::text)
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind = 'w' AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)"#),
    (|c| c.opclasses, r#"SELECT 'operator class ' || quote_ident(ns.nspname) || '.' || quote_ident(oc.opcname) || ' using ' || am.amname,
       md5(oc.opcintype::regtype::text || oc.opcdefault::text || (SELECT fo.opfname FROM pg_opfamily fo WHERE fo.oid = oc.opcfamily))
  FROM pg_opclass oc JOIN ns ON ns.oid = oc.opcnamespace JOIN pg_am am ON am.oid = oc.opcmethod
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_opclass'::regclass AND ext.objid = oc.oid)"#),
    (|c| c.opfamilies, r#"SELECT 'operator family ' || quote_ident(ns.nspname) || '.' || quote_ident(f.opfname) || ' using ' || am.amname,
       md5(coalesce((SELECT string_agg(ao.amopopr::regoperator::text || '/' || ao.amopstrategy, ',' ORDER BY ao.amopstrategy, ao.amopopr::regoperator::text)
                       FROM pg_amop ao WHERE ao.amopfamily = f.oid), '')
           || coalesce((SELECT string_agg(ap.amproc::regprocedure::text || '/' || ap.amprocnum, ',' ORDER BY ap.amprocnum, ap.amproc::regprocedure::text)
                          FROM pg_amproc ap WHERE ap.amprocfamily = f.oid), ''))
  FROM pg_opfamily f JOIN ns ON ns.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_opfamily'::regclass AND ext.objid = f.oid)"#),
];

/// The query of the kinds the database holds (`None`: none of them).
pub(super) fn unsupported_query(census: &Census) -> Option<String> {
    let parts: Vec<&str> = PARTS
        .iter()
        .filter(|(present, _)| present(census))
        .map(|(_, sql)| *sql)
        .collect();
    (!parts.is_empty()).then(|| q(&parts.join("\nUNION ALL\n")))
}

/// (what and name, digest).
pub(super) fn unsupported_row(r: &Row) -> (String, String) {
    (r.get(0), r.get(1))
}

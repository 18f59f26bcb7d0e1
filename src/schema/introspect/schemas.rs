//! Schemas and extensions.

use tokio_postgres::Row;

use super::super::model::Extension;
use super::q;

pub(super) fn schemas_query() -> String {
    q("SELECT quote_ident(nspname) FROM ns ORDER BY 1")
}

pub(super) fn schema_row(r: &Row) -> String {
    r.get(0)
}

pub(super) const EXTENSIONS: &str = "SELECT quote_ident(e.extname), quote_ident(n.nspname), e.extversion, \
    ARRAY(SELECT quote_ident(r.extname) FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid \
           WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid AND d.refclassid = 'pg_extension'::regclass ORDER BY 1), \
    ARRAY(SELECT m FROM (\
      SELECT 'type:' || quote_ident(tn.nspname) || '.' || quote_ident(t.typname) AS m \
        FROM pg_depend d JOIN pg_type t ON t.oid = d.objid JOIN pg_namespace tn ON tn.oid = t.typnamespace \
       WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e' AND d.classid = 'pg_type'::regclass \
      UNION ALL \
      SELECT 'fn:' || quote_ident(pn.nspname) || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')' \
        FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid JOIN pg_namespace pn ON pn.oid = p.pronamespace \
       WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e' AND d.classid = 'pg_proc'::regclass \
    ) ms ORDER BY 1) \
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1";

pub(super) fn extension_row(r: &Row) -> (String, Extension) {
    let e = Extension {
        schema: r.get(1),
        version: r.get(2),
        requires: r.get(3),
        members: r.get(4),
    };
    (r.get(0), e)
}

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
           WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid AND d.refclassid = 'pg_extension'::regclass ORDER BY 1) \
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1";

pub(super) fn extension_row(r: &Row) -> (String, Extension) {
    let e = Extension {
        schema: r.get(1),
        version: r.get(2),
        requires: r.get(3),
    };
    (r.get(0), e)
}

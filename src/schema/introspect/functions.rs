//! Functions and procedures (aggregates and window functions are unsupported objects).

use tokio_postgres::Row;

use super::super::model::{DepKey, Function, FunctionKind};
use super::{first_char, q, Build, ObjKind};

pub(super) fn functions_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.oid::int8, pg_get_functiondef(p.oid), p.prokind::text, coalesce(pg_get_function_result(p.oid), ''),
       pg_get_function_arguments(p.oid),
       quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')'
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
 ORDER BY 1"#)
}

/// (name with identity arguments, OID, function).
pub(super) type FunctionRow = (String, i64, Function);

pub(super) fn function_row(r: &Row) -> FunctionRow {
    let f = Function {
        definition: r.get(2),
        kind: FunctionKind::from_prokind(first_char(r.get::<_, &str>(3), 'f')),
        returns: r.get(4),
        arguments: r.get(5),
        signature: r.get(6),
    };
    (r.get(0), r.get(1), f)
}

pub(super) fn add(b: &mut Build, functions: Vec<FunctionRow>) {
    for (name, oid, f) in functions {
        b.key(ObjKind::Proc, oid, DepKey::Fn(name.clone()));
        b.m.functions.insert(name, f);
    }
}

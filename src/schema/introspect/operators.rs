//! Operators (not shells: an operator named only as another's commutator or negator): the
//! query spells `CREATE OPERATOR` from `pg_operator`. Each operator depends on its function
//! (an edge in the model's dependencies), and lists what uses it, for messages.

use tokio_postgres::Row;

use super::super::model::{DepKey, Operator};
use super::{oid_of, q, Build, ObjKind};

/// `schema.name` of the function whose OID is `col`, NULL for 0.
fn proc_name(col: &str) -> String {
    format!(
        "(SELECT quote_ident(pn.nspname) || '.' || quote_ident(pp.proname) FROM pg_proc pp \
         JOIN pg_namespace pn ON pn.oid = pp.pronamespace WHERE pp.oid = {col}::oid)"
    )
}

/// `OPERATOR(schema.op)` of the operator whose OID is `col`, NULL for 0.
fn op_name(col: &str) -> String {
    format!(
        "(SELECT 'OPERATOR(' || quote_ident(xn.nspname) || '.' || xo.oprname || ')' FROM pg_operator xo \
         JOIN pg_namespace xn ON xn.oid = xo.oprnamespace WHERE xo.oid = {col}::oid)"
    )
}

/// What depends on the object `oid` of catalog `class`, described (a view's rule as the view).
pub(super) fn used_by(class: &str, oid: &str) -> String {
    format!(
        "ARRAY(SELECT DISTINCT pg_describe_object(CASE WHEN ur.oid IS NULL THEN ud.classid ELSE 'pg_class'::regclass END, \
         coalesce(ur.ev_class, ud.objid), CASE WHEN ur.oid IS NULL THEN ud.objsubid ELSE 0 END) \
         FROM pg_depend ud LEFT JOIN pg_rewrite ur ON ud.classid = 'pg_rewrite'::regclass AND ur.oid = ud.objid \
         WHERE ud.refclassid = '{class}'::regclass AND ud.refobjid = {oid} AND ud.deptype IN ('n', 'a') ORDER BY 1)"
    )
}

pub(super) fn operators_query() -> String {
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || o.oprname || '('
         || CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END || ', '
         || format_type(o.oprright, NULL) || ')',
       'CREATE OPERATOR ' || quote_ident(ns.nspname) || '.' || o.oprname || ' (FUNCTION = ' || {code}
         || CASE WHEN o.oprleft <> 0 THEN ', LEFTARG = ' || format_type(o.oprleft, NULL) ELSE '' END
         || ', RIGHTARG = ' || format_type(o.oprright, NULL)
         || coalesce(', COMMUTATOR = ' || {com}, '') || coalesce(', NEGATOR = ' || {neg}, '')
         || CASE WHEN o.oprcanhash THEN ', HASHES' ELSE '' END
         || CASE WHEN o.oprcanmerge THEN ', MERGES' ELSE '' END,
       coalesce('RESTRICT = ' || {rest}, 'RESTRICT = NONE') || ', ' || coalesce('JOIN = ' || {join}, 'JOIN = NONE'),
       {used},
       o.oprcode::oid::int8
  FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
 WHERE o.oprcode::oid <> 0
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)
 ORDER BY 1"#,
        code = proc_name("o.oprcode"),
        com = op_name("o.oprcom"),
        neg = op_name("o.oprnegate"),
        rest = proc_name("o.oprrest"),
        join = proc_name("o.oprjoin"),
        used = used_by("pg_operator", "o.oid"),
    ))
}

/// (name, operator, OID of its function).
pub(super) type OperatorRow = (String, Operator, i64);

pub(super) fn operator_row(r: &Row) -> OperatorRow {
    let head: String = r.get(1);
    let estimators: String = r.get(2);
    let mut parts: Vec<&str> = Vec::new();
    for e in estimators.split(", ") {
        if !e.ends_with("= NONE") {
            parts.push(e);
        }
    }
    let extra = if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    };
    let o = Operator {
        definition: format!("{head}{extra})"),
        estimators,
        used_by: r.get(3),
    };
    (r.get(0), o, r.get(4))
}

pub(super) fn add(b: &mut Build, operators: Vec<OperatorRow>) {
    for (name, o, code) in operators {
        let key = DepKey::Operator(name.clone());
        if let Some(f) = b
            .keys
            .get(&(ObjKind::Proc, i64::from(oid_of(code))))
            .cloned()
        {
            b.m.deps.entry(key).or_default().insert(f);
        }
        b.m.operators.insert(name, o);
    }
}

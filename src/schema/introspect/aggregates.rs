//! Aggregates (`pg_proc.prokind = 'a'`): the server has no deparser for them, so the query
//! spells `CREATE AGGREGATE` from `pg_aggregate`, every option explicit. Their OIDs are keyed
//! like functions' so the dependencies query links them to their support functions and to
//! the views that call them.

use tokio_postgres::Row;

use super::super::model::{Aggregate, DepKey};
use super::{first_char, q, Build, ObjKind};

/// `schema.name` of the function whose OID is `col`, NULL for 0.
fn proc_name(col: &str) -> String {
    format!(
        "(SELECT quote_ident(pn.nspname) || '.' || quote_ident(pp.proname) FROM pg_proc pp \
         JOIN pg_namespace pn ON pn.oid = pp.pronamespace WHERE pp.oid = {col}::oid)"
    )
}

pub(super) fn aggregates_query() -> String {
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.oid::int8,
       'CREATE AGGREGATE ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '('
         || CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_arguments(p.oid) END || ')',
       a.aggkind::text, {sfunc}, format_type(a.aggtranstype, NULL), a.aggtransspace,
       {finalfn}, a.aggfinalextra, a.aggfinalmodify::text, {combinefn}, {serialfn}, {deserialfn}, a.agginitval,
       {msfunc}, {minvfunc}, CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END,
       a.aggmtransspace, {mfinalfn}, a.aggmfinalextra, a.aggmfinalmodify::text, a.aggminitval,
       (SELECT 'OPERATOR(' || quote_ident(opn.nspname) || '.' || op.oprname || ')' FROM pg_operator op
          JOIN pg_namespace opn ON opn.oid = op.oprnamespace WHERE op.oid = a.aggsortop),
       p.proparallel::text, coalesce(pg_get_function_result(p.oid), '')
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace JOIN pg_aggregate a ON a.aggfnoid = p.oid
 WHERE p.prokind = 'a'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
 ORDER BY 1"#,
        sfunc = proc_name("a.aggtransfn"),
        finalfn = proc_name("a.aggfinalfn"),
        combinefn = proc_name("a.aggcombinefn"),
        serialfn = proc_name("a.aggserialfn"),
        deserialfn = proc_name("a.aggdeserialfn"),
        msfunc = proc_name("a.aggmtransfn"),
        minvfunc = proc_name("a.aggminvtransfn"),
        mfinalfn = proc_name("a.aggmfinalfn"),
    ))
}

/// (name with identity arguments, OID, aggregate).
pub(super) type AggregateRow = (String, i64, Aggregate);

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn modify(code: char) -> &'static str {
    match code {
        's' => "SHAREABLE",
        'w' => "READ_WRITE",
        _ => "READ_ONLY",
    }
}

pub(super) fn aggregate_row(r: &Row) -> AggregateRow {
    let s = |i: usize| -> Option<String> { r.get(i) };
    let kind = first_char(r.get::<_, &str>(3), 'n');
    let mut opts = vec![
        format!("SFUNC = {}", s(4).unwrap_or_default()),
        format!("STYPE = {}", s(5).unwrap_or_default()),
    ];
    let space: i32 = r.get(6);
    if space != 0 {
        opts.push(format!("SSPACE = {space}"));
    }
    if let Some(f) = s(7) {
        opts.push(format!("FINALFUNC = {f}"));
        if r.get::<_, bool>(8) {
            opts.push("FINALFUNC_EXTRA".into());
        }
        opts.push(format!(
            "FINALFUNC_MODIFY = {}",
            modify(first_char(r.get::<_, &str>(9), 'r'))
        ));
    }
    for (i, what) in [
        (10, "COMBINEFUNC"),
        (11, "SERIALFUNC"),
        (12, "DESERIALFUNC"),
    ] {
        if let Some(f) = s(i) {
            opts.push(format!("{what} = {f}"));
        }
    }
    if let Some(v) = s(13) {
        opts.push(format!("INITCOND = {}", lit(&v)));
    }
    if let Some(f) = s(14) {
        opts.push(format!("MSFUNC = {f}"));
    }
    if let Some(f) = s(15) {
        opts.push(format!("MINVFUNC = {f}"));
    }
    if let Some(t) = s(16) {
        opts.push(format!("MSTYPE = {t}"));
    }
    let mspace: i32 = r.get(17);
    if mspace != 0 {
        opts.push(format!("MSSPACE = {mspace}"));
    }
    if let Some(f) = s(18) {
        opts.push(format!("MFINALFUNC = {f}"));
        if r.get::<_, bool>(19) {
            opts.push("MFINALFUNC_EXTRA".into());
        }
        opts.push(format!(
            "MFINALFUNC_MODIFY = {}",
            modify(first_char(r.get::<_, &str>(20), 'r'))
        ));
    }
    if let Some(v) = s(21) {
        opts.push(format!("MINITCOND = {}", lit(&v)));
    }
    if let Some(op) = s(22) {
        opts.push(format!("SORTOP = {op}"));
    }
    match first_char(r.get::<_, &str>(23), 'u') {
        's' => opts.push("PARALLEL = SAFE".into()),
        'r' => opts.push("PARALLEL = RESTRICTED".into()),
        _ => {}
    }
    if kind == 'h' {
        opts.push("HYPOTHETICAL".into());
    }
    let head: String = r.get(2);
    let a = Aggregate {
        definition: format!("{head} ({})", opts.join(", ")),
        kind,
        returns: r.get(24),
    };
    (r.get(0), r.get(1), a)
}

pub(super) fn add(b: &mut Build, aggregates: Vec<AggregateRow>) {
    for (name, oid, a) in aggregates {
        b.key(ObjKind::Proc, oid, DepKey::Aggregate(name.clone()));
        b.m.aggregates.insert(name, a);
    }
}

//! Dependencies between the objects read by the other queries, from `pg_depend`.

use tokio_postgres::Row;

use super::super::compact::SortedSet;
use super::super::model::{DepKey, Deps};
use super::{first_char, Build};

/// The catalog an object lives in: with its OID, what identifies it in `pg_depend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum ObjKind {
    /// `pg_class` (also a view's rule and a column default, which stand for their relation).
    Class,
    /// `pg_type`.
    Type,
    /// `pg_proc`.
    Proc,
    /// `pg_constraint`.
    Constraint,
    /// `pg_trigger`.
    Trigger,
    /// `pg_policy`.
    Policy,
}

impl ObjKind {
    /// The kind as the dependencies query spells it.
    fn from_code(code: char) -> Option<ObjKind> {
        Some(match code {
            'c' => ObjKind::Class,
            't' => ObjKind::Type,
            'f' => ObjKind::Proc,
            'k' => ObjKind::Constraint,
            'g' => ObjKind::Trigger,
            'p' => ObjKind::Policy,
            _ => return None,
        })
    }
}

/// Dependencies as bare OIDs, keyed below with the names read above. A view's rule stands
/// for the view, a default or generation expression for its column (its link to that very
/// column says nothing and is left out). An index's links to its own table's columns are
/// left out too: Postgres rebuilds or drops an index with its columns, so the plan never
/// orders around them, and on a wide schema they are the bulk of pg_depend. Built-in
/// objects (OIDs below 16384) are never modelled.
pub(super) const DEPENDENCIES: &str = r#"
SELECT CASE WHEN d.classid IN ('pg_class'::regclass, 'pg_rewrite'::regclass, 'pg_attrdef'::regclass) THEN 'c'
            WHEN d.classid = 'pg_type'::regclass THEN 't' WHEN d.classid = 'pg_proc'::regclass THEN 'f'
            WHEN d.classid = 'pg_constraint'::regclass THEN 'k' WHEN d.classid = 'pg_trigger'::regclass THEN 'g'
            ELSE 'p' END,
       coalesce(r.ev_class, ad.adrelid, d.objid)::int8, coalesce(ad.adnum::int4, d.objsubid),
       CASE WHEN d.refclassid = 'pg_class'::regclass THEN 'c' WHEN d.refclassid = 'pg_type'::regclass THEN 't'
            WHEN d.refclassid = 'pg_proc'::regclass THEN 'f' WHEN d.refclassid = 'pg_constraint'::regclass THEN 'k'
            WHEN d.refclassid = 'pg_trigger'::regclass THEN 'g' ELSE 'p' END,
       d.refobjid::int8, d.refobjsubid
  FROM pg_depend d
  LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
  -- Defaults and indexes are hashed once (`OFFSET 0`), not probed by index for every edge.
  LEFT JOIN (SELECT oid, adrelid, adnum FROM pg_attrdef OFFSET 0) ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
  LEFT JOIN (SELECT oid FROM pg_class WHERE relkind IN ('i', 'I') OFFSET 0) ix
         ON d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND ix.oid = d.objid
 WHERE d.deptype IN ('n', 'a') AND ix.oid IS NULL AND d.objid >= 16384 AND d.refobjid >= 16384
   AND d.classid IN ('pg_class'::regclass, 'pg_rewrite'::regclass, 'pg_attrdef'::regclass, 'pg_type'::regclass,
                     'pg_proc'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
   AND d.refclassid IN ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass,
                        'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
   AND (ad.oid IS NULL OR NOT (d.refclassid = 'pg_class'::regclass AND d.refobjid = ad.adrelid AND d.refobjsubid = ad.adnum))"#;

/// One edge: the dependent object (kind, OID, column) and the one it depends on.
pub(super) struct DepRow {
    from: (Option<ObjKind>, i64, i32),
    to: (Option<ObjKind>, i64, i32),
}

pub(super) fn dep_row(r: &Row) -> DepRow {
    let kind = |i: usize| ObjKind::from_code(first_char(r.get::<_, &str>(i), 'c'));
    DepRow {
        from: (kind(0), r.get(1), r.get(2)),
        to: (kind(3), r.get(4), r.get(5)),
    }
}

/// Records that `a` depends on `b`, copying the keys only when they are new.
fn add_edge(deps: &mut Deps, a: &DepKey, b: &DepKey) {
    match deps.get_mut(a) {
        Some(set) => {
            if !set.contains(b) {
                set.insert(b.clone());
            }
        }
        None => {
            deps.insert(a.clone(), SortedSet::from([b.clone()]));
        }
    }
}

/// Turns the edges into dependencies between the keys of the objects read.
pub(super) fn add(b: &mut Build, rows: Vec<DepRow>) {
    let keys = &b.keys;
    let key = |(kind, oid, _): (Option<ObjKind>, i64, i32)| keys.get(&(kind?, oid));
    for DepRow { from, to } in rows {
        let (Some(ak), Some(bk)) = (key(from), key(to)) else {
            continue;
        };
        if ak != bk {
            add_edge(&mut b.m.deps, ak, bk);
        }
        // Column-level edges too: a view, policy, trigger or generated column that reads a
        // column whose type changes must be rebuilt around the change.
        // Column keys are written only for the columns an edge names.
        if from.2 > 0 || to.2 > 0 {
            let column = |(kind, oid, sub): (Option<ObjKind>, i64, i32)| -> Option<DepKey> {
                if kind != Some(ObjKind::Class) || sub <= 0 {
                    return None;
                }
                let name = &b.names.get(&(oid, sub))?.quoted;
                Some(DepKey::Col(format!("{}.{name}", b.table_of.get(&oid)?)))
            };
            let (ca, cb) = (column(from), column(to));
            let (a, c) = (ca.as_ref().unwrap_or(ak), cb.as_ref().unwrap_or(bk));
            if a != c {
                add_edge(&mut b.m.deps, a, c);
            }
        }
    }
}

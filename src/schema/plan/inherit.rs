//! Columns that move in a plain inheritance hierarchy.
//!
//! Dropped from a parent but declared by a child in B (moved down): `ALTER TABLE ONLY parent
//! DROP COLUMN` turns the children's inherited copies into local columns that keep their
//! data; children that do not keep it lose it explicitly. A column whose "declared here"
//! flag (`attislocal`) must change any other way has no statement in Postgres (a local column
//! cannot become inherited-only; an inherited one becomes local only when every parent lets
//! go of it): that is reported, naming the column, instead of a plan that leaves the
//! hierarchy different.

use super::super::model::{Model, Table};
use super::{h, Cx, HazardKind, Phase, Stmt};

/// Direct inheritance children of `parent` (in A and B) with their tables in A and B.
fn children<'m>(a: &'m Model, b: &'m Model, parent: &str) -> Vec<(&'m str, &'m Table, &'m Table)> {
    b.tables
        .iter()
        .filter(|(_, t)| t.inherits.iter().any(|p| p == parent))
        .filter_map(|(k, t)| {
            let old = a.tables.get(k)?;
            old.inherits
                .iter()
                .any(|p| p == parent)
                .then_some((k.as_str(), old, t))
        })
        .collect()
}

/// Children of `parent` that declare column `col` in A with another type or collation than
/// the one `parent` adds it with: Postgres merges a column a parent adds into the children's
/// only when they agree, so moving a column up while its type changes fails. Refused up
/// front, naming them.
pub(super) fn moved_up_retyped(
    x: &Cx<'_>,
    parent: &str,
    col: &super::super::model::Column,
) -> Vec<String> {
    children(x.a, x.b, parent)
        .into_iter()
        .filter(|(_, old, _)| {
            old.column(&col.name)
                .is_some_and(|c| c.data_type != col.data_type || c.collation != col.collation)
        })
        .map(|(k, ..)| k.to_owned())
        .collect()
}

/// Whether column `col` of child `k` is one a parent adds in this plan while the child's type
/// changes (refused with the parent's column: see [`moved_up_retyped`]).
pub(super) fn moving_up_retyped(x: &Cx<'_>, old: &Table, t: &Table, col: &str) -> bool {
    let retyped = match (old.column(col), t.column(col)) {
        (Some(o), Some(n)) => o.data_type != n.data_type || o.collation != n.collation,
        _ => false,
    };
    retyped
        && t.inherits.iter().any(|p| {
            x.b.tables.get(p).is_some_and(|pb| pb.column(col).is_some())
                && x.a.tables.get(p).is_some_and(|pa| pa.column(col).is_none())
                && old.inherits.contains(p)
        })
}

/// Children of `parent` whose column `col` was inherited only in A and is declared by them
/// in B: they keep it when the parent drops it.
pub(super) fn children_keeping(x: &Cx<'_>, parent: &str, col: &str) -> Vec<String> {
    children(x.a, x.b, parent)
        .into_iter()
        .filter(|(_, old, t)| {
            old.column(col).is_some_and(|c| c.inherited)
                && t.column(col).is_some_and(|c| !c.inherited)
        })
        .map(|(k, ..)| k.to_owned())
        .collect()
}

/// The column leaves `parent` only: the children that keep it keep their rows' values; the
/// other children that inherited it drop it.
pub(super) fn drop_parent_only(x: &mut Cx<'_>, parent: &str, col: &str, keepers: &[String]) {
    let (a, b) = (x.a, x.b);
    x.push(
        Stmt::new(
            Phase::DropParentOnlyColumns,
            format!("ALTER TABLE ONLY {parent} DROP COLUMN {col}"),
        )
        .hazards(vec![
            h(
                HazardKind::DeletesData,
                format!(
                    "the values of column {col} in the rows of {parent} itself are lost ({} keep theirs: the column becomes declared there)",
                    keepers.join(", ")
                ),
            ),
            h(
                HazardKind::AccessExclusiveLock,
                "brief ACCESS EXCLUSIVE lock on the parent and its children",
            ),
        ]),
    );
    for (k, old, t) in children(a, b, parent) {
        let inherited_only = old.column(col).is_some_and(|c| c.inherited);
        if inherited_only && t.column(col).is_none() {
            x.push(
                Stmt::new(
                    Phase::DropParentOnlyColumns,
                    format!("ALTER TABLE {k} DROP COLUMN {col}"),
                )
                .hazards(vec![
                    h(
                        HazardKind::DeletesData,
                        format!("the data of column {col} is lost"),
                    ),
                    h(
                        HazardKind::AccessExclusiveLock,
                        "brief ACCESS EXCLUSIVE lock; clients still using the column break",
                    ),
                ]),
            );
        }
    }
}

/// Columns of table `k` (kept, with the same parents) whose "declared here" flag changes in
/// a way no statement does: reported as unsupported, naming the column.
pub(super) fn check_local_flags(x: &mut Cx<'_>, k: &str, old: &Table, t: &Table) {
    if t.inherits.is_empty() || old.inherits != t.inherits {
        return;
    }
    let mut out = Vec::new();
    for c in &t.columns {
        let Some(oc) = old.column(&c.name) else {
            continue;
        };
        if c.inherited && !oc.inherited {
            out.push(format!(
                "column {k}.{}: declared on {k} in the source, only inherited in the target — Postgres cannot make a declared column inherited-only (dropping it loses {k}'s values); not supported by the schema engine; write this change by hand",
                c.name
            ));
        } else if !c.inherited && oc.inherited {
            let moved_down = t.inherits.iter().any(|p| {
                children_keeping(x, p, &c.name).iter().any(|ch| ch == k)
                    && x.b
                        .tables
                        .get(p)
                        .is_some_and(|pt| pt.column(&c.name).is_none())
            });
            if !moved_down {
                out.push(format!(
                    "column {k}.{}: inherited in the source, also declared on {k} in the target while its parent keeps it — no statement declares an inherited column; not supported by the schema engine; write this change by hand",
                    c.name
                ));
            }
        }
    }
    for u in out {
        x.unsupported(u);
    }
}

//! CHECK constraints a child table (of inheritance or a partition) both inherits and declares
//! itself (`conislocal` and `coninhcount > 0`; the model holds a child's constraint only when
//! it declares it). PostgreSQL merges a declaration added to a child with the one it
//! inherits, but cannot drop a child's own declaration of an inherited constraint ("cannot
//! drop inherited constraint"): children drop theirs after their parents (whose drop leaves
//! the child's standing alone); where the parent's constraint stays, the drop is refused
//! (attacker F21, ih_chk_local_mask).

use super::super::model::{Constraint, ConstraintKind, Model, Table};
use super::Cx;

/// The tables of `m`, parents before their children.
pub(super) fn parents_first(m: &Model) -> Vec<(&String, &Table)> {
    let mut all: Vec<(usize, &String, &Table)> =
        m.tables.iter().map(|(k, t)| (depth(m, k), k, t)).collect();
    all.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.cmp(y.1)));
    all.into_iter().map(|(_, k, t)| (k, t)).collect()
}

fn depth(m: &Model, k: &str) -> usize {
    let mut d = 0;
    let mut level = vec![k.to_owned()];
    while !level.is_empty() && d < 64 {
        level = level
            .iter()
            .filter_map(|k| m.tables.get(k))
            .flat_map(parents)
            .collect();
        if !level.is_empty() {
            d += 1;
        }
    }
    d
}

fn parents(t: &Table) -> Vec<String> {
    let mut p = t.inherits.clone();
    p.extend(t.partition_of.iter().map(|(p, _)| p.clone()));
    p
}

/// The parent of `k` in `m` that has the CHECK `n` (which `k` then inherits), if any.
fn parent_with(m: &Model, k: &str, n: &str) -> Option<String> {
    parents(m.tables.get(k)?).into_iter().find(|p| {
        m.tables
            .get(p)
            .and_then(|pt| pt.constraints.get(n))
            .is_some_and(|c| c.kind == ConstraintKind::Check)
    })
}

/// Whether the parent's constraint `n` stays as it is on both sides, `k` inheriting it.
fn stays_inherited(x: &Cx<'_>, k: &str, n: &str) -> Option<String> {
    let p = parent_with(x.a, k, n)?;
    (parent_with(x.b, k, n).as_deref() == Some(p.as_str())
        && x.a.tables[&p].constraints[n].definition == x.b.tables[&p].constraints[n].definition)
        .then_some(p)
}

/// A CHECK `n` of `k` that goes from the model (`c`): refused, and not dropped, when `k`
/// declares it itself now and only inherits it in the desired schema.
pub(super) fn local_drop_refused(x: &mut Cx<'_>, k: &str, n: &str, c: &Constraint) -> bool {
    if c.kind != ConstraintKind::Check || !x.b.tables.contains_key(k) {
        return false;
    }
    let Some(p) = stays_inherited(x, k, n) else {
        return false;
    };
    x.unsupported(format!(
        "table {k}: CHECK {n} is declared on it and inherited from {p}; the desired schema has it inherited only — PostgreSQL cannot drop a table's own declaration of an inherited constraint: write this change by hand (drop {n} from {p} and from {k}, then add it to {p} again), or keep {k}'s declaration"
    ));
    true
}

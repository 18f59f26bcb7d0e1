//! Composite types whose attributes change type. Postgres refuses `ALTER ATTRIBUTE … TYPE`
//! while a table column stores the type (the rows would have to be rewritten: refused here,
//! naming the columns) or while a view reads the attribute (the views are dropped before the
//! change and created again after, as around a retyped table column).

use std::collections::BTreeSet;

use super::super::model::{DepKey, Model};
use super::sql::element_type;
use super::Phase;

/// Composite types of both sides with an attribute whose type changes.
fn retyped<'m>(a: &'m Model, b: &'m Model) -> Vec<&'m String> {
    b.composites
        .iter()
        .filter_map(|(k, attrs)| {
            let old = a.composites.get(k)?;
            old.iter()
                .any(|(n, t)| attrs.iter().any(|(m, u)| m == n && u != t))
                .then_some(k)
        })
        .collect()
}

/// The table columns of `a` that store composite type `k` (itself, an array of it, a domain
/// over it, or a composite type that holds it): Postgres cannot retype an attribute under them.
pub(super) fn stored_in(a: &Model, k: &str) -> Vec<String> {
    // `k` and the composite types that hold it, at any depth.
    let mut types: BTreeSet<&str> = BTreeSet::from([k]);
    loop {
        let more: Vec<&str> = a
            .composites
            .iter()
            .filter(|(c, attrs)| {
                !types.contains(c.as_str()) && attrs.iter().any(|(_, t)| over(a, &types, t))
            })
            .map(|(c, _)| c.as_str())
            .collect();
        if more.is_empty() {
            break;
        }
        types.extend(more);
    }
    a.tables
        .iter()
        .flat_map(|(tk, t)| {
            t.columns
                .iter()
                .filter(|c| !c.inherited && over(a, &types, &c.data_type))
                .map(move |c| format!("{tk}.{}", c.name))
        })
        .collect()
}

/// `ALTER TYPE k DROP ATTRIBUTE n`: the attribute's values go from every row of the columns
/// that store the type (attack9 F2), as a typed table's column does (`typed::cascade`).
pub(super) fn drop_attribute(a: &Model, k: &str, n: &str, phase: Phase) -> super::Stmt {
    let stmt = super::Stmt::new(phase, format!("ALTER TYPE {k} DROP ATTRIBUTE {n}"));
    let stored = stored_in(a, k);
    if stored.is_empty() {
        return stmt;
    }
    stmt.hazard(
        super::HazardKind::DeletesData,
        format!(
            "values of attribute {n} stored in column {} are lost (the attribute goes from every stored row)",
            stored.join(", ")
        ),
    )
}

/// Whether type `t` is one of `types`, an array of one, or a domain over one.
fn over(a: &Model, types: &BTreeSet<&str>, t: &str) -> bool {
    let e = element_type(t);
    types.contains(e)
        || a.domains
            .get(e)
            .is_some_and(|d| types.contains(element_type(&d.base)))
}

/// Views of `a` that read a composite type whose attribute changes type (and that no table
/// column stores: that change is refused): dropped before the change, created again after.
pub(super) fn views_over_retyped(a: &Model, b: &Model) -> BTreeSet<DepKey> {
    let types: BTreeSet<DepKey> = retyped(a, b)
        .into_iter()
        .filter(|k| stored_in(a, k).is_empty())
        .map(|k| DepKey::Type(k.clone()))
        .collect();
    a.views
        .keys()
        .map(|v| DepKey::Rel(v.clone()))
        .filter(|v| {
            a.deps
                .get(v)
                .is_some_and(|ds| ds.iter().any(|d| types.contains(d)))
        })
        .collect()
}

/// When composite type `k`'s attributes change: with the other types, or once the views
/// that read it are dropped (the phase after `DropViews` that runs before any view or
/// function is created again).
pub(super) fn phase(a: &Model, k: &str) -> Phase {
    let key = DepKey::Type(k.to_owned());
    let read_by_view = a.views.keys().any(|v| {
        a.deps
            .get(&DepKey::Rel(v.clone()))
            .is_some_and(|ds| ds.contains(&key))
    });
    if read_by_view {
        Phase::DropReplacedFunctions
    } else {
        Phase::AlterTypes
    }
}

/// Composite type `k`'s attributes in another order than the plan leaves them (the ones it
/// keeps in their order, the ones it adds last): Postgres cannot reorder attributes, and row
/// constructors, `(x).*` and casts from records see the order. Reported, as for table columns.
pub(super) fn order_differs(
    old: &[(String, String)],
    new: &[(String, String)],
) -> Option<(Vec<String>, Vec<String>)> {
    let has = |attrs: &[(String, String)], n: &str| attrs.iter().any(|(m, _)| m == n);
    let mut after: Vec<String> = old
        .iter()
        .filter(|(n, _)| has(new, n))
        .map(|(n, _)| n.clone())
        .collect();
    after.extend(
        new.iter()
            .filter(|(n, _)| !has(old, n))
            .map(|(n, _)| n.clone()),
    );
    let desired: Vec<String> = new.iter().map(|(n, _)| n.clone()).collect();
    (after != desired).then_some((after, desired))
}

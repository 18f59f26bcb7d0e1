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

/// Whether function `f` has a SQL-standard body (`BEGIN ATOMIC`, `RETURN`): no `AS` clause.
/// Only such a body is resolved when created, and recorded in `pg_depend`.
pub(super) fn atomic(f: &super::super::model::Function) -> bool {
    !f.definition.contains("\nAS ")
}

/// Composite types of both sides (that no table column stores) with an attribute that changes
/// type or goes: Postgres refuses that under a SQL-standard body that reads the attribute
/// ("cannot alter type of a column used by a function"), and a body created before the
/// change keeps the old attributes.
fn altered(a: &Model, b: &Model) -> BTreeSet<DepKey> {
    b.composites
        .iter()
        .filter(|(k, attrs)| {
            a.composites.get(*k).is_some_and(|old| {
                old.iter()
                    .any(|(n, t)| !attrs.iter().any(|(m, u)| m == n && u == t))
            }) && stored_in(a, k).is_empty()
        })
        .map(|(k, _)| DepKey::Type(k.clone()))
        .collect()
}

/// The functions of `m` with a SQL-standard body that use a composite type of [`altered`]:
/// those of `a` are dropped before the change and created again after it (attack F8
/// a_atomic_type), those of `b` are created after it.
pub(super) fn atomic_users(a: &Model, b: &Model, m: &Model) -> BTreeSet<String> {
    let types = altered(a, b);
    if types.is_empty() {
        return BTreeSet::new();
    }
    m.functions
        .iter()
        .filter(|(k, f)| {
            atomic(f)
                && m.deps
                    .get(&DepKey::Fn((*k).clone()))
                    .is_some_and(|ds| ds.iter().any(|d| types.contains(d)))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// When composite type `k`'s attributes change: with the other types, or once the views
/// that read it are dropped (the phase after `DropViews` that runs before any view or
/// function is created again), or — when a function with a SQL-standard body uses it — once
/// those functions are dropped, before they are created again (`RecreateFunctions`: the
/// types' statements of a phase come before the functions').
pub(super) fn phase(a: &Model, b: &Model, k: &str) -> Phase {
    let key = DepKey::Type(k.to_owned());
    let read_by_fn = |m: &Model| {
        m.functions.iter().any(|(f, def)| {
            atomic(def)
                && m.deps
                    .get(&DepKey::Fn(f.clone()))
                    .is_some_and(|ds| ds.contains(&key))
        })
    };
    if altered(a, b).contains(&key) && (read_by_fn(a) || read_by_fn(b)) {
        return Phase::RecreateFunctions;
    }
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

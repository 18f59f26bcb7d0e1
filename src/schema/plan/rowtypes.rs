//! Objects over a relation's row type: a domain or composite type over a table's row type
//! (`CREATE DOMAIN d AS t`), a function or aggregate taking or returning it. `pg_depend`
//! links them to the relation's `pg_type` row, which the model keys as the relation itself
//! ([`DepKey::Rel`]), so the edges are there; but the kinds are created and dropped in their
//! own phases (types before tables, functions and aggregates dropped after them), which
//! those edges contradict (trial9 P2–P6). Such objects are ordered with their relations:
//! created among the tables when they are new over a new table, dropped among the views or
//! tables they depend on when both go.

use std::collections::BTreeSet;

use super::super::model::{DepKey, Model};
use super::{Cx, Phase};

/// New domains and composite types of B over the row type of a table the plan creates, or
/// over such a type: created among the tables (see `tables::create`), after it.
pub(super) fn late_types(a: &Model, b: &Model) -> BTreeSet<String> {
    let new_type = |k: &String| {
        (b.domains.contains_key(k) && !a.domains.contains_key(k))
            || (b.composites.contains_key(k) && !a.composites.contains_key(k))
    };
    let candidates: Vec<&String> = b
        .domains
        .keys()
        .chain(b.composites.keys())
        .filter(|k| new_type(k))
        .collect();
    let mut late: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = late.len();
        for k in &candidates {
            let deps = b.deps.get(&DepKey::Type((*k).clone()));
            let over = deps.is_some_and(|ds| {
                ds.iter().any(|d| match d {
                    DepKey::Rel(r) => b.tables.contains_key(r) && !a.tables.contains_key(r),
                    DepKey::Type(t) => late.contains(t),
                    _ => false,
                })
            });
            if over {
                late.insert((*k).clone());
            }
        }
        if late.len() == before {
            return late;
        }
    }
}

/// Objects of A that go (functions, aggregates, domains, composite types) and depend, directly
/// or through one another, on a relation that goes: dropped among those relations, before
/// them. The first set holds those over a view that goes (dropped among the views), the
/// second those over a table only (among the tables).
pub(super) fn drops_with(a: &Model, b: &Model) -> (BTreeSet<DepKey>, BTreeSet<DepKey>) {
    let gone_views: BTreeSet<DepKey> = a
        .views
        .keys()
        .filter(|k| !b.views.contains_key(*k))
        .map(|k| DepKey::Rel(k.clone()))
        .collect();
    let gone_tables: BTreeSet<DepKey> = a
        .tables
        .keys()
        .filter(|k| !b.tables.contains_key(*k))
        .map(|k| DepKey::Rel(k.clone()))
        .collect();
    let candidates: Vec<DepKey> = a
        .functions
        .keys()
        .filter(|k| !b.functions.contains_key(*k))
        .map(|k| DepKey::Fn(k.clone()))
        .chain(
            a.aggregates
                .keys()
                .filter(|k| !b.aggregates.contains_key(*k))
                .map(|k| DepKey::Aggregate(k.clone())),
        )
        .chain(
            a.domains
                .keys()
                .filter(|k| !b.domains.contains_key(*k))
                .chain(
                    a.composites
                        .keys()
                        .filter(|k| !b.composites.contains_key(*k)),
                )
                .map(|k| DepKey::Type(k.clone())),
        )
        .collect();
    // A function whose SQL-standard body reads a column of a table that stays keeps its
    // own place (`functions::drop_gone`): that column may go before the tables do.
    let reads_kept = |k: &DepKey| {
        a.deps.get(k).is_some_and(|ds| {
            ds.iter().any(|d| match d {
                DepKey::Col(c) => b.tables.keys().any(|t| {
                    c.strip_prefix(t.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                }),
                _ => false,
            })
        })
    };
    let candidates: Vec<DepKey> = candidates.into_iter().filter(|k| !reads_kept(k)).collect();
    let over_views = closure(a, &candidates, &gone_views);
    let over_tables = closure(a, &candidates, &gone_tables)
        .into_iter()
        .filter(|k| !over_views.contains(k))
        .collect();
    (over_views, over_tables)
}

/// The `candidates` that depend on one of `rels`, directly or through other such candidates.
fn closure(a: &Model, candidates: &[DepKey], rels: &BTreeSet<DepKey>) -> BTreeSet<DepKey> {
    let mut found: BTreeSet<DepKey> = BTreeSet::new();
    loop {
        let before = found.len();
        for k in candidates {
            if found.contains(k) {
                continue;
            }
            let deps = a.deps.get(k);
            if deps.is_some_and(|ds| ds.iter().any(|d| rels.contains(d) || found.contains(d))) {
                found.insert(k.clone());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// Whether `key` is dropped among the views or tables (see [`drops_with`]), not by its kind.
pub(super) fn dropped_with_relations(x: &Cx<'_>, key: &DepKey) -> bool {
    x.ch.drop_with_views.contains(key) || x.ch.drop_with_tables.contains(key)
}

/// Drops `key`, an object of [`drops_with`], in `phase` (the statement its kind writes).
pub(super) fn drop(x: &mut Cx<'_>, key: &DepKey, phase: Phase) {
    match key {
        DepKey::Fn(f) if !x.ch.replaced_fns.contains(f) => super::functions::drop_one(x, f, phase),
        DepKey::Aggregate(g) => super::aggregates::drop_one(x, g, phase),
        DepKey::Type(t) => super::types::drop_one(x, t, phase),
        _ => {}
    }
}

//! Functions and procedures (bodies are not validated: the plan sets check_function_bodies
//! off). New and replaceable ones come before tables (column defaults may call them), except
//! those whose SQL-standard body reads a relation the plan creates, or a table it adds
//! columns to: after the tables and indexes, before the views. One
//! whose result, kind or parameters (names, defaults) change cannot be replaced: it is
//! dropped once what uses it (views) is dropped, and created again right after.

use super::super::model::{DepKey, Function};
use super::graph::topo;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let b = x.b;
    let (mut fns, refns) = create_or_replace(x);
    let after_types = super::composites::atomic_users(x.a, b, b);
    // New range types over a new function, ordered among the functions.
    fns.extend(
        b.ranges
            .keys()
            .map(|k| DepKey::Type(k.clone()))
            .filter(|k| super::types::late_range(x.a, b, k)),
    );
    for (phase, list) in [
        (Phase::CreateFunctions, &fns),
        (Phase::RecreateFunctions, &refns),
    ] {
        for key in topo(list, &b.deps) {
            if let DepKey::Type(t) = &key {
                super::types::create_range(x, t, phase);
                continue;
            }
            let DepKey::Fn(k) = &key else { continue };
            let phase = if phase == Phase::RecreateFunctions
                && super::dropped::uses_new_view(x.a, x.b, &key)
            {
                Phase::RecreateFunctionsAfterViews
            } else if reads_new_view(x, &key, 0) {
                // Created by the views' diff, among them.
                x.ch.view_fns.insert(key.clone());
                x.ch.fn_phase.insert(k.clone(), Phase::CreateViews);
                continue;
            } else if reads_new_relation(x, &key, 0) {
                Phase::CreateAtomicFunctions
            } else if phase == Phase::CreateFunctions && after_types.contains(k) {
                // After the composite types it reads change (see `composites::phase`).
                Phase::RecreateFunctions
            } else {
                phase
            };
            x.ch.fn_phase.insert(k.clone(), phase);
            if let Some(stmt) = create(x, k, phase) {
                x.push(stmt);
            }
        }
    }
    drop_gone(x);
}

/// The statement that creates (or replaces) function `k` of B.
pub(super) fn create(x: &Cx<'_>, k: &str, phase: Phase) -> Option<Stmt> {
    let f = x.b.functions.get(k)?;
    let mut stmt = Stmt::new(phase, f.definition.clone()).opens(format!("{} {k}", what(f)));
    if let Some(change) = security_change(x.a.functions.get(k), f) {
        stmt = stmt.hazard(HazardKind::AuthzUpdate, format!("{} {k} {change}", what(f)));
    }
    if let Some(exposed) = super::exposure::function(x, k) {
        stmt = stmt.hazard(HazardKind::AuthzUpdate, exposed);
    }
    Some(stmt)
}

/// Whether function `f` of B is created or replaced after the tables (its SQL-standard body
/// reads a relation the plan creates, or calls such a function): what calls it — a column or
/// domain default, a domain CHECK — is given after it.
pub(super) fn created_late(x: &Cx<'_>, f: &str) -> bool {
    changed(x, f) && reads_new_relation(x, &DepKey::Fn(f.to_owned()), 0)
}

fn changed(x: &Cx<'_>, f: &str) -> bool {
    x.b.functions.contains_key(f)
        && x.a.functions.get(f).map(|o| &o.definition)
            != x.b.functions.get(f).map(|n| &n.definition)
}

/// Whether the SQL-standard body of function `key` reads a view the plan creates (or
/// creates again), itself or through a function it calls that does.
fn reads_new_view(x: &Cx<'_>, key: &DepKey, depth: usize) -> bool {
    depth < 32
        && x.b.deps.get(key).is_some_and(|ds| {
            ds.iter().any(|d| match d {
                DepKey::Rel(r) => {
                    x.b.views.contains_key(r)
                        && (!x.a.views.contains_key(r) || x.ch.recreate_views.contains(d))
                }
                DepKey::Fn(g) => changed(x, g) && reads_new_view(x, d, depth + 1),
                _ => false,
            })
        })
}

/// Whose privileges a function kept under its name now runs with, when that changes:
/// `SECURITY DEFINER` runs it as its owner (what the owner may read or write, any caller may
/// through it) — as much a change of who can do what as a GRANT.
fn security_change(old: Option<&Function>, new: &Function) -> Option<&'static str> {
    // Also ` STABLE SECURITY DEFINER` on one line (it was missed: `\n SECURITY DEFINER\n`).
    let definer = |f: &Function| super::exposure::definer(&f.definition);
    match (old.map(definer), definer(new)) {
        (Some(false), true) => {
            Some("becomes SECURITY DEFINER: it runs with its owner's privileges for every caller")
        }
        (Some(true), false) => {
            Some("is no longer SECURITY DEFINER: it runs with each caller's privileges")
        }
        _ => None,
    }
}

/// Whether function `key` depends on a relation the plan creates (only a SQL-standard body,
/// `BEGIN ATOMIC` or `RETURN`, records such dependencies; it is resolved when created).
fn reads_new_relation(x: &Cx<'_>, key: &DepKey, depth: usize) -> bool {
    depth < 32
        && x.b.deps.get(key).is_some_and(|ds| {
            ds.iter().any(|d| match d {
                DepKey::Rel(r) => {
                    !(x.a.tables.contains_key(r) || x.a.views.contains_key(r))
                        || x.ch.recreate_views.contains(d)
                        || gains_columns(x, r)
                }
                // A body calling such a function waits for it.
                DepKey::Fn(g) => changed(x, g) && reads_new_relation(x, d, depth + 1),
                // So does one taking or returning a type over a new table's row type.
                DepKey::Type(t) => x.ch.late_types.contains(t),
                _ => false,
            })
        })
}

/// Table `r` kept with columns the plan adds: a SQL-standard body may read them (Postgres
/// records which columns; the model keeps the table), so it waits for them.
fn gains_columns(x: &Cx<'_>, r: &str) -> bool {
    let (Some(old), Some(new)) = (x.a.tables.get(r), x.b.tables.get(r)) else {
        return false;
    };
    new.columns.iter().any(|c| old.column(&c.name).is_none())
}

fn what(f: &Function) -> &'static str {
    f.kind.keyword()
}

/// The functions to create or replace in place, and those created again after a drop;
/// pushes the drops.
fn create_or_replace(x: &mut Cx<'_>) -> (Vec<DepKey>, Vec<DepKey>) {
    let (a, b) = (x.a, x.b);
    let mut fns: Vec<DepKey> = Vec::new();
    let mut refns: Vec<DepKey> = Vec::new();
    let dropped = super::dropped::dropped(a, b);
    let atomic_users = super::composites::atomic_users(a, b, a);
    for (k, f) in &b.functions {
        let old = a.functions.get(k).map(|o| (k, o)).or_else(|| {
            a.functions
                .iter()
                .find(|(ka, o)| o.signature == f.signature && !b.functions.contains_key(*ka))
        });
        let Some((ka, o)) = old else {
            fns.push(DepKey::Fn(k.clone()));
            continue;
        };
        let reads_dropped = super::dropped::reads(a, ka, &dropped)
            .map(|d| format!("it uses {d}, which the plan drops"))
            .or_else(|| {
                atomic_users.contains(ka).then(|| {
                    "its SQL-standard body uses a composite type whose attributes change (Postgres refuses the change under it)".to_owned()
                })
            });
        if o.definition == f.definition && ka == k && reads_dropped.is_none() {
            continue;
        }
        if o.returns == f.returns
            && o.kind == f.kind
            && o.arguments == f.arguments
            && reads_dropped.is_none()
        {
            fns.push(DepKey::Fn(k.clone()));
            continue;
        }
        let why = match &reads_dropped {
            Some(d) => d.clone(),
            None => "its result, kind or parameters change".to_owned(),
        };
        x.ch.replaced_fns.insert(ka.clone());
        let key = DepKey::Fn(ka.clone());
        let blockers: Vec<String> = a
            .deps
            .iter()
            .filter(|(d, ds)| ds.contains(&key) && !x.ch.recreate_views.contains(*d))
            .map(|(d, _)| d.to_string())
            .collect();
        if !blockers.is_empty() {
            x.unsupported(format!(
                "function {ka}: {why}, so it must be dropped and created again, but {} use it — not supported by the schema engine; write this change by hand",
                blockers.join(", ")
            ));
            continue;
        }
        x.push(
            Stmt::new(
                Phase::DropReplacedFunctions,
                format!("DROP {} {ka}", what(o)),
            )
            .hazard(
                HazardKind::UntrackableDependencies,
                format!(
                    "{why}: it is dropped and created again; callers are not tracked by Postgres"
                ),
            ),
        );
        x.recreated.insert(format!("{} {k}", what(f)));
        refns.push(DepKey::Fn(k.clone()));
    }
    (fns, refns)
}

/// Functions that go, after everything else that might call them — except those whose
/// SQL-standard body reads a table or column (Postgres records it, and refuses to drop what
/// they read first): before the tables and columns, once the views over them are gone.
fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let gone: Vec<DepKey> = a
        .functions
        .keys()
        .filter(|k| !b.functions.contains_key(*k) && !x.ch.replaced_fns.contains(*k))
        .map(|k| DepKey::Fn(k.clone()))
        .filter(|k| !super::rowtypes::dropped_with_relations(x, k))
        .collect();
    let atomic_users = super::composites::atomic_users(a, b, a);
    let (early, late): (Vec<DepKey>, Vec<DepKey>) = gone.into_iter().partition(|k| {
        reads_relation_early(x, k) || matches!(k, DepKey::Fn(f) if atomic_users.contains(f))
    });
    // The early ones in reverse creation order: a body that calls another goes before it.
    let early = topo(&early, &a.deps)
        .into_iter()
        .rev()
        .map(|k| (Phase::DropReplacedFunctions, k));
    // One an old index uses goes after the old indexes (dropped last, once their replacements
    // are built).
    let late = late.into_iter().map(|k| {
        let indexed = a
            .deps
            .iter()
            .any(|(d, ds)| matches!(d, DepKey::Index(_)) && ds.contains(&k));
        let phase = if indexed {
            Phase::DropFunctionsAfterOldIndexes
        } else {
            Phase::DropFunctions
        };
        (phase, k)
    });
    let order: Vec<(Phase, DepKey)> = early.chain(late).collect();
    for (phase, key) in order {
        let DepKey::Fn(k) = &key else { continue };
        drop_one(x, k, phase);
    }
}

/// Drops function `k` of A in `phase`, unless a new overload makes that unsafe (refused).
pub(super) fn drop_one(x: &mut Cx<'_>, k: &str, phase: Phase) {
    if super::overloads::refuse_drop(x, k) {
        return;
    }
    let why = match super::overloads::new_overload(x, k) {
        Some(new) => format!("callers of the function are not tracked by Postgres; until it is dropped, a call matching both it and the new overload {new} is ambiguous"),
        None => "callers of the function are not tracked by Postgres".to_owned(),
    };
    if let Some(f) = x.a.functions.get(k) {
        x.push(
            Stmt::new(phase, format!("DROP {} {k}", what(f)))
                .hazard(HazardKind::UntrackableDependencies, why),
        );
    }
}

/// Whether gone function `key` has a body that reads a table or a column of A, and nothing
/// but views dropped before it (or other such functions) depends on it: then it goes before
/// the tables and columns.
fn reads_relation_early(x: &Cx<'_>, key: &DepKey) -> bool {
    let (a, b) = (x.a, x.b);
    reads_relation(x, key, 0)
        && a.deps.iter().all(|(d, ds)| {
            !ds.contains(key)
                || match d {
                    DepKey::Rel(v) if a.views.contains_key(v) => {
                        !b.views.contains_key(v) || x.ch.recreate_views.contains(d)
                    }
                    DepKey::Fn(f) => !b.functions.contains_key(f) && reads_relation_early(x, d),
                    _ => false,
                }
        })
}

/// Whether the body of function `key` of A reads a table or column, itself or through a gone
/// function it calls (whose drop must then wait for this one).
fn reads_relation(x: &Cx<'_>, key: &DepKey, depth: usize) -> bool {
    let (a, b) = (x.a, x.b);
    depth < 32
        && a.deps.get(key).is_some_and(|ds| {
            ds.iter().any(|d| match d {
                DepKey::Rel(r) => a.tables.contains_key(r),
                DepKey::Col(_) => true,
                DepKey::Fn(f) => !b.functions.contains_key(f) && reads_relation(x, d, depth + 1),
                _ => false,
            })
        })
}

//! Aggregates: created after the functions they are made of (and the operators of their
//! SORTOP), before the tables and views that use them; replaced in place with
//! `CREATE OR REPLACE AGGREGATE` when the kind and result stay; dropped before their
//! functions. One whose kind or result changes is dropped and created again, unless
//! something uses it (then it is refused).

use super::super::model::DepKey;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, g) in &b.aggregates {
        let phase = phase(x, k);
        let Some(old) = a.aggregates.get(k) else {
            x.simple(phase, g.definition.clone());
            continue;
        };
        if old == g {
            continue;
        }
        if old.kind == g.kind && old.returns == g.returns {
            let sql = g
                .definition
                .replacen("CREATE AGGREGATE ", "CREATE OR REPLACE AGGREGATE ", 1);
            x.simple(phase, sql);
            continue;
        }
        let key = DepKey::Aggregate(k.clone());
        let users: Vec<String> = a
            .deps
            .iter()
            .filter(|(_, ds)| ds.contains(&key))
            .map(|(d, _)| d.to_string())
            .collect();
        if !users.is_empty() {
            x.unsupported(format!(
                "aggregate {k}: its kind or result type changes, so it must be dropped and created again, but {} use it — not supported by the schema engine; write this change by hand",
                users.join(", ")
            ));
            continue;
        }
        x.push(
            Stmt::new(phase, format!("DROP AGGREGATE {}", star(k))).hazard(
                HazardKind::UntrackableDependencies,
                "its kind or result type changes: it is dropped and created again; callers in function bodies are not tracked by Postgres",
            ),
        );
        x.recreated.insert(format!("AGGREGATE {k}"));
        x.simple(phase, g.definition.clone());
    }
    for k in a
        .aggregates
        .keys()
        .filter(|k| !b.aggregates.contains_key(*k))
    {
        if !super::rowtypes::dropped_with_relations(x, &DepKey::Aggregate(k.clone())) {
            drop_one(x, k, Phase::DropAggregates);
        }
    }
}

/// Drops aggregate `k` of A in `phase`.
pub(super) fn drop_one(x: &mut Cx<'_>, k: &str, phase: Phase) {
    x.push(
        Stmt::new(phase, format!("DROP AGGREGATE {}", star(k))).hazard(
            HazardKind::UntrackableDependencies,
            "callers of the aggregate in function bodies are not tracked by Postgres",
        ),
    );
}

/// Aggregate `k` as `DROP AGGREGATE` names it: one without arguments (`count(*)`-like, keyed
/// `f()`) is `f(*)` (`DROP AGGREGATE f()` is a syntax error; PostgREST's `unsupported_agg`).
fn star(k: &str) -> String {
    match k.strip_suffix("()") {
        Some(name) => format!("{name}(*)"),
        None => k.to_owned(),
    }
}

/// When aggregate `k` of B is created (or replaced): after what it is made of — its
/// functions in the phase they are created in (a transition function over a new table's row
/// type waits for the table), a new table or a type over one (trial9 P3). This diff runs
/// after those of the functions, tables and views, so within one phase it follows them.
fn phase(x: &Cx<'_>, k: &str) -> Phase {
    let (a, b) = (x.a, x.b);
    let deps = b.deps.get(&DepKey::Aggregate(k.to_owned()));
    deps.into_iter()
        .flatten()
        .filter_map(|d| match d {
            DepKey::Fn(f) => x.ch.fn_phase.get(f).copied(),
            DepKey::Rel(r) if b.tables.contains_key(r) && !a.tables.contains_key(r) => {
                Some(Phase::CreateTables)
            }
            DepKey::Rel(r) if b.views.contains_key(r) && !a.views.contains_key(r) => {
                Some(Phase::CreateViews)
            }
            DepKey::Type(t) if x.ch.late_types.contains(t) => Some(Phase::CreateTables),
            _ => None,
        })
        .fold(Phase::CreateAggregates, Phase::max)
}

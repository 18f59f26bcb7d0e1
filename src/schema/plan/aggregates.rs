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
        let Some(old) = a.aggregates.get(k) else {
            x.simple(Phase::CreateAggregates, g.definition.clone());
            continue;
        };
        if old == g {
            continue;
        }
        if old.kind == g.kind && old.returns == g.returns {
            let sql = g
                .definition
                .replacen("CREATE AGGREGATE ", "CREATE OR REPLACE AGGREGATE ", 1);
            x.simple(Phase::CreateAggregates, sql);
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
            Stmt::new(Phase::CreateAggregates, format!("DROP AGGREGATE {k}")).hazard(
                HazardKind::UntrackableDependencies,
                "its kind or result type changes: it is dropped and created again; callers in function bodies are not tracked by Postgres",
            ),
        );
        x.recreated.insert(format!("AGGREGATE {k}"));
        x.simple(Phase::CreateAggregates, g.definition.clone());
    }
    for k in a
        .aggregates
        .keys()
        .filter(|k| !b.aggregates.contains_key(*k))
    {
        x.push(
            Stmt::new(Phase::DropAggregates, format!("DROP AGGREGATE {k}")).hazard(
                HazardKind::UntrackableDependencies,
                "callers of the aggregate in function bodies are not tracked by Postgres",
            ),
        );
    }
}

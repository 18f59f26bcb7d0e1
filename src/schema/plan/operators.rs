//! Operators: created after their functions, before what uses them (aggregates' SORTOP,
//! column defaults, indexes, views), dropped after those and before the functions. Only the
//! selectivity estimators can change in place (`ALTER OPERATOR … SET`); any other change is
//! a drop and a create, refused when something uses the operator. Operator classes and
//! families are unsupported objects.

use super::{Cx, HazardKind, Phase, Stmt};

/// The definition without its selectivity estimators (`RESTRICT`, `JOIN`: always last).
fn shape(definition: &str) -> &str {
    let definition = definition.strip_suffix(')').unwrap_or(definition);
    [", RESTRICT = ", ", JOIN = "]
        .iter()
        .filter_map(|e| definition.find(e))
        .min()
        .map_or(definition, |i| &definition[..i])
}

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, op) in &b.operators {
        let Some(old) = a.operators.get(k) else {
            x.simple(Phase::CreateOperators, op.definition.clone());
            continue;
        };
        if shape(&old.definition) == shape(&op.definition) {
            if old.estimators != op.estimators {
                x.simple(
                    Phase::CreateOperators,
                    format!("ALTER OPERATOR {k} SET ({})", op.estimators),
                );
            }
            continue;
        }
        if !old.used_by.is_empty() {
            x.unsupported(format!(
                "operator {k}: its function, arguments, commutator, negator or hash/merge support change, so it must be dropped and created again, but {} use it — not supported by the schema engine; write this change by hand",
                old.used_by.join(", ")
            ));
            continue;
        }
        x.push(
            Stmt::new(Phase::CreateOperators, format!("DROP OPERATOR {k}")).hazard(
                HazardKind::UntrackableDependencies,
                "it changes: it is dropped and created again; uses in function bodies are not tracked by Postgres",
            ),
        );
        x.recreated.insert(format!("OPERATOR {k}"));
        x.simple(Phase::CreateOperators, op.definition.clone());
    }
    for k in a.operators.keys().filter(|k| !b.operators.contains_key(*k)) {
        x.push(
            Stmt::new(Phase::DropOperators, format!("DROP OPERATOR {k}")).hazard(
                HazardKind::UntrackableDependencies,
                "uses of the operator in function bodies are not tracked by Postgres",
            ),
        );
    }
}

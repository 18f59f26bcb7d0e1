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

/// A definition's `LEFTARG`/`RIGHTARG`/`COMMUTATOR`/`NEGATOR` value (`None`: absent).
fn field<'d>(definition: &'d str, name: &str) -> Option<&'d str> {
    let start = definition.find(&format!(", {name} = "))? + name.len() + 5;
    let rest = &definition[start..];
    let end = [
        ", RIGHTARG = ",
        ", COMMUTATOR = ",
        ", NEGATOR = ",
        ", HASHES",
        ", MERGES",
        ", RESTRICT = ",
        ", JOIN = ",
    ]
    .iter()
    .filter_map(|m| rest.find(m))
    .min()
    .unwrap_or(rest.len());
    Some(rest[..end].strip_suffix(')').unwrap_or(&rest[..end]))
}

/// The operators a definition names as its commutator and negator, keyed as the model keys
/// them (`public.===(text, integer)`).
fn linked(definition: &str) -> Vec<String> {
    let left = field(definition, "LEFTARG").unwrap_or("NONE");
    let Some(right) = field(definition, "RIGHTARG") else {
        return Vec::new();
    };
    // `OPERATOR(public.===)`: an operator's name has no parenthesis.
    let name = |v: &str| {
        v.strip_prefix("OPERATOR(")
            .and_then(|r| r.split(')').next())
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    if let Some(c) = field(definition, "COMMUTATOR").and_then(&name) {
        out.push(format!("{c}({right}, {left})"));
    }
    if let Some(n) = field(definition, "NEGATOR").and_then(&name) {
        out.push(format!("{n}({left}, {right})"));
    }
    out
}

/// Operators of the current schema that are only shells in the desired one (the commutator
/// or negator an operator names, never defined): dropped before the operators naming them
/// are created (again), which make the shells. Dropped after, as the others, they cleared
/// those operators' links (found by an outside attacker, N20). Returns them, and the desired
/// operators that name them.
fn shells(x: &mut Cx<'_>) -> (Vec<String>, Vec<String>) {
    let (a, b) = (x.a, x.b);
    let (mut gone, mut naming) = (Vec::new(), Vec::new());
    for (k, op) in &b.operators {
        for l in linked(&op.definition) {
            if b.operators.contains_key(&l) || !a.operators.contains_key(&l) {
                continue;
            }
            if !a.operators[&l].used_by.is_empty() {
                x.unsupported(format!(
                    "operator {l} becomes a shell (the commutator or negator of {k}, not defined), but {} use it — not supported by the schema engine; write this change by hand",
                    a.operators[&l].used_by.join(", ")
                ));
                continue;
            }
            naming.push(k.clone());
            if !gone.contains(&l) {
                x.push(
                    Stmt::new(Phase::CreateOperators, format!("DROP OPERATOR {l}")).hazard(
                        HazardKind::UntrackableDependencies,
                        "it becomes a shell: uses of the operator in function bodies are not tracked by Postgres",
                    ),
                );
                gone.push(l);
            }
        }
    }
    (gone, naming)
}

pub(super) fn diff(x: &mut Cx<'_>) {
    let (gone, naming) = shells(x);
    let (a, b) = (x.a, x.b);
    for (k, op) in &b.operators {
        let Some(old) = a.operators.get(k) else {
            x.simple(Phase::CreateOperators, op.definition.clone());
            continue;
        };
        if shape(&old.definition) == shape(&op.definition) && !naming.contains(k) {
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
    for k in a
        .operators
        .keys()
        .filter(|k| !b.operators.contains_key(*k) && !gone.contains(k))
    {
        x.push(
            Stmt::new(Phase::DropOperators, format!("DROP OPERATOR {k}")).hazard(
                HazardKind::UntrackableDependencies,
                "uses of the operator in function bodies are not tracked by Postgres",
            ),
        );
    }
}

//! New EXCLUDE constraints, counted on `--from` like the other sure failures
//! ([`super::sure`]): the rows that conflict with another row under every operator of the
//! constraint make its build fail (the plan exited 0, then `could not create exclusion
//! constraint`). Each element is a column or an expression ([`super::keyed`]) compared with a
//! bare operator, among the rows its predicate (if any) keeps; the operators are resolved as
//! the counting session resolves them (built-ins first): one the plan creates fails the count,
//! which then refuses the plan while the table has rows. An element the count cannot select (an
//! operator class, a schema-qualified operator) is not counted, and refuses it the same way.

use super::hazards::Probe;
use super::keyed;
use super::scope::Scope;
use crate::schema::{Model, Plan};

/// The probes of the EXCLUDE constraints the plan adds to tables of `from`; those it cannot
/// count go to `uncounted`, with why.
pub(super) fn probes(
    plan: &Plan,
    from: &Model,
    to: &Model,
    out: &mut Vec<Probe>,
    uncounted: &mut Vec<(Probe, String)>,
) {
    for (table, new) in &to.tables {
        let Some(old) = from.tables.get(table) else {
            continue;
        };
        for (name, c) in &new.constraints {
            let def = c.definition.as_str();
            if !def.starts_with("EXCLUDE ")
                || old
                    .constraints
                    .get(name)
                    .is_some_and(|o| o.definition == c.definition)
            {
                continue;
            }
            let n = crate::pg::ident(name);
            let added = format!("ALTER TABLE {table} ADD CONSTRAINT {n} ");
            let Some(at) = plan
                .statements
                .iter()
                .position(|s| s.sql.starts_with(&added))
            else {
                continue;
            };
            // Not inherited by inheritance children; a partitioned table's spans its partitions.
            let scope = Scope::of(from, table, false);
            let parsed = keyed::exclusion_pairs(def);
            let elements: Vec<&str> = match &parsed {
                Ok((pairs, _)) => pairs.iter().map(|(e, _)| e.as_str()).collect(),
                Err(_) => Vec::new(),
            };
            let on = if elements.is_empty() {
                String::new()
            } else {
                format!(" on ({})", elements.join(", "))
            };
            let mut probe = Probe {
                statement: at,
                table: table.clone(),
                condition: String::new(),
                what: format!("conflict with another row{on} under the new {def}"),
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(format!(
                    "rows of {table} conflict with each other{on} under the new {def} ({n}) — building it fails on them: change or delete those rows first, or leave the constraint out"
                )),
                desired_expression: None,
                scope,
            };
            match parsed {
                Ok((pairs, pred)) => {
                    probe.condition = keyed::conflicts(table, scope, &pairs, pred.as_deref());
                    // Its expressions, predicate and operators are the desired schema's: one
                    // the count cannot run is said not counted, and refused (`sure::not_run`,
                    // `sure::unevaluated`).
                    let ops: Vec<String> = pairs
                        .iter()
                        .map(|(e, op)| format!("{e} {op} {e}"))
                        .collect();
                    probe.desired_expression = Some(format!(
                        "{} {}",
                        ops.join(" AND "),
                        pred.unwrap_or_default()
                    ));
                    out.push(probe);
                }
                Err(why) => uncounted.push((probe, why.to_owned())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::keyed::exclusion_pairs;

    #[test]
    fn elements_are_columns_or_expressions_under_bare_operators() {
        let (pairs, pred) =
            exclusion_pairs("EXCLUDE USING gist (room WITH =, during WITH &&)").unwrap();
        assert_eq!(
            pairs,
            [
                ("room".to_owned(), "=".to_owned()),
                ("during".to_owned(), "&&".to_owned())
            ]
        );
        assert_eq!(pred, None);
        let (pairs, pred) =
            exclusion_pairs("EXCLUDE USING gist (int4range(a, b) WITH &&) WHERE ((id > 0))")
                .unwrap();
        assert_eq!(pairs[0].0, "int4range(a, b)");
        assert_eq!(pred.unwrap(), "((id > 0))");
        assert!(exclusion_pairs("EXCLUDE USING gist (a WITH OPERATOR(public.===))").is_err());
        assert!(exclusion_pairs("EXCLUDE USING gist (a public.ops WITH =)").is_err());
    }
}

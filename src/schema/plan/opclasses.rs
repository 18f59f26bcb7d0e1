//! Operator classes and families are not modelled: their changes are refused (see
//! `analysis::unsupported_objects`), and the plan must leave alone what hangs on them, or its
//! rest fails half-way (attack o_excl_op): an index or constraint that names an operator class
//! only the desired schema has cannot be created, and an operator that an operator family of
//! the current schema holds cannot be dropped (nor its function). Those are kept as they are.

use super::super::model::{DepKey, Model};

/// The operator classes (`public.c`) of `m`'s unmodelled objects that `other` lacks.
fn only_in<'m>(m: &'m Model, other: &Model) -> Vec<&'m str> {
    m.unsupported
        .keys()
        .filter(|k| !other.unsupported.contains_key(*k))
        .filter_map(|k| k.strip_prefix("operator class ")?.split(" using ").next())
        .collect()
}

/// Whether `def` (an index or constraint definition) names operator class `c`.
fn names(def: &str, c: &str) -> bool {
    def.match_indices(c)
        .any(|(i, _)| def[..i].ends_with(' ') && def[i + c.len()..].starts_with([' ', ')', ',']))
}

/// `b` without the changes that rest on unmodelled operator classes: `None` when there are
/// none (the common case: nothing is copied). Each is reported.
pub(super) fn prune(a: &Model, b: &Model, unsupported: &mut Vec<String>) -> Option<Model> {
    let added = only_in(b, a);
    let held: Vec<&String> = a
        .operators
        .iter()
        .filter(|(k, o)| {
            !b.operators.contains_key(*k)
                && o.used_by.iter().any(|u| u.contains("of operator family "))
        })
        .map(|(k, _)| k)
        .collect();
    let uses_added = |def: &str| added.iter().any(|c| names(def, c));
    let tables: Vec<(String, String)> = b
        .tables
        .iter()
        .flat_map(|(tk, t)| {
            t.constraints
                .iter()
                .filter(|(_, c)| uses_added(&c.definition))
                .map(move |(n, _)| (tk.clone(), n.clone()))
        })
        .collect();
    let indexes: Vec<String> = b
        .indexes
        .iter()
        .filter(|(_, i)| uses_added(&i.definition))
        .map(|(k, _)| k.clone())
        .collect();
    if held.is_empty() && tables.is_empty() && indexes.is_empty() {
        return None;
    }
    let mut pb = b.clone();
    for (tk, n) in tables {
        unsupported.push(format!(
            "constraint {n} on {tk}: uses an operator class the plan cannot create (operator classes are not supported by the schema engine) — left as it is; write this change by hand"
        ));
        let old = a
            .tables
            .get(&tk)
            .and_then(|t| t.constraints.get(&n))
            .cloned();
        if let Some(t) = pb.tables.get_mut(&tk) {
            match old {
                Some(c) => t.constraints.insert(n, c),
                None => t.constraints.remove(&n),
            };
        }
    }
    for k in indexes {
        unsupported.push(format!(
            "index {k}: uses an operator class the plan cannot create (operator classes are not supported by the schema engine) — left as it is; write this change by hand"
        ));
        match a.indexes.get(&k) {
            Some(i) => pb.indexes.insert(k, i.clone()),
            None => pb.indexes.remove(&k),
        };
    }
    for k in held {
        let o = &a.operators[k];
        unsupported.push(format!(
            "operator {k}: goes, but an operator family uses it ({}) and operator families are not supported by the schema engine — left as it is (with its function); write this change by hand",
            o.used_by.join(", ")
        ));
        pb.operators.insert(k.clone(), o.clone());
        // Its function stays with it.
        for d in a
            .deps
            .get(&DepKey::Operator(k.clone()))
            .into_iter()
            .flatten()
        {
            if let DepKey::Fn(f) = d {
                if let (Some(func), false) = (a.functions.get(f), pb.functions.contains_key(f)) {
                    pb.functions.insert(f.clone(), func.clone());
                }
            }
        }
    }
    Some(pb)
}

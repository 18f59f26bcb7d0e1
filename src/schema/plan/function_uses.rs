//! A function whose results are stored, changed in place (`CREATE OR REPLACE` with a new
//! body): an index expression or predicate, a CHECK, a stored generated column or a domain's
//! constraint computed their existing entries with the old body. Postgres recomputes none of
//! them: the index returns wrong answers and lets duplicates into a unique one, rows violate
//! the CHECK (any UPDATE of them fails), generated values disagree with new ones. A
//! `breaks_writes` hazard (denied by default), with the fix. The uses are read from
//! `pg_depend` (the model's dependencies).

use super::super::model::{DepKey, Model};
use super::write_hazards::mark;
use super::{HazardKind, Statement};

pub(super) fn annotate(a: &Model, b: &Model, out: &mut [Statement]) {
    for (f, func) in &b.functions {
        if a.functions
            .get(f)
            .is_none_or(|o| o.definition == func.definition)
        {
            continue;
        }
        let uses = stored_uses(a, b, &DepKey::Fn(f.clone()));
        if uses.is_empty() {
            continue;
        }
        let message = format!("function {f} is changed in place while {} stored what it computed: Postgres recomputes none of it — the index answers wrongly (a unique one lets duplicates in), existing rows fail the CHECK or domain on their next UPDATE, generated values disagree. Create the new body as a new function and a new index / constraint / column over it, or REINDEX the indexes and re-validate the constraints (drop and add them NOT VALID, then VALIDATE) in the same migration", uses.join(", "));
        let head = func.definition.lines().next().unwrap_or("");
        mark(out, head, HazardKind::BreaksWrites, &message);
    }
}

/// What stores the results of `f` on both sides: indexes, table CHECKs, stored generated
/// columns, domains.
fn stored_uses(a: &Model, b: &Model, f: &DepKey) -> Vec<String> {
    let mut uses = Vec::new();
    for (obj, on) in &b.deps {
        if !on.contains(f) || !a.deps.get(obj).is_some_and(|o| o.contains(f)) {
            continue;
        }
        match obj {
            DepKey::Index(i) => uses.push(format!("index {i}")),
            DepKey::Con(c) => uses.push(format!("constraint {c}")),
            DepKey::Type(t) if b.domains.contains_key(t) => uses.push(format!("domain {t}")),
            DepKey::Col(c) if generated(b, c) => uses.push(format!("generated column {c}")),
            _ => {}
        }
    }
    uses
}

fn generated(m: &Model, key: &str) -> bool {
    m.tables.iter().any(|(t, table)| {
        table
            .columns
            .iter()
            .any(|c| c.generated.is_some() && key == format!("{t}.{}", c.name))
    })
}

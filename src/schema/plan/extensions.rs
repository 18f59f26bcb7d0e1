//! Extensions: created, updated or moved early, dropped late.

use super::super::model::Model;
use super::sql::{element_type, lit};
use super::{Cx, HazardKind, Phase, Stmt};

/// `names` ordered so that each comes after the extensions of `model` it requires.
fn required_first<'m>(model: &'m Model, names: Vec<&'m String>) -> Vec<&'m String> {
    fn visit<'m>(
        model: &'m Model,
        k: &'m String,
        wanted: &std::collections::BTreeSet<&'m String>,
        seen: &mut std::collections::BTreeSet<&'m String>,
        out: &mut Vec<&'m String>,
    ) {
        if !seen.insert(k) {
            return;
        }
        for r in model
            .extensions
            .get(k)
            .map(|e| &e.requires[..])
            .unwrap_or(&[])
        {
            if let Some((r, _)) = model.extensions.get_key_value(r) {
                visit(model, r, wanted, seen, out);
            }
        }
        if wanted.contains(k) {
            out.push(k);
        }
    }
    let wanted: std::collections::BTreeSet<&String> = names.iter().copied().collect();
    let (mut seen, mut out) = (std::collections::BTreeSet::new(), Vec::new());
    for k in names {
        visit(model, k, &wanted, &mut seen, &mut out);
    }
    out
}

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let order = required_first(b, b.extensions.keys().collect());
    for (k, e) in order.into_iter().map(|k| (k, &b.extensions[k])) {
        match a.extensions.get(k) {
            None => x.simple(
                Phase::CreateOrAlterExtensions,
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {k} WITH SCHEMA {} VERSION {}",
                    e.schema,
                    lit(&e.version)
                ),
            ),
            Some(old) => {
                if old.version != e.version {
                    x.push(
                        Stmt::new(
                            Phase::CreateOrAlterExtensions,
                            format!("ALTER EXTENSION {k} UPDATE TO {}", lit(&e.version)),
                        )
                        .hazard(
                            HazardKind::Correctness,
                            "the new extension version may not be backwards compatible",
                        ),
                    );
                }
                // Moved as well as updated: both (the move was left out).
                if old.schema != e.schema {
                    x.simple(
                        Phase::CreateOrAlterExtensions,
                        format!("ALTER EXTENSION {k} SET SCHEMA {}", e.schema),
                    );
                }
            }
        }
    }
    // An extension goes before the ones it requires.
    let gone = a
        .extensions
        .keys()
        .filter(|k| !b.extensions.contains_key(*k))
        .collect();
    for k in required_first(a, gone).into_iter().rev() {
        x.push(
            Stmt::new(Phase::DropExtensions, format!("DROP EXTENSION {k}")).hazard(
                HazardKind::DeletesData,
                "objects of the extension are dropped with it",
            ),
        );
    }
}

/// `a` as it is once the extensions the plan moves are moved, when that changes a column:
/// a column of a moved extension's type (`public.hstore`) then has the type the desired
/// schema names (`ext.hstore`) — the same type, no `ALTER COLUMN … TYPE` (an ACCESS
/// EXCLUSIVE no-op) to plan. `None`: nothing moves, `a` stands.
pub(super) fn after_moves(a: &Model, b: &Model) -> Option<Model> {
    let moves: Vec<(&str, &str)> = a
        .extensions
        .iter()
        .filter_map(|(k, e)| {
            let n = b.extensions.get(k)?;
            (n.schema != e.schema).then_some((e.schema.as_str(), n.schema.as_str()))
        })
        .collect();
    if moves.is_empty() {
        return None;
    }
    // A type of the schema's own (not an extension's) stays where it is.
    let own = |t: &str| {
        a.enums.contains_key(t)
            || a.domains.contains_key(t)
            || a.composites.contains_key(t)
            || a.ranges.contains_key(t)
            || a.tables.contains_key(t)
    };
    let mut out: Option<Model> = None;
    for (tk, t) in &a.tables {
        let Some(nt) = b.tables.get(tk) else { continue };
        for (i, c) in t.columns.iter().enumerate() {
            let Some(nc) = nt.column(&c.name) else {
                continue;
            };
            let moved = moves.iter().any(|(from, to)| {
                c.data_type
                    .strip_prefix(&format!("{from}."))
                    .is_some_and(|rest| nc.data_type == format!("{to}.{rest}"))
            });
            if moved && !own(element_type(&c.data_type)) {
                let m = out.get_or_insert_with(|| a.clone());
                if let Some(col) = m.tables.get_mut(tk).and_then(|t| t.columns.get_mut(i)) {
                    col.data_type = nc.data_type.clone();
                }
            }
        }
    }
    out
}

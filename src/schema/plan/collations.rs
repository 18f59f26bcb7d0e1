//! Collations: created before the types and tables that use them, dropped after. A
//! collation cannot be altered: one whose definition changes is dropped and created again
//! when no column or domain of the current schema uses it, else refused.

use super::super::model::Model;
use super::{Cx, Phase};

/// Whether a column, domain or range type of `m` uses collation `k`.
fn used(m: &Model, k: &str) -> bool {
    let tables = m
        .tables
        .values()
        .chain(m.foreign_tables.values().map(|f| &f.table));
    tables
        .flat_map(|t| t.columns.iter())
        .any(|c| c.collation.as_deref() == Some(k))
        || m.domains
            .values()
            .any(|d| d.collation.as_deref() == Some(k))
        || m.ranges
            .values()
            .any(|r| r.contains(&format!("collation = {k}")))
}

pub(super) fn create(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, def) in &b.collations {
        match a.collations.get(k) {
            None => x.simple(
                Phase::CreateCollations,
                format!("CREATE COLLATION {k} {def}"),
            ),
            Some(old) if old != def => {
                if used(a, k) {
                    x.unsupported(format!(
                        "collation {k}: definition changed while columns or types use it — a collation cannot be altered; write this change by hand"
                    ));
                    continue;
                }
                x.simple(Phase::CreateCollations, format!("DROP COLLATION {k}"));
                x.recreated.insert(format!("COLLATION {k}"));
                x.simple(
                    Phase::CreateCollations,
                    format!("CREATE COLLATION {k} {def}"),
                );
            }
            _ => {}
        }
    }
}

/// After the types' drops (a domain may use the collation).
pub(super) fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for k in a
        .collations
        .keys()
        .filter(|k| !b.collations.contains_key(*k))
    {
        x.simple(Phase::DropTypes, format!("DROP COLLATION {k}"));
    }
}

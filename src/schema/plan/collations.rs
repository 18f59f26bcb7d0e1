//! Collations: created before the types and tables that use them, dropped after. A
//! collation cannot be altered: one whose definition changes is dropped and created again
//! when no column or domain of the current schema uses it, else refused.

use super::super::model::Model;
use super::{Cx, Phase};

/// Whether `text` (an index or constraint definition) names collation `k` (`COLLATE k`,
/// not a longer name that starts with it).
fn names(text: &str, k: &str) -> bool {
    let pat = format!("COLLATE {k}");
    text.match_indices(&pat).any(|(i, _)| {
        !text[i + pat.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
    })
}

/// Whether a column, index, constraint, domain or range type of `m` uses collation `k`.
fn used(m: &Model, k: &str) -> bool {
    let tables = m
        .tables
        .values()
        .chain(m.foreign_tables.values().map(|f| &f.table));
    tables
        .clone()
        .flat_map(|t| t.columns.iter())
        .any(|c| c.collation.as_deref() == Some(k))
        || m.indexes.values().any(|i| names(&i.definition, k))
        || tables
            .flat_map(|t| t.constraints.values())
            .any(|c| names(&c.definition, k))
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
                        "collation {k}: definition changed while columns, indexes, constraints or types use it — a collation cannot be altered; write this change by hand"
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

/// After the types' drops (a domain may use the collation) and the old indexes' (an index
/// the plan builds again may have used it: attack o_idx_coll).
pub(super) fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for k in a
        .collations
        .keys()
        .filter(|k| !b.collations.contains_key(*k))
    {
        x.simple(Phase::DropCollations, format!("DROP COLLATION {k}"));
    }
}

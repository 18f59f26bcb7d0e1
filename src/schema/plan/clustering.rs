//! `CLUSTER ON` marks and statistics targets of index columns. Both live on an index, so an
//! index (or constraint, or materialized view) the plan builds again loses them: they are
//! written again after everything is built, as for a table or index the plan creates. An
//! index Postgres builds again when a column of its table is retyped keeps its `CLUSTER ON`
//! mark, not its statistics targets: those are written again too.

use std::collections::{BTreeMap, BTreeSet};

use super::super::model::{DepKey, Model};
use super::super::split_qualified;
use super::{Cx, Phase};

pub(super) fn diff(x: &mut Cx<'_>) {
    clustered(x);
    index_statistics(x);
}

/// Whether the index `schema.bare` is built by the plan (created, or dropped and created
/// again with its index, constraint or materialized view).
fn index_fresh(x: &Cx<'_>, index: &str) -> bool {
    if x.recreated.contains(&format!("INDEX {index}")) || !index_exists(x.a, index) {
        return true;
    }
    let Some((schema, bare)) = split_qualified(index) else {
        return false;
    };
    let prefix = format!("CONSTRAINT {bare} ON {schema}.");
    x.recreated.iter().any(|r| r.starts_with(&prefix))
}

/// Whether `m` has the index `schema.bare` (an index of its own or a constraint's).
fn index_exists(m: &Model, index: &str) -> bool {
    if m.indexes.contains_key(index) {
        return true;
    }
    let Some((schema, bare)) = split_qualified(index) else {
        return false;
    };
    m.tables.iter().any(|(t, tb)| {
        split_qualified(t).is_some_and(|(s, _)| s == schema) && tb.constraints.contains_key(bare)
    })
}

/// The table of the index `schema.bare` in `m` (an index of its own or a constraint's).
fn index_table<'m>(m: &'m Model, index: &str) -> Option<&'m str> {
    if let Some(i) = m.indexes.get(index) {
        return Some(&i.table);
    }
    let (schema, bare) = split_qualified(index)?;
    m.tables
        .iter()
        .find(|(t, tb)| {
            split_qualified(t).is_some_and(|(s, _)| s == schema)
                && tb.constraints.contains_key(bare)
        })
        .map(|(t, _)| t.as_str())
}

fn clustered(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let keys: BTreeSet<&String> = a.clustered.keys().chain(b.clustered.keys()).collect();
    for t in keys {
        let matview = b.views.get(t).is_some_and(|v| v.materialized);
        if !matview && !b.tables.contains_key(t) {
            continue;
        }
        let (kw, fresh) = if matview {
            let again = x.ch.recreate_views.contains(&DepKey::Rel(t.clone()));
            ("MATERIALIZED VIEW", again || !a.views.contains_key(t))
        } else {
            ("TABLE", !a.tables.contains_key(t))
        };
        let before = if fresh { None } else { a.clustered.get(t) };
        let after = b.clustered.get(t);
        let schema = split_qualified(t).map_or("public", |(s, _)| s);
        // A partition's index (a partitioned index's child) is not modeled: never fresh.
        let rebuilt = after.is_some_and(|i| {
            let i = format!("{schema}.{i}");
            index_exists(b, &i) && index_fresh(x, &i)
        });
        if before == after && !rebuilt {
            continue;
        }
        let sql = match after {
            Some(i) => format!("ALTER {kw} {t} CLUSTER ON {i}"),
            None => format!("ALTER {kw} {t} SET WITHOUT CLUSTER"),
        };
        x.simple(Phase::SecurityAndTriggers, sql);
    }
}

fn index_statistics(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let none = BTreeMap::new();
    let keys: BTreeSet<&String> = a
        .index_statistics
        .keys()
        .chain(b.index_statistics.keys())
        .collect();
    for i in keys {
        if !index_exists(b, i) {
            continue;
        }
        let before = if index_fresh(x, i) {
            &none
        } else {
            a.index_statistics.get(i).unwrap_or(&none)
        };
        let after = b.index_statistics.get(i).unwrap_or(&none);
        // Retyping a column of its table may have built it again (Postgres keeps no targets
        // then): every target it must have is written again.
        let retyped = index_table(b, i).is_some_and(|t| x.retyped.contains(t));
        let columns: BTreeSet<&i16> = before.keys().chain(after.keys()).collect();
        for n in columns {
            if before.get(n) == after.get(n) && !(retyped && after.contains_key(n)) {
                continue;
            }
            let to = after.get(n).copied().unwrap_or(-1);
            x.simple(
                Phase::SecurityAndTriggers,
                format!("ALTER INDEX {i} ALTER COLUMN {n} SET STATISTICS {to}"),
            );
        }
    }
}

//! Indexes (those of PRIMARY KEY, UNIQUE and EXCLUDE constraints are the constraints').
//! Built and dropped CONCURRENTLY where Postgres allows it; a changed index is renamed away
//! and keeps serving queries until the new one is built.

use std::collections::{BTreeMap, BTreeSet};

use super::super::model::DepKey;
use super::super::split_qualified;
use super::sql::{index_sql_cascading, index_sql_concurrent, old_name};
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    drop_or_rename(x);
    create(x);
}

/// Indexes renamed: A's index that B lacks and B's that A lacks, on the same table that both
/// keep, with the same definition but for the name, and no comment on either (A's key → B's
/// name). Renamed in place (`ALTER INDEX … RENAME TO`) rather than dropped and built again,
/// which left the table without the index for the whole build (trial9 P18).
fn renamed(x: &Cx<'_>) -> BTreeMap<String, String> {
    let (a, b) = (x.a, x.b);
    let bare = |k: &str, def: &str| {
        let name = split_qualified(k).map_or(k, |(_, n)| n);
        def.replacen(&format!(" {name} ON "), " ON ", 1)
    };
    let uncommented =
        |m: &super::super::model::Model, k: &str| !m.comments.contains_key(&format!("INDEX {k}"));
    let mut out = BTreeMap::new();
    let mut taken: BTreeSet<&String> = BTreeSet::new();
    for (k, i) in &a.indexes {
        if b.indexes.contains_key(k)
            || !b.tables.contains_key(&i.table)
            || !a.tables.contains_key(&i.table)
            || !uncommented(a, k)
        {
            continue;
        }
        let was = bare(k, &i.definition);
        let to = b.indexes.iter().find(|(k2, n)| {
            !a.indexes.contains_key(*k2)
                && !taken.contains(k2)
                && n.table == i.table
                && n.unique == i.unique
                && n.on_partitioned == i.on_partitioned
                && uncommented(b, k2)
                && bare(k2, &n.definition) == was
        });
        if let Some((k2, _)) = to {
            taken.insert(k2);
            let name = split_qualified(k2).map_or(k2.as_str(), |(_, n)| n);
            out.insert(k.clone(), name.to_owned());
        }
    }
    out
}

fn drop_or_rename(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let renamed = renamed(x);
    for (k, i) in &a.indexes {
        if let Some(to) = renamed.get(k) {
            x.simple(
                Phase::DropOrRenameIndexes,
                format!("ALTER INDEX {k} RENAME TO {to}"),
            );
            continue;
        }
        let table_goes = !b.tables.contains_key(&i.table) && !b.views.contains_key(&i.table);
        let matview_recreated = x.ch.recreate_views.contains(&DepKey::Rel(i.table.clone()));
        // A relation whose kind changes is dropped with its indexes.
        if table_goes || matview_recreated || x.ch.kind_changed.contains(&i.table) {
            continue;
        }
        let conc = x.o.online && !i.on_partitioned;
        let concurrently = if conc { "CONCURRENTLY " } else { "" };
        match b.indexes.get(k) {
            None => x.push(
                Stmt::new(
                    Phase::DropOrRenameIndexes,
                    format!("DROP INDEX {concurrently}{k}"),
                )
                .hazard(
                    HazardKind::IndexDropped,
                    "queries that used this index may get slower",
                )
                .outside_txn_if(conc)
                .long_if(conc),
            ),
            Some(n) if n.definition != i.definition => {
                // Keep the old index serving queries until the new one is built.
                let old_name = super::tempnames::relation(x, &old_name(k, "_neon_migrate_old"), k);
                let schema = split_qualified(k).map(|(s, _)| s).unwrap_or("public");
                x.simple(
                    Phase::DropOrRenameIndexes,
                    format!("ALTER INDEX {k} RENAME TO {}", crate::pg::ident(&old_name)),
                );
                // A column the plan drops takes the renamed index with it when the index
                // uses it (in its predicate, say): then it may be gone already.
                let if_exists = if drops_a_column(x, &i.table) {
                    "IF EXISTS "
                } else {
                    ""
                };
                x.push(
                    Stmt::new(
                        Phase::DropOldIndexes,
                        format!(
                            "DROP INDEX {concurrently}{if_exists}{schema}.{}",
                            crate::pg::ident(&old_name)
                        ),
                    )
                    .hazard(
                        HazardKind::IndexDropped,
                        "the previous definition of the index is dropped",
                    )
                    .outside_txn_if(conc)
                    .long_if(conc),
                );
            }
            _ => {}
        }
    }
}

/// Whether the plan drops a column of `table` (which stays).
fn drops_a_column(x: &Cx<'_>, table: &str) -> bool {
    let (Some(t), Some(n)) = (x.a.tables.get(table), x.b.tables.get(table)) else {
        return false;
    };
    t.columns.iter().any(|c| n.column(&c.name).is_none())
}

fn create(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let renamed: BTreeSet<String> = renamed(x)
        .into_iter()
        .filter_map(|(old, to)| {
            let schema = split_qualified(&old).map(|(s, _)| s)?;
            Some(format!("{schema}.{to}"))
        })
        .collect();
    for (k, i) in &b.indexes {
        if renamed.contains(k) {
            continue;
        }
        let matview = b.views.get(&i.table).is_some_and(|v| v.materialized);
        let matview_recreated = x.ch.recreate_views.contains(&DepKey::Rel(i.table.clone()))
            || (matview && !a.views.contains_key(&i.table));
        let unchanged = a
            .indexes
            .get(k)
            .is_some_and(|o| o.definition == i.definition);
        // On a relation whose kind changes, it went with the old relation.
        if unchanged && !matview_recreated && !x.ch.kind_changed.contains(&i.table) {
            continue;
        }
        let new_table = !a.tables.contains_key(&i.table) && !matview;
        let phase = if matview {
            Phase::CreateMatviewIndexes
        } else {
            Phase::CreateIndexes
        };
        x.recreated.insert(format!("INDEX {k}"));
        let stmt = if i.on_partitioned && new_table {
            Stmt::new(phase, index_sql_cascading(&i.definition))
        } else if i.on_partitioned {
            Stmt::new(phase, index_sql_cascading(&i.definition))
                .hazard(HazardKind::ShareLock, "indexes of partitioned tables cannot be built CONCURRENTLY: writes to every partition wait")
                .hazard(HazardKind::IndexBuild, "builds an index on every partition")
                .long()
        } else if new_table || matview_recreated || !x.o.online {
            Stmt::new(phase, i.definition.clone())
        } else {
            Stmt::new(phase, index_sql_concurrent(&i.definition))
                .hazard(
                    HazardKind::IndexBuild,
                    "builds the index concurrently: no write lock, but CPU and I/O load",
                )
                .outside_txn()
                .long()
        };
        x.push(stmt);
    }
}

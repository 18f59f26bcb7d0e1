//! Publications, replica identities and columns' storage, compression and statistics.
//!
//! A publication or replica identity change is a `replication` hazard: subscribers and
//! change-data-capture consumers see different rows (or none) from then on. Changes to a
//! publication's table list are one `ALTER PUBLICATION … SET` (atomic: no table is
//! unpublished in between), except where a column the publication reads is dropped: that
//! table leaves the publication before the column goes, and the hazard says so.

use std::collections::BTreeSet;

use super::super::model::{ColumnSettings, DepKey, Model, Publication};
use super::super::split_qualified;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    publications(x);
    replica_identities(x);
    column_settings(x);
}

fn replication(s: Stmt, message: String) -> Stmt {
    s.hazard(HazardKind::Replication, message)
}

/// `TABLE t (a, b) WHERE (…)` items and `TABLES IN SCHEMA s` of a publication.
fn objects_sql(p: &Publication) -> Vec<String> {
    let mut out: Vec<String> = p
        .tables
        .iter()
        .map(|(t, (cols, filter))| {
            let mut s = format!("TABLE {t}");
            if let Some(c) = cols {
                s.push_str(&format!(" ({})", c.join(", ")));
            }
            if let Some(f) = filter {
                s.push_str(&format!(" WHERE ({f})"));
            }
            s
        })
        .collect();
    out.extend(p.schemas.iter().map(|s| format!("TABLES IN SCHEMA {s}")));
    out
}

fn options_sql(p: &Publication) -> String {
    format!(
        "publish = '{}', publish_via_partition_root = {}",
        p.publish, p.via_root
    )
}

fn create_sql(name: &str, p: &Publication) -> String {
    let what = if p.all_tables {
        " FOR ALL TABLES".to_owned()
    } else {
        let objs = objects_sql(p);
        if objs.is_empty() {
            String::new()
        } else {
            format!(" FOR {}", objs.join(", "))
        }
    };
    format!("CREATE PUBLICATION {name}{what} WITH ({})", options_sql(p))
}

/// Tables of `old` that must leave publication `name` before one of their columns the
/// publication reads (column list or row filter) is dropped.
fn losing_columns(old: &Publication, a: &Model, b: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for (t, (cols, filter)) in &old.tables {
        let (Some(ta), Some(tb)) = (a.tables.get(t), b.tables.get(t)) else {
            continue;
        };
        let dropped = ta
            .columns
            .iter()
            .filter(|c| {
                tb.column(&c.name)
                    .is_none_or(|n| n.data_type != c.data_type)
            })
            .any(|c| {
                cols.as_ref().is_some_and(|l| l.contains(&c.name))
                    || filter.as_ref().is_some_and(|f| f.contains(c.name.as_str()))
            });
        if dropped {
            out.push(t.clone());
        }
    }
    out
}

fn publications(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (name, old) in &a.publications {
        if !b.publications.contains_key(name) {
            let s = Stmt::new(
                Phase::DropTriggersAndPolicies,
                format!("DROP PUBLICATION {name}"),
            );
            x.push(replication(s, format!("publication {name} is dropped: its subscribers stop receiving changes (logical replication and change-data-capture consumers break)")));
        } else if !old.all_tables {
            for t in losing_columns(old, a, b) {
                let s = Stmt::new(
                    Phase::DropTriggersAndPolicies,
                    format!("ALTER PUBLICATION {name} DROP TABLE {t}"),
                );
                x.push(replication(s, format!("table {t} leaves publication {name} before a column its column list or row filter reads changes: changes to {t} are not published until it is added back later in this plan")));
            }
        }
    }
    for (name, p) in &b.publications {
        let Some(old) = a.publications.get(name) else {
            let s = Stmt::new(Phase::SecurityAndTriggers, create_sql(name, p));
            x.push(replication(
                s,
                format!(
                    "publication {name} is created: what it publishes is sent to any subscriber"
                ),
            ));
            continue;
        };
        // A table that left the publication early (a column it reads changes) comes back
        // even when the publication itself does not change.
        if old == p && (old.all_tables || losing_columns(old, a, b).is_empty()) {
            continue;
        }
        if old.all_tables != p.all_tables {
            let s = Stmt::new(
                Phase::SecurityAndTriggers,
                format!("DROP PUBLICATION {name};\n{}", create_sql(name, p)),
            );
            // Its owner and comment are written again (`privileges`, `comments`).
            x.recreated.insert(format!("PUBLICATION {name}"));
            x.push(replication(s, format!("publication {name} is dropped and created again (FOR ALL TABLES changes), in one transaction: subscribers must refresh it (ALTER SUBSCRIPTION … REFRESH PUBLICATION)")));
            continue;
        }
        if (&old.publish, old.via_root) != (&p.publish, p.via_root) {
            let s = Stmt::new(
                Phase::SecurityAndTriggers,
                format!("ALTER PUBLICATION {name} SET ({})", options_sql(p)),
            );
            x.push(replication(s, format!("publication {name} publishes {} (was {}): subscribers receive different changes from now on", p.publish, old.publish)));
        }
        let dropped_early = losing_columns(old, a, b);
        if p.all_tables
            || (old.tables == p.tables && old.schemas == p.schemas && dropped_early.is_empty())
        {
            continue;
        }
        let objs = objects_sql(p);
        let sql = if objs.is_empty() {
            let mut drops: Vec<String> = old
                .tables
                .keys()
                .filter(|t| !dropped_early.contains(t) && b.tables.contains_key(*t))
                .map(|t| format!("TABLE {t}"))
                .collect();
            drops.extend(
                old.schemas
                    .iter()
                    .filter(|s| b.schemas.contains(*s))
                    .map(|s| format!("TABLES IN SCHEMA {s}")),
            );
            if drops.is_empty() {
                continue;
            }
            format!("ALTER PUBLICATION {name} DROP {}", drops.join(", "))
        } else {
            format!("ALTER PUBLICATION {name} SET {}", objs.join(", "))
        };
        let added: BTreeSet<&String> = p
            .tables
            .keys()
            .filter(|t| !old.tables.contains_key(*t))
            .collect();
        let gone: BTreeSet<&String> = old
            .tables
            .keys()
            .filter(|t| !p.tables.contains_key(*t))
            .collect();
        let s = Stmt::new(Phase::SecurityAndTriggers, sql);
        if old.tables == p.tables && old.schemas == p.schemas {
            let back: BTreeSet<&String> = dropped_early.iter().collect();
            x.push(replication(s, format!(
                "publication {name}: {} added back after the column change (not published in between)",
                list(&back)
            )));
            continue;
        }
        x.push(replication(s, format!(
            "publication {name}: tables or their column lists and row filters change (added: {}; removed: {}): subscribers receive different rows and columns from now on, and must refresh it (ALTER SUBSCRIPTION … REFRESH PUBLICATION)",
            list(&added), list(&gone)
        )));
    }
}

fn list(s: &BTreeSet<&String>) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
    }
}

fn replica_identities(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let keys: BTreeSet<&String> = a
        .replica_identities
        .keys()
        .chain(b.replica_identities.keys())
        .filter(|k| b.tables.contains_key(*k))
        .collect();
    for k in keys {
        let before = a
            .replica_identities
            .get(k)
            .map(String::as_str)
            .unwrap_or("DEFAULT");
        let after = b
            .replica_identities
            .get(k)
            .map(String::as_str)
            .unwrap_or("DEFAULT");
        // The index (or the key constraint's) created again has lost the mark.
        let index_recreated = after.strip_prefix("USING INDEX ").is_some_and(|i| {
            let schema = split_qualified(k).map_or("public", |(s, _)| s);
            x.recreated.contains(&format!("INDEX {schema}.{i}"))
                || x.recreated.contains(&format!("CONSTRAINT {i} ON {k}"))
        });
        if before == after && !index_recreated {
            continue;
        }
        let s = Stmt::new(Phase::SecurityAndTriggers, format!("ALTER TABLE {k} REPLICA IDENTITY {after}"))
            .hazard(HazardKind::AccessExclusiveLock, format!("ALTER TABLE {k} REPLICA IDENTITY takes an ACCESS EXCLUSIVE lock (brief: no rewrite)"));
        x.push(replication(s, format!("table {k}: replica identity {before} → {after}: the old row values logical replication sends for UPDATE and DELETE change (FULL sends whole rows and makes subscribers' lookups slower; NOTHING makes UPDATE and DELETE fail on a published table)")));
    }
}

/// A materialized view's column statistics target (what is read of its columns' settings):
/// written again when the plan creates the view or creates it again.
fn matview_statistics(x: &mut Cx<'_>, m: &str, c: &str, key: &str) {
    let fresh =
        !x.a.views.contains_key(m) || x.ch.recreate_views.contains(&DepKey::Rel(m.to_owned()));
    let before = if fresh {
        None
    } else {
        x.a.column_settings.get(key).and_then(|s| s.statistics)
    };
    let after = x.b.column_settings.get(key).and_then(|s| s.statistics);
    if before != after {
        x.simple(
            Phase::SecurityAndTriggers,
            format!(
                "ALTER MATERIALIZED VIEW {m} ALTER COLUMN {c} SET STATISTICS {}",
                after.unwrap_or(-1)
            ),
        );
    }
}

fn column_settings(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let none = ColumnSettings::default();
    let keys: BTreeSet<&String> = a
        .column_settings
        .keys()
        .chain(b.column_settings.keys())
        .collect();
    for key in keys {
        let Some((t, c)) = split_qualified(key) else {
            continue;
        };
        if b.views.get(t).is_some_and(|v| v.materialized) {
            matview_statistics(x, t, c, key);
            continue;
        }
        let Some(col) = b.tables.get(t).and_then(|tb| tb.column(c)) else {
            continue;
        };
        let old_col = a.tables.get(t).and_then(|ta| ta.column(c));
        let fresh = old_col.is_none() || x.recreated.contains(&format!("COLUMN {key}"));
        let retyped = old_col.is_some_and(|o| o.data_type != col.data_type);
        let before = if fresh {
            &none
        } else {
            a.column_settings.get(key).unwrap_or(&none)
        };
        let after = b.column_settings.get(key).unwrap_or(&none);
        let alter = format!("ALTER TABLE {t} ALTER COLUMN {c}");
        // A type change resets storage and compression to the new type's defaults.
        let (old_storage, old_compression) = if retyped {
            (None, None)
        } else {
            (before.storage.clone(), before.compression.clone())
        };
        if old_storage != after.storage {
            let to = after
                .storage
                .clone()
                .or_else(|| Some(before.type_storage.clone()).filter(|s| !s.is_empty()))
                .unwrap_or_else(|| "EXTENDED".into());
            x.push(Stmt::new(Phase::AlterTables, format!("{alter} SET STORAGE {to}"))
                .hazard(HazardKind::AccessExclusiveLock, format!("SET STORAGE takes an ACCESS EXCLUSIVE lock on {t} (brief: existing values are not rewritten, only new ones are stored the new way)")));
        }
        if old_compression != after.compression {
            let to = after
                .compression
                .clone()
                .unwrap_or_else(|| "DEFAULT".into());
            x.push(Stmt::new(Phase::AlterTables, format!("{alter} SET COMPRESSION {to}"))
                .hazard(HazardKind::AccessExclusiveLock, format!("SET COMPRESSION takes an ACCESS EXCLUSIVE lock on {t} (brief: existing values keep their compression)")));
        }
        column_options(x, &alter, &before.options, &after.options);
        if before.statistics != after.statistics {
            let to = after.statistics.unwrap_or(-1);
            x.push(Stmt::new(
                Phase::AlterTables,
                format!("{alter} SET STATISTICS {to}"),
            ));
        }
    }
}

/// Attribute options (`n_distinct`, …) from `before` to `after`: a column dropped and added
/// again (or created) has none.
fn column_options(x: &mut Cx<'_>, alter: &str, before: &[String], after: &[String]) {
    let set: Vec<&str> = after
        .iter()
        .filter(|o| !before.contains(o))
        .map(String::as_str)
        .collect();
    let key = |o: &str| o.split('=').next().unwrap_or(o).to_owned();
    let kept: BTreeSet<String> = after.iter().map(|o| key(o)).collect();
    let reset: Vec<String> = before
        .iter()
        .map(|o| key(o))
        .filter(|k| !kept.contains(k))
        .collect();
    if !set.is_empty() {
        x.simple(
            Phase::AlterTables,
            format!("{alter} SET ({})", set.join(", ")),
        );
    }
    if !reset.is_empty() {
        x.simple(
            Phase::AlterTables,
            format!("{alter} RESET ({})", reset.join(", ")),
        );
    }
}

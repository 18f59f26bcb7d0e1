//! Extended statistics: dropped when they change or go (before columns are dropped or
//! retyped; not when their table goes, which takes them along), created after the tables,
//! indexes and materialized views (again on a materialized view created again), with their
//! `SET STATISTICS` target and owner — written again too on a table with a retyped column,
//! where Postgres builds them again without either.

use super::super::catalog::{kind, ObjectId};
use super::super::model::{DepKey, Model};
use super::{Cx, Phase};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, s) in &a.statistics {
        let changed = b
            .statistics
            .get(k)
            .is_none_or(|n| n.definition != s.definition || n.table != s.table);
        let table_stays = (b.tables.contains_key(&s.table) || b.views.contains_key(&s.table))
            && !x.ch.kind_changed.contains(&s.table);
        if changed && table_stays {
            x.simple(Phase::DropConstraints, format!("DROP STATISTICS {k}"));
        }
    }
    for (k, s) in &b.statistics {
        let old = a.statistics.get(k);
        // A materialized view created again (or a relation whose kind changes) has lost its
        // statistics objects.
        let view_recreated = x.ch.recreate_views.contains(&DepKey::Rel(s.table.clone()))
            || x.ch.kind_changed.contains(&s.table);
        let same = old.is_some_and(|o| o.definition == s.definition && o.table == s.table)
            && !view_recreated;
        if view_recreated {
            x.recreated.insert(format!("STATISTICS {k}"));
        }
        if !same {
            // Created again (or new): a comment of the old one is gone with it.
            x.recreated.insert(format!("STATISTICS {k}"));
            x.simple(Phase::CreateStatistics, s.definition.clone());
        }
        // Retyping a column of its table may have built it again: without its target, and
        // owned by the role running the plan.
        let retyped = x.retyped.contains(&s.table);
        let old_target = if same {
            old.map_or(-1, |o| o.target)
        } else {
            -1
        };
        if s.target != old_target || (retyped && s.target >= 0) {
            let target = if s.target >= 0 {
                s.target.to_string()
            } else if b.server_version >= 170_000 {
                "DEFAULT".to_owned()
            } else {
                "-1".to_owned()
            };
            x.simple(
                Phase::CreateStatistics,
                format!("ALTER STATISTICS {k} SET STATISTICS {target}"),
            );
        }
        if !same || retyped {
            if let Some(owner) = owner(x.b, k) {
                let sql = format!("ALTER STATISTICS {k} OWNER TO {owner}");
                x.simple(Phase::CreateStatistics, sql);
            }
        }
    }
}

/// The owner of statistics object `k` in `m` when not the default one. The model does not
/// carry it (a change of it is the safety net's); the catalog fingerprint does.
fn owner<'m>(m: &'m Model, k: &str) -> Option<&'m str> {
    let id = ObjectId {
        kind: kind("statistics"),
        parent: "".into(),
        name: k.into(),
    };
    let aspects = m.catalog.as_ref()?.get(&id)?;
    aspects[2]
        .as_deref()
        .filter(|o| *o != "=" && *o != "PUBLIC")
}

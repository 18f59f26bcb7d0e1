//! Rules on tables and views: dropped when they change or go (unless their relation goes, or
//! is a view created again, which takes them along), created again after the tables and
//! views, then enabled or disabled as B has them.

use super::super::model::{DepKey, Rule};
use super::sql::name_of;
use super::{Cx, Phase};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, r) in &a.rules {
        let on_recreated_view = x.ch.recreate_views.contains(&DepKey::Rel(r.table.clone()));
        let changed = b.rules.get(k).is_none_or(|n| n.definition != r.definition);
        let relation_stays = b.tables.contains_key(&r.table) || b.views.contains_key(&r.table);
        if changed && relation_stays && !on_recreated_view {
            x.simple(
                Phase::DropTriggersAndPolicies,
                format!("DROP RULE {} ON {}", name_of(k, &r.table), r.table),
            );
        }
    }
    for (k, r) in &b.rules {
        let view_recreated = x.ch.recreate_views.contains(&DepKey::Rel(r.table.clone()));
        let old = a.rules.get(k);
        if old.is_some_and(|o| o.definition == r.definition) && !view_recreated {
            if old.is_some_and(|o| o.enabled != r.enabled) {
                x.simple(Phase::EnableTriggers, enable(k, r));
            }
            continue;
        }
        x.simple(Phase::SecurityAndTriggers, r.definition.clone());
        // Created again: its comment goes with the old one.
        x.recreated
            .insert(format!("RULE {} ON {}", name_of(k, &r.table), r.table));
        if r.enabled != 'O' {
            x.simple(Phase::EnableTriggers, enable(k, r));
        }
    }
}

fn enable(k: &str, r: &Rule) -> String {
    let name = name_of(k, &r.table);
    match r.enabled {
        'D' => format!("ALTER TABLE {} DISABLE RULE {name}", r.table),
        'R' => format!("ALTER TABLE {} ENABLE REPLICA RULE {name}", r.table),
        'A' => format!("ALTER TABLE {} ENABLE ALWAYS RULE {name}", r.table),
        _ => format!("ALTER TABLE {} ENABLE RULE {name}", r.table),
    }
}

//! Triggers: dropped when they change or read a retyped column, created again after the
//! tables and views, then enabled or disabled as B has them.

use super::super::model::{DepKey, Trigger};
use super::sql::name_of;
use super::{Cx, Phase};

pub(super) fn diff(x: &mut Cx<'_>) {
    drop_changed(x);
    create(x);
}

fn drop_changed(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, t) in &a.triggers {
        let on_recreated_view = x.ch.recreate_views.contains(&DepKey::Rel(t.table.clone()));
        let changed = b
            .triggers
            .get(k)
            .is_none_or(|n| n.definition != t.definition)
            || x.ch.rebuilt_triggers.contains(k);
        let relation_stays = b.tables.contains_key(&t.table) || b.views.contains_key(&t.table);
        if changed && relation_stays && !on_recreated_view {
            x.simple(
                Phase::DropTriggersAndPolicies,
                format!("DROP TRIGGER {} ON {}", name_of(k, &t.table), t.table),
            );
        }
    }
}

fn create(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, t) in &b.triggers {
        let view_recreated = x.ch.recreate_views.contains(&DepKey::Rel(t.table.clone()));
        if a.triggers
            .get(k)
            .is_some_and(|o| o.definition == t.definition)
            && !view_recreated
            && !x.ch.rebuilt_triggers.contains(k)
        {
            if a.triggers.get(k).is_some_and(|o| o.enabled != t.enabled) {
                x.simple(Phase::EnableTriggers, enable(k, t));
            }
            continue;
        }
        x.simple(Phase::SecurityAndTriggers, t.definition.clone());
        x.recreated
            .insert(format!("TRIGGER {} ON {}", name_of(k, &t.table), t.table));
        if t.enabled != 'O' {
            x.simple(Phase::EnableTriggers, enable(k, t));
        }
    }
}

fn enable(k: &str, t: &Trigger) -> String {
    let name = name_of(k, &t.table);
    match t.enabled {
        'D' => format!("ALTER TABLE {} DISABLE TRIGGER {name}", t.table),
        'R' => format!("ALTER TABLE {} ENABLE REPLICA TRIGGER {name}", t.table),
        'A' => format!("ALTER TABLE {} ENABLE ALWAYS TRIGGER {name}", t.table),
        _ => format!("ALTER TABLE {} ENABLE TRIGGER {name}", t.table),
    }
}

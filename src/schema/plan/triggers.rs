//! Triggers: dropped when they change or read a retyped column, created again after the
//! tables and views, then enabled or disabled as B has them — and their clones on
//! partitions after them.
//!
//! A trigger that changes for its own sake is replaced in place (`CREATE OR REPLACE TRIGGER`,
//! PostgreSQL 14 and later) or, where that cannot be (a constraint trigger), dropped right
//! before it is created again, in one transaction ([`super::windows`]): it is never missing
//! while other statements run.

use super::super::model::{DepKey, TableKind, Trigger};
use super::sql::name_of;
use super::{Cx, Phase, Stmt};

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
        // A trigger replaced for its own sake is dropped next to its re-creation.
        let early = (x.ch.rebuilt_triggers.contains(k) || !b.triggers.contains_key(k))
            && !x.ch.renames.triggers.contains_key(k);
        if changed && relation_stays && !on_recreated_view && early {
            let s = Stmt::new(
                Phase::DropTriggersAndPolicies,
                format!("DROP TRIGGER {} ON {}", name_of(k, &t.table), t.table),
            );
            let replaced = b
                .triggers
                .iter()
                .any(|(n, nt)| nt.table == t.table && !a.triggers.contains_key(n));
            x.push(if b.triggers.contains_key(k) {
                s.opens(format!("TRIGGER {k}"))
            } else if replaced {
                // Another trigger of the table takes its place: the window lasts until then.
                s.opens(format!("TRIGGERS ON {}", t.table))
            } else {
                s
            });
        }
    }
}

fn create(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, t) in &b.triggers {
        let view_recreated = x.ch.recreate_views.contains(&DepKey::Rel(t.table.clone()));
        if !a.triggers.contains_key(k) && x.ch.renames.trigger_to(k) {
            continue;
        }
        if a.triggers
            .get(k)
            .is_some_and(|o| o.definition == t.definition)
            && !view_recreated
            && !x.ch.rebuilt_triggers.contains(k)
        {
            let old = &a.triggers[k];
            if old.enabled != t.enabled {
                // Recursing to the partitions: every clone takes the trigger's state.
                x.simple(Phase::EnableTriggers, enable(k, t));
                clones(x, k, t, None);
            } else {
                clones(x, k, t, Some(old));
            }
            continue;
        }
        let old = a.triggers.get(k).filter(|_| !view_recreated);
        let rebuilt = x.ch.rebuilt_triggers.contains(k);
        match old {
            Some(o) if !rebuilt => {
                if let Some(sql) = replace(x, o, t) {
                    x.simple(Phase::SecurityAndTriggers, sql);
                } else {
                    x.push(
                        Stmt::new(
                            Phase::SecurityAndTriggers,
                            format!("DROP TRIGGER {} ON {}", name_of(k, &o.table), o.table),
                        )
                        .opens(format!("TRIGGER {k}")),
                    );
                    x.push(
                        Stmt::new(Phase::SecurityAndTriggers, t.definition.clone())
                            .closes(format!("TRIGGER {k}")),
                    );
                }
            }
            Some(_) => x.push(
                Stmt::new(Phase::SecurityAndTriggers, t.definition.clone())
                    .closes(format!("TRIGGER {k}")),
            ),
            // On a table the plan creates: part of its window (see `tables::row_security`).
            None if !a.tables.contains_key(&t.table) => x.push(
                Stmt::new(Phase::SecurityAndTriggers, t.definition.clone())
                    .closes(format!("TABLE {}", t.table)),
            ),
            None => x.push(
                Stmt::new(Phase::SecurityAndTriggers, t.definition.clone())
                    .closes(format!("TRIGGERS ON {}", t.table)),
            ),
        }
        x.recreated
            .insert(format!("TRIGGER {} ON {}", name_of(k, &t.table), t.table));
        if t.enabled != 'O' {
            x.simple(Phase::EnableTriggers, enable(k, t));
        }
        // Created again, its clones have its state.
        clones(x, k, t, None);
    }
}

/// The clones of trigger `k` (`t` in the desired schema) on partitions enabled as `t` has
/// them, after the trigger: `old` is the trigger as it stands (`None` when every clone has
/// the trigger's state then — it was just created, or enabled on the partitioned table).
fn clones(x: &mut Cx<'_>, k: &str, t: &Trigger, old: Option<&Trigger>) {
    let (a, b) = (x.a, x.b);
    let mut partitions: Vec<&String> = t.clones.keys().collect();
    if let Some(o) = old {
        partitions.extend(o.clones.keys().filter(|p| !t.clones.contains_key(*p)));
    }
    let name = name_of(k, &t.table);
    for p in partitions {
        let Some(pt) = b.tables.get(p).filter(|pt| pt.partition_of.is_some()) else {
            continue;
        };
        // A partition created, attached or attached again has a fresh clone.
        let fresh = a
            .tables
            .get(p)
            .is_none_or(|o| o.partition_of != pt.partition_of);
        let now = match old {
            Some(o) if !fresh => o.clones.get(p).copied().unwrap_or(o.enabled),
            _ => t.enabled,
        };
        let wanted = t.clones.get(p).copied().unwrap_or(t.enabled);
        if now != wanted {
            x.simple(Phase::EnableTriggers, enable_on(p, &name, wanted));
        }
    }
}

/// `CREATE OR REPLACE TRIGGER` taking `o` to `n`, where the server and the trigger allow it
/// (not a constraint trigger, not on a partitioned table whose partitions hold clones).
fn replace(x: &Cx<'_>, o: &Trigger, n: &Trigger) -> Option<String> {
    const PLAIN: &str = "CREATE TRIGGER ";
    let partitioned =
        x.a.tables
            .get(&n.table)
            .is_some_and(|t| t.kind == TableKind::Partitioned);
    if x.a.server_version < 140000 || partitioned || !o.definition.starts_with(PLAIN) {
        return None;
    }
    let rest = n.definition.strip_prefix(PLAIN)?;
    Some(format!("CREATE OR REPLACE TRIGGER {rest}"))
}

fn enable(k: &str, t: &Trigger) -> String {
    enable_on(&t.table, &name_of(k, &t.table), t.enabled)
}

fn enable_on(table: &str, name: &str, state: char) -> String {
    match state {
        'D' => format!("ALTER TABLE {table} DISABLE TRIGGER {name}"),
        'R' => format!("ALTER TABLE {table} ENABLE REPLICA TRIGGER {name}"),
        'A' => format!("ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}"),
        _ => format!("ALTER TABLE {table} ENABLE TRIGGER {name}"),
    }
}

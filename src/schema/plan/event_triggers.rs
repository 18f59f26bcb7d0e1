//! Event triggers: created once their function exists (its `CREATE FUNCTION` is in the
//! functions' phase), dropped before it goes. A new definition is a drop and a create; a
//! new enabled state is an `ALTER EVENT TRIGGER`. They need a superuser.

use super::super::model::EventTrigger;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, old) in &a.event_triggers {
        if b.event_triggers.get(k).map(|t| &t.definition) != Some(&old.definition) {
            x.simple(
                Phase::DropEventTriggersAndCasts,
                format!("DROP EVENT TRIGGER {k}"),
            );
        }
    }
    for (k, t) in &b.event_triggers {
        match a.event_triggers.get(k) {
            Some(old) if old.definition == t.definition => {
                if old.enabled != t.enabled {
                    // One that stops firing in ordinary sessions (DISABLE, ENABLE REPLICA)
                    // goes first, as a drop does: a DDL guard the target turns off blocked
                    // the plan's own DDL when it came last (attack12 N12). One that starts
                    // firing comes last.
                    let stops = fires(&old.enabled) && !fires(&t.enabled);
                    let phase = if stops {
                        Phase::DropEventTriggersAndCasts
                    } else {
                        Phase::SecurityAndTriggers
                    };
                    x.simple(phase, enable_sql(k, t));
                }
            }
            old => {
                if old.is_some() {
                    // Dropped above: its comment and owner are written again.
                    x.recreated.insert(format!("EVENT TRIGGER {k}"));
                }
                x.push(
                    Stmt::new(
                        Phase::SecurityAndTriggers,
                        format!("CREATE EVENT TRIGGER {k} {}", t.definition),
                    )
                    .hazard(
                        HazardKind::Correctness,
                        format!("event trigger {k} runs on every matching DDL command of the database from now on (also later statements of this plan); it needs a superuser"),
                    ),
                );
                if t.enabled != "O" {
                    x.simple(Phase::SecurityAndTriggers, enable_sql(k, t));
                }
            }
        }
    }
}

/// Whether an event trigger in state `enabled` fires in an ordinary session
/// (`session_replication_role = origin`).
fn fires(enabled: &str) -> bool {
    matches!(enabled, "O" | "A")
}

fn enable_sql(k: &str, t: &EventTrigger) -> String {
    let how = match t.enabled.as_str() {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    };
    format!("ALTER EVENT TRIGGER {k} {how}")
}

//! Hazards of trigger and rule changes that stop, or change, what runs on the application's
//! writes — the equivalents of `DISABLE TRIGGER` and of a `DO INSTEAD` rule
//! (write_hazards.rs):
//!
//! - `breaks_writes`: a user trigger set to fire only in replica sessions (`ENABLE REPLICA
//!   TRIGGER`: never for the application), or given a `WHEN` condition that is always false;
//!   a `DO ALSO` rule on a table whose action deletes or updates rows (each write of the
//!   application then changes other rows too, with no error);
//! - `correctness` (a warning: these are common, legitimate changes): a user trigger dropped
//!   and not replaced by another on the same table calling the same function (what it did
//!   stops); a `BEFORE … FOR EACH ROW` trigger function whose body changes, or a new such
//!   trigger on an existing table (it may rewrite or discard every row written — `RETURN NULL`
//!   — which the plan cannot judge statically).

use super::super::model::{DepKey, Model};
use super::sql::name_of;
use super::write_hazards::{mark, mark_if};
use super::{HazardKind, Statement};

pub(super) fn annotate(a: &Model, b: &Model, out: &mut [Statement]) {
    replica_only(a, b, out);
    when_false(a, b, out);
    dropped(a, b, out);
    also_rules(a, b, out);
    before_row_code(a, b, out);
}

/// The functions trigger `k` calls (its dependencies in `m`).
fn functions_of<'m>(m: &'m Model, k: &str) -> Vec<&'m DepKey> {
    m.deps
        .get(&DepKey::Trigger(k.to_owned()))
        .map(|on| on.iter().filter(|d| matches!(d, DepKey::Fn(_))).collect())
        .unwrap_or_default()
}

fn replica_only(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, t) in &b.triggers {
        let Some(old) = a.triggers.get(k) else {
            continue;
        };
        if t.enabled == 'R' && matches!(old.enabled, 'O' | 'A') {
            let name = name_of(k, &t.table);
            let message = format!("trigger {name} on {} is set to fire only in replica sessions (ENABLE REPLICA TRIGGER): it no longer runs on the application's writes — what it writes or enforces (audit rows, derived values, checks) silently stops", t.table);
            mark(
                out,
                &format!("ALTER TABLE {} ENABLE REPLICA TRIGGER {name}", t.table),
                HazardKind::BreaksWrites,
                &message,
            );
        }
    }
}

/// Whether a trigger definition's `WHEN` condition is a constant false (or NULL).
fn never_fires(definition: &str) -> bool {
    ["WHEN (false)", "WHEN (NULL::boolean)", "WHEN (NULL)"]
        .iter()
        .any(|w| definition.contains(w))
}

fn when_false(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, t) in &b.triggers {
        let Some(old) = a.triggers.get(k) else {
            continue;
        };
        if !never_fires(&t.definition) || never_fires(&old.definition) {
            continue;
        }
        let name = name_of(k, &t.table);
        let message = format!("trigger {name} on {} gets a WHEN condition that is always false: it never fires again — what it writes or enforces silently stops", t.table);
        let (head, on) = (format!("TRIGGER {name} "), format!(" ON {} ", t.table));
        mark_if(
            out,
            |sql| {
                sql.starts_with("CREATE")
                    && sql.contains(&head)
                    && sql.contains(&on)
                    && never_fires(sql)
            },
            HazardKind::BreaksWrites,
            &message,
        );
    }
}

fn dropped(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, t) in &a.triggers {
        if b.triggers.contains_key(k) || !b.tables.contains_key(&t.table) {
            continue;
        }
        let calls = functions_of(a, k);
        let replaced = b.triggers.iter().any(|(n, nt)| {
            nt.table == t.table && functions_of(b, n).iter().any(|f| calls.contains(f))
        });
        if replaced {
            continue;
        }
        let name = name_of(k, &t.table);
        let what = calls
            .iter()
            .map(|f| match f {
                DepKey::Fn(f) => f.as_str(),
                _ => "",
            })
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("trigger {name} on {} is dropped and no trigger of the table calls its function ({what}) any more: what it did on every write of the table (audit rows, derived values, checks) stops", t.table);
        mark(
            out,
            &format!("DROP TRIGGER {name} ON {}", t.table),
            HazardKind::Correctness,
            &message,
        );
    }
}

/// The action of a rule definition (`… DO [ALSO|INSTEAD] action`), when it is `DO ALSO`.
fn also_action(definition: &str) -> Option<&str> {
    let at = definition.find(" DO ")?;
    let action = &definition[at + 4..];
    if action.trim_start().starts_with("INSTEAD") {
        return None;
    }
    Some(action)
}

fn also_rules(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, r) in &b.rules {
        let new = a.rules.get(k).is_none_or(|o| o.definition != r.definition);
        if !new || !b.tables.contains_key(&r.table) {
            continue;
        }
        let Some(action) = also_action(&r.definition) else {
            continue;
        };
        let writes: Vec<&str> = [("DELETE FROM ", "deletes"), ("UPDATE ", "updates")]
            .iter()
            .filter(|(w, _)| action.contains(w))
            .map(|(_, what)| *what)
            .collect();
        if writes.is_empty() {
            continue;
        }
        let message = format!("rule {} on table {} also {} rows on each write it catches (DO ALSO): every such write of the application changes other rows too, with no error", name_of(k, &r.table), r.table, writes.join(" and "));
        mark(out, &r.definition, HazardKind::BreaksWrites, &message);
    }
}

fn before_row(definition: &str) -> bool {
    definition.contains(" BEFORE ") && definition.contains(" FOR EACH ROW ")
}

fn before_row_code(a: &Model, b: &Model, out: &mut [Statement]) {
    // Function → tables whose existing writes now run its new code.
    let mut changed: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, t) in &b.triggers {
        if !before_row(&t.definition) || !a.tables.contains_key(&t.table) {
            continue;
        }
        for f in functions_of(b, k) {
            let DepKey::Fn(f) = f else { continue };
            let (Some(new), old) = (b.functions.get(f), a.functions.get(f)) else {
                continue;
            };
            let body_changed = old.is_some_and(|o| o.definition != new.definition);
            // A new trigger whose function a BEFORE ROW trigger of the table already ran
            // (renamed, events moved) runs no new code.
            let ran_before = a.triggers.iter().any(|(n, o)| {
                o.table == t.table
                    && before_row(&o.definition)
                    && functions_of(a, n)
                        .iter()
                        .any(|g| matches!(g, DepKey::Fn(g) if g == f))
            });
            if body_changed || (!a.triggers.contains_key(k) && !ran_before) {
                changed.entry(f.clone()).or_default().push(t.table.clone());
            }
        }
    }
    for (f, mut tables) in changed {
        tables.dedup();
        let message = format!("BEFORE … FOR EACH ROW trigger function {f} is new or changed on {}: every row written to them now runs new code, which may change or discard it (RETURN NULL skips the write, with no error) — the plan cannot judge it statically: review the function, or probe a write on the test copy", tables.join(", "));
        let head = b.functions[&f].definition.lines().next().unwrap_or("");
        mark(out, head, HazardKind::Correctness, &message);
        for (k, t) in &b.triggers {
            if tables.contains(&t.table) && !a.triggers.contains_key(k) && before_row(&t.definition)
            {
                let name = name_of(k, &t.table);
                let (head, on) = (format!("TRIGGER {name} "), format!(" ON {} ", t.table));
                mark_if(
                    out,
                    |sql| sql.starts_with("CREATE") && sql.contains(&head) && sql.contains(&on),
                    HazardKind::Correctness,
                    &message,
                );
            }
        }
    }
}

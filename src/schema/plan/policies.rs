//! Row-level security policies: dropped when they change or read a retyped column, created
//! again after the tables. Both are authorization changes.
//!
//! A policy that changes in what `ALTER POLICY` can change (roles, `USING`, `WITH CHECK`) is
//! altered in place: it never disappears, not even for a moment. One whose command or
//! permissive/restrictive kind changes (or that loses a clause) is dropped right before it is
//! created again, in the same transaction ([`super::windows`]); only one that reads a retyped
//! column is dropped before the column changes.

use super::super::model::{Model, Policy};
use super::sql::name_of;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, p) in &a.policies {
        let rebuilt = x.ch.rebuilt_policies.contains(k);
        let changed = b.policies.get(k).is_none_or(|n| n != p);
        // A policy replaced for its own sake is dropped next to its re-creation (below).
        let renamed = x.ch.renames.policies.contains_key(k);
        if (rebuilt || (changed && !b.policies.contains_key(k)))
            && b.tables.contains_key(&p.table)
            && !renamed
        {
            let d = drop(k, p, Phase::DropTriggersAndPolicies);
            x.push(if rebuilt {
                d.opens(format!("POLICY {k}"))
            } else if replaced_on(a, b, &p.table) {
                // Another policy of the table takes its place: the window lasts until then.
                d.opens(format!("POLICIES ON {}", p.table))
            } else {
                d
            });
        }
    }
    for (k, p) in &b.policies {
        let old = a.policies.get(k);
        let rebuilt = x.ch.rebuilt_policies.contains(k);
        if (old == Some(p) && !rebuilt) || (old.is_none() && x.ch.renames.policy_to(k)) {
            continue;
        }
        if let (Some(o), false) = (old, rebuilt) {
            if let Some(sql) = alter(k, o, p) {
                x.push(Stmt::new(Phase::SecurityAndTriggers, sql).hazard(
                    HazardKind::AuthzUpdate,
                    "a row-level security policy is changed in place",
                ));
                continue;
            }
            x.push(drop(k, o, Phase::SecurityAndTriggers).opens(format!("POLICY {k}")));
        }
        let mut s = format!("CREATE POLICY {} ON {}", name_of(k, &p.table), p.table);
        x.recreated
            .insert(format!("POLICY {} ON {}", name_of(k, &p.table), p.table));
        if !p.permissive {
            s.push_str(" AS RESTRICTIVE");
        }
        s.push_str(&format!(" FOR {} TO {}", p.command, p.roles.join(", ")));
        if let Some(u) = &p.using {
            s.push_str(&format!(" USING ({u})"));
        }
        if let Some(c) = &p.check {
            s.push_str(&format!(" WITH CHECK ({c})"));
        }
        let mut st = Stmt::new(Phase::SecurityAndTriggers, s).hazard(
            HazardKind::AuthzUpdate,
            "a row-level security policy is added or replaced",
        );
        if old.is_some() {
            st = st.closes(format!("POLICY {k}"));
        } else if !x.a.tables.contains_key(&p.table) {
            // On a table the plan creates: part of its window (see `tables::row_security`).
            st = st.closes(format!("TABLE {}", p.table));
        } else {
            st = st.closes(format!("POLICIES ON {}", p.table));
        }
        x.push(st);
    }
}

/// Whether B has a policy on `table` that A lacks: a policy A has there and B lacks is
/// replaced by it, and the table is not to be seen without either.
fn replaced_on(a: &Model, b: &Model, table: &str) -> bool {
    b.policies
        .iter()
        .any(|(k, p)| p.table == table && !a.policies.contains_key(k))
}

fn drop(k: &str, p: &Policy, phase: Phase) -> Stmt {
    Stmt::new(
        phase,
        format!("DROP POLICY {} ON {}", name_of(k, &p.table), p.table),
    )
    .hazard(
        HazardKind::AuthzUpdate,
        "a row-level security policy is removed or replaced",
    )
}

/// `ALTER POLICY` taking `o` to `n`, when it can: same table, command and kind, and no clause
/// removed (`ALTER POLICY` can replace a clause but not take one away).
fn alter(k: &str, o: &Policy, n: &Policy) -> Option<String> {
    if o.table != n.table
        || o.command != n.command
        || o.permissive != n.permissive
        || (o.using.is_some() && n.using.is_none())
        || (o.check.is_some() && n.check.is_none())
    {
        return None;
    }
    let mut s = format!("ALTER POLICY {} ON {}", name_of(k, &n.table), n.table);
    if o.roles != n.roles {
        s.push_str(&format!(" TO {}", n.roles.join(", ")));
    }
    if o.using != n.using {
        s.push_str(&format!(" USING ({})", n.using.as_deref()?));
    }
    if o.check != n.check {
        s.push_str(&format!(" WITH CHECK ({})", n.check.as_deref()?));
    }
    Some(s)
}

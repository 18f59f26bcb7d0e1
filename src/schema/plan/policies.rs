//! Row-level security policies: dropped when they change or read a retyped column, created
//! again after the tables. Both are authorization changes.

use super::sql::name_of;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, p) in &a.policies {
        let changed = b.policies.get(k).is_none_or(|n| n != p) || x.ch.rebuilt_policies.contains(k);
        if changed && b.tables.contains_key(&p.table) {
            x.push(
                Stmt::new(
                    Phase::DropTriggersAndPolicies,
                    format!("DROP POLICY {} ON {}", name_of(k, &p.table), p.table),
                )
                .hazard(
                    HazardKind::AuthzUpdate,
                    "a row-level security policy is removed or replaced",
                ),
            );
        }
    }
    for (k, p) in &b.policies {
        if a.policies.get(k) == Some(p) && !x.ch.rebuilt_policies.contains(k) {
            continue;
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
        x.push(Stmt::new(Phase::SecurityAndTriggers, s).hazard(
            HazardKind::AuthzUpdate,
            "a row-level security policy is added or replaced",
        ));
    }
}

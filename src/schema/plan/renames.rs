//! Policies and triggers renamed: A has one that B lacks and B one that A lacks, on the same
//! relation, alike but for the name. They are renamed in place (`ALTER POLICY … RENAME TO`,
//! `ALTER TRIGGER … RENAME TO`) rather than dropped and created again: a drop and a create
//! land in different phases, and in a plan that runs statement by statement a concurrent
//! index build between them would leave the table without its policy or trigger for
//! minutes (attack8 F-rename-window).
//!
//! Not renamed (dropped and created as before): one that reads a column the plan retypes
//! (Postgres refuses the retype under it), one on a view created again, a constraint
//! trigger, and one whose comment differs.

use std::collections::{BTreeMap, BTreeSet};

use super::super::model::{DepKey, Model};
use super::sql::name_of;
use super::{Cx, Phase};

/// Renamed policies and triggers: A's key → B's key.
#[derive(Debug, Default)]
pub(super) struct Renames {
    pub policies: BTreeMap<String, String>,
    pub triggers: BTreeMap<String, String>,
}

impl Renames {
    /// `readers`: what reads a retyped column (dropped and created around the retype);
    /// `views`: views created again.
    pub(super) fn of(
        a: &Model,
        b: &Model,
        readers: &BTreeSet<DepKey>,
        views: &BTreeSet<DepKey>,
    ) -> Renames {
        let comment = |m: &Model, kind: &str, key: &str, table: &str| {
            m.comments
                .get(&format!("{kind} {} ON {table}", name_of(key, table)))
                .cloned()
        };
        let mut out = Renames::default();
        let mut taken = BTreeSet::new();
        for (ok, o) in a
            .policies
            .iter()
            .filter(|(k, _)| !b.policies.contains_key(*k))
        {
            if readers.contains(&DepKey::Policy(ok.clone())) || !b.tables.contains_key(&o.table) {
                continue;
            }
            let found = b.policies.iter().find(|(nk, n)| {
                !a.policies.contains_key(*nk)
                    && !taken.contains(*nk)
                    && *n == o
                    && comment(a, "POLICY", ok, &o.table) == comment(b, "POLICY", nk, &n.table)
            });
            if let Some((nk, _)) = found {
                taken.insert(nk.clone());
                out.policies.insert(ok.clone(), nk.clone());
            }
        }
        for (ok, o) in a
            .triggers
            .iter()
            .filter(|(k, _)| !b.triggers.contains_key(*k))
        {
            let stays = b.tables.contains_key(&o.table) || b.views.contains_key(&o.table);
            if readers.contains(&DepKey::Trigger(ok.clone()))
                || views.contains(&DepKey::Rel(o.table.clone()))
                || !stays
            {
                continue;
            }
            let Some(body) = trigger_body(ok, &o.table, &o.definition) else {
                continue;
            };
            let found = b.triggers.iter().find(|(nk, n)| {
                !a.triggers.contains_key(*nk)
                    && !taken.contains(*nk)
                    && n.table == o.table
                    && n.enabled == o.enabled
                    && trigger_body(nk, &n.table, &n.definition) == Some(body)
                    && comment(a, "TRIGGER", ok, &o.table) == comment(b, "TRIGGER", nk, &n.table)
            });
            if let Some((nk, _)) = found {
                taken.insert(nk.clone());
                out.triggers.insert(ok.clone(), nk.clone());
            }
        }
        out
    }
    /// Whether B's policy `key` is A's renamed.
    pub(super) fn policy_to(&self, key: &str) -> bool {
        self.policies.values().any(|n| n == key)
    }
    /// Whether B's trigger `key` is A's renamed.
    pub(super) fn trigger_to(&self, key: &str) -> bool {
        self.triggers.values().any(|n| n == key)
    }
}

/// A plain trigger's definition without its name (`CREATE TRIGGER name ` stripped).
fn trigger_body<'d>(key: &str, table: &str, definition: &'d str) -> Option<&'d str> {
    let head = format!("CREATE TRIGGER {} ", name_of(key, table));
    definition.strip_prefix(head.as_str())
}

/// The renames, early (a renamed object protects its table all along).
pub(super) fn diff(x: &mut Cx<'_>) {
    let mut sqls = Vec::new();
    for (ok, nk) in &x.ch.renames.policies {
        let t = &x.a.policies[ok].table;
        let (o, n) = (name_of(ok, t), name_of(nk, t));
        sqls.push(format!("ALTER POLICY {o} ON {t} RENAME TO {n}"));
    }
    for (ok, nk) in &x.ch.renames.triggers {
        let t = &x.a.triggers[ok].table;
        let (o, n) = (name_of(ok, t), name_of(nk, t));
        sqls.push(format!("ALTER TRIGGER {o} ON {t} RENAME TO {n}"));
    }
    for s in sqls {
        x.simple(Phase::DropTriggersAndPolicies, s);
    }
}

//! Kept objects that read what the plan drops: Postgres refuses to drop a table or a column
//! while a policy or a trigger reads it (`pg_depend`), and `ALTER POLICY` or `CREATE OR
//! REPLACE TRIGGER` come after the drops. Such a policy or trigger is dropped before and
//! created again after, like one over a retyped column.

use std::collections::BTreeSet;

use super::super::model::{DepKey, Model};
use super::analysis::Changes;
use super::graph::Users;

/// The tables, views and columns of `a` that `b` no longer has (as the same kind of
/// relation): the plan drops them.
pub(super) fn dropped(a: &Model, b: &Model) -> BTreeSet<DepKey> {
    let mut out: BTreeSet<DepKey> = BTreeSet::new();
    for (k, t) in &a.tables {
        match b.tables.get(k) {
            None => {
                out.insert(DepKey::Rel(k.clone()));
            }
            Some(n) => out.extend(
                t.columns
                    .iter()
                    .filter(|c| !c.inherited && n.column(&c.name).is_none())
                    .map(|c| DepKey::Col(format!("{k}.{}", c.name))),
            ),
        }
    }
    out.extend(
        a.views
            .keys()
            .filter(|k| !b.views.contains_key(*k))
            .map(|k| DepKey::Rel(k.clone())),
    );
    out
}

/// Adds the kept policies and triggers that read a dropped table, view or column to those
/// rebuilt around the change.
pub(super) fn rebuild_readers(ch: &mut Changes, a: &Model, b: &Model, a_users: &Users<'_>) {
    for d in dropped(a, b) {
        for &u in a_users.get(&d).into_iter().flatten() {
            match u {
                DepKey::Policy(k)
                    if b.policies.contains_key(k)
                        && a.policies
                            .get(k)
                            .is_some_and(|p| b.tables.contains_key(&p.table)) =>
                {
                    ch.rebuilt_policies.insert(k.clone());
                }
                DepKey::Trigger(k)
                    if b.triggers.contains_key(k)
                        && a.triggers
                            .get(k)
                            .is_some_and(|t| b.tables.contains_key(&t.table)) =>
                {
                    ch.rebuilt_triggers.insert(k.clone());
                }
                _ => {}
            }
        }
    }
}

/// The first dropped table, view or column that function `k` of `a` uses (its SQL-standard
/// body reads it, or its result or a parameter is its row type), as it reads in messages.
pub(super) fn reads(a: &Model, k: &str, dropped: &BTreeSet<DepKey>) -> Option<String> {
    let ds = a.deps.get(&DepKey::Fn(k.to_owned()))?;
    ds.iter()
        .find(|d| dropped.contains(*d))
        .map(|d| d.to_string())
}

/// Whether function `key` of `b` uses a view of `b` that replaces a table or a foreign table
/// of `a` (its row type, in `RETURNS SETOF t`): it is created again after the views.
pub(super) fn uses_new_view(a: &Model, b: &Model, key: &DepKey) -> bool {
    b.deps.get(key).is_some_and(|ds| {
        ds.iter().any(|d| match d {
            DepKey::Rel(r) => b.views.contains_key(r) && !a.views.contains_key(r),
            _ => false,
        })
    })
}

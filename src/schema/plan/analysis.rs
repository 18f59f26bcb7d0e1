//! What must be rebuilt around what, decided before any statement is written: enums that
//! are recreated, views over something that changes shape, and what Postgres refuses to
//! retype a column or drop a key under (policies, triggers, generated columns, foreign keys).

use std::collections::BTreeSet;

use super::super::model::{ConstraintKind, DepKey, Model};
use super::super::{quote_ident, split_qualified};
use super::graph::{dependents, users, Users};
use super::sql::{element_type, is_subsequence, strip_not_valid};

/// The decisions of the analysis, read by the object kinds' `diff`s.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Enums whose values are removed or reordered: created again under the old name.
    pub recreated_enums: BTreeSet<String>,
    /// Views ([`DepKey::Rel`]) dropped and created again.
    pub recreate_views: BTreeSet<DepKey>,
    /// Relations whose kind changes (table ↔ view or materialized view): the old one is
    /// dropped with its indexes, statistics, grants and comments, and the new one created
    /// bare, so everything B has on it is created again after it.
    pub kind_changed: BTreeSet<String>,
    /// Policies, triggers and generated columns (`table.column`) that read a retyped column.
    pub rebuilt_policies: BTreeSet<String>,
    pub rebuilt_triggers: BTreeSet<String>,
    pub rebuilt_columns: BTreeSet<String>,
    /// Foreign keys (table, name) that rest on a primary key or unique constraint that is
    /// dropped or replaced.
    pub rebuilt_fks: BTreeSet<(String, String)>,
    /// Functions of A handled as a drop and a create (not dropped again at the end); filled
    /// by the functions' diff.
    pub replaced_fns: BTreeSet<String>,
    /// Policies and triggers renamed in place.
    pub renames: super::renames::Renames,
    /// Functions ([`DepKey::Fn`]) whose SQL-standard body reads a view the plan creates:
    /// created among the views, in dependency order; filled by the functions' diff.
    pub view_fns: BTreeSet<DepKey>,
    /// New domains and composite types over a new table's row type: created among the
    /// tables (see `rowtypes`).
    pub late_types: BTreeSet<String>,
    /// Objects that go with a view (or only a table) over whose row type they are: dropped
    /// among the views (tables), before it (see `rowtypes`).
    pub drop_with_views: BTreeSet<DepKey>,
    pub drop_with_tables: BTreeSet<DepKey>,
    /// The phase each function the plan creates or replaces is created in; filled by the
    /// functions' diff (an aggregate follows its functions).
    pub fn_phase: std::collections::BTreeMap<String, super::Phase>,
}

/// Unsupported objects: any difference is reported, never dropped.
pub(super) fn unsupported_objects(a: &Model, b: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in &b.unsupported {
        match a.unsupported.get(k) {
            None => out.push(format!(
                "{k}: added — not supported by the schema engine; write this change by hand"
            )),
            Some(old) if old != v => out.push(format!(
                "{k}: changed — not supported by the schema engine; write this change by hand"
            )),
            _ => {}
        }
    }
    for k in a
        .unsupported
        .keys()
        .filter(|k| !b.unsupported.contains_key(*k))
    {
        out.push(format!(
            "{k}: removed — not supported by the schema engine; write this change by hand"
        ));
    }
    out
}

impl Changes {
    pub(super) fn of(a: &Model, b: &Model, unsupported: &mut Vec<String>) -> Changes {
        let mut ch = Changes {
            recreated_enums: recreated_enums(a, b, unsupported),
            ..Default::default()
        };
        let a_users = users(&a.deps);
        ch.recreate_views = recreate_views(a, b, &ch.recreated_enums, &a_users);
        ch.kind_changed = kind_changed(a, b);
        atomic_readers_of_rebuilt_views(a, b, &ch.recreate_views, unsupported);
        ch.rebuild_around_retyped_columns(a, b, &a_users);
        super::dropped::rebuild_readers(&mut ch, a, b, &a_users);
        ch.rebuilt_fks = rebuilt_fks(a, b);
        ch.late_types = super::rowtypes::late_types(a, b);
        (ch.drop_with_views, ch.drop_with_tables) = super::rowtypes::drops_with(a, b);
        ch
    }

    /// Postgres refuses to retype a column that a policy, a trigger's WHEN clause or a
    /// generated column reads: those are dropped before and created again after.
    fn rebuild_around_retyped_columns(&mut self, a: &Model, b: &Model, a_users: &Users<'_>) {
        let mut retyped: BTreeSet<DepKey> = BTreeSet::new();
        for (k, t) in &b.tables {
            let Some(old) = a.tables.get(k) else { continue };
            for c in &old.columns {
                let Some(n) = t.column(&c.name) else { continue };
                if n.generated == c.generated
                    && (n.data_type != c.data_type
                        || n.collation != c.collation
                        || self.recreated_enums.contains(element_type(&n.data_type)))
                {
                    retyped.insert(DepKey::Col(format!("{k}.{}", c.name)));
                }
            }
        }
        let around = dependents(&retyped, a_users);
        self.renames = super::renames::Renames::of(a, b, &around, &self.recreate_views);
        self.rebuilt_policies = around
            .iter()
            .filter_map(|d| match d {
                DepKey::Policy(k) => Some(k),
                _ => None,
            })
            .filter(|k| a.policies.contains_key(*k) && b.policies.contains_key(*k))
            .cloned()
            .collect();
        self.rebuilt_triggers = around
            .iter()
            .filter_map(|d| match d {
                DepKey::Trigger(k) => Some(k),
                _ => None,
            })
            .filter(|k| a.triggers.contains_key(*k) && b.triggers.contains_key(*k))
            .cloned()
            .collect();
        let generated = |m: &Model, key: &str| {
            split_qualified(key).and_then(|(t, c)| {
                m.tables
                    .get(t)
                    .and_then(|t| t.column(c))
                    .and_then(|c| c.generated.clone())
            })
        };
        self.rebuilt_columns = around
            .iter()
            .filter_map(|d| match d {
                DepKey::Col(k) => Some(k),
                _ => None,
            })
            .filter(|k| generated(a, k).is_some() && generated(a, k) == generated(b, k))
            .cloned()
            .collect();
    }
}

/// Enums whose values are removed or reordered. A recreated enum is swapped under table
/// columns (and arrays of it) and views; anything else that uses it (domains, composite types,
/// functions, constraints or indexes naming its values) would keep the old type: that is for
/// a human to write, and reported as unsupported — as are partition keys, foreign keys, rules
/// and expression statistics over a column of it (`enum_users`), where the retype fails.
fn recreated_enums(a: &Model, b: &Model, unsupported: &mut Vec<String>) -> BTreeSet<String> {
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for (k, labels) in &b.enums {
        if let Some(old) = a.enums.get(k) {
            if old != labels && !is_subsequence(old, labels) {
                recreated.insert(k.clone());
            }
        }
    }
    for k in recreated.clone() {
        let key = DepKey::Type(k.clone());
        let blockers: Vec<String> = a
            .deps
            .iter()
            .filter(|(_, ds)| ds.contains(&key))
            .map(|(d, _)| d)
            .filter(|d| {
                let rel = d.relation().unwrap_or("");
                let swapped_under = (a.tables.contains_key(rel) && b.tables.contains_key(rel))
                    || a.views.contains_key(rel);
                !swapped_under && !dropped_index(a, b, d)
            })
            .map(DepKey::to_string)
            .chain(super::enum_users::blockers(a, &k))
            .collect();
        if !blockers.is_empty() {
            let verb = if blockers.len() == 1 { "uses" } else { "use" };
            unsupported.push(format!(
                "enum {k}: values are removed or reordered, so the type must be recreated, but {} {verb} it — not supported by the schema engine; write this change by hand",
                blockers.join(", ")
            ));
            recreated.remove(&k);
        }
    }
    recreated
}

/// Whether `d` is an index the plan drops for good (B has none of that name, or not its
/// table): dropped before the columns are retyped, it does not keep the old type.
fn dropped_index(a: &Model, b: &Model, d: &DepKey) -> bool {
    let DepKey::Index(k) = d else { return false };
    a.indexes
        .get(k)
        .is_some_and(|i| !b.indexes.contains_key(k) || !b.tables.contains_key(&i.table))
}

/// Views that change, or sit on something that changes shape (tables whose columns change
/// type, go or are retyped for enums; functions dropped and created again), are recreated.
fn recreate_views(
    a: &Model,
    b: &Model,
    recreated_enums: &BTreeSet<String>,
    a_users: &Users<'_>,
) -> BTreeSet<DepKey> {
    let mut altered_tables: BTreeSet<DepKey> = BTreeSet::new();
    for (k, t) in &b.tables {
        let Some(old) = a.tables.get(k) else { continue };
        for c in &old.columns {
            let altered = match t.column(&c.name) {
                None => true,
                Some(n) => {
                    n.data_type != c.data_type
                        || n.collation != c.collation
                        || n.generated != c.generated
                        || recreated_enums.contains(element_type(&n.data_type))
                }
            };
            if altered {
                altered_tables.insert(DepKey::Rel(k.clone()));
            }
        }
    }
    let mut recreate: BTreeSet<DepKey> = BTreeSet::new();
    for (k, v) in &b.views {
        if a.views.get(k).is_some_and(|old| !old.same_shape(v)) {
            recreate.insert(DepKey::Rel(k.clone()));
        }
    }
    // Views that read an attribute of a composite type whose type changes.
    for v in super::composites::views_over_retyped(a, b) {
        if let DepKey::Rel(k) = &v {
            if b.views.contains_key(k) {
                recreate.insert(v.clone());
            }
        }
    }
    let mut roots = altered_tables;
    roots.extend(recreate.iter().cloned());
    // A table or view that goes (dropped, or replaced by a view or table of the same name):
    // the views over it that B keeps are dropped first and created again over what replaces it.
    roots.extend(replaced_relations(a, b));
    for (k, f) in &a.functions {
        let recreated = match b.functions.get(k) {
            Some(n) => n.returns != f.returns || n.kind != f.kind || n.arguments != f.arguments,
            // The same signature under another key: a parameter was renamed.
            None => b.functions.values().any(|n| n.signature == f.signature),
        };
        if recreated {
            roots.insert(DepKey::Fn(k.clone()));
        }
    }
    for d in dependents(&roots, a_users) {
        if let DepKey::Rel(v) = &d {
            if a.views.contains_key(v) && b.views.contains_key(v) {
                recreate.insert(d);
            }
        }
    }
    recreate
}

/// Functions with a SQL-standard body (`BEGIN ATOMIC`, `RETURN`: the only ones `pg_depend`
/// links to a relation) that read a view the plan drops and creates again, and still read it
/// once replaced (or go later): Postgres refuses to drop the view under them — refused up
/// front, like a column such a function reads whose type changes.
fn atomic_readers_of_rebuilt_views(
    a: &Model,
    b: &Model,
    recreate: &BTreeSet<DepKey>,
    unsupported: &mut Vec<String>,
) {
    for (d, ds) in &a.deps {
        let DepKey::Fn(f) = d else { continue };
        for v in ds.iter().filter(|v| recreate.contains(*v)) {
            let DepKey::Rel(view) = v else { continue };
            let released =
                b.functions.contains_key(f) && !b.deps.get(d).is_some_and(|now| now.contains(v));
            if !released {
                unsupported.push(format!(
                    "view {view} must be dropped and created again (what it reads changes), but function {f} has a SQL-standard body (BEGIN ATOMIC or RETURN) that reads it: Postgres refuses to drop the view under it — not supported by the schema engine; write this change by hand (drop the function, change the view, create the function again)"
                ));
            }
        }
    }
}

/// Foreign keys that rest on a primary key or unique constraint that is dropped or
/// replaced: Postgres refuses to drop that constraint under them, so they are dropped first
/// and, when B keeps them, added again once the new key exists.
fn rebuilt_fks(a: &Model, b: &Model) -> BTreeSet<(String, String)> {
    let mut rebuilt: BTreeSet<(String, String)> = BTreeSet::new();
    for (tk, t) in &a.tables {
        let nt = b.tables.get(tk);
        for (n, c) in &t.constraints {
            let kept = nt.and_then(|nt| nt.constraints.get(n)).is_some_and(|nc| {
                nc.kind == c.kind
                    && strip_not_valid(&nc.definition) == strip_not_valid(&c.definition)
            });
            if !c.kind.is_key() || kept || nt.is_none() {
                continue;
            }
            let schema = split_qualified(tk).map_or("public", |(s, _)| s);
            let index = DepKey::Index(format!("{schema}.{}", quote_ident(n)));
            rebuilt.extend(fks_on(a, &index));
        }
    }
    // A plain unique index (no constraint) that a foreign key rests on, dropped or rebuilt
    // while its table stays.
    for (k, i) in &a.indexes {
        let same = b
            .indexes
            .get(k)
            .is_some_and(|n| n.definition == i.definition);
        if !same && b.tables.contains_key(&i.table) {
            rebuilt.extend(fks_on(a, &DepKey::Index(k.clone())));
        }
    }
    rebuilt
}

/// The foreign keys of `m` (table, name) that depend on `index`.
fn fks_on(m: &Model, index: &DepKey) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (d, ds) in &m.deps {
        let DepKey::Con(con) = d else { continue };
        if !ds.contains(index) {
            continue;
        }
        let fk = m.tables.iter().find_map(|(ftk, ft)| {
            let name = con.strip_prefix(ftk.as_str())?.strip_prefix('.')?;
            ft.constraints
                .iter()
                .find(|(cn, fc)| fc.kind == ConstraintKind::ForeignKey && quote_ident(cn) == name)
                .map(|(cn, _)| (ftk.clone(), cn.clone()))
        });
        out.extend(fk);
    }
    out
}

/// Whether the foreign key `name` of `table` rests on a plain unique index of `m` (one no
/// constraint owns): it is added after the indexes are built.
pub(super) fn fk_on_plain_index(m: &Model, table: &str, name: &str) -> bool {
    let con = DepKey::Con(format!("{table}.{}", quote_ident(name)));
    m.deps.get(&con).is_some_and(|ds| {
        ds.iter()
            .any(|d| matches!(d, DepKey::Index(i) if m.indexes.contains_key(i)))
    })
}

/// Tables and views of A that B no longer has as the same kind of relation.
/// Relations that are a table on one side and a view (or materialized view) on the other.
pub(super) fn kind_changed(a: &Model, b: &Model) -> BTreeSet<String> {
    let to_view = a.tables.keys().filter(|k| b.views.contains_key(*k));
    let to_table = a.views.keys().filter(|k| b.tables.contains_key(*k));
    to_view.chain(to_table).cloned().collect()
}

fn replaced_relations<'m>(a: &'m Model, b: &'m Model) -> impl Iterator<Item = DepKey> + 'm {
    let tables = a.tables.keys().filter(|k| !b.tables.contains_key(*k));
    let views = a.views.keys().filter(|k| !b.views.contains_key(*k));
    tables.chain(views).map(|k| DepKey::Rel(k.clone()))
}

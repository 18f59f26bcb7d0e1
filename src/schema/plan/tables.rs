//! Tables: created in dependency order (partitions and children after their parents),
//! altered in place (their columns, then row-level security, persistence, storage options),
//! and dropped children and referencing tables first.

use std::collections::{BTreeMap, BTreeSet};

use super::super::model::{DepKey, Deps, Model, Table};
use super::graph::topo_with;
use super::sql::column_sql;
use super::{columns, h, partitions, typed, Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    partitions::detach_gone(x);
    let late = late_children(x.a, x.b);
    let mut inherited_defaults = create(x, &late, false);
    let (a, b) = (x.a, x.b);
    // Parents before their children: a column a parent drops (or retypes) is no longer
    // inherited when a child drops (or declares) its own.
    let kept: Vec<DepKey> = b
        .tables
        .keys()
        .filter(|k| a.tables.contains_key(*k))
        .map(|k| DepKey::Rel(k.clone()))
        .collect();
    for key in topo_with(&kept, &BTreeMap::new(), &parents(&b.tables, false)) {
        let DepKey::Rel(k) = &key else { continue };
        let (old, t) = (&a.tables[k], &b.tables[k]);
        // A typed table's columns change with its type (ALTER TYPE … CASCADE).
        let cascaded = typed::after_cascade(x, k, old);
        let old = cascaded.as_ref().unwrap_or(old);
        if partitions::moves(old, t) {
            // Detached first, attached last: its columns change while it stands alone.
            partitions::detach(x, k, old);
            columns::diff(x, k, &partitions::alone(old), &partitions::alone(t));
        } else {
            columns::diff(x, k, old, t);
        }
        alter(x, k, old, t);
    }
    // New inheritance children of a parent that gains columns: after its `ADD COLUMN`s (see
    // `late_children`).
    inherited_defaults.extend(create(x, &late, true));
    // After every parent's columns: a new child's inherited column may be one its parent
    // adds in this plan (`ADD COLUMN`, above), which does not exist before.
    for s in inherited_defaults {
        x.push(s);
    }
    for (k, t) in &b.tables {
        if !a.tables.contains_key(k) {
            row_security(x, k, None, t);
        }
    }
    drop_gone(x);
}

/// Each table's parents (partitioned table, inheritance parents), and with `references` the
/// tables its foreign keys point to, as extra dependency edges.
fn parents(tables: &BTreeMap<String, Table>, references: bool) -> Deps {
    let mut deps: Deps = BTreeMap::new();
    for (k, t) in tables {
        let e = deps.entry(DepKey::Rel(k.clone())).or_default();
        if let Some((p, _)) = &t.partition_of {
            e.insert(DepKey::Rel(p.clone()));
        }
        for p in &t.inherits {
            e.insert(DepKey::Rel(p.clone()));
        }
        if !references {
            continue;
        }
        for c in t.constraints.values() {
            if let Some(r) = &c.references {
                // A foreign key to a partitioned table references each of its partitions
                // too (Postgres refuses to drop one under it).
                for r in std::iter::once(r).chain(partitions_of(tables, r).iter()) {
                    if r != k {
                        e.insert(DepKey::Rel(r.clone()));
                    }
                }
            }
        }
    }
    deps
}

/// The partitions of table `p`, and theirs.
fn partitions_of(tables: &BTreeMap<String, Table>, p: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut frontier = vec![p.to_owned()];
    while let Some(q) = frontier.pop() {
        for (k, t) in tables {
            if t.partition_of.as_ref().is_some_and(|(pp, _)| *pp == q) && !out.contains(k) {
                out.push(k.clone());
                frontier.push(k.clone());
            }
        }
    }
    out
}

/// Foreign keys of tables that go and are still there, on table `k` about to be dropped (or
/// on a table it is a partition of): in a cycle of foreign keys no drop order works, so
/// they are dropped first.
fn cycle_fks(x: &mut Cx<'_>, k: &str, dropped: &BTreeSet<String>) {
    let (a, b) = (x.a, x.b);
    let mut targets = vec![k.to_owned()];
    let mut up = a.tables.get(k).and_then(|t| t.partition_of.as_ref());
    while let Some((p, _)) = up {
        targets.push(p.clone());
        up = a.tables.get(p).and_then(|t| t.partition_of.as_ref());
    }
    for (u, t) in &a.tables {
        if u == k || b.tables.contains_key(u) || dropped.contains(u) {
            continue;
        }
        for (n, c) in &t.constraints {
            if c.references.as_ref().is_some_and(|r| targets.contains(r))
                && t.partition_of.is_none()
            {
                x.simple(
                    Phase::DropTables,
                    format!("ALTER TABLE {u} DROP CONSTRAINT {}", crate::pg::ident(n)),
                );
            }
        }
    }
}

/// New inheritance children (not partitions) of a table the plan keeps and adds columns to,
/// and the new children of those. Postgres gives a child its parents' columns first, then
/// its own, when it is created; a column its parent gains later goes at its end. Created
/// before the parent's `ADD COLUMN`, the child would get another column order than B's,
/// which no statement can fix afterwards (attack10 d06, d102): such children are created
/// after the parents' columns change ([`Phase::AlterTables`], after the parents' statements).
fn late_children(a: &Model, b: &Model) -> BTreeSet<String> {
    let gains = |p: &str| match (a.tables.get(p), b.tables.get(p)) {
        (Some(o), Some(n)) => n.columns.iter().any(|c| o.column(&c.name).is_none()),
        _ => false,
    };
    let mut late = BTreeSet::new();
    // Children of late children too: at most as many rounds as there are new tables.
    loop {
        let before = late.len();
        for (k, t) in &b.tables {
            if a.tables.contains_key(k) || t.partition_of.is_some() || late.contains(k) {
                continue;
            }
            if t.inherits.iter().any(|p| gains(p) || late.contains(p)) {
                late.insert(k.clone());
            }
        }
        if late.len() == before {
            return late;
        }
    }
}

/// Creates the new tables (with `deferred`, only those of `late`, after the parents' columns
/// change; without, all others); returns the defaults their inherited columns set locally,
/// to run once the parents have their new columns.
fn create(x: &mut Cx<'_>, late: &BTreeSet<String>, deferred: bool) -> Vec<Stmt> {
    let (a, b) = (x.a, x.b);
    let mut inherited_defaults = Vec::new();
    let mut new_tables: Vec<DepKey> = b
        .tables
        .keys()
        .filter(|k| !a.tables.contains_key(*k) && late.contains(*k) == deferred)
        .map(|k| DepKey::Rel(k.clone()))
        .collect();
    if !deferred {
        // Types over a new table's row type, after it (see `rowtypes`).
        new_tables.extend(x.ch.late_types.iter().map(|t| DepKey::Type(t.clone())));
    }
    let phase = if deferred {
        Phase::AlterTables
    } else {
        Phase::CreateTables
    };
    for key in topo_with(&new_tables, &b.deps, &parents(&b.tables, false)) {
        if let DepKey::Type(t) = &key {
            super::types::create_late(x, t, phase);
            continue;
        }
        let DepKey::Rel(k) = &key else { continue };
        let t = &late_defaults(x, k, &b.tables[k]);
        if let Some(attach) = partitions::attach_own_order(x, k, t) {
            // Its own column order: created alone, attached once the parent has its columns.
            let alone = partitions::alone(t);
            x.push(Stmt::new(phase, create_table(k, &alone)).opens(format!("TABLE {k}")));
            inherited_defaults.push(attach);
            continue;
        }
        if !partitions::create_beside_default(x, k, t, &create_table(k, t)) {
            x.push(Stmt::new(phase, create_table(k, t)).opens(format!("TABLE {k}")));
        }
        // Inherited columns may still differ locally (NOT NULL, defaults).
        for c in t.columns.iter().filter(|c| c.inherited) {
            if let Some(d) = &c.default {
                inherited_defaults.push(Stmt::new(
                    Phase::AlterTables,
                    format!("ALTER TABLE {k} ALTER COLUMN {} SET DEFAULT {d}", c.name),
                ));
            }
        }
    }
    inherited_defaults
}

/// New table `t` without the column defaults that call a function created after the tables
/// (a SQL-standard body reading a relation the plan creates): those are set after it.
fn late_defaults(x: &mut Cx<'_>, k: &str, t: &Table) -> Table {
    let mut t = t.clone();
    for c in t.columns.iter_mut().filter(|c| !c.inherited) {
        let key = DepKey::Col(format!("{k}.{}", c.name));
        let late = x.b.deps.get(&key).is_some_and(|ds| {
            ds.iter().any(|d| match d {
                DepKey::Fn(f) => super::functions::created_late(x, f),
                _ => false,
            })
        });
        if let Some(d) = c.default.take_if(|_| late) {
            x.simple(
                Phase::AfterLateFunctions,
                format!("ALTER TABLE {k} ALTER COLUMN {} SET DEFAULT {d}", c.name),
            );
        }
    }
    t
}

fn create_table(k: &str, t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .filter(|c| !c.inherited)
        .map(column_sql)
        .collect();
    let mut s = match &t.partition_of {
        Some((parent, bound)) => {
            if cols.is_empty() {
                format!("CREATE TABLE {k} PARTITION OF {parent} {bound}")
            } else {
                format!(
                    "CREATE TABLE {k} PARTITION OF {parent} ({}) {bound}",
                    cols.join(", ")
                )
            }
        }
        None => format!(
            "CREATE {}TABLE {k} (\n    {}\n)",
            if t.unlogged { "UNLOGGED " } else { "" },
            cols.join(",\n    ")
        ),
    };
    if !t.inherits.is_empty() {
        s.push_str(&format!(" INHERITS ({})", t.inherits.join(", ")));
    }
    if let Some(pk) = &t.partition_key {
        s.push_str(&format!(" PARTITION BY {pk}"));
    }
    if let Some(am) = &t.access_method {
        s.push_str(&format!(" USING {am}"));
    }
    if !t.options.is_empty() {
        s.push_str(&format!(" WITH ({})", t.options.join(", ")));
    }
    if let Some(space) = &t.tablespace {
        s.push_str(&format!(" TABLESPACE {space}"));
    }
    s
}

/// Row-level security of a table that stays (`old`) or is new. On a new table it closes the
/// table's window (with its policies, triggers, owner and privileges): in a plan that runs
/// statement by statement, the table is created, granted and given RLS in one transaction,
/// never seen granted without its row security (attack F20 sw_newtable_rls).
fn row_security(x: &mut Cx<'_>, k: &str, old: Option<&Table>, t: &Table) {
    let window = |s: Stmt| match old {
        None => s.closes(format!("TABLE {k}")),
        Some(_) => s,
    };
    if old.map_or(t.rls, |o| o.rls != t.rls) {
        let verb = if t.rls { "ENABLE" } else { "DISABLE" };
        x.push(window(
            Stmt::new(
                protection_phase(t.rls),
                format!("ALTER TABLE {k} {verb} ROW LEVEL SECURITY"),
            )
            .hazard(
                HazardKind::AuthzUpdate,
                "row-level security changes who sees which rows",
            ),
        ));
    }
    if old.map_or(t.rls_forced, |o| o.rls_forced != t.rls_forced) {
        let verb = if t.rls_forced { "FORCE" } else { "NO FORCE" };
        x.push(window(
            Stmt::new(
                protection_phase(t.rls_forced),
                format!("ALTER TABLE {k} {verb} ROW LEVEL SECURITY"),
            )
            .hazard(
                HazardKind::AuthzUpdate,
                "row-level security for the owner changes",
            ),
        ));
    }
}

/// Row-level security turned on goes with the policies and privileges; turned off, after the
/// privileges are revoked (a grantee it kept from the rows must have lost them first).
fn protection_phase(on: bool) -> Phase {
    if on {
        Phase::SecurityAndTriggers
    } else {
        Phase::DisableRowSecurity
    }
}

/// What changes on a table that stays, besides its columns.
fn alter(x: &mut Cx<'_>, k: &str, old: &Table, t: &Table) {
    row_security(x, k, Some(old), t);
    column_order(x, k, old, t);
    if old.unlogged != t.unlogged {
        let to = if t.unlogged { "UNLOGGED" } else { "LOGGED" };
        x.push(
            Stmt::new(Phase::AlterTables, format!("ALTER TABLE {k} SET {to}"))
                .hazards(vec![
                    h(
                        HazardKind::TableRewrite,
                        format!("SET {to} rewrites the table and its indexes"),
                    ),
                    h(
                        HazardKind::AccessExclusiveLock,
                        "ACCESS EXCLUSIVE lock for the whole rewrite",
                    ),
                ])
                .long(),
        );
    }
    if old.options != t.options {
        let key = |o: &String| o.split('=').next().unwrap_or(o).to_owned();
        let kept: BTreeSet<String> = t.options.iter().map(key).collect();
        let removed: Vec<String> = old
            .options
            .iter()
            .map(key)
            .filter(|k| !kept.contains(k))
            .collect();
        if !removed.is_empty() {
            x.simple(
                Phase::AlterTables,
                format!("ALTER TABLE {k} RESET ({})", removed.join(", ")),
            );
        }
        if !t.options.is_empty() {
            x.simple(
                Phase::AlterTables,
                format!("ALTER TABLE {k} SET ({})", t.options.join(", ")),
            );
        }
    }
    if old.partition_key != t.partition_key || old.inherits != t.inherits {
        x.unsupported(format!("table {k}: partitioning or inheritance changed — not supported by the schema engine; write this change by hand"));
    } else if old.partition_of != t.partition_of {
        partitions::attach(x, k, t); // detached before its columns changed (`diff`)
    }
}

/// The columns both sides have, in a different order: PostgreSQL cannot reorder columns, and
/// the usual cause is a column dropped and added again under its name — its values gone, its
/// type and name the same, so nothing else in the model differs. Never silent.
fn column_order(x: &mut Cx<'_>, k: &str, old: &Table, t: &Table) {
    let kept = |a: &Table, b: &Table| -> Vec<String> {
        a.columns
            .iter()
            .filter(|c| b.column(&c.name).is_some())
            .map(|c| c.name.clone())
            .collect()
    };
    let (was, now) = (kept(old, t), kept(t, old));
    if was != now {
        x.unsupported(format!(
            "table {k}: the column order differs ({} → {}): columns cannot be reordered in place, and a column dropped and added again under its name has lost its values — review this change by hand",
            was.join(", "),
            now.join(", ")
        ));
    }
}

/// Tables that go, children and referencing tables first.
fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let gone: Vec<DepKey> = a
        .tables
        .keys()
        .filter(|k| !b.tables.contains_key(*k))
        .map(|k| DepKey::Rel(k.clone()))
        // What goes over their row types, before them (see `rowtypes`).
        .chain(x.ch.drop_with_tables.iter().cloned())
        .collect();
    let mut order = topo_with(&gone, &a.deps, &parents(&a.tables, true));
    order.reverse();
    let mut dropped: BTreeSet<String> = BTreeSet::new();
    for key in order {
        let DepKey::Rel(k) = &key else {
            super::rowtypes::drop(x, &key, Phase::DropTables);
            continue;
        };
        cycle_fks(x, k, &dropped);
        dropped.insert(k.clone());
        x.push(
            Stmt::new(Phase::DropTables, format!("DROP TABLE {k}"))
                .hazards(vec![
                    h(
                        HazardKind::DeletesData,
                        format!("table {k} and all its rows are dropped"),
                    ),
                    h(
                        HazardKind::AccessExclusiveLock,
                        "ACCESS EXCLUSIVE lock while it is dropped",
                    ),
                ])
                .long(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::model::{AclDelta, AclItem, Grantee, Model, Table, TableKind};

    fn table(rls: bool) -> Table {
        Table {
            kind: TableKind::Table,
            columns: Vec::new(),
            constraints: Default::default(),
            partition_key: None,
            partition_of: None,
            inherits: Vec::new(),
            rls,
            rls_forced: rls,
            options: Vec::new(),
            unlogged: false,
            tablespace: None,
            access_method: None,
        }
    }

    /// attack10 F22 (d64_rls_off_revoke): row-level security went off before the grant it
    /// limited was revoked, each statement committing on its own.
    #[test]
    fn row_security_goes_off_after_the_privileges_it_limited() {
        let mut a = Model {
            roles: ["postgres".to_owned(), "reader".to_owned()].into(),
            ..Model::default()
        };
        let mut b = a.clone();
        a.tables.insert("public.t".into(), table(true));
        b.tables.insert("public.t".into(), table(false));
        let select = AclItem {
            grantee: Grantee::Role("reader".into()),
            privilege: "SELECT".into(),
            grantable: false,
            grantor: None,
        };
        a.privileges.insert(
            "TABLE public.t".into(),
            AclDelta {
                granted: [select].into(),
                revoked: Default::default(),
            },
        );
        let plan = super::super::plan(&a, &b, &Default::default());
        let at = |needle: &str| {
            plan.statements
                .iter()
                .position(|s| s.sql.contains(needle))
                .unwrap_or_else(|| panic!("no `{needle}` in {plan:?}"))
        };
        let revoke = at("REVOKE SELECT ON TABLE public.t FROM reader");
        assert!(revoke < at("DISABLE ROW LEVEL SECURITY"), "{plan:?}");
        assert!(revoke < at("NO FORCE ROW LEVEL SECURITY"), "{plan:?}");
    }
}

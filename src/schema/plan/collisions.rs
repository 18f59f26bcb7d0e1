//! An object replaced by one of another kind under the same name (a table by a foreign table,
//! a sequence by a table, a composite type by a table, …). Relations share one namespace
//! (`pg_class`), and tables, views, foreign tables and composite types share the type
//! namespace with enums, domains and ranges (a relation's row type): the new object can only
//! be created once the old one is gone. The plan drops and creates each kind in its own phase;
//! where the old kind's drop comes before the new kind's creation (a table becoming a view, a
//! view becoming a table) the plan converges as it is. Everywhere else it would create the
//! new object first and fail on "already exists": that is refused, naming what depends on the
//! old object, and both objects are left out of the plan (never half of the change). So is a
//! table or view replaced while a column of another table stores its row type.

use std::collections::BTreeMap;

use super::super::model::{DepKey, Model};
use super::Phase;

/// The kind of a named object, with the phases in which the plan creates and drops it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Table,
    View,
    MatView,
    ForeignTable,
    Sequence,
    Index,
    Enum,
    Domain,
    Composite,
    Range,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::View => "view",
            Kind::MatView => "materialized view",
            Kind::ForeignTable => "foreign table",
            Kind::Sequence => "sequence",
            Kind::Index => "index",
            Kind::Enum => "enum type",
            Kind::Domain => "domain",
            Kind::Composite => "composite type",
            Kind::Range => "range type",
        }
    }
    fn created(self) -> Phase {
        match self {
            Kind::Table | Kind::ForeignTable => Phase::CreateTables,
            Kind::View | Kind::MatView => Phase::CreateViews,
            Kind::Sequence => Phase::CreateOrAlterSequences,
            Kind::Index => Phase::CreateIndexes,
            Kind::Enum | Kind::Domain | Kind::Composite | Kind::Range => Phase::CreateTypes,
        }
    }
    fn dropped(self) -> Phase {
        match self {
            Kind::Table => Phase::DropTables,
            Kind::ForeignTable => Phase::DropForeignTables,
            Kind::View | Kind::MatView => Phase::DropViews,
            Kind::Sequence => Phase::SequenceOwnership,
            Kind::Index => Phase::DropOrRenameIndexes,
            Kind::Enum | Kind::Domain | Kind::Composite | Kind::Range => Phase::DropTypes,
        }
    }
    /// Its key in the dependency graph.
    fn key(self, name: &str) -> DepKey {
        match self {
            Kind::Index => DepKey::Index(name.to_owned()),
            Kind::Enum | Kind::Domain | Kind::Composite | Kind::Range => {
                DepKey::Type(name.to_owned())
            }
            _ => DepKey::Rel(name.to_owned()),
        }
    }
}

/// Every relation name (`pg_class`) and every type name (`pg_type`, relations' row types
/// included) of `m`, with its kind.
fn names(m: &Model) -> [BTreeMap<&str, Kind>; 2] {
    let mut rel: BTreeMap<&str, Kind> = BTreeMap::new();
    let mut typ: BTreeMap<&str, Kind> = BTreeMap::new();
    for k in m.tables.keys() {
        rel.insert(k, Kind::Table);
        typ.insert(k, Kind::Table);
    }
    for (k, v) in &m.views {
        let kind = if v.materialized {
            Kind::MatView
        } else {
            Kind::View
        };
        rel.insert(k, kind);
        typ.insert(k, kind);
    }
    for k in m.foreign_tables.keys() {
        rel.insert(k, Kind::ForeignTable);
        typ.insert(k, Kind::ForeignTable);
    }
    for k in m.sequences.keys() {
        rel.insert(k, Kind::Sequence);
    }
    for k in m.indexes.keys() {
        rel.insert(k, Kind::Index);
    }
    for k in m.composites.keys() {
        rel.insert(k, Kind::Composite);
        typ.insert(k, Kind::Composite);
    }
    for k in m.enums.keys() {
        typ.insert(k, Kind::Enum);
    }
    for k in m.domains.keys() {
        typ.insert(k, Kind::Domain);
    }
    for k in m.ranges.keys() {
        typ.insert(k, Kind::Range);
    }
    [rel, typ]
}

/// The names whose object the plan would create before dropping the one it replaces, with the
/// old and the new kind.
fn collisions(a: &Model, b: &Model) -> BTreeMap<String, (Kind, Kind)> {
    let mut out = BTreeMap::new();
    for (na, nb) in names(a).iter().zip(names(b).iter()) {
        for (name, &old) in na {
            let Some(&new) = nb.get(name) else { continue };
            if old != new && (old.dropped() >= new.created() || stored(a, name, old)) {
                out.insert((*name).to_owned(), (old, new));
            }
        }
    }
    out
}

/// Whether a column of another table stores the row type of relation `name` (a table or a
/// view): its values cannot survive the relation's replacement, whatever the order.
fn stored(a: &Model, name: &str, kind: Kind) -> bool {
    let rowtype = matches!(
        kind,
        Kind::Table | Kind::View | Kind::MatView | Kind::ForeignTable
    );
    let key = DepKey::Rel(name.to_owned());
    rowtype
        && a.deps.iter().any(|(d, ds)| {
            matches!(d, DepKey::Col(_)) && d.relation() != Some(name) && ds.contains(&key)
        })
}

fn remove(m: &mut Model, name: &str, kind: Kind) {
    match kind {
        Kind::Table => {
            m.tables.remove(name);
        }
        Kind::View | Kind::MatView => {
            m.views.remove(name);
        }
        Kind::ForeignTable => {
            m.foreign_tables.remove(name);
        }
        Kind::Sequence => {
            m.sequences.remove(name);
        }
        Kind::Index => {
            m.indexes.remove(name);
        }
        Kind::Enum => {
            m.enums.remove(name);
        }
        Kind::Domain => {
            m.domains.remove(name);
        }
        Kind::Composite => {
            m.composites.remove(name);
        }
        Kind::Range => {
            m.ranges.remove(name);
        }
    }
    // What hangs on the relation goes with it.
    m.indexes.retain(|_, i| i.table != name);
    m.triggers.retain(|_, t| t.table != name);
    m.policies.retain(|_, p| p.table != name);
}

/// Refuses every name whose new object the plan would create before the old one is dropped,
/// and returns copies of the models without either object — `None` when there is none (the
/// common case: nothing is copied).
pub(super) fn prune(a: &Model, b: &Model, unsupported: &mut Vec<String>) -> Option<(Model, Model)> {
    let found = collisions(a, b);
    if found.is_empty() {
        return None;
    }
    let (mut pa, mut pb) = (a.clone(), b.clone());
    for (name, (old, new)) in &found {
        let key = old.key(name);
        let users: Vec<String> = a
            .deps
            .iter()
            .filter(|(d, ds)| ds.contains(&key) && d.relation() != Some(name.as_str()))
            .map(|(d, _)| d.to_string())
            .collect();
        let blocked = if users.is_empty() {
            String::new()
        } else {
            format!(
                "; {} depend(s) on the {} and must be changed first",
                users.join(", "),
                old.word()
            )
        };
        unsupported.push(format!(
            "{} {name} is replaced by a {} of the same name: the {} must be dropped before the {} is created{blocked} — not supported by the schema engine; write this change by hand (drop the {} in one migration, create the {} in the next)",
            old.word(),
            new.word(),
            old.word(),
            new.word(),
            old.word(),
            new.word(),
        ));
        remove(&mut pa, name, *old);
        remove(&mut pb, name, *new);
    }
    Some((pa, pb))
}

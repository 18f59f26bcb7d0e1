//! The safety net: a catalog-wide fingerprint of each side, compared with what the engine
//! modeled.
//!
//! Introspection also reads every user-visible row of the catalogs that describe a schema
//! (relations, columns and defaults, constraints, indexes, triggers, policies, rules,
//! functions and aggregates, types, enums, ranges, operators and their classes and families,
//! collations, conversions, casts, text search objects, extensions, foreign data wrappers,
//! servers, user mappings, event triggers, publications, default privileges, inheritance,
//! languages, access methods, transforms, comments, security labels) in one query
//! (`introspect/catalog.rs`), hashed per object with OIDs replaced by names, so two copies of
//! one schema give equal fingerprints. Each object is `(kind, parent, name)` with up to four
//! [`Aspect`]s: its definition, its privileges, its owner, and one `Extra` aspect some kinds
//! have (a table's replica identity, a column's storage/compression/statistics target).
//!
//! [`net`] compares both sides' fingerprints. Where an aspect of an object differs (or the
//! object exists on one side only) and no [`Explainer`] of that kind and aspect shows the
//! engine's models differing for that object, the plan gets an `unsupported` entry, `not
//! modeled by the schema engine: <kind> <name> differs (<aspect>)`: `diff` exits 4 and the
//! schema check fails. A kind or aspect nobody registered is never explained: it fails safe.
//! An object only on the target side must also have the default privileges (none) and owner
//! (the session's role), unless an explainer of those aspects explains them.
//!
//! # Registering a kind
//!
//! When the engine models a new kind (or a new aspect of a kind: privileges, owners,
//! storage, …), add one line per (kind, aspect) to [`REGISTRY`]:
//!
//! ```text
//! Explainer { kind: "publication", aspect: Aspect::Definition, explains: |m, id| json(m.publications.get(&*id.name)) },
//! ```
//!
//! `kind` is the first column of the catalog query (`'publication'`), `id.parent` and
//! `id.name` are its second and third (quoted like the model's keys: `public.t`, `"Col"`),
//! and `explains` returns the part of the model that holds that object (`None` when the model
//! has none). The difference is explained when what it returns differs between the two
//! models — so return the narrowest part: the object itself, not its whole table. Several
//! explainers of one (kind, aspect) are alternatives: any that differs explains it. Keep the
//! line when a kind moves out of the model's `unsupported` map: its explainer must then read
//! where the kind lives now. The fixture oracle (`tests/integration/schema.rs`) checks that
//! every fixture's applied plan leaves both sides with equal catalog fingerprints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

use super::model::Model;
use super::plan::Plan;
use super::{quote_ident, split_qualified};

/// One row of the catalog query.
#[derive(Debug, Clone)]
pub struct Row {
    pub kind: String,
    pub parent: String,
    pub name: String,
    /// Digests of the aspects, in [`Aspect`] order.
    pub aspects: Aspects,
}

/// An object of the catalog fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// `table`, `column`, `conversion`, … (the catalog query's first column): one of a few
    /// dozen words, shared by every object of the kind (see [`kind`]).
    pub kind: &'static str,
    /// The table (domain, publication, …) a sub-object belongs to; empty for none. Shared
    /// text: a 2,000-table schema has some 35,000 objects, most of them a table's.
    pub parent: std::sync::Arc<str>,
    pub name: Box<str>,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, parent, name) = (&self.kind, &self.parent, &self.name);
        if parent.is_empty() {
            write!(f, "{kind} {name}")
        } else if kind.ends_with("column") || kind.ends_with("attribute") {
            write!(f, "{kind} {parent}.{name}")
        } else if *kind == "comment" {
            write!(f, "comment on {parent} {name}")
        } else {
            write!(f, "{kind} {name} on {parent}")
        }
    }
}

/// The catalog fingerprint of one database: each object's aspect digests.
pub type Catalog = BTreeMap<ObjectId, Aspects>;

/// An object's aspect digests, in [`Aspect`] order (`None`: the aspect has no value). Boxed
/// text, not `String`: without a capacity each is a word smaller, and a 2,000-table schema
/// has some 35,000 objects.
pub type Aspects = [Option<Box<str>>; 4];

/// The kind `k`, shared: a 2,000-table schema has tens of thousands of objects of a few dozen
/// kinds, and a `String` each would be as many allocations. The kinds are the catalog query's
/// words, so the set stays small.
pub fn kind(k: &str) -> &'static str {
    static KINDS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut kinds = KINDS.lock().unwrap_or_else(|e| e.into_inner());
    let shared = match kinds.get(k) {
        Some(s) => s,
        None => {
            let s: &'static str = Box::leak(k.into());
            kinds.insert(s);
            s
        }
    };
    shared
}

/// The fingerprint from the query's rows.
pub fn from_rows(rows: Vec<Row>) -> Catalog {
    rows.into_iter()
        .map(|r| {
            (
                ObjectId {
                    kind: kind(&r.kind),
                    parent: r.parent.into(),
                    name: r.name.into(),
                },
                r.aspects,
            )
        })
        .collect()
}

/// What part of an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Aspect {
    Definition = 0,
    Privileges = 1,
    Owner = 2,
    /// A table's or index's replica identity, a column's storage, compression, statistics
    /// target and options.
    Extra = 3,
}

const ASPECTS: [Aspect; 4] = [
    Aspect::Definition,
    Aspect::Privileges,
    Aspect::Owner,
    Aspect::Extra,
];

impl Aspect {
    fn name(self, kind: &str) -> &'static str {
        match self {
            Aspect::Definition => "definition",
            Aspect::Privileges => "privileges",
            Aspect::Owner => "owner",
            Aspect::Extra => match kind {
                "table" | "materialized view" | "index" => "replica identity",
                "column" => "storage, compression or statistics target",
                _ => "options",
            },
        }
    }
}

/// Explains differences of one aspect of one kind by the part of the model holding them
/// (an aspect's digest: its parts the model does not carry are `net_parts`').
pub struct Explainer {
    pub kind: &'static str,
    pub aspect: Aspect,
    pub explains: fn(&Model, &ObjectId) -> Option<String>,
}

/// A part of the model, comparable: `None` when absent.
pub fn json<T: Serialize>(v: Option<&T>) -> Option<String> {
    v.map(|v| serde_json::to_string(v).expect("the model serializes"))
}

fn table_head(m: &Model, id: &ObjectId) -> Option<String> {
    let t = m.tables.get(&*id.name)?;
    json(Some(&(
        t.kind,
        &t.partition_key,
        &t.partition_of,
        t.rls,
        t.rls_forced,
        &t.options,
        t.unlogged,
    )))
}

fn column(m: &Model, id: &ObjectId) -> Option<String> {
    json(m.tables.get(&*id.parent).and_then(|t| t.column(&id.name)))
}

fn constraint(m: &Model, id: &ObjectId) -> Option<String> {
    if let Some(d) = m.domains.get(&*id.parent) {
        return json(Some(d));
    }
    let t = m.tables.get(&*id.parent)?;
    json(
        t.constraints
            .iter()
            .find(|(k, _)| quote_ident(k) == *id.name)
            .map(|(_, c)| c),
    )
}

/// A NOT NULL constraint (PostgreSQL 18 for tables, 17 for domains): its column or domain.
fn not_null(m: &Model, id: &ObjectId) -> Option<String> {
    match m.domains.get(&*id.parent) {
        Some(d) => json(Some(d)),
        None => json(m.tables.get(&*id.parent).map(|t| &t.columns)),
    }
}

fn index(m: &Model, id: &ObjectId) -> Option<String> {
    if let Some(i) = m.indexes.get(&*id.name) {
        return json(Some(i));
    }
    // The index of a PRIMARY KEY, UNIQUE or EXCLUDE constraint bears its name.
    let bare = split_qualified(&id.name).map_or(&*id.name, |(_, n)| n);
    let t = m.tables.get(&*id.parent)?;
    json(
        t.constraints
            .iter()
            .find(|(k, c)| c.kind.has_index() && quote_ident(k) == bare)
            .map(|(_, c)| c),
    )
}

/// What makes a partition's index: the partitions up to the root partitioned table, and that
/// table's indexes and constraints (a partition's own index is not modeled).
fn partition_index(m: &Model, id: &ObjectId) -> Option<String> {
    let (chain, root, indexes) = partition_root(m, &id.parent);
    json(Some(&(chain, root.map(|t| &t.constraints), indexes)))
}

/// The partitions from `table` up to the root partitioned table (their `partition_of`), the
/// root, and its indexes.
pub(super) type PartitionRoot<'m> = (
    Vec<&'m Option<(String, String)>>,
    Option<&'m super::model::Table>,
    Vec<&'m super::model::Index>,
);

/// The partitions from `table` up to the root partitioned table, the root, and its indexes.
pub(super) fn partition_root<'m>(m: &'m Model, table: &'m str) -> PartitionRoot<'m> {
    let mut chain = Vec::new();
    let mut at: &str = table;
    while let Some(t) = m.tables.get(at) {
        chain.push(&t.partition_of);
        match &t.partition_of {
            Some((p, _)) if chain.len() < 64 => at = p,
            _ => break,
        }
    }
    let indexes = m.indexes.values().filter(|i| i.table == at).collect();
    (chain, m.tables.get(at), indexes)
}

fn sequence(m: &Model, id: &ObjectId) -> Option<String> {
    // An identity or serial column's sequence goes with its column's table.
    json(Some(&(
        m.sequences.get(&*id.name),
        m.tables.get(&*id.parent).map(|t| &t.columns),
    )))
}

fn sub(m: &Model, id: &ObjectId, kind: &str) -> Option<String> {
    let key = format!("{}.{}", id.parent, id.name);
    match kind {
        "trigger" => json(m.triggers.get(&key)),
        _ => json(m.policies.get(&key)),
    }
}

/// A trigger on a partition cloned from a trigger of a partitioned ancestor (the model keeps
/// only the ancestor's): that trigger and the partitions in between. A new partition gets
/// the clone, and the clone follows the ancestor's trigger, re-created or not.
fn partition_clone(m: &Model, id: &ObjectId) -> Option<String> {
    let mut table: &str = &id.parent;
    let mut chain = Vec::new();
    for _ in 0..64 {
        let (parent, bound) = m.tables.get(table)?.partition_of.as_ref()?;
        chain.push((parent, bound));
        if let Some(t) = m.triggers.get(&format!("{parent}.{}", id.name)) {
            return json(Some(&(t, chain)));
        }
        table = parent;
    }
    None
}

fn unsupported(m: &Model, key: String) -> Option<String> {
    m.unsupported.get(&key).cloned()
}

/// The model's comment key (`TABLE public.t`) of a comment's target as
/// `pg_identify_object` names it (type `table`, identity `public.t`).
fn comment(m: &Model, id: &ObjectId) -> Option<String> {
    let on = |s: &str| s.replacen(" on ", " ON ", 1);
    let key = match &*id.parent {
        "table" | "view" | "materialized view" | "index" | "sequence" | "schema" | "function"
        | "procedure" | "type" | "domain" | "aggregate" => {
            format!("{} {}", id.parent.to_uppercase(), id.name)
        }
        "foreign table" => format!("FOREIGN TABLE {}", id.name),
        "table column"
        | "view column"
        | "materialized view column"
        | "composite type column"
        | "foreign table column" => {
            format!("COLUMN {}", id.name)
        }
        "table constraint" | "trigger" | "policy" => {
            let kw = match &*id.parent {
                "table constraint" => "CONSTRAINT",
                "trigger" => "TRIGGER",
                _ => "POLICY",
            };
            format!("{kw} {}", on(&id.name))
        }
        "rule" => format!("RULE {}", on(&id.name)),
        "statistics object" => format!("STATISTICS {}", id.name),
        "cast" | "event trigger" | "publication" => {
            format!("{} {}", id.parent.to_uppercase(), id.name)
        }
        "extension" => return json(m.extensions.get(&*id.name)),
        "collation" | "text search dictionary" | "text search configuration" => {
            format!("{} {}", id.parent.to_uppercase(), id.name)
        }
        "operator" => {
            let bare: String = id.name.chars().filter(|c| *c != ' ').collect();
            return m
                .comments
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("OPERATOR ")?, v)))
                .find(|(k, _)| k.chars().filter(|c| *c != ' ').collect::<String>() == bare)
                .map(|(_, v)| v.clone());
        }
        "domain constraint" => format!("CONSTRAINT {}", id.name.replacen(" on ", " ON DOMAIN ", 1)),
        _ => return None,
    };
    // `pg_identify_object` calls a domain a type.
    let domain = key.strip_prefix("TYPE ").map(|n| format!("DOMAIN {n}"));
    let text = m
        .comments
        .get(&key)
        .or_else(|| domain.and_then(|d| m.comments.get(&d)))?;
    // The same comment on a relation (or its column) whose kind changes is set again on the
    // new relation: the kind of the relation it is on explains it.
    let rel = match &*id.parent {
        "table" | "view" | "materialized view" => Some(&*id.name),
        "table column" | "view column" | "materialized view column" => {
            split_qualified(&id.name).map(|(t, _)| t)
        }
        _ => None,
    };
    let kind = rel.map_or("", |r| relation_kind(m, r));
    Some(format!("{kind}{text}"))
}

/// `table `, `view ` or `materialized view ` for relation `r` of `m` (empty otherwise).
fn relation_kind(m: &Model, r: &str) -> &'static str {
    match m.views.get(r) {
        Some(v) if v.materialized => "materialized view ",
        Some(_) => "view ",
        None if m.tables.contains_key(r) => "table ",
        None => "",
    }
}

/// Owner and privileges of the object the model keys `key` (`TABLE public.t`).
fn authz(m: &Model, key: String) -> Option<String> {
    json(Some(&(m.owners.get(&key), m.privileges.get(&key))))
}

/// The SQL keyword the model's owners and privileges use for a catalog kind.
fn authz_keyword(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "table" => "TABLE",
        "foreign table" => "FOREIGN TABLE",
        "view" => "VIEW",
        "materialized view" => "MATERIALIZED VIEW",
        "sequence" => "SEQUENCE",
        "function" => "FUNCTION",
        "procedure" => "PROCEDURE",
        "schema" => "SCHEMA",
        "enum" | "composite type" | "range type" | "type" => "TYPE",
        "domain" => "DOMAIN",
        "publication" => "PUBLICATION",
        "aggregate" => "AGGREGATE",
        "operator" => "OPERATOR",
        "collation" => "COLLATION",
        "conversion" => "CONVERSION",
        "text search dictionary" => "TEXT SEARCH DICTIONARY",
        "text search configuration" => "TEXT SEARCH CONFIGURATION",
        "statistics" => "STATISTICS",
        "event trigger" => "EVENT TRIGGER",
        _ => return None,
    })
}

/// Owner and privileges of an object with one of [`authz_keyword`]'s kinds; an index's and
/// an owned sequence's owner is their table's.
fn object_authz(m: &Model, id: &ObjectId) -> Option<String> {
    let own = authz_keyword(id.kind).and_then(|kw| authz(m, format!("{kw} {}", id.name)));
    let parent = (!id.parent.is_empty()).then(|| authz(m, format!("TABLE {}", id.parent)));
    json(Some(&(own, parent.flatten())))
}

fn column_authz(m: &Model, id: &ObjectId) -> Option<String> {
    let key = format!("{}.{}", id.parent, id.name);
    json(Some(&(
        m.privileges.get(&format!("COLUMN {key}")),
        m.column_settings.get(&key),
        m.tables.get(&*id.parent).and_then(|t| t.column(&id.name)),
    )))
}

/// Owner of an operator: the model keys it with spaces (and `NONE`) the catalog's name lacks.
fn operator_authz(m: &Model, id: &ObjectId) -> Option<String> {
    let key = |m: &Model| {
        let name = id.name.replace("(-,", "(NONE,");
        let bare: String = name.chars().filter(|c| *c != ' ').collect();
        m.owners
            .keys()
            .filter_map(|k| k.strip_prefix("OPERATOR "))
            .find(|k| k.chars().filter(|c| *c != ' ').collect::<String>() == bare)
            .map(|k| format!("OPERATOR {k}"))
    };
    authz(m, key(m).unwrap_or_default())
}

/// A key of `map` equal to `name` but for spaces (`public.===(integer, integer)`); a prefix
/// operator's missing left type reads `-` in the catalog and `NONE` in the model.
fn spaced<'m, V: Serialize>(map: &'m BTreeMap<String, V>, name: &str) -> Option<&'m V> {
    let name = name.replace("(-,", "(NONE,");
    let name = name.as_str();
    let bare: String = name.chars().filter(|c| *c != ' ').collect();
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.chars().filter(|c| *c != ' ').collect::<String>() == bare)
            .map(|(_, v)| v)
    })
}

/// The one registry: which part of the model explains a difference of (kind, aspect).
#[rustfmt::skip]
pub static REGISTRY: &[Explainer] = &[
    Explainer { kind: "schema", aspect: Aspect::Definition, explains: |m, id| m.schemas.contains(&*id.name).then(String::new) },
    Explainer { kind: "extension", aspect: Aspect::Definition, explains: |m, id| json(m.extensions.get(&*id.name)) },
    Explainer { kind: "table", aspect: Aspect::Definition, explains: table_head },
    Explainer { kind: "column", aspect: Aspect::Definition, explains: column },
    // A type change resets the column's storage to the new type's.
    Explainer { kind: "column", aspect: Aspect::Extra, explains: column },
    Explainer { kind: "not-null constraint", aspect: Aspect::Definition, explains: not_null },
    Explainer { kind: "constraint", aspect: Aspect::Definition, explains: constraint },
    Explainer { kind: "index", aspect: Aspect::Definition, explains: index },
    // An index is logged or unlogged with its table.
    Explainer { kind: "index", aspect: Aspect::Definition, explains: |m, id| table_head(m, &ObjectId { name: id.parent.as_ref().into(), ..id.clone() }) },
    Explainer { kind: "index", aspect: Aspect::Definition, explains: |m, id| json(Some(&split_qualified(&id.name).is_some_and(|(_, n)| m.clustered.get(&*id.parent).is_some_and(|i| i == n)))) },
    // An index column's statistics target (the row names the index as its parent, the column by number).
    // A partition's index is created with its partition or its partitioned index.
    Explainer { kind: "partition index", aspect: Aspect::Definition, explains: partition_index },
    Explainer { kind: "partition index", aspect: Aspect::Definition, explains: |m, id| json(Some(&split_qualified(&id.name).is_some_and(|(_, n)| m.clustered.get(&*id.parent).is_some_and(|i| i == n)))) },
    Explainer { kind: "partition index", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "partition index", aspect: Aspect::Extra, explains: |m, id| json(m.replica_identities.get(&*id.parent)) },
    Explainer { kind: "index column statistics target", aspect: Aspect::Definition, explains: |m, id| json(m.index_statistics.get(&*id.parent).and_then(|c| id.name.parse::<i16>().ok().and_then(|n| c.get(&n)))) },
    Explainer { kind: "sequence", aspect: Aspect::Definition, explains: sequence },
    Explainer { kind: "inheritance", aspect: Aspect::Definition, explains: |m, id| json(m.tables.get(&*id.parent).map(|t| (&t.inherits, &t.partition_of)).as_ref()) },
    Explainer { kind: "view", aspect: Aspect::Definition, explains: |m, id| json(m.views.get(&*id.name)) },
    Explainer { kind: "materialized view", aspect: Aspect::Definition, explains: |m, id| json(m.views.get(&*id.name)) },
    Explainer { kind: "materialized view not populated (WITH NO DATA)", aspect: Aspect::Definition, explains: |m, id| json(m.views.get(&*id.name)) },
    Explainer { kind: "view column", aspect: Aspect::Definition, explains: |m, id| json(m.views.get(&*id.parent)) },
    Explainer { kind: "view column default", aspect: Aspect::Definition, explains: |m, id| json(m.views.get(&*id.parent)) },
    Explainer { kind: "function", aspect: Aspect::Definition, explains: |m, id| json(m.functions.get(&*id.name)) },
    Explainer { kind: "procedure", aspect: Aspect::Definition, explains: |m, id| json(m.functions.get(&*id.name)) },
    Explainer { kind: "trigger", aspect: Aspect::Definition, explains: |m, id| sub(m, id, "trigger") },
    Explainer { kind: "trigger", aspect: Aspect::Definition, explains: partition_clone },
    Explainer { kind: "policy", aspect: Aspect::Definition, explains: |m, id| sub(m, id, "policy") },
    Explainer { kind: "enum", aspect: Aspect::Definition, explains: |m, id| json(m.enums.get(&*id.name)) },
    Explainer { kind: "domain", aspect: Aspect::Definition, explains: |m, id| json(m.domains.get(&*id.name)) },
    Explainer { kind: "composite type", aspect: Aspect::Definition, explains: |m, id| json(m.composites.get(&*id.name)) },
    Explainer { kind: "composite type attribute", aspect: Aspect::Definition, explains: |m, id| json(m.composites.get(&*id.parent)) },
    Explainer { kind: "composite type attribute", aspect: Aspect::Extra, explains: |m, id| json(m.composites.get(&*id.parent)) },
    Explainer { kind: "comment", aspect: Aspect::Definition, explains: comment },
    // Kinds the engine reports as unsupported objects (`introspect/unsupported.rs`).
    Explainer { kind: "aggregate", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("aggregate {}", id.name)) },
    Explainer { kind: "operator", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("operator {}", id.name)) },
    Explainer { kind: "collation", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("collation {}", id.name)) },
    Explainer { kind: "foreign table", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("foreign table {}", id.name)) },
    Explainer { kind: "constraint", aspect: Aspect::Definition, explains: |m, id| json(m.foreign_tables.get(&*id.parent)) },
    Explainer { kind: "not-null constraint", aspect: Aspect::Definition, explains: |m, id| json(m.foreign_tables.get(&*id.parent)) },
    Explainer { kind: "foreign table column", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("foreign table {}", id.parent)) },
    Explainer { kind: "rule", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("rule {} on {}", id.name, id.parent)) },
    Explainer { kind: "statistics", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("statistics {}", id.name)) },
    Explainer { kind: "text search configuration", aspect: Aspect::Definition, explains: |m, id| unsupported(m, format!("text search configuration {}", id.name)) },
    // Privileges and owners (`owners`, `privileges`, `default_privileges`).
    Explainer { kind: "table", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "table", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "foreign table", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "foreign table", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "view", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "view", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "materialized view", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "materialized view", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "sequence", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "sequence", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "index", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "function", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "function", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "procedure", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "procedure", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "schema", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "schema", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "enum", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "enum", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "domain", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "domain", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "composite type", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "composite type", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "range type", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "range type", aspect: Aspect::Owner, explains: object_authz },
    // The rarer kinds' owners (`plan/rare_owners.rs`), and aggregates' privileges.
    Explainer { kind: "aggregate", aspect: Aspect::Privileges, explains: object_authz },
    Explainer { kind: "aggregate", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "operator", aspect: Aspect::Owner, explains: operator_authz },
    Explainer { kind: "collation", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "conversion", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "text search dictionary", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "text search configuration", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "statistics", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "column", aspect: Aspect::Privileges, explains: column_authz },
    Explainer { kind: "column", aspect: Aspect::Extra, explains: column_authz },
    Explainer { kind: "view column", aspect: Aspect::Privileges, explains: column_authz },
    Explainer { kind: "default privileges", aspect: Aspect::Definition, explains: |m, _| json(Some(&m.default_privileges)) },
    Explainer { kind: "default privileges", aspect: Aspect::Privileges, explains: |m, _| json(Some(&m.default_privileges)) },
    // Replication (`replica_identities`, `publications`).
    Explainer { kind: "table", aspect: Aspect::Extra, explains: |m, id| json(m.replica_identities.get(&*id.name)) },
    Explainer { kind: "index", aspect: Aspect::Extra, explains: |m, id| json(m.replica_identities.get(&*id.parent)) },
    Explainer { kind: "publication", aspect: Aspect::Definition, explains: |m, id| json(m.publications.get(&*id.name)) },
    Explainer { kind: "publication", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "publication table", aspect: Aspect::Definition, explains: |m, id| json(m.publications.get(&*id.parent)) },
    Explainer { kind: "publication schema", aspect: Aspect::Definition, explains: |m, id| json(m.publications.get(&*id.parent)) },
    // Ranges, casts, event triggers, collations, foreign data.
    Explainer { kind: "range type", aspect: Aspect::Definition, explains: |m, id| json(m.ranges.get(&*id.name)) },
    // A range type's constructors and multirange type are created and dropped with it; their
    // own properties and privileges are not modeled (an owner follows the range's when it is
    // created).
    Explainer { kind: "range type part", aspect: Aspect::Definition, explains: |m, id| json(m.ranges.get(&*id.parent)) },
    Explainer { kind: "range type part", aspect: Aspect::Owner, explains: |m, id| json(Some(&(m.ranges.get(&*id.parent), m.owners.get(&format!("TYPE {}", id.parent))))) },
    Explainer { kind: "cast", aspect: Aspect::Definition, explains: |m, id| json(spaced(&m.casts, &id.name)) },
    Explainer { kind: "event trigger", aspect: Aspect::Definition, explains: |m, id| json(m.event_triggers.get(&*id.name)) },
    Explainer { kind: "event trigger", aspect: Aspect::Owner, explains: object_authz },
    Explainer { kind: "collation", aspect: Aspect::Definition, explains: |m, id| json(m.collations.get(&*id.name)) },
    Explainer { kind: "foreign data wrapper", aspect: Aspect::Definition, explains: |m, id| json(m.fdws.get(&*id.name)) },
    Explainer { kind: "server", aspect: Aspect::Definition, explains: |m, id| json(m.servers.get(&*id.name)) },
    Explainer { kind: "user mapping", aspect: Aspect::Definition, explains: |m, id| json(m.user_mappings.get(&format!("FOR {}", id.name))) },
    Explainer { kind: "foreign table", aspect: Aspect::Definition, explains: |m, id| json(m.foreign_tables.get(&*id.name)) },
    Explainer { kind: "constraint", aspect: Aspect::Definition, explains: |m, id| json(m.foreign_tables.get(&*id.parent)) },
    Explainer { kind: "not-null constraint", aspect: Aspect::Definition, explains: |m, id| json(m.foreign_tables.get(&*id.parent)) },
    Explainer { kind: "foreign table column", aspect: Aspect::Definition, explains: |m, id| json(m.foreign_tables.get(&*id.parent)) },
    Explainer { kind: "foreign table column", aspect: Aspect::Extra, explains: |m, id| json(m.foreign_tables.get(&*id.parent).and_then(|t| t.column_options.get(&*id.name))) },
    // Aggregates, operators, rules, statistics, text search.
    Explainer { kind: "aggregate", aspect: Aspect::Definition, explains: |m, id| json(spaced(&m.aggregates, &id.name)) },
    Explainer { kind: "operator", aspect: Aspect::Definition, explains: |m, id| json(spaced(&m.operators, &id.name)) },
    Explainer { kind: "rule", aspect: Aspect::Definition, explains: |m, id| json(m.rules.get(&format!("{}.{}", id.parent, id.name))) },
    Explainer { kind: "statistics", aspect: Aspect::Definition, explains: |m, id| json(m.statistics.get(&*id.name)) },
    Explainer { kind: "text search configuration", aspect: Aspect::Definition, explains: |m, id| json(m.ts_configs.get(&*id.name)) },
    Explainer { kind: "text search dictionary", aspect: Aspect::Definition, explains: |m, id| json(m.ts_dictionaries.get(&*id.name)) },
    Explainer { kind: "text search parser", aspect: Aspect::Definition, explains: |m, id| json(m.ts_parsers.get(&*id.name)) },
    Explainer { kind: "text search template", aspect: Aspect::Definition, explains: |m, id| json(m.ts_templates.get(&*id.name)) },
    // Extension members (`introspect/catalog_more.rs`): their definitions (and comments)
    // follow from their extension's version and schema; changed any other way (`ALTER
    // FUNCTION ext_fn …`, `ALTER EXTENSION … ADD`) they are not modeled. Their privileges
    // are what changed since the extension's scripts (a GRANT on a member): never explained,
    // whatever the versions (no `ALTER EXTENSION … UPDATE` sets them from the desired schema).
    // Their owners are not explained either: one on both sides keeps its owner through an
    // update, and a new member's is the script's (`member_owner_is_scripts`) or reported.
    Explainer { kind: "extension member", aspect: Aspect::Definition, explains: |m, id| json(m.extensions.get(&*id.parent)) },
];

/// The aspect's value on an object created by a plain `CREATE` (no GRANT, no ALTER), when
/// known: a new object with another value has that aspect to explain.
fn created_default(kind: &str, aspect: Aspect) -> Option<Option<&'static str>> {
    match (aspect, kind) {
        // Kinds without privileges or an owner of their own read NULL: nothing to explain.
        (Aspect::Privileges, _) => Some(None),
        // A built-in function's row exists only where `initdb`'s was changed.
        (Aspect::Owner, "built-in function") => Some(Some(BOOTSTRAP_SUPERUSER)),
        (Aspect::Owner, _) => Some(Some("=")),
        (Aspect::Extra, "table" | "materialized view") => Some(Some("d")),
        (Aspect::Extra, "index" | "partition index") => Some(None),
        _ => None,
    }
}

fn explained(a: &Model, b: &Model, id: &ObjectId, aspect: Aspect) -> bool {
    REGISTRY
        .iter()
        .filter(|e| e.kind == id.kind && e.aspect == aspect)
        .any(|e| (e.explains)(a, id) != (e.explains)(b, id))
}

/// The kind of the row of the database itself (its comment, privileges and owner): a side
/// without it (a schema file loaded into a scratch database, which says nothing of the
/// database) is not compared.
pub const DATABASE: &str = "database";

/// The kind of a large object's row (its privileges and owner). A large object is data, made
/// by an application as it runs: one on a single side is not compared (a schema file has
/// none, and main gains some after its test copy is made); one on both sides has its
/// privileges and owner compared.
pub const LARGE_OBJECT: &str = "large object";

/// The kind of the digests of all built-in functions' properties and of all comments on
/// built-in objects (`introspect::catalog_builtin`), named after the server's major version:
/// compared only when both sides have one (one version), since versions differ.
pub const BUILT_IN: &str = "built-in";

/// Whether an object on one side only is compared.
fn compared_alone(id: &ObjectId) -> bool {
    id.kind != DATABASE && id.kind != LARGE_OBJECT && id.kind != BUILT_IN
}
/// The kind of the rows of neon-migrate's own objects (its tracking schema and table), each
/// only where it differs from what the tool creates (`introspect::catalog_tool`).
pub const OWN_OBJECT: &str = "neon-migrate's own";

/// What differs between two fingerprints: each object with the aspects that differ (an
/// object on one side only: its definition, and for a created one the aspects that are not
/// the defaults of a plain `CREATE`).
pub fn differences<'c>(a: &'c Catalog, b: &'c Catalog) -> Vec<(&'c ObjectId, Vec<Aspect>, Side)> {
    let mut out = Vec::new();
    // Both are sorted: one walk side by side instead of a lookup per object, which lists
    // the differences in order.
    let (mut xs, mut ys) = (a.iter().peekable(), b.iter().peekable());
    loop {
        let order = match (xs.peek(), ys.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((i, _)), Some((j, _))) => i.cmp(j),
        };
        match order {
            std::cmp::Ordering::Less => {
                let (id, _) = xs.next().expect("peeked");
                if compared_alone(id) {
                    out.push((id, vec![Aspect::Definition], Side::From));
                }
            }
            std::cmp::Ordering::Greater => {
                let (id, y) = ys.next().expect("peeked");
                if compared_alone(id) {
                    let mut aspects = created(id, y);
                    if id.kind == EXTENSION_MEMBER {
                        aspects
                            .retain(|&s| s != Aspect::Owner || !member_owner_is_scripts(b, id, y));
                    }
                    out.push((id, aspects, Side::To));
                }
            }
            std::cmp::Ordering::Equal => {
                let ((id, x), (_, y)) = (xs.next().expect("peeked"), ys.next().expect("peeked"));
                if x != y {
                    let d: Vec<Aspect> = ASPECTS
                        .into_iter()
                        .filter(|&s| x[s as usize] != y[s as usize])
                        .collect();
                    out.push((id, d, Side::Both));
                }
            }
        }
    }
    out
}

/// The aspects to explain of an object only in the desired schema: its definition, and those
/// that are not the defaults of a plain `CREATE`.
fn created(id: &ObjectId, y: &Aspects) -> Vec<Aspect> {
    let mut d = vec![Aspect::Definition];
    for s in [Aspect::Privileges, Aspect::Owner, Aspect::Extra] {
        if let Some(default) = created_default(id.kind, s) {
            let value = y[s as usize].as_deref();
            if value.is_some() && value != default {
                d.push(s);
            }
        }
    }
    d
}

const EXTENSION_MEMBER: &str = "extension member";

/// Whether a member only in the desired schema has the owner an extension's script gives it
/// (`CREATE EXTENSION`, `ALTER EXTENSION … UPDATE`): the session's role, its extension's
/// owner, or the bootstrap superuser (a trusted extension's, created by another role).
/// Another owner was set after the script: not made by the plan.
fn member_owner_is_scripts(b: &Catalog, id: &ObjectId, y: &Aspects) -> bool {
    let owner = y[Aspect::Owner as usize].as_deref();
    let extension = ObjectId {
        kind: kind("extension"),
        parent: "".into(),
        name: id.parent.as_ref().into(),
    };
    let extension_owner = b
        .get(&extension)
        .and_then(|e| e[Aspect::Owner as usize].as_deref());
    matches!(owner, None | Some("=") | Some(BOOTSTRAP_SUPERUSER)) || owner == extension_owner
}

/// How the catalog query spells the bootstrap superuser as an extension member's owner (the
/// owner of a trusted extension's members, whoever created it): `postgres` on one server,
/// `cloud_admin` on Neon.
pub const BOOTSTRAP_SUPERUSER: &str = "(bootstrap superuser)";

/// Where an object of a difference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Both,
    /// Only in the current schema (`--from`).
    From,
    /// Only in the desired schema (`--to`).
    To,
}

/// How every entry [`net`] adds begins.
pub const NOT_MODELED: &str = "not modeled by the schema engine";

/// Whether a plan's `unsupported` entry comes from the safety net.
pub fn is_net_entry(entry: &str) -> bool {
    entry.starts_with(NOT_MODELED) || entry.starts_with(EMPTY_PLAN)
}

const EMPTY_PLAN: &str = "the catalogs differ but the schema engine planned nothing";

/// Whether a plan's `unsupported` entry says something could not be checked (an extension's
/// members without a probe, a user mapping's unreadable options): no evidence either way,
/// so no policy (`allow-migrations`) may accept it.
pub fn is_not_checked(entry: &str) -> bool {
    entry.contains("NOT CHECKED") || entry.contains("NOT checked")
}

/// Most `not modeled` entries one plan lists; the rest are counted.
const MAX_LISTED: usize = 50;

/// Adds to `plan` what the catalog fingerprints show and the models do not explain, and
/// makes sure a plan that is empty means equal fingerprints. Models without a fingerprint
/// (built by hand, not introspected) are left alone.
pub fn net(a: &Model, b: &Model, plan: &mut Plan) {
    let (Some(ca), Some(cb)) = (&a.catalog, &b.catalog) else {
        return;
    };
    let diffs = differences(ca, cb);
    let mut entries = Vec::new();
    for (id, aspects, side) in &diffs {
        let (x, y) = (ca.get(*id), cb.get(*id));
        // The model explains an aspect's digest; the parts it does not carry
        // (`net_parts`) differ or not whatever it explains.
        let mut open: Vec<String> = aspects
            .iter()
            .filter(|&&s| {
                let at = super::net_parts::head_of;
                *side != Side::Both || at(x, s as usize) != at(y, s as usize)
            })
            .filter(|&&s| !explained(a, b, id, s))
            .map(|s| s.name(id.kind).to_owned())
            .collect();
        if let Some(y) = y {
            open.extend(super::net_parts::open(a, b, id, x, y));
        }
        if open.is_empty() {
            continue;
        }
        let whence = match side {
            Side::Both => String::new(),
            Side::From => "; only in the current schema".to_owned(),
            Side::To => "; only in the desired schema".to_owned(),
        };
        let marked = y
            .or(x)
            .and_then(|v| super::extprobe::entry(id, v, &open, &whence))
            .or_else(|| disabled_key_trigger(id, *side));
        entries.push(marked.unwrap_or_else(|| {
            format!("{NOT_MODELED}: {id} differs ({}{whence})", open.join(", "))
        }));
    }
    if entries.len() > MAX_LISTED {
        let more = entries.len() - MAX_LISTED;
        entries.truncate(MAX_LISTED);
        entries.push(format!("{NOT_MODELED}: {more} more object(s) differ"));
    }
    plan.unsupported.extend(entries);
    if plan.is_empty() && !diffs.is_empty() {
        // The models differ where the plan wrote nothing: never "no schema changes".
        let listed: Vec<String> = diffs.iter().take(5).map(|d| d.0.to_string()).collect();
        plan.unsupported.push(format!(
            "{EMPTY_PLAN}: {}{}",
            listed.join(", "),
            if diffs.len() > 5 { ", …" } else { "" }
        ));
    }
}

/// A foreign key's (or other constraint's) internal trigger has a row only when not enabled
/// (`DISABLE TRIGGER ALL`): said as such, not as a trigger "only in" one schema (trial9 P17).
fn disabled_key_trigger(id: &ObjectId, side: Side) -> Option<String> {
    if id.kind != "internal trigger" {
        return None;
    }
    let how = match side {
        Side::To => "enabled in the current schema, disabled in the desired one (ALTER TABLE … DISABLE TRIGGER ALL): the constraint would not be enforced",
        Side::From => "disabled in the current schema (ALTER TABLE … DISABLE TRIGGER ALL), enabled in the desired one",
        Side::Both => "enabled differently (ENABLE/DISABLE TRIGGER) in the two schemas",
    };
    Some(format!(
        "{NOT_MODELED}: {id} is {how}; write ALTER TABLE {} ENABLE|DISABLE TRIGGER ALL by hand",
        id.parent
    ))
}

/// A readable list of what differs between two fingerprints (tests, reports).
pub fn describe(a: &Catalog, b: &Catalog) -> String {
    differences(a, b)
        .iter()
        .map(|(id, aspects, side)| {
            let names: Vec<&str> = aspects.iter().map(|s| s.name(id.kind)).collect();
            let (x, y) = (a.get(id), b.get(id));
            format!("{id} ({}; {:?}): {x:?} → {y:?}", names.join(", "), side)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: &str, name: &str) -> ObjectId {
        ObjectId {
            kind: super::kind(kind),
            parent: "".into(),
            name: name.into(),
        }
    }

    fn aspects(def: &str, owner: Option<&str>) -> Aspects {
        [Some(def.into()), None, owner.map(Box::from), None]
    }

    /// An index whose columns change (the model explains its digest) and whose tablespace
    /// changes too (the model has none): the net reports the tablespace, though the model
    /// changes the index — it used to treat the whole object as explained (F24).
    #[test]
    fn an_unmodeled_part_is_reported_even_when_the_model_changes_the_object() {
        use crate::schema::model::Index;
        let index = |def: &str| Index {
            table: "public.k".into(),
            definition: def.into(),
            unique: false,
            on_partitioned: false,
        };
        let ik = ObjectId {
            kind: super::kind("index"),
            parent: "public.k".into(),
            name: "public.k_i".into(),
        };
        let model = |def: &str, print: &str| {
            let mut m = Model::default();
            m.indexes.insert("public.k_i".into(), index(def));
            m.catalog = Some(
                [(ik.clone(), aspects(print, Some("=")))]
                    .into_iter()
                    .collect(),
            );
            m
        };
        let mut spaced = "d2".to_owned();
        crate::schema::net_parts::push(&mut spaced, "tablespace", "ts1");
        let a = model("CREATE INDEX k_i ON public.k (id)", "d1");
        let run = |b: &Model| {
            let mut plan = Plan::default();
            net(&a, b, &mut plan);
            plan.unsupported
        };
        // Columns and tablespace change: the tablespace is reported.
        let b = model("CREATE INDEX k_i ON public.k (id, x)", &spaced);
        assert_eq!(
            run(&b),
            vec!["not modeled by the schema engine: index public.k_i on public.k differs (tablespace)"]
        );
        // Columns alone: explained by the model, nothing reported (but that this empty
        // test plan writes nothing for it).
        let b = model("CREATE INDEX k_i ON public.k (id, x)", "d2");
        let got = run(&b);
        assert!(got.iter().all(|e| e.starts_with(EMPTY_PLAN)), "{got:?}");
        // The tablespace alone: reported as such, not as the whole definition.
        let mut same = "d1".to_owned();
        crate::schema::net_parts::push(&mut same, "tablespace", "ts1");
        let b = model("CREATE INDEX k_i ON public.k (id)", &same);
        assert_eq!(
            run(&b),
            vec!["not modeled by the schema engine: index public.k_i on public.k differs (tablespace)"]
        );
    }

    /// A large object is data: one on a single side is not compared; one on both sides has
    /// its privileges and owner compared (F-x4).
    #[test]
    fn large_objects_are_compared_only_when_on_both_sides() {
        let lo = |name: &str, acl: Option<&str>, owner: &str| {
            (
                id(LARGE_OBJECT, name),
                [None, acl.map(Box::from), Some(owner.into()), None],
            )
        };
        let a: Catalog = [lo("1", None, "="), lo("2", None, "="), lo("4", None, "=")]
            .into_iter()
            .collect();
        let b: Catalog = [
            lo("1", Some("PUBLIC:SELECT"), "="),
            lo("2", None, "bob"),
            lo("3", Some("PUBLIC:SELECT"), "bob"),
        ]
        .into_iter()
        .collect();
        let got: Vec<(String, Vec<Aspect>, Side)> = differences(&a, &b)
            .into_iter()
            .map(|(id, d, side)| (id.to_string(), d, side))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "large object 1".to_owned(),
                    vec![Aspect::Privileges],
                    Side::Both
                ),
                ("large object 2".to_owned(), vec![Aspect::Owner], Side::Both),
            ]
        );
    }

    #[test]
    fn differences_list_each_object_once_in_order_with_its_side() {
        let a: Catalog = [
            (id("table", "a_only"), aspects("1", None)),
            (id("table", "changed"), aspects("1", Some("="))),
            (id("table", "same"), aspects("1", None)),
            (id("view", "last_a_only"), aspects("1", None)),
        ]
        .into_iter()
        .collect();
        let b: Catalog = [
            (id("index", "first_b_only"), aspects("1", Some("="))),
            (id("table", "b_only"), aspects("1", Some("alice"))),
            (id("table", "changed"), aspects("2", Some("bob"))),
            (id("table", "same"), aspects("1", None)),
            (id("view", "z_b_only"), aspects("1", None)),
        ]
        .into_iter()
        .collect();
        let got: Vec<(String, Vec<Aspect>, Side)> = differences(&a, &b)
            .into_iter()
            .map(|(id, d, side)| (id.to_string(), d, side))
            .collect();
        use Aspect::*;
        let want = vec![
            ("index first_b_only".to_owned(), vec![Definition], Side::To),
            ("table a_only".to_owned(), vec![Definition], Side::From),
            ("table b_only".to_owned(), vec![Definition, Owner], Side::To),
            (
                "table changed".to_owned(),
                vec![Definition, Owner],
                Side::Both,
            ),
            ("view last_a_only".to_owned(), vec![Definition], Side::From),
            ("view z_b_only".to_owned(), vec![Definition], Side::To),
        ];
        assert_eq!(got, want);
        // The other way round: the same objects, the sides swapped (each side's last object
        // comes after all of the other's).
        let back: Vec<(String, Side)> = differences(&b, &a)
            .into_iter()
            .map(|(id, _, side)| (id.to_string(), side))
            .collect();
        let swapped: Vec<(String, Side)> = want
            .into_iter()
            .map(|(id, _, side)| {
                let side = match side {
                    Side::From => Side::To,
                    Side::To => Side::From,
                    Side::Both => Side::Both,
                };
                (id, side)
            })
            .collect();
        assert_eq!(back, swapped);
        assert!(differences(&a, &a).is_empty());
    }
}

//! The parts of an object's catalog fingerprint that the engine's model does not carry (a
//! sequence's persistence, a table's tablespace, access method and type) or carries beside
//! what its digest explains (an index's tablespace, in its definition; a materialized view's
//! tablespace and access method), kept apart from its digest so that the safety net reports
//! them whenever they differ, even when the model also changes that object: a rebuilt index
//! would otherwise lose its tablespace unseen, explained by the model's change to its columns.
//!
//! An aspect's text is its digest followed by each such part as `␟name=value` (written only
//! when the part is not the default of a plain `CREATE`, so most objects have none). The
//! model's explainers ([`super::catalog::REGISTRY`]) explain the digest; a part is explained
//! only by an entry of [`PARTS`].

use super::catalog::{Aspects, ObjectId};
use super::model::{Model, Table, View};

/// Separates an aspect's digest from its unmodeled parts.
pub const SEPARATOR: char = '\u{1f}';

/// Appends the unmodeled part `name=value` to an aspect's text.
pub fn push(text: &mut String, name: &str, value: &str) {
    text.push(SEPARATOR);
    text.push_str(name);
    text.push('=');
    text.push_str(value);
}

/// An aspect's digest, without its unmodeled parts (`None` when it has only parts).
pub fn head(text: Option<&str>) -> Option<&str> {
    text.and_then(|t| t.split(SEPARATOR).next().filter(|h| !h.is_empty()))
}

/// The digest of aspect `i` of an object (`None`: no such object or no value).
pub fn head_of(c: Option<&Aspects>, i: usize) -> Option<&str> {
    head(c.and_then(|c| c[i].as_deref()))
}

/// An aspect's unmodeled parts: `(name, value)`.
fn parts(text: Option<&str>) -> Vec<(&str, &str)> {
    text.map(|t| {
        t.split(SEPARATOR)
            .skip(1)
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect()
    })
    .unwrap_or_default()
}

/// The unmodeled parts that differ between two texts of one aspect: `(name, from, to)`.
fn differing<'s>(
    x: Option<&'s str>,
    y: Option<&'s str>,
) -> Vec<(&'s str, Option<&'s str>, Option<&'s str>)> {
    let (px, py) = (parts(x), parts(y));
    let mut names: Vec<&str> = px.iter().chain(&py).map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    let get = |p: &[(&'s str, &'s str)], n: &str| p.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    names
        .into_iter()
        .map(|n| (n, get(&px, n), get(&py, n)))
        .filter(|(_, a, b)| a != b)
        .collect()
}

/// Explains a difference of one unmodeled part of one kind: whether the plan makes it
/// anyway (`to`: the part's value in the desired schema, `None` for the default).
pub struct PartExplainer {
    pub kind: &'static str,
    pub part: &'static str,
    pub explains: fn(a: &Model, b: &Model, id: &ObjectId, to: Option<&str>) -> bool,
}

/// A sequence owned by a table (identity, serial, `OWNED BY`) is created with its table's
/// persistence, and `ALTER TABLE … SET LOGGED | UNLOGGED` changes it with the table's.
fn owned_sequence_persistence(a: &Model, b: &Model, id: &ObjectId, to: Option<&str>) -> bool {
    let Some(table) = b.tables.get(&*id.parent) else {
        return false;
    };
    let changed = a
        .tables
        .get(&*id.parent)
        .is_none_or(|t| t.unlogged != table.unlogged);
    changed && (to == Some("u")) == table.unlogged
}

/// A new partition is created in its partitioned table's tablespace, as the plan makes it.
fn partition_tablespace(a: &Model, b: &Model, id: &ObjectId, to: Option<&str>) -> bool {
    let Some((parent, _)) = b
        .tables
        .get(&*id.name)
        .and_then(|t| t.partition_of.as_ref())
    else {
        return false;
    };
    let parent_id = ObjectId {
        kind: id.kind,
        parent: "".into(),
        name: parent.as_str().into(),
    };
    let theirs = b.catalog.as_ref().and_then(|c| c.get(&parent_id));
    let space = theirs.map(|p| parts(p[0].as_deref())).unwrap_or_default();
    let space = space
        .iter()
        .find(|(n, _)| *n == "tablespace")
        .map(|(_, v)| *v);
    !a.tables.contains_key(&*id.name) && space == to
}

/// Whether a definition of the model names tablespace `to` (`None`: none).
fn names_tablespace(definition: &str, to: Option<&str>) -> bool {
    match to {
        Some(t) => definition.contains(&format!(" TABLESPACE {}", super::quote_ident(t))),
        None => !definition.contains(" TABLESPACE "),
    }
}

/// An index's (or its constraint's) definition in a model: the tablespace is part of it.
fn index_definition<'m>(m: &'m Model, id: &ObjectId) -> Option<&'m str> {
    if let Some(i) = m.indexes.get(&*id.name) {
        return Some(&i.definition);
    }
    let (_, name) = super::split_qualified(&id.name)?;
    let t = m.tables.get(&*id.parent)?;
    t.constraints
        .iter()
        .find(|(n, c)| c.kind.has_index() && super::quote_ident(n) == name)
        .map(|(_, c)| c.definition.as_str())
}

/// An index (or a constraint's) whose model definition holds its tablespace: created or
/// rebuilt (its definition differs) in the one the desired schema has.
fn index_tablespace(a: &Model, b: &Model, id: &ObjectId, to: Option<&str>) -> bool {
    let Some(def) = index_definition(b, id) else {
        return false;
    };
    names_tablespace(def, to) && index_definition(a, id) != Some(def)
}

/// A materialized view, created (or created again) with its tablespace and access method.
fn matview_part(
    b: &Model,
    id: &ObjectId,
    to: Option<&str>,
    part: fn(&View) -> &Option<String>,
) -> bool {
    b.views
        .get(&*id.name)
        .is_some_and(|v| *part(v) == to.map(super::quote_ident))
}

/// A table the plan creates, with its tablespace and access method (an existing table's
/// move is not planned: reported).
fn new_table_part(
    a: &Model,
    b: &Model,
    id: &ObjectId,
    to: Option<&str>,
    part: fn(&Table) -> &Option<String>,
) -> bool {
    !a.tables.contains_key(&*id.name)
        && b.tables
            .get(&*id.name)
            .is_some_and(|t| *part(t) == to.map(super::quote_ident))
}

/// An inherited column's NOT NULL follows its parent's: set or dropped on the parent (which
/// Postgres passes down), or on a child the plan creates, the child has its parent's.
fn inherited_not_null(a: &Model, b: &Model, id: &ObjectId, to: Option<&str>) -> bool {
    let Some(table) = b.tables.get(&*id.parent) else {
        return false;
    };
    let want = to == Some("t");
    let col = |m: &Model, t: &str| {
        m.tables
            .get(t)
            .and_then(|t| t.column(&id.name))
            .map(|c| c.not_null)
    };
    // Local on one side (attached, detached, merged): its NOT NULL is in the column's digest
    // there, which the model explains; attached, a column keeps its own, made as its
    // parent's first (Postgres requires it).
    let is = table.column(&id.name);
    let was = a.tables.get(&*id.parent).and_then(|t| t.column(&id.name));
    if is.is_some_and(|c| !c.inherited) || was.is_some_and(|c| !c.inherited && c.not_null == want) {
        return true;
    }
    let local = was.is_some_and(|c| !c.inherited);
    let new_child = col(a, &id.parent).is_none();
    let parents = table
        .partition_of
        .iter()
        .map(|(p, _)| p)
        .chain(&table.inherits);
    parents
        .into_iter()
        .any(|p| col(b, p) == Some(want) && (new_child || local || col(a, p) != Some(want)))
}

/// A partition's index created (with its partition or its partitioned index) takes the
/// options of its partitioned index.
fn partition_index_options(a: &Model, b: &Model, id: &ObjectId, to: Option<&str>) -> bool {
    if a.catalog.as_ref().is_some_and(|c| c.contains_key(id)) {
        return false;
    }
    let Some(to) = to else { return true };
    let (_, _, indexes) = super::catalog::partition_root(b, &id.parent);
    indexes.iter().any(|i| {
        to.split(',').all(|o| {
            let (k, v) = o.split_once('=').unwrap_or((o, ""));
            i.definition.contains(&format!("{k}='{v}'"))
                || i.definition.contains(&format!("{k}={v}"))
        })
    })
}

/// The one registry of unmodeled parts the plan nevertheless makes.
#[rustfmt::skip]
pub static PARTS: &[PartExplainer] = &[
    PartExplainer { kind: "sequence", part: "persistence", explains: owned_sequence_persistence },
    PartExplainer { kind: "table", part: "tablespace", explains: partition_tablespace },
    PartExplainer { kind: "table", part: "tablespace", explains: |a, b, id, to| new_table_part(a, b, id, to, |t| &t.tablespace) },
    PartExplainer { kind: "table", part: "access method", explains: |a, b, id, to| new_table_part(a, b, id, to, |t| &t.access_method) },
    PartExplainer { kind: "index", part: "tablespace", explains: index_tablespace },
    PartExplainer { kind: "materialized view", part: "tablespace", explains: |_, b, id, to| matview_part(b, id, to, |v| &v.tablespace) },
    PartExplainer { kind: "materialized view", part: "access method", explains: |_, b, id, to| matview_part(b, id, to, |v| &v.access_method) },
    PartExplainer { kind: "column", part: "not null", explains: inherited_not_null },
    PartExplainer { kind: "partition index", part: "options", explains: partition_index_options },
];

/// The names of the unmodeled parts of an object that differ between `x` (the current
/// schema; `None`: the object is new) and `y` (the desired one) and that no entry of
/// [`PARTS`] explains. Parts of a dropped object need no explaining.
pub fn open(a: &Model, b: &Model, id: &ObjectId, x: Option<&Aspects>, y: &Aspects) -> Vec<String> {
    let mut out = Vec::new();
    for (i, to) in y.iter().enumerate() {
        let from = x.and_then(|x| x[i].as_deref());
        for (name, was, value) in differing(from, to.as_deref()) {
            let explained = PARTS
                .iter()
                .filter(|p| p.kind == id.kind && p.part == name)
                .any(|p| (p.explains)(a, b, id, value));
            let shown = shown(id, name, was, value);
            if !explained && !out.contains(&shown) {
                out.push(shown);
            }
        }
    }
    out
}

/// How the net names a part that differs: a database's property (`ALTER DATABASE … CONNECTION
/// LIMIT`, …) with its value on both sides (the database's own settings, never a secret);
/// any other part by its name.
fn shown(id: &ObjectId, name: &str, from: Option<&str>, to: Option<&str>) -> String {
    if id.kind == super::catalog::BUILT_IN {
        // A built-in function's volatility, strictness, leakproof, parallel safety, cost and
        // rows (`introspect::catalog_builtin`): both sides, named.
        return format!(
            "{name}: {} → {}",
            from.unwrap_or("(none)"),
            to.unwrap_or("(none)")
        );
    }
    if id.kind != super::catalog::DATABASE {
        return name.to_owned();
    }
    // The parts are written only when not the default of `CREATE DATABASE`.
    let default = match name {
        "CONNECTION LIMIT" => "-1",
        "IS_TEMPLATE" => "false",
        "ALLOW_CONNECTIONS" => "true",
        "TABLESPACE" => "pg_default",
        _ => "(default)",
    };
    format!(
        "{name} {} → {}",
        from.unwrap_or(default),
        to.unwrap_or(default)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_split_from_the_digest_and_compared_by_name() {
        let mut x = "digest".to_owned();
        push(&mut x, "tablespace", "ts1");
        assert_eq!(head(Some(&x)), Some("digest"));
        assert_eq!(head(Some("digest")), Some("digest"));
        assert_eq!(
            differing(Some(&x), Some("other")),
            vec![("tablespace", Some("ts1"), None)]
        );
        assert!(differing(Some(&x), Some(&x)).is_empty());
        let mut y = "other".to_owned();
        push(&mut y, "tablespace", "ts2");
        push(&mut y, "persistence", "u");
        assert_eq!(
            differing(Some(&x), Some(&y)),
            vec![
                ("persistence", None, Some("u")),
                ("tablespace", Some("ts1"), Some("ts2"))
            ]
        );
        assert_eq!(differing(None, Some(&y)).len(), 2);
    }

    #[test]
    fn a_database_property_is_named_with_both_values() {
        let id = ObjectId {
            kind: crate::schema::catalog::kind(crate::schema::catalog::DATABASE),
            parent: "".into(),
            name: "(this database)".into(),
        };
        let mut y = String::new();
        push(&mut y, "CONNECTION LIMIT", "5");
        push(&mut y, "IS_TEMPLATE", "true");
        let (m, x) = (Model::default(), [None, None, None, None]);
        let to = [None, None, None, Some(y.into_boxed_str())];
        assert_eq!(
            open(&m, &m, &id, Some(&x), &to),
            vec!["CONNECTION LIMIT -1 → 5", "IS_TEMPLATE false → true"]
        );
    }
}

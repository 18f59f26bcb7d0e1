//! Comments: set when they change or their object was created again, removed when they go
//! and their object stays.

use std::collections::BTreeSet;

use super::super::model::{DepKey, Model};
use super::super::{quote_ident, split_qualified};
use super::sql::lit;
use super::{Cx, Phase};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (target, text) in &b.comments {
        let recreated = object_recreated(target, &x.ch.recreate_views, &x.ch.kind_changed)
            || x.recreated.contains(target);
        if a.comments.get(target) != Some(text) || recreated {
            x.simple(
                Phase::Comments,
                format!("COMMENT ON {} IS {}", spelled(target), lit(text)),
            );
        }
    }
    for target in a.comments.keys().filter(|t| !b.comments.contains_key(*t)) {
        if target_exists(target, b) {
            x.simple(
                Phase::Comments,
                format!("COMMENT ON {} IS NULL", spelled(target)),
            );
        }
    }
}

/// A comment target as `COMMENT ON` takes it: an aggregate without arguments is `agg(*)`.
fn spelled(target: &str) -> String {
    match target.strip_prefix("AGGREGATE ") {
        Some(g) if g.ends_with("()") => format!("AGGREGATE {}(*)", &g[..g.len() - 2]),
        _ => target.to_owned(),
    }
}

/// Whether the view a comment is on (or the view of a commented column) is created again, or
/// the relation changes kind (table ↔ view).
fn object_recreated(
    target: &str,
    recreated: &BTreeSet<DepKey>,
    kind_changed: &BTreeSet<String>,
) -> bool {
    let obj = target
        .strip_prefix("VIEW ")
        .or_else(|| target.strip_prefix("MATERIALIZED VIEW "))
        .or_else(|| target.strip_prefix("TABLE "))
        .map(str::to_owned)
        .or_else(|| {
            target
                .strip_prefix("COLUMN ")
                .and_then(|c| split_qualified(c).map(|(t, _)| t.to_owned()))
        });
    obj.is_some_and(|o| kind_changed.contains(&o) || recreated.contains(&DepKey::Rel(o)))
}

/// Whether the object of a comment target exists in `b`.
fn target_exists(target: &str, b: &Model) -> bool {
    if let Some((kind, name)) = super::rare_owners::split_key(target) {
        return super::rare_owners::exists(kind, name, b) == Some(true);
    }
    if let Some(t) = target.strip_prefix("TABLE ") {
        return b.tables.contains_key(t);
    }
    if let Some(t) = target.strip_prefix("FOREIGN TABLE ") {
        return b.foreign_tables.contains_key(t);
    }
    if let Some(c) = target.strip_prefix("COLUMN ") {
        return split_qualified(c).is_some_and(|(t, col)| {
            b.tables.get(t).is_some_and(|t| t.column(col).is_some())
                || b.views.contains_key(t)
                || b.foreign_tables
                    .get(t)
                    .is_some_and(|f| f.table.column(col).is_some())
        });
    }
    if let Some(v) = target
        .strip_prefix("VIEW ")
        .or_else(|| target.strip_prefix("MATERIALIZED VIEW "))
    {
        return b.views.contains_key(v);
    }
    if let Some(i) = target.strip_prefix("INDEX ") {
        // Indexes of PRIMARY KEY, UNIQUE and EXCLUDE constraints are modelled as constraints.
        let of_constraint = b.tables.iter().any(|(tk, t)| {
            let schema = split_qualified(tk).map_or("public", |(s, _)| s);
            t.constraints
                .iter()
                .any(|(n, c)| c.kind.has_index() && format!("{schema}.{}", quote_ident(n)) == i)
        });
        // A partition's own index is not modeled: the net has it.
        let of_partition = || {
            b.catalog.as_ref().is_some_and(|c| {
                c.keys()
                    .any(|id| id.kind == "partition index" && &*id.name == i)
            })
        };
        return b.indexes.contains_key(i) || of_constraint || of_partition();
    }
    if let Some(s) = target.strip_prefix("SEQUENCE ") {
        return b.sequences.contains_key(s);
    }
    if let Some(f) = target
        .strip_prefix("FUNCTION ")
        .or_else(|| target.strip_prefix("PROCEDURE "))
    {
        return b.functions.contains_key(f);
    }
    if let Some(g) = target.strip_prefix("AGGREGATE ") {
        return b.aggregates.contains_key(g);
    }
    if let Some(t) = target
        .strip_prefix("TYPE ")
        .or_else(|| target.strip_prefix("DOMAIN "))
    {
        return b.enums.contains_key(t)
            || b.domains.contains_key(t)
            || b.composites.contains_key(t);
    }
    if let Some(s) = target.strip_prefix("STATISTICS ") {
        return b.statistics.contains_key(s);
    }
    if let Some(s) = target.strip_prefix("SCHEMA ") {
        return b.schemas.contains(s);
    }
    if let Some(c) = target.strip_prefix("CAST ") {
        return b.casts.contains_key(c);
    }
    if let Some(t) = target.strip_prefix("EVENT TRIGGER ") {
        return b.event_triggers.contains_key(t);
    }
    if let Some(p) = target.strip_prefix("PUBLICATION ") {
        return b.publications.contains_key(p);
    }
    if let Some((_, on)) = target.split_once(" ON ") {
        return on_exists(target, on, b);
    }
    false
}

/// Constraints, triggers and policies: `CONSTRAINT name ON table`.
fn on_exists(target: &str, on: &str, b: &Model) -> bool {
    let on = on.strip_prefix("DOMAIN ").unwrap_or(on);
    let name = target.split_whitespace().nth(1).unwrap_or("");
    if target.starts_with("CONSTRAINT ") {
        return b
            .tables
            .get(on)
            .is_some_and(|t| t.constraints.contains_key(name.trim_matches('"')))
            || b.domains.contains_key(on);
    }
    if target.starts_with("TRIGGER ") {
        return b.triggers.contains_key(&format!("{on}.{name}"));
    }
    if target.starts_with("RULE ") {
        return b.rules.contains_key(&format!("{on}.{name}"));
    }
    if target.starts_with("POLICY ") {
        return b.policies.contains_key(&format!("{on}.{name}"));
    }
    false
}

//! Hazards of changes after which the application's writes fail, vanish or do less than
//! before, and of function changes that move what a policy lets through — changes that apply
//! cleanly and fast, so neither a lock nor a rewrite gives them away:
//!
//! - `breaks_writes`: a published table left without a replica identity (`REPLICA IDENTITY
//!   NOTHING`, or its primary key dropped under `DEFAULT`): every UPDATE and DELETE of it fails;
//!   a user trigger disabled (what it wrote or enforced stops); a `DO INSTEAD` rule created on a
//!   table (writes it catches report success and store something else, or nothing);
//! - `deletes_data`: a table made `UNLOGGED` (emptied after a crash, and on Neon whenever the
//!   compute restarts; not replicated);
//! - `authz_update`: a function a policy calls, changed (who sees which rows may change with
//!   no GRANT or POLICY statement in sight).
//!
//! Trigger and rule changes of the same kind are in trigger_hazards.rs, functions whose results
//! indexes and constraints store in function_uses.rs, sequences in sequences.rs.
//!
//! They run over the finished statements, matching each by the SQL the planner wrote for it.

use super::super::model::{ConstraintKind, DepKey, Model};
use super::super::split_qualified;
use super::{h, HazardKind, Statement};

pub(super) fn annotate(a: &Model, b: &Model, out: &mut [Statement]) {
    published_without_identity(a, b, out);
    newly_published_without_identity(a, b, out);
    triggers_disabled(a, b, out);
    instead_rules(a, b, out);
    unlogged(a, b, out);
    policy_functions(a, b, out);
    super::trigger_hazards::annotate(a, b, out);
    super::function_uses::annotate(a, b, out);
    super::view_writes::annotate(a, b, out);
}

/// Adds a hazard to the statements whose SQL starts with `prefix`.
pub(super) fn mark(out: &mut [Statement], prefix: &str, kind: HazardKind, message: &str) {
    mark_if(out, |sql| sql.starts_with(prefix), kind, message);
}

/// Adds a hazard to the statements whose SQL `pick` accepts.
pub(super) fn mark_if(
    out: &mut [Statement],
    pick: impl Fn(&str) -> bool,
    kind: HazardKind,
    message: &str,
) {
    for s in out.iter_mut().filter(|s| pick(&s.sql)) {
        if !s
            .hazards
            .iter()
            .any(|x| x.kind == kind && x.message == message)
        {
            s.hazards.push(h(kind, message));
        }
    }
}

/// Whether `table` is published with UPDATE or DELETE in `m`.
fn published_for_changes(m: &Model, table: &str) -> Option<String> {
    let schema = split_qualified(table).map_or("public", |(s, _)| s);
    m.publications
        .iter()
        .find(|(_, p)| {
            (p.publish.contains("update") || p.publish.contains("delete"))
                && (p.all_tables || p.tables.contains_key(table) || p.schemas.contains(schema))
        })
        .map(|(name, _)| name.clone())
}

fn has_primary_key(m: &Model, table: &str) -> bool {
    m.tables.get(table).is_some_and(|t| {
        t.constraints
            .iter()
            .any(|(_, c)| c.kind == ConstraintKind::PrimaryKey)
    })
}

/// What a table's replica identity is: `None` when it has none (NOTHING, or DEFAULT without
/// a primary key).
fn identity(m: &Model, table: &str) -> Option<String> {
    match m.replica_identities.get(table).map(String::as_str) {
        Some("NOTHING") => None,
        None | Some("DEFAULT") if !has_primary_key(m, table) => None,
        Some(other) => Some(other.to_owned()),
        None => Some("DEFAULT".to_owned()),
    }
}

fn published_without_identity(a: &Model, b: &Model, out: &mut [Statement]) {
    for table in b.tables.keys() {
        let Some(publication) = published_for_changes(b, table) else {
            continue;
        };
        if !a.tables.contains_key(table)
            || identity(a, table).is_none()
            || identity(b, table).is_some()
        {
            continue;
        }
        let message = format!("table {table} is in publication {publication}, which publishes UPDATE or DELETE, and is left without a replica identity: every UPDATE and DELETE of it fails (\"cannot update table … because it does not have a replica identity and publishes updates\")");
        mark(
            out,
            &format!("ALTER TABLE {table} REPLICA IDENTITY NOTHING"),
            HazardKind::BreaksWrites,
            &message,
        );
        if let Some(t) = a.tables.get(table) {
            for (name, c) in t.constraints.iter() {
                if c.kind == ConstraintKind::PrimaryKey {
                    // The planner quotes constraint names.
                    for n in [name.to_string(), crate::pg::ident(name)] {
                        let drop = format!("ALTER TABLE {table} DROP CONSTRAINT {n};");
                        mark(out, &drop, HazardKind::BreaksWrites, &message);
                    }
                }
            }
        }
    }
}

/// A table that starts being published for UPDATE or DELETE without a replica identity: a new
/// table without a primary key under a `FOR ALL TABLES` (or schema) publication, or a table
/// added to a publication (trial 8 P1: `CREATE TABLE audit_log (…)` with no key passed, and
/// its first DELETE on production failed). One that lost its identity is
/// [`published_without_identity`]'s; one already published without one is no change.
fn newly_published_without_identity(a: &Model, b: &Model, out: &mut [Statement]) {
    for table in b.tables.keys() {
        let Some(publication) = published_for_changes(b, table) else {
            continue;
        };
        if identity(b, table).is_some()
            || (a.tables.contains_key(table)
                && (identity(a, table).is_some() || published_for_changes(a, table).is_some()))
        {
            continue;
        }
        let message = format!("table {table} has no replica identity (no primary key, no REPLICA IDENTITY FULL or USING INDEX) and is now published by {publication}, which publishes UPDATE or DELETE: every UPDATE and DELETE of it fails (\"cannot delete from table … because it does not have a replica identity and publishes deletes\"); give it a primary key or REPLICA IDENTITY FULL");
        let create = format!("CREATE TABLE {table} ");
        let publication_sql = format!("PUBLICATION {} ", crate::pg::ident(&publication));
        let publication_bare = format!("PUBLICATION {publication} ");
        mark_if(
            out,
            |sql| {
                sql.starts_with(&create)
                    || (sql.contains(&publication_sql) || sql.contains(&publication_bare))
                        && (sql.starts_with("CREATE PUBLICATION")
                            || sql.starts_with("ALTER PUBLICATION"))
            },
            HazardKind::BreaksWrites,
            &message,
        );
    }
}

fn triggers_disabled(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, t) in &b.triggers {
        let Some(old) = a.triggers.get(k) else {
            continue;
        };
        if t.enabled == 'D' && old.enabled != 'D' {
            let name = super::sql::name_of(k, &t.table);
            let message = format!("trigger {name} on {} is disabled: what it writes or enforces on every change of the table (audit rows, derived values, checks) silently stops", t.table);
            mark(
                out,
                &format!("ALTER TABLE {} DISABLE TRIGGER {name}", t.table),
                HazardKind::BreaksWrites,
                &message,
            );
        }
    }
}

fn instead_rules(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, r) in &b.rules {
        let new = a.rules.get(k).is_none_or(|o| o.definition != r.definition);
        if !new || !b.tables.contains_key(&r.table) || !r.definition.contains(" DO INSTEAD ") {
            continue;
        }
        let message = format!("rule {} on table {} replaces the writes it catches (DO INSTEAD): the application's statement reports success while the table gets something else, or nothing", super::sql::name_of(k, &r.table), r.table);
        mark(out, &r.definition, HazardKind::BreaksWrites, &message);
    }
}

fn unlogged(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, t) in &b.tables {
        if t.unlogged && a.tables.get(k).is_some_and(|o| !o.unlogged) {
            let message = format!("table {k} becomes UNLOGGED: its rows are emptied after a crash — on Neon whenever the compute restarts — and are neither replicated nor in backups' WAL");
            mark(
                out,
                &format!("ALTER TABLE {k} SET UNLOGGED"),
                HazardKind::DeletesData,
                &message,
            );
        }
    }
}

fn policy_functions(a: &Model, b: &Model, out: &mut [Statement]) {
    for (f, func) in &b.functions {
        if a.functions
            .get(f)
            .is_none_or(|o| o.definition == func.definition)
        {
            continue;
        }
        let key = DepKey::Fn(f.clone());
        let policies: Vec<&str> = b
            .deps
            .iter()
            .filter(|(obj, on)| matches!(obj, DepKey::Policy(_)) && on.contains(&key))
            .filter_map(|(obj, _)| match obj {
                DepKey::Policy(p) => Some(p.as_str()),
                _ => None,
            })
            .collect();
        if policies.is_empty() {
            continue;
        }
        let message = format!("function {f} is called by row-level security policy {}: changing it changes who sees or writes which rows, with no GRANT or POLICY statement", policies.join(", "));
        let head = func.definition.lines().next().unwrap_or("");
        mark(out, head, HazardKind::AuthzUpdate, &message);
    }
}

//! Owners, privileges (GRANT/REVOKE on tables, views, sequences, columns, schemas,
//! routines and types) and default privileges: every change is an `authz_update` hazard
//! that names who gains or loses what on which object.
//!
//! Owners and ACLs come from introspection already normalized (see `introspect::authz`):
//! an absent owner is the role the plan runs as, rendered `OWNER TO CURRENT_USER`; an
//! ACL is its difference from the default, with the owner's entries as [`Grantee::Owner`].
//! Objects the plan creates (or drops and creates again) start from the defaults — the
//! default privileges the database had before the plan (`ALTER DEFAULT PRIVILEGES` of the
//! role running it, database-wide and in the object's schema), which a created object
//! receives; its grants and revokes then take it to exactly the target's ACL.

use std::collections::{BTreeMap, BTreeSet};

use super::super::model::{AclDelta, AclItem, DepKey, Grantee, Model};
use super::super::split_qualified;
use super::{grantors, rare_owners, Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    owners(x);
    privileges(x);
    default_privileges(x);
}

/// Whether the plan creates `key`'s object (absent in A) or drops and creates it again:
/// it then has the default owner and ACL when the grants run.
fn fresh(x: &Cx<'_>, key: &str) -> bool {
    if !exists(key, x.a) || x.recreated.contains(key) {
        return true;
    }
    let rel = key
        .strip_prefix("VIEW ")
        .or_else(|| key.strip_prefix("MATERIALIZED VIEW "))
        .or_else(|| key.strip_prefix("TABLE "))
        .map(str::to_owned)
        .or_else(|| {
            key.strip_prefix("COLUMN ")
                .and_then(|c| split_qualified(c).map(|(t, _)| t.to_owned()))
        });
    rel.is_some_and(|r| {
        x.ch.kind_changed.contains(&r) || x.ch.recreate_views.contains(&DepKey::Rel(r))
    })
}

/// Whether the object of an owner or ACL key exists in `m`. Sequences of identity columns
/// are not modelled: one exists when `m` has privileges on it.
fn exists(key: &str, m: &Model) -> bool {
    let Some((kind, name)) = split_key(key) else {
        return false;
    };
    match kind {
        "TABLE" => m.tables.contains_key(name),
        "FOREIGN TABLE" => m.foreign_tables.contains_key(name),
        "VIEW" | "MATERIALIZED VIEW" => m.views.contains_key(name),
        "SEQUENCE" => m.sequences.contains_key(name) || m.privileges.contains_key(key),
        "COLUMN" => split_qualified(name).is_some_and(|(t, c)| {
            m.tables.get(t).is_some_and(|t| t.column(c).is_some()) || m.views.contains_key(t)
        }),
        "FUNCTION" | "PROCEDURE" => m.functions.contains_key(name),
        "TYPE" | "DOMAIN" => {
            m.enums.contains_key(name)
                || m.domains.contains_key(name)
                || m.composites.contains_key(name)
                || m.ranges.contains_key(name)
        }
        "SCHEMA" => m.schemas.contains(name),
        "PUBLICATION" => m.publications.contains_key(name),
        "EVENT TRIGGER" => m.event_triggers.contains_key(name),
        _ => rare_owners::exists(kind, name, m).unwrap_or(false),
    }
}

/// `TABLE public.t` → (`TABLE`, `public.t`).
fn split_key(key: &str) -> Option<(&str, &str)> {
    if let Some(found) = rare_owners::split_key(key) {
        return Some(found);
    }
    for kind in [
        "MATERIALIZED VIEW",
        "FOREIGN TABLE",
        "VIEW",
        "TABLE",
        "SEQUENCE",
        "COLUMN",
        "FUNCTION",
    ] {
        if let Some(rest) = key.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) {
            return Some((kind, rest));
        }
    }
    for kind in [
        "PROCEDURE",
        "TYPE",
        "DOMAIN",
        "SCHEMA",
        "PUBLICATION",
        "EVENT TRIGGER",
    ] {
        if let Some(rest) = key.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) {
            return Some((kind, rest));
        }
    }
    None
}

/// A role, for messages: the default owner is the role running the migration.
fn who(owner: Option<&String>) -> String {
    owner
        .map(|o| format!("role {o}"))
        .unwrap_or_else(|| "the role running the migration".into())
}

/// A hazard for a role the target server does not have (roles are cluster-wide: the schema
/// engine never creates them).
fn missing_role(x: &Cx<'_>, role: &str) -> Option<String> {
    if x.a.roles.is_empty() || x.a.roles.contains(role) {
        return None;
    }
    Some(format!(
        "role {role} does not exist on the server this plan runs on: this statement fails there. Roles are cluster-wide and the schema engine never creates them: create the role first (CREATE ROLE {role})"
    ))
}

fn owners(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let keys: BTreeSet<&String> = a.owners.keys().chain(b.owners.keys()).collect();
    for key in keys {
        if !exists(key, x.b) {
            continue;
        }
        let Some((kind, name)) = split_key(key) else {
            continue;
        };
        if kind == "SEQUENCE" && follows_table(x.b, name) {
            continue;
        }
        if rare_owners::never_created(kind) && !exists(key, x.a) {
            continue;
        }
        let before = if fresh(x, key) {
            None
        } else {
            x.a.owners.get(key)
        };
        let after = x.b.owners.get(key);
        if before == after {
            continue;
        }
        let to = after.map(String::as_str).unwrap_or("CURRENT_USER");
        let mut s = Stmt::new(
            Phase::SecurityAndTriggers,
            format!(
                "ALTER {kind} {} OWNER TO {to}",
                rare_owners::spelled(kind, name)
            ),
        )
        .hazard(
            HazardKind::AuthzUpdate,
            format!(
                "{key}: owner {} → {}: the new owner gains every privilege on it (and the right to drop or alter it), the old one loses those it had as the owner",
                who(before),
                who(after)
            ),
        );
        if let Some(m) = after.and_then(|r| missing_role(x, r)) {
            s = s.hazard(HazardKind::Correctness, m);
        }
        // A sequence's owner must stay its owning table's until `OWNED BY` is set.
        if fresh(x, key) && kind != "SEQUENCE" {
            s = s.secures(key.clone());
        }
        x.push(s);
    }
    rare_owners::multiranges(x);
}

/// Whether sequence `name` of `m` belongs to a table (`OWNED BY` a column, or an identity's:
/// not in the model's sequences): Postgres gives it its table's owner (`ALTER TABLE … OWNER
/// TO` moves it along, `OWNED BY` requires it) and refuses an owner of its own.
fn follows_table(m: &Model, name: &str) -> bool {
    m.sequences.get(name).is_none_or(|s| s.owned_by.is_some())
}

/// (items to grant, items to revoke) taking `a` to `b`, both relative to one default.
fn changes(a: &AclDelta, b: &AclDelta) -> (BTreeSet<AclItem>, BTreeSet<AclItem>) {
    let grant = a
        .revoked
        .difference(&b.revoked)
        .chain(b.granted.difference(&a.granted))
        .cloned()
        .collect();
    let revoke = b
        .revoked
        .difference(&a.revoked)
        .chain(a.granted.difference(&b.granted))
        .cloned()
        .collect();
    (grant, revoke)
}

/// One GRANT/REVOKE to write: (grantor, grantee, action) → privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Action {
    /// `REVOKE GRANT OPTION FOR`: the privilege stays, the right to pass it on goes.
    RevokeOption,
    Revoke,
    Grant,
    GrantWithOption,
}

/// Who grants (`None`: the object's owner), to whom, what kind of statement.
pub(super) type ActionKey = (Option<String>, Grantee, Action);

/// The statements' actions, grouped by grantor and grantee: a privilege that only gains or
/// loses its grant option is one GRANT … WITH GRANT OPTION or REVOKE GRANT OPTION FOR.
fn actions(
    grant: BTreeSet<AclItem>,
    revoke: BTreeSet<AclItem>,
) -> BTreeMap<ActionKey, Vec<String>> {
    let mut out: BTreeMap<ActionKey, Vec<String>> = BTreeMap::new();
    let held = |set: &BTreeSet<AclItem>, i: &AclItem, grantable: bool| {
        set.contains(&AclItem {
            grantable,
            ..i.clone()
        })
    };
    for i in &revoke {
        let action = if held(&grant, i, !i.grantable) {
            if i.grantable {
                Action::RevokeOption
            } else {
                continue; // upgraded by the grant with grant option
            }
        } else {
            Action::Revoke
        };
        out.entry((i.grantor.clone(), i.grantee.clone(), action))
            .or_default()
            .push(i.privilege.clone());
    }
    for i in &grant {
        if !i.grantable && held(&revoke, i, true) {
            continue; // the REVOKE GRANT OPTION FOR above
        }
        let action = if i.grantable {
            Action::GrantWithOption
        } else {
            Action::Grant
        };
        out.entry((i.grantor.clone(), i.grantee.clone(), action))
            .or_default()
            .push(i.privilege.clone());
    }
    out
}

fn role_of(g: &Grantee) -> Option<&str> {
    match g {
        Grantee::Role(r) => Some(r),
        _ => None,
    }
}

fn grantee_sql(g: &Grantee, owner: Option<&String>) -> String {
    match g {
        Grantee::Public => "PUBLIC".into(),
        Grantee::Owner => owner.cloned().unwrap_or_else(|| "CURRENT_USER".into()),
        Grantee::Role(r) => r.clone(),
    }
}

/// `privileges ON target` of a GRANT for an ACL key (columns: `SELECT (c) ON TABLE t`).
fn on(key: &str, privileges: &[String]) -> Option<String> {
    let (kind, name) = split_key(key)?;
    let list = |p: &[String]| p.join(", ");
    Some(match kind {
        "COLUMN" => {
            let (t, c) = split_qualified(name)?;
            let each: Vec<String> = privileges.iter().map(|p| format!("{p} ({c})")).collect();
            format!("{} ON TABLE {t}", each.join(", "))
        }
        "VIEW" | "MATERIALIZED VIEW" | "TABLE" | "FOREIGN TABLE" => {
            format!("{} ON TABLE {name}", list(privileges))
        }
        "AGGREGATE" => format!(
            "{} ON {}",
            list(privileges),
            rare_owners::aggregate_target(name)?
        ),
        _ => format!("{} ON {kind} {name}", list(privileges)),
    })
}

/// The ACL (as a difference from the kind's default) an object the plan creates starts
/// with: the default privileges `m` (the database before the plan) gives to objects the
/// role running the migration creates — its own (`ALTER DEFAULT PRIVILEGES` without
/// `FOR ROLE`), database-wide, plus those of the object's schema. The plan changes default
/// privileges only after it created everything, so A's are the ones in effect.
fn initial(m: &Model, key: &str) -> AclDelta {
    let mut out = AclDelta::default();
    let Some((kind, name)) = split_key(key) else {
        return out;
    };
    let objects = match kind {
        "TABLE" | "VIEW" | "MATERIALIZED VIEW" | "FOREIGN TABLE" => "TABLES",
        "SEQUENCE" => "SEQUENCES",
        "FUNCTION" | "PROCEDURE" | "AGGREGATE" => "FUNCTIONS",
        "TYPE" | "DOMAIN" => "TYPES",
        "SCHEMA" => "SCHEMAS",
        _ => return out,
    };
    if let Some(d) = m.default_privileges.get(&format!("|{objects}")) {
        out = d.clone();
    }
    let schema = if kind == "SCHEMA" {
        None
    } else {
        grantors::schema_of(name)
    };
    if let Some(d) = schema.and_then(|s| {
        m.default_privileges
            .get(&format!("IN SCHEMA {s}|{objects}"))
    }) {
        for i in &d.granted {
            if !out.revoked.remove(i) {
                out.granted.insert(i.clone());
            }
        }
    }
    out
}

/// The grants each object the plan `a` → `b` creates receives from `a`'s default privileges
/// (`ALTER DEFAULT PRIVILEGES` of the role that runs it): `(object key, role, privileges)`.
/// The plan writes no GRANT for them (Postgres gives them), so nothing else names them.
pub fn default_grants(a: &Model, b: &Model) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    if a.default_privileges.is_empty() {
        return out;
    }
    for key in object_keys(b) {
        if exists(&key, a) {
            continue;
        }
        let mut by_role: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in initial(a, &key).granted {
            let role = match &item.grantee {
                Grantee::Public => "PUBLIC".to_owned(),
                Grantee::Owner => continue,
                Grantee::Role(r) => r.clone(),
            };
            by_role
                .entry(role)
                .or_default()
                .push(item.privilege.clone());
        }
        for (role, privileges) in by_role {
            out.push((key.clone(), role, privileges));
        }
    }
    out
}

/// Keys of every object of `m` that can carry privileges.
fn object_keys(m: &Model) -> Vec<String> {
    let mut out: Vec<String> = m.tables.keys().map(|k| format!("TABLE {k}")).collect();
    out.extend(
        m.foreign_tables
            .keys()
            .map(|k| format!("FOREIGN TABLE {k}")),
    );
    out.extend(m.views.iter().map(|(k, v)| {
        let kind = if v.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        format!("{kind} {k}")
    }));
    out.extend(m.sequences.keys().map(|k| format!("SEQUENCE {k}")));
    out.extend(
        m.functions
            .iter()
            .map(|(k, f)| format!("{} {k}", f.kind.keyword())),
    );
    out.extend(m.enums.keys().map(|k| format!("TYPE {k}")));
    out.extend(m.composites.keys().map(|k| format!("TYPE {k}")));
    out.extend(m.domains.keys().map(|k| format!("DOMAIN {k}")));
    out.extend(m.ranges.keys().map(|k| format!("TYPE {k}")));
    out.extend(m.aggregates.keys().map(|k| format!("AGGREGATE {k}")));
    out.extend(m.schemas.iter().map(|k| format!("SCHEMA {k}")));
    out
}

fn privileges(x: &mut Cx<'_>) {
    let empty = AclDelta::default();
    let (a, b) = (x.a, x.b);
    let mut keys: BTreeSet<String> = a
        .privileges
        .keys()
        .chain(b.privileges.keys())
        .cloned()
        .collect();
    // Objects the plan creates get A's default privileges, even where B's have no ACL.
    if !a.default_privileges.is_empty() {
        keys.extend(
            object_keys(b)
                .into_iter()
                .filter(|k| fresh(x, k) && initial(a, k) != empty),
        );
    }
    // Tables' privileges before their columns': a table-level REVOKE takes the column-level
    // privilege of the same kind with it, so a column GRANT planned before it was undone.
    // But a column REVOKE run as its grantor comes first: it needs the grantor's grant
    // option, which a table-level REVOKE GRANT OPTION takes (the column REVOKE then revoked
    // nothing, with a warning only).
    let (columns, objects): (Vec<&String>, Vec<&String>) =
        keys.iter().partition(|k| k.starts_with("COLUMN "));
    let passes = columns.iter().map(|k| (Pass::GrantorRevokes, *k));
    let passes = passes
        .chain(objects.into_iter().map(|k| (Pass::All, k)))
        .chain(columns.iter().map(|k| (Pass::AllButGrantorRevokes, *k)));
    for (pass, key) in passes {
        if !exists(key, x.b) {
            continue;
        }
        let mut before = if fresh(x, key) {
            initial(x.a, key)
        } else {
            x.a.privileges.get(key).cloned().unwrap_or_default()
        };
        let after = x.b.privileges.get(key).unwrap_or(&empty);
        // The owner of the object (for a column, of its table).
        let owner_key = match split_key(key) {
            Some(("COLUMN", c)) => split_qualified(c).map(|(t, _)| {
                if x.b.views.get(t).is_some_and(|v| v.materialized) {
                    format!("MATERIALIZED VIEW {t}")
                } else if x.b.views.contains_key(t) {
                    format!("VIEW {t}")
                } else {
                    format!("TABLE {t}")
                }
            }),
            _ => Some(key.clone()),
        };
        let owner = owner_key.as_ref().and_then(|k| x.b.owners.get(k)).cloned();
        if let Some(o) = &owner {
            fold_new_owner(&mut before, o, key);
        }
        let mut net = net_change(x, key, owner.as_ref(), after);
        let from = x.out.len();
        let (grant, revoke) = changes(&before, after);
        let ordered = grantors::ordered(actions(grant, revoke));
        if !ordered.is_empty() && on(key, &[]).is_none() {
            x.unsupported(format!(
                "{key}: privileges differ, and GRANT/REVOKE cannot name it (a hypothetical-set aggregate) — not supported by the schema engine; write this change by hand"
            ));
            continue;
        }
        // A revoke Postgres would refuse leaves the object's privileges alone, whole.
        let refused: Vec<String> = ordered
            .iter()
            .filter_map(|(k, p)| grantors::kept_dependents(key, &before, after, k, p))
            .collect();
        if !refused.is_empty() {
            if pass != Pass::GrantorRevokes {
                refused.into_iter().for_each(|m| x.unsupported(m));
            }
            continue;
        }
        for ((grantor, grantee, action), privs) in ordered {
            let grantor_revoke =
                grantor.is_some() && matches!(action, Action::Revoke | Action::RevokeOption);
            let wanted = match pass {
                Pass::All => true,
                Pass::GrantorRevokes => grantor_revoke,
                Pass::AllButGrantorRevokes => !grantor_revoke,
            };
            if !wanted {
                continue;
            }
            let Some(target) = on(key, &privs) else {
                continue;
            };
            let to = grantee_sql(&grantee, owner.as_ref());
            let sql = match action {
                Action::Grant => format!("GRANT {target} TO {to}"),
                Action::GrantWithOption => format!("GRANT {target} TO {to} WITH GRANT OPTION"),
                Action::Revoke => format!("REVOKE {target} FROM {to}"),
                Action::RevokeOption => format!("REVOKE GRANT OPTION FOR {target} FROM {to}"),
            };
            // What the object gains or loses between the two sides, not by this step.
            let shown = net_part(&mut net, (&grantor, &grantee, action), &privs);
            let schema = split_key(key)
                .filter(|(kind, _)| !matches!(*kind, "SCHEMA" | "PUBLICATION"))
                .and_then(|(_, name)| grantors::schema_of(name));
            let (sql, usage) =
                grantors::as_grantor_in_schema((x.a, x.b), schema, sql, grantor.as_ref());
            let phase = match (key.starts_with("SCHEMA "), &action) {
                (false, _) => Phase::SecurityAndTriggers,
                (true, Action::Grant | Action::GrantWithOption) => Phase::SchemaGrants,
                (true, Action::Revoke | Action::RevokeOption) => Phase::SchemaRevokes,
            };
            let mut s = Stmt::new(phase, sql);
            if !shown.is_empty() {
                let what = change_text(&grantee, action, owner.as_ref(), &shown, key);
                let how = grantors::runs_as(grantor.as_ref());
                s = s.hazard(HazardKind::AuthzUpdate, format!("{what}{how}{usage}"));
            }
            for r in [role_of(&grantee), grantor.as_deref()]
                .into_iter()
                .flatten()
            {
                if let Some(m) = missing_role(x, r) {
                    s = s.hazard(HazardKind::Correctness, m);
                }
            }
            if let Some(k) = owner_key.as_ref().filter(|k| fresh(x, k)) {
                s = s.secures(k.clone());
            }
            x.push(s);
        }
        if pass == Pass::All && x.out.len() > from {
            net_left(x, net, owner.as_ref(), key);
        }
    }
}

/// One net privilege change: (grantor, grantee, action, privilege).
type NetItem = (Option<String>, Grantee, Action, String);

/// What the privileges of `key` change between the two sides when the plan creates its
/// object again (its statements take the new object from its defaults, not from what A
/// had): `None` for an object the plan keeps or creates new.
fn net_change(
    x: &Cx<'_>,
    key: &str,
    owner: Option<&String>,
    after: &AclDelta,
) -> Option<BTreeSet<NetItem>> {
    if !fresh(x, key) || !exists(key, x.a) {
        return None;
    }
    let mut was = x.a.privileges.get(key).cloned().unwrap_or_default();
    if let Some(o) = owner {
        fold_new_owner(&mut was, o, key);
    }
    let (grant, revoke) = changes(&was, after);
    let items = actions(grant, revoke)
        .into_iter()
        .flat_map(|((g, e, a), ps)| ps.into_iter().map(move |p| (g.clone(), e.clone(), a, p)));
    Some(items.collect())
}

/// Of a statement's `privs`, those its hazard names: all of them, or for an object
/// created again those in `net` (taken out of it).
fn net_part(
    net: &mut Option<BTreeSet<NetItem>>,
    (grantor, grantee, action): (&Option<String>, &Grantee, Action),
    privs: &[String],
) -> Vec<String> {
    let Some(n) = net else {
        return privs.to_vec();
    };
    privs
        .iter()
        .filter(|p| n.remove(&(grantor.clone(), grantee.clone(), action, (*p).clone())))
        .cloned()
        .collect()
}

/// Net changes of an object created again that no statement's hazard named (the new
/// object's defaults already differ so): named on its last statement.
fn net_left(x: &mut Cx<'_>, net: Option<BTreeSet<NetItem>>, owner: Option<&String>, key: &str) {
    let mut grouped: BTreeMap<(Grantee, Action), Vec<String>> = BTreeMap::new();
    for (_, grantee, action, p) in net.into_iter().flatten() {
        grouped.entry((grantee, action)).or_default().push(p);
    }
    let Some(last) = x.out.last_mut() else { return };
    for ((grantee, action), privs) in grouped {
        let what = change_text(&grantee, action, owner, &privs, key);
        last.hazards.push(super::h(HazardKind::AuthzUpdate, what));
    }
}

/// `role r gains SELECT on VIEW public.v`.
fn change_text(
    grantee: &Grantee,
    action: Action,
    owner: Option<&String>,
    privs: &[String],
    key: &str,
) -> String {
    let verb = match action {
        Action::Grant => "gains",
        Action::GrantWithOption => "gains (with the right to grant it on)",
        Action::Revoke => "loses",
        Action::RevokeOption => "loses the right to grant on",
    };
    let whom = match grantee {
        Grantee::Public => "PUBLIC (every role)".to_owned(),
        Grantee::Owner => format!("the owner ({})", who(owner)),
        Grantee::Role(r) => format!("role {r}"),
    };
    format!("{whom} {verb} {} on {key}", privs.join(", "))
}

/// An owner change folds the new owner's own grants into its owner's rights (a grant
/// option it held stays on the owner's entry), and what the new owner granted becomes
/// the owner's grant: Postgres rewrites the ACL so.
fn fold_new_owner(before: &mut AclDelta, o: &String, key: &str) {
    let mut held = Vec::new();
    before.granted = std::mem::take(&mut before.granted)
        .into_iter()
        .filter_map(|mut i| {
            if i.grantor.as_ref() == Some(o) {
                i.grantor = None;
            }
            if i.grantee != Grantee::Role(o.clone()) {
                return Some(i);
            }
            let owners = AclItem {
                grantee: Grantee::Owner,
                grantor: None,
                ..i
            };
            // A column's ACL has no owner's entry by default: the new owner's column
            // grant stays an entry of its own, now the owner's.
            if key.starts_with("COLUMN ") {
                return Some(owners);
            }
            // A grant option it held stays, as the catalog reads such an entry: the
            // default's item without the option revoked, the item with it granted.
            if owners.grantable {
                held.push(AclItem {
                    grantable: false,
                    ..owners.clone()
                });
            }
            owners.grantable.then_some(owners)
        })
        .collect();
    before.revoked.extend(held);
}

/// Which statements of a key's privileges a pass over the keys makes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    All,
    /// A column's REVOKEs run as their grantor: before the tables' privileges.
    GrantorRevokes,
    /// The rest of a column's: after the tables'.
    AllButGrantorRevokes,
}

fn default_privileges(x: &mut Cx<'_>) {
    let empty = AclDelta::default();
    let (a, b) = (x.a, x.b);
    let keys: BTreeSet<&String> = a
        .default_privileges
        .keys()
        .chain(b.default_privileges.keys())
        .collect();
    for key in keys {
        let Some((scope, objects)) = key.rsplit_once('|') else {
            continue;
        };
        let schema_goes = scope
            .split_once("IN SCHEMA ")
            .is_some_and(|(_, s)| !x.b.schemas.contains(s.trim()));
        if schema_goes {
            // Its default privileges go with it.
            continue;
        }
        let before = x.a.default_privileges.get(key).unwrap_or(&empty);
        let after = x.b.default_privileges.get(key).unwrap_or(&empty);
        let role = scope
            .strip_prefix("FOR ROLE ")
            .map(|r| r.split(" IN SCHEMA ").next().unwrap_or(r).trim().to_owned());
        let (grant, revoke) = changes(before, after);
        for ((_, grantee, action), privs) in actions(grant, revoke) {
            let to = grantee_sql(&grantee, role.as_ref());
            let list = privs.join(", ");
            let head = if scope.is_empty() {
                "ALTER DEFAULT PRIVILEGES".to_owned()
            } else {
                format!("ALTER DEFAULT PRIVILEGES {scope}")
            };
            let sql = match action {
                Action::Grant => format!("{head} GRANT {list} ON {objects} TO {to}"),
                Action::GrantWithOption => {
                    format!("{head} GRANT {list} ON {objects} TO {to} WITH GRANT OPTION")
                }
                Action::Revoke => format!("{head} REVOKE {list} ON {objects} FROM {to}"),
                Action::RevokeOption => {
                    format!("{head} REVOKE GRANT OPTION FOR {list} ON {objects} FROM {to}")
                }
            };
            let creator = role
                .as_ref()
                .map(|r| format!("role {r}"))
                .unwrap_or_else(|| "the role running the migration".into());
            let gains = matches!(action, Action::Grant | Action::GrantWithOption);
            let mut s = Stmt::new(Phase::SecurityAndTriggers, sql).hazard(
                HazardKind::AuthzUpdate,
                format!(
                    "{to} {} {list} on {} created from now on by {creator}",
                    if gains { "gains" } else { "loses" },
                    objects.to_lowercase(),
                ),
            );
            if let Grantee::Role(r) = &grantee {
                if let Some(m) = missing_role(x, r) {
                    s = s.hazard(HazardKind::Correctness, m);
                }
            }
            x.push(s);
        }
    }
}

/// `m` with every owner the default one and the default privileges of `role` written as
/// the default role's: how the drift check compares main with a local test copy that was
/// handed to a role of its own (main's owners are not in the copy).
pub fn without_owners(m: &Model, role: &str) -> Model {
    let mut out = m.clone();
    out.owners.clear();
    // The catalog fingerprint's owners too; the copy's own role is not main's, and default
    // privileges of the reading role are that role's defaults (as below).
    if let Some(catalog) = out.catalog.take() {
        let owner = crate::schema::catalog::Aspect::Owner as usize;
        let ours = format!("{role} IN ");
        let fixed = catalog
            .into_iter()
            .map(|(mut id, mut aspects)| {
                aspects[owner] = None;
                if id.kind == "default privileges" {
                    if let Some(rest) = id.name.strip_prefix(&ours) {
                        id.name = format!("= IN {rest}").into();
                    }
                }
                (id, aspects)
            })
            // A row of neon-migrate's own objects that only said "not owned by the reading
            // role" says nothing once owners are left out.
            .filter(|(id, aspects)| {
                id.kind != crate::schema::catalog::OWN_OBJECT || aspects.iter().any(Option::is_some)
            })
            .collect();
        out.catalog = Some(fixed);
    }
    let prefix = format!("FOR ROLE {role}");
    out.default_privileges = m
        .default_privileges
        .iter()
        .map(|(k, v)| {
            let k = match k.strip_prefix(&prefix) {
                Some(rest) if rest.starts_with(' ') || rest.starts_with('|') => {
                    rest.trim_start().to_owned()
                }
                _ => k.clone(),
            };
            (k, v.clone())
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(g: Grantee, p: &str, grantable: bool) -> AclItem {
        AclItem {
            grantee: g,
            privilege: p.into(),
            grantable,
            grantor: None,
        }
    }

    #[test]
    fn grant_option_changes_are_one_statement() {
        let r = Grantee::Role("r".into());
        let a = AclDelta {
            granted: [item(r.clone(), "SELECT", false)].into(),
            revoked: BTreeSet::new(),
        };
        let b = AclDelta {
            granted: [item(r.clone(), "SELECT", true)].into(),
            revoked: BTreeSet::new(),
        };
        let (g, rv) = changes(&a, &b);
        let up = actions(g, rv);
        assert_eq!(up.len(), 1, "{up:?}");
        assert!(up.contains_key(&(None, r.clone(), Action::GrantWithOption)));
        let (g, rv) = changes(&b, &a);
        let down = actions(g, rv);
        assert_eq!(down.len(), 1, "{down:?}");
        assert!(down.contains_key(&(None, r, Action::RevokeOption)));
    }

    #[test]
    fn revoking_a_default_privilege_and_giving_it_back() {
        let public_exec = item(Grantee::Public, "EXECUTE", false);
        let revoked = AclDelta {
            granted: BTreeSet::new(),
            revoked: [public_exec.clone()].into(),
        };
        let (g, r) = changes(&AclDelta::default(), &revoked);
        assert!(g.is_empty() && r.contains(&public_exec));
        let (g, r) = changes(&revoked, &AclDelta::default());
        assert!(r.is_empty() && g.contains(&public_exec));
    }

    #[test]
    fn keys_split_and_render() {
        assert_eq!(
            split_key("MATERIALIZED VIEW public.m"),
            Some(("MATERIALIZED VIEW", "public.m"))
        );
        assert_eq!(
            on("COLUMN public.t.b", &["SELECT".into(), "UPDATE".into()]).unwrap(),
            "SELECT (b), UPDATE (b) ON TABLE public.t"
        );
        assert_eq!(
            on("FUNCTION public.f(integer)", &["EXECUTE".into()]).unwrap(),
            "EXECUTE ON FUNCTION public.f(integer)"
        );
    }

    #[test]
    fn a_grantee_missing_on_the_target_server_is_a_correctness_hazard() {
        let mut a = Model::default();
        a.schemas.insert("app".into());
        a.roles = ["postgres".to_owned(), "reader".to_owned()].into();
        let mut b = a.clone();
        let grant = |r: &str| AclDelta {
            granted: [item(Grantee::Role(r.into()), "USAGE", false)].into(),
            revoked: BTreeSet::new(),
        };
        b.privileges.insert("SCHEMA app".into(), grant("ghost"));
        let plan = super::super::plan(&a, &b, &Default::default());
        let s = &plan.statements[0];
        assert_eq!(s.sql, "GRANT USAGE ON SCHEMA app TO ghost;");
        let kinds: Vec<HazardKind> = s.hazards.iter().map(|h| h.kind).collect();
        assert_eq!(kinds, [HazardKind::AuthzUpdate, HazardKind::Correctness]);
        assert!(s.hazards[1].message.contains("role ghost does not exist"));
        // A role the server has: no such hazard.
        b.privileges.insert("SCHEMA app".into(), grant("reader"));
        let plan = super::super::plan(&a, &b, &Default::default());
        assert_eq!(plan.statements[0].hazards.len(), 1, "{plan:?}");
    }
}

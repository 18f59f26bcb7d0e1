//! Privileges a role other than the object's owner granted (it holds them WITH GRANT OPTION
//! and passed them on): only that role's REVOKE takes them back — the owner's, or a
//! superuser's (which acts as the owner), leaves them in place and succeeds — and a GRANT
//! records its grantor. Such statements run as the grantor (`SET ROLE`), in an order where
//! a grantor still holds its grant option: revokes of what a role passed on before the
//! revoke of its own grant option, grants of a grant option before what is passed on.

use std::collections::BTreeMap;

use super::super::model::{AclDelta, AclItem, Grantee, Model};
use super::privileges::{Action, ActionKey};

/// The actions in the order they run: revokes (what was passed on first), then grants (a
/// grant option before what is passed on with it).
pub(super) fn ordered(actions: BTreeMap<ActionKey, Vec<String>>) -> Vec<(ActionKey, Vec<String>)> {
    let (mut revokes, mut grants): (Vec<_>, Vec<_>) = actions
        .into_iter()
        .partition(|((_, _, a), _)| matches!(a, Action::Revoke | Action::RevokeOption));
    let mut out = Vec::new();
    // A revoke from role g waits while g's own grants are still to be revoked.
    while !revokes.is_empty() {
        let i = (0..revokes.len())
            .find(|&i| {
                let g = role(&revokes[i].0 .1);
                !revokes
                    .iter()
                    .any(|((by, _, _), _)| g.is_some() && by.as_deref() == g)
            })
            .unwrap_or(0);
        out.push(revokes.remove(i));
    }
    // A grant by role g waits while grants to g are still to be made.
    while !grants.is_empty() {
        let i = (0..grants.len())
            .find(|&i| {
                let by = grants[i].0 .0.as_deref();
                by.is_none() || !grants.iter().any(|((_, to, _), _)| role(to) == by)
            })
            .unwrap_or(0);
        out.push(grants.remove(i));
    }
    out
}

fn role(g: &Grantee) -> Option<&str> {
    match g {
        Grantee::Role(r) => Some(r),
        _ => None,
    }
}

/// Why a revoke of a grant option cannot be planned: privileges the role passed on that
/// the desired schema keeps (Postgres refuses with "dependent privileges exist", and
/// CASCADE would take them away), when the role keeps no other grant option for them.
pub(super) fn kept_dependents(
    key: &str,
    before: &AclDelta,
    after: &AclDelta,
    (by, to, action): &ActionKey,
    privs: &[String],
) -> Option<String> {
    let g = role(to)?;
    if !matches!(action, Action::Revoke | Action::RevokeOption) {
        return None;
    }
    let kept = |i: &&AclItem| after.granted.contains(*i);
    let mut lost = Vec::new();
    for p in privs {
        let had_option = before
            .granted
            .iter()
            .any(|i| i.grantee == *to && i.privilege == *p && i.grantable && i.grantor == *by);
        let other_source = before
            .granted
            .iter()
            .filter(kept)
            .any(|i| i.grantee == *to && i.privilege == *p && i.grantable && i.grantor != *by);
        if !had_option || other_source {
            continue;
        }
        lost.extend(
            before
                .granted
                .iter()
                .filter(kept)
                .filter(|i| i.privilege == *p && i.grantor.as_deref() == Some(g))
                .map(|i| format!("{} to {}", i.privilege, grantee_name(&i.grantee))),
        );
    }
    if lost.is_empty() {
        return None;
    }
    Some(format!(
        "{key}: role {g} loses the grant option for {} ({}), yet the desired schema keeps what {g} granted with it: {}. Postgres refuses the revoke (dependent privileges exist) and CASCADE would take those away; the schema engine does not re-grant them under another grantor: write this change by hand",
        privs.join(", "),
        by.as_deref()
            .map(|r| format!("granted by role {r}"))
            .unwrap_or_else(|| "granted by the owner".into()),
        lost.join(", ")
    ))
}

fn grantee_name(g: &Grantee) -> String {
    match g {
        Grantee::Public => "PUBLIC".into(),
        Grantee::Owner => "the owner".into(),
        Grantee::Role(r) => format!("role {r}"),
    }
}

/// `sql` run as `grantor` (none: as the role running the migration, which acts as the
/// owner when it is the owner or a superuser).
pub(super) fn as_grantor(sql: String, grantor: Option<&String>) -> String {
    match grantor {
        None => sql,
        Some(g) => format!("SET ROLE {g};\n{sql};\nRESET ROLE"),
    }
}

/// `sql` run as `grantor` ([`as_grantor`]) on an object of `schema`. A grantor names the
/// object, which takes the schema's `USAGE`: when neither side gives it that (to it or to
/// PUBLIC, or as the schema's owner), the statement failed with "permission denied for
/// schema" — it is given `USAGE` for the statement and has it taken back after. Also
/// returns the hazard's note on that (empty when not needed).
pub(super) fn as_grantor_in_schema(
    (a, b): (&Model, &Model),
    schema: Option<&str>,
    sql: String,
    grantor: Option<&String>,
) -> (String, String) {
    let (Some(g), Some(s)) = (grantor, schema) else {
        return (as_grantor(sql, grantor), String::new());
    };
    if uses(a, s, g) || uses(b, s, g) {
        return (as_grantor(sql, grantor), String::new());
    }
    (
        format!(
            "GRANT USAGE ON SCHEMA {s} TO {g};\n{};\nREVOKE USAGE ON SCHEMA {s} FROM {g}",
            as_grantor(sql, grantor)
        ),
        format!(
            " (role {g} has no USAGE on schema {s}: given it for this statement and taken back after)"
        ),
    )
}

/// Whether role `g` may use schema `s` in `m`: `USAGE` granted to it or to PUBLIC, or as
/// the schema's owner. (A membership giving it is not seen: then the USAGE given for a
/// statement is only redundant.)
fn uses(m: &Model, s: &str, g: &str) -> bool {
    let key = format!("SCHEMA {s}");
    let usage = |i: &AclItem| {
        i.privilege == "USAGE"
            && (i.grantee == Grantee::Public || matches!(&i.grantee, Grantee::Role(r) if r == g))
    };
    m.owners.get(&key).is_some_and(|o| o == g)
        || m.privileges
            .get(&key)
            .is_some_and(|d| d.granted.iter().any(usage))
}

/// The schema of an object's qualified name (`s.t`, `s.t.c`, `s.f(integer)`): its part
/// before the first `.` outside double quotes.
pub(super) fn schema_of(name: &str) -> Option<&str> {
    let mut quoted = false;
    for (i, c) in name.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => return Some(&name[..i]),
            _ => {}
        }
    }
    None
}

/// The hazard's note on who runs a statement of `grantor`'s.
pub(super) fn runs_as(grantor: Option<&String>) -> String {
    match grantor {
        None => String::new(),
        Some(g) => format!(
            " as granted by role {g}: runs as {g} (SET ROLE {g}), the only role whose REVOKE takes its grant back — the role running the migration must be a superuser or a member of {g}"
        ),
    }
}

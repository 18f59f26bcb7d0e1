//! After `apply`: main's own database privileges and every object's owner, read just before
//! the apply and again after it, held to the change the test copy saw.
//!
//! A local test copy does not start as main is in these two respects: it is created without
//! `PUBLIC`'s default `CONNECT` and `TEMPORARY` on the database, and a role of its own owns
//! every object in it. So `REVOKE CONNECT ON DATABASE … FROM PUBLIC` or `ALTER TABLE … OWNER
//! TO CURRENT_USER` changes nothing on the copy — every check passes — while on main it locks
//! the application out or takes its tables from it; comparing main's state after the apply
//! with the copy's cannot see that (both lack the grant now). What is compared here is the
//! change: where main's database privileges or an object's owner changed, the copy must have
//! made the same change (the same grants added and taken, the same new owner).

use std::collections::BTreeSet;

use crate::schema::catalog::{Aspect, Catalog, DATABASE};
use crate::schema::Model;

/// The items of a database's ACL when the catalog reads it as the default (NULL):
/// `acldefault('d', owner)`, `PUBLIC`'s implicit grants made explicit.
const DEFAULT_DATABASE_ACL: &[&str] = &[
    "PUBLIC:CONNECT",
    "PUBLIC:TEMPORARY",
    "owner:CONNECT",
    "owner:CREATE",
    "owner:TEMPORARY",
];

/// What changed on main (`main_before` → `main_after`) in its database privileges and in
/// owners that the test copy (`copy_before` → `copy_after`) did not change the same way, one
/// line each; `Err` when a model has no catalog to compare.
pub(super) fn unproven(
    main_before: &Model,
    main_after: &Model,
    copy_before: &Model,
    copy_after: &Model,
) -> Result<Vec<String>, &'static str> {
    let (Some(mb), Some(ma), Some(cb), Some(ca)) = (
        main_before.catalog.as_ref(),
        main_after.catalog.as_ref(),
        copy_before.catalog.as_ref(),
        copy_after.catalog.as_ref(),
    ) else {
        return Err("a schema was read without its catalog fingerprint");
    };
    let mut out = database_privileges(mb, ma, cb, ca);
    out.extend(owners(mb, ma, cb, ca));
    Ok(out)
}

/// The database's ACL in `c` as a set of `grantee:PRIVILEGE[*][/grantor]` items (the owner
/// reads `owner`), the default made explicit; `None` when `c` has no row of the database.
fn database_acl(c: &Catalog) -> Option<BTreeSet<String>> {
    let (_, aspects) = c.iter().find(|(id, _)| id.kind == DATABASE)?;
    Some(match aspects[Aspect::Privileges as usize].as_deref() {
        None => DEFAULT_DATABASE_ACL
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        Some("{}") | Some("") => BTreeSet::new(),
        Some(s) => s.split(',').map(str::to_owned).collect(),
    })
}

/// Items added and taken from `before` to `after`.
fn delta(before: &BTreeSet<String>, after: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    (
        after.difference(before).cloned().collect(),
        before.difference(after).cloned().collect(),
    )
}

fn database_privileges(mb: &Catalog, ma: &Catalog, cb: &Catalog, ca: &Catalog) -> Vec<String> {
    let (Some(mb), Some(ma)) = (database_acl(mb), database_acl(ma)) else {
        return Vec::new();
    };
    if mb == ma {
        return Vec::new();
    }
    let main = delta(&mb, &ma);
    let copy = match (database_acl(cb), database_acl(ca)) {
        (Some(b), Some(a)) => delta(&b, &a),
        _ => (Vec::new(), Vec::new()),
    };
    if main == copy {
        return Vec::new();
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "nothing".to_owned()
        } else {
            v.join(", ")
        }
    };
    vec![format!(
        "privileges on this database changed on main in a way the test copy did not show (the copy does not start with main's database privileges): main granted {} and lost {}; the copy granted {} and lost {}",
        list(&main.0),
        list(&main.1),
        list(&copy.0),
        list(&copy.1)
    )]
}

fn owners(mb: &Catalog, ma: &Catalog, cb: &Catalog, ca: &Catalog) -> Vec<String> {
    let owner = Aspect::Owner as usize;
    let spell = |o: &str| {
        if o == "=" {
            "the role that applied".to_owned()
        } else {
            o.to_owned()
        }
    };
    let mut out = Vec::new();
    for (id, before) in mb {
        let Some(after) = ma.get(id) else { continue };
        let (Some(b), Some(a)) = (before[owner].as_deref(), after[owner].as_deref()) else {
            continue;
        };
        if a == b {
            continue;
        }
        let on_copy = (
            cb.get(id).and_then(|x| x[owner].as_deref()),
            ca.get(id).and_then(|x| x[owner].as_deref()),
        );
        if matches!(on_copy, (Some(cb), Some(ca)) if cb != ca && ca == a) {
            continue;
        }
        out.push(format!(
            "the owner of {id} changed on main from {} to {}, which the test copy did not show (a local test copy's objects are owned by a role of its own)",
            spell(b),
            spell(a)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::catalog::{kind, ObjectId};

    fn catalog(db_acl: Option<&str>, docs_owner: &str) -> Model {
        let mut c = Catalog::new();
        let id = |k: &str, n: &str| ObjectId {
            kind: kind(k),
            parent: "".into(),
            name: n.into(),
        };
        c.insert(
            id(DATABASE, "(this database)"),
            [None, db_acl.map(Box::from), Some("=".into()), None],
        );
        c.insert(
            id("table", "public.docs"),
            [None, None, Some(docs_owner.into()), None],
        );
        Model {
            catalog: Some(c),
            ..Model::default()
        }
    }

    #[test]
    fn a_change_the_copy_made_the_same_way_passes_and_one_it_did_not_fails() {
        let copy_acl = Some("owner:CONNECT,owner:CREATE,owner:TEMPORARY");
        // The same GRANT on both, the same new owner on both: nothing to say.
        let granted =
            "PUBLIC:CONNECT,PUBLIC:TEMPORARY,app:CREATE,owner:CONNECT,owner:CREATE,owner:TEMPORARY";
        let copy_granted = "app:CREATE,owner:CONNECT,owner:CREATE,owner:TEMPORARY";
        let lines = unproven(
            &catalog(None, "app_owner"),
            &catalog(Some(granted), "app2"),
            &catalog(copy_acl, "="),
            &catalog(Some(copy_granted), "app2"),
        )
        .unwrap();
        assert!(lines.is_empty(), "{lines:?}");
        // REVOKE CONNECT … FROM PUBLIC and OWNER TO CURRENT_USER: no-ops on the copy.
        let revoked = "PUBLIC:TEMPORARY,owner:CONNECT,owner:CREATE,owner:TEMPORARY";
        let lines = unproven(
            &catalog(None, "app_owner"),
            &catalog(Some(revoked), "="),
            &catalog(copy_acl, "="),
            &catalog(copy_acl, "="),
        )
        .unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("lost PUBLIC:CONNECT"), "{lines:?}");
        assert!(
            lines[1].contains(
                "table public.docs changed on main from app_owner to the role that applied"
            ),
            "{lines:?}"
        );
    }
}

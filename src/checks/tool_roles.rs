//! Objects a migration left owned by, or granted to, one of neon-migrate's own roles (F23).
//!
//! On the `local` provider every test copy's login role (`neon_migrate_copy_*`) is a member
//! of the group [`GROUP`] and of a group role named like its database, so a migration can
//! `SET ROLE neon_migrate_test_copies` and create objects that role owns, or grant it (or
//! another copy's role) privileges. None of these roles exists on production: `apply` would
//! fail there or leave another owner — the schema the test proved is not the one production
//! gets. neon-migrate's own roles must never own or be granted anything a migration made, so
//! each such owner, grantee or grantor fails the `schema` check, naming the object and the
//! role. The objects the session's own role owns read `=` in the fingerprint, never a name.

use tokio_postgres::Client;

use super::{Finding, Severity};
use crate::providers::local::role::GROUP;
use crate::schema::catalog::{Aspect, Catalog};
use crate::schema::Model;

/// Every login role neon-migrate hands a test copy begins so (`role::login_role`).
const LOGIN_PREFIX: &str = "neon_migrate_copy_";

/// Members of [`GROUP`] (each copy's group role named like its database, and login roles),
/// as `regrole::text` spells them (quoted where needed), as the fingerprint does.
const MEMBERS: &str = "SELECT r.oid::regrole::text FROM pg_auth_members m \
    JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1";

/// The tool's roles on this server: [`GROUP`], its members (best effort: without a
/// connection, the names neon-migrate gives).
pub async fn read(client: Option<&Client>) -> Vec<String> {
    let mut roles = vec![GROUP.to_owned()];
    if let Some(c) = client {
        if let Ok(rows) = c.query(MEMBERS, &[&GROUP]).await {
            roles.extend(rows.iter().map(|r| r.get::<_, String>(0)));
        }
    }
    roles
}

fn is_tool_role(name: &str, roles: &[String]) -> bool {
    name.starts_with(LOGIN_PREFIX)
        || name.starts_with(&format!("\"{LOGIN_PREFIX}"))
        || roles.iter().any(|r| r == name)
}

/// The tool roles an aspect names: the owner, or the grantees and grantors of an ACL
/// (`grantee:privilege[*]/grantor` items, comma-separated).
fn named(aspect: Aspect, value: &str, roles: &[String]) -> Vec<String> {
    match aspect {
        Aspect::Owner => is_tool_role(value, roles)
            .then(|| value.to_owned())
            .into_iter()
            .collect(),
        Aspect::Privileges => {
            let mut out: Vec<String> = Vec::new();
            for item in value.split(',') {
                let grantee = item.split(':').next().unwrap_or("");
                let grantor = item.rsplit_once('/').map(|(_, g)| g).unwrap_or("");
                for r in [grantee, grantor] {
                    if !r.is_empty() && is_tool_role(r, roles) && !out.iter().any(|o| o == r) {
                        out.push(r.to_owned());
                    }
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// One error per object of `after` whose owner, grantees or default privileges name a tool
/// role where `before` did not.
pub fn findings(before: &Model, after: &Model, roles: &[String], check: &str) -> Vec<Finding> {
    let (Some(cb), ca) = (&after.catalog, before.catalog.as_ref()) else {
        return Vec::new();
    };
    let empty = Catalog::new();
    let ca = ca.unwrap_or(&empty);
    let mut out = Vec::new();
    for (id, aspects) in cb {
        let old = ca.get(id);
        let mut what: Vec<String> = Vec::new();
        for aspect in [Aspect::Owner, Aspect::Privileges] {
            let value = aspects[aspect as usize].as_deref().unwrap_or("");
            let was = old
                .and_then(|o| o[aspect as usize].as_deref())
                .unwrap_or("");
            let had = named(aspect, was, roles);
            for r in named(aspect, value, roles) {
                if !had.contains(&r) {
                    let how = match aspect {
                        Aspect::Owner => "owned by",
                        _ => "with privileges granted to (or by)",
                    };
                    what.push(format!("{how} {r}"));
                }
            }
        }
        // `ALTER DEFAULT PRIVILEGES FOR ROLE <tool role>`: named `<role> IN <schema> ON <kind>`.
        if id.kind == "default privileges" && old.is_none() {
            if let Some((r, _)) = id.name.split_once(" IN ") {
                if is_tool_role(r, roles) {
                    what.push(format!("default privileges of {r}"));
                }
            }
        }
        if what.is_empty() {
            continue;
        }
        out.push(
            Finding::new(
                check,
                Severity::Error,
                format!("{id}: {}, neon-migrate's own role", what.join(", ")),
                "the migration gave one of neon-migrate's own roles (the test copies' roles, e.g. after `SET ROLE neon_migrate_test_copies`) an object or privileges; that role does not exist on production, so apply fails there or leaves another owner than the test proved",
            )
            .fix("do not SET ROLE to, ALTER … OWNER TO or GRANT to neon-migrate's roles in a migration: create objects as the migration's own role, and grant to roles that exist on production"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::catalog::{kind, ObjectId};

    fn model(rows: &[(&str, &str, Option<&str>, Option<&str>)]) -> Model {
        let mut m = Model::default();
        let c: Catalog = rows
            .iter()
            .map(|(k, n, acl, owner)| {
                (
                    ObjectId {
                        kind: kind(k),
                        parent: "".into(),
                        name: (*n).into(),
                    },
                    [
                        Some("d".into()),
                        acl.map(Into::into),
                        owner.map(Into::into),
                        None,
                    ],
                )
            })
            .collect();
        m.catalog = Some(c);
        m
    }

    #[test]
    fn objects_owned_by_or_granted_to_a_tool_role_are_errors() {
        let roles = vec![GROUP.to_owned(), "\"migrate/x\"".to_owned()];
        let before = model(&[("table", "public.kept", None, Some("="))]);
        let after = model(&[
            ("table", "public.kept", None, Some("=")),
            ("table", "public.t", None, Some(GROUP)),
            (
                "view",
                "public.v",
                Some("neon_migrate_copy_ab12:SELECT,owner:SELECT"),
                Some("="),
            ),
            (
                "sequence",
                "public.s",
                Some("\"migrate/x\":USAGE/="),
                Some("="),
            ),
            ("table", "public.ok", Some("app:SELECT"), Some("app_owner")),
            (
                "default privileges",
                "neon_migrate_test_copies IN public ON r",
                None,
                None,
            ),
        ]);
        let f = findings(&before, &after, &roles, "schema");
        let text: Vec<&str> = f.iter().map(|f| f.what.as_str()).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(text
            .iter()
            .any(|t| t.contains("public.t") && t.contains("owned by neon_migrate_test_copies")));
        assert!(text
            .iter()
            .any(|t| t.contains("public.v") && t.contains("neon_migrate_copy_ab12")));
        assert!(text
            .iter()
            .any(|t| t.contains("public.s") && t.contains("\"migrate/x\"")));
        assert!(text
            .iter()
            .any(|t| t.contains("default privileges of neon_migrate_test_copies")));
        assert!(f.iter().all(|f| f.severity == Severity::Error));
        // Already so before the migration: not this migration's.
        assert!(findings(&after, &after, &roles, "schema").is_empty());
    }
}

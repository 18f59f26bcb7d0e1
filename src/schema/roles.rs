//! Roles as the schema check compares them before and after a migration: roles are
//! cluster-wide (on Neon, a Neon database branch's own), the schema engine never plans them,
//! and a migration that creates a superuser, grants a membership or sets BYPASSRLS changes
//! who can do what as surely as a GRANT on a table. What differs is named; the caller
//! decides how loud. neon-migrate's own test copy roles are not read (see
//! `introspect::authz::ROLES`).

use super::model::Model;

/// One difference between the roles of two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// Gives or takes a power: a new role with powers (SUPERUSER, CREATEROLE, CREATEDB,
    /// REPLICATION, BYPASSRLS) or memberships, changed attributes or memberships of a role.
    /// A new role with no more than LOGIN, or a dropped role, gives nobody anything new:
    /// not serious (on a shared local server another run may have made or dropped it).
    pub serious: bool,
    pub message: String,
}

/// Attributes that give a role powers beyond its grants.
const POWERS: [&str; 5] = [
    "SUPERUSER",
    "CREATEROLE",
    "CREATEDB",
    "REPLICATION",
    "BYPASSRLS",
];

fn split(detail: &str) -> (&str, &str) {
    detail.split_once('|').unwrap_or((detail, ""))
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}

/// What differs between the roles of `before` and `after` (empty when either read none).
pub fn changes(before: &Model, after: &Model) -> Vec<RoleChange> {
    let (a, b) = (&before.role_details, &after.role_details);
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, detail) in b {
        let (attrs, member_of) = split(detail);
        match a.get(name) {
            None => {
                let powers = attrs.split(' ').any(|w| POWERS.contains(&w));
                out.push(RoleChange {
                    serious: powers || !member_of.is_empty(),
                    message: format!(
                        "role {name} created (attributes: {}; member of: {})",
                        or_none(attrs),
                        or_none(member_of)
                    ),
                });
            }
            Some(old) if old != detail => {
                let (old_attrs, old_member_of) = split(old);
                let mut parts = Vec::new();
                if old_attrs != attrs {
                    parts.push(format!(
                        "attributes {} → {}",
                        or_none(old_attrs),
                        or_none(attrs)
                    ));
                }
                if old_member_of != member_of {
                    parts.push(format!(
                        "member of {} → {}",
                        or_none(old_member_of),
                        or_none(member_of)
                    ));
                }
                out.push(RoleChange {
                    serious: true,
                    message: format!("role {name} changed: {}", parts.join("; ")),
                });
            }
            Some(_) => {}
        }
    }
    for name in a.keys().filter(|n| !b.contains_key(*n)) {
        out.push(RoleChange {
            serious: false,
            message: format!("role {name} dropped"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(roles: &[(&str, &str)]) -> Model {
        Model {
            role_details: roles
                .iter()
                .map(|(n, d)| (n.to_string(), d.to_string()))
                .collect(),
            ..Model::default()
        }
    }

    #[test]
    fn memberships_attributes_and_new_roles_are_named() {
        let a = model(&[("postgres", "SUPERUSER LOGIN|"), ("r1", "|"), ("r3", "|")]);
        let b = model(&[
            ("postgres", "SUPERUSER LOGIN|"),
            ("r1", "|r2"),
            ("r3", "BYPASSRLS|"),
            ("sneaky", "SUPERUSER|"),
            ("plain", "|"),
            ("app", "LOGIN|"),
        ]);
        let c = changes(&a, &b);
        let text: Vec<(bool, &str)> = c.iter().map(|c| (c.serious, c.message.as_str())).collect();
        assert_eq!(
            text,
            [
                (
                    false,
                    "role app created (attributes: LOGIN; member of: none)"
                ),
                (
                    false,
                    "role plain created (attributes: none; member of: none)"
                ),
                (true, "role r1 changed: member of none → r2"),
                (true, "role r3 changed: attributes none → BYPASSRLS"),
                (
                    true,
                    "role sneaky created (attributes: SUPERUSER; member of: none)"
                ),
            ]
        );
        let dropped: Vec<RoleChange> = changes(&b, &a)
            .into_iter()
            .filter(|c| c.message.ends_with("dropped"))
            .collect();
        assert!(dropped.len() == 3 && dropped.iter().all(|c| !c.serious));
        assert!(changes(&a, &a).is_empty());
        assert!(changes(&Model::default(), &b).is_empty());
    }
}

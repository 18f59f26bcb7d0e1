//! Owners and privileges of tables: `ALTER … OWNER TO`, `GRANT` and `REVOKE`, each an
//! authorization change. Privileges are modelled as their difference from the owner's
//! defaults (see [`Table::privileges`]), so a new table starts from none.

use std::collections::BTreeSet;

use super::super::model::Table;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, t) in &b.tables {
        let old = a.tables.get(k);
        // A new table is owned by the role that runs the plan.
        let owner_before = old.map_or(a.current_user.as_str(), |o| o.owner.as_str());
        if t.owner != owner_before {
            x.push(
                Stmt::new(Phase::Owners, format!("ALTER TABLE {k} OWNER TO {}", t.owner)).hazard(
                    HazardKind::AuthzUpdate,
                    format!(
                        "the owner of table {k} changes to {}: who may alter, drop and grant on it changes",
                        t.owner
                    ),
                ),
            );
        }
        privileges(x, k, old, owner_before, t);
    }
}

fn privileges(x: &mut Cx<'_>, k: &str, old: Option<&Table>, owner_before: &str, t: &Table) {
    // Postgres hands the old owner's privileges to the new owner.
    let before: BTreeSet<String> = old
        .map(|o| o.privileges.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| with_owner(p, owner_before, &t.owner))
        .collect();
    let after: BTreeSet<String> = t.privileges.iter().cloned().collect();
    for p in before.difference(&after) {
        let (lost, who, what, _) = parse(p);
        x.push(if lost {
            grant(k, who, what, false)
        } else {
            revoke(k, who, what)
        });
    }
    for p in after.difference(&before) {
        let (lost, who, what, option) = parse(p);
        x.push(if lost {
            revoke(k, who, what)
        } else {
            grant(k, who, what, option)
        });
    }
}

/// `p` with the grantee `from` renamed to `to`.
fn with_owner(p: &str, from: &str, to: &str) -> String {
    let (lost, who, what, option) = parse(p);
    if who != from || from == to {
        return p.to_owned();
    }
    let option = if option { " WITH GRANT OPTION" } else { "" };
    format!("{}{to} {what}{option}", if lost { "-" } else { "" })
}

/// (an owner's privilege lost, grantee, privilege, with grant option).
fn parse(p: &str) -> (bool, &str, &str, bool) {
    let (p, option) = match p.strip_suffix(" WITH GRANT OPTION") {
        Some(p) => (p, true),
        None => (p, false),
    };
    let (p, lost) = match p.strip_prefix('-') {
        Some(p) => (p, true),
        None => (p, false),
    };
    let (who, what) = p.rsplit_once(' ').unwrap_or(("PUBLIC", p));
    (lost, who, what, option)
}

fn grant(k: &str, who: &str, what: &str, option: bool) -> Stmt {
    let with = if option { " WITH GRANT OPTION" } else { "" };
    Stmt::new(
        Phase::Privileges,
        format!("GRANT {what} ON TABLE {k} TO {who}{with}"),
    )
    .hazard(
        HazardKind::AuthzUpdate,
        format!("{who} is granted {what} on table {k}"),
    )
}

fn revoke(k: &str, who: &str, what: &str) -> Stmt {
    Stmt::new(
        Phase::Privileges,
        format!("REVOKE {what} ON TABLE {k} FROM {who}"),
    )
    .hazard(
        HazardKind::AuthzUpdate,
        format!("{who} loses {what} on table {k}: what it runs there starts failing"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_parse_with_quoted_grantees_and_options() {
        assert_eq!(
            parse(r#""my role" SELECT WITH GRANT OPTION"#),
            (false, r#""my role""#, "SELECT", true)
        );
        assert_eq!(parse("-owner INSERT"), (true, "owner", "INSERT", false));
        assert_eq!(with_owner("-a INSERT", "a", "b"), "-b INSERT");
        assert_eq!(with_owner("c SELECT", "a", "b"), "c SELECT");
    }
}

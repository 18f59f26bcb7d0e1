//! `breaks_writes` of views the application writes through: a view that accepted INSERT,
//! UPDATE or DELETE (automatically updatable, or by an INSTEAD OF trigger or an unconditional
//! `DO INSTEAD` rule) and no longer does — re-created with DISTINCT, a join, an aggregate, …,
//! or its trigger or rule dropped — or that gains a CHECK OPTION (writes of rows it does not
//! show start failing). What a view accepts is the server's own answer on both sides
//! (`pg_relation_is_updatable`, [`View::updatable`](super::super::model::View)), never a
//! guess from the SQL text. The finding names the roles whose writes fail: those granted
//! INSERT, UPDATE or DELETE on it (or on its columns), and its owner.

use std::collections::BTreeSet;

use super::super::model::{Grantee, Model};
use super::write_hazards::mark_if;
use super::{HazardKind, Statement};

/// `pg_relation_is_updatable`'s bits, with the privilege each needs.
const COMMANDS: [(i32, &str); 3] = [(8, "INSERT"), (4, "UPDATE"), (16, "DELETE")];

pub(super) fn annotate(a: &Model, b: &Model, out: &mut [Statement]) {
    for (k, new) in &b.views {
        let Some(old) = a.views.get(k) else { continue };
        if old.materialized || new.materialized {
            continue;
        }
        let lost: Vec<&str> = COMMANDS
            .iter()
            .filter(|(bit, _)| old.updatable & bit != 0 && new.updatable & bit == 0)
            .map(|(_, c)| *c)
            .collect();
        let mut why = Vec::new();
        if !lost.is_empty() {
            why.push(format!(
                "no longer accepts {} (Postgres: it is not automatically updatable, and no INSTEAD OF trigger or DO INSTEAD rule takes them) — {}",
                lost.join(", "),
                writers(a, k, &lost)
            ));
        }
        let checked = ["INSERT", "UPDATE"]
            .into_iter()
            .filter(|c| !lost.contains(c))
            .collect::<Vec<_>>();
        if let Some(gained) = check_option_gained(&old.options, &new.options) {
            if !checked.is_empty() {
                why.push(format!(
                    "gains WITH {gained} CHECK OPTION: an {} of a row the view does not show now fails (\"new row violates check option\") — {}",
                    checked.join(" or "),
                    writers(a, k, &checked)
                ));
            }
        }
        if why.is_empty() {
            continue;
        }
        let message = format!("view {k} {}", why.join("; it also "));
        let create = format!("CREATE VIEW {k} ");
        let on = format!(" ON {k}");
        let alter = format!("ALTER VIEW {k} ");
        let specific = |sql: &str| {
            sql.starts_with(&create)
                || sql.starts_with(&alter)
                || ((sql.starts_with("DROP TRIGGER ") || sql.starts_with("DROP RULE "))
                    && sql.ends_with(&on))
        };
        if out.iter().any(|s| specific(&s.sql)) {
            mark_if(out, specific, HazardKind::BreaksWrites, &message);
        } else {
            // Never lost: any statement naming the view carries it.
            mark_if(
                out,
                |sql| sql.contains(k.as_str()),
                HazardKind::BreaksWrites,
                &message,
            );
        }
    }
}

/// `cascaded` or `local` when `new` has a check option `old` lacks, or `cascaded` where `old`
/// had `local` (it now checks the views below too).
fn check_option_gained(old: &[String], new: &[String]) -> Option<&'static str> {
    let of = |opts: &[String]| {
        opts.iter()
            .find_map(|o| o.strip_prefix("check_option="))
            .map(str::to_ascii_lowercase)
    };
    match (of(old).as_deref(), of(new).as_deref()) {
        (None, Some("local")) => Some("LOCAL"),
        (None | Some("local"), Some("cascaded")) => Some("CASCADED"),
        _ => None,
    }
}

/// Who writes through view `k` (the writes `wanted`) in `m`: the roles granted them (on the view or
/// one of its columns), and its owner.
fn writers(m: &Model, k: &str, wanted: &[&str]) -> String {
    let column = format!("COLUMN {k}.");
    let mut roles = BTreeSet::new();
    for (key, acl) in &m.privileges {
        if key != &format!("VIEW {k}") && !key.starts_with(&column) {
            continue;
        }
        for i in acl
            .granted
            .iter()
            .filter(|i| wanted.contains(&i.privilege.as_str()))
        {
            match &i.grantee {
                Grantee::Public => roles.insert("PUBLIC (every role)".to_owned()),
                Grantee::Role(r) => roles.insert(format!("role {r}")),
                Grantee::Owner => false,
            };
        }
    }
    let owner = m
        .owners
        .get(&format!("VIEW {k}"))
        .map_or_else(|| "its owner".to_owned(), |o| format!("its owner {o}"));
    if roles.is_empty() {
        format!(
            "{owner}'s writes through it fail (no other role is granted {} on it)",
            wanted.join(", ")
        )
    } else {
        format!(
            "the writes through it of {} (granted {}) and of {owner} fail",
            roles.into_iter().collect::<Vec<_>>().join(", "),
            wanted.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_options_gained() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check_option_gained(&s(&[]), &s(&["check_option=local"])),
            Some("LOCAL")
        );
        assert_eq!(
            check_option_gained(&s(&["check_option=local"]), &s(&["check_option=cascaded"])),
            Some("CASCADED")
        );
        assert_eq!(
            check_option_gained(&s(&["check_option=cascaded"]), &s(&["check_option=local"])),
            None
        );
        assert_eq!(
            check_option_gained(&s(&["security_barrier=true"]), &s(&[])),
            None
        );
    }
}

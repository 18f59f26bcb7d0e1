//! `ALTER SYSTEM` settings (`postgresql.auto.conf`, as `pg_file_settings` reads it) as the
//! schema check compares them before and after a migration, like roles ([`super::roles`]):
//! a migration run by a superuser (`tool-role = "server"`) can reconfigure the whole server
//! every database lives on, which the schema engine never plans and apply repeats on
//! production. Only names are compared in clear; values as digests, never printed (a setting
//! may hold a secret).

use std::collections::BTreeMap;

use super::model::Model;
use super::roles::RoleChange;

/// What the connecting role could see of the server's `ALTER SYSTEM` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AlterSystem {
    /// Not read: the role can neither read them nor run `ALTER SYSTEM` (a test copy's own
    /// role, Neon), or the model was not introspected.
    #[default]
    NotPossible,
    /// The role may run `ALTER SYSTEM` (a superuser, or `GRANT ALTER SYSTEM ON PARAMETER`)
    /// but cannot read `pg_file_settings`: not checked.
    Unreadable,
    /// Setting name → digest of its value, as `postgresql.auto.conf` holds them.
    Read(BTreeMap<String, String>),
}

/// What differs between the `ALTER SYSTEM` settings of `before` and `after`: each setting
/// added, removed or changed (serious), or why they were not checked (a detail).
pub fn changes(before: &Model, after: &Model) -> Vec<RoleChange> {
    use AlterSystem::*;
    let (a, b) = match (&before.alter_system, &after.alter_system) {
        (Read(a), Read(b)) => (a, b),
        (NotPossible, NotPossible) => return Vec::new(),
        _ => {
            return vec![RoleChange {
                serious: false,
                message: "NOT CHECKED: server settings changed by ALTER SYSTEM (postgresql.auto.conf): the migration's role may run ALTER SYSTEM but cannot read pg_file_settings".into(),
            }]
        }
    };
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter_map(|n| {
            let what = match (a.get(n), b.get(n)) {
                (None, Some(_)) => "set",
                (Some(_), None) => "reset",
                (Some(x), Some(y)) if x != y => "changed",
                _ => return None,
            };
            Some(RoleChange {
                serious: true,
                message: format!(
                    "server setting {n} {what} by ALTER SYSTEM (postgresql.auto.conf; value not shown)"
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(s: AlterSystem) -> Model {
        Model {
            alter_system: s,
            ..Model::default()
        }
    }

    fn read(rows: &[(&str, &str)]) -> AlterSystem {
        AlterSystem::Read(
            rows.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn settings_set_reset_and_changed_are_named_without_their_values() {
        let before = model(read(&[("work_mem", "d1"), ("log_statement", "d2")]));
        let after = model(read(&[
            ("work_mem", "d9"),
            ("log_min_duration_statement", "d3"),
        ]));
        let c = changes(&before, &after);
        let text: Vec<&str> = c.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            text,
            vec![
                "server setting log_min_duration_statement set by ALTER SYSTEM (postgresql.auto.conf; value not shown)",
                "server setting log_statement reset by ALTER SYSTEM (postgresql.auto.conf; value not shown)",
                "server setting work_mem changed by ALTER SYSTEM (postgresql.auto.conf; value not shown)",
            ]
        );
        assert!(c.iter().all(|c| c.serious));
        assert!(changes(&before, &before).is_empty());
    }

    #[test]
    fn unreadable_settings_are_not_checked_only_where_alter_system_is_possible() {
        let none = model(AlterSystem::NotPossible);
        assert!(changes(&none, &none).is_empty());
        let c = changes(
            &model(AlterSystem::Unreadable),
            &model(AlterSystem::Unreadable),
        );
        assert_eq!(c.len(), 1);
        assert!(!c[0].serious && c[0].message.starts_with("NOT CHECKED"));
    }
}

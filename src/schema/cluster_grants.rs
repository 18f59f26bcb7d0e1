//! Cluster-wide privileges and owners as the schema check compares them before and after a
//! migration, like roles ([`super::roles`]): other databases' (`GRANT … ON DATABASE`,
//! `ALTER DATABASE … OWNER TO`), tablespaces' and parameters' (`GRANT SET | ALTER SYSTEM ON
//! PARAMETER`). The schema engine never plans them, and apply runs the same migration on
//! production, where they change who can do what. A database on one side only is not
//! compared (other runs' and tests' databases come and go on a shared server).

use super::model::Model;
use super::roles::RoleChange;

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}

/// What differs between the cluster-wide privileges and owners of `before` and `after`
/// (empty when either read none).
pub fn changes(before: &Model, after: &Model) -> Vec<RoleChange> {
    let (a, b) = (&before.cluster_grants, &after.cluster_grants);
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (x, y) = (a.get(key), b.get(key));
        if x == y || (key.starts_with("database ") && (x.is_none() || y.is_none())) {
            continue;
        }
        let split = |v: Option<&String>| -> (String, String) {
            let v = v.map(String::as_str).unwrap_or("|");
            let (o, p) = v.split_once('|').unwrap_or((v, ""));
            (o.to_owned(), p.to_owned())
        };
        let ((xo, xp), (yo, yp)) = (split(x), split(y));
        if y.is_none() && key.starts_with("tablespace ") {
            out.push(RoleChange {
                serious: false,
                message: format!("{key} dropped"),
            });
            continue;
        }
        let mut parts = Vec::new();
        if xo != yo {
            parts.push(format!("owner {} → {}", or_none(&xo), or_none(&yo)));
        }
        if xp != yp {
            parts.push(format!("privileges {} → {}", or_none(&xp), or_none(&yp)));
        }
        if parts.is_empty() {
            continue;
        }
        let created = x.is_none() && key.starts_with("tablespace ");
        out.push(RoleChange {
            serious: !created || !yp.is_empty(),
            message: format!(
                "{key} {}: {}",
                if created { "created" } else { "changed" },
                parts.join("; ")
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(rows: &[(&str, &str)]) -> Model {
        Model {
            cluster_grants: rows
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Model::default()
        }
    }

    #[test]
    fn grants_and_owners_are_named_and_databases_on_one_side_skipped() {
        let a = model(&[
            ("database postgres", "postgres|"),
            ("database gone", "postgres|"),
            ("tablespace pg_default", "postgres|"),
            ("tablespace ts1", "postgres|"),
        ]);
        let b = model(&[
            ("database postgres", "postgres|+carol:CONNECT,+carol:CREATE"),
            ("database new", "alice|+bob:CONNECT"),
            ("tablespace pg_default", "postgres|"),
            ("tablespace ts1", "bob|+alice:CREATE"),
            ("tablespace ts2", "postgres|"),
            ("parameter log_statement", "|+alice:SET"),
        ]);
        let got: Vec<(bool, String)> = changes(&a, &b)
            .into_iter()
            .map(|c| (c.serious, c.message))
            .collect();
        assert_eq!(
            got,
            [
                (
                    true,
                    "database postgres changed: privileges none → +carol:CONNECT,+carol:CREATE"
                        .to_owned()
                ),
                (
                    true,
                    "parameter log_statement changed: privileges none → +alice:SET".to_owned()
                ),
                (
                    true,
                    "tablespace ts1 changed: owner postgres → bob; privileges none → +alice:CREATE"
                        .to_owned()
                ),
                (
                    false,
                    "tablespace ts2 created: owner none → postgres".to_owned()
                ),
            ]
        );
        let back: Vec<String> = changes(&b, &a).into_iter().map(|c| c.message).collect();
        assert!(
            back.contains(&"tablespace ts2 dropped".to_owned()),
            "{back:?}"
        );
        assert!(changes(&a, &a).is_empty());
        assert!(changes(&Model::default(), &b).is_empty());
    }
}

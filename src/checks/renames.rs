//! Renames seen by the `schema` check. The check compares ONE database before and after the
//! migration, so a relation keeps its OID and a column its number through `ALTER TABLE …
//! RENAME`, `RENAME COLUMN` and `SET SCHEMA`; the schema engine's models are keyed by name
//! and plan such a change as a DROP and a CREATE, whose `deletes_data` would tell a reviewer
//! the opposite of what happened. The OIDs are read here, beside the models (never in them:
//! two databases compared by `diff` share no OIDs), and a `deletes_data` finding on an object
//! that is still there under another name says so instead.

use std::collections::HashMap;

use tokio_postgres::Client;

use super::{Finding, Severity};

/// Tables, views, sequences … and their columns, by OID (and column number).
#[derive(Debug, Default, Clone)]
pub struct Names {
    relations: HashMap<u32, String>,
    columns: HashMap<(u32, i16), String>,
}

const QUERY: &str = "SELECT c.oid, a.attnum, quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p', 'm', 'f', 'v', 'S')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// The names of this database's relations and columns; `None` when they cannot be read
/// (then nothing is explained: the findings stay as the engine wrote them).
pub async fn read(client: &Client) -> Option<Names> {
    let rows = client.query(QUERY, &[]).await.ok()?;
    let mut n = Names::default();
    for r in rows {
        let oid: u32 = r.get(0);
        n.relations.insert(oid, r.get(2));
        if let (Some(num), Some(col)) = (r.get::<_, Option<i16>>(1), r.get::<_, Option<String>>(3))
        {
            n.columns.insert((oid, num), col);
        }
    }
    Some(n)
}

/// What the statement `sql` drops that is still there, renamed: `(old, new)` names.
fn renamed(sql: &str, before: &Names, after: &Names) -> Option<(String, String)> {
    let oid_of = |name: &str| {
        before
            .relations
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(o, _)| *o)
    };
    let sql = sql.trim_end().trim_end_matches(';');
    if let Some(rest) = sql
        .strip_prefix("DROP TABLE ")
        .or_else(|| sql.strip_prefix("DROP MATERIALIZED VIEW "))
        .or_else(|| sql.strip_prefix("DROP SEQUENCE "))
        .or_else(|| sql.strip_prefix("DROP FOREIGN TABLE "))
    {
        let name = rest.trim();
        let oid = oid_of(name)?;
        let now = after.relations.get(&oid)?;
        return (now != name).then(|| (name.to_owned(), now.clone()));
    }
    let rest = sql.strip_prefix("ALTER TABLE ")?;
    let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
    let (table, column) = rest.split_once(" DROP COLUMN ")?;
    let oid = oid_of(table.trim())?;
    let column = column.trim();
    let (&(_, num), _) = before
        .columns
        .iter()
        .find(|(&(o, _), c)| o == oid && c.as_str() == column)?;
    let now_table = after.relations.get(&oid)?;
    let now = after.columns.get(&(oid, num))?;
    (now != column || now_table != table.trim()).then(|| {
        (
            format!("{} column {column}", table.trim()),
            format!("{now_table} column {now}"),
        )
    })
}

/// Rewrites each `deletes_data` finding whose statement drops an object the migration only
/// renamed (or moved to another schema): an information, never a denial.
pub fn explain(findings: &mut [Finding], before: &Names, after: &Names) {
    for f in findings.iter_mut() {
        let Some(sql) = f.what.strip_prefix("deletes_data: ") else {
            continue;
        };
        let Some((old, new)) = renamed(sql, before, after) else {
            continue;
        };
        f.severity = Severity::Info;
        f.what = format!("renamed: {old} is now {new} (the same object, no row lost)");
        f.why = "the migration renamed it (or moved it to another schema): its OID and column number are unchanged on the test Neon database branch, so its rows are kept; the schema engine, which compares names, spells it as a drop and a create".to_owned();
        f.fix = Some(
            "deploy code that uses the new name together with the migration (or keep a view under the old name for a while)".to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(rels: &[(u32, &str)], cols: &[(u32, i16, &str)]) -> Names {
        Names {
            relations: rels.iter().map(|(o, n)| (*o, n.to_string())).collect(),
            columns: cols
                .iter()
                .map(|(o, a, n)| ((*o, *a), n.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_rename_is_not_a_drop() {
        let before = names(
            &[
                (1, "public.orders"),
                (2, "public.accounts"),
                (3, "public.gone"),
            ],
            &[(2, 1, "id"), (2, 2, "note")],
        );
        let after = names(
            &[(1, "other.purchases"), (2, "public.accounts")],
            &[(2, 1, "id"), (2, 2, "remark")],
        );
        assert_eq!(
            renamed("DROP TABLE public.orders;", &before, &after),
            Some(("public.orders".into(), "other.purchases".into()))
        );
        assert_eq!(
            renamed(
                "ALTER TABLE public.accounts DROP COLUMN note;",
                &before,
                &after
            ),
            Some((
                "public.accounts column note".into(),
                "public.accounts column remark".into()
            ))
        );
        // Really dropped: no OID left, or the column number is gone.
        assert_eq!(renamed("DROP TABLE public.gone;", &before, &after), None);
        let dropped = names(&[(2, "public.accounts")], &[(2, 1, "id")]);
        assert_eq!(
            renamed(
                "ALTER TABLE public.accounts DROP COLUMN note",
                &before,
                &dropped
            ),
            None
        );
        let mut f = vec![Finding::new(
            "schema",
            Severity::Error,
            "deletes_data: DROP TABLE public.orders;".to_owned(),
            "x",
        )];
        explain(&mut f, &before, &after);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].what.contains("no row lost"), "{}", f[0].what);
    }
}

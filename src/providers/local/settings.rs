//! Per-database settings (`ALTER DATABASE … SET`, `ALTER ROLE … IN DATABASE … SET`), carried
//! from the main database to its copies as a Neon database branch keeps them:
//! `CREATE DATABASE … TEMPLATE` copies the data, not `pg_db_role_setting`, and a copy
//! without main's settings made every drift check see a change nobody made.

use tokio_postgres::Client;

use crate::pg::{self, ident, literal};
use crate::providers::ProviderError;

/// Settings whose value is a list of (double-quoted) names, written as one literal each —
/// a single literal would make the whole list one name (pg_dump does the same).
const LIST_QUOTED: &[&str] = &[
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
    "unix_socket_directories",
];

/// Gives database `to` the settings database `from` has, its own and its roles'.
pub(crate) async fn copy(client: &Client, from: &str, to: &str) -> Result<(), ProviderError> {
    let rows = client
        .query(
            "SELECT CASE WHEN s.setrole <> 0 THEN pg_get_userbyid(s.setrole)::text END, s.setconfig
               FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
              WHERE d.datname = $1 ORDER BY s.setrole",
            &[&from],
        )
        .await
        .map_err(|e| pg::PgError::new(format!("cannot read the settings of `{from}`"), e))?;
    let mut sql = String::new();
    for r in rows {
        let role: Option<String> = r.get(0);
        let config: Vec<String> = r.get::<_, Option<Vec<String>>>(1).unwrap_or_default();
        for item in config {
            sql.push_str(&statement(role.as_deref(), to, &item));
        }
    }
    if sql.is_empty() {
        return Ok(());
    }
    client.batch_execute(&sql).await.map_err(|e| {
        pg::PgError::new(
            format!("cannot give `{to}` the settings of `{from}` (ALTER DATABASE … SET)"),
            e,
        )
        .into()
    })
}

/// Gives role `to_role`, in database `to`, the settings the server's role (the one that
/// applies on main) has in database `from` and in every database (`ALTER ROLE … [IN DATABASE
/// …] SET`): the test copy's own role runs the migration there, and without them an
/// unqualified name could reach another table on the copy than on main (`search_path`), or a
/// conversion read another time zone. The ones for `from` come last: they win, as on main.
pub(crate) async fn copy_role(
    client: &Client,
    from: &str,
    to: &str,
    to_role: &str,
) -> Result<(), ProviderError> {
    let rows = client
        .query(
            "SELECT s.setconfig FROM pg_db_role_setting s
              WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1))
              ORDER BY s.setdatabase",
            &[&from],
        )
        .await
        .map_err(|e| pg::PgError::new("cannot read the settings of the server's role", e))?;
    let mut sql = String::new();
    for r in rows {
        for item in r.get::<_, Option<Vec<String>>>(0).unwrap_or_default() {
            sql.push_str(&statement(Some(to_role), to, &item));
        }
    }
    if sql.is_empty() {
        return Ok(());
    }
    client.batch_execute(&sql).await.map_err(|e| {
        pg::PgError::new(
            format!("cannot give the role of `{to}` the settings of the server's role (ALTER ROLE … IN DATABASE … SET)"),
            e,
        )
        .into()
    })
}

/// The statement that gives database `db` (for `role`, or all) the setting `item`
/// (`name=value`, as `pg_db_role_setting` keeps it).
fn statement(role: Option<&str>, db: &str, item: &str) -> String {
    let (name, value) = item.split_once('=').unwrap_or((item, ""));
    let target = match role {
        Some(r) => format!("ALTER ROLE {} IN DATABASE {}", ident(r), ident(db)),
        None => format!("ALTER DATABASE {}", ident(db)),
    };
    let value = if LIST_QUOTED.contains(&name.to_ascii_lowercase().as_str()) {
        let items: Vec<String> = list(value).iter().map(|v| literal(v)).collect();
        if items.is_empty() {
            "''".to_owned()
        } else {
            items.join(", ")
        }
    } else {
        literal(value)
    };
    format!("{target} SET {} TO {value};\n", ident(name))
}

/// The elements of a list setting's value: comma-separated, each perhaps double-quoted
/// (`""` inside is one quote).
fn list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        item.push('"');
                    } else {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
            while chars.peek().is_some_and(|c| *c != ',') {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                item.push(c);
                chars.next();
            }
            item = item.trim_end().to_owned();
        }
        out.push(item);
        if chars.next().is_none() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_written_as_pg_dump_writes_them() {
        assert_eq!(
            statement(None, "main_copy", "work_mem=8MB"),
            "ALTER DATABASE \"main_copy\" SET \"work_mem\" TO '8MB';\n"
        );
        assert_eq!(
            statement(Some("app user"), "c", "statement_timeout=5s"),
            "ALTER ROLE \"app user\" IN DATABASE \"c\" SET \"statement_timeout\" TO '5s';\n"
        );
        assert_eq!(
            statement(None, "c", "search_path=\"$user\", public, \"a,\"\"b\""),
            "ALTER DATABASE \"c\" SET \"search_path\" TO '$user', 'public', 'a,\"b';\n"
        );
        assert_eq!(
            statement(None, "c", "app.tenant=x'y"),
            "ALTER DATABASE \"c\" SET \"app.tenant\" TO 'x''y';\n"
        );
        assert_eq!(list(""), Vec::<String>::new());
    }
}

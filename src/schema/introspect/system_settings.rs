//! Reads the server's `ALTER SYSTEM` settings (see [`crate::schema::system_settings`]):
//! first whether the role may read `pg_file_settings` and may run `ALTER SYSTEM` at all (a
//! query on a view it may not read would fail the whole introspection), then the settings
//! of `postgresql.auto.conf`, values as md5 digests.

use tokio_postgres::Client;

use crate::pg::PgError;
use crate::schema::system_settings::AlterSystem;

/// Whether the role can read the settings files, and whether it can run `ALTER SYSTEM`
/// (a superuser; from PostgreSQL 15 a role granted `ALTER SYSTEM` on some parameter).
fn access(version: i32) -> String {
    let granted = if version >= 150_000 {
        " OR EXISTS (SELECT 1 FROM pg_parameter_acl p WHERE has_parameter_privilege(p.parname, 'ALTER SYSTEM'))"
    } else {
        ""
    };
    format!(
        "SELECT has_function_privilege('pg_show_all_file_settings()', 'EXECUTE') AND has_table_privilege('pg_file_settings', 'SELECT'),
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user){granted}"
    )
}

/// `postgresql.auto.conf`'s settings, the last of a name winning (as the server reads it).
const SETTINGS: &str = r"SELECT name, md5(coalesce(setting, '')) FROM pg_file_settings
 WHERE sourcefile ~ '(^|/)postgresql\.auto\.conf$' ORDER BY seqno";

pub(super) async fn fetch(client: &Client, version: i32) -> Result<AlterSystem, PgError> {
    let failed = |e| PgError::new("cannot read the server's ALTER SYSTEM settings", e);
    let row = client
        .query_one(&access(version), &[])
        .await
        .map_err(failed)?;
    let (readable, possible): (bool, Option<bool>) = (row.get(0), row.get(1));
    if !readable {
        return Ok(if possible == Some(true) {
            AlterSystem::Unreadable
        } else {
            AlterSystem::NotPossible
        });
    }
    let rows = client.query(SETTINGS, &[]).await.map_err(failed)?;
    Ok(AlterSystem::Read(
        rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
    ))
}

//! What a local test copy's own role must share with the role that applies on main, so the
//! migration runs on the copy as it will run there (attack11 A2, A9, B3).
//!
//! `apply` runs on main as the server's role (usually a superuser); on the copy the
//! migration runs as the copy's login role, which owns every object in it. Where the two
//! would see a statement differently, the copy's role gets what the applying role has, when
//! that gives it no power outside its own copy:
//! - row-level security: `BYPASSRLS` when the applying role is a superuser or has it — a
//!   `DELETE` under `FORCE ROW LEVEL SECURITY` deleted nothing on the copy and every row on
//!   main. Only where the copy's role can reach no other database (the embedded cluster's
//!   `pg_hba.conf`, or no other database grants it `CONNECT`); else, and when the server's
//!   role cannot grant it, the reason is recorded on the copy's group role (a comment the
//!   copy's role cannot change) and the `data` check fails the tables a policy hides.
//! - default privileges: the applying role's `ALTER DEFAULT PRIVILEGES` in main are given
//!   to the copy's role in the copy, so a new table gets on the copy the grants it gets on
//!   main.
//! - publications: owned by the copy's role, as every other object of the copy is.

use tokio_postgres::Client;

use super::role::login_role;
use crate::pg::{self, ident, literal};
use crate::providers::ProviderError;

/// Start of the comment on a copy's group role (named like its database) that says why the
/// copy's role does not bypass row-level security while the role that applies on main does.
pub const ROW_SECURITY_NOTE: &str = "neon-migrate: row-level security differs from main: ";

/// The note of the copy the checks' session is on (`None` when there is none, when the
/// session is not a local copy's role, or when it cannot be read).
pub async fn row_security_note(client: &Client) -> Option<String> {
    let row = client
        .query_opt(
            "SELECT shobj_description(g.oid, 'pg_authid') FROM pg_roles g \
             JOIN pg_auth_members m ON m.roleid = g.oid JOIN pg_roles u ON u.oid = m.member \
             WHERE g.rolname = current_database() AND u.rolname = current_user",
            &[],
        )
        .await
        .ok()??;
    let note: Option<String> = row.get(0);
    note.and_then(|n| n.strip_prefix(ROW_SECURITY_NOTE).map(str::to_owned))
}

/// Gives the login role of copy `db` the row-level security exposure of the server's role
/// (this `admin` session's, the one that applies on main); `confined`: the server's
/// `pg_hba.conf` lets that role reach its own database only.
pub(super) async fn mirror_row_security(
    admin: &Client,
    db: &str,
    confined: bool,
) -> Result<(), ProviderError> {
    let login = login_role(db);
    let row = admin
        .query_one(
            "SELECT r.rolsuper OR r.rolbypassrls, \
                    NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datallowconn AND d.datname <> $2 \
                                AND has_database_privilege($1, d.oid, 'CONNECT')) \
               FROM pg_roles r WHERE r.rolname = current_user",
            &[&login, &db],
        )
        .await
        .map_err(|e| pg::PgError::new("cannot read the server role's attributes", e))?;
    let (bypasses, alone): (bool, bool) = (row.get(0), row.get(1));
    if !bypasses {
        // The applying role is filtered by policies too: the copy's role stays NOBYPASSRLS.
        return Ok(());
    }
    let why = if !(confined || alone) {
        Some(format!(
            "the role that applies on main bypasses row-level security, and the test copy's role `{login}` was not given BYPASSRLS: it can connect to other databases on this server (CONNECT granted to it or to PUBLIC), where BYPASSRLS would let it read rows their policies hide"
        ))
    } else {
        match admin
            .batch_execute(&format!("ALTER ROLE {} BYPASSRLS", ident(&login)))
            .await
        {
            Ok(()) => None,
            Err(e) => Some(format!(
                "the role that applies on main bypasses row-level security, and the server's role cannot give the test copy's role `{login}` BYPASSRLS ({})",
                pg::PgError::new("ALTER ROLE … BYPASSRLS", e)
            )),
        }
    };
    let Some(why) = why else { return Ok(()) };
    admin
        .batch_execute(&format!(
            "COMMENT ON ROLE {} IS {}",
            ident(db),
            literal(&format!("{ROW_SECURITY_NOTE}{why}"))
        ))
        .await
        .map_err(|e| pg::PgError::new("cannot record the copy's row-level security", e).into())
}

/// On the copy (`copy`, a privileged session of it): the default privileges the server's
/// role (`applier`) has there — main's, copied with the database — given to the copy's
/// login role `login` too, so what the migration creates gets the grants it gets on main.
/// A global entry (no schema) replaces the built-in default: `PUBLIC`'s and the owner's
/// entries are taken first, then the entry's granted.
pub(super) async fn mirror_default_privileges(
    copy: &Client,
    applier: &str,
    login: &str,
) -> Result<(), ProviderError> {
    let rows = copy
        .query(
            "SELECT CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname::text END, \
                    CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' \
                         WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' \
                         ELSE 'LARGE OBJECTS' END, \
                    coalesce(array_agg(CASE WHEN e.grantee = 0 THEN 'PUBLIC' \
                         WHEN e.grantee = d.defaclrole THEN NULL \
                         ELSE quote_ident(pg_get_userbyid(e.grantee)) END \
                         || '|' || e.privilege_type || '|' || e.is_grantable::text) \
                         FILTER (WHERE e.privilege_type IS NOT NULL), '{}'), \
                    coalesce(array_agg(e.privilege_type || '|' || e.is_grantable::text) \
                         FILTER (WHERE e.grantee = d.defaclrole), '{}') \
               FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
               LEFT JOIN LATERAL aclexplode(d.defaclacl) e ON true \
              WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1) \
              GROUP BY 1, 2, d.defaclnamespace",
            &[&applier],
        )
        .await
        .map_err(|e| {
            pg::PgError::new("cannot read the default privileges of the server's role", e)
        })?;
    let mut sql = String::new();
    for r in rows {
        let schema: Option<String> = r.get(0);
        let kind: String = r.get(1);
        let others: Vec<Option<String>> = r.get(2);
        let own: Vec<String> = r.get(3);
        let head = format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {}{}",
            ident(login),
            schema
                .as_deref()
                .map(|s| format!(" IN SCHEMA {}", ident(s)))
                .unwrap_or_default()
        );
        if schema.is_none() {
            sql.push_str(&format!(
                "{head} REVOKE ALL ON {kind} FROM PUBLIC;\n{head} REVOKE ALL ON {kind} FROM {};\n",
                ident(login)
            ));
        }
        let items = others
            .into_iter()
            .flatten()
            .chain(own.iter().map(|o| format!("{}|{o}", ident(login))));
        for item in items {
            let mut parts = item.splitn(3, '|');
            let (Some(grantee), Some(privilege), Some(grantable)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let option = if grantable == "true" {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            sql.push_str(&format!(
                "{head} GRANT {privilege} ON {kind} TO {grantee}{option};\n"
            ));
        }
    }
    if sql.is_empty() {
        return Ok(());
    }
    copy.batch_execute(&sql).await.map_err(|e| {
        pg::PgError::new(
            "cannot give the test copy's role the default privileges of the server's role",
            e,
        )
        .into()
    })
}

/// On the copy: every publication owned by the copy's login role `login`, as every other
/// object of the copy is (`ALTER PUBLICATION` needs its owner). Not those `FOR ALL TABLES`
/// or `FOR TABLES IN SCHEMA`: Postgres lets only a superuser own them.
pub(super) async fn own_publications(copy: &Client, login: &str) -> Result<(), ProviderError> {
    let rows = copy
        .query(
            "SELECT format('ALTER PUBLICATION %I OWNER TO %I', p.pubname, $1::text) \
             FROM pg_publication p WHERE NOT p.puballtables \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = to_regclass('pg_catalog.pg_publication_namespace') \
                             AND d.refclassid = 'pg_publication'::regclass AND d.refobjid = p.oid)",
            &[&login],
        )
        .await
        .map_err(|e| pg::PgError::new("cannot list the publications of the test copy", e))?;
    for r in rows {
        copy.batch_execute(r.get::<_, &str>(0)).await.map_err(|e| {
            pg::PgError::new("cannot hand the test copy's publications to its role", e)
        })?;
    }
    Ok(())
}

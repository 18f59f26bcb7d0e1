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
//! - owners: main's, of the objects the applier does not own, recorded there too; an object
//!   the migration drops and creates again is the applier's on main (on the copy every object
//!   is the copy's role's, so nothing shows it): the `schema` check names it (deployfid).
//! - default privileges: the applying role's `ALTER DEFAULT PRIVILEGES` in main are given
//!   to the copy's role in the copy, so a new table gets on the copy the grants it gets on
//!   main.
//! - publications: owned by the copy's role, as every other object of the copy is.

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::role::login_role;
use crate::pg::{self, ident, literal};
use crate::providers::ProviderError;

/// What the provider records about a copy on its group role (named like its database), in
/// a comment the copy's role cannot change: who applies on main, why row-level security
/// differs (if it does), and the objects main's other roles owned when the copy was made.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    neon_migrate_copy: u32,
    /// The server's role: the one `apply` runs as on main.
    pub applier: String,
    /// Why the copy's role does not bypass row-level security while the applier does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_security: Option<String>,
    /// Objects not owned by the applier on main, before the copy was handed over.
    #[serde(default)]
    pub owners: Vec<Owned>,
}

/// One object and its owner, as `pg_identify_object` names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owned {
    pub kind: String,
    pub identity: String,
    pub oid: u32,
    pub owner: String,
}

/// The record of the copy the session is on (`None` when the session is not a local copy's
/// role, or when there is none).
pub async fn record(client: &Client) -> Option<Record> {
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
    serde_json::from_str(&note?).ok()
}

/// Why row-level security differs between the copy's role and the applier, if it does.
pub async fn row_security_note(client: &Client) -> Option<String> {
    record(client).await?.row_security
}

/// The objects of the database (not the system's nor an extension's: those `role::hand_over`
/// gives the copy's role) with their owners, except those `except` owns (all when `None`).
const OBJECTS: &str = r#"
WITH user_ns AS (
    SELECT oid FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
), objs AS (
    SELECT 'pg_namespace'::regclass AS cls, n.oid, n.nspowner AS owner FROM pg_namespace n
     WHERE n.oid IN (SELECT oid FROM user_ns)
    UNION ALL
    SELECT 'pg_class'::regclass, c.oid, c.relowner FROM pg_class c
     WHERE c.relnamespace IN (SELECT oid FROM user_ns) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
       AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT 'pg_proc'::regclass, p.oid, p.proowner FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM user_ns)
    UNION ALL
    SELECT 'pg_type'::regclass, t.oid, t.typowner FROM pg_type t
     WHERE t.typnamespace IN (SELECT oid FROM user_ns) AND t.typtype IN ('d', 'e', 'r')
    UNION ALL
    SELECT 'pg_publication'::regclass, p.oid, p.pubowner FROM pg_publication p
)
SELECT o.type, o.identity, x.oid, pg_get_userbyid(x.owner)::text
  FROM objs x, LATERAL pg_identify_object(x.cls, x.oid, 0) o
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.deptype = 'e' AND e.classid = x.cls AND e.objid = x.oid)
   AND ($1::text IS NULL OR x.owner <> (SELECT oid FROM pg_roles WHERE rolname = $1))
"#;

async fn objects(
    client: &Client,
    except: Option<&str>,
) -> Result<Vec<Owned>, tokio_postgres::Error> {
    Ok(client
        .query(OBJECTS, &[&except])
        .await?
        .iter()
        .map(|r| Owned {
            kind: r.get(0),
            identity: r.get(1),
            oid: r.get(2),
            owner: r.get(3),
        })
        .collect())
}

/// On the copy before it is handed over (`copy`, a privileged session of it; main's owners):
/// the objects the server's role (this session's) does not own.
pub(super) async fn main_owners(copy: &Client) -> Result<Vec<Owned>, ProviderError> {
    let me: String = copy
        .query_one("SELECT current_user::text", &[])
        .await
        .map_err(|e| pg::PgError::new("cannot read the server's role", e))?
        .get(0);
    objects(copy, Some(&me)).await.map_err(|e| {
        pg::PgError::new("cannot read the owners of the test copy's objects", e).into()
    })
}

/// The objects of the record that the session's database (the copy, after the migration)
/// has under the same name but as another object: dropped and created again, they are the
/// applier's on main, no longer their old owner's. `(kind identity, old owner)`.
pub async fn recreated(
    client: &Client,
    record: &Record,
) -> Result<Vec<(String, String)>, tokio_postgres::Error> {
    if record.owners.is_empty() {
        return Ok(Vec::new());
    }
    let now: std::collections::HashMap<(String, String), u32> = objects(client, None)
        .await?
        .into_iter()
        .map(|o| ((o.kind, o.identity), o.oid))
        .collect();
    Ok(record
        .owners
        .iter()
        .filter(|o| {
            now.get(&(o.kind.clone(), o.identity.clone()))
                .is_some_and(|oid| *oid != o.oid)
        })
        .map(|o| (format!("{} {}", o.kind, o.identity), o.owner.clone()))
        .collect())
}

/// Gives the copy's role what the applier has (see the module's documentation) and writes the
/// copy's [`Record`] on its group role. `copy`: a privileged session of the copy; `owners`:
/// [`main_owners`], read before the hand-over.
pub(super) async fn mirror(
    admin: &Client,
    copy: &Client,
    db: &str,
    confined: bool,
    owners: Vec<Owned>,
) -> Result<(), ProviderError> {
    let applier: String = admin
        .query_one("SELECT current_user::text", &[])
        .await
        .map_err(|e| pg::PgError::new("cannot read the server's role", e))?
        .get(0);
    let login = login_role(db);
    let row_security = mirror_row_security(admin, db, confined).await?;
    mirror_default_privileges(copy, &applier, &login).await?;
    own_publications(copy, &login).await?;
    let record = Record {
        neon_migrate_copy: 1,
        applier,
        row_security,
        owners,
    };
    let json = serde_json::to_string(&record).expect("serializable");
    admin
        .batch_execute(&format!(
            "COMMENT ON ROLE {} IS {}",
            ident(db),
            literal(&json)
        ))
        .await
        .map_err(|e| pg::PgError::new("cannot record the copy's record on its role", e).into())
}

/// Gives the login role of copy `db` the row-level security exposure of the server's role
/// (this `admin` session's, the one that applies on main); `confined`: the server's
/// `pg_hba.conf` lets that role reach its own database only.
async fn mirror_row_security(
    admin: &Client,
    db: &str,
    confined: bool,
) -> Result<Option<String>, ProviderError> {
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
        return Ok(None);
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
    Ok(why)
}

/// On the copy (`copy`, a privileged session of it): the default privileges the server's
/// role (`applier`) has there — main's, copied with the database — given to the copy's
/// login role `login` too, so what the migration creates gets the grants it gets on main.
/// A global entry (no schema) replaces the built-in default: `PUBLIC`'s and the owner's
/// entries are taken first, then the entry's granted.
async fn mirror_default_privileges(
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
async fn own_publications(copy: &Client, login: &str) -> Result<(), ProviderError> {
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

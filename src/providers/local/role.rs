//! The role a migration gets on a test Neon database branch of the `local` provider.
//!
//! On Neon a test Neon database branch is a Postgres of its own and the tool connects as the
//! project's owner role: whatever the migration does, it cannot reach the main Neon database
//! branch. On one local server the copy shares the cluster with main, so the tool must not
//! get the server's (superuser) role: each copy gets a login role of its own that owns the
//! copy and everything in it, and nothing else — not a superuser, no CREATEDB, no
//! CREATEROLE. On the embedded cluster, `pg_hba.conf` also lets those roles connect only to
//! their own database (`samerole`: each copy has a group role named like the database, and
//! its login role is the only member).
//!
//! `tool-role = "server"` under [provider] hands out the server's own role instead.

use std::path::Path;

use tokio_postgres::Client;

use crate::pg::{self, ident, literal};
use crate::providers::ProviderError;
use crate::secret::Secret;
use crate::tools::handoff::PgUrl;

/// Group role of every login role neon-migrate hands out for a test copy (`pg_hba.conf`
/// rejects its members everywhere but in their own database).
pub const GROUP: &str = "neon_migrate_test_copies";

/// Lines at the top of the embedded cluster's `pg_hba.conf` (the first matching line wins).
pub const HBA_MARKER: &str = "# neon-migrate: test Neon database branch roles";
pub fn hba_block() -> String {
    format!(
        "{HBA_MARKER}: a member of {GROUP} reaches only the database named like its\n\
         # group role (its own test copy); everything else is refused.\n\
         host    samerole  +{GROUP}  127.0.0.1/32  scram-sha-256\n\
         host    samerole  +{GROUP}  ::1/128       scram-sha-256\n\
         host    all       +{GROUP}  all           reject\n\
         local   all       +{GROUP}                reject\n\
         # end of neon-migrate's lines\n"
    )
}

/// The login role of test copy `db` (a short, plain name any tool's URL parser accepts).
pub fn login_role(db: &str) -> String {
    format!("neon_migrate_copy_{}", crate::naming::short_hash(db))
}

/// The default main database of a repository on the embedded Postgres: `main_<folder>_<hash>`
/// (the repository's folder name, sanitized, and a hash of its path), so two repositories on
/// one machine never share a main database. Worktrees of one repository share it: the path
/// is the repository's common git folder's.
pub fn default_main_database(root: &Path) -> String {
    let repo = git2::Repository::discover(root)
        .ok()
        .map(|r| r.commondir().to_path_buf())
        .map(|common| match common.file_name().and_then(|n| n.to_str()) {
            // A normal repository: `<folder>/.git`; a bare one is its own folder.
            Some(".git") => common.parent().map(Path::to_path_buf).unwrap_or(common),
            _ => common,
        })
        .unwrap_or_else(|| root.to_path_buf());
    let repo = std::fs::canonicalize(&repo).unwrap_or(repo);
    let folder = repo
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("repository")
        .trim_end_matches(".git");
    let mut slug: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // `main_` + slug + `_` + 8 hex digits ≤ 63 bytes (slug is ASCII).
    slug.truncate(63 - 5 - 1 - 8);
    let slug = slug.trim_matches('_');
    let hash = crate::naming::short_hash(&repo.to_string_lossy());
    if slug.is_empty() {
        format!("main_{hash}")
    } else {
        format!("main_{slug}_{hash}")
    }
}

fn random_password() -> Result<String, ProviderError> {
    use std::io::Read;
    let mut buf = [0u8; 18];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ProviderError::new(format!("cannot read /dev/urandom: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// `server_url` with another user, password and database.
pub fn url_as(server_url: &str, user: &str, password: &str, db: &str) -> Secret<String> {
    let with_db = pg::with_database(server_url, db);
    match PgUrl::parse(&with_db) {
        Some(mut u) => {
            u.user = Some(pg::percent_encode(user));
            u.password = Some(pg::percent_encode(password));
            // Credentials in the query (`?user=…&password=…`) would win over these.
            u.params
                .retain(|(k, _)| !matches!(k.as_str(), "user" | "password" | "passfile"));
            Secret::new(u.render())
        }
        None => Secret::new(with_db),
    }
}

/// Whether role `name` exists, and whether it is one of ours (a member of [`GROUP`]).
async fn role_state(client: &Client, name: &str) -> Result<Option<bool>, ProviderError> {
    let row = client
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
             WHERE m.member = r.oid AND g.rolname = $2) FROM pg_roles r WHERE r.rolname = $1",
            &[&name, &GROUP],
        )
        .await
        .map_err(|e| pg::PgError::new("cannot read roles", e))?;
    Ok(row.map(|r| r.get(0)))
}

async fn exec(client: &Client, what: &str, sql: &str) -> Result<(), ProviderError> {
    client
        .batch_execute(sql)
        .await
        .map_err(|e| pg::PgError::new(what, e).into())
}

/// Creates (or renews) the roles of database `db` — the group role named like it, and a
/// login role (not a superuser, no CREATEDB, no CREATEROLE, in [`GROUP`]) — and makes the
/// login role the database's owner. Returns the login role and its password.
async fn own_database(
    admin: &Client,
    db: &str,
    password: Option<&str>,
) -> Result<(String, String), ProviderError> {
    let login = login_role(db);
    // The group of all of ours; another run may create it at the same moment.
    if role_state(admin, GROUP).await?.is_none() {
        if let Err(e) = admin
            .batch_execute(&format!("CREATE ROLE {} NOLOGIN", ident(GROUP)))
            .await
        {
            if role_state(admin, GROUP).await?.is_none() {
                return Err(pg::PgError::new("cannot create the role of test copies", e).into());
            }
        }
    }
    for name in [db, login.as_str()] {
        if role_state(admin, name).await? == Some(false) && name != GROUP {
            return Err(ProviderError::new(format!(
                "role `{name}` already exists and was not created by neon-migrate"
            ))
            .help("rename that role, or change `name` under [neon-database-branch]"));
        }
    }
    let password = match password {
        Some(p) => p.to_owned(),
        None => random_password()?,
    };
    // The group role named like the database (what `samerole` in pg_hba.conf matches).
    if role_state(admin, db).await?.is_none() {
        exec(
            admin,
            "cannot create the test copy's role",
            &format!("CREATE ROLE {} NOLOGIN IN ROLE {}", ident(db), ident(GROUP)),
        )
        .await?;
    }
    let attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";
    if role_state(admin, &login).await?.is_none() {
        exec(
            admin,
            "cannot create the test copy's role",
            &format!(
                "CREATE ROLE {} {attrs} PASSWORD {} IN ROLE {}, {}",
                ident(&login),
                literal(&password),
                ident(GROUP),
                ident(db)
            ),
        )
        .await?;
    } else {
        exec(
            admin,
            "cannot renew the test copy's role",
            &format!(
                "ALTER ROLE {} {attrs} PASSWORD {}",
                ident(&login),
                literal(&password)
            ),
        )
        .await?;
    }
    exec(
        admin,
        "cannot hand the test copy to its role",
        &format!("ALTER DATABASE {} OWNER TO {}", ident(db), ident(&login)),
    )
    .await?;
    Ok((login, password))
}

/// Hands the new, empty database `db` to a login role of its own (see [`own_database`]) and
/// takes `CONNECT` and `TEMPORARY` on it from `PUBLIC`, so that no other role but the
/// server's superusers can connect to it. Returns that role's URL of `db`. For a database
/// that runs untrusted SQL (a `.sql` schema file) on a server others share.
pub async fn hand_over_empty(
    admin: &Client,
    server_url: &str,
    db: &str,
) -> Result<Secret<String>, ProviderError> {
    let (login, password) = own_database(admin, db, None).await?;
    revoke_public_connect(admin, db).await?;
    Ok(url_as(server_url, &login, &password, db))
}

/// `REVOKE CONNECT, TEMPORARY ON DATABASE db FROM PUBLIC`: Postgres grants both to every
/// role on a new database; its owner and superusers keep them.
pub async fn revoke_public_connect(admin: &Client, db: &str) -> Result<(), ProviderError> {
    exec(
        admin,
        "cannot take CONNECT on the database from PUBLIC",
        &format!(
            "REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC",
            ident(db)
        ),
    )
    .await
}

/// Creates (or renews) the roles of test copy `db` and makes its login role the owner of
/// the database and of every object in it. `copy_url` is a privileged URL of the copy.
/// Returns the URL the tool gets. `password`: the login role's (default: a random one).
pub async fn hand_over(
    admin: &Client,
    server_url: &str,
    copy_url: &Secret<String>,
    db: &str,
    password: Option<&str>,
) -> Result<Secret<String>, ProviderError> {
    let (login, password) = own_database(admin, db, password).await?;
    let copy = pg::connect(copy_url).await?;
    let rows = copy
        .query(OWNED_OBJECTS, &[&login])
        .await
        .map_err(|e| pg::PgError::new("cannot list the objects of the test copy", e))?;
    let mut sql = String::from("BEGIN;\n");
    for r in &rows {
        sql.push_str(r.get::<_, &str>(0));
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT;");
    exec(
        &copy,
        "cannot hand the test copy's objects to its role",
        &sql,
    )
    .await?;
    // A range's multirange type follows the range on some versions only (PostgreSQL 15
    // leaves it behind; newer ones refuse to alter it directly): the ones left, one by one.
    let left = copy
        .query(
            "SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, $1::text) FROM pg_type t \
             WHERE t.typtype = 'm' AND t.typowner <> (SELECT oid FROM pg_roles WHERE rolname = $1) \
             AND t.typnamespace NOT IN (SELECT oid FROM pg_namespace \
             WHERE nspname LIKE 'pg\\_%' OR nspname = 'information_schema')",
            &[&login],
        )
        .await
        .map_err(|e| pg::PgError::new("cannot list the objects of the test copy", e))?;
    for r in &left {
        let _ = copy.batch_execute(r.get::<_, &str>(0)).await;
    }
    drop(copy);
    Ok(url_as(server_url, &login, &password, db))
}

/// Drops the roles of test copy `db` (after the database): only ours, never another role.
pub async fn drop_roles(admin: &Client, db: &str) {
    for name in [login_role(db), db.to_owned()] {
        if let Ok(Some(true)) = role_state(admin, &name).await {
            let _ = admin
                .batch_execute(&format!("DROP ROLE IF EXISTS {}", ident(&name)))
                .await;
        }
    }
}

/// `ALTER … OWNER TO $1` for every object of the database that is not the system's or an
/// extension's: schemas (but those owned by `pg_database_owner`, which the copy's role becomes
/// as the database's owner), tables (their indexes and owned sequences follow), views,
/// materialized views, foreign tables, free sequences, composite types, routines, domains,
/// enums, ranges, collations, conversions, statistics, text search configurations and
/// dictionaries, large objects.
const OWNED_OBJECTS: &str = r#"
WITH user_ns AS (
    SELECT oid, nspname, nspowner FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, $1::text) FROM user_ns n
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_namespace'::regclass AND objid = n.oid)
   -- Owned by whoever owns the database (`public` since PG 15): the copy's role, once the
   -- copy is its; handed over by name, the schema would differ from main's.
   AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = n.nspowner AND r.rolname = 'pg_database_owner')
UNION ALL
SELECT format('ALTER %s %s OWNER TO %I',
    CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' WHEN 'c' THEN 'TYPE'
        ELSE 'TABLE' END,
    c.oid::regclass, $1::text)
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid)
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_proc'::regclass AND objid = p.oid)
UNION ALL
SELECT format('ALTER %s %s OWNER TO %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
    t.oid::regtype, $1::text)
FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
WHERE t.typtype IN ('d', 'e', 'r')
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_type'::regclass AND objid = t.oid)
UNION ALL
SELECT format('ALTER COLLATION %I.%I OWNER TO %I', n.nspname, o.collname, $1::text)
FROM pg_collation o JOIN user_ns n ON n.oid = o.collnamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_collation'::regclass AND objid = o.oid)
UNION ALL
SELECT format('ALTER CONVERSION %I.%I OWNER TO %I', n.nspname, o.conname, $1::text)
FROM pg_conversion o JOIN user_ns n ON n.oid = o.connamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_conversion'::regclass AND objid = o.oid)
UNION ALL
SELECT format('ALTER STATISTICS %I.%I OWNER TO %I', n.nspname, o.stxname, $1::text)
FROM pg_statistic_ext o JOIN user_ns n ON n.oid = o.stxnamespace
UNION ALL
SELECT format('ALTER TEXT SEARCH CONFIGURATION %I.%I OWNER TO %I', n.nspname, o.cfgname, $1::text)
FROM pg_ts_config o JOIN user_ns n ON n.oid = o.cfgnamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_ts_config'::regclass AND objid = o.oid)
UNION ALL
SELECT format('ALTER TEXT SEARCH DICTIONARY %I.%I OWNER TO %I', n.nspname, o.dictname, $1::text)
FROM pg_ts_dict o JOIN user_ns n ON n.oid = o.dictnamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_ts_dict'::regclass AND objid = o.oid)
UNION ALL
SELECT format('ALTER LARGE OBJECT %s OWNER TO %I', o.oid, $1::text)
FROM pg_largeobject_metadata o
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_main_database_is_named_after_the_folder_and_fits() {
        let dir = tempfile_dir("My Shop-API");
        let name = default_main_database(&dir);
        assert!(name.starts_with("main_my_shop_api_"), "{name}");
        assert_eq!(name.len(), "main_my_shop_api_".len() + 8);
        let long = tempfile_dir(&"x".repeat(200));
        assert!(default_main_database(&long).len() <= 63);
        // Two folders of the same name are two repositories.
        let other = tempfile_dir("My Shop-API");
        assert_ne!(default_main_database(&other), name);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
        let _ = std::fs::remove_dir_all(long.parent().unwrap());
        let _ = std::fs::remove_dir_all(other.parent().unwrap());
    }

    fn tempfile_dir(name: &str) -> std::path::PathBuf {
        let base = std::env::temp_dir().join(format!(
            "nm-role-{}-{}",
            std::process::id(),
            random_password().unwrap()
        ));
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn urls_carry_the_role() {
        let u = url_as(
            "postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable",
            "neon_migrate_copy_ab",
            "secret",
            "migrate/x",
        );
        assert_eq!(
            u.expose(),
            "postgresql://neon_migrate_copy_ab:secret@127.0.0.1:5432/migrate%2Fx?sslmode=disable"
        );
    }

    #[test]
    fn credentials_in_the_query_do_not_override_the_role() {
        let u = url_as(
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&password=pw&user=postgres",
            "neon_migrate_copy_ab",
            "secret",
            "db",
        );
        assert_eq!(
            u.expose(),
            "postgresql://neon_migrate_copy_ab:secret@127.0.0.1:5432/db?sslmode=disable"
        );
    }
}

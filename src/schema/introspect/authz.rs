//! Owners, privileges and default privileges: one query, plus the server's roles (column
//! privileges come with the columns, in `columns`: one pass over pg_attribute).
//!
//! An owner is kept only when it is not the default one: the role this session connected
//! as (also `pg_database_owner`, whoever owns the database — the database's owner is the
//! catalog net's, see `catalog_more::database` — and a local test copy's own role, which
//! stands in for main's owners). `public` owned by `pg_database_owner` and `public` owned by
//! the session's role read the same (trial9 P1, not fixed: a scratch database a `.sql` source
//! is loaded into, and a test copy, own their `public` through `pg_database_owner`, so telling
//! the two apart invents owner changes there). An ACL is kept as its difference from the
//! object kind's `acldefault`, computed by the server, with the owner's entries written as
//! `Owner` (whatever its name) — so "no ACL" and "an explicit ACL equal to the default" are
//! the same, and a test copy handed to another role reads the same as main.

use tokio_postgres::Row;

use super::super::model::{AclDelta, AclItem, Grantee};
use super::{q, Build};

pub(super) fn privileges_query() -> String {
    q(r#"
, me AS (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
, dflt AS (
  SELECT oid FROM me
  UNION SELECT to_regrole('pg_database_owner')
  UNION SELECT m.member FROM pg_auth_members m WHERE m.roleid = to_regrole($2::text)
)
, dflt_oids AS (SELECT oid FROM dflt WHERE oid IS NOT NULL)
, objs AS (
  SELECT 'o'::text AS what, CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE '
           WHEN 'f' THEN 'FOREIGN TABLE ' ELSE 'TABLE ' END
           || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS key,
         c.relowner AS owner, c.relacl AS acl,
         acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner) AS defacl,
         -- A serial's or identity's sequence too: it has its table's owner, which the plan
         -- gives it before `OWNED BY` (and `ALTER TABLE … OWNER TO` moves along).
         true AS owned
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     AND (c.relacl IS NOT NULL OR c.relowner NOT IN (SELECT oid FROM dflt_oids))
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
  UNION ALL
  SELECT 'o', CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END || quote_ident(ns.nspname) || '.'
           || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
         p.proowner, p.proacl, acldefault('f', p.proowner), true
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
   WHERE p.prokind IN ('f', 'p', 'a') AND (p.proacl IS NOT NULL OR p.proowner NOT IN (SELECT oid FROM dflt_oids))
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
  UNION ALL
  SELECT 'o', CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
         t.typowner, t.typacl, acldefault('T', t.typowner), true
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
   WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
     AND (t.typacl IS NOT NULL OR t.typowner NOT IN (SELECT oid FROM dflt_oids))
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
  UNION ALL
  SELECT 'o', 'SCHEMA ' || quote_ident(n.nspname), n.nspowner, n.nspacl, acldefault('n', n.nspowner), true
    FROM pg_namespace n JOIN ns ON ns.oid = n.oid
   WHERE n.nspacl IS NOT NULL OR n.nspowner NOT IN (SELECT oid FROM dflt_oids)
  UNION ALL
  SELECT 'o', 'PUBLICATION ' || quote_ident(p.pubname), p.pubowner, NULL, NULL, true
    FROM pg_publication p WHERE p.pubowner NOT IN (SELECT oid FROM dflt_oids)
  UNION ALL
  SELECT 'o', 'EVENT TRIGGER ' || quote_ident(et.evtname), et.evtowner, NULL, NULL, true
    FROM pg_event_trigger et WHERE et.evtowner NOT IN (SELECT oid FROM dflt_oids)
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_event_trigger'::regclass AND ext.objid = et.oid)
  UNION ALL
  -- Owners of the rarer kinds (`rare_owners` in the plan), keyed as the model keys them.
  SELECT 'o', r.kind || ' ' || quote_ident(ns.nspname) || '.' || r.name, r.owner, NULL, NULL, true
    FROM (SELECT 'OPERATOR' AS kind, 'pg_operator'::regclass AS cls, o.oid, o.oprnamespace AS nsp, o.oprowner AS owner,
                 o.oprname || '(' || CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END || ', '
                   || format_type(o.oprright, NULL) || ')' AS name
            FROM pg_operator o
          UNION ALL SELECT 'COLLATION', 'pg_collation'::regclass, co.oid, co.collnamespace, co.collowner, quote_ident(co.collname) FROM pg_collation co
          UNION ALL SELECT 'CONVERSION', 'pg_conversion'::regclass, cv.oid, cv.connamespace, cv.conowner, quote_ident(cv.conname) FROM pg_conversion cv
          UNION ALL SELECT 'TEXT SEARCH DICTIONARY', 'pg_ts_dict'::regclass, d.oid, d.dictnamespace, d.dictowner, quote_ident(d.dictname) FROM pg_ts_dict d
          UNION ALL SELECT 'TEXT SEARCH CONFIGURATION', 'pg_ts_config'::regclass, c.oid, c.cfgnamespace, c.cfgowner, quote_ident(c.cfgname) FROM pg_ts_config c
          UNION ALL SELECT 'STATISTICS', 'pg_statistic_ext'::regclass, x.oid, x.stxnamespace, x.stxowner, quote_ident(x.stxname) FROM pg_statistic_ext x) r
    JOIN ns ON ns.oid = r.nsp
   WHERE r.owner NOT IN (SELECT oid FROM dflt_oids)
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = r.cls AND ext.objid = r.oid)
  UNION ALL
  SELECT 'd', concat_ws(' ',
           CASE WHEN d.defaclrole NOT IN (SELECT oid FROM dflt_oids) THEN 'FOR ROLE ' || quote_ident(pg_get_userbyid(d.defaclrole)) END,
           CASE WHEN d.defaclnamespace <> 0 THEN 'IN SCHEMA ' || quote_ident(n.nspname) END)
           || '|' || CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                          WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END,
         d.defaclrole, d.defaclacl,
         CASE WHEN d.defaclnamespace = 0
              THEN acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)
              ELSE acldefault('c', d.defaclrole) END,
         false
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
   WHERE d.defaclnamespace = 0 OR d.defaclnamespace IN (SELECT oid FROM ns)
)
, items AS (
  SELECT o.what, o.key, s.side,
         CASE WHEN e.grantee = 0 THEN 'p' WHEN e.grantee = o.owner THEN 'o' ELSE 'r' END AS gk,
         CASE WHEN e.grantee = 0 OR e.grantee = o.owner THEN '' ELSE quote_ident(pg_get_userbyid(e.grantee)) END
           || '/' || CASE WHEN e.grantor = o.owner THEN '' ELSE quote_ident(pg_get_userbyid(e.grantor)) END AS gname,
         e.privilege_type AS priv, e.is_grantable AS g
    FROM objs o
   CROSS JOIN LATERAL (VALUES ('a', o.acl), ('d', o.defacl)) s(side, acl)
   CROSS JOIN LATERAL aclexplode(s.acl) e
   WHERE o.acl IS NOT NULL
)
, delta AS (
  SELECT what, key, array_agg(CASE side WHEN 'a' THEN '+' ELSE '-' END || gk || CASE WHEN g THEN '*' ELSE ' ' END
                              || priv || ':' || gname) AS items
    FROM (SELECT what, key, gk, gname, priv, g, min(side) AS side FROM items
           GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(DISTINCT side) = 1) x
   GROUP BY 1, 2
)
SELECT o.what, o.key,
       CASE WHEN o.what = 'o' AND o.owned AND o.owner NOT IN (SELECT oid FROM dflt_oids)
            THEN quote_ident(pg_get_userbyid(o.owner)) END,
       coalesce(d.items, '{}')
  FROM objs o LEFT JOIN delta d ON d.what = o.what AND d.key = o.key
"#)
}

/// The connecting role, every role of the server, quoted, and each role's attributes and
/// memberships (`name|attributes|member of`, never a password) but neon-migrate's own test
/// copy roles' (`$1`: their group role; they come and go with other runs' copies) — except the
/// connecting role itself: a migration's `ALTER ROLE CURRENT_USER SET …` changes it, and on
/// deploy the same statement changes main's role in every database.
pub(super) const ROLES: &str = r#"
WITH own AS (SELECT oid FROM pg_roles WHERE rolname = $1::text
             UNION SELECT m.member FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1::text
             EXCEPT SELECT oid FROM pg_roles WHERE rolname = current_user)
SELECT quote_ident(current_user::text),
       coalesce((SELECT array_agg(quote_ident(rolname::text)) FROM pg_roles), '{}'),
       coalesce((SELECT array_agg(quote_ident(r.rolname::text) || '|' || concat_ws(' ',
                   CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN NOT r.rolinherit THEN 'NOINHERIT' END,
                   CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                   CASE WHEN r.rolcanlogin THEN 'LOGIN' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
                   CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
                   CASE WHEN r.rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || r.rolconnlimit END,
                   CASE WHEN r.rolvaliduntil IS NOT NULL THEN 'VALID UNTIL ' || r.rolvaliduntil END,
                   -- Settings of the role in every database (ALTER ROLE … SET): names, and a
                   -- digest of the values (a value may be a secret).
                   'SET ' || (SELECT string_agg(split_part(c, '=', 1), ',' ORDER BY c) || ' #' || left(md5(string_agg(c, ',' ORDER BY c)), 8)
                                FROM pg_db_role_setting rs, unnest(rs.setconfig) c WHERE rs.setrole = r.oid AND rs.setdatabase = 0))
                 || '|' || coalesce((SELECT string_agg(quote_ident(g.rolname::text)
                            || CASE WHEN m.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END
                            -- PostgreSQL 16's INHERIT and SET options (read by name: older
                            -- servers have neither), and a grantor other than the bootstrap
                            -- superuser (16 keeps one grant per grantor).
                            || CASE WHEN to_jsonb(m)->>'inherit_option' = 'false' THEN ' WITH INHERIT FALSE' ELSE '' END
                            || CASE WHEN to_jsonb(m)->>'set_option' = 'false' THEN ' WITH SET FALSE' ELSE '' END
                            || CASE WHEN m.grantor NOT IN (0, 10) THEN ' GRANTED BY ' || quote_ident(pg_get_userbyid(m.grantor)) ELSE '' END, ', ' ORDER BY 1)
                       FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                      WHERE m.member = r.oid AND g.oid NOT IN (SELECT oid FROM own)), ''))
          FROM pg_roles r WHERE r.oid NOT IN (SELECT oid FROM own)), '{}')"#;

pub(super) type RolesRow = (String, Vec<String>, Vec<String>);

pub(super) fn roles_row(r: &Row) -> RolesRow {
    (r.get(0), r.get(1), r.get(2))
}

/// (`o` object or `d` default privileges, key, owner other than the default, ACL items).
pub(super) type PrivilegeRow = (String, String, Option<String>, Vec<String>);

pub(super) fn privilege_row(r: &Row) -> PrivilegeRow {
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// `+o*SELECT:` / `-p EXECUTE:` / `+r SELECT:"Role"/grantor` → (granted?, item). The
/// grantor follows a `/` (none or empty: the object's owner).
pub(super) fn parse_item(s: &str) -> Option<(bool, AclItem)> {
    let mut chars = s.chars();
    let sign = chars.next()?;
    let kind = chars.next()?;
    let grantable = chars.next()? == '*';
    let (privilege, rest) = chars.as_str().split_once(':')?;
    let (name, grantor) = split_grantor(rest);
    let grantee = match kind {
        'p' => Grantee::Public,
        'o' => Grantee::Owner,
        _ => Grantee::Role(name.to_owned()),
    };
    Some((
        sign == '+',
        AclItem {
            grantee,
            privilege: privilege.to_owned(),
            grantable,
            grantor: (!grantor.is_empty()).then(|| grantor.to_owned()),
        },
    ))
}

/// `"a/b"/r2` → (`"a/b"`, `r2`): the first `/` outside double quotes (a quoted identifier
/// may hold one; an unquoted one never does).
fn split_grantor(s: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '/' if !quoted => return (&s[..i], &s[i + 1..]),
            _ => {}
        }
    }
    (s, "")
}

pub(super) fn add(b: &mut Build, rows: Vec<PrivilegeRow>, roles: RolesRow) {
    b.m.connected_as = roles.0;
    b.m.roles = roles.1.into_iter().collect();
    b.m.role_details = roles
        .2
        .iter()
        .filter_map(|d| d.split_once('|'))
        .map(|(name, rest)| (name.to_owned(), rest.to_owned()))
        .collect();
    for (what, key, owner, items) in rows {
        let mut delta = AclDelta::default();
        for (granted, item) in items.iter().filter_map(|i| parse_item(i)) {
            if granted {
                delta.granted.insert(item);
            } else {
                delta.revoked.insert(item);
            }
        }
        if let Some(o) = owner {
            b.m.owners.insert(key.clone(), o);
        }
        if delta == AclDelta::default() {
            continue;
        }
        if what == "d" {
            b.m.default_privileges.insert(key, delta);
        } else {
            b.m.privileges.insert(key, delta);
        }
    }
}

/// What this file and `replication` read.
pub(super) struct AuthzRows {
    privileges: Vec<PrivilegeRow>,
    roles: RolesRow,
    cluster_grants: Vec<(String, String)>,
    alter_system: crate::schema::system_settings::AlterSystem,
    replication: super::replication::Rows,
}

/// Runs the queries of owners, privileges, roles, replica identities and publications at once (pipelined with the other kinds' on the same connection).
pub(super) async fn fetch_all(
    client: &tokio_postgres::Client,
    census: &super::census::Census,
    excluded: &[String],
) -> Result<AuthzRows, crate::pg::PgError> {
    use super::{fetch, fetch_if};
    let (version, publications) = (census.version, census.publications);
    use super::replication as r;
    let ex: Vec<String> = excluded.to_vec();
    let group = crate::providers::local::role::GROUP.to_owned();
    let p1: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&ex];
    let p2: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&ex, &group];
    let pg: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&group];
    let (pq, iq, tq, nq) = (
        privileges_query(),
        r::replica_identities_query(),
        r::publication_tables_query(version),
        r::publication_schemas_query(version),
    );
    let cq = super::cluster_grants::query(version);
    let (
        privileges,
        roles,
        cluster_grants,
        alter_system,
        identities,
        publications,
        tables,
        schemas,
    ) = tokio::try_join!(
        fetch(client, "privileges and owners", &pq, &p2, privilege_row),
        fetch(client, "roles", ROLES, &pg, roles_row),
        fetch(
            client,
            "cluster-wide privileges",
            &cq,
            &pg,
            super::cluster_grants::row
        ),
        super::system_settings::fetch(client, version),
        fetch(client, "replica identities", &iq, &p1, r::pair_row),
        fetch_if(
            publications,
            client,
            "publications",
            r::PUBLICATIONS,
            &[],
            r::publication_row
        ),
        fetch_if(
            publications,
            client,
            "publication tables",
            &tq,
            &p1,
            r::publication_table_row
        ),
        fetch_if(
            publications,
            client,
            "publication schemas",
            &nq,
            &p1,
            r::pair_row
        ),
    )?;
    Ok(AuthzRows {
        privileges,
        roles: roles.into_iter().next().unwrap_or_default(),
        cluster_grants,
        alter_system,
        replication: r::Rows {
            identities,
            publications,
            tables,
            schemas,
        },
    })
}

/// Puts everything [`fetch_all`] read into the model.
pub(super) fn add_all(b: &mut Build, rows: AuthzRows) {
    add(b, rows.privileges, rows.roles);
    b.m.cluster_grants = rows.cluster_grants.into_iter().collect();
    b.m.alter_system = rows.alter_system;
    super::replication::add(b, rows.replication);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_parse() {
        let (g, i) = parse_item("+r*SELECT:\"A:b\"").unwrap();
        assert!(g && i.grantable && i.privilege == "SELECT");
        assert_eq!(i.grantee, Grantee::Role("\"A:b\"".into()));
        let (g, i) = parse_item("-p EXECUTE:").unwrap();
        assert!(!g && !i.grantable && i.grantee == Grantee::Public);
        assert_eq!(parse_item("+o"), None);
        let (_, i) = parse_item("+r SELECT:\"a/b\"/\"g/h\"").unwrap();
        assert_eq!(i.grantee, Grantee::Role("\"a/b\"".into()));
        assert_eq!(i.grantor.as_deref(), Some("\"g/h\""));
        let (_, i) = parse_item("+r SELECT:r1/").unwrap();
        assert_eq!((i.grantee, i.grantor), (Grantee::Role("r1".into()), None));
    }
}

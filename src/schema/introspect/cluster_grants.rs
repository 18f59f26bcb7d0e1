//! Cluster-wide privileges and owners the schema check compares before and after a
//! migration (with the roles, see [`crate::schema::cluster_grants`]): every database's the
//! connecting role could change (it is a member of its owner's role) but this one's (this
//! one's are the catalog net's) and neon-migrate's own test copies' (they come and go with
//! other runs), every tablespace's, and each parameter's
//! (`GRANT SET | ALTER SYSTEM ON PARAMETER`, PostgreSQL ≥ 15). Never a setting's value.

use tokio_postgres::Row;

/// An ACL as its difference from `base` (the kind's default): sorted `+grantee:PRIVILEGE[*]`
/// granted and `-…` revoked items, the object's owner spelled `owner` whatever its name. An
/// empty ACL (`{}`: all revoked) has no dimension, which `aclexplode` refuses: read as none.
fn delta(acl: &str, base: &str, owner: &str) -> String {
    let items = |e: &str| {
        format!(
            "ARRAY(SELECT CASE WHEN ai.grantee = {owner} AND ai.grantee <> 0 THEN 'owner' WHEN ai.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(ai.grantee)) END || ':' || ai.privilege_type || CASE WHEN ai.is_grantable THEN '*' ELSE '' END FROM aclexplode(CASE WHEN cardinality({e}) > 0 THEN {e} END) ai)"
        )
    };
    format!(
        "coalesce((SELECT string_agg(i, ',' ORDER BY i) FROM (
          (SELECT '+' || u FROM unnest({now}) u EXCEPT SELECT '+' || u FROM unnest({base}) u)
          UNION ALL
          (SELECT '-' || u FROM unnest({base}) u EXCEPT SELECT '-' || u FROM unnest({now}) u)) x(i)), '')",
        now = items(&format!("coalesce({acl}, {base})")),
        base = items(base),
    )
}

/// Rows `(key, owner, privileges)`: `database "d"`, `tablespace ts`, `parameter name`.
/// `$1`: the group role of neon-migrate's test copy roles (their copies are left out).
pub(super) fn query(version: i32) -> String {
    let parameters = if version >= 150_000 {
        format!(
            "
UNION ALL
SELECT 'parameter ' || p.parname, '', {}
  FROM pg_parameter_acl p",
            delta("p.paracl", "NULL::aclitem[]", "0")
        )
    } else {
        String::new()
    };
    format!(
        r#"
WITH own AS (SELECT oid FROM pg_roles WHERE rolname = $1::text
             UNION SELECT m.member FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = $1::text)
SELECT 'database ' || quote_ident(d.datname), quote_ident(pg_get_userbyid(d.datdba)), {db}
  FROM pg_database d
 WHERE d.datname <> current_database() AND d.datdba NOT IN (SELECT oid FROM own)
   -- Only what the migration's role can change: a database whose owner it is a member of
   -- (every one for a superuser, as under `tool-role = "server"`; on Neon, the Neon database
   -- branch's role owns them). Others' databases on a shared server are other runs' noise.
   AND pg_has_role(d.datdba, 'MEMBER')
   AND coalesce(shobj_description(d.oid, 'pg_database'), '') NOT LIKE '{{"neon\_migrate%'
UNION ALL
SELECT 'tablespace ' || quote_ident(t.spcname), quote_ident(pg_get_userbyid(t.spcowner)), {ts}
  FROM pg_tablespace t{parameters}"#,
        db = delta("d.datacl", "acldefault('d', d.datdba)", "d.datdba"),
        ts = delta("t.spcacl", "acldefault('t', t.spcowner)", "t.spcowner"),
    )
}

/// `(key, "owner|privileges")`.
pub(super) fn row(r: &Row) -> (String, String) {
    let (owner, privileges): (String, String) = (r.get(1), r.get(2));
    (r.get(0), format!("{owner}|{privileges}"))
}

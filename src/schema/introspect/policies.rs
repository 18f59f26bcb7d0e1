//! Row-level security policies.

use tokio_postgres::Row;

use super::super::model::{DepKey, Policy};
use super::{q, Build, ObjKind};

pub(super) fn policies_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(p.polname), p.oid::int8, p.polpermissive,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
       coalesce((SELECT array_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END ORDER BY 1)
                   FROM unnest(p.polroles) r), '{}'),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON ns.oid = c.relnamespace
 ORDER BY 1, 2"#)
}

/// (`table.name`, OID, policy).
pub(super) type PolicyRow = (String, i64, Policy);

pub(super) fn policy_row(r: &Row) -> PolicyRow {
    let (table, name): (String, String) = (r.get(0), r.get(1));
    let pol = Policy {
        table: table.clone(),
        permissive: r.get(3),
        command: r.get(4),
        roles: r.get(5),
        using: r.get(6),
        check: r.get(7),
    };
    (format!("{table}.{name}"), r.get(2), pol)
}

pub(super) fn add(b: &mut Build, policies: Vec<PolicyRow>) {
    for (key, oid, pol) in policies {
        b.key(ObjKind::Policy, oid, DepKey::Policy(key.clone()));
        b.m.policies.insert(key, pol);
    }
}

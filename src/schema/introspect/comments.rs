//! Comments, keyed by their target as SQL (`TABLE public.t`).

use tokio_postgres::Row;

use super::q;

/// Comments on extension members are left out: the extension's script sets them, and they
/// follow its version like the rest of a member's definition (the catalog net compares them
/// as part of the member's). Planned, `COMMENT ON` a member failed for a role not owning it.
///
/// Built-in objects' comments (OID below 16384, some 5,000 rows of `pg_description`) are
/// skipped before the extension test and the joins, except schemas': `public` is built in
/// (OID 2200) and its comment is the user's to change. Every other kind read here lives in a
/// user schema, where no object has an OID below 16384. At 2,000 tables the built-in rows
/// were three quarters of the query's server CPU (12 → 3 ms).
pub(super) fn comments_query() -> String {
    q(r#", descr AS (
  SELECT dd.* FROM pg_description dd
   WHERE (dd.objoid >= 16384 OR dd.classoid = 'pg_namespace'::regclass)
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = dd.classoid AND ext.objid = dd.objoid)
)
SELECT CASE
         WHEN d.classoid = 'pg_class'::regclass AND d.objsubid > 0 THEN
           'COLUMN ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' ||
           (SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = c.oid AND attnum = d.objsubid)
         WHEN d.classoid = 'pg_class'::regclass THEN
           CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'i' THEN 'INDEX '
                          WHEN 'S' THEN 'SEQUENCE ' WHEN 'I' THEN 'INDEX ' WHEN 'f' THEN 'FOREIGN TABLE '
                          ELSE 'TABLE ' END
           || quote_ident(ns.nspname) || '.' || quote_ident(c.relname)
       END, d.description
  FROM descr d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
  JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END || quote_ident(ns.nspname) || '.' || quote_ident(p.proname)
       || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
  FROM descr d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid JOIN ns ON ns.oid = p.pronamespace
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(ns.nspname) || '.' || quote_ident(t.typname), d.description
  FROM descr d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid JOIN ns ON ns.oid = t.typnamespace
UNION ALL
SELECT 'SCHEMA ' || quote_ident(ns.nspname), d.description
  FROM descr d JOIN ns ON d.classoid = 'pg_namespace'::regclass AND ns.oid = d.objoid
UNION ALL
SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ON ' || CASE WHEN co.contypid <> 0 THEN 'DOMAIN ' ELSE '' END
       || quote_ident(ns.nspname) || '.' || quote_ident(coalesce(c.relname, t.typname)), d.description
  FROM descr d JOIN pg_constraint co ON d.classoid = 'pg_constraint'::regclass AND co.oid = d.objoid
  JOIN ns ON ns.oid = co.connamespace LEFT JOIN pg_class c ON c.oid = co.conrelid LEFT JOIN pg_type t ON t.oid = co.contypid
UNION ALL
SELECT 'TRIGGER ' || quote_ident(tg.tgname) || ' ON ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), d.description
  FROM descr d JOIN pg_trigger tg ON d.classoid = 'pg_trigger'::regclass AND tg.oid = d.objoid
  JOIN pg_class c ON c.oid = tg.tgrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'POLICY ' || quote_ident(po.polname) || ' ON ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), d.description
  FROM descr d JOIN pg_policy po ON d.classoid = 'pg_policy'::regclass AND po.oid = d.objoid
  JOIN pg_class c ON c.oid = po.polrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
-- The rarer kinds (`plan/rare_owners.rs`): kept when the plan creates one again.
SELECT r.kind || ' ' || quote_ident(ns.nspname) || '.' || r.name, d.description
  FROM pg_description d
  JOIN (SELECT 'OPERATOR' AS kind, 'pg_operator'::regclass AS cls, o.oid, o.oprnamespace AS nsp,
               o.oprname || '(' || CASE WHEN o.oprleft = 0 THEN 'NONE' ELSE format_type(o.oprleft, NULL) END || ', '
                 || format_type(o.oprright, NULL) || ')' AS name
          FROM pg_operator o
        UNION ALL SELECT 'COLLATION', 'pg_collation'::regclass, co.oid, co.collnamespace, quote_ident(co.collname) FROM pg_collation co
        UNION ALL SELECT 'TEXT SEARCH DICTIONARY', 'pg_ts_dict'::regclass, t.oid, t.dictnamespace, quote_ident(t.dictname) FROM pg_ts_dict t
        UNION ALL SELECT 'TEXT SEARCH CONFIGURATION', 'pg_ts_config'::regclass, c.oid, c.cfgnamespace, quote_ident(c.cfgname) FROM pg_ts_config c
        UNION ALL SELECT 'STATISTICS', 'pg_statistic_ext'::regclass, x.oid, x.stxnamespace, quote_ident(x.stxname) FROM pg_statistic_ext x) r
    ON d.classoid = r.cls AND d.objoid = r.oid AND d.objsubid = 0
  JOIN ns ON ns.oid = r.nsp
 WHERE d.objoid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = r.cls AND ext.objid = r.oid)
UNION ALL
-- Casts, event triggers and publications: kept when the plan creates one again.
SELECT upper(o.type) || ' ' || o.identity, d.description
  FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, 0) o
 WHERE d.classoid IN ('pg_cast'::regclass, 'pg_event_trigger'::regclass, 'pg_publication'::regclass)
   AND d.objoid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = d.classoid AND ext.objid = d.objoid)
UNION ALL
SELECT 'RULE ' || quote_ident(rw.rulename) || ' ON ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), d.description
  FROM pg_description d JOIN pg_rewrite rw ON d.classoid = 'pg_rewrite'::regclass AND rw.oid = d.objoid
  JOIN pg_class c ON c.oid = rw.ev_class JOIN ns ON ns.oid = c.relnamespace
 WHERE rw.rulename <> '_RETURN'
"#)
}

/// (target, text); the target is NULL for a column comment whose column went.
pub(super) fn comment_row(r: &Row) -> (Option<String>, String) {
    (r.get(0), r.get(1))
}

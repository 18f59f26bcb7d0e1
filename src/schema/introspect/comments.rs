//! Comments, keyed by their target as SQL (`TABLE public.t`).

use tokio_postgres::Row;

use super::q;

pub(super) fn comments_query() -> String {
    q(r#"
SELECT CASE
         WHEN d.classoid = 'pg_class'::regclass AND d.objsubid > 0 THEN
           'COLUMN ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' ||
           (SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = c.oid AND attnum = d.objsubid)
         WHEN d.classoid = 'pg_class'::regclass THEN
           CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'i' THEN 'INDEX '
                          WHEN 'S' THEN 'SEQUENCE ' WHEN 'I' THEN 'INDEX ' ELSE 'TABLE ' END
           || quote_ident(ns.nspname) || '.' || quote_ident(c.relname)
       END, d.description
  FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid
  JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END || quote_ident(ns.nspname) || '.' || quote_ident(p.proname)
       || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
  FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid JOIN ns ON ns.oid = p.pronamespace
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(ns.nspname) || '.' || quote_ident(t.typname), d.description
  FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND t.oid = d.objoid JOIN ns ON ns.oid = t.typnamespace
UNION ALL
SELECT 'SCHEMA ' || quote_ident(ns.nspname), d.description
  FROM pg_description d JOIN ns ON d.classoid = 'pg_namespace'::regclass AND ns.oid = d.objoid
UNION ALL
SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ON ' || CASE WHEN co.contypid <> 0 THEN 'DOMAIN ' ELSE '' END
       || quote_ident(ns.nspname) || '.' || quote_ident(coalesce(c.relname, t.typname)), d.description
  FROM pg_description d JOIN pg_constraint co ON d.classoid = 'pg_constraint'::regclass AND co.oid = d.objoid
  JOIN ns ON ns.oid = co.connamespace LEFT JOIN pg_class c ON c.oid = co.conrelid LEFT JOIN pg_type t ON t.oid = co.contypid
UNION ALL
SELECT 'TRIGGER ' || quote_ident(tg.tgname) || ' ON ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), d.description
  FROM pg_description d JOIN pg_trigger tg ON d.classoid = 'pg_trigger'::regclass AND tg.oid = d.objoid
  JOIN pg_class c ON c.oid = tg.tgrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'POLICY ' || quote_ident(po.polname) || ' ON ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), d.description
  FROM pg_description d JOIN pg_policy po ON d.classoid = 'pg_policy'::regclass AND po.oid = d.objoid
  JOIN pg_class c ON c.oid = po.polrelid JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'RULE ' || quote_ident(rw.rulename) || ' ON ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), d.description
  FROM pg_description d JOIN pg_rewrite rw ON d.classoid = 'pg_rewrite'::regclass AND rw.oid = d.objoid
  JOIN pg_class c ON c.oid = rw.ev_class JOIN ns ON ns.oid = c.relnamespace
 WHERE rw.rulename <> '_RETURN'
UNION ALL
SELECT 'STATISTICS ' || quote_ident(ns.nspname) || '.' || quote_ident(s.stxname), d.description
  FROM pg_description d JOIN pg_statistic_ext s ON d.classoid = 'pg_statistic_ext'::regclass AND s.oid = d.objoid
  JOIN ns ON ns.oid = s.stxnamespace
"#)
}

/// (target, text); the target is NULL for a column comment whose column went.
pub(super) fn comment_row(r: &Row) -> (Option<String>, String) {
    (r.get(0), r.get(1))
}

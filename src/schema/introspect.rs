//! Introspection: a handful of catalog queries, pipelined on one connection, into a [`Model`].
//!
//! Each query covers one kind of object for the whole database (never one query per
//! object), so a 2,000-table schema costs a few round trips. Objects that belong to
//! extensions, system schemas and excluded schemas are skipped.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use super::model::*;
use crate::pg::{describe, PgError};

/// Schemas skipped by default: neon-migrate's own tracking schema.
pub const DEFAULT_EXCLUDED: &[&str] = &["neon_migrate"];

/// Namespaces we model: user schemas not owned by an extension nor excluded.
const NS: &str = r#"
WITH ns AS (
  SELECT n.oid, n.nspname FROM pg_namespace n
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
     AND n.nspname <> ALL($1::text[])
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                     AND d.objid = n.oid AND d.deptype = 'e')
), ext AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
"#;

fn q(body: &str) -> String {
    format!("{NS}{body}")
}

/// Reads the whole schema of the database `client` is connected to.
pub async fn introspect(client: &Client, excluded: &[String]) -> Result<Model, PgError> {
    let ex: Vec<String> = excluded.to_vec();
    let p: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&ex];
    let err = |what: &'static str| {
        move |e: tokio_postgres::Error| PgError {
            message: format!("introspecting {what}: {}", describe(&e)),
            code: e.code().map(|c| c.code().to_owned()),
        }
    };

    let schemas_q = q("SELECT quote_ident(nspname) FROM ns ORDER BY 1");
    let ext_q = "SELECT quote_ident(e.extname), quote_ident(n.nspname), e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1";
    let enums_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 GROUP BY 1 ORDER BY 1"#);
    let domains_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
       format_type(t.typbasetype, t.typtypmod), t.typdefault, t.typnotnull,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c JOIN pg_namespace cn ON cn.oid = c.collnamespace WHERE c.oid = t.typcollation) END,
       coalesce((SELECT array_agg(quote_ident(c.conname) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}'),
       coalesce((SELECT array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}')
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
 WHERE t.typtype = 'd'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 ORDER BY 1"#);
    let composites_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
       array_agg(quote_ident(a.attname) ORDER BY a.attnum),
       array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 GROUP BY 1 ORDER BY 1"#);
    let sequences_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), format_type(s.seqtypid, NULL),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(a.attname)
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0 LIMIT 1)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    let tables_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind::text,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
              FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhrelid = c.oid) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       coalesce((SELECT array_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) ORDER BY i.inhseqno)
                   FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  WHERE i.inhrelid = c.oid AND NOT c.relispartition), '{}'),
       c.relrowsecurity, c.relforcerowsecurity, coalesce(c.reloptions, '{}'), c.relpersistence = 'u'
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    let columns_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname),
       format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       nullif(a.attidentity::text, ''),
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
       NOT a.attislocal
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1, a.attnum"#);
    // Identity columns' sequences (internal to the column, so not among `sequences_q`).
    let identities_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
  FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
  JOIN pg_class c ON c.oid = d.refobjid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.deptype = 'i' AND a.attidentity <> ''
 ORDER BY 1, 2"#);
    let constraints_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), co.conname, co.contype::text,
       pg_get_constraintdef(co.oid), co.convalidated,
       CASE WHEN co.contype = 'f' THEN (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fc.relname)
              FROM pg_class fc JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = co.confrelid) END
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND co.conislocal
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1, 2"#);
    let indexes_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(ic.relname), quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       pg_get_indexdef(i.indexrelid), i.indisunique, c.relkind = 'p'
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
  JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
   AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    let views_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind = 'm', pg_get_viewdef(c.oid, true),
       coalesce(c.reloptions, '{}')
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    let functions_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid), p.prokind::text, coalesce(pg_get_function_result(p.oid), ''),
       pg_get_function_arguments(p.oid),
       quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')'
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
 ORDER BY 1"#);
    let triggers_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(t.tgname),
       pg_get_triggerdef(t.oid, false), t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND t.tgparentid = 0
 ORDER BY 1, 2"#);
    let policies_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(p.polname), p.polpermissive,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
       coalesce((SELECT array_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END ORDER BY 1)
                   FROM unnest(p.polroles) r), '{}'),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON ns.oid = c.relnamespace
 ORDER BY 1, 2"#);
    let comments_q = q(r#"
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
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || quote_ident(ns.nspname) || '.' || quote_ident(p.proname)
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
"#);
    let unsupported_q = q(r#"
SELECT 'aggregate ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       md5(coalesce(p.prosrc, '') || p.prorettype::regtype::text)
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('a', 'w') AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'operator ' || quote_ident(ns.nspname) || '.' || o.oprname || '(' || o.oprleft::regtype || ',' || o.oprright::regtype || ')', md5(o.oprcode::text)
  FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)
UNION ALL
SELECT 'collation ' || quote_ident(ns.nspname) || '.' || quote_ident(co.collname), md5(coalesce(co.collcollate, '') || coalesce(co.collctype, ''))
  FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = co.oid)
UNION ALL
SELECT 'foreign table ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), md5(coalesce(array_to_string(c.reloptions, ','), ''))
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind = 'f'
UNION ALL
SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), md5(pg_get_ruledef(r.oid))
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'statistics ' || quote_ident(ns.nspname) || '.' || quote_ident(s.stxname), md5(pg_get_statisticsobjdef(s.oid))
  FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
UNION ALL
SELECT 'text search configuration ' || quote_ident(ns.nspname) || '.' || quote_ident(t.cfgname), md5(t.cfgparser::text)
  FROM pg_ts_config t JOIN ns ON ns.oid = t.cfgnamespace
"#);
    // Dependencies between modelled objects, as (dependent key, referenced key).
    let deps_q = q(r#"
, objs AS (
  SELECT 'pg_class'::regclass AS classid, c.oid AS objid,
         CASE WHEN c.relkind = 'i' THEN 'index:' ELSE 'rel:' END || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS key
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid,
         CASE WHEN t.typrelid <> 0 AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) <> 'c'
              THEN 'rel:' ELSE 'type:' END || quote_ident(ns.nspname) || '.' || quote_ident(t.typname)
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', 'c')
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid,
         'fn:' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
  UNION ALL
  SELECT 'pg_rewrite'::regclass, r.oid, 'rel:' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname)
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT 'pg_attrdef'::regclass, d.oid, 'rel:' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname)
    FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT 'pg_constraint'::regclass, co.oid,
         CASE WHEN co.contypid <> 0 THEN 'type:' || quote_ident(ns.nspname) || '.' || quote_ident(t.typname)
              ELSE 'con:' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(co.conname) END
    FROM pg_constraint co JOIN ns ON ns.oid = co.connamespace
    LEFT JOIN pg_class c ON c.oid = co.conrelid LEFT JOIN pg_type t ON t.oid = co.contypid
  UNION ALL
  SELECT 'pg_trigger'::regclass, tg.oid, 'trigger:' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(tg.tgname)
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN ns ON ns.oid = c.relnamespace WHERE NOT tg.tgisinternal
  UNION ALL
  SELECT 'pg_policy'::regclass, po.oid, 'policy:' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(po.polname)
    FROM pg_policy po JOIN pg_class c ON c.oid = po.polrelid JOIN ns ON ns.oid = c.relnamespace
)
, pairs AS (
  SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, a.key AS akey, b.key AS bkey
    FROM pg_depend d JOIN objs a ON a.classid = d.classid AND a.objid = d.objid
    JOIN objs b ON b.classid = d.refclassid AND b.objid = d.refobjid
   WHERE d.deptype IN ('n', 'a')
), keyed AS (
  SELECT akey, bkey FROM pairs
  UNION ALL
  -- Column-level edges too (`col:public.t.c`): a view, policy, trigger or generated column
  -- that reads a column whose type changes must be rebuilt around the change.
  SELECT CASE WHEN aa.attname IS NOT NULL THEN regexp_replace(p.akey, '^[a-z]+:', 'col:') || '.' || quote_ident(aa.attname) ELSE p.akey END,
         CASE WHEN ba.attname IS NOT NULL THEN regexp_replace(p.bkey, '^[a-z]+:', 'col:') || '.' || quote_ident(ba.attname) ELSE p.bkey END
    FROM pairs p
    LEFT JOIN pg_attribute aa ON p.classid = 'pg_class'::regclass AND p.objsubid > 0 AND aa.attrelid = p.objid AND aa.attnum = p.objsubid
    LEFT JOIN pg_attribute ba ON p.refclassid = 'pg_class'::regclass AND p.refobjsubid > 0 AND ba.attrelid = p.refobjid AND ba.attnum = p.refobjsubid
   WHERE p.objsubid > 0 OR p.refobjsubid > 0
  UNION ALL
  -- A default or generation expression belongs to its column.
  SELECT regexp_replace(p.akey, '^[a-z]+:', 'col:') || '.' || quote_ident(at.attname),
         CASE WHEN ba.attname IS NOT NULL THEN regexp_replace(p.bkey, '^[a-z]+:', 'col:') || '.' || quote_ident(ba.attname) ELSE p.bkey END
    FROM pairs p JOIN pg_attrdef ad ON p.classid = 'pg_attrdef'::regclass AND ad.oid = p.objid
    JOIN pg_attribute at ON at.attrelid = ad.adrelid AND at.attnum = ad.adnum
    LEFT JOIN pg_attribute ba ON p.refclassid = 'pg_class'::regclass AND p.refobjsubid > 0 AND ba.attrelid = p.refobjid AND ba.attnum = p.refobjsubid
)
SELECT DISTINCT akey, bkey FROM keyed WHERE akey <> bkey"#);

    let (
        schemas,
        exts,
        enums,
        domains,
        composites,
        sequences,
        tables,
        columns,
        identities,
        constraints,
        indexes,
        views,
        functions,
        triggers,
        policies,
        comments,
        unsupported,
        deps,
        version,
    ) = tokio::try_join!(
        async { client.query(&schemas_q, &p).await.map_err(err("schemas")) },
        async { client.query(ext_q, &[]).await.map_err(err("extensions")) },
        async { client.query(&enums_q, &p).await.map_err(err("enums")) },
        async { client.query(&domains_q, &p).await.map_err(err("domains")) },
        async {
            client
                .query(&composites_q, &p)
                .await
                .map_err(err("composite types"))
        },
        async {
            client
                .query(&sequences_q, &p)
                .await
                .map_err(err("sequences"))
        },
        async { client.query(&tables_q, &p).await.map_err(err("tables")) },
        async { client.query(&columns_q, &p).await.map_err(err("columns")) },
        async {
            client
                .query(&identities_q, &p)
                .await
                .map_err(err("identity columns"))
        },
        async {
            client
                .query(&constraints_q, &p)
                .await
                .map_err(err("constraints"))
        },
        async { client.query(&indexes_q, &p).await.map_err(err("indexes")) },
        async { client.query(&views_q, &p).await.map_err(err("views")) },
        async {
            client
                .query(&functions_q, &p)
                .await
                .map_err(err("functions"))
        },
        async { client.query(&triggers_q, &p).await.map_err(err("triggers")) },
        async { client.query(&policies_q, &p).await.map_err(err("policies")) },
        async { client.query(&comments_q, &p).await.map_err(err("comments")) },
        async {
            client
                .query(&unsupported_q, &p)
                .await
                .map_err(err("unsupported objects"))
        },
        async { client.query(&deps_q, &p).await.map_err(err("dependencies")) },
        async {
            client
                .query_one("SELECT current_setting('server_version_num')::int", &[])
                .await
                .map_err(err("server version"))
        },
    )?;

    let mut m = Model {
        server_version: version.get(0),
        ..Default::default()
    };
    m.schemas = schemas.iter().map(|r| r.get(0)).collect();
    for r in &exts {
        m.extensions.insert(
            r.get(0),
            Extension {
                schema: r.get(1),
                version: r.get(2),
            },
        );
    }
    for r in &enums {
        m.enums.insert(r.get(0), r.get(1));
    }
    for r in &domains {
        let names: Vec<String> = r.get(5);
        let defs: Vec<String> = r.get(6);
        m.domains.insert(
            r.get(0),
            Domain {
                base: r.get(1),
                default: r.get(2),
                not_null: r.get(3),
                collation: r.get(4),
                checks: names.into_iter().zip(defs).collect(),
            },
        );
    }
    for r in &composites {
        let names: Vec<String> = r.get(1);
        let types: Vec<String> = r.get(2);
        m.composites
            .insert(r.get(0), names.into_iter().zip(types).collect());
    }
    for r in &sequences {
        m.sequences.insert(
            r.get(0),
            Sequence {
                data_type: r.get(1),
                start: r.get(2),
                increment: r.get(3),
                min: r.get(4),
                max: r.get(5),
                cache: r.get(6),
                cycle: r.get(7),
                owned_by: r.get(8),
            },
        );
    }
    for r in &tables {
        let kind: String = r.get(1);
        let parent: Option<String> = r.get(3);
        let bound: Option<String> = r.get(4);
        m.tables.insert(
            r.get(0),
            Table {
                kind: kind.chars().next().unwrap_or('r'),
                columns: Vec::new(),
                constraints: BTreeMap::new(),
                partition_key: r.get(2),
                partition_of: parent.zip(bound),
                inherits: r.get(5),
                rls: r.get(6),
                rls_forced: r.get(7),
                options: r.get(8),
                unlogged: r.get(9),
            },
        );
    }
    for r in &columns {
        let table: String = r.get(0);
        let identity: Option<String> = r.get(5);
        if let Some(t) = m.tables.get_mut(&table) {
            t.columns.push(Column {
                name: r.get(1),
                data_type: r.get(2),
                not_null: r.get(3),
                default: r.get(4),
                identity: identity.and_then(|s| s.chars().next()),
                identity_options: None,
                generated: r.get(6),
                collation: r.get(7),
                inherited: r.get(8),
            });
        }
    }
    for r in &identities {
        let table: String = r.get(0);
        let column: String = r.get(1);
        let col = m
            .tables
            .get_mut(&table)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == column));
        if let Some(col) = col {
            col.identity_options = Some(IdentityOptions {
                start: r.get(2),
                increment: r.get(3),
                min: r.get(4),
                max: r.get(5),
                cache: r.get(6),
                cycle: r.get(7),
            });
        }
    }
    for r in &constraints {
        let table: String = r.get(0);
        let kind: String = r.get(2);
        if let Some(t) = m.tables.get_mut(&table) {
            t.constraints.insert(
                r.get(1),
                Constraint {
                    kind: kind.chars().next().unwrap_or('c'),
                    definition: r.get(3),
                    validated: r.get(4),
                    references: r.get(5),
                },
            );
        }
    }
    for r in &indexes {
        m.indexes.insert(
            r.get(0),
            Index {
                table: r.get(1),
                definition: r.get(2),
                unique: r.get(3),
                on_partitioned: r.get(4),
            },
        );
    }
    for r in &views {
        m.views.insert(
            r.get(0),
            View {
                materialized: r.get(1),
                definition: r.get(2),
                options: r.get(3),
            },
        );
    }
    for r in &functions {
        let kind: String = r.get(2);
        m.functions.insert(
            r.get(0),
            Function {
                definition: r.get(1),
                kind: kind.chars().next().unwrap_or('f'),
                returns: r.get(3),
                arguments: r.get(4),
                signature: r.get(5),
            },
        );
    }
    for r in &triggers {
        let table: String = r.get(0);
        let name: String = r.get(1);
        let enabled: String = r.get(3);
        m.triggers.insert(
            format!("{table}.{name}"),
            Trigger {
                table,
                definition: r.get(2),
                enabled: enabled.chars().next().unwrap_or('O'),
            },
        );
    }
    for r in &policies {
        let table: String = r.get(0);
        let name: String = r.get(1);
        m.policies.insert(
            format!("{table}.{name}"),
            Policy {
                table,
                permissive: r.get(2),
                command: r.get(3),
                roles: r.get(4),
                using: r.get(5),
                check: r.get(6),
            },
        );
    }
    for r in &comments {
        let target: Option<String> = r.get(0);
        if let Some(t) = target {
            m.comments.insert(t, r.get(1));
        }
    }
    for r in &unsupported {
        m.unsupported.insert(r.get(0), r.get(1));
    }
    for r in &deps {
        m.deps.entry(r.get(0)).or_default().insert(r.get(1));
    }
    // Foreign tables are reported as unsupported, not modelled as tables.
    m.tables.retain(|_, t| t.kind != 'f');
    Ok(m)
}

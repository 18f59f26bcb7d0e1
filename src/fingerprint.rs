//! A schema fingerprint: one catalog query hashed into a short string.
//!
//! Used to tell whether a golden template is stale. It covers what migrations change —
//! relations, columns with types, defaults and nullability, constraints, indexes, functions,
//! views, types, triggers, policies — in user schemas, and ignores OIDs and physical layout.

use tokio_postgres::Client;

use crate::pg::PgError;

const QUERY: &str = r#"
WITH objs AS (
  SELECT 'rel' AS k, n.nspname || '.' || c.relname || ':' || c.relkind::text AS v
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r','p','v','m','S','f','c')
  UNION ALL
  SELECT 'col', n.nspname || '.' || c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
         || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ':' || a.attidentity::text || a.attgenerated::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m','f','c')
  UNION ALL
  SELECT 'con', n.nspname || '.' || conname || ':' || pg_get_constraintdef(co.oid) || ':' || co.convalidated
    FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
  UNION ALL
  SELECT 'idx', schemaname || '.' || indexname || ':' || indexdef FROM pg_indexes
  UNION ALL
  SELECT 'fn', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || '):' || md5(p.prosrc)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  UNION ALL
  SELECT 'view', schemaname || '.' || viewname || ':' || md5(definition) FROM pg_views
  UNION ALL
  SELECT 'type', n.nspname || '.' || t.typname || ':' || t.typtype::text
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype IN ('e','d','r','m')
  UNION ALL
  SELECT 'enum', t.typname || ':' || e.enumlabel || ':' || e.enumsortorder
    FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  UNION ALL
  SELECT 'trg', tgrelid::regclass::text || '.' || tgname || ':' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'pol', schemaname || '.' || tablename || '.' || policyname || ':' || coalesce(qual, '') || coalesce(with_check, '') FROM pg_policies
  UNION ALL
  SELECT 'ext', extname || ':' || extversion FROM pg_extension
)
SELECT md5(coalesce(string_agg(k || '|' || v, E'\n' ORDER BY k, v), ''))
  FROM objs
 WHERE v NOT LIKE 'pg\_catalog.%' AND v NOT LIKE 'information\_schema.%' AND v NOT LIKE 'pg\_toast%'
"#;

/// The fingerprint of the database `client` is connected to.
pub async fn of(client: &Client) -> Result<String, PgError> {
    let row = client
        .query_one(QUERY, &[])
        .await
        .map_err(|e| PgError::new("cannot fingerprint the schema", e))?;
    Ok(row.get(0))
}

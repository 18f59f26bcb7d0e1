//! Introspection: a handful of catalog queries, pipelined on one connection, into a [`Model`].
//!
//! Each query covers one kind of object for the whole database (never one query per
//! object), so a 2,000-table schema costs a few round trips. Objects that belong to
//! extensions, system schemas and excluded schemas are skipped. Rows are read as a stream and
//! turned into the model as they arrive, so a large schema is never held twice.
//!
//! The server's deparsers are most of the cost. `pg_get_indexdef` looks up each column's
//! default operator class with a catalog scan, so plain indexes — columns only, default
//! operator classes and collations, no predicate or storage options — are spelled out by the
//! query itself exactly as `pg_get_indexdef` prints them (a test holds the two equal); every
//! other index is still deparsed by the server. Dependencies come back as bare OIDs and are
//! turned into keys with the names the other queries already read, instead of naming every
//! object of the database in SQL.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures_util::TryStreamExt;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use super::model::*;
use super::spell;
use crate::pg::{describe, PgError};

/// Schemas skipped by default: neon-migrate's own tracking schema, and the scratch schema of
/// the `integrity` check's fingerprints.
pub const DEFAULT_EXCLUDED: &[&str] = &["neon_migrate", "neon_migrate_integrity"];

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

fn failed(what: &str, e: tokio_postgres::Error) -> PgError {
    PgError {
        message: format!("introspecting {what}: {}", describe(&e)),
        code: e.code().map(|c| c.code().to_owned()),
    }
}

/// Runs `sql` and maps each row as it streams in (the rows themselves are not kept).
async fn fetch<T>(
    client: &Client,
    what: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    f: impl Fn(&Row) -> T,
) -> Result<Vec<T>, PgError> {
    let stream = client
        .query_raw(sql, params.iter().map(|p| *p as &dyn ToSql))
        .await
        .map_err(|e| failed(what, e))?;
    futures_util::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(|e| failed(what, e))? {
        out.push(f(&row));
    }
    Ok(out)
}

fn first_char(s: &str, or: char) -> char {
    s.chars().next().unwrap_or(or)
}

/// A constraint row as the constraints query returns it.
struct RawConstraintRow {
    table: String,
    name: String,
    oid: i64,
    quoted: String,
    /// Set when the server deparsed it already.
    definition: Option<String>,
    /// PRIMARY KEY, UNIQUE and EXCLUDE: the constraint's index.
    index_oid: i64,
    raw: spell::RawConstraint,
}

/// The server's spelling of the constraints `spell::constraint` could not write, and the
/// tables foreign keys reference (also outside the introspected schemas).
const CONSTRAINTS_BY_OID: &str = r#"
SELECT co.oid::int8, pg_get_constraintdef(co.oid),
       CASE WHEN co.contype = 'f' THEN (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fc.relname)
              FROM pg_class fc JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = co.confrelid) END
  FROM pg_constraint co WHERE co.oid = ANY($1::oid[])"#;

/// The server's spelling of the indexes `spell::index` could not write.
const INDEXES_BY_OID: &str = "SELECT i.indexrelid::int8, pg_get_indexdef(i.indexrelid) \
                              FROM pg_index i WHERE i.indexrelid = ANY($1::oid[])";

/// Records that `a` depends on `b`, copying the keys only when they are new.
fn add_edge(deps: &mut BTreeMap<String, BTreeSet<String>>, a: &str, b: &str) {
    match deps.get_mut(a) {
        Some(set) => {
            if !set.contains(b) {
                set.insert(b.to_owned());
            }
        }
        None => {
            deps.insert(a.to_owned(), BTreeSet::from([b.to_owned()]));
        }
    }
}

fn oid_of(oid: i64) -> u32 {
    u32::try_from(oid).unwrap_or(0)
}

/// Reads the whole schema of the database `client` is connected to.
pub async fn introspect(client: &Client, excluded: &[String]) -> Result<Model, PgError> {
    let ex: Vec<String> = excluded.to_vec();
    let p: [&(dyn ToSql + Sync); 1] = [&ex];
    let version: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(|e| failed("the server version", e))?
        .get(0);
    // `indnullsnotdistinct` exists from PG 15 on.
    let nulls_not_distinct = if version >= 150_000 {
        "i.indnullsnotdistinct"
    } else {
        "false"
    };

    let schemas_q = q("SELECT quote_ident(nspname) FROM ns ORDER BY 1");
    let ext_q = "SELECT quote_ident(e.extname), quote_ident(n.nspname), e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1";
    let enums_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 GROUP BY 1, 2 ORDER BY 1"#);
    let domains_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       format_type(t.typbasetype, t.typtypmod), t.typdefault, t.typnotnull,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c JOIN pg_namespace cn ON cn.oid = c.collnamespace WHERE c.oid = t.typcollation) END,
       coalesce((SELECT array_agg(quote_ident(c.conname) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}'),
       coalesce((SELECT array_agg(pg_get_constraintdef(c.oid) ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}'),
       coalesce((SELECT array_agg(c.oid::int8 ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '{}')
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_type bt ON bt.oid = t.typbasetype
 WHERE t.typtype = 'd'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 ORDER BY 1"#);
    let composites_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(t.typname), t.oid::int8,
       array_agg(quote_ident(a.attname) ORDER BY a.attnum),
       array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum), t.typrelid::int8
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
 GROUP BY 1, 2, t.typrelid ORDER BY 1"#);
    let sequences_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), format_type(s.seqtypid, NULL),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(a.attname)
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0 LIMIT 1),
       c.oid::int8
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    // Dependency keys come from the queries below: tables, views, sequences, indexes and
    // the indexes of constraints (named after their constraint); a relation's row type
    // stands for the relation.
    let tables_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind::text, c.oid::int8,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
              FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhrelid = c.oid) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       coalesce((SELECT array_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) ORDER BY i.inhseqno)
                   FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  WHERE i.inhrelid = c.oid AND NOT c.relispartition), '{}'),
       c.relrowsecurity, c.relforcerowsecurity, coalesce(c.reloptions, '{}'), c.relpersistence = 'u',
       c.reltype::int8
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    // A default cannot refer to a column, so it is deparsed without its table (relid 0):
    // with one, pg_get_expr opens the table for every default, the cost of most of this query.
    // Generated columns do refer to columns and keep theirs. The tables are picked first
    // (`OFFSET 0` keeps the planner from folding them back in), so pg_attribute is read in one
    // pass and hashed, not probed once per table.
    let columns_q = q(r#"
SELECT a.attrelid::int8, a.attnum::int4, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END,
       nullif(a.attidentity::text, ''),
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
       NOT a.attislocal, a.attcollation
  FROM pg_attribute a
  JOIN (SELECT c.oid FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'f')
           AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
        OFFSET 0) c ON c.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped"#);
    // Identity columns' sequences (internal to the column, so not among `sequences_q`).
    let identities_q = r#"
SELECT d.refobjid::int8, d.refobjsubid, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
  FROM pg_sequence s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
   AND d.objsubid = 0 AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i'"#;
    // PRIMARY KEY, UNIQUE and FOREIGN KEY constraints of the common shapes come back raw and
    // are spelled by `spell::constraint`; the server deparses the others.
    let delete_set_columns = if version >= 150_000 {
        "co.confdelsetcols IS NOT NULL"
    } else {
        "false"
    };
    let constraints_q = q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), co.conname, co.oid::int8, quote_ident(co.conname),
       co.contype::text, co.convalidated, co.conrelid::int8, co.confrelid::int8,
       CASE WHEN co.contype IN ('c', 'x')
              OR (co.contype IN ('p', 'u') AND NOT coalesce(ci.indnatts = ci.indnkeyatts AND cic.reloptions IS NULL
                                                           AND cic.reltablespace = 0 AND NOT {ci_nulls_not_distinct}, false))
              OR (co.contype = 'f' AND {delete_set_columns})
            THEN pg_get_constraintdef(co.oid) END,
       co.conkey, co.confkey, co.confmatchtype::text, co.confupdtype::text, co.confdeltype::text,
       co.condeferrable, co.condeferred, co.conindid::int8
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_index ci ON ci.indexrelid = co.conindid AND co.contype IN ('p', 'u')
  LEFT JOIN pg_class cic ON cic.oid = co.conindid AND co.contype IN ('p', 'u')
 WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND co.conislocal
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)"#,
        ci_nulls_not_distinct = nulls_not_distinct.replace("i.", "ci."),
    ));
    // Indexes on plain columns come back raw and are spelled by `spell::index`; those with
    // expressions, predicates or storage options (and materialized views' indexes, whose
    // columns the columns query does not read) are deparsed by the server.
    let indexes_q = q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(ic.relname), quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       CASE WHEN i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR ic.reloptions IS NOT NULL OR c.relkind = 'm'
            THEN pg_get_indexdef(i.indexrelid) END,
       i.indisunique, c.relkind = 'p', i.indexrelid::int8, i.indrelid::int8, quote_ident(ic.relname), am.amname::text,
       i.indnkeyatts::int4, i.indkey::int2[], i.indclass::oid[], i.indoption::int2[], i.indcollation::oid[],
       {nulls_not_distinct}, ic.relkind = 'I'
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
  JOIN ns ON ns.oid = c.relnamespace JOIN pg_am am ON am.oid = ic.relam
 WHERE c.relkind IN ('r', 'p', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
   AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)"#
    ));
    let default_opclasses_q = "SELECT oid FROM pg_opclass WHERE opcdefault";
    let views_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), c.relkind = 'm', pg_get_viewdef(c.oid, true),
       coalesce(c.reloptions, '{}'), c.oid::int8, c.reltype::int8
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#);
    let functions_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.oid::int8, pg_get_functiondef(p.oid), p.prokind::text, coalesce(pg_get_function_result(p.oid), ''),
       pg_get_function_arguments(p.oid),
       quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')'
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
 ORDER BY 1"#);
    let triggers_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(t.tgname), t.oid::int8,
       pg_get_triggerdef(t.oid, false), t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND t.tgparentid = 0
 ORDER BY 1, 2"#);
    let policies_q = q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(p.polname), p.oid::int8, p.polpermissive,
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
    // Dependencies as bare OIDs, keyed below with the names read above. A view's rule stands
    // for the view, a default or generation expression for its column (its link to that very
    // column says nothing and is left out). An index's links to its own table's columns are
    // left out too: Postgres rebuilds or drops an index with its columns, so the plan never
    // orders around them, and on a wide schema they are the bulk of pg_depend. Built-in
    // objects (OIDs below 16384) are never modelled.
    let deps_q = r#"
SELECT CASE WHEN d.classid IN ('pg_class'::regclass, 'pg_rewrite'::regclass, 'pg_attrdef'::regclass) THEN 'c'
            WHEN d.classid = 'pg_type'::regclass THEN 't' WHEN d.classid = 'pg_proc'::regclass THEN 'f'
            WHEN d.classid = 'pg_constraint'::regclass THEN 'k' WHEN d.classid = 'pg_trigger'::regclass THEN 'g'
            ELSE 'p' END,
       coalesce(r.ev_class, ad.adrelid, d.objid)::int8, coalesce(ad.adnum::int4, d.objsubid),
       CASE WHEN d.refclassid = 'pg_class'::regclass THEN 'c' WHEN d.refclassid = 'pg_type'::regclass THEN 't'
            WHEN d.refclassid = 'pg_proc'::regclass THEN 'f' WHEN d.refclassid = 'pg_constraint'::regclass THEN 'k'
            WHEN d.refclassid = 'pg_trigger'::regclass THEN 'g' ELSE 'p' END,
       d.refobjid::int8, d.refobjsubid
  FROM pg_depend d
  LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
  LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
  LEFT JOIN pg_class ix ON d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                       AND ix.oid = d.objid AND ix.relkind IN ('i', 'I')
 WHERE d.deptype IN ('n', 'a') AND ix.oid IS NULL AND d.objid >= 16384 AND d.refobjid >= 16384
   AND d.classid IN ('pg_class'::regclass, 'pg_rewrite'::regclass, 'pg_attrdef'::regclass, 'pg_type'::regclass,
                     'pg_proc'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
   AND d.refclassid IN ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass,
                        'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
   AND (ad.oid IS NULL OR NOT (d.refclassid = 'pg_class'::regclass AND d.refobjid = ad.adrelid AND d.refobjsubid = ad.adnum))"#;

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
        default_opclasses,
        views,
        functions,
        triggers,
        policies,
        comments,
        unsupported,
        deps,
    ) = tokio::try_join!(
        fetch(client, "schemas", &schemas_q, &p, |r| r.get::<_, String>(0)),
        fetch(client, "extensions", ext_q, &[], |r| {
            let e = Extension {
                schema: r.get(1),
                version: r.get(2),
            };
            (r.get::<_, String>(0), e)
        }),
        fetch(client, "enums", &enums_q, &p, |r| {
            (
                r.get::<_, String>(0),
                r.get::<_, i64>(1),
                r.get::<_, Vec<String>>(2),
            )
        }),
        fetch(client, "domains", &domains_q, &p, |r| {
            let names: Vec<String> = r.get(6);
            let defs: Vec<String> = r.get(7);
            let d = Domain {
                base: r.get(2),
                default: r.get(3),
                not_null: r.get(4),
                collation: r.get(5),
                checks: names.into_iter().zip(defs).collect(),
            };
            (
                r.get::<_, String>(0),
                r.get::<_, i64>(1),
                d,
                r.get::<_, Vec<i64>>(8),
            )
        }),
        fetch(client, "composite types", &composites_q, &p, |r| {
            let names: Vec<String> = r.get(2);
            let types: Vec<String> = r.get(3);
            let attrs: Vec<(String, String)> = names.into_iter().zip(types).collect();
            (
                r.get::<_, String>(0),
                r.get::<_, i64>(1),
                attrs,
                r.get::<_, i64>(4),
            )
        }),
        fetch(client, "sequences", &sequences_q, &p, |r| {
            let s = Sequence {
                data_type: r.get(1),
                start: r.get(2),
                increment: r.get(3),
                min: r.get(4),
                max: r.get(5),
                cache: r.get(6),
                cycle: r.get(7),
                owned_by: r.get(8),
            };
            (r.get::<_, String>(0), s, r.get::<_, i64>(9))
        }),
        fetch(client, "tables", &tables_q, &p, |r| {
            let parent: Option<String> = r.get(4);
            let bound: Option<String> = r.get(5);
            let t = Table {
                kind: first_char(r.get::<_, &str>(1), 'r'),
                columns: Vec::new(),
                constraints: BTreeMap::new(),
                partition_key: r.get(3),
                partition_of: parent.zip(bound),
                inherits: r.get(6),
                rls: r.get(7),
                rls_forced: r.get(8),
                options: r.get(9),
                unlogged: r.get(10),
            };
            (
                r.get::<_, String>(0),
                r.get::<_, i64>(2),
                t,
                r.get::<_, i64>(11),
            )
        }),
        fetch(client, "columns", &columns_q, &p, |r| {
            let identity: Option<String> = r.get(6);
            let c = Column {
                name: r.get(2),
                data_type: r.get(3),
                not_null: r.get(4),
                default: r.get(5),
                identity: identity.and_then(|s| s.chars().next()),
                identity_options: None,
                generated: r.get(7),
                collation: r.get(8),
                inherited: r.get(9),
            };
            (
                r.get::<_, i64>(0),
                r.get::<_, i32>(1),
                c,
                r.get::<_, u32>(10),
            )
        }),
        fetch(client, "identity columns", identities_q, &[], |r| {
            let o = IdentityOptions {
                start: r.get(2),
                increment: r.get(3),
                min: r.get(4),
                max: r.get(5),
                cache: r.get(6),
                cycle: r.get(7),
            };
            (r.get::<_, i64>(0), r.get::<_, i32>(1), o)
        }),
        fetch(client, "constraints", &constraints_q, &p, |r| {
            RawConstraintRow {
                table: r.get(0),
                name: r.get(1),
                oid: r.get(2),
                quoted: r.get(3),
                definition: r.get(8),
                index_oid: r.get(16),
                raw: spell::RawConstraint {
                    kind: first_char(r.get::<_, &str>(4), 'c'),
                    validated: r.get(5),
                    table_oid: r.get(6),
                    references_oid: r.get(7),
                    keys: r.get::<_, Option<Vec<i16>>>(9).unwrap_or_default(),
                    references_keys: r.get::<_, Option<Vec<i16>>>(10).unwrap_or_default(),
                    match_type: first_char(r.get::<_, &str>(11), 's'),
                    on_update: first_char(r.get::<_, &str>(12), 'a'),
                    on_delete: first_char(r.get::<_, &str>(13), 'a'),
                    deferrable: r.get(14),
                    deferred: r.get(15),
                },
            }
        }),
        fetch(client, "indexes", &indexes_q, &p, |r| {
            let i = Index {
                table: r.get(1),
                definition: r.get::<_, Option<String>>(2).unwrap_or_default(),
                unique: r.get(3),
                on_partitioned: r.get(4),
            };
            let raw = spell::RawIndex {
                bare: r.get(7),
                table: i.table.clone(),
                table_oid: r.get(6),
                am: r.get(8),
                unique: i.unique,
                only: r.get(15),
                key_columns: usize::try_from(r.get::<_, i32>(9)).unwrap_or(0),
                attnums: r.get(10),
                opclasses: r.get(11),
                options: r.get(12),
                collations: r.get(13),
                nulls_not_distinct: r.get(14),
            };
            (r.get::<_, String>(0), r.get::<_, i64>(5), i, raw)
        }),
        fetch(client, "operator classes", default_opclasses_q, &[], |r| {
            r.get::<_, u32>(0)
        }),
        fetch(client, "views", &views_q, &p, |r| {
            let v = View {
                materialized: r.get(1),
                definition: r.get(2),
                options: r.get(3),
            };
            (
                r.get::<_, String>(0),
                v,
                r.get::<_, i64>(4),
                r.get::<_, i64>(5),
            )
        }),
        fetch(client, "functions", &functions_q, &p, |r| {
            let f = Function {
                definition: r.get(2),
                kind: first_char(r.get::<_, &str>(3), 'f'),
                returns: r.get(4),
                arguments: r.get(5),
                signature: r.get(6),
            };
            (r.get::<_, String>(0), r.get::<_, i64>(1), f)
        }),
        fetch(client, "triggers", &triggers_q, &p, |r| {
            let (table, name): (String, String) = (r.get(0), r.get(1));
            let t = Trigger {
                table: table.clone(),
                definition: r.get(3),
                enabled: first_char(r.get::<_, &str>(4), 'O'),
            };
            (format!("{table}.{name}"), r.get::<_, i64>(2), t)
        }),
        fetch(client, "policies", &policies_q, &p, |r| {
            let (table, name): (String, String) = (r.get(0), r.get(1));
            let pol = Policy {
                table: table.clone(),
                permissive: r.get(3),
                command: r.get(4),
                roles: r.get(5),
                using: r.get(6),
                check: r.get(7),
            };
            (format!("{table}.{name}"), r.get::<_, i64>(2), pol)
        }),
        fetch(client, "comments", &comments_q, &p, |r| {
            (r.get::<_, Option<String>>(0), r.get::<_, String>(1))
        }),
        fetch(client, "unsupported objects", &unsupported_q, &p, |r| {
            (r.get::<_, String>(0), r.get::<_, String>(1))
        }),
        fetch(client, "dependencies", deps_q, &[], |r| {
            (
                first_char(r.get::<_, &str>(0), 'c'),
                r.get::<_, i64>(1),
                r.get::<_, i32>(2),
                first_char(r.get::<_, &str>(3), 'c'),
                r.get::<_, i64>(4),
                r.get::<_, i32>(5),
            )
        }),
    )?;

    let mut m = Model {
        server_version: version,
        ..Default::default()
    };
    // Dependency keys by (catalog, OID): `c` pg_class, `t` pg_type, `f` pg_proc,
    // `k` pg_constraint, `g` pg_trigger, `p` pg_policy; columns by (table OID, attnum).
    let mut keys: HashMap<(char, i64), String> = HashMap::new();

    m.schemas = schemas.into_iter().collect();
    m.extensions = exts.into_iter().collect();
    for (name, oid, labels) in enums {
        keys.insert(('t', oid), format!("type:{name}"));
        m.enums.insert(name, labels);
    }
    for (name, oid, d, checks) in domains {
        for c in checks {
            keys.insert(('k', c), format!("type:{name}"));
        }
        keys.insert(('t', oid), format!("type:{name}"));
        m.domains.insert(name, d);
    }
    for (name, oid, attrs, relation) in composites {
        keys.insert(('t', oid), format!("type:{name}"));
        keys.insert(('c', relation), format!("type:{name}"));
        m.composites.insert(name, attrs);
    }
    for (name, s, oid) in sequences {
        keys.insert(('c', oid), format!("rel:{name}"));
        m.sequences.insert(name, s);
    }
    let mut table_of: HashMap<i64, String> = HashMap::new();
    for (name, oid, t, rowtype) in tables {
        let key = format!("rel:{name}");
        if rowtype != 0 {
            keys.insert(('t', rowtype), key.clone());
        }
        keys.insert(('c', oid), key);
        table_of.insert(oid, name.clone());
        m.tables.insert(name, t);
    }
    for (name, v, oid, rowtype) in views {
        let key = format!("rel:{name}");
        if rowtype != 0 {
            keys.insert(('t', rowtype), key.clone());
        }
        keys.insert(('c', oid), key);
        m.views.insert(name, v);
    }
    // Where each column went: (table OID, attnum) → position in its table.
    let mut placed: HashMap<(i64, i32), usize> = HashMap::with_capacity(columns.len());
    let mut columns = columns;
    columns.sort_unstable_by_key(|(relid, attnum, _, _)| (*relid, *attnum));
    let mut names: spell::Columns = HashMap::with_capacity(columns.len());
    // Sorted by table: each table is looked up once for all its columns.
    let mut columns = columns.into_iter().peekable();
    while let Some(&(relid, ..)) = columns.peek() {
        let mut t = table_of.get(&relid).and_then(|name| m.tables.get_mut(name));
        while let Some((_, attnum, c, collation)) = columns.next_if(|col| col.0 == relid) {
            let Some(t) = t.as_deref_mut() else {
                continue;
            };
            names.insert(
                (relid, attnum),
                spell::ColumnName {
                    quoted: c.name.clone(),
                    collation,
                },
            );
            placed.insert((relid, attnum), t.columns.len());
            t.columns.push(c);
        }
    }
    for (relid, attnum, options) in identities {
        let (Some(i), Some(table)) = (placed.get(&(relid, attnum)), table_of.get(&relid)) else {
            continue;
        };
        if let Some(c) = m.tables.get_mut(table).and_then(|t| t.columns.get_mut(*i)) {
            c.identity_options = Some(options);
        }
    }
    // Definitions written here where the shape allows, by the server otherwise.
    let mut ask_server: Vec<u32> = Vec::new();
    let mut constraints: Vec<(RawConstraintRow, Constraint)> = constraints
        .into_iter()
        .map(|mut row| {
            let raw = &row.raw;
            let references = (raw.kind == 'f')
                .then(|| table_of.get(&raw.references_oid))
                .flatten()
                .cloned();
            let definition = row
                .definition
                .take()
                .or_else(|| spell::constraint(raw, references.as_deref(), &names));
            if definition.is_none() || (raw.kind == 'f' && references.is_none()) {
                ask_server.push(oid_of(row.oid));
            }
            let c = Constraint {
                kind: raw.kind,
                definition: definition.unwrap_or_default(),
                validated: raw.validated,
                references,
            };
            (row, c)
        })
        .collect();
    if !ask_server.is_empty() {
        let rows = fetch(
            client,
            "constraint definitions",
            CONSTRAINTS_BY_OID,
            &[&ask_server],
            |r| {
                (
                    r.get::<_, i64>(0),
                    r.get::<_, String>(1),
                    r.get::<_, Option<String>>(2),
                )
            },
        )
        .await?;
        let by_oid: HashMap<i64, (String, Option<String>)> =
            rows.into_iter().map(|(o, d, r)| (o, (d, r))).collect();
        for (row, c) in &mut constraints {
            if let Some((definition, references)) = by_oid.get(&row.oid) {
                c.definition.clone_from(definition);
                if c.kind == 'f' {
                    c.references.clone_from(references);
                }
            }
        }
    }
    for (row, c) in constraints {
        keys.insert(('k', row.oid), format!("con:{}.{}", row.table, row.quoted));
        if matches!(row.raw.kind, 'p' | 'u' | 'x') && row.index_oid != 0 {
            // A constraint's index bears the constraint's name, in the table's schema (a
            // foreign key's `conindid` is the referenced key's index, not its own).
            let schema = super::split_qualified(&row.table).map_or("public", |(s, _)| s);
            keys.insert(
                ('c', row.index_oid),
                format!("index:{schema}.{}", row.quoted),
            );
        }
        if let Some(t) = m.tables.get_mut(&row.table) {
            t.constraints.insert(row.name, c);
        }
    }
    let defaults: HashSet<u32> = default_opclasses.into_iter().collect();
    let mut ask_server: Vec<u32> = Vec::new();
    let mut by_oid: HashMap<i64, String> = HashMap::new();
    for (name, oid, mut i, raw) in indexes {
        if i.definition.is_empty() {
            match spell::index(&raw, &names, &defaults) {
                Some(d) => i.definition = d,
                None => ask_server.push(oid_of(oid)),
            }
        }
        by_oid.insert(oid, name.clone());
        keys.insert(('c', oid), format!("index:{name}"));
        m.indexes.insert(name, i);
    }
    if !ask_server.is_empty() {
        let rows = fetch(
            client,
            "index definitions",
            INDEXES_BY_OID,
            &[&ask_server],
            |r| (r.get::<_, i64>(0), r.get::<_, String>(1)),
        )
        .await?;
        for (oid, definition) in rows {
            if let Some(i) = by_oid.get(&oid).and_then(|n| m.indexes.get_mut(n)) {
                i.definition = definition;
            }
        }
    }
    for (name, oid, f) in functions {
        keys.insert(('f', oid), format!("fn:{name}"));
        m.functions.insert(name, f);
    }
    for (key, oid, t) in triggers {
        keys.insert(('g', oid), format!("trigger:{key}"));
        m.triggers.insert(key, t);
    }
    for (key, oid, pol) in policies {
        keys.insert(('p', oid), format!("policy:{key}"));
        m.policies.insert(key, pol);
    }
    m.comments = comments
        .into_iter()
        .filter_map(|(target, text)| target.map(|t| (t, text)))
        .collect();
    m.unsupported = unsupported.into_iter().collect();
    for (ac, ao, asub, bc, bo, bsub) in deps {
        let (Some(ak), Some(bk)) = (keys.get(&(ac, ao)), keys.get(&(bc, bo))) else {
            continue;
        };
        if ak != bk {
            add_edge(&mut m.deps, ak, bk);
        }
        // Column-level edges too: a view, policy, trigger or generated column that reads a
        // column whose type changes must be rebuilt around the change.
        // Column keys are written only for the columns an edge names.
        if asub > 0 || bsub > 0 {
            let column = |c: char, o: i64, sub: i32| -> Option<String> {
                if c != 'c' || sub <= 0 {
                    return None;
                }
                let name = &names.get(&(o, sub))?.quoted;
                Some(format!("col:{}.{name}", table_of.get(&o)?))
            };
            let a = column(ac, ao, asub);
            let b = column(bc, bo, bsub);
            let (a, b) = (a.as_deref().unwrap_or(ak), b.as_deref().unwrap_or(bk));
            if a != b {
                add_edge(&mut m.deps, a, b);
            }
        }
    }
    // Foreign tables are reported as unsupported, not modelled as tables.
    m.tables.retain(|_, t| t.kind != 'f');
    Ok(m)
}

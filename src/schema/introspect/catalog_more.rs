//! More of the catalog fingerprint (see [`crate::schema::catalog`]): the areas the first query
//! ([`super::catalog`]) left out, each a `SELECT` of the same row shape `(kind, parent, name,
//! def, acl, owner, extra)`, hooked into that query by [`parts`].
//!
//! - objects a user created in `pg_catalog` / `information_schema` and in neon-migrate's own
//!   schemas (`neon_migrate`, `neon_migrate_integrity`), which the model skips: seen here, so
//!   a difference is reported as not checked instead of passing unseen;
//! - extension members (the extension's version is the `extension` row's): each member with
//!   its definition and comment, privileges (changed since the extension's scripts) and owner
//!   (an array type follows from its element type), so `ALTER FUNCTION ext_fn …` or a GRANT on an
//!   extension's table after `CREATE EXTENSION`, and a changed membership, are seen;
//! - privileges of built-in objects that differ from their initial privileges
//!   (`pg_init_privs`, else `acldefault`);
//! - settings of this database and of roles in it (`pg_db_role_setting`; values hashed);
//! - large objects' privileges and owners (not their existence: data);
//! - subscriptions of this database (the connection string, which holds a password, is never
//!   read);
//! - view column defaults, `toast.*` options, materialized
//!   views `WITH NO DATA`, partitions with a pending detach, virtual generated columns (18);
//!   index column statistics targets come with the columns (`columns.rs`).
//!
//! Every part reads each catalog once (no per-row subquery over a large catalog), so it stays
//! cheap on 10,000 tables. None of these kinds has an explainer but extension members (their
//! extension's model): any difference is reported as not modeled.

use super::DEFAULT_EXCLUDED;

/// A role: `PUBLIC`, `=` for the session's role, else its name.
fn role(e: &str) -> String {
    format!(
        "CASE {e} WHEN 0 THEN 'PUBLIC' WHEN (SELECT oid FROM me) THEN '=' ELSE {e}::regrole::text END"
    )
}

/// An ACL (`e`, never NULL here) as sorted `grantee:privilege[*]` items, the object's owner
/// (`owner`) spelled `owner` whatever its name.
fn acl_items(e: &str, owner: &str) -> String {
    format!(
        "(SELECT coalesce(string_agg(s, ',' ORDER BY s), '') FROM (SELECT CASE WHEN ai.grantee = {owner} AND ai.grantee <> 0 THEN 'owner' ELSE {} END || ':' || ai.privilege_type || CASE WHEN ai.is_grantable THEN '*' ELSE '' END AS s FROM aclexplode({e}) ai) aj)",
        role("ai.grantee"),
    )
}

/// neon-migrate's own schemas as a SQL list.
fn own_schemas() -> String {
    DEFAULT_EXCLUDED
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Objects created by a user (OID ≥ 16384) in the system schemas or in neon-migrate's own
/// schemas, which the model skips. neon-migrate's own tables there are left out: the
/// tracking table (`neon_migrate.schema_migrations`) and the integrity check's scratch
/// tables (`neon_migrate_integrity.fp_*`).
fn skipped_schemas() -> String {
    let own = own_schemas();
    let acl = acl_items("x.acl", "x.own");
    format!(
        r#"
SELECT CASE WHEN sn.nspname IN ({own}) THEN 'object in a schema neon-migrate skips' ELSE 'object in a system schema' END,
       '', o.type || ' ' || o.identity, md5(coalesce(x.def, '')),
       CASE WHEN x.acl IS NOT NULL THEN {acl} END, {owner}, NULL
  FROM (
    SELECT 'pg_proc'::regclass AS cls, p.oid, p.pronamespace AS nsp, p.proowner AS own, p.proacl AS acl,
           CASE WHEN p.prokind IN ('a', 'w') THEN p.prorettype::regtype::text ELSE pg_get_functiondef(p.oid) END AS def
      FROM pg_proc p WHERE p.oid >= 16384 AND p.pronamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_class'::regclass, c.oid, c.relnamespace, c.relowner, c.relacl,
           concat_ws('|', c.relkind, c.reloptions::text, CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)
      FROM pg_class c JOIN sk ON sk.oid = c.relnamespace
     WHERE c.oid >= 16384 AND NOT (sk.nspname = 'neon_migrate' AND c.relname IN ('schema_migrations', 'schema_migrations_pkey'))
       AND NOT (sk.nspname = 'neon_migrate_integrity' AND c.relname LIKE 'fp\_%')
    UNION ALL
    SELECT 'pg_type'::regclass, t.oid, t.typnamespace, t.typowner, t.typacl, concat_ws('|', t.typtype, t.typbasetype::regtype)
      FROM pg_type t WHERE t.oid >= 16384 AND t.typnamespace IN (SELECT oid FROM sk) AND t.typrelid = 0 AND t.typcategory <> 'A'
    UNION ALL
    SELECT 'pg_operator'::regclass, o.oid, o.oprnamespace, o.oprowner, NULL, o.oprcode::regprocedure::text
      FROM pg_operator o WHERE o.oid >= 16384 AND o.oprnamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_collation'::regclass, co.oid, co.collnamespace, co.collowner, NULL, NULL
      FROM pg_collation co WHERE co.oid >= 16384 AND co.collnamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_conversion'::regclass, cv.oid, cv.connamespace, cv.conowner, NULL, cv.conproc::regprocedure::text
      FROM pg_conversion cv WHERE cv.oid >= 16384 AND cv.connamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_ts_config'::regclass, cf.oid, cf.cfgnamespace, cf.cfgowner, NULL, NULL
      FROM pg_ts_config cf WHERE cf.oid >= 16384 AND cf.cfgnamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_ts_dict'::regclass, dc.oid, dc.dictnamespace, dc.dictowner, NULL, dc.dictinitoption
      FROM pg_ts_dict dc WHERE dc.oid >= 16384 AND dc.dictnamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_opfamily'::regclass, f.oid, f.opfnamespace, f.opfowner, NULL, NULL
      FROM pg_opfamily f WHERE f.oid >= 16384 AND f.opfnamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_opclass'::regclass, oc.oid, oc.opcnamespace, oc.opcowner, NULL, NULL
      FROM pg_opclass oc WHERE oc.oid >= 16384 AND oc.opcnamespace IN (SELECT oid FROM sk)
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass, s.oid, s.stxnamespace, s.stxowner, NULL, pg_get_statisticsobjdef(s.oid)
      FROM pg_statistic_ext s WHERE s.oid >= 16384 AND s.stxnamespace IN (SELECT oid FROM sk)
  ) x
  JOIN pg_namespace sn ON sn.oid = x.nsp,
  LATERAL pg_identify_object(x.cls, x.oid, 0) o
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = x.cls AND ext.objid = x.oid)
UNION ALL
-- A trigger on a table of those schemas.
SELECT 'object in a schema neon-migrate skips', '', 'trigger ' || quote_ident(t.tgname) || ' on ' || quote_ident(sk.nspname) || '.' || quote_ident(c.relname),
       md5(pg_get_triggerdef(t.oid) || t.tgenabled::text), NULL, NULL, NULL
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN sk ON sk.oid = c.relnamespace
 WHERE NOT t.tgisinternal"#,
        owner = role("x.own"),
    )
}

/// Every member of every extension, built-in ones (`plpgsql`, made by `initdb`) too:
/// functions with their definition, relations with their kind and options, and the
/// privileges and owner of functions, relations, types and languages. Types of the members'
/// tables and arrays follow from them. `ALTER LANGUAGE plpgsql OWNER TO …` and `COMMENT ON
/// LANGUAGE plpgsql` gave "no schema changes" while built-in extensions were left out (F9).
///
/// A member's comment is part of its definition (the extension's script sets it; the model
/// leaves members' comments out). Its privileges are only what changed since the extension's
/// scripts set them (`pg_init_privs`, which `CREATE EXTENSION` and `ALTER EXTENSION … UPDATE`
/// keep; else the kind's default), as `+item` granted and `-item` revoked: a version update
/// leaves that change as it was, so it is compared whatever the versions (a GRANT on a member
/// was hidden by a version change), and a new member's is empty unless a GRANT followed.
/// The bootstrap superuser (OID 10), which owns a trusted extension's members whoever
/// created it, reads as one word on every server.
fn extension_members(built_in: bool) -> String {
    // Built-in extensions' members (a handful) are always read; the others only when the
    // census finds an extension (the query arm's join is its gate's text, `catalog::GATES`).
    let (e, which) = if built_in {
        ("be", "be.oid < 16384")
    } else {
        ("e", "e.oid >= 16384")
    };
    let items = |e: &str| {
        format!(
            "ARRAY(SELECT CASE WHEN ai.grantee = a.own AND ai.grantee <> 0 THEN 'owner' ELSE {} END || ':' || ai.privilege_type || CASE WHEN ai.is_grantable THEN '*' ELSE '' END FROM aclexplode(coalesce({e}, acldefault(a.k, a.own))) ai)",
            role("ai.grantee")
        )
    };
    format!(
        r#"
SELECT 'extension member', quote_ident({e}.extname), o.type || ' ' || o.identity,
       md5(concat_ws('|', CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) WHEN p.oid IS NOT NULL THEN p.prokind::text END,
         c.relkind, c.relpersistence, c.reloptions::text, c.relrowsecurity, c.relreplident,
         (SELECT 'comment ' || pd.description FROM pg_description pd WHERE pd.objoid = d.objid AND pd.classoid = d.classid AND pd.objsubid = 0))),
       (SELECT string_agg(i, ',' ORDER BY i) FROM (
          (SELECT '+' || u FROM unnest({now}) u EXCEPT SELECT '+' || u FROM unnest({init}) u)
          UNION ALL
          (SELECT '-' || u FROM unnest({init}) u EXCEPT SELECT '-' || u FROM unnest({now}) u)) x(i)),
       CASE a.own WHEN 10 THEN '{bootstrap}' WHEN (SELECT oid FROM me) THEN '=' ELSE a.own::regrole::text END,
       NULL
  FROM pg_depend d
  JOIN pg_extension {e} ON {e}.oid = d.refobjid
  LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
  LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
  LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
  LEFT JOIN pg_language l ON d.classid = 'pg_language'::regclass AND l.oid = d.objid
  LEFT JOIN pg_init_privs ip ON ip.classoid = d.classid AND ip.objoid = d.objid AND ip.objsubid = 0,
  LATERAL (SELECT coalesce(p.proowner, c.relowner, t.typowner, l.lanowner) AS own, coalesce(p.proacl, c.relacl, t.typacl, l.lanacl) AS acl,
                  (CASE WHEN p.oid IS NOT NULL THEN 'f' WHEN c.relkind = 'S' THEN 's' WHEN c.oid IS NOT NULL THEN 'r' WHEN l.oid IS NOT NULL THEN 'l' ELSE 'T' END)::"char" AS k) a,
  LATERAL pg_identify_object(d.classid, d.objid, 0) o
 WHERE d.deptype = 'e' AND d.refclassid = 'pg_extension'::regclass AND {which}
   -- An array type follows from its element type (PostgreSQL 18 records it as a member).
   AND (t.oid IS NULL OR t.typcategory <> 'A')"#,
        now = items("a.acl"),
        init = items("ip.initprivs"),
        bootstrap = crate::schema::catalog::BOOTSTRAP_SUPERUSER,
    )
}

/// Built-in objects (OID below 16384) whose privileges differ from their initial ones
/// (`pg_init_privs`, else the kind's default; `information_schema`'s relations, which initdb
/// grants to PUBLIC without recording it, start with `SELECT` for PUBLIC): `GRANT EXECUTE ON
/// FUNCTION pg_read_file …`, `REVOKE … ON pg_catalog…`. A row is only the change (`+item`
/// granted, `-item` revoked), so two servers of different versions, whose built-in objects
/// and defaults differ (PostgreSQL 17's MAINTAIN), compare equal. The schemas the model
/// reads (`public`) are the model's.
fn builtin_privileges() -> String {
    let items = |e: &str| {
        format!(
            "ARRAY(SELECT CASE WHEN ai.grantee = b.own AND ai.grantee <> 0 THEN 'owner' ELSE {} END || ':' || ai.privilege_type || CASE WHEN ai.is_grantable THEN '*' ELSE '' END FROM aclexplode(coalesce({e}, acldefault(b.k, b.own))) ai)",
            role("ai.grantee")
        )
    };
    format!(
        r#"
SELECT 'built-in object privileges', '', o.type || ' ' || o.identity, NULL, z.change, NULL, NULL
  FROM (
    SELECT y.cls, y.oid, y.sub,
           (SELECT string_agg(i, ',' ORDER BY i) FROM (
              (SELECT '+' || u FROM unnest(y.now) u EXCEPT SELECT '+' || u FROM unnest(y.base) u)
              UNION ALL
              (SELECT '-' || u FROM unnest(y.base) u EXCEPT SELECT '-' || u FROM unnest(y.now) u)) d(i)) AS change
      FROM (
        SELECT b.cls, b.oid, b.sub, {now} AS now,
               {init} || CASE WHEN ip.objoid IS NULL AND b.nsp = 'information_schema'::regnamespace AND b.sub = 0
                               THEN ARRAY['PUBLIC:SELECT'] ELSE '{{}}'::text[] END AS base
          FROM (
            SELECT 'pg_class'::regclass AS cls, c.oid, 0 AS sub, c.relacl AS acl, c.relowner AS own,
                   (CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char" AS k, c.relnamespace AS nsp
              FROM pg_class c WHERE c.oid < 16384
            UNION ALL
            SELECT 'pg_class'::regclass, a.attrelid, a.attnum, a.attacl, c.relowner, 'c'::"char", c.relnamespace
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE a.attrelid < 16384 AND c.oid < 16384 AND a.attnum > 0
            UNION ALL
            SELECT 'pg_proc'::regclass, p.oid, 0, p.proacl, p.proowner, 'f'::"char", NULL FROM pg_proc p WHERE p.oid < 16384
            UNION ALL
            SELECT 'pg_namespace'::regclass, n.oid, 0, n.nspacl, n.nspowner, 'n'::"char", NULL FROM pg_namespace n
             WHERE n.oid < 16384 AND n.oid NOT IN (SELECT oid FROM ns)
            UNION ALL
            SELECT 'pg_type'::regclass, t.oid, 0, t.typacl, t.typowner, 'T'::"char", NULL FROM pg_type t WHERE t.oid < 16384
            UNION ALL
            SELECT 'pg_language'::regclass, l.oid, 0, l.lanacl, l.lanowner, 'l'::"char", NULL FROM pg_language l WHERE l.oid < 16384
            UNION ALL
            SELECT 'pg_foreign_data_wrapper'::regclass, w.oid, 0, w.fdwacl, w.fdwowner, 'F'::"char", NULL
              FROM pg_foreign_data_wrapper w WHERE w.oid < 16384
          ) b
          LEFT JOIN pg_init_privs ip ON ip.classoid = b.cls AND ip.objoid = b.oid AND ip.objsubid = b.sub
         -- An ACL equal to its initial one is no change (most built-in objects): not expanded.
         WHERE (b.acl IS NOT NULL OR ip.initprivs IS NOT NULL) AND b.acl IS DISTINCT FROM ip.initprivs
      ) y
  ) z,
  LATERAL pg_identify_object(z.cls, z.oid, z.sub) o
 WHERE z.change IS NOT NULL"#,
        now = items("b.acl"),
        init = items("ip.initprivs"),
    )
}

/// Settings of this database (`ALTER DATABASE … SET`) and of roles in it (`ALTER ROLE … IN
/// DATABASE … SET`); values hashed. A role is named, even the session's own: the setting
/// applies to that role whoever reads it (`=` read as the session's role made main and its
/// copy differ when read by two roles, and printed as a blank name). A local test copy's own
/// role (`neon_migrate_copy_…`) is left out: the provider gives it the settings main's role
/// has, which main has under that role's name, and main never has the copy's role.
fn database_settings() -> String {
    r#"
SELECT 'database setting', CASE WHEN s.setrole = 0 THEN '' ELSE 'role ' || s.setrole::regrole::text END, split_part(cfg, '=', 1),
       md5(substr(cfg, strpos(cfg, '=') + 1)), NULL, NULL, NULL
  FROM pg_db_role_setting s, unnest(s.setconfig) cfg
 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND (s.setrole = 0 OR s.setrole::regrole::text NOT LIKE 'neon\_migrate\_copy\_%')"#
        .to_owned()
}

/// The database itself: its comment, privileges and owner, which the model leaves out
/// (`GRANT CREATE ON DATABASE` lets a role create schemas), and the properties its owner can
/// change with `ALTER DATABASE` (`CONNECTION LIMIT`, `IS_TEMPLATE`, `ALLOW_CONNECTIONS`,
/// `TABLESPACE`) as unmodeled parts of its `Extra` aspect (`net_parts`), each only when not
/// the default, in clear: the net names the property with both values. One row under a fixed
/// name: the two sides are different databases, compared by content.
fn database() -> String {
    format!(
        r#"
SELECT 'database', '', '(this database)',
       md5(coalesce(shobj_description(d.oid, 'pg_database'), '')), {acl}, {owner},
       nullif(concat(CASE WHEN d.datconnlimit <> -1 THEN chr(31) || 'CONNECTION LIMIT=' || d.datconnlimit END,
                     CASE WHEN d.datistemplate THEN chr(31) || 'IS_TEMPLATE=true' END,
                     CASE WHEN NOT d.datallowconn THEN chr(31) || 'ALLOW_CONNECTIONS=false' END,
                     CASE WHEN t.spcname <> 'pg_default' THEN chr(31) || 'TABLESPACE=' || quote_ident(t.spcname) END), '')
  FROM pg_database d LEFT JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = current_database()"#,
        acl = super::catalog::acl_with_default("d.datacl", "'d'", "d.datdba"),
        owner = super::catalog::owner("d.datdba"),
    )
}

/// Large objects' privileges and owners (`GRANT … ON LARGE OBJECT`, `ALTER LARGE OBJECT …
/// OWNER TO`): who may read and write their data. A large object itself is data (an
/// application creates them as it runs; `pg_dump -s` leaves them out): one on a single side
/// is not compared (see [`crate::schema::catalog::LARGE_OBJECT`]), only the privileges and
/// owner of one on both sides, and no explainer explains them: reported as not modeled.
fn large_objects() -> String {
    format!(
        r#"
SELECT 'large object', '', lo.oid::text, NULL, {acl}, {owner}, NULL
  FROM pg_largeobject_metadata lo"#,
        acl = super::catalog::acl_with_default("lo.lomacl", "'L'", "lo.lomowner"),
        owner = super::catalog::owner("lo.lomowner"),
    )
}

/// Subscriptions of this database. The connection string (`subconninfo`) is never read: it
/// holds a password (and only superusers may read it). Settings newer than PostgreSQL 15
/// count only when not at their default, so two versions compare equal.
fn subscriptions(version: i32) -> String {
    let v15 = if version >= 150_000 {
        "s.subtwophasestate, s.subdisableonerr,"
    } else {
        ""
    };
    let mut newer = String::new();
    if version >= 160_000 {
        newer.push_str(", 'origin=' || nullif(s.suborigin, 'any'), 'password_required=' || nullif(s.subpasswordrequired, true)::text, 'run_as_owner=' || nullif(s.subrunasowner, false)::text");
    }
    if version >= 170_000 {
        newer.push_str(", 'failover=' || nullif(s.subfailover, false)::text");
    }
    format!(
        r#"
SELECT 'subscription', '', quote_ident(s.subname),
       md5(concat_ws('|', s.subenabled, s.subbinary, CASE s.substream::text WHEN 'false' THEN 'f' WHEN 'true' THEN 't' ELSE s.substream::text END,
         {v15} s.subslotname, s.subsynccommit, s.subpublications::text{newer})),
       NULL, {owner}, NULL
  FROM pg_subscription s
 WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"#,
        owner = role("s.subowner"),
    )
}

/// Relations' and columns' settings the first query leaves out.
fn relation_details(version: i32) -> String {
    let virtual_columns = if version >= 180_000 {
        r#"
UNION ALL
SELECT 'virtual generated column', quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname),
       md5(pg_get_expr(d.adbin, d.adrelid)), NULL, NULL, NULL
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attgenerated = 'v' AND NOT a.attisdropped"#
    } else {
        ""
    };
    format!(
        r#"
SELECT 'view column default', quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname),
       md5(pg_get_expr(d.adbin, d.adrelid)), NULL, NULL, NULL
  FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE c.relkind = 'v'
UNION ALL
SELECT 'toast options', '', quote_ident(ns.nspname) || '.' || quote_ident(c.relname), md5(tc.reloptions::text), NULL, NULL, NULL
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace JOIN pg_class tc ON tc.oid = c.reltoastrelid
 -- `reltoastrelid` names only toast tables: with no toast options anywhere (built-in views
 -- have options) the join finds nothing to probe with and pg_class is not read a second time.
 WHERE tc.relkind = 't' AND tc.reloptions IS NOT NULL
UNION ALL
SELECT 'materialized view not populated (WITH NO DATA)', '', quote_ident(ns.nspname) || '.' || quote_ident(c.relname), md5('no data'), NULL, NULL, NULL
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind = 'm' AND NOT c.relispopulated
UNION ALL
SELECT 'pending partition detach', quote_ident(pn.nspname) || '.' || quote_ident(p.relname), quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       md5('pending'), NULL, NULL, NULL
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
 WHERE i.inhdetachpending{virtual_columns}"#,
    )
}

/// The parts for server `version`, each a `SELECT` to join to the catalog query with `UNION
/// ALL`; they use its `ns`, `ext` and `me`, and `sk` from [`with_sk`].
pub(super) fn parts(version: i32) -> Vec<String> {
    vec![
        skipped_schemas(),
        extension_members(false),
        extension_members(true),
        builtin_privileges(),
        database_settings(),
        database(),
        large_objects(),
        subscriptions(version),
        relation_details(version),
        super::catalog_tool::own_objects(),
        range_parts(),
        extension_dependencies(),
    ]
    .into_iter()
    .chain(super::catalog_builtin::parts())
    .collect()
}

/// A range type's implicit objects, created with it (its constructors, its multirange type
/// and the multirange's constructors): their properties, privileges and owners, which an
/// `ALTER FUNCTION`, a `GRANT` or a `REVOKE` changes on their own (the range's row holds
/// none of them). Each under its range type.
fn range_parts() -> String {
    let range_of = |t: &str| {
        format!(
            "(SELECT quote_ident(rn.nspname) || '.' || quote_ident(rt.typname) FROM pg_type rt JOIN pg_namespace rn ON rn.oid = rt.typnamespace
          WHERE rt.oid = coalesce((SELECT rngtypid FROM pg_range WHERE rngmultitypid = {t}), {t}))"
        )
    };
    format!(
        r#"
SELECT 'range type part', {fn_range}, 'FUNCTION ' || quote_ident(pns.nspname) || '.' || quote_ident(pf.proname) || '(' || pg_get_function_identity_arguments(pf.oid) || ')',
       md5(concat_ws('|', pf.procost, pf.prorows, pf.provolatile, pf.proparallel, pf.proleakproof, pf.prosecdef, pf.proisstrict, pf.proconfig::text)),
       {pro_acl}, {pro_owner}, NULL
  FROM pg_range rgf JOIN pg_depend dd ON dd.refclassid = 'pg_type'::regclass AND dd.refobjid IN (rgf.rngtypid, rgf.rngmultitypid)
       AND dd.classid = 'pg_proc'::regclass AND dd.deptype = 'i'
  JOIN pg_proc pf ON pf.oid = dd.objid JOIN ns pns ON pns.oid = pf.pronamespace
 WHERE rgf.rngtypid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = rgf.rngtypid)
UNION ALL
SELECT 'range type part', {mr_range}, 'TYPE ' || quote_ident(mns.nspname) || '.' || quote_ident(mt.typname), 'multirange',
       {typ_acl}, {typ_owner}, NULL
  FROM pg_range rgm JOIN pg_type mt ON mt.oid = rgm.rngmultitypid JOIN ns mns ON mns.oid = mt.typnamespace
 WHERE rgm.rngtypid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = rgm.rngtypid)"#,
        fn_range = range_of("dd.refobjid"),
        mr_range = range_of("rgm.rngtypid"),
        pro_acl = super::catalog::acl_with_default("pf.proacl", "'f'", "pf.proowner"),
        pro_owner = super::catalog::owner("pf.proowner"),
        typ_acl = super::catalog::acl_with_default("mt.typacl", "'T'", "mt.typowner"),
        typ_owner = super::catalog::owner("mt.typowner"),
    )
}

/// `ALTER … DEPENDS ON EXTENSION` marks (`pg_depend` rows of type `x`): which objects a
/// `DROP EXTENSION` takes along without CASCADE. The model does not carry them: a mark on one
/// side only is reported (`not modeled`), never passed as equal schemas.
fn extension_dependencies() -> String {
    r#"
SELECT 'extension dependency', '', o.type || ' ' || o.identity || ' DEPENDS ON EXTENSION ' || quote_ident(xe.extname),
       'x', NULL, NULL, NULL
  FROM pg_depend xd JOIN pg_extension xe ON xe.oid = xd.refobjid
  CROSS JOIN LATERAL pg_identify_object(xd.classid, xd.objid, xd.objsubid) o
 WHERE xd.deptype = 'x' AND xd.refclassid = 'pg_extension'::regclass AND xd.objid >= 16384
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = xd.classid AND ext.objid = xd.objid)
   AND (o.schema IS NULL OR o.schema NOT IN (SELECT nspname FROM sk))"#
        .to_owned()
}

/// The schemas the model skips and this file reads: the system schemas and neon-migrate's
/// own (a `WITH` item; joins the catalog query's list).
pub(super) fn with_sk() -> String {
    format!(
        ", sk AS (SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema', {}))",
        own_schemas()
    )
}

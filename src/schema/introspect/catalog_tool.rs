//! neon-migrate's own objects in the catalog fingerprint (see [`crate::schema::catalog`]): the
//! tracking schema `neon_migrate` with its table `schema_migrations` (the built-in `sql`
//! tool's), and the `integrity` check's scratch schema. The model skips these schemas, and
//! objects a user creates in them are rows of [`super::catalog_more`]; this part reads what
//! a migration can change on the tool's own objects: privileges and owners of both schemas
//! and of the tracking table, the table's columns, row level security, kind, persistence,
//! options, replica identity, inheritance and primary key, and the policies, rules,
//! constraints, comments, publication memberships and default privileges on or in them.
//! `GRANT ALL ON neon_migrate.schema_migrations TO PUBLIC` lets every role mark a migration
//! applied (so `apply` skips it) or make an applied one run again.
//!
//! A row says only how an object differs from what the tool itself creates (`CREATE SCHEMA`,
//! `CREATE TABLE` in `tools::sql`, as the session's role, with that role's default
//! privileges): the tool creates them during a run, so a database where they do not exist
//! yet and one where the tool just made them read the same (no rows), and so does a schema
//! file loaded into a scratch database (`diff`, `generate`). The rows the tool writes into
//! its table are data, never read here.

use super::DEFAULT_EXCLUDED;

use crate::schema::catalog::OWN_OBJECT as KIND;

/// The tracking table's columns as the part below spells them (`tools::sql`'s `CREATE TABLE`).
const TRACKING_COLUMNS: &str =
    "version:text:not null, file:text:not null, checksum:text:not null, \
applied_at:timestamp with time zone:not null:now(), duration_ms:bigint:not null";

/// An ACL as sorted `grantee:privilege:grantable` items, grantors aside (an array).
fn items(e: &str) -> String {
    format!(
        "ARRAY(SELECT DISTINCT x.grantee::text || ':' || x.privilege_type || ':' || x.is_grantable FROM aclexplode({e}) x ORDER BY 1)"
    )
}

/// The items of `acl` when they differ from `canonical`'s, else NULL.
fn acl_unless(acl: &str, canonical: &str, owner: &str) -> String {
    format!(
        "CASE WHEN {} IS DISTINCT FROM {} THEN {} END",
        items(acl),
        canonical,
        super::catalog::acl(acl, owner)
    )
}

/// The owner when it is not the session's role (who creates the objects), else NULL.
fn owner_unless_me(e: &str) -> String {
    format!(
        "CASE WHEN {e} <> (SELECT oid FROM me) THEN {} END",
        super::catalog::owner(e)
    )
}

/// The part: one `SELECT` of the catalog query's row shape (inner `UNION ALL`s indented).
/// Its aliases differ from those of the catalog query's census gates (`catalog::GATES`, found
/// by text) but one: it is sent whenever one of the tool's schemas exists (`own_schemas`),
/// whatever kinds the modeled schemas hold; without them it has no rows.
pub(super) fn own_objects() -> String {
    let own = DEFAULT_EXCLUDED
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let nsp_acl = "coalesce(n.nspacl, acldefault('n', n.nspowner))";
    let rel_acl = "coalesce(c.relacl, acldefault('r', c.relowner))";
    // A new table's ACL: the owner's database-wide default privileges (or the built-in
    // default) plus those of the owner in the table's schema (which only add).
    let rel_canonical = format!(
        "ARRAY(SELECT DISTINCT i FROM unnest({} || {}) i ORDER BY 1)",
        items("coalesce(g.defaclacl, acldefault('r', c.relowner))"),
        items("s.defaclacl")
    );
    let on = "' on ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)";
    format!(
        r#"
SELECT '{kind}', '', t.name, md5(t.def), t.acl, t.owner, NULL
  FROM (
    SELECT 'schema ' || quote_ident(n.nspname) AS name, NULL::text AS def,
           {schema_acl} AS acl, {schema_owner} AS owner
      FROM pg_namespace n
      LEFT JOIN pg_default_acl da ON da.defaclrole = n.nspowner AND da.defaclnamespace = 0 AND da.defaclobjtype = 'n'
     WHERE n.nspname IN ({own})
    UNION ALL
    SELECT 'table ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || v.what, v.def,
           CASE WHEN v.what = '' THEN {table_acl} END, CASE WHEN v.what = '' THEN {table_owner} END
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_default_acl g ON g.defaclrole = c.relowner AND g.defaclnamespace = 0 AND g.defaclobjtype = 'r'
      LEFT JOIN pg_default_acl s ON s.defaclrole = c.relowner AND s.defaclnamespace = n.oid AND s.defaclobjtype = 'r',
      LATERAL (VALUES
        ('', NULL::text),
        (': columns', nullif((SELECT string_agg(concat_ws(':', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN 'not null' END, pg_get_expr(d.adbin, d.adrelid), 'privileges ' || a.attacl::text,
                'identity ' || nullif(a.attidentity::text, ''), 'generated ' || nullif(a.attgenerated::text, ''),
                CASE WHEN a.attcollation <> ty.typcollation THEN 'collate ' || a.attcollation::regcollation::text END), ', ' ORDER BY a.attnum)
              FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{columns}')),
        (': row level security', nullif(concat_ws(',', CASE WHEN c.relrowsecurity THEN 'enabled' END,
              CASE WHEN c.relforcerowsecurity THEN 'forced' END), '')),
        (': kind, persistence, options, replica identity, inheritance or primary key',
         nullif(concat_ws(',', nullif(c.relkind, 'r'), nullif(c.relpersistence, 'p'), c.reloptions::text, nullif(c.relreplident, 'd'),
              (SELECT string_agg(i.inhparent::regclass::text, ',') FROM pg_inherits i WHERE i.inhrelid = c.oid),
              CASE WHEN c.relispartition THEN 'partition' END,
              CASE WHEN NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
                                      AND k.conname = 'schema_migrations_pkey' AND pg_get_constraintdef(k.oid) = 'PRIMARY KEY (version)')
                   THEN 'no primary key (version)' END), ''))) v(what, def)
     WHERE n.nspname = 'neon_migrate' AND c.relname = 'schema_migrations'
    UNION ALL
    SELECT 'policy ' || quote_ident(pl.polname) || {on},
           concat_ws('|', pl.polcmd, pl.polpermissive, pl.polroles::text, pg_get_expr(pl.polqual, pl.polrelid), pg_get_expr(pl.polwithcheck, pl.polrelid)), NULL, NULL
      FROM pg_policy pl JOIN pg_class c ON c.oid = pl.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ({own})
    UNION ALL
    SELECT 'rule ' || quote_ident(rw.rulename) || {on}, pg_get_ruledef(rw.oid) || rw.ev_enabled::text, NULL, NULL
      FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ({own}) AND rw.rulename <> '_RETURN'
    UNION ALL
    SELECT 'constraint ' || quote_ident(k.conname) || {on}, pg_get_constraintdef(k.oid) || k.convalidated::text, NULL, NULL
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ({own})
       -- The primary key is the table's row's; PostgreSQL 18's NOT NULL constraints are its columns'.
       AND NOT (n.nspname = 'neon_migrate' AND c.relname = 'schema_migrations'
                AND (k.contype = 'n' OR (k.conname = 'schema_migrations_pkey' AND k.contype = 'p')))
    UNION ALL
    SELECT 'comment on ' || o.type || ' ' || o.identity, ds.description, NULL, NULL
      FROM pg_description ds
      JOIN (
        SELECT 'pg_namespace'::regclass AS cls, n.oid FROM pg_namespace n WHERE n.nspname IN ({own})
        UNION ALL
        SELECT 'pg_class'::regclass, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({own})
        UNION ALL
        SELECT 'pg_policy'::regclass, pl.oid FROM pg_policy pl JOIN pg_class c ON c.oid = pl.polrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({own})
        UNION ALL
        SELECT 'pg_rewrite'::regclass, rw.oid FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({own})
        UNION ALL
        SELECT 'pg_constraint'::regclass, k.oid FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({own})
        UNION ALL
        SELECT 'pg_trigger'::regclass, tg.oid FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ({own})
      ) w ON w.cls = ds.classoid AND w.oid = ds.objoid,
      LATERAL pg_identify_object(ds.classoid, ds.objoid, ds.objsubid) o
    UNION ALL
    SELECT 'publication ' || quote_ident(pb.pubname) || ' table ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname),
           concat_ws('|', pg_get_expr(pbr.prqual, pbr.prrelid), pbr.prattrs::text), NULL, NULL
      FROM pg_publication_rel pbr JOIN pg_publication pb ON pb.oid = pbr.prpubid
      JOIN pg_class c ON c.oid = pbr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ({own})
    UNION ALL
    SELECT 'default privileges of ' || {def_role} || ' in schema ' || quote_ident(n.nspname) || ' on ' || CASE dfa.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE dfa.defaclobjtype::text END,
           NULL, {def_acl}, NULL
      FROM pg_default_acl dfa JOIN pg_namespace n ON n.oid = dfa.defaclnamespace
     WHERE n.nspname IN ({own})
  ) t
 WHERE t.def IS NOT NULL OR t.acl IS NOT NULL OR t.owner IS NOT NULL"#,
        kind = KIND.replace('\'', "''"),
        schema_acl = acl_unless(
            nsp_acl,
            &items("coalesce(da.defaclacl, acldefault('n', n.nspowner))"),
            "n.nspowner"
        ),
        schema_owner = owner_unless_me("n.nspowner"),
        table_acl = acl_unless(rel_acl, &rel_canonical, "c.relowner"),
        table_owner = owner_unless_me("c.relowner"),
        columns = TRACKING_COLUMNS,
        def_role = super::catalog::owner("dfa.defaclrole"),
        def_acl = super::catalog::acl("dfa.defaclacl", "dfa.defaclrole"),
    )
}

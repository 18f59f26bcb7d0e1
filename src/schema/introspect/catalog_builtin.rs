//! More of the catalog fingerprint (see [`crate::schema::catalog`]): built-in objects (OID
//! below 16384) a superuser changed after `initdb` — `ALTER FUNCTION pg_catalog.upper(text)
//! OWNER TO …`, `SECURITY DEFINER`, `SET search_path`, `VOLATILE`, `COST`, a comment on
//! `pg_catalog.pg_class`. The model leaves built-in objects out (their privileges are
//! `catalog_more`'s), so only the net sees these, and reports them as not modeled.
//!
//! Cheap at any schema size (a few thousand built-in rows, never one per user object):
//! - one row per built-in function whose owner, `SECURITY DEFINER` or `SET` options are not
//!   `initdb`'s (in every supported version every built-in function is owned by the
//!   bootstrap superuser, none is a security definer or has `SET` options), named; a
//!   function left as `initdb` made it has none, whatever the version;
//! - one row per comment on a built-in relation or column (`initdb` sets none), named;
//! - one digest of every built-in function's name, schema, volatility, strictness, leakproof,
//!   parallel safety, cost and rows, and one of every comment on a built-in object: both
//!   differ between major versions, so they are named after the server's and compared only
//!   when both sides have one of that name (one server version). Sums of 64-bit hashes, not
//!   a sorted string: the cheapest digest of a few thousand rows. The functions' digest
//!   carries each function's properties as an unmodeled part (`net_parts`, `␟name=value`,
//!   one text, not a row each), so a difference names the function(s) and both values
//!   (`ALTER FUNCTION pg_catalog.upper(text) VOLATILE` used to be only a digest). Schemas, extensions and
//!   extension members are left out: the model has them, and `public` or `plpgsql`, built
//!   in, can be dropped and created again (with new OIDs).

/// Rows of the shape `(kind, parent, name, def, acl, owner, extra)` to join to the catalog
/// query with `UNION ALL`.
pub(super) fn parts() -> Vec<String> {
    let major = "(current_setting('server_version_num')::int / 10000)::text";
    vec![
        format!(
            r#"
SELECT 'built-in function', '', quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       md5(concat_ws('|', p.prosecdef, p.proconfig::text)), NULL,
       CASE p.proowner WHEN 10 THEN '{bootstrap}' ELSE p.proowner::regrole::text END, NULL
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.oid < 16384 AND (p.proowner <> 10 OR p.prosecdef OR p.proconfig IS NOT NULL)"#,
            bootstrap = crate::schema::catalog::BOOTSTRAP_SUPERUSER,
        ),
        r#"
SELECT 'built-in comment', '', pg_describe_object(d.classoid, d.objoid, d.objsubid), md5(d.description), NULL, NULL, NULL
  FROM pg_description d WHERE d.classoid = 'pg_class'::regclass AND d.objoid < 16384"#
            .to_owned(),
        format!(
            r#"
SELECT '{kind}', '', 'functions'' names, volatility, strictness, leakproof, parallel safety, cost or rows (PostgreSQL ' || {major} || ')',
       sum(hashtextextended(concat_ws('|', p.oid, p.proname, p.pronamespace, p.provolatile, p.proisstrict, p.proleakproof, p.proparallel, p.procost, p.prorows), 0)::numeric)::text
         || string_agg(chr(31) || p.pronamespace::regnamespace::text || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')' || '=' || concat_ws(' ', CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
              CASE WHEN p.proisstrict THEN 'STRICT' END, CASE WHEN p.proleakproof THEN 'LEAKPROOF' END,
              'PARALLEL ' || CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END,
              'COST ' || p.procost, CASE WHEN p.proretset THEN 'ROWS ' || p.prorows END), '' ORDER BY p.oid),
       NULL, NULL, NULL
  FROM pg_proc p WHERE p.oid < 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)"#,
            kind = crate::schema::catalog::BUILT_IN,
        ),
        format!(
            r#"
SELECT '{kind}', '', 'objects'' comments (PostgreSQL ' || {major} || ')',
       coalesce(sum(hashtextextended(concat_ws('|', d.classoid, d.objoid, d.objsubid, d.description), 0)::numeric)::text, ''),
       NULL, NULL, NULL
  FROM pg_description d
 WHERE d.objoid < 16384 AND d.classoid NOT IN ('pg_namespace'::regclass, 'pg_extension'::regclass)
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = d.classoid AND ext.objid = d.objoid)"#,
            kind = crate::schema::catalog::BUILT_IN,
        ),
    ]
}

//! The catalog fingerprint's query: every user-visible row of the catalogs that describe a
//! schema, one row per object, OIDs replaced by names (see [`crate::schema::catalog`]).
//!
//! Each row is `(kind, parent, name, def, acl, owner, extra)`: `parent` is the table (or
//! domain, publication, …) a sub-object belongs to (`''` for none); `def` is an md5 of the
//! object's definition; `acl` its privileges and `owner` its owner, with the session's own
//! role spelled `=` (so a schema loaded into the embedded server by another role compares
//! equal); `extra` a kind's separately registered aspect (replica identity, column storage).
//! Built-in objects (OID below 16384), system and excluded schemas, and extension members
//! are left out. Option values of foreign servers, wrappers and user mappings are hashed,
//! never read in clear.

use tokio_postgres::Row;

use super::census::{Census, Flag};
use crate::schema::catalog::{kind, Catalog, ObjectId};

/// A role as the fingerprint spells it: `PUBLIC`, `=` for the session's role, else its name.
fn role(e: &str) -> String {
    format!(
        "CASE {e} WHEN 0 THEN 'PUBLIC' WHEN (SELECT oid FROM me) THEN '=' ELSE {e}::regrole::text END"
    )
}

/// An ACL as sorted `grantee:privilege[*]/grantor` items (NULL: the default ACL), where an
/// explicit ACL holding the same items as the kind's default (`acldefault`), in any order,
/// reads as NULL too: after a GRANT and its REVOKE nothing is granted, whatever the catalog
/// keeps. A NULL ACL (most objects') is NULL at once: the comparison (two sorted arrays per
/// row, computed twice) was a third of the fingerprint query's time at 2,000 tables.
pub(super) fn acl_with_default(e: &str, kind: &str, owner: &str) -> String {
    acl(
        &format!(
            "CASE WHEN {e} IS NULL THEN NULL WHEN ARRAY(SELECT x::text FROM unnest({e}) x ORDER BY 1) = ARRAY(SELECT x::text FROM unnest(acldefault({kind}::\"char\", {owner})) x ORDER BY 1) THEN NULL ELSE {e} END"
        ),
        owner,
    )
}

/// An ACL as sorted `grantee:privilege[*]/grantor` items (NULL: the default ACL). The
/// object's owner (`owner`, an expression) reads `owner` whatever its name, as grantee and
/// as grantor, as the model compares them: an owner change moves the owner's entries along.
/// The grantor is kept: only the grantor's REVOKE takes a privilege back.
pub(super) fn acl(e: &str, owner: &str) -> String {
    format!(
        "CASE WHEN {e} IS NOT NULL THEN coalesce((SELECT string_agg(s, ',' ORDER BY s) FROM (SELECT CASE WHEN x.grantee = {owner} AND x.grantee <> 0 THEN 'owner' ELSE {} END || ':' || x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END || CASE WHEN x.grantor = {owner} THEN '' ELSE '/' || {} END AS s FROM aclexplode({e}) x WHERE NOT (x.grantee = {owner} AND x.privilege_type = 'MAINTAIN')) y), '{{}}') END",
        role("x.grantee"),
        role("x.grantor"),
    )
}

pub(super) fn owner(e: &str) -> String {
    role(e)
}

/// Not a member of an extension.
fn own(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = '{catalog}'::regclass AND ext.objid = {oid})"
    )
}

/// Not a member of an extension, nor internally part of another object (a range type's
/// constructors and casts).
fn own_not_internal(catalog: &str, oid: &str) -> String {
    format!(
        "{} AND NOT EXISTS (SELECT 1 FROM pg_depend dd WHERE dd.classid = '{catalog}'::regclass AND dd.objid = {oid} AND dd.deptype = 'i')",
        own(catalog, oid)
    )
}

const QN: &str = "quote_ident(ns.nspname) || '.' || ";

/// Relations: tables, views, foreign tables (indexes: [`super::indexes`], sequences:
/// [`super::sequences`]).
fn relations() -> String {
    format!(
        r#"
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'foreign table'
         WHEN 'v' THEN 'view' ELSE 'materialized view' END,
       '', {QN}quote_ident(c.relname),
       md5(concat_ws('|', c.relkind, c.relpersistence, c.reloptions::text, c.relrowsecurity, c.relforcerowsecurity,
         c.relispartition, CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
         CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
         CASE WHEN c.relkind = 'f' THEN (SELECT srvname || md5(coalesce(ft.ftoptions::text, '')) FROM pg_foreign_table ft
              JOIN pg_foreign_server fs ON fs.oid = ft.ftserver WHERE ft.ftrelid = c.oid) END))
       -- What the model does not carry, apart (`net_parts`): reported whenever it differs.
       || concat(E'\x1faccess method=' || nullif(am.amname, 'heap'), E'\x1ftype=' || CASE WHEN c.reloftype <> 0 THEN c.reloftype::regtype::text END,
         E'\x1ftablespace=' || sp.spcname),
       {acl}, {owner},
       CASE WHEN c.relkind IN ('r', 'p', 'm') THEN c.relreplident::text END
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_am am ON am.oid = c.relam
  LEFT JOIN pg_tablespace sp ON sp.oid = c.reltablespace
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {own}"#,
        acl = acl_with_default("c.relacl", "'r'", "c.relowner"),
        owner = owner("c.relowner"),
        own = own("pg_class", "c.oid"),
    )
}

/// Columns of views, foreign tables and composite types (with their defaults, `pg_attrdef`);
/// a table's columns are read with the model's (`columns.rs`).
fn columns() -> String {
    format!(
        r#"
SELECT CASE c.relkind WHEN 'c' THEN 'composite type attribute' WHEN 'v' THEN 'view column' WHEN 'm' THEN 'view column'
         ELSE 'foreign table column' END,
       {QN}quote_ident(c.relname), quote_ident(a.attname),
       -- A view's columns follow from its query: only their privileges are theirs.
       CASE WHEN c.relkind NOT IN ('v', 'm') THEN md5(concat_ws('|', format_type(a.atttypid, a.atttypmod), a.attnotnull,
         -- PostgreSQL 17 gives a partition its parent's identity: it follows from the parent's.
         CASE WHEN c.relispartition AND a.attinhcount > 0 THEN '' ELSE a.attidentity END, a.attgenerated,
         CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END,
         CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) ELSE pg_get_expr(d.adbin, d.adrelid) END,
         a.attislocal, a.attinhcount)) END,
       {acl}, NULL,
       CASE WHEN c.relkind NOT IN ('v', 'm') THEN concat_ws('|', a.attstorage, a.attcompression, nullif(a.attstattarget, -1),
         a.attoptions::text, md5(a.attfdwoptions::text)) END
  FROM pg_attribute a
  JOIN (SELECT c.oid, c.relname, c.relkind, c.relnamespace, c.relowner, c.relispartition FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('f', 'v', 'm', 'c') AND {own}
           -- A composite type is an extension's member through its pg_type row.
           AND (c.relkind <> 'c' OR {own_type}) OFFSET 0) c ON c.oid = a.attrelid
  JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped"#,
        acl = acl("a.attacl", "c.relowner"),
        own = own("pg_class", "c.oid"),
        own_type = own("pg_type", "c.reltype"),
    )
}

/// Constraints of domains; a table's constraints are [`table_constraints_query`]'s.
fn constraints() -> String {
    format!(
        r#"
SELECT CASE co.contype WHEN 'n' THEN 'not-null constraint' ELSE 'constraint' END, co.contypid::regtype::text,
       quote_ident(co.conname),
       md5(concat_ws('|', co.contype, co.condeferrable, co.condeferred, co.convalidated, co.conislocal,
         co.coninhcount, co.connoinherit, pg_get_constraintdef(co.oid))),
       NULL, NULL, NULL
  FROM pg_constraint co JOIN ns ON ns.oid = co.connamespace
 WHERE co.contypid <> 0 AND {own} AND {own_domain} AND co.conparentid = 0 AND co.conislocal
   -- PostgreSQL 17 records a domain's NOT NULL as a constraint: one with its default name and
   -- nothing else is the domain's NOT NULL, as on older versions.
   AND NOT (co.contype = 'n' AND co.convalidated AND NOT co.connoinherit AND co.coninhcount = 0
            AND co.conname = (SELECT typname FROM pg_type WHERE oid = co.contypid) || '_not_null')"#,
        own = own("pg_constraint", "co.oid"),
        // A domain an extension created: its constraints are the extension's (earthdistance).
        own_domain = own("pg_type", "co.contypid"),
    )
}

/// Triggers, policies, rules, extended statistics, inheritance, publications' tables.
fn table_parts(version: i32) -> String {
    let pubrel = if version >= 150_000 {
        "concat_ws('|', pg_get_expr(pr.prqual, pr.prrelid), (SELECT string_agg(quote_ident(attname), ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = pr.prrelid AND attnum = ANY(pr.prattrs)))"
    } else {
        "''"
    };
    let pubns = if version >= 150_000 {
        r#"
UNION ALL
SELECT 'publication schema', quote_ident(p.pubname), quote_ident(ns.nspname), NULL, NULL, NULL, NULL
  FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid JOIN ns ON ns.oid = pn.pnnspid"#
    } else {
        ""
    };
    format!(
        r#"
SELECT 'trigger', {QN}quote_ident(c.relname), quote_ident(t.tgname), md5(pg_get_triggerdef(t.oid) || t.tgenabled::text), NULL, NULL, NULL
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND {own_trg} AND {own_rel}
UNION ALL
-- A constraint's internal triggers (a foreign key's checks) disabled (`DISABLE TRIGGER ALL`):
-- the key is no longer enforced. Named by the constraint and the trigger's function (their
-- own names hold OIDs); only when not enabled, so the common case adds no row.
SELECT 'internal trigger', {QN}quote_ident(c.relname),
       quote_ident(co.conname) || '/' || t.tgfoid::regproc::text || '/' || t.tgtype::text, md5(t.tgenabled::text), NULL, NULL, NULL
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_constraint co ON co.oid = t.tgconstraint
 WHERE t.tgisinternal AND t.tgenabled <> 'O' AND {own_rel}
UNION ALL
SELECT 'policy', {QN}quote_ident(c.relname), quote_ident(p.polname),
       md5(concat_ws('|', p.polcmd, p.polpermissive, (SELECT string_agg({r}, ',' ORDER BY {r}) FROM unnest(p.polroles) u),
         pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))), NULL, NULL, NULL
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE {own_rel}
UNION ALL
SELECT 'rule', {QN}quote_ident(c.relname), quote_ident(r.rulename), md5(pg_get_ruledef(r.oid) || r.ev_enabled::text), NULL, NULL, NULL
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN' AND {own_rule} AND {own_rel}
UNION ALL
SELECT 'statistics', '', {QN}quote_ident(s.stxname), md5(pg_get_statisticsobjdef(s.oid) || coalesce(nullif(s.stxstattarget, -1)::text, '')), NULL, {stx_owner}, NULL
  FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
 WHERE {own_stx}
UNION ALL
SELECT 'inheritance', {QN}quote_ident(c.relname), i.inhparent::regclass::text, md5(i.inhseqno::text), NULL, NULL, NULL
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'publication table', quote_ident(p.pubname), {QN}quote_ident(c.relname), md5({pubrel}), NULL, NULL, NULL
  FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
  JOIN pg_class c ON c.oid = pr.prrelid JOIN ns ON ns.oid = c.relnamespace{pubns}"#,
        r = role("u"),
        own_trg = own("pg_trigger", "t.oid"),
        own_rule = own("pg_rewrite", "r.oid"),
        // The parts of a table or view an extension created are the extension's (PostGIS's
        // rules on geometry_columns).
        own_rel = own("pg_class", "c.oid"),
        own_stx = own("pg_statistic_ext", "s.oid"),
        stx_owner = owner("s.stxowner"),
    )
}

/// Schemas, functions, aggregates, types, operators and the other schema-qualified kinds.
fn namespaced() -> String {
    format!(
        r#"
SELECT 'schema', '', quote_ident(ns.nspname), NULL,
       -- `public` belongs to whoever created the database (it differs between a scratch
       -- database and the one it is compared with): only its existence counts, also when it
       -- was dropped and created again (a new OID); the model has its owner and privileges.
       CASE WHEN n.oid >= 16384 AND n.nspname <> 'public' THEN {nsp_acl} END,
       CASE WHEN n.oid >= 16384 AND n.nspname <> 'public' THEN {nsp_owner} END, NULL
  FROM pg_namespace n JOIN ns ON ns.oid = n.oid
UNION ALL
SELECT CASE WHEN p.prokind IN ('a', 'w') THEN 'aggregate' WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END, '',
       {QN}quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       md5(CASE WHEN p.prokind IN ('a', 'w') THEN concat_ws('|', p.prorettype::regtype, p.proparallel,
             (SELECT concat_ws('|', ag.aggkind, ag.aggnumdirectargs, ag.aggtransfn::regprocedure, ag.aggfinalfn::regprocedure,
               ag.aggcombinefn::regprocedure, ag.aggserialfn::regprocedure, ag.aggdeserialfn::regprocedure,
               ag.aggmtransfn::regprocedure, ag.aggminvtransfn::regprocedure, ag.aggmfinalfn::regprocedure,
               ag.aggfinalextra, ag.aggmfinalextra, ag.aggfinalmodify, ag.aggmfinalmodify, ag.aggsortop::regoperator,
               ag.aggtranstype::regtype, ag.aggtransspace, ag.aggmtranstype::regtype, ag.aggmtransspace, ag.agginitval, ag.aggminitval)
                FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid))
           ELSE pg_get_functiondef(p.oid) END),
       {pro_acl}, {pro_owner}, NULL
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE {own_pro}
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type' WHEN 'c' THEN 'composite type'
         ELSE 'type' END, '', {QN}quote_ident(t.typname),
       md5(concat_ws('|', t.typtype, t.typlen, t.typbyval, t.typcategory, t.typispreferred, t.typdelim,
         t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure, t.typsend::regprocedure,
         t.typmodin::regprocedure, t.typmodout::regprocedure, t.typanalyze::regprocedure, t.typalign, t.typstorage,
         t.typnotnull, CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, t.typndims,
         CASE WHEN t.typcollation <> 0 THEN t.typcollation::regcollation::text END, coalesce(pg_get_expr(t.typdefaultbin, 0), t.typdefault),
         CASE WHEN t.typtype = 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END,
         (SELECT concat_ws('|', rg.rngsubtype::regtype, CASE WHEN rg.rngcollation <> 0 THEN rg.rngcollation::regcollation::text END,
            (SELECT opcname FROM pg_opclass WHERE oid = rg.rngsubopc), rg.rngcanonical::regprocedure, rg.rngsubdiff::regprocedure,
            rg.rngmultitypid::regtype) FROM pg_range rg WHERE rg.rngtypid = t.oid))),
       {typ_acl}, {typ_owner}, NULL
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
 -- Not a table's row type nor an array type; both tested by a hashed subplan (a lookup of
 -- each table's row type in pg_class cost more than the rest of this part).
 WHERE (t.typrelid = 0 OR t.typrelid IN (SELECT oid FROM pg_class WHERE relkind = 'c'))
   AND t.oid NOT IN (SELECT typarray FROM pg_type) AND t.typtype <> 'm' AND {own_typ}
UNION ALL
SELECT 'operator', '', {QN}o.oprname || '(' || o.oprleft::regtype || ',' || o.oprright::regtype || ')',
       md5(concat_ws('|', o.oprkind, o.oprcanmerge, o.oprcanhash, o.oprresult::regtype, o.oprcom::regoperator,
         o.oprnegate::regoperator, o.oprcode::regprocedure, o.oprrest::regprocedure, o.oprjoin::regprocedure)),
       NULL, {opr_owner}, NULL
  FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
 WHERE {own_opr}
UNION ALL
SELECT 'operator family', '', {QN}quote_ident(f.opfname) || ' USING ' || am.amname,
       md5(concat_ws('|',
         (SELECT string_agg(concat_ws(',', ao.amopstrategy, ao.amoplefttype::regtype, ao.amoprighttype::regtype, ao.amopopr::regoperator,
            ao.amoppurpose, (SELECT opfname FROM pg_opfamily WHERE oid = ao.amopsortfamily)), ';' ORDER BY ao.amopstrategy, ao.amoplefttype::regtype::text, ao.amoprighttype::regtype::text)
            FROM pg_amop ao WHERE ao.amopfamily = f.oid),
         (SELECT string_agg(concat_ws(',', ap.amprocnum, ap.amproclefttype::regtype, ap.amprocrighttype::regtype, ap.amproc::regprocedure), ';'
            ORDER BY ap.amprocnum, ap.amproclefttype::regtype::text, ap.amprocrighttype::regtype::text)
            FROM pg_amproc ap WHERE ap.amprocfamily = f.oid))),
       NULL, {opf_owner}, NULL
  FROM pg_opfamily f JOIN ns ON ns.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
 WHERE {own_opf}
UNION ALL
SELECT 'operator class', '', {QN}quote_ident(oc.opcname) || ' USING ' || am.amname,
       md5(concat_ws('|', (SELECT quote_ident(fn.nspname) || '.' || quote_ident(f.opfname) FROM pg_opfamily f JOIN pg_namespace fn ON fn.oid = f.opfnamespace WHERE f.oid = oc.opcfamily),
         oc.opcintype::regtype, oc.opcdefault, CASE WHEN oc.opckeytype <> 0 THEN oc.opckeytype::regtype::text END)),
       NULL, {opc_owner}, NULL
  FROM pg_opclass oc JOIN ns ON ns.oid = oc.opcnamespace JOIN pg_am am ON am.oid = oc.opcmethod
 WHERE {own_opc}
UNION ALL
SELECT 'collation', '', {QN}quote_ident(co.collname),
       md5((to_jsonb(co) - ARRAY['oid', 'collnamespace', 'collowner', 'collversion', 'colliculocale', 'colllocale', 'collicurules']
         || jsonb_build_object('l', coalesce(to_jsonb(co)->>'colllocale', to_jsonb(co)->>'colliculocale'), 'r', to_jsonb(co)->>'collicurules'))::text), NULL, {coll_owner}, NULL
  FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
 WHERE co.oid >= 16384 AND {own_coll}
UNION ALL
SELECT 'conversion', '', {QN}quote_ident(cv.conname),
       md5(concat_ws('|', pg_encoding_to_char(cv.conforencoding), pg_encoding_to_char(cv.contoencoding), cv.conproc::regprocedure, cv.condefault)),
       NULL, {conv_owner}, NULL
  FROM pg_conversion cv JOIN ns ON ns.oid = cv.connamespace
 WHERE cv.oid >= 16384 AND {own_conv}
UNION ALL
SELECT 'text search configuration', '', {QN}quote_ident(cf.cfgname),
       md5(concat_ws('|', (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pp.prsname) FROM pg_ts_parser pp JOIN pg_namespace pn ON pn.oid = pp.prsnamespace WHERE pp.oid = cf.cfgparser),
         (SELECT string_agg(m.maptokentype || ':' || m.mapseqno || ':' || m.mapdict::regdictionary, ',' ORDER BY m.maptokentype, m.mapseqno)
            FROM pg_ts_config_map m WHERE m.mapcfg = cf.oid))),
       NULL, {cfg_owner}, NULL
  FROM pg_ts_config cf JOIN ns ON ns.oid = cf.cfgnamespace
 WHERE {own_cfg}
UNION ALL
SELECT 'text search dictionary', '', {QN}quote_ident(dc.dictname),
       md5(concat_ws('|', (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tt.tmplname) FROM pg_ts_template tt JOIN pg_namespace tn ON tn.oid = tt.tmplnamespace WHERE tt.oid = dc.dicttemplate),
         dc.dictinitoption)), NULL, {dict_owner}, NULL
  FROM pg_ts_dict dc JOIN ns ON ns.oid = dc.dictnamespace
 WHERE {own_dict}
UNION ALL
SELECT 'text search parser', '', {QN}quote_ident(pp.prsname),
       md5(concat_ws('|', pp.prsstart::regprocedure, pp.prstoken::regprocedure, pp.prsend::regprocedure, pp.prsheadline::regprocedure, pp.prslextype::regprocedure)),
       NULL, NULL, NULL
  FROM pg_ts_parser pp JOIN ns ON ns.oid = pp.prsnamespace
 WHERE {own_prs}
UNION ALL
SELECT 'text search template', '', {QN}quote_ident(tt.tmplname),
       md5(concat_ws('|', tt.tmplinit::regprocedure, tt.tmpllexize::regprocedure)), NULL, NULL, NULL
  FROM pg_ts_template tt JOIN ns ON ns.oid = tt.tmplnamespace
 WHERE {own_tmpl}"#,
        nsp_acl = acl_with_default("n.nspacl", "'n'", "n.nspowner"),
        nsp_owner = owner("n.nspowner"),
        pro_acl = acl_with_default("p.proacl", "'f'", "p.proowner"),
        pro_owner = owner("p.proowner"),
        // A range type's constructors are part of it (an internal dependency), not
        // objects of their own.
        own_pro = own_not_internal("pg_proc", "p.oid"),
        typ_acl = acl_with_default("t.typacl", "'T'", "t.typowner"),
        typ_owner = owner("t.typowner"),
        own_typ = own("pg_type", "t.oid"),
        opr_owner = owner("o.oprowner"),
        own_opr = own("pg_operator", "o.oid"),
        opf_owner = owner("f.opfowner"),
        own_opf = own("pg_opfamily", "f.oid"),
        opc_owner = owner("oc.opcowner"),
        own_opc = own("pg_opclass", "oc.oid"),
        coll_owner = owner("co.collowner"),
        own_coll = own("pg_collation", "co.oid"),
        conv_owner = owner("cv.conowner"),
        own_conv = own("pg_conversion", "cv.oid"),
        cfg_owner = owner("cf.cfgowner"),
        own_cfg = own("pg_ts_config", "cf.oid"),
        dict_owner = owner("dc.dictowner"),
        own_dict = own("pg_ts_dict", "dc.oid"),
        own_prs = own("pg_ts_parser", "pp.oid"),
        own_tmpl = own("pg_ts_template", "tt.oid"),
    )
}

/// Objects outside schemas: extensions, casts, wrappers, servers, user mappings, event
/// triggers, publications, default privileges, languages, access methods, transforms;
/// comments and security labels on anything of the above.
fn global() -> String {
    let desc_filter = "o.schema IS NULL OR o.schema IN (SELECT nspname FROM ns)";
    format!(
        r#"
SELECT 'extension', '', quote_ident(e.extname),
       md5(concat_ws('|', e.extversion, e.extnamespace::regnamespace, e.extrelocatable)), NULL, {ext_owner}, NULL
  FROM pg_extension e WHERE e.oid >= 16384
UNION ALL
SELECT 'cast', '', '(' || ca.castsource::regtype::text || ' AS ' || ca.casttarget::regtype::text || ')',
       md5(concat_ws('|', ca.castfunc::regprocedure, ca.castcontext, ca.castmethod)), NULL, NULL, NULL
  FROM pg_cast ca WHERE ca.oid >= 16384 AND {own_cast}
UNION ALL
SELECT 'foreign data wrapper', '', quote_ident(w.fdwname),
       md5(concat_ws('|', w.fdwhandler::regprocedure, w.fdwvalidator::regprocedure, md5(coalesce((SELECT string_agg(o, ',' ORDER BY o) FROM unnest(w.fdwoptions) o), '')))),
       {fdw_acl}, {fdw_owner}, NULL
  FROM pg_foreign_data_wrapper w WHERE w.oid >= 16384 AND {own_fdw}
UNION ALL
SELECT 'server', '', quote_ident(s.srvname),
       md5(concat_ws('|', (SELECT fdwname FROM pg_foreign_data_wrapper WHERE oid = s.srvfdw), s.srvtype, s.srvversion,
         md5(coalesce((SELECT string_agg(o, ',' ORDER BY o) FROM unnest(s.srvoptions) o), '')))), {srv_acl}, {srv_owner}, NULL
  FROM pg_foreign_server s WHERE s.oid >= 16384 AND {own_srv}
UNION ALL
SELECT 'user mapping', '', {um_user} || ' SERVER ' || quote_ident(um.srvname),
       CASE WHEN {um_readable} THEN md5(md5(coalesce((SELECT string_agg(o, ',' ORDER BY o) FROM unnest(um.umoptions) o), '')))
            ELSE 'options not readable #' || gen_random_uuid() END, NULL, NULL, NULL
  FROM pg_user_mappings um JOIN pg_foreign_server ums ON ums.oid = um.srvid
UNION ALL
SELECT 'event trigger', '', quote_ident(et.evtname),
       md5(concat_ws('|', et.evtevent, et.evtfoid::regprocedure, et.evtenabled, et.evttags::text)), NULL, {evt_owner}, NULL
  FROM pg_event_trigger et WHERE {own_evt}
UNION ALL
SELECT 'publication', '', quote_ident(p.pubname),
       md5(concat_ws('|', p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot)), NULL, {pub_owner}, NULL
  FROM pg_publication p
UNION ALL
SELECT 'default privileges', '', {def_role} || ' IN ' || coalesce(quote_ident(dn.nspname), '*') || ' ON ' || da.defaclobjtype::text,
       NULL, {def_acl}, NULL, NULL
  FROM pg_default_acl da LEFT JOIN pg_namespace dn ON dn.oid = da.defaclnamespace
 WHERE da.defaclnamespace = 0 OR dn.nspname IN (SELECT nspname FROM ns)
UNION ALL
SELECT 'language', '', quote_ident(l.lanname),
       md5(concat_ws('|', l.lanpltrusted, l.lanplcallfoid::regprocedure, l.laninline::regprocedure, l.lanvalidator::regprocedure)),
       {lan_acl}, {lan_owner}, NULL
  FROM pg_language l WHERE l.oid >= 16384 AND {own_lan}
UNION ALL
SELECT 'access method', '', quote_ident(am.amname), md5(concat_ws('|', am.amtype, am.amhandler::regprocedure)), NULL, NULL, NULL
  FROM pg_am am WHERE am.oid >= 16384 AND {own_am}
UNION ALL
SELECT 'transform', '', 'FOR ' || tr.trftype::regtype::text || ' LANGUAGE ' || (SELECT quote_ident(lanname) FROM pg_language WHERE oid = tr.trflang),
       md5(concat_ws('|', tr.trffromsql::regprocedure, tr.trftosql::regprocedure)), NULL, NULL, NULL
  FROM pg_transform tr WHERE tr.oid >= 16384 AND {own_trf}
UNION ALL
SELECT 'comment', o.type,
       -- A function as the model names it: with its parameters' names.
       CASE WHEN d.classoid = 'pg_proc'::regclass THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.proname) || '('
              || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
             WHERE p.oid = d.objoid) ELSE o.identity END,
       md5(d.description), NULL, NULL, NULL
  FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
 WHERE d.objoid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = d.classoid AND ext.objid = d.objoid)
   AND ({desc_filter})
UNION ALL
SELECT 'security label', sl.provider, o.type || ' ' || o.identity, md5(sl.label), NULL, NULL, NULL
  FROM pg_seclabel sl, LATERAL pg_identify_object(sl.classoid, sl.objoid, sl.objsubid) o
 WHERE sl.objoid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = sl.classoid AND ext.objid = sl.objoid)
   AND ({desc_filter})"#,
        ext_owner = owner("e.extowner"),
        // A range type's casts to its multirange are part of it.
        own_cast = own_not_internal("pg_cast", "ca.oid"),
        fdw_acl = acl("w.fdwacl", "w.fdwowner"),
        fdw_owner = owner("w.fdwowner"),
        own_fdw = own("pg_foreign_data_wrapper", "w.oid"),
        srv_acl = acl("s.srvacl", "s.srvowner"),
        srv_owner = owner("s.srvowner"),
        own_srv = own("pg_foreign_server", "s.oid"),
        um_user = role("um.umuser"),
        um_readable = super::foreign::um_readable("um", "ums"),
        evt_owner = owner("et.evtowner"),
        own_evt = own("pg_event_trigger", "et.oid"),
        pub_owner = owner("p.pubowner"),
        def_role = role("da.defaclrole"),
        def_acl = acl("da.defaclacl", "da.defaclrole"),
        lan_acl = acl("l.lanacl", "l.lanowner"),
        lan_owner = owner("l.lanowner"),
        own_lan = own("pg_language", "l.oid"),
        own_am = own("pg_am", "am.oid"),
        own_trf = own("pg_transform", "tr.oid"),
    )
}

/// The whole fingerprint query for server `version`: every part but a table's columns,
/// indexes and constraints (see [`super::columns`], [`super::indexes`], [`super::constraints`]).
///
/// A new part is one more `SELECT` of the row shape above, added to the list below. To stay
/// fast at 10,000 tables: join (hash joins), never a scalar subquery or `NOT EXISTS` per row
/// other than `own` (one hashed anti-join); call no deparser (`pg_get_*def`, `pg_get_expr`)
/// for rows the model's own queries already deparse — complete those in Rust, as
/// [`complete`] does for columns and constraints.
pub(super) fn catalog_query(census: &Census) -> String {
    let me = ", me AS (SELECT oid FROM pg_roles WHERE rolname = current_user)";
    let body = branches(census.version)
        .into_iter()
        .filter(|b| present(b, census))
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n");
    // `NS` opens the WITH list (`ns`, `ext`); `me` joins it.
    let sk = super::catalog_more::with_sk();
    format!("{}{me}{sk}\n{body}", super::NS.trim_end())
}

/// Every `SELECT` of the query for server `version` (inner `UNION ALL`s are indented).
fn branches(version: i32) -> Vec<String> {
    [
        relations(),
        columns(),
        constraints(),
        table_parts(version),
        namespaced(),
        global(),
    ]
    .into_iter()
    .chain(super::catalog_more::parts(version)) // more parts: catalog_more.rs
    .collect::<Vec<_>>()
    .join("\nUNION ALL")
    .split("\nUNION ALL\n")
    .map(str::to_owned)
    .collect()
}

/// The branches a census may leave out: each found by a text only it holds, and the flag
/// of the catalog it reads. A branch not listed here is always sent.
#[rustfmt::skip]
const GATES: &[(&str, Flag)] = &[
    ("FROM pg_constraint co JOIN ns ON ns.oid = co.connamespace", |c| c.domain_constraints),
    ("FROM pg_policy p JOIN pg_class c", |c| c.policies),
    ("FROM pg_rewrite r JOIN pg_class c", |c| c.rules),
    ("FROM pg_statistic_ext s JOIN ns", |c| c.statistics),
    ("SELECT 'inheritance'", |c| c.inherits),
    ("SELECT 'pending partition detach'", |c| c.inherits),
    ("FROM pg_publication_rel pr", |c| c.publications),
    ("FROM pg_publication_namespace pn", |c| c.publications),
    ("FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace", |c| c.functions),
    ("FROM pg_operator o JOIN ns", |c| c.operators),
    ("FROM pg_opfamily f JOIN ns", |c| c.opfamilies),
    ("FROM pg_opclass oc JOIN ns", |c| c.opclasses),
    ("FROM pg_collation co JOIN ns", |c| c.collations),
    ("FROM pg_conversion cv JOIN ns", |c| c.conversions),
    ("FROM pg_ts_config cf JOIN ns", |c| c.ts_configs),
    ("FROM pg_ts_dict dc JOIN ns", |c| c.ts_dicts),
    ("FROM pg_ts_parser pp JOIN ns", |c| c.ts_parsers),
    ("FROM pg_ts_template tt JOIN ns", |c| c.ts_templates),
    ("FROM pg_extension e WHERE e.oid >= 16384", |c| c.extensions),
    ("FROM pg_cast ca WHERE ca.oid >= 16384", |c| c.casts),
    ("FROM pg_foreign_data_wrapper w WHERE w.oid >= 16384", |c| c.fdws),
    ("FROM pg_foreign_server s WHERE s.oid >= 16384", |c| c.servers),
    ("FROM pg_user_mappings um", |c| c.servers),
    ("FROM pg_event_trigger et", |c| c.event_triggers),
    ("FROM pg_publication p", |c| c.publications),
    ("FROM pg_default_acl da", |c| c.default_acls),
    ("FROM pg_language l WHERE l.oid >= 16384", |c| c.languages),
    ("FROM pg_am am WHERE am.oid >= 16384", |c| c.access_methods),
    ("FROM pg_transform tr WHERE tr.oid >= 16384", |c| c.transforms),
    ("FROM pg_description d, LATERAL", |c| c.comments),
    ("FROM pg_range rgf", |c| c.ranges),
    ("FROM pg_range rgm", |c| c.ranges),
    ("FROM pg_seclabel sl", |c| c.security_labels),
    // Extension members.
    ("JOIN pg_extension e ON e.oid = d.refobjid", |c| c.extensions),
    // View column defaults and materialized views WITH NO DATA: views have rules.
    ("FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid", |c| c.rules),
    ("'materialized view not populated (WITH NO DATA)'", |c| c.rules),
    // neon-migrate's own objects (`catalog_tool`): all in or on its schemas. Its planning
    // alone cost some 10 ms of server CPU per database.
    ("'schema ' || quote_ident(n.nspname) AS name", |c| c.own_schemas),
];

/// Whether `branch` may return rows, by the census.
fn present(branch: &str, census: &Census) -> bool {
    GATES
        .iter()
        .find(|(needle, _)| branch.contains(needle))
        .is_none_or(|(_, flag)| flag(census))
}

/// One object's row: (kind, parent, name) and its aspects' digests, into the fingerprint.
pub(super) fn add_row(c: &mut Catalog, r: &Row) {
    c.insert(
        ObjectId {
            kind: kind(r.get(0)),
            parent: r.get::<_, Option<&str>>(1).unwrap_or_default().into(),
            name: r.get::<_, Option<&str>>(2).unwrap_or_default().into(),
        },
        [aspect(r, 3), aspect(r, 4), aspect(r, 5), aspect(r, 6)],
    );
}

fn aspect(r: &Row, i: usize) -> Option<Box<str>> {
    r.get::<_, Option<&str>>(i).map(Box::from)
}

/// A digest of `parts`: 128 bits of SHA-256, in 22 characters (base64, URL alphabet) — a
/// string that fits the allocator's smallest chunk: tens of thousands of them per database.
pub(super) fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        // A separator no text of the catalog holds: `a|b` + `c` never equals `a` + `b|c`.
        h.update([0u8]);
    }
    base64(&h.finalize()[..16])
}

/// `bytes` in base64 (URL alphabet, no padding), written straight into one string.
fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            let sextet = (n >> (18 - 6 * i)) & 63;
            s.push(char::from(DIGITS[sextet as usize]));
        }
    }
    s
}

/// What the model does not hold, said so in the digest: unique to this read, it never
/// compares equal to the other side's (fails safe: the object is reported).
pub(super) fn unread() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("not read by the model #{n}")
}

/// The rows made from the model's queries' rows (columns, indexes, constraints), into `out`.
///
/// They come in a map of their own, merged into `out` at the end: the merge lays both out
/// anew in full nodes (see [`super::packed`]), where inserting them one by one into `out`
/// would leave its nodes about half empty.
pub(super) fn complete(mut rest: Catalog, out: &mut Catalog) {
    if out.is_empty() {
        *out = super::packed(rest);
    } else {
        out.append(&mut rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_gate_finds_one_branch_and_a_full_census_sends_them_all() {
        let mut seen = vec![false; GATES.len()];
        for version in [140_000, 150_000, 170_000, 180_000] {
            let all = branches(version);
            for (i, (needle, _)) in GATES.iter().enumerate() {
                let found = all.iter().filter(|b| b.contains(needle)).count();
                assert!(found <= 1, "{needle:?} in {found} branches ({version})");
                seen[i] |= found == 1;
            }
            let query = catalog_query(&Census::everything(version));
            assert_eq!(query.matches("\nUNION ALL\n").count() + 1, all.len());
        }
        // Some branches exist on newer versions only, but each gate finds its branch.
        for (i, (needle, _)) in GATES.iter().enumerate() {
            assert!(seen[i], "{needle:?} finds no branch");
        }
    }

    #[test]
    fn digests_separate_their_parts_and_unread_never_compares_equal() {
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_ne!(digest(&["a|b", "c"]), digest(&["a", "b|c"]));
        assert_ne!(digest(&["ab", ""]), digest(&["a", "b"]));
        assert_eq!(digest(&["x"]).len(), 22);
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE");
        assert_eq!(base64(&[0xfb, 0xff]), "-_8");
        // What the model did not read never compares equal to anything, not even to the
        // same object read again: the net reports it.
        assert_ne!(unread(), unread());
    }
}

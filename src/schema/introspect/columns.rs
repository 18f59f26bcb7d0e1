//! Columns: one pass over `pg_attribute` for everything read about them — the model's
//! columns of tables, their storage, compression and statistics settings and privileges (also
//! of views' columns), and the catalog fingerprint's rows of table columns.
//!
//! Three queries read these once, each with its own pass over `pg_attribute` (the largest
//! catalog: a row per column of every relation, system columns and indexes' too) and its own
//! per-row text (`concat_ws` looks up each argument's output function on every row). Here
//! the server sends the raw values and this file spells and hashes them.

use std::collections::HashMap;

use tokio_postgres::Row;

use super::super::catalog::{kind, Aspects, Catalog, ObjectId};
use super::super::model::{AclDelta, Column, ColumnSettings, IdentityOptions, Model};
use super::super::spell;
use super::catalog::digest;
use super::{q, Build, ObjKind};

/// Columns of tables, foreign tables, views and materialized views; of views only those with
/// privileges or (materialized) a statistics target; of indexes (`ALTER INDEX … ALTER COLUMN n
/// SET STATISTICS`) only those with a statistics target. `attcompression` exists from PG 14 on;
/// `attstattarget` is NULL by default from PG 17 on, -1 before.
///
/// A default cannot refer to a column, so it is deparsed without its table (relid 0): with
/// one, pg_get_expr opens the table for every default, the cost of most of this query.
/// Generated columns do refer to columns and keep theirs. The relations are picked first
/// (`OFFSET 0` keeps the planner from folding them back in), so pg_attribute is read in one
/// pass and hashed, not probed once per table.
pub(super) fn columns_query(version: i32) -> String {
    let compression = if version >= 140_000 {
        "a.attcompression"
    } else {
        "''::\"char\""
    };
    q(&format!(
        r#", me AS (SELECT oid FROM pg_roles WHERE rolname = current_user)
SELECT a.attrelid::int8, a.attnum::int4, quote_ident(a.attname), c.relkind,
       CASE WHEN c.relkind IN ('r', 'p', 'f') THEN format_type(a.atttypid, a.atttypmod) END, a.attnotnull,
       CASE WHEN a.attgenerated = '' AND c.relkind IN ('r', 'p', 'f') THEN pg_get_expr(d.adbin, 0) END,
       a.attidentity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
       a.attislocal, a.attcollation, a.attinhcount::int4, a.attgenerated, a.attcollation <> t.typcollation,
       c.relispartition, a.attstorage, t.typstorage, {compression}, a.attstattarget::int4, a.attoptions,
       CASE WHEN a.attfdwoptions IS NOT NULL THEN md5(a.attfdwoptions::text) END,
       CASE WHEN a.attacl IS NOT NULL THEN {print_acl} END,
       CASE WHEN a.attacl IS NOT NULL THEN {model_acl} END,
       -- An index's column with a statistics target: the index's name, and whether the
       -- model reads it (its table is not an extension's).
       CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname)
              FROM pg_class ic JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE ic.oid = a.attrelid) END,
       CASE WHEN c.relkind IN ('i', 'I') THEN NOT EXISTS (SELECT 1 FROM pg_index i JOIN ext ON ext.classid = 'pg_class'::regclass
              AND ext.objid = i.indrelid WHERE i.indexrelid = a.attrelid) END
  FROM pg_attribute a
  JOIN (SELECT c.oid, c.relkind, c.relowner, c.relispartition FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('i', 'I') OR (c.relkind IN ('r', 'p', 'f', 'v', 'm')
           AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid))
        OFFSET 0) c ON c.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid
  -- Hashed (a lookup per column costs more than reading them all).
  LEFT JOIN (SELECT adrelid, adnum, adbin FROM pg_attrdef OFFSET 0) d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
   AND (c.relkind IN ('r', 'p', 'f') OR a.attacl IS NOT NULL
        OR (c.relkind IN ('m', 'i', 'I') AND coalesce(a.attstattarget, -1) >= 0))"#,
        print_acl = super::catalog::acl("a.attacl", "c.relowner"),
        model_acl = MODEL_ACL,
    ))
}

/// A column's privileges as `introspect::authz` items (`+r SELECT:"Role"`).
const MODEL_ACL: &str = r#"coalesce((SELECT array_agg(DISTINCT '+' || CASE WHEN e.grantee = 0 THEN 'p' WHEN e.grantee = c.relowner THEN 'o' ELSE 'r' END
                          || CASE WHEN e.is_grantable THEN '*' ELSE ' ' END || e.privilege_type || ':'
                          || CASE WHEN e.grantee = 0 OR e.grantee = c.relowner THEN '' ELSE quote_ident(pg_get_userbyid(e.grantee)) END
                          || '/' || CASE WHEN e.grantor = c.relowner THEN '' ELSE quote_ident(pg_get_userbyid(e.grantor)) END)
                   FROM aclexplode(a.attacl) e), '{}')"#;

/// One column as read.
pub(super) struct ColumnRow {
    relid: i64,
    attnum: i32,
    /// `pg_class.relkind` of its relation.
    relkind: u8,
    /// The column (of a view's, only its name) and its collation's OID.
    column: Column,
    collation: u32,
    /// A table column's row of the catalog fingerprint.
    print: Option<Aspects>,
    /// Settings and privileges other than the defaults.
    settings: Option<Box<(ColumnSettings, Vec<String>)>>,
    /// An index's column: the index's name, whether the model reads it, the target.
    index: Option<Box<(String, bool, i32)>>,
}

fn char_of(r: &Row, i: usize) -> u8 {
    r.get::<_, i8>(i) as u8
}

/// `pg_attribute.attstorage` spelled as `ALTER COLUMN … SET STORAGE` takes it.
fn storage(c: u8) -> &'static str {
    match c {
        b'p' => "PLAIN",
        b'm' => "MAIN",
        b'e' => "EXTERNAL",
        _ => "EXTENDED",
    }
}

pub(super) fn column_row(r: &Row) -> ColumnRow {
    let relkind = char_of(r, 3);
    let identity = char_of(r, 7);
    let column = Column {
        name: r.get(2),
        data_type: r.get::<_, Option<String>>(4).unwrap_or_default(),
        not_null: r.get(5),
        default: r.get(6),
        identity: (identity != 0).then_some(char::from(identity)),
        identity_options: None,
        generated: r.get(8),
        collation: r.get(9),
        inherited: !r.get::<_, bool>(10),
    };
    let (attstorage, typstorage, compression) = (char_of(r, 16), char_of(r, 17), char_of(r, 18));
    let target: Option<i32> = r.get(19);
    let print = matches!(relkind, b'r' | b'p').then(|| print(r, &column, identity, target));
    let acl: Option<Vec<String>> = r.get(23);
    let settings = ColumnSettings {
        storage: (attstorage != typstorage).then(|| storage(attstorage).to_owned()),
        compression: match compression {
            b'p' => Some("pglz".to_owned()),
            b'l' => Some("lz4".to_owned()),
            _ => None,
        },
        statistics: target.filter(|t| *t >= 0),
        options: r.get::<_, Option<Vec<String>>>(20).unwrap_or_default(),
        type_storage: storage(typstorage).to_owned(),
    };
    // Tables' settings, views' privileges and materialized views' statistics targets.
    let kept = match relkind {
        b'r' | b'p' => {
            settings.storage.is_some()
                || settings.compression.is_some()
                || settings.statistics.is_some()
                || !settings.options.is_empty()
        }
        b'm' => settings.statistics.is_some(),
        _ => false,
    };
    let settings = (!matches!(relkind, b'f' | b'i' | b'I') && (kept || acl.is_some()))
        .then(|| Box::new((settings, acl.unwrap_or_default())));
    let index = match (r.get::<_, Option<String>>(24), target) {
        (Some(name), Some(t)) if t >= 0 => Some(Box::new((
            name,
            r.get::<_, Option<bool>>(25) == Some(true),
            t,
        ))),
        _ => None,
    };
    ColumnRow {
        relid: r.get(0),
        attnum: r.get(1),
        relkind,
        column,
        collation: r.get(11),
        print,
        settings,
        index,
    }
}

/// A table column's aspects in the catalog fingerprint: its definition (with the model's
/// text of its type, default and generation expression), privileges, and storage,
/// compression, statistics target and options.
fn print(r: &Row, c: &Column, identity: u8, target: Option<i32>) -> Aspects {
    let tf = |b: bool| if b { "t" } else { "f" };
    let inhcount: i32 = r.get(12);
    // PostgreSQL 17 gives a partition its parent's identity: it follows from the parent's.
    let identity = if r.get::<_, bool>(15) && inhcount > 0 {
        0
    } else {
        identity
    };
    let identity = [identity];
    let generated = [char_of(r, 13)];
    let inhcount = inhcount.to_string();
    // An inherited column's NOT NULL is apart (`net_parts`): the plan changes it only with
    // its parent's, so a change of its default must not explain it.
    let not_null = if c.inherited { "-" } else { tf(c.not_null) };
    let mut definition = digest(&[
        not_null,
        std::str::from_utf8(&identity).unwrap_or("?"),
        std::str::from_utf8(&generated).unwrap_or("?"),
        tf(r.get(14)),
        c.collation.as_deref().unwrap_or("\u{1}"),
        tf(!c.inherited),
        &inhcount,
        &c.data_type,
        c.default.as_deref().unwrap_or("\u{1}"),
        c.generated.as_deref().unwrap_or("\u{1}"),
    ]);
    if c.inherited && c.not_null {
        crate::schema::net_parts::push(&mut definition, "not null", "t");
    }
    // Storage, compression, statistics target and options: none when all are the defaults
    // (the type's storage), as for most columns.
    let (storage, typstorage, compression) = (char_of(r, 16), char_of(r, 17), char_of(r, 18));
    let options: Option<Vec<&str>> = r.get(20);
    let fdw: Option<&str> = r.get(21);
    let target = target.filter(|t| *t >= 0);
    // The head (storage, compression, statistics target) is empty when all are the defaults
    // (the type's storage), as for most columns; the options are apart (`net_parts`).
    let default = storage == typstorage && compression == 0 && target.is_none();
    let mut extra = String::new();
    if !default {
        let compression = if compression == 0 {
            '-'
        } else {
            char::from(compression)
        };
        extra = format!(
            "{}{}{compression}",
            char::from(storage),
            char::from(typstorage)
        );
        if let Some(t) = target {
            extra.push_str(&format!("#{t}"));
        }
    }
    if options.is_some() || fdw.is_some() {
        let mut parts = vec!["options"];
        parts.extend(options.iter().flatten());
        parts.push("fdw");
        parts.push(fdw.unwrap_or("\u{1}"));
        // In the model's column settings (`n_distinct` and the others are set again on a
        // re-added column and changed in place): explained by them.
        extra.push_str(&digest(&parts));
    }
    let extra = (!extra.is_empty()).then(|| extra.into());
    let acl: Option<&str> = r.get(22);
    [Some(definition.into()), acl.map(Box::from), None, extra]
}

/// An identity column's sequence options: (table OID, attnum, options) (`sequences.rs`).
pub(super) type IdentityRow = (i64, i32, IdentityOptions);

/// Puts each column into its table (in attnum order), records its name for the spelling of
/// definitions, gives identity columns their sequence's options, keeps settings and
/// privileges other than the defaults, and keeps the catalog fingerprint's rows of table
/// columns (`b.prints`). After the tables and views were added (their names by OID).
pub(super) fn add(b: &mut Build, mut columns: Vec<ColumnRow>, identities: Vec<IdentityRow>) {
    let mut identities: HashMap<(i64, i32), Box<IdentityOptions>> = identities
        .into_iter()
        .map(|(relid, attnum, o)| ((relid, attnum), Box::new(o)))
        .collect();
    columns.sort_unstable_by_key(|c| (c.relid, c.attnum));
    b.names.reserve(columns.len());
    let mut prints = std::mem::take(&mut b.prints);
    // Sorted by relation: each is looked up once for all its columns, and a table's column
    // list gets the room it needs at once (growing it by doubling left a third unused).
    let mut rest = columns.as_slice();
    let mut runs = Vec::new();
    while let Some(first) = rest.first() {
        let n = rest.iter().take_while(|c| c.relid == first.relid).count();
        runs.push(n);
        rest = &rest[n..];
    }
    let mut columns = columns.into_iter();
    for n in runs {
        let run: Vec<ColumnRow> = columns.by_ref().take(n).collect();
        let Some(first) = run.first() else {
            continue;
        };
        let (relid, relkind) = (first.relid, first.relkind);
        if matches!(relkind, b'i' | b'I') {
            index_statistics(b, run, &mut prints);
            continue;
        }
        let name = if matches!(relkind, b'r' | b'p' | b'f') {
            b.table_of.get(&relid).cloned()
        } else {
            match b.keys.get(&(ObjKind::Class, relid)) {
                Some(super::super::model::DepKey::Rel(name)) => Some(name.clone()),
                _ => None,
            }
        };
        let Some(name) = name else {
            continue;
        };
        add_run(b, &name, run, &mut identities, &mut prints);
    }
    b.prints = prints;
}

/// The columns of one relation (`name`): a table's go into it, a view's only give their
/// settings and privileges.
fn add_run(
    b: &mut Build,
    name: &str,
    run: Vec<ColumnRow>,
    identities: &mut HashMap<(i64, i32), Box<IdentityOptions>>,
    prints: &mut Catalog,
) {
    if let Some(t) = b.m.tables.get_mut(name) {
        t.columns.reserve_exact(run.len());
    }
    let parent: std::sync::Arc<str> = name.into();
    for c in run {
        let mut column = c.column;
        if let Some(settings) = c.settings {
            settings_of(&mut b.m, &format!("{name}.{}", column.name), *settings);
        }
        if !matches!(c.relkind, b'r' | b'p' | b'f') {
            continue;
        }
        if let Some(aspects) = c.print {
            let id = ObjectId {
                kind: kind("column"),
                parent: parent.clone(),
                name: column.name.as_str().into(),
            };
            prints.insert(id, aspects);
        }
        b.names.insert(
            (c.relid, c.attnum),
            spell::ColumnName {
                quoted: column.name.clone(),
                collation: c.collation,
            },
        );
        column.identity_options = identities.remove(&(c.relid, c.attnum));
        if let Some(t) = b.m.tables.get_mut(name) {
            t.columns.push(column);
        }
    }
}

/// An index's columns' statistics targets: into the model (when it reads the index) and the
/// catalog fingerprint.
fn index_statistics(b: &mut Build, run: Vec<ColumnRow>, prints: &mut Catalog) {
    for c in run {
        let Some(index) = c.index else {
            continue;
        };
        let (name, modeled, target) = *index;
        let id = ObjectId {
            kind: kind("index column statistics target"),
            parent: name.as_str().into(),
            name: c.attnum.to_string().into(),
        };
        prints.insert(id, [Some(target.to_string().into()), None, None, None]);
        if modeled {
            let attnum = i16::try_from(c.attnum).unwrap_or(i16::MAX);
            b.m.index_statistics
                .entry(name)
                .or_default()
                .insert(attnum, target);
        }
    }
}

/// A column's settings other than the defaults and its privileges, into the model
/// (`key`: `table.column`).
fn settings_of(m: &mut Model, key: &str, (settings, acl): (ColumnSettings, Vec<String>)) {
    let delta = AclDelta {
        granted: acl
            .iter()
            .filter_map(|i| super::authz::parse_item(i))
            .map(|(_, item)| item)
            .collect(),
        revoked: Default::default(),
    };
    if !delta.granted.is_empty() {
        m.privileges.insert(format!("COLUMN {key}"), delta);
    }
    let default = ColumnSettings {
        type_storage: settings.type_storage.clone(),
        ..Default::default()
    };
    if settings != default {
        m.column_settings.insert(key.to_owned(), settings);
    }
}

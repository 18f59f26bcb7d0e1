//! Sequences, in one query: the model's (not those of identity columns), identity columns'
//! sequence options (for the tables), and the catalog fingerprint's rows of every sequence.

use tokio_postgres::Row;

use super::super::catalog::{kind, Aspects, ObjectId};
use super::super::model::{DepKey, IdentityOptions, Sequence};
use super::catalog::digest;
use super::{q, Build, ObjKind};

/// Each sequence with the table (and column) it belongs to: `a`uto (`OWNED BY`, serial) or
/// `i`nternal (identity column) dependencies, read once for all sequences.
pub(super) fn sequences_query() -> String {
    q(&format!(
        r#", me AS (SELECT oid FROM pg_roles WHERE rolname = current_user)
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), format_type(s.seqtypid, NULL),
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, c.oid::int8,
       coalesce(d.internal, false), d.itable::int8, d.icolumn::int4,
       -- A serial's column (OWNED BY).
       CASE WHEN d.atable IS NOT NULL THEN (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(a.attname)
              FROM pg_class tc JOIN pg_namespace tn ON tn.oid = tc.relnamespace
              JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = d.acolumn WHERE tc.oid = d.atable) END,
       -- The table it belongs to (in its schema), for the fingerprint.
       d.owner::int8,
       coalesce(d.extension, false), c.relpersistence, c.reloptions, sp.spcname::text,
       c.relrowsecurity, c.relforcerowsecurity, c.relispartition, c.relam <> 0, c.reloftype <> 0,
       {acl}, {owner},
       -- An identity's sequence under a name of its own (not `table_column_seq`, which
       -- `GENERATED … AS IDENTITY` picks): written `SEQUENCE NAME` in the identity.
       d.itable IS NOT NULL AND NOT EXISTS (SELECT FROM pg_class tc JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = d.icolumn
              WHERE tc.oid = d.itable AND tc.relnamespace = c.relnamespace AND tc.relname || '_' || a.attname || '_seq' = c.relname)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_tablespace sp ON sp.oid = c.reltablespace
  -- Its dependencies, one pass over pg_depend for all sequences: on an extension, on a table.
  LEFT JOIN (SELECT d.objid, bool_or(d.deptype = 'e') AS extension, bool_or(d.deptype = 'i') AS internal,
                    min(d.refobjid) FILTER (WHERE d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass) AS owner,
                    min(d.refobjid) FILTER (WHERE d.deptype = 'i' AND d.refclassid = 'pg_class'::regclass AND d.objsubid = 0) AS itable,
                    min(d.refobjsubid) FILTER (WHERE d.deptype = 'i' AND d.refclassid = 'pg_class'::regclass AND d.objsubid = 0) AS icolumn,
                    min(d.refobjid) FILTER (WHERE d.deptype = 'a' AND d.refobjsubid > 0) AS atable,
                    min(d.refobjsubid) FILTER (WHERE d.deptype = 'a' AND d.refobjsubid > 0) AS acolumn
               FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i', 'e')
                AND d.objid IN (SELECT seqrelid FROM pg_sequence)
              GROUP BY d.objid) d ON d.objid = c.oid"#,
        acl = super::catalog::acl_with_default("c.relacl", "'s'", "c.relowner"),
        owner = super::catalog::owner("c.relowner"),
    ))
}

/// A sequence as read: the model's, an identity column's options, its fingerprint row.
pub(super) struct SequenceRow {
    model: Option<(String, Sequence, i64)>,
    identity: Option<(i64, i32, IdentityOptions)>,
    /// Its fingerprint row, and the OID of the table it belongs to (its parent there).
    print: Option<(ObjectId, Aspects, Option<i64>)>,
}

pub(super) fn sequence_row(r: &Row) -> SequenceRow {
    let name: String = r.get(0);
    let internal: bool = r.get(9);
    let extension: bool = r.get(14);
    let identity = match (r.get::<_, Option<i64>>(10), r.get::<_, Option<i32>>(11)) {
        (Some(table), Some(column)) => {
            let mut o = options(r);
            o.sequence_name = r.get::<_, bool>(25).then(|| name.clone());
            Some((table, column, o))
        }
        _ => None,
    };
    let print = (!extension).then(|| {
        let id = ObjectId {
            kind: kind("sequence"),
            parent: "".into(),
            name: name.as_str().into(),
        };
        (id, print(r), r.get(13))
    });
    let model = (!internal && !extension).then(|| {
        let o = options(r);
        let s = Sequence {
            data_type: r.get(1),
            start: o.start,
            increment: o.increment,
            min: o.min,
            max: o.max,
            cache: o.cache,
            cycle: o.cycle,
            owned_by: r.get(12),
        };
        (name, s, r.get(8))
    });
    SequenceRow {
        model,
        identity,
        print,
    }
}

fn options(r: &Row) -> IdentityOptions {
    IdentityOptions {
        start: r.get(2),
        increment: r.get(3),
        min: r.get(4),
        max: r.get(5),
        cache: r.get(6),
        cycle: r.get(7),
        sequence_name: None,
    }
}

/// A sequence's aspects in the catalog fingerprint: what `pg_class` and `pg_sequence` say
/// of it, its privileges and owner.
fn print(r: &Row) -> Aspects {
    let tf = |b: bool| if b { "t" } else { "f" };
    let b = |i: usize| tf(r.get::<_, bool>(i));
    let int = |i: usize| r.get::<_, i64>(i).to_string();
    let persistence = [r.get::<_, i8>(15) as u8];
    let options: Option<Vec<&str>> = r.get(16);
    let options = options.map(|o| o.join("\u{2}"));
    let (start, increment, min, max, cache) = (int(2), int(3), int(4), int(5), int(6));
    let parts = [
        options.as_deref().unwrap_or("\u{1}"),
        r.get::<_, Option<&str>>(17).unwrap_or("\u{1}"),
        b(18),
        b(19),
        b(20),
        b(21),
        b(22),
        r.get::<_, &str>(1),
        &start,
        &increment,
        &min,
        &max,
        &cache,
        b(7),
    ];
    let acl: Option<&str> = r.get(23);
    let owner: Option<&str> = r.get(24);
    // The model has no persistence (`net_parts`): an UNLOGGED sequence is reported.
    let mut definition = digest(&parts);
    if persistence != *b"p" {
        let p = std::str::from_utf8(&persistence).unwrap_or("?");
        crate::schema::net_parts::push(&mut definition, "persistence", p);
    }
    [
        Some(definition.into()),
        acl.map(Box::from),
        owner.map(Box::from),
        None,
    ]
}

/// Puts the sequences into the model, each under its dependency key, and their rows into the
/// catalog fingerprint (after the tables: a sequence's parent there is its table); returns
/// identity columns' options by (table OID, attnum).
pub(super) fn add(b: &mut Build, rows: Vec<SequenceRow>) -> Vec<(i64, i32, IdentityOptions)> {
    let mut identities = Vec::new();
    for row in rows {
        if let Some((mut id, aspects, table)) = row.print {
            if let Some(table) = table {
                // A table the model does not read (an extension's): a parent that never
                // compares equal, so the net reports it rather than pass it unseen.
                id.parent = match b.table_of.get(&table) {
                    Some(name) => name.as_str().into(),
                    None => super::catalog::unread().into(),
                };
            }
            b.prints.insert(id, aspects);
        }
        if let Some(identity) = row.identity {
            identities.push(identity);
        }
        if let Some((name, s, oid)) = row.model {
            b.key(ObjKind::Class, oid, DepKey::Rel(name.clone()));
            b.m.sequences.insert(name, s);
        }
    }
    identities
}

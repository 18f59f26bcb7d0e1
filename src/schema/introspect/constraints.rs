//! Table constraints: the common shapes spelled here from their raw rows, the others (and
//! foreign keys to tables outside the introspected schemas) deparsed by the server in one more
//! round trip.

use std::collections::HashMap;

use tokio_postgres::{Client, Row};

use super::super::catalog::ObjectId;
use super::super::model::{Constraint, ConstraintKind, DepKey};
use super::super::{spell, split_qualified};
use super::catalog::digest;
use super::{fetch, first_char, nulls_not_distinct, oid_of, q, Build, ObjKind};
use crate::pg::PgError;

/// PRIMARY KEY, UNIQUE and FOREIGN KEY constraints of the common shapes come back raw and
/// are spelled by `spell::constraint`; the server deparses the others.
///
/// Every table constraint comes back, flagged: the model reads the keys, foreign keys,
/// checks and exclusions of tables that are not an extension's; the catalog fingerprint's
/// rows of table constraints come from here too — all but an extension's, a partition's or
/// child's inherited copies (they follow from their parent's), constraint triggers' rows
/// (the trigger's row) and, from PostgreSQL 18 on, a NOT NULL with its default name and
/// nothing else (the column's NOT NULL, as on older versions) — with the model's definition
/// or, for the others, the server's.
pub(super) fn constraints_query(version: i32) -> String {
    let delete_set_columns = if version >= 150_000 {
        "co.confdelsetcols IS NOT NULL"
    } else {
        "false"
    };
    q(&format!(
        r#", owned AS (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass)
, members AS (SELECT objid FROM ext WHERE classid = 'pg_constraint'::regclass)
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), co.conname, co.oid::int8, quote_ident(co.conname),
       co.contype::text, co.convalidated, co.conrelid::int8, co.confrelid::int8,
       CASE WHEN co.contype IN ('c', 'x')
              OR (co.contype IN ('p', 'u') AND NOT coalesce(ci.indnatts = ci.indnkeyatts AND cic.reloptions IS NULL
                                                           AND cic.reltablespace = 0 AND NOT {ci_nulls_not_distinct}, false))
              OR (co.contype = 'f' AND {delete_set_columns})
              OR co.contype NOT IN ('p', 'u', 'f') OR c.oid IN (SELECT objid FROM owned)
            THEN CASE WHEN cic.reloptions IS NULL AND sp.spcname IS NULL THEN pg_get_constraintdef(co.oid)
                      -- The index's storage parameters and tablespace, which pg_get_constraintdef
                      -- leaves out (an exclusion's before its predicate).
                      ELSE regexp_replace(pg_get_constraintdef(co.oid), '((?: WHERE \(.*)?(?: DEFERRABLE.*)?)$',
                                          coalesce(' WITH (' || array_to_string(CASE WHEN co.contype <> 'x' THEN cic.reloptions END, ', ') || ')', '')
                                          || coalesce(' USING INDEX TABLESPACE ' || quote_ident(sp.spcname), '') || '\1') END END,
       co.conkey, co.confkey, co.confmatchtype::text, co.confupdtype::text, co.confdeltype::text,
       co.condeferrable, co.condeferred, co.conindid::int8,
       co.contype IN ('p', 'u', 'f', 'c', 'x') AND c.oid NOT IN (SELECT objid FROM owned),
       co.conparentid = 0 AND co.oid NOT IN (SELECT objid FROM members) AND c.oid NOT IN (SELECT objid FROM owned)
         AND NOT (co.contype = 'n' AND co.convalidated AND NOT co.connoinherit AND co.coninhcount = 0
                  AND co.conname = c.relname || '_' || (SELECT attname FROM pg_attribute
                      WHERE attrelid = co.conrelid AND attnum = co.conkey[1]) || '_not_null'),
       co.coninhcount::int4, co.connoinherit
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_index ci ON ci.indexrelid = co.conindid AND co.contype IN ('p', 'u')
  LEFT JOIN pg_class cic ON cic.oid = co.conindid AND co.contype IN ('p', 'u', 'x')
  LEFT JOIN pg_tablespace sp ON sp.oid = cic.reltablespace
 WHERE co.contypid = 0 AND co.conislocal AND co.contype <> 't'"#,
        ci_nulls_not_distinct = nulls_not_distinct(version).replace("i.", "ci."),
    ))
}

/// A constraint row as the constraints query returns it.
pub(super) struct RawConstraintRow {
    table: String,
    name: String,
    oid: i64,
    quoted: String,
    /// Set when the server deparsed it already.
    definition: Option<String>,
    /// PRIMARY KEY, UNIQUE and EXCLUDE: the constraint's index.
    index_oid: i64,
    raw: spell::RawConstraint,
    /// The model reads it.
    modeled: bool,
    /// What the catalog fingerprint hashes beside the definition (`None`: not in it).
    print: Option<Box<str>>,
}

pub(super) fn constraint_row(r: &Row) -> RawConstraintRow {
    let contype: &str = r.get(4);
    let print = r.get::<_, bool>(18).then(|| {
        let tf = |b: bool| if b { "t" } else { "f" };
        format!(
            "{contype}|{}|{}|{}|{}|{}",
            tf(r.get(14)),
            tf(r.get(15)),
            tf(r.get(5)),
            r.get::<_, i32>(19),
            tf(r.get(20)),
        )
        .into()
    });
    RawConstraintRow {
        table: r.get(0),
        name: r.get(1),
        oid: r.get(2),
        quoted: r.get(3),
        definition: r.get(8),
        index_oid: r.get(16),
        raw: spell::RawConstraint {
            kind: first_char(contype, 'c'),
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
        modeled: r.get(17),
        print,
    }
}

/// The server's spelling of the constraints `spell::constraint` could not write, and the
/// tables foreign keys reference (also outside the introspected schemas).
const CONSTRAINTS_BY_OID: &str = r#"
SELECT co.oid::int8, pg_get_constraintdef(co.oid),
       CASE WHEN co.contype = 'f' THEN (SELECT quote_ident(fn.nspname) || '.' || quote_ident(fc.relname)
              FROM pg_class fc JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = co.confrelid) END
  FROM pg_constraint co WHERE co.oid = ANY($1::oid[])"#;

/// (OID, definition, referenced table of a foreign key).
fn by_oid_row(r: &Row) -> (i64, String, Option<String>) {
    (r.get(0), r.get(1), r.get(2))
}

/// Puts the constraints into their tables, each under its dependency key (and the index of a
/// key or exclusion constraint under the constraint's name).
pub(super) async fn add(
    client: &Client,
    b: &mut Build,
    rows: Vec<RawConstraintRow>,
) -> Result<(), PgError> {
    // The fingerprint's rows of constraints the model leaves out, with the server's text.
    let (rows, others): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.modeled);
    for row in others {
        if let (Some(raw), Some(definition)) = (&row.print, &row.definition) {
            print(b, &row, raw, definition);
        }
    }
    // Definitions written here where the shape allows, by the server otherwise.
    let mut ask_server: Vec<u32> = Vec::new();
    let mut constraints: Vec<(RawConstraintRow, Constraint)> = rows
        .into_iter()
        .map(|mut row| {
            let raw = &row.raw;
            let kind = ConstraintKind::from_contype(raw.kind);
            let is_fk = kind == ConstraintKind::ForeignKey;
            let references = is_fk
                .then(|| b.table_of.get(&raw.references_oid))
                .flatten()
                .cloned();
            let definition = row
                .definition
                .take()
                .or_else(|| spell::constraint(raw, references.as_deref(), &b.names));
            if definition.is_none() || (is_fk && references.is_none()) {
                ask_server.push(oid_of(row.oid));
            }
            let c = Constraint {
                kind,
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
            by_oid_row,
        )
        .await?;
        let by_oid: HashMap<i64, (String, Option<String>)> =
            rows.into_iter().map(|(o, d, r)| (o, (d, r))).collect();
        for (row, c) in &mut constraints {
            if let Some((definition, references)) = by_oid.get(&row.oid) {
                c.definition.clone_from(definition);
                if c.kind == ConstraintKind::ForeignKey {
                    c.references.clone_from(references);
                }
            }
        }
    }
    for (row, mut c) in constraints {
        if c.kind == ConstraintKind::Check {
            // One spelling of the two a CHECK's `IN` list is stored as (trial9 P11).
            c.definition = crate::schema::roundtrip::canonical_check(&c.definition);
        }
        if let Some(raw) = &row.print {
            print(b, &row, raw, &c.definition);
        }
        b.key(
            ObjKind::Constraint,
            row.oid,
            DepKey::Con(format!("{}.{}", row.table, row.quoted)),
        );
        if c.kind.has_index() && row.index_oid != 0 {
            // A constraint's index bears the constraint's name, in the table's schema (a
            // foreign key's `conindid` is the referenced key's index, not its own).
            let schema = split_qualified(&row.table).map_or("public", |(s, _)| s);
            b.key(
                ObjKind::Class,
                row.index_oid,
                DepKey::Index(format!("{schema}.{}", row.quoted)),
            );
        }
        if let Some(t) = b.m.tables.get_mut(&row.table) {
            t.constraints.insert(row.name, c);
        }
    }
    Ok(())
}

/// A table constraint's row of the catalog fingerprint: its flags and definition hashed. A
/// definition the model could not get (empty) never compares equal: the net reports it.
fn print(b: &mut Build, row: &RawConstraintRow, raw: &str, definition: &str) {
    let kind = if row.raw.kind == 'n' {
        "not-null constraint"
    } else {
        "constraint"
    };
    let digest = if definition.is_empty() {
        super::catalog::unread()
    } else {
        digest(&[raw, definition])
    };
    let id = ObjectId {
        kind: super::super::catalog::kind(kind),
        parent: row.table.as_str().into(),
        name: row.quoted.as_str().into(),
    };
    b.prints.insert(id, [Some(digest.into()), None, None, None]);
}

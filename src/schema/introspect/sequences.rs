//! Sequences (not those of identity columns: see the tables).

use tokio_postgres::Row;

use super::super::model::{DepKey, Sequence};
use super::{q, Build, ObjKind};

pub(super) fn sequences_query() -> String {
    q(r#"
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
 ORDER BY 1"#)
}

/// (name, sequence, OID).
pub(super) type SequenceRow = (String, Sequence, i64);

pub(super) fn sequence_row(r: &Row) -> SequenceRow {
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
    (r.get(0), s, r.get(9))
}

pub(super) fn add(b: &mut Build, sequences: Vec<SequenceRow>) {
    for (name, s, oid) in sequences {
        b.key(ObjKind::Class, oid, DepKey::Rel(name.clone()));
        b.m.sequences.insert(name, s);
    }
}

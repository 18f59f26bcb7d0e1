//! Indexes (not those of PRIMARY KEY, UNIQUE and EXCLUDE constraints, nor partitions'
//! clones): plain ones spelled here from their raw rows, the others deparsed by the server;
//! and the catalog fingerprint's rows of indexes.

use std::collections::{HashMap, HashSet};

use tokio_postgres::{Client, Row};

use super::super::catalog::{kind, Aspects, ObjectId};
use super::super::model::{DepKey, Index};
use super::super::spell;
use super::catalog::digest;
use super::{fetch, nulls_not_distinct, oid_of, q, Build, ObjKind};
use crate::pg::PgError;

/// Indexes on plain columns come back raw and are spelled by `spell::index`; those with
/// expressions, predicates or storage options (and materialized views' indexes, whose
/// columns the columns query does not read) are deparsed by the server.
///
/// The indexes of constraints and of extensions' tables come back too, flagged: the model
/// leaves them out, the catalog fingerprint's rows of indexes come from here (what
/// `pg_class` and `pg_index` say of each, but its columns, which the model's definition and
/// the constraint's hold). Partitions of a partitioned index follow from it.
pub(super) fn indexes_query(version: i32) -> String {
    let nulls_not_distinct = nulls_not_distinct(version);
    q(&format!(
        r#", me AS (SELECT oid FROM pg_roles WHERE rolname = current_user)
, keys AS (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
, owned AS (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass)
SELECT quote_ident(ns.nspname) || '.' || quote_ident(ic.relname), quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       CASE WHEN (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR ic.reloptions IS NOT NULL OR c.relkind = 'm')
                 AND i.indexrelid NOT IN (SELECT conindid FROM keys)
            THEN pg_get_indexdef(i.indexrelid) END,
       i.indisunique, c.relkind = 'p', i.indexrelid::int8, i.indrelid::int8, quote_ident(ic.relname), am.amname::text,
       i.indnkeyatts::int4, i.indkey::int2[], i.indclass::oid[], i.indoption::int2[], i.indcollation::oid[],
       {nulls_not_distinct}, ic.relkind = 'I',
       i.indexrelid IN (SELECT conindid FROM keys), c.oid IN (SELECT objid FROM owned), ic.oid IN (SELECT objid FROM owned),
       ic.relpersistence, ic.reloptions, sp.spcname::text, i.indnatts::int4, i.indisprimary, i.indisexclusion,
       i.indimmediate, i.indisclustered, i.indisvalid, i.indisreplident,
       CASE WHEN i.indexprs IS NOT NULL THEN pg_get_expr(i.indexprs, i.indrelid) END,
       CASE WHEN i.indpred IS NOT NULL THEN pg_get_expr(i.indpred, i.indrelid) END,
       {owner}, ic.relrowsecurity, ic.relforcerowsecurity, ic.reloftype <> 0, ic.relacl IS NOT NULL,
       quote_ident(sp.spcname),
       -- A partition's index (child of a partitioned index): its parent, for the net only.
       CASE WHEN ic.relispartition THEN (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
              FROM pg_inherits ih JOIN pg_class pc ON pc.oid = ih.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE ih.inhrelid = ic.oid) END
  FROM (SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'm') OFFSET 0) c
  JOIN pg_index i ON i.indrelid = c.oid
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN ns ON ns.oid = ic.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  LEFT JOIN pg_tablespace sp ON sp.oid = ic.reltablespace"#,
        owner = super::catalog::owner("ic.relowner"),
    ))
}

/// An index row: the model's index (`None` for the indexes the model leaves out), its
/// catalog fingerprint row (`None` for an index of an extension or of its table).
pub(super) struct IndexRow {
    model: Option<(String, i64, Index, spell::RawIndex)>,
    /// The index's tablespace (quoted), when not the database's default.
    tablespace: Option<String>,
    print: Option<(ObjectId, Aspects)>,
    /// A partition's index (not a key's): its name, table and parent index.
    child: Option<(String, String, String)>,
}

pub(super) fn index_row(r: &Row) -> IndexRow {
    let name: String = r.get(0);
    let constraint: bool = r.get(16);
    let table_ext: bool = r.get(17);
    // An index of an extension's table is the extension's too, though only the table is
    // recorded as its member (pg_partman's and PostGIS's keys).
    // A partition's index follows from its partitioned index: not modeled, but the net
    // has a row of its own for it (its name, options, tablespace, parent).
    let child: Option<&str> = r.get(37);
    let print = (!table_ext && !r.get::<_, bool>(18)).then(|| {
        let id = ObjectId {
            kind: kind(if child.is_some() {
                "partition index"
            } else {
                "index"
            }),
            parent: r.get::<_, &str>(1).into(),
            name: name.as_str().into(),
        };
        let mut aspects = index_print(r);
        if let (Some(parent), Some(d)) = (child, &aspects[0]) {
            // Its options are apart: the plan never sets them, whatever else changes.
            let (head, parts) = d
                .split_once(crate::schema::net_parts::SEPARATOR)
                .map_or((&**d, ""), |(h, p)| (h, p));
            let mut text = digest(&[head, parent]);
            if let Some(o) = r.get::<_, Option<Vec<&str>>>(20) {
                crate::schema::net_parts::push(&mut text, "options", &o.join(","));
            }
            if !parts.is_empty() {
                text.push(crate::schema::net_parts::SEPARATOR);
                text.push_str(parts);
            }
            aspects[0] = Some(text.into());
        }
        (id, aspects)
    });
    let model = (!constraint && !table_ext && child.is_none()).then(|| {
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
        (name, r.get(5), i, raw)
    });
    let child = child
        .filter(|_| !constraint && !table_ext)
        .map(|p| (r.get::<_, String>(0), r.get::<_, String>(1), p.to_owned()));
    IndexRow {
        model,
        print,
        child,
        tablespace: r.get(36),
    }
}

/// How the safety net names an index that is INVALID on one side only.
const INVALID: &str = "INVALID on one side (indisvalid = false, as a failed CREATE INDEX CONCURRENTLY leaves it): REINDEX INDEX CONCURRENTLY it, or drop it and create it again, by hand";

/// An index's aspects in the catalog fingerprint: what `pg_class` and `pg_index` say of it
/// (its columns aside), no privileges (an index has none), its owner, and whether it is its
/// table's replica identity.
fn index_print(r: &Row) -> Aspects {
    let tf = |b: bool| if b { "t" } else { "f" };
    let b = |i: usize| tf(r.get::<_, bool>(i));
    let int = |i: usize| r.get::<_, i32>(i).to_string();
    let relkind = if r.get::<_, bool>(15) { "I" } else { "i" };
    let persistence = [r.get::<_, i8>(19) as u8];
    let options: Option<Vec<&str>> = r.get(20);
    let options = options.map(|o| o.join("\u{2}"));
    let indoption: Vec<i16> = r.get(12);
    let indoption: Vec<String> = indoption.iter().map(i16::to_string).collect();
    let (natts, nkeyatts) = (int(22), int(9));
    let parts = [
        relkind,
        std::str::from_utf8(&persistence).unwrap_or("?"),
        options.as_deref().unwrap_or("\u{1}"),
        b(32),
        b(33),
        b(34),
        r.get::<_, &str>(8),
        &natts,
        &nkeyatts,
        b(3),
        b(23),
        b(24),
        b(25),
        b(26),
        // Validity is a part of its own (below), named when it differs.
        &indoption.join(" "),
        r.get::<_, Option<&str>>(29).unwrap_or("\u{1}"),
        r.get::<_, Option<&str>>(30).unwrap_or("\u{1}"),
        // An index has no privileges: one that had would show.
        b(35),
    ];
    let owner: Option<&str> = r.get(31);
    // The model's definitions (the index's, its constraint's) hold the tablespace; the net
    // keeps it apart (`net_parts`) and reports a difference the plan does not make.
    let mut definition = digest(&parts);
    if let Some(space) = r.get::<_, Option<&str>>(21) {
        crate::schema::net_parts::push(&mut definition, "tablespace", space);
    }
    if !r.get::<_, bool>(27) {
        // Left by a failed CREATE INDEX CONCURRENTLY: said as such, not "definition" (trial9
        // P16). The plan never rebuilds it.
        crate::schema::net_parts::push(&mut definition, INVALID, "t");
    }
    [
        Some(definition.into()),
        None,
        owner.map(Box::from),
        r.get::<_, bool>(28).then(|| "replica identity".into()),
    ]
}

/// The default operator classes: an index on them does not name them.
pub(super) const DEFAULT_OPCLASSES: &str = "SELECT oid FROM pg_opclass WHERE opcdefault";

pub(super) fn opclass_row(r: &Row) -> u32 {
    r.get(0)
}

/// The server's spelling of the indexes `spell::index` could not write.
const INDEXES_BY_OID: &str = "SELECT i.indexrelid::int8, pg_get_indexdef(i.indexrelid) \
                              FROM pg_index i WHERE i.indexrelid = ANY($1::oid[])";

fn by_oid_row(r: &Row) -> (i64, String) {
    (r.get(0), r.get(1))
}

/// Puts the indexes into the model, each under its dependency key.
pub(super) async fn add(
    client: &Client,
    b: &mut Build,
    indexes: Vec<IndexRow>,
    default_opclasses: Vec<u32>,
) -> Result<(), PgError> {
    let defaults: HashSet<u32> = default_opclasses.into_iter().collect();
    let mut ask_server: Vec<u32> = Vec::new();
    let mut by_oid: HashMap<i64, String> = HashMap::new();
    let mut tablespaces: HashMap<i64, String> = HashMap::new();
    for row in indexes {
        if let Some((id, aspects)) = row.print {
            b.prints.insert(id, aspects);
        }
        if let Some((name, table, parent)) = row.child {
            b.m.partition_indexes.insert(name, (table, parent));
        }
        let Some((name, oid, mut i, raw)) = row.model else {
            continue;
        };
        if i.definition.is_empty() {
            match spell::index(&raw, &b.names, &defaults) {
                Some(d) => i.definition = d,
                None => ask_server.push(oid_of(oid)),
            }
        }
        if let Some(space) = row.tablespace {
            tablespaces.insert(oid, space);
        }
        by_oid.insert(oid, name.clone());
        b.key(ObjKind::Class, oid, DepKey::Index(name.clone()));
        b.m.indexes.insert(name, i);
    }
    if !ask_server.is_empty() {
        let rows = fetch(
            client,
            "index definitions",
            INDEXES_BY_OID,
            &[&ask_server],
            by_oid_row,
        )
        .await?;
        for (oid, definition) in rows {
            if let Some(i) = by_oid.get(&oid).and_then(|n| b.m.indexes.get_mut(n)) {
                i.definition = definition;
            }
        }
    }
    // The tablespace is part of the definition: an index rebuilt (or created) is built in
    // its own, and a move to another one is a rebuild.
    for (oid, space) in tablespaces {
        if let Some(i) = by_oid.get(&oid).and_then(|n| b.m.indexes.get_mut(n)) {
            i.definition = with_tablespace(&i.definition, &space);
        }
    }
    Ok(())
}

/// `CREATE INDEX … (cols) … [WHERE pred]` with `TABLESPACE space` where the syntax wants it:
/// before the predicate (the first `WHERE` outside parentheses, quotes and identifiers).
pub(crate) fn with_tablespace(definition: &str, space: &str) -> String {
    let (mut depth, mut quote) = (0i32, None::<char>);
    let bytes = definition.as_bytes();
    for (at, c) in definition.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ' ') if depth == 0 && bytes[at..].starts_with(b" WHERE ") => {
                return format!(
                    "{} TABLESPACE {space}{}",
                    &definition[..at],
                    &definition[at..]
                );
            }
            _ => {}
        }
    }
    format!("{definition} TABLESPACE {space}")
}

#[cfg(test)]
mod tests {
    use super::with_tablespace;

    #[test]
    fn the_tablespace_goes_before_the_predicate() {
        let d = "CREATE INDEX i ON public.t USING btree (x)";
        assert_eq!(with_tablespace(d, "ts1"), format!("{d} TABLESPACE ts1"));
        assert_eq!(
            with_tablespace(
                "CREATE INDEX \" WHERE \" ON public.t USING btree (f(x, ' WHERE ')) WITH (fillfactor='50') WHERE (x > 0)",
                "ts1"
            ),
            "CREATE INDEX \" WHERE \" ON public.t USING btree (f(x, ' WHERE ')) WITH (fillfactor='50') TABLESPACE ts1 WHERE (x > 0)"
        );
    }
}

//! Objects the `schema` check would call unchanged although the migration destroyed what they
//! held. The schema engine compares by name: a column dropped and added again under its name
//! (or another column renamed into its place), or a table dropped and rebuilt under its name,
//! compares equal, and a sequence moved back below the values of the column it feeds is no
//! schema change at all. The check compares ONE database before and after the migration, so
//! OIDs and column numbers tell: a table whose OID changed under the same name is a new table,
//! a column whose number changed under the same name is a new column (its values are gone),
//! and a sequence's position can be set beside the largest value of its column.

use std::collections::HashMap;

use tokio_postgres::Client;

use super::{Finding, Severity};
use crate::pg::ident;

const NAME: &str = "schema";

/// Tables (and their columns) and the positions of sequences that feed a column.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Table name → OID.
    tables: HashMap<String, u32>,
    /// (table name, column name) → (table OID, column number).
    columns: HashMap<(String, String), (u32, i16)>,
    /// Every column number in use, by table OID.
    numbers: HashMap<(u32, i16), String>,
    /// Composite types (their attributes are in `columns` like a table's columns).
    composites: std::collections::HashSet<String>,
    /// Enum label OID → (enum type, label).
    labels: HashMap<u32, (String, String)>,
    /// Sequence name → (OID, the value `nextval` returns next), for sequences feeding a column.
    sequences: HashMap<String, (u32, i64)>,
    /// Sequence name → the columns it feeds: (schema, table, column) unquoted, and the
    /// display name `schema.table.column`.
    feeds: HashMap<String, Vec<(String, String, String, String)>>,
}

const TABLES: &str = "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attnum, quote_ident(a.attname), c.relkind = 'c'
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE (c.relkind IN ('r', 'p') OR (c.relkind = 'c' AND NOT EXISTS (
          SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = c.reltype AND d.deptype = 'e')))
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'neon_migrate', 'neon_migrate_integrity')
   AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Enum labels by OID: a label renamed in place keeps its OID, and every stored value that
/// pointed at it reads the new label.
const LABELS: &str = "SELECT e.oid, quote_ident(n.nspname) || '.' || quote_ident(t.typname), e.enumlabel::text FROM pg_enum e
  JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')";

/// Every ascending sequence, with the columns it feeds where the catalog says: owned by it
/// (serial, identity) or called by its DEFAULT (`nextval`), on integer columns. Their position
/// is read from the sequence itself (`pg_sequences` hides a restarted one's position). A
/// sequence a function's `nextval` feeds is not in `pg_depend`: it is listed without columns.
const SEQUENCES: &str = "WITH f AS (
  SELECT d.objid AS seq, d.refobjid AS tab, d.refobjsubid AS col FROM pg_depend d
   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
     AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
  UNION
  SELECT d.refobjid, ad.adrelid, ad.adnum FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
   WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass),
fed AS (
  SELECT f.seq, tn.nspname::text AS nsp, t.relname::text AS rel, a.attname::text AS att,
         quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(a.attname) AS shown
    FROM f JOIN pg_class t ON t.oid = f.tab JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = f.col AND NOT a.attisdropped
   WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype))
SELECT s.oid, quote_ident(sn.nspname) || '.' || quote_ident(s.relname), ps.seqincrement,
       fed.nsp, fed.rel, fed.att, fed.shown
  FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_sequence ps ON ps.seqrelid = s.oid
  LEFT JOIN fed ON fed.seq = s.oid
 WHERE s.relkind = 'S' AND ps.seqincrement > 0
   -- CASE: the planner may test this before relkind, and it raises on a table.
   AND CASE WHEN s.relkind = 'S' THEN pg_catalog.has_sequence_privilege(s.oid, 'SELECT') ELSE false END
   AND sn.nspname NOT IN ('pg_catalog', 'information_schema', 'neon_migrate', 'neon_migrate_integrity')";

/// The value `nextval` returns next (`None`: unreadable).
async fn next_value(client: &Client, seq: &str, increment: i64) -> Option<i64> {
    let sql = format!("SELECT last_value, is_called FROM {seq}");
    let row = client.query_one(&sql, &[]).await.ok()?;
    let (last, called): (i64, bool) = (row.get(0), row.get(1));
    Some(if called {
        last.saturating_add(increment)
    } else {
        last
    })
}

/// Reads the snapshot; `None` when the catalogs cannot be read (then nothing is said).
pub async fn read(client: &Client) -> Option<Snapshot> {
    let mut s = Snapshot::default();
    for r in client.query(TABLES, &[]).await.ok()? {
        let oid: u32 = r.get(0);
        let table: String = r.get(1);
        if r.get::<_, bool>(4) {
            s.composites.insert(table.clone());
        } else {
            s.tables.insert(table.clone(), oid);
        }
        if let (Some(num), Some(col)) = (r.get::<_, Option<i16>>(2), r.get::<_, Option<String>>(3))
        {
            s.numbers.insert((oid, num), col.clone());
            s.columns.insert((table, col), (oid, num));
        }
    }
    for r in client.query(LABELS, &[]).await.ok()? {
        s.labels.insert(r.get(0), (r.get(1), r.get(2)));
    }
    for r in client.query(SEQUENCES, &[]).await.ok()? {
        let seq: String = r.get(1);
        if !s.sequences.contains_key(&seq) {
            let Some(next) = next_value(client, &seq, r.get(2)).await else {
                continue;
            };
            s.sequences.insert(seq.clone(), (r.get(0), next));
        }
        let feed = s.feeds.entry(seq).or_default();
        if let (Some(n), Some(t), Some(c), Some(shown)) = (r.get(3), r.get(4), r.get(5), r.get(6)) {
            feed.push((n, t, c, shown));
        }
    }
    Some(s)
}

/// A table the migration dropped and created again under its name.
#[derive(Debug, PartialEq, Eq)]
pub struct Rebuilt {
    pub table: String,
}

/// A column whose values the migration destroyed under an unchanged name: `moved_to` is the
/// name its former column number now has (a swap: its values are under that name), `None`
/// when the old column is gone (dropped: its values are lost).
#[derive(Debug, PartialEq, Eq)]
pub struct Replaced {
    pub table: String,
    pub column: String,
    pub moved_to: Option<String>,
}

/// Tables rebuilt and columns replaced under unchanged names, by OID and column number.
pub fn compare(before: &Snapshot, after: &Snapshot) -> (Vec<Rebuilt>, Vec<Replaced>) {
    let mut rebuilt: Vec<Rebuilt> = before
        .tables
        .iter()
        .filter(|(t, oid)| after.tables.get(*t).is_some_and(|o| o != *oid))
        .map(|(t, _)| Rebuilt { table: t.clone() })
        .collect();
    rebuilt.sort_by(|a, b| a.table.cmp(&b.table));
    let mut replaced: Vec<Replaced> = before
        .columns
        .iter()
        .filter_map(|((t, c), (oid, num))| {
            let (now_oid, now_num) = after.columns.get(&(t.clone(), c.clone()))?;
            (now_oid == oid && now_num != num).then(|| Replaced {
                table: t.clone(),
                column: c.clone(),
                moved_to: after.numbers.get(&(*oid, *num)).cloned(),
            })
        })
        .collect();
    replaced.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
    (rebuilt, replaced)
}

/// Rows of a table now (for the findings' counts); `None` when it cannot be counted.
async fn rows(client: &Client, table: &str) -> Option<i64> {
    let sql = format!("SELECT pg_catalog.count(*) FROM ONLY {table}");
    client.query_one(&sql, &[]).await.ok().map(|r| r.get(0))
}

fn count_text(n: Option<i64>) -> String {
    n.map_or_else(|| "its rows".to_owned(), |n| format!("{n} row(s)"))
}

/// Findings for tables rebuilt and columns replaced under their names (`deletes_data`, denied
/// by default unless `allowed`), and for sequences moved back below their columns' values
/// (`correctness`: the next INSERT fails on a unique key, a sure failure).
pub async fn findings(
    client: &Client,
    before: &Snapshot,
    after: &Snapshot,
    denied: bool,
    existing: &[Finding],
) -> Vec<Finding> {
    let (rebuilt, replaced) = compare(before, after);
    let mut out = Vec::new();
    let severity = if denied {
        Severity::Error
    } else {
        Severity::Warning
    };
    for r in rebuilt {
        let n = rows(client, &r.table).await;
        out.push(
            Finding::new(
                NAME,
                severity,
                format!("deletes_data: DROP TABLE {t}; CREATE TABLE {t} … — table {t} was dropped and created again under its name ({} now)", count_text(n), t = r.table),
                "the table has a new OID: the migration dropped the old table with its rows and made a new one under the same name; its rows, values, sequence positions, statistics and anything the migration did not copy are those of a new table, which a comparison by name cannot see",
            )
            .at(r.table.clone())
            .fix("change the table in place (ALTER TABLE) instead of rebuilding it; if intended, check that every row, value and sequence position was copied, and list the migration in `allow-migrations` under [checks.schema]"),
        );
    }
    for r in replaced {
        if before.composites.contains(&r.table) {
            out.push(composite_attribute(&r, severity));
            continue;
        }
        let drop = format!("ALTER TABLE {} DROP COLUMN {}", r.table, r.column);
        if existing.iter().any(|f| f.what.contains(&drop)) {
            continue; // the engine already spelled it as a drop (its order changed)
        }
        let n = rows(client, &r.table).await;
        let f = match &r.moved_to {
            None => Finding::new(
                NAME,
                severity,
                format!("deletes_data: {drop}; ALTER TABLE {} ADD COLUMN {} … — the values of column {} in {} of {} are lost", r.table, r.column, r.column, count_text(n), r.table),
                "the column has a new column number under the same name: the migration dropped it (its values with it) and added another column under its name (or renamed one into its place), which a comparison by name cannot see",
            )
            .fix("change the column in place (ALTER COLUMN … TYPE, SET DEFAULT) instead of dropping and re-adding it; if intended, list the migration in `allow-migrations` under [checks.schema]"),
            Some(other) => Finding::new(
                NAME,
                Severity::Error,
                format!("correctness: column {} of {} now holds other values: its former values are under column {other} ({})", r.column, r.table, count_text(n)),
                "the columns were renamed into each other's places: the names are unchanged, the values are not, which a comparison by name cannot see",
            )
            .fix("check that the code reading these columns expects the swapped values, or rename them back"),
        };
        out.push(f.at(r.table.clone()));
    }
    out.extend(labels_renamed(before, after));
    out.extend(sequences_behind(client, before, after).await);
    out
}

/// An attribute of a composite type replaced under its name: every value stored in a column of
/// that type changed meaning (swapped) or lost that field (dropped and added again).
fn composite_attribute(r: &Replaced, severity: Severity) -> Finding {
    let (t, a) = (&r.table, &r.column);
    match &r.moved_to {
        None => Finding::new(
            NAME,
            severity,
            format!("deletes_data: ALTER TYPE {t} DROP ATTRIBUTE {a}; ALTER TYPE {t} ADD ATTRIBUTE {a} … — the values of attribute {a} are lost in every column that stores composite type {t}"),
            "the attribute has a new number under the same name: the migration dropped it (its values in every stored row with it) and added another under its name, which a comparison by name cannot see",
        )
        .fix("change the attribute in place (ALTER TYPE … ALTER ATTRIBUTE … TYPE) instead of dropping and re-adding it; if intended, list the migration in `allow-migrations` under [checks.schema]"),
        Some(other) => Finding::new(
            NAME,
            Severity::Error,
            format!("correctness: attribute {a} of composite type {t} now holds other values: its former values are under attribute {other}, in every column that stores the type"),
            "the attributes were renamed into each other's places: the names are unchanged, the stored values are not, which a comparison by name cannot see",
        )
        .fix("check that the code reading this type expects the swapped fields, or rename them back"),
    }
    .at(t.clone())
}

/// Enum labels renamed in place (`ALTER TYPE … RENAME VALUE`): the label's OID is kept, so every
/// stored value that held the old label reads the new one. Two labels renamed into each other's
/// places (a swap) change what every such row means: an error. One renamed to a new name is a
/// warning that says which rows now read what.
fn labels_renamed(before: &Snapshot, after: &Snapshot) -> Vec<Finding> {
    let mut renamed: Vec<(&String, &String, &String)> = before
        .labels
        .iter()
        .filter_map(|(oid, (ty, was))| {
            let (now_ty, now) = after.labels.get(oid)?;
            (now_ty == ty && now != was).then_some((ty, was, now))
        })
        .collect();
    renamed.sort();
    renamed
        .into_iter()
        .map(|(ty, was, now)| {
            let swapped = before.labels.values().any(|(t, l)| t == ty && l == now);
            if swapped {
                Finding::new(
                    NAME,
                    Severity::Error,
                    format!("correctness: enum {ty}: every stored value '{was}' now reads '{now}', a label that meant something else before"),
                    "enum labels were renamed into each other's places (RENAME VALUE keeps each label's identity): the labels are unchanged, what each row's value means is not, which a comparison by name cannot see",
                )
                .fix("rename the labels back; to change values, UPDATE the rows instead")
            } else {
                Finding::new(
                    NAME,
                    Severity::Warning,
                    format!("enum {ty}: label '{was}' was renamed to '{now}' in place: every stored '{was}' now reads '{now}'"),
                    "code that writes or compares the old label fails or matches nothing once this migration is applied",
                )
                .fix("deploy code that reads both labels before this migration")
            }
            .at(ty.clone())
        })
        .collect()
}

/// Sequences the migration moved back (or made anew) so that `nextval` returns a value the
/// column it feeds already holds.
async fn sequences_behind(client: &Client, before: &Snapshot, after: &Snapshot) -> Vec<Finding> {
    let mut names: Vec<&String> = after.sequences.keys().collect();
    names.sort();
    let mut out = Vec::new();
    for seq in names {
        let (oid, next) = after.sequences[seq];
        // Unchanged or moved forward: not the migration's doing.
        if matches!(before.sequences.get(seq), Some(&(o, n)) if o == oid && n <= next) {
            continue;
        }
        let feeds = after.feeds.get(seq).map(Vec::as_slice).unwrap_or(&[]);
        if feeds.is_empty() {
            // What takes values from it is unknown (a function's nextval, the application):
            // moved back, it hands out values it already handed out.
            if let Some(&(o, was)) = before.sequences.get(seq) {
                if o == oid && next < was {
                    out.push(
                        Finding::new(
                            NAME,
                            Severity::Error,
                            format!("correctness: sequence {seq} was moved back: its next value was {was}, now {next}"),
                            "no column names this sequence in its default or as its owner, so what takes values from it (a function calling nextval, the application) is unknown: moved back, it hands out values it already handed out, which fail on a unique key or duplicate an identifier",
                        )
                        .at(seq.clone())
                        .fix("do not move the sequence back; if intended, list the migration in `allow-migrations` under [checks.schema]"),
                    );
                }
            }
            continue;
        }
        // Trial 8 P5: a sequence the migration created (a new identity column whose rows were
        // then inserted with explicit values) was "moved back" although nothing moved it.
        let how = match before.sequences.get(seq) {
            Some(&(o, _)) if o == oid => "was moved back",
            _ => "is new and behind its column",
        };
        for (schema, table, column, shown) in feeds {
            let sql = format!(
                "SELECT max({})::int8 FROM {}.{}",
                ident(column),
                ident(schema),
                ident(table)
            );
            let Ok(row) = client.query_one(&sql, &[]).await else {
                continue;
            };
            let Some(max) = row.get::<_, Option<i64>>(0) else {
                continue;
            };
            if next <= max {
                out.push(
                    Finding::new(
                        NAME,
                        Severity::Error,
                        format!("correctness: sequence {seq} {how}: its next value is {next} while column {shown} already holds values up to {max}"),
                        "the next INSERT that takes a value from the sequence gets one the column already holds: it fails on a primary key or unique constraint (or writes a duplicate) until the sequence passes the largest value",
                    )
                    .at(seq.clone())
                    .fix(format!("restart the sequence past the largest value (e.g. SELECT setval('{seq}', (SELECT max({column}) FROM …)) in the migration), or do not restart it")),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(tables: &[(&str, u32)], cols: &[(&str, &str, u32, i16)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (t, o) in tables {
            s.tables.insert(t.to_string(), *o);
        }
        for (t, c, o, n) in cols {
            s.columns.insert((t.to_string(), c.to_string()), (*o, *n));
            s.numbers.insert((*o, *n), c.to_string());
        }
        s
    }

    #[test]
    fn a_column_readded_or_a_table_rebuilt_under_its_name_is_seen() {
        let before = snap(
            &[("public.acc", 1), ("public.t", 2), ("public.s", 3)],
            &[
                ("public.acc", "id", 1, 1),
                ("public.acc", "note", 1, 2),
                ("public.s", "a", 3, 1),
                ("public.s", "b", 3, 2),
            ],
        );
        let after = snap(
            &[("public.acc", 1), ("public.t", 9), ("public.s", 3)],
            &[
                ("public.acc", "id", 1, 1),
                ("public.acc", "note", 1, 3),
                ("public.s", "a", 3, 2),
                ("public.s", "b", 3, 1),
            ],
        );
        let (rebuilt, replaced) = compare(&before, &after);
        assert_eq!(
            rebuilt,
            vec![Rebuilt {
                table: "public.t".into()
            }]
        );
        assert_eq!(
            replaced,
            vec![
                Replaced {
                    table: "public.acc".into(),
                    column: "note".into(),
                    moved_to: None
                },
                Replaced {
                    table: "public.s".into(),
                    column: "a".into(),
                    moved_to: Some("b".into())
                },
                Replaced {
                    table: "public.s".into(),
                    column: "b".into(),
                    moved_to: Some("a".into())
                },
            ]
        );
        // Unchanged: nothing.
        let (r, c) = compare(&before, &before);
        assert!(r.is_empty() && c.is_empty());
    }
}

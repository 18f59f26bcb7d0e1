//! Sequences the migration left with no value to hand out (attack11 A6, the pipeline half of
//! `diff`'s refusal): bounds narrowed (no `CYCLE`) to where the sequence already stands, or
//! below the values the column it feeds already holds. The migrated test Neon database branch
//! holds the data: the sequence's position and its columns' largest (smallest, counting down)
//! values are read there, and each such sequence adds `breaks_writes` to its `ALTER
//! SEQUENCE` — the next INSERT drawing from it fails ("reached maximum value").

use tokio_postgres::Client;

use crate::schema::{Hazard, HazardKind, Model, Plan};

/// The columns a sequence feeds (owned by, identity, or named in a default), as
/// (`schema.table`, column) quoted.
const FEEDS: &str = "SELECT pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.relname), pg_catalog.quote_ident(a.attname)
  FROM (SELECT d.refobjid AS tab, d.refobjsubid AS col FROM pg_catalog.pg_depend d
         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = $1::text::pg_catalog.regclass
           AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
        UNION
        SELECT ad.adrelid, ad.adnum FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
         WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.refobjid = $1::text::pg_catalog.regclass) f
  JOIN pg_catalog.pg_class t ON t.oid = f.tab JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = f.col AND NOT a.attisdropped
 WHERE a.atttypid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype)
 ORDER BY 1, 2";

/// (sequence, why its next INSERTs fail), read on the migrated database `client` is
/// connected to, for the sequences whose bounds narrowed from `before` to `after`.
pub(super) async fn exhausted(
    client: &Client,
    before: &Model,
    after: &Model,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, s) in &after.sequences {
        let Some(o) = before.sequences.get(k) else {
            continue;
        };
        if s.cycle || (s.min <= o.min && s.max >= o.max) || s.increment == 0 {
            continue;
        }
        let up = s.increment > 0;
        let (limit, word) = if up {
            (s.max, "MAXVALUE")
        } else {
            (s.min, "MINVALUE")
        };
        let Ok(row) = client
            .query_one(&format!("SELECT last_value, is_called FROM {k}"), &[])
            .await
        else {
            continue;
        };
        let (last, called): (i64, bool) = (row.get(0), row.get(1));
        let next = if called {
            last.checked_add(s.increment)
        } else {
            Some(last)
        };
        let beyond = |v: i64| if up { v > limit } else { v < limit };
        if next.is_none_or(beyond) {
            out.push((k.clone(), format!(
                "sequence {k} stands at {last}, and its new {word} is {limit} (no CYCLE): on the migrated test Neon database branch its next nextval fails (\"reached {} value of sequence\"), and so does every INSERT drawing from it",
                if up { "maximum" } else { "minimum" }
            )));
            continue;
        }
        let Ok(feeds) = client.query(FEEDS, &[k]).await else {
            continue;
        };
        for f in feeds {
            let (table, column): (String, String) = (f.get(0), f.get(1));
            let agg = if up { "max" } else { "min" };
            let sql = format!("SELECT pg_catalog.{agg}({column})::int8 FROM {table}");
            let Ok(Some(held)) = client
                .query_one(&sql, &[])
                .await
                .map(|r| r.get::<_, Option<i64>>(0))
            else {
                continue;
            };
            let at_or_past = if up { held >= limit } else { held <= limit };
            if at_or_past {
                out.push((k.clone(), format!(
                    "column {table}.{column}, fed by sequence {k}, holds {held}, {} its new {word} {limit} (no CYCLE): every value the sequence may still hand out is one the column holds, or there is none — INSERTs drawing from it fail (duplicate key, or \"reached {} value of sequence\")",
                    if held == limit { "at" } else { "past" },
                    if up { "maximum" } else { "minimum" }
                )));
                break;
            }
        }
    }
    out
}

/// Adds each of `found` to its sequence's `ALTER SEQUENCE` (any statement naming the
/// sequence when there is none) as `breaks_writes`.
pub(super) fn annotate(plan: &mut Plan, found: &[(String, String)]) {
    for (k, message) in found {
        let alter = format!("ALTER SEQUENCE {k} ");
        let any = plan.statements.iter().any(|s| s.sql.starts_with(&alter));
        for s in plan.statements.iter_mut() {
            let here = if any {
                s.sql.starts_with(&alter)
            } else {
                s.sql.contains(k.as_str())
            };
            if here && !s.hazards.iter().any(|h| &h.message == message) {
                s.hazards.push(Hazard {
                    kind: HazardKind::BreaksWrites,
                    message: message.clone(),
                });
            }
        }
    }
}

//! Narrowing type changes as the migrated test Neon database branch shows them (attack11 B4).
//! The schema engine's plan converts with an explicit cast (`USING c::varchar(4)`), which cuts
//! longer strings: `deletes_data`. A migration need not: without `USING`, Postgres refuses a
//! value that does not fit, and a conversion out of an integer's range fails either way. When
//! the migration applied and the data shows nothing was lost — an integer narrowed (a value out
//! of range would have failed it), a string whose every value is shorter than the new length (a
//! cut value is exactly that long) — the change deletes nothing: what it does is make future
//! writes of what no longer fits fail, `breaks_writes`. A value at the new length may have been
//! cut: `deletes_data` stays, saying so.

use tokio_postgres::Client;

use crate::schema::plan::narrowing;
use crate::schema::{Hazard, HazardKind, Model, Plan};

/// A narrowed column as the data shows it: the statement's prefix, the engine's
/// `deletes_data` message to replace, and the hazard that replaces it.
pub(super) struct Narrowed {
    prefix: String,
    engine: String,
    now: Hazard,
}

/// The narrowed columns of tables of both sides, read on the migrated database.
pub(super) async fn read(client: &Client, before: &Model, after: &Model) -> Vec<Narrowed> {
    let mut out = Vec::new();
    for (t, new) in &after.tables {
        let Some(old) = before.tables.get(t) else {
            continue;
        };
        for c in &new.columns {
            let Some(o) = old.columns.iter().find(|o| o.name == c.name) else {
                continue;
            };
            let (from, to) = (&o.data_type, &c.data_type);
            let Some(how) = narrowing(from, to) else {
                continue;
            };
            let col = &c.name;
            let prefix = format!("ALTER TABLE {t} ALTER COLUMN {col} TYPE ");
            let engine = format!("{col}: {from} → {to} narrows the column: {how}");
            let now = if how.contains(" are cut to ") {
                let Some(m) = length(to) else { continue };
                let sql = format!(
                    "SELECT pg_catalog.count(*) FROM {t} WHERE pg_catalog.length({col}) >= {m}"
                );
                let Ok(row) = client.query_one(&sql, &[]).await else {
                    continue;
                };
                match row.get::<_, i64>(0) {
                    0 => Hazard {
                        kind: HazardKind::BreaksWrites,
                        message: format!("{col}: {from} → {to}: every value of {t}.{col} on the migrated test Neon database branch is shorter than {m} characters, so the migration cut nothing — but every later write of a longer value fails (\"value too long for type {to}\")"),
                    },
                    n => Hazard {
                        kind: HazardKind::DeletesData,
                        message: format!("{col}: {from} → {to}: {n} value(s) of {t}.{col} on the migrated test Neon database branch are exactly {m} characters long — an explicit cast (`USING {col}::{to}`) cuts longer values to that length without an error (without one Postgres refuses them), so these may have been cut; later writes of longer values fail"),
                    },
                }
            } else if how.ends_with("make the apply fail") && !how.contains("rounded") {
                // Out of range fails the conversion, cast or not: it applied, so all fit.
                Hazard {
                    kind: HazardKind::BreaksWrites,
                    message: format!("{col}: {from} → {to}: the conversion applied on the migrated test Neon database branch, so every value of {t}.{col} fits and none was lost — but every later write of a value outside {to}'s range fails"),
                }
            } else {
                continue;
            };
            out.push(Narrowed {
                prefix,
                engine,
                now,
            });
        }
    }
    out
}

/// `character varying(4)`, `character(4)` → 4 (not for arrays).
fn length(t: &str) -> Option<i64> {
    let inner = t.strip_suffix(')')?.rsplit_once('(')?.1;
    inner.trim().parse().ok()
}

/// Replaces, in the statements of `plan`, the engine's `deletes_data` of each narrowed column
/// with what the data shows.
pub(super) fn annotate(plan: &mut Plan, found: &[Narrowed]) {
    for n in found {
        for s in plan
            .statements
            .iter_mut()
            .filter(|s| s.sql.starts_with(&n.prefix))
        {
            for h in s.hazards.iter_mut() {
                if h.kind == HazardKind::DeletesData && h.message == n.engine {
                    *h = n.now.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths_are_read_from_the_type() {
        assert_eq!(super::length("character varying(4)"), Some(4));
        assert_eq!(super::length("character(12)"), Some(12));
        assert_eq!(super::length("character varying(4)[]"), None);
    }
}

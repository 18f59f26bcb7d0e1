//! Partitions whose bound changes (or that join another partitioned table): the plan detaches
//! them — `DETACH … CONCURRENTLY` commits on its own — and attaches them again under the new
//! bound, which fails on any row outside it, and on any row of the staying default partition
//! inside it. Applied, such a plan stops with the partition detached: the partitioned table no
//! longer shows its rows. These rows are counted on the `--from` database, and a count above
//! zero refuses the plan (a sure failure, like those of [`super::sure`]). Rows that cannot be
//! counted refuse it too: a partition left detached is never a risk taken silently.

use tokio_postgres::Client;

use super::hazards::{key_text, untrusted_calls, Offending};
use crate::schema::model::{Table, TableKind};
use crate::schema::{Hazard, HazardKind, Model, Plan};

/// One count: rows of `table` for which `condition` holds make `statement` fail.
struct Count {
    statement: usize,
    table: String,
    /// Its partitioned table (whose primary key names the example rows).
    parent: String,
    condition: String,
    /// The partition constraint evaluated (repository content, checked before it runs).
    check: String,
    what: String,
    refuse: String,
}

/// Counts, on `client` (the `--from` database, `source`), the rows that make an `ATTACH
/// PARTITION` of `plan` fail, adds each count to its statement's hazards, and returns them
/// (each a refusal).
pub(super) async fn count(
    plan: &mut Plan,
    from: &Model,
    to: &Model,
    client: &Client,
    source: &str,
) -> Vec<Offending> {
    let mut found = Vec::new();
    for c in counts(plan, from, to, &mut found) {
        let calls = untrusted_calls(client, &c.check).await;
        let result = if calls.is_empty() {
            // A partition's primary key is its partitioned table's (not its own in the model).
            let key = [&c.table, &c.parent]
                .iter()
                .map(|t| key_text(from.tables.get(*t)))
                .find(|k| k != "NULL::text")
                .unwrap_or_else(|| "NULL::text".to_owned());
            let sql = format!(
                "SELECT pg_catalog.count(*), pg_catalog.min({key}), pg_catalog.max({key}) FROM {} t WHERE {}",
                c.table, c.condition
            );
            client
                .query_one(&sql, &[])
                .await
                .map(|r| (r.get::<_, i64>(0), r.get(1), r.get(2)))
                .map_err(|e| match e.as_db_error() {
                    Some(db) => format!("the count failed (SQLSTATE {})", db.code().code()),
                    None => "the count failed".to_owned(),
                })
        } else {
            Err(format!(
                "the partition constraint calls {} — only immutable built-in functions of the desired schema's expressions are run on {source}",
                calls.join(", ")
            ))
        };
        let (rows, message, refusal) = match result {
            Ok((0, _, _)) => continue,
            Ok((n, first, last)) => {
                let ex = super::examples(&first, &last);
                (
                    Some(n),
                    format!("{n} row(s) of {source} {}{ex}: this statement fails on them, after the partition was detached", c.what),
                    format!("{n} row(s) of {source}{ex}: {}", c.refuse),
                )
            }
            Err(why) => {
                let message = format!(
                    "the rows of {source} that {} were not counted: {why} — the plan is refused rather than risk a partition left detached: {}",
                    c.what, c.refuse
                );
                (None, message.clone(), message)
            }
        };
        plan.statements[c.statement].hazards.push(Hazard {
            kind: HazardKind::Correctness,
            message: message.clone(),
        });
        found.push(Offending {
            statement: c.statement,
            rows,
            message,
            refusal: Some(refusal),
        });
    }
    found
}

/// The counts the attaches of `plan` need; what cannot be counted at all goes to `found`.
fn counts(plan: &Plan, from: &Model, to: &Model, found: &mut Vec<Offending>) -> Vec<Count> {
    let mut out = Vec::new();
    for (k, t) in &to.tables {
        let Some((parent, bound)) = &t.partition_of else {
            continue;
        };
        let Some(old) = from.tables.get(k) else {
            continue;
        };
        if old.partition_of == t.partition_of {
            continue;
        }
        let attach = format!("ALTER TABLE {parent} ATTACH PARTITION {k} {bound}");
        let Some(at) = plan
            .statements
            .iter()
            .position(|s| s.sql.trim_end().trim_end_matches(';') == attach)
        else {
            continue;
        };
        let Some(check) = to.partition_checks.get(k) else {
            let message = format!("partition {k}: the constraint of its new bound ({bound}) is not known, so its rows outside it cannot be counted — the plan is refused rather than risk {k} left detached from {parent}: {}", fix(k));
            found.push(Offending {
                statement: at,
                rows: None,
                message: message.clone(),
                refusal: Some(message),
            });
            continue;
        };
        // A foreign table is attached without a scan.
        if old.kind != TableKind::Foreign {
            out.push(Count {
                statement: at,
                table: k.clone(),
                parent: parent.clone(),
                condition: format!("({check}) IS FALSE"),
                check: check.clone(),
                what: format!("lie outside the new bound of partition {k} ({bound})"),
                refuse: format!(
                    "partition {k} holds rows outside its new bound {bound} — ATTACH PARTITION fails on them, after {k} was detached from {parent} (which then shows none of {k}'s rows): {}",
                    fix(k)
                ),
            });
        }
        if let Some(d) = staying_default(from, to, parent) {
            if from
                .tables
                .get(d)
                .is_some_and(|d| d.kind != TableKind::Foreign)
            {
                out.push(Count {
                    statement: at,
                    table: d.to_owned(),
                    parent: parent.clone(),
                    condition: format!("({check}) IS TRUE"),
                    check: check.clone(),
                    what: format!("of the default partition {d} lie inside the new bound of partition {k} ({bound})"),
                    refuse: format!(
                        "the default partition {d} of {parent} holds rows inside the new bound {bound} of partition {k} — ATTACH PARTITION fails on them, after {k} was detached from {parent}: move those rows out of {d} first (into {k}, in a migration of its own), or keep {k}'s bound"
                    ),
                });
            }
        }
    }
    out
}

fn fix(k: &str) -> String {
    format!("move those rows into the partition that will hold them (or delete them) first, in a migration of its own, or keep the bound of {k}")
}

/// The default partition of `parent` on both sides, itself staying there.
fn staying_default<'m>(from: &'m Model, to: &Model, parent: &str) -> Option<&'m str> {
    let is_default = |t: &Table| {
        t.partition_of
            .as_ref()
            .is_some_and(|(p, b)| p == parent && b == "DEFAULT")
    };
    from.tables
        .iter()
        .find(|(d, t)| is_default(t) && to.tables.get(*d).is_some_and(&is_default))
        .map(|(d, _)| d.as_str())
}

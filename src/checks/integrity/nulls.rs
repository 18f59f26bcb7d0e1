//! NULLs counted before a migration, when the schema it leads to is not known yet, and
//! matched afterwards with the plan's SET NOT NULL statements (see [`super::hazards`]).

use tokio_postgres::Client;

use super::hazards::Offending;
use super::probes::{key_text, probes};
use super::IntegrityError;
use crate::schema::model::Table;
use crate::schema::{Hazard, HazardKind, Model, Plan};

/// NULLs per nullable column of a database's tables, counted before a migration (when the
/// schema it leads to is not known yet): `(table, column)` → rows and example keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NullCounts {
    pub counts: std::collections::BTreeMap<(String, String), (i64, String)>,
    /// Tables not counted: estimated above the bound, or their count failed (with why).
    pub skipped: Vec<String>,
}

/// Counts, on the database `client` is connected to (whose schema is `model`), the NULLs of
/// every nullable column of every table estimated at no more than `max_rows` rows: one
/// read-only statement per table (60 s at most), nothing changed. A table whose count fails
/// is listed in `skipped`, with why.
pub async fn count_nulls(client: &Client, model: &Model, max_rows: i64) -> NullCounts {
    let mut out = NullCounts::default();
    for (name, table) in &model.tables {
        // A partitioned table holds no rows of its own; a foreign one is another server's.
        if table.kind != crate::schema::model::TableKind::Table {
            continue;
        }
        let nullable: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| !c.not_null && c.generated.is_none() && !c.inherited)
            .map(|c| c.name.as_str())
            .collect();
        if nullable.is_empty() {
            continue;
        }
        match count_table_nulls(client, name, table, &nullable, max_rows).await {
            Ok(Some(found)) => out.counts.extend(found),
            Ok(None) => out
                .skipped
                .push(format!("{name}: estimated above {max_rows} row(s)")),
            Err(e) => out.skipped.push(format!("{name}: {e}")),
        }
    }
    out
}

/// One table's NULL counts (`None`: above `max_rows`), in a read-only transaction.
async fn count_table_nulls(
    client: &Client,
    name: &str,
    table: &Table,
    nullable: &[&str],
    max_rows: i64,
) -> Result<Option<Vec<((String, String), (i64, String))>>, IntegrityError> {
    let what = || format!("cannot count the NULLs of {name}");
    let estimate: i64 = client
        .query_one(
            "SELECT c.reltuples::bigint FROM pg_catalog.pg_class c WHERE c.oid = $1::text::pg_catalog.regclass",
            &[&name],
        )
        .await
        .map_err(IntegrityError::query(what()))?
        .get(0);
    if estimate > max_rows {
        return Ok(None);
    }
    let key = key_text(Some(table));
    // In three arrays: a table may have more columns than a select list may have entries.
    let (mut counts, mut firsts, mut lasts) = (Vec::new(), Vec::new(), Vec::new());
    for c in nullable {
        let cond = format!("t.{c} IS NULL");
        counts.push(format!("pg_catalog.count(*) FILTER (WHERE {cond})"));
        firsts.push(format!("pg_catalog.min({key}) FILTER (WHERE {cond})"));
        lasts.push(format!("pg_catalog.max({key}) FILTER (WHERE {cond})"));
    }
    // Plain tables only (see above): each its own rows.
    let sql = format!(
        "SELECT ARRAY[{}]::bigint[], ARRAY[{}]::text[], ARRAY[{}]::text[] FROM ONLY {name} t",
        counts.join(", "),
        firsts.join(", "),
        lasts.join(", ")
    );
    client
        .batch_execute("BEGIN READ ONLY; SET LOCAL statement_timeout = '60s'")
        .await
        .map_err(IntegrityError::query(what()))?;
    let row = client.query_one(&sql, &[]).await;
    let _ = client.batch_execute("COMMIT").await;
    let row = row.map_err(IntegrityError::query(what()))?;
    let counts: Vec<i64> = row.get(0);
    let firsts: Vec<Option<String>> = row.get(1);
    let lasts: Vec<Option<String>> = row.get(2);
    Ok(Some(
        nullable
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let n = counts.get(i).copied().unwrap_or(0);
                let ex = super::examples(
                    &firsts.get(i).cloned().flatten(),
                    &lasts.get(i).cloned().flatten(),
                );
                (n > 0).then(|| ((name.to_owned(), (*c).to_owned()), (n, ex)))
            })
            .collect(),
    ))
}

/// Adds to each SET NOT NULL of `plan` (from `from` to `to`) the NULLs [`count_nulls`] found
/// in its column before the migration, as one more hazard of that statement. `source` names
/// where they were counted. Returns what it added.
pub fn annotate_recorded(
    plan: &mut Plan,
    from: &Model,
    to: &Model,
    nulls: &NullCounts,
    source: &str,
) -> Vec<Offending> {
    let mut found = Vec::new();
    // Only the SET NOT NULLs are matched: no key count, no volatile default to know of.
    for p in probes(plan, from, to, &Default::default()) {
        let Some(column) = &p.nulls_in else {
            continue;
        };
        let Some((n, ex)) = nulls.counts.get(&(p.table.clone(), column.clone())) else {
            continue;
        };
        let message = format!(
            "{n} row(s) of {source} held NULL in {column}{ex}: {}, unless the migration changes them first (as it must have here, on the same rows)",
            p.effect
        );
        plan.statements[p.statement].hazards.push(Hazard {
            kind: HazardKind::Correctness,
            message: message.clone(),
        });
        found.push(Offending {
            statement: p.statement,
            rows: Some(*n),
            message,
            refusal: None,
        });
    }
    found
}

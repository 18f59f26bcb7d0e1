//! After the migration, for a table without a usable key: the aggregates recorded before it
//! (per column, and of whole rows) against the same aggregates now.

use tokio_postgres::Client;

use super::compare::{columns, Out};
use super::record::{self, Mode, Retyped, TableInfo};
use super::{display, shown, IntegrityError};

/// What [`record::aggregate`] recorded of a table without a key.
pub(super) struct Aggregated<'a> {
    pub rows: i64,
    /// (attribute number, non-null values, sum of hashes) per column.
    pub columns: &'a [(i32, i64, String)],
    /// See [`Mode::Aggregate`].
    pub row_hashes: &'a str,
}

pub(super) async fn compare_aggregate(
    client: &Client,
    before: &TableInfo,
    after: &TableInfo,
    recorded: Aggregated<'_>,
    tz: &str,
    out: &mut Out<'_>,
) -> Result<(), IntegrityError> {
    let name = display(&after.schema, &after.name);
    let cols = columns(before, after);
    let retyped: Vec<(i32, Retyped<'_>)> = cols
        .kept
        .iter()
        .filter(|(b, a)| b.data_type != a.data_type)
        .map(|(b, a)| {
            let r = Retyped {
                old: &b.data_type,
                new: &a.data_type,
                tz,
            };
            (a.attnum, r)
        })
        .collect();
    let now = match record::aggregate(client, after, &retyped).await {
        Ok(m) => m,
        Err(_) => record::aggregate(client, after, &[]).await?,
    };
    let Mode::Aggregate {
        rows: rows_after,
        columns: now,
        row_hashes,
    } = now
    else {
        return Ok(());
    };
    let how = "no primary key or unique NOT NULL key: compared by order-independent aggregates per column and of whole rows, so the rows cannot be named";
    out.note(
        after,
        format!("{name}: {how}"),
        "add a primary key to have changed rows named",
    );
    let rows = recorded.rows;
    if rows_after < rows {
        out.change(
            after,
            None,
            format!("{name}: {rows} → {rows_after} row(s) (aggregate)"),
            "rows the migration deletes are deleted on production too",
            None,
        );
    }
    let was = |attnum: i32| recorded.columns.iter().find(|(n, _, _)| *n == attnum);
    let is = |attnum: i32| now.iter().find(|(n, _, _)| *n == attnum);
    let mut columns_changed = false;
    for (b, a) in &cols.kept {
        if let (Some((_, n1, s1)), Some((_, n2, s2))) = (was(b.attnum), is(a.attnum)) {
            if n1 != n2 || s1 != s2 {
                columns_changed = true;
                out.change(after, Some(&a.name), format!("{name}.{}: values changed (aggregate: {n1} non-null before, {n2} after)", shown(&a.name)), "the migration rewrote values that existed before it; row counts do not show it", None);
            }
        }
    }
    // Whole rows: comparable when the table has the same columns in the same places.
    let same_columns = cols.dropped.is_empty()
        && cols.added.is_empty()
        && cols.kept.iter().all(|(b, a)| b.attnum == a.attnum);
    if same_columns && rows_after == rows && !columns_changed && row_hashes != recorded.row_hashes {
        out.change(
            after,
            None,
            format!("{name}: rows changed: every column holds the same values, but not in the same rows (aggregate of whole-row hashes)"),
            "values moved between rows: each row now pairs values it did not hold before, and production's rows would change the same way",
            None,
        );
    } else if !same_columns {
        out.details.push(format!(
            "{name}: columns added, dropped or moved: compared per column only (values moved between rows are not detected)"
        ));
    }
    for d in &cols.dropped {
        match was(d.attnum) {
            Some((_, nonnull, _)) if *nonnull > 0 => out.change(
                after,
                Some(&d.name),
                format!(
                    "{name}.{} dropped with {nonnull} non-null value(s) lost",
                    shown(&d.name)
                ),
                "the column's values are gone from production once this migration is applied",
                None,
            ),
            _ => out.details.push(format!(
                "{name}.{}: dropped (it held no values)",
                shown(&d.name)
            )),
        }
    }
    for x in &cols.added {
        if let Some((_, n, _)) = is(x.attnum).filter(|(_, n, _)| *n > 0) {
            out.info(
                after,
                format!(
                    "{name}.{} added, backfilled: {n} non-null value(s)",
                    shown(&x.name)
                ),
                "a new column's values are information: nothing that existed was lost",
            );
        }
    }
    Ok(())
}

//! After the migration: the fingerprints joined with the migrated tables, one statement per
//! table, and the findings.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::record::{
    self, hash_expr, key_text, ColumnInfo, Mode, Recorded, TableInfo, TableRecord,
};
use super::{display, examples, IntegrityConfig, IntegrityError, NAME, SCRATCH_SCHEMA, SESSION};
use crate::checks::{CheckResult, Finding, Severity};
use crate::pg::ident;

/// What the run knows besides the database: the tool (for its rename fix) and whether a
/// migration of the run is listed in `allow-migrations`.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    pub tool: &'a str,
    pub migration_allowed: bool,
}

/// Compares the migrated test Neon database branch with what [`record::record`] recorded.
pub async fn evaluate(
    client: &Client,
    rec: &Recorded,
    cfg: &IntegrityConfig,
    facts: RunFacts<'_>,
) -> CheckResult {
    let mut out = Out {
        cfg,
        facts,
        findings: Vec::new(),
        details: Vec::new(),
        changed: 0,
    };
    match compare(client, rec, &mut out).await {
        Ok(()) => {
            let summary = format!(
                "{} table(s) compared value by value, {} with changes",
                rec.tables.len(),
                out.changed
            );
            CheckResult::from_findings(NAME, summary, out.findings, out.details)
        }
        Err(e) => CheckResult::failed(NAME, format!("cannot compare the values: {e}")),
    }
}

/// Findings being gathered.
struct Out<'a> {
    cfg: &'a IntegrityConfig,
    facts: RunFacts<'a>,
    findings: Vec<Finding>,
    details: Vec<String>,
    /// Tables with at least one change.
    changed: usize,
}

const FIX_HINT: &str = "if this change is intended, add";

impl Out<'_> {
    /// An error unless declared (`allow-change`, `allow-migrations`): then information.
    fn change(
        &mut self,
        t: &TableInfo,
        column: Option<&str>,
        what: String,
        why: &str,
        fix: Option<String>,
    ) {
        let declared_column = self.cfg.allows(&t.schema, &t.name, column);
        let declared = declared_column || self.facts.migration_allowed;
        let (severity, what) = if declared_column {
            (Severity::Info, format!("{what} (declared in allow-change)"))
        } else if declared {
            (
                Severity::Info,
                format!("{what} (a migration of the run is in allow-migrations)"),
            )
        } else {
            (Severity::Error, what)
        };
        let entry = match column {
            Some(c) => format!("{}.{c}", display(&t.schema, &t.name)),
            None => display(&t.schema, &t.name),
        };
        let allow = format!("{FIX_HINT} \"{entry}\" to `allow-change` under [checks.{NAME}]");
        let fix = match fix {
            Some(f) => format!("{f}; {allow}"),
            None => allow,
        };
        self.findings.push(
            Finding::new(NAME, severity, what, why)
                .at(display(&t.schema, &t.name))
                .fix(fix),
        );
    }
    fn info(&mut self, t: &TableInfo, what: String, why: &str) {
        self.findings
            .push(Finding::new(NAME, Severity::Info, what, why).at(display(&t.schema, &t.name)));
    }
}

async fn compare(client: &Client, rec: &Recorded, out: &mut Out<'_>) -> Result<(), IntegrityError> {
    client
        .batch_execute(SESSION)
        .await
        .map_err(IntegrityError::query("cannot set up the session"))?;
    let oids: Vec<i64> = rec.tables.iter().map(|t| t.table.oid).collect();
    let now = record::tables(client, Some(oids)).await?;
    for tr in &rec.tables {
        let before = &tr.table;
        let Some(after) = now.iter().find(|t| t.oid == before.oid) else {
            let rows = match &tr.mode {
                Mode::Keyed { rows, .. } | Mode::Aggregate { rows, .. } => *rows,
            };
            if rows > 0 {
                out.changed += 1;
                out.change(
                    before,
                    None,
                    format!(
                        "table {} dropped with its {rows} row(s)",
                        display(&before.schema, &before.name)
                    ),
                    "its rows are gone from production once this migration is applied",
                    None,
                );
            } else {
                out.details.push(format!(
                    "{}: dropped (it was empty)",
                    display(&before.schema, &before.name)
                ));
            }
            continue;
        };
        if after.schema != before.schema || after.name != before.name {
            out.details.push(format!(
                "{} is now {} (renamed; compared as one table)",
                display(&before.schema, &before.name),
                display(&after.schema, &after.name)
            ));
        }
        let findings_before = out.findings.len();
        match &tr.mode {
            Mode::Keyed { .. } => compare_keyed(client, rec.seed, tr, after, out).await?,
            Mode::Aggregate { rows, columns } => {
                compare_aggregate(client, before, after, *rows, columns, out).await?
            }
        }
        if out.findings.len() > findings_before {
            out.changed += 1;
        }
    }
    Ok(())
}

/// Columns of a table before and after, by attribute number.
struct Columns<'a> {
    kept: Vec<(&'a ColumnInfo, &'a ColumnInfo)>,
    dropped: Vec<&'a ColumnInfo>,
    added: Vec<&'a ColumnInfo>,
}

fn columns<'a>(before: &'a TableInfo, after: &'a TableInfo) -> Columns<'a> {
    Columns {
        kept: before
            .columns
            .iter()
            .filter_map(|b| after.column(b.attnum).map(|a| (b, a)))
            .collect(),
        dropped: before
            .columns
            .iter()
            .filter(|b| after.column(b.attnum).is_none())
            .collect(),
        added: after
            .columns
            .iter()
            .filter(|a| before.column(a.attnum).is_none())
            .collect(),
    }
}

/// Result columns of the comparison statement, by position.
struct Select {
    items: Vec<String>,
}

impl Select {
    fn push(&mut self, item: String) -> usize {
        self.items.push(item);
        self.items.len() - 1
    }
}

/// Positions of one kind of change: its count and two example keys.
#[derive(Clone, Copy)]
struct Counted {
    n: usize,
}

impl Counted {
    fn add(sel: &mut Select, cond: &str, key: &str) -> Self {
        let n = sel.push(format!("pg_catalog.count(*) FILTER (WHERE {cond})"));
        sel.push(format!("pg_catalog.min({key}) FILTER (WHERE {cond})"));
        sel.push(format!("pg_catalog.max({key}) FILTER (WHERE {cond})"));
        Counted { n }
    }
    fn read(&self, row: &tokio_postgres::Row) -> (i64, String) {
        let n: i64 = row.get(self.n);
        let first: Option<String> = row.get(self.n + 1);
        let last: Option<String> = row.get(self.n + 2);
        (n, examples(&first, &last))
    }
}

const MATCHED: &str = "a.k IS NOT NULL AND b.k IS NOT NULL";

async fn compare_keyed(
    client: &Client,
    seed: i64,
    tr: &TableRecord,
    after: &TableInfo,
    out: &mut Out<'_>,
) -> Result<(), IntegrityError> {
    let before = &tr.table;
    let Mode::Keyed {
        key,
        scratch,
        rows,
        digest,
        sample,
    } = &tr.mode
    else {
        return Ok(());
    };
    let name = display(&after.schema, &after.name);
    let cols = columns(before, after);
    let sampled = sample
        .as_ref()
        .map(|s| {
            let key_names: Vec<&str> = key
                .iter()
                .filter_map(|k| before.column(*k).map(|c| c.name.as_str()))
                .collect();
            format!(" ({})", s.describe(before.estimate, &key_names.join(", ")))
        })
        .unwrap_or_default();
    // The key after the migration, by attribute number (a renamed key column is followed).
    let Some(key_after): Option<Vec<&ColumnInfo>> = key.iter().map(|k| after.column(*k)).collect()
    else {
        out.change(
            after,
            None,
            format!("{name}: its key column(s) were dropped, so no row can be matched with the one it was"),
            "without the key, what the migration did to each row cannot be shown",
            None,
        );
        return Ok(());
    };
    let old_type = |c: &ColumnInfo| {
        before
            .column(c.attnum)
            .filter(|b| b.data_type != c.data_type)
            .map(|b| b.data_type.clone())
    };
    let mut cast_back = true;
    loop {
        let key_cols: Vec<String> = key_after
            .iter()
            .map(|c| match old_type(c).filter(|_| cast_back) {
                Some(t) => format!("({})::{t}", ident(&c.name)),
                None => ident(&c.name),
            })
            .collect();
        let ktext = key_text(&key_cols);
        let mut inner = vec![format!("{ktext} COLLATE \"C\" AS k")];
        for c in &after.columns {
            let old = old_type(c).filter(|_| cast_back);
            inner.push(format!(
                "{} AS h{}",
                hash_expr(&c.name, old.as_deref()),
                c.attnum
            ));
        }
        let raw_key: Vec<String> = key_after.iter().map(|c| ident(&c.name)).collect();
        let filter = sample
            .as_ref()
            .map(|s| format!(" WHERE {}", s.filter(&raw_key, &ktext)))
            .unwrap_or_default();
        let mut sel = Select { items: Vec::new() };
        let deleted = Counted::add(&mut sel, "a.k IS NULL", "b.k");
        let inserted = Counted::add(&mut sel, "b.k IS NULL", "a.k");
        let before_rows = sel.push("pg_catalog.count(b.k)".into());
        let matched = sel.push(format!("pg_catalog.count(*) FILTER (WHERE {MATCHED})"));
        let got_digest = sel.push(
            "coalesce(pg_catalog.sum(pg_catalog.hashtextextended(b::text, $1)::numeric) FILTER (WHERE b.k IS NOT NULL), 0)::text".into(),
        );
        let kept: Vec<(&ColumnInfo, &ColumnInfo, Counted)> = cols
            .kept
            .iter()
            .map(|(b, a)| {
                let cond = format!("{MATCHED} AND a.h{n} IS DISTINCT FROM b.h{n}", n = b.attnum);
                (*b, *a, Counted::add(&mut sel, &cond, "b.k"))
            })
            .collect();
        let dropped: Vec<(&ColumnInfo, usize)> = cols
            .dropped
            .iter()
            .map(|d| (*d, sel.push(format!("pg_catalog.count(b.h{})", d.attnum))))
            .collect();
        let added: Vec<(&ColumnInfo, usize)> = cols
            .added
            .iter()
            .map(|x| (*x, sel.push(format!("pg_catalog.count(a.h{})", x.attnum))))
            .collect();
        // Rename candidates: rows whose dropped value equals the added one.
        let mut pairs = Vec::new();
        for d in cols.dropped.iter().take(8) {
            for x in cols.added.iter().take(8) {
                let i = sel.push(format!(
                    "pg_catalog.count(*) FILTER (WHERE {MATCHED} AND a.h{} IS NOT DISTINCT FROM b.h{})",
                    x.attnum, d.attnum
                ));
                pairs.push((*d, *x, i));
            }
        }
        let sql = format!(
            "SELECT {} FROM {scratch} b FULL JOIN (SELECT {} FROM ONLY {}{filter}) a ON a.k = b.k",
            sel.items.join(", "),
            inner.join(", "),
            after.sql_name()
        );
        let row = match client.query_one(&sql, &[&seed]).await {
            Ok(r) => r,
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                tampered(out, after, "it is gone");
                return Ok(());
            }
            // A new value that does not cast back to the old type: compare the text forms.
            Err(_) if cast_back && after.columns.iter().any(|c| old_type(c).is_some()) => {
                cast_back = false;
                continue;
            }
            Err(e) => {
                return Err(IntegrityError::Query {
                    what: format!("cannot compare {name}"),
                    source: e,
                })
            }
        };
        if row.get::<_, i64>(before_rows) != *rows || row.get::<_, String>(got_digest) != *digest {
            tampered(out, after, "its rows are not the ones recorded");
            return Ok(());
        }
        let matched: i64 = row.get(matched);
        let (del, del_ex) = deleted.read(&row);
        let (ins, _) = inserted.read(&row);
        if del > 0 {
            let what = if ins > 0 {
                format!(
                    "{name}: {del} row(s) deleted{del_ex} and {ins} inserted{}{sampled}",
                    if ins == del {
                        ": the row count is the same, the rows are not"
                    } else {
                        ""
                    }
                )
            } else {
                format!("{name}: {del} row(s) deleted{del_ex}{sampled}")
            };
            out.change(after, None, what, "a row the migration deletes on the test Neon database branch is deleted on production too, even when as many rows take its place (the rows' identity, and whatever refers to them, is lost)", None);
        } else if ins > 0 {
            out.info(
                after,
                format!("{name}: {ins} row(s) inserted{sampled}"),
                "new rows are information: nothing that existed was lost",
            );
        }
        let mut unchanged = 0;
        for (b, a, counted) in &kept {
            let (n, ex) = counted.read(&row);
            let column = format!("{name}.{}", a.name);
            if b.data_type != a.data_type {
                if n > 0 {
                    let how = if cast_back {
                        "not equal after casting back"
                    } else {
                        "changed (their text forms differ; the new values do not all cast back)"
                    };
                    out.change(after, Some(&a.name), format!("{column}: type {} → {}: {n} value(s) {how}{ex}{sampled}", b.data_type, a.data_type), "the type change truncated, rounded or shifted values that production holds", Some("keep a type that holds every value, or convert the values on purpose in the migration".into()));
                } else {
                    out.details.push(format!(
                        "{column}: type {} → {}, every value equal after casting back",
                        b.data_type, a.data_type
                    ));
                }
            } else if n > 0 {
                out.change(after, Some(&a.name), format!("{column}: {n} value(s) changed{ex}{sampled}"), "the migration rewrote values that existed before it; row counts do not show it", None);
            } else {
                unchanged += 1;
            }
        }
        // Drops and adds, and the renames among them.
        let mut used_added = Vec::new();
        for (d, i) in &dropped {
            let lost: i64 = row.get(*i);
            let column = format!("{name}.{}", d.name);
            let copy = pairs
                .iter()
                .filter(|(pd, _, _)| pd.attnum == d.attnum)
                .find(|(_, _, j)| matched > 0 && row.get::<_, i64>(*j) == matched);
            if let Some((_, x, _)) = copy.filter(|_| lost > 0) {
                used_added.push(x.attnum);
                out.info(
                    after,
                    format!(
                        "{column} renamed to {} by copy: all {lost} non-null value(s) kept",
                        x.name
                    ),
                    "a rename by copy keeps every value",
                );
                continue;
            }
            if lost == 0 {
                out.details
                    .push(format!("{column}: dropped (it held no values)"));
                continue;
            }
            let partner = cols
                .added
                .iter()
                .find(|x| x.data_type == d.data_type && !used_added.contains(&x.attnum))
                .or_else(|| {
                    (cols.dropped.len() == 1 && cols.added.len() == 1).then(|| &cols.added[0])
                })
                .copied();
            match partner {
                Some(x) => {
                    used_added.push(x.attnum);
                    out.change(after, Some(&d.name), format!("{name}: {} dropped and {} added looks like a rename done as drop + add: {lost} value(s) lost{sampled}", d.name, x.name), "the values of the old column are not in the new one: production loses them", Some(rename_fix(out.facts.tool, &after.sql_name(), &d.name, &x.name)));
                }
                None => out.change(
                    after,
                    Some(&d.name),
                    format!("{column} dropped with {lost} non-null value(s) lost{sampled}"),
                    "the column's values are gone from production once this migration is applied",
                    None,
                ),
            }
        }
        for (x, i) in &added {
            if used_added.contains(&x.attnum) {
                continue;
            }
            let filled: i64 = row.get(*i);
            let column = format!("{name}.{}", x.name);
            if filled > 0 {
                out.info(
                    after,
                    format!("{column} added, backfilled: {filled} non-null value(s){sampled}"),
                    "a new column's values are information: nothing that existed was lost",
                );
            } else {
                out.details.push(format!("{column}: added (no values)"));
            }
        }
        out.details.push(format!(
            "{name}: {matched} row(s) matched by key, {unchanged} column(s) unchanged{}",
            if sampled.is_empty() {
                " (exact)".to_owned()
            } else {
                sampled.clone()
            }
        ));
        return Ok(());
    }
}

fn tampered(out: &mut Out<'_>, t: &TableInfo, how: &str) {
    out.findings.push(
        Finding::new(
            NAME,
            Severity::Error,
            format!(
                "the fingerprints of {} recorded before the migration were changed while it ran: {how}",
                display(&t.schema, &t.name)
            ),
            format!("something wrote to the scratch schema {SCRATCH_SCHEMA} on the test Neon database branch (or the table's key stopped being unique): nothing compared for this table can be trusted"),
        )
        .at(display(&t.schema, &t.name))
        .fix("a migration must not touch neon-migrate's scratch schema; run again"),
    );
}

/// The tool's own way to rename a column instead of dropping and adding it.
fn rename_fix(tool: &str, table: &str, old: &str, new: &str) -> String {
    let sql = format!(
        "ALTER TABLE {table} RENAME COLUMN {} TO {}",
        ident(old),
        ident(new)
    );
    match tool {
        "prisma" => format!("Prisma writes a renamed field as DROP + ADD: create the migration with `prisma migrate dev --create-only` and replace both statements with `{sql}` (or keep the old column name with `@map(\"{old}\")`)"),
        "drizzle" => format!("answer drizzle-kit generate's question \"is {new} column created or renamed from another column?\" with the rename (~ {old} › {new}), or edit the SQL to `{sql}`"),
        "django" => format!("answer makemigrations' \"Did you rename …{old} to …{new}?\" with y, or write `migrations.RenameField(model_name=…, old_name=\"{old}\", new_name=\"{new}\")` in the migration"),
        _ => format!("rename the column (`{sql}`), or copy its values (`UPDATE … SET {} = {}`) before dropping it", ident(new), ident(old)),
    }
}

async fn compare_aggregate(
    client: &Client,
    before: &TableInfo,
    after: &TableInfo,
    rows: i64,
    recorded: &[(i32, i64, String)],
    out: &mut Out<'_>,
) -> Result<(), IntegrityError> {
    let name = display(&after.schema, &after.name);
    let cast_back = |attnum: i32| {
        let b = before.column(attnum)?;
        let a = after.column(attnum)?;
        (a.data_type != b.data_type).then(|| b.data_type.clone())
    };
    let now = match record::aggregate(client, after, &after.columns, &cast_back).await {
        Ok(m) => m,
        Err(_) => record::aggregate(client, after, &after.columns, &|_| None).await?,
    };
    let Mode::Aggregate {
        rows: rows_after,
        columns: now,
    } = now
    else {
        return Ok(());
    };
    let how = "no primary key or unique NOT NULL key: compared by order-independent aggregates per column, so the rows cannot be named";
    out.info(
        after,
        format!("{name}: {how}"),
        "add a primary key to have changed rows named",
    );
    if rows_after < rows {
        out.change(
            after,
            None,
            format!("{name}: {rows} → {rows_after} row(s) (aggregate)"),
            "rows the migration deletes are deleted on production too",
            None,
        );
    }
    for (attnum, nonnull, sum) in recorded {
        let Some(c) = before.column(*attnum) else {
            continue;
        };
        match now.iter().find(|(a, _, _)| a == attnum) {
            None if *nonnull > 0 => out.change(
                after,
                Some(&c.name),
                format!(
                    "{name}.{} dropped with {nonnull} non-null value(s) lost",
                    c.name
                ),
                "the column's values are gone from production once this migration is applied",
                None,
            ),
            None => out
                .details
                .push(format!("{name}.{}: dropped (it held no values)", c.name)),
            Some((_, n2, s2)) if n2 != nonnull || s2 != sum => {
                let col = after
                    .column(*attnum)
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                out.change(after, Some(&col), format!("{name}.{col}: values changed (aggregate: {nonnull} non-null before, {n2} after)"), "the migration rewrote values that existed before it; row counts do not show it", None);
            }
            Some(_) => {}
        }
    }
    for (attnum, n, _) in &now {
        if before.column(*attnum).is_none() && *n > 0 {
            let col = after
                .column(*attnum)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            out.info(
                after,
                format!("{name}.{col} added, backfilled: {n} non-null value(s)"),
                "a new column's values are information: nothing that existed was lost",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rename_fix;

    #[test]
    fn renames_done_as_drop_and_add_get_the_tools_own_fix() {
        let t = "\"public\".\"people\"";
        assert!(rename_fix("prisma", t, "full_name", "name").contains("--create-only"));
        assert!(rename_fix("prisma", t, "full_name", "name").contains("@map(\"full_name\")"));
        assert!(
            rename_fix("drizzle", t, "full_name", "name").contains("renamed from another column")
        );
        assert!(rename_fix("django", t, "full_name", "name").contains("migrations.RenameField"));
        assert!(rename_fix("sql", t, "full_name", "name")
            .contains("ALTER TABLE \"public\".\"people\" RENAME COLUMN \"full_name\" TO \"name\""));
    }
}

//! After the migration: the fingerprints joined with the migrated tables, one statement per
//! table, and the findings.

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Row};

use super::record::{
    self, fingerprint_expr, key_text, ColumnInfo, Mode, Recorded, Sample, TableInfo, TableRecord,
    DIGEST,
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
    fn read(&self, row: &Row) -> (i64, String) {
        let n: i64 = row.get(self.n);
        let first: Option<String> = row.get(self.n + 1);
        let last: Option<String> = row.get(self.n + 2);
        (n, examples(&first, &last))
    }
}

const MATCHED: &str = "a.k IS NOT NULL AND b.k IS NOT NULL";

/// The comparison statement of one keyed table and where each answer is in its row.
struct KeyedQuery<'a> {
    sql: String,
    deleted: Counted,
    inserted: Counted,
    before_rows: usize,
    matched: usize,
    digest: usize,
    kept: Vec<(&'a ColumnInfo, &'a ColumnInfo, Counted)>,
    dropped: Vec<(&'a ColumnInfo, usize)>,
    added: Vec<(&'a ColumnInfo, usize)>,
    /// Rename candidates (dropped, added): rows whose dropped value equals the added one.
    pairs: Vec<(&'a ColumnInfo, &'a ColumnInfo, usize)>,
}

/// One keyed table's comparison, as the migration left it.
struct Keyed<'a> {
    before: &'a TableInfo,
    after: &'a TableInfo,
    cols: Columns<'a>,
    key_after: Vec<&'a ColumnInfo>,
    scratch: &'a str,
    sample: Option<&'a Sample>,
    /// `schema.table` for the findings.
    name: String,
    /// ` (sampled: …)`, or empty.
    sampled: String,
}

impl<'a> Keyed<'a> {
    /// The type a column had before the migration, when it changed.
    fn old_type(&self, c: &ColumnInfo) -> Option<String> {
        self.before
            .column(c.attnum)
            .filter(|b| b.data_type != c.data_type)
            .map(|b| b.data_type.clone())
    }

    fn any_type_changed(&self) -> bool {
        self.after
            .columns
            .iter()
            .any(|c| self.old_type(c).is_some())
    }

    /// The fingerprints (`b`) FULL JOIN the table as it is now (`a`), hashed the same way;
    /// with `cast_back`, a column whose type changed is cast back to its old type first.
    fn query(&self, cast_back: bool) -> KeyedQuery<'a> {
        let key_cols: Vec<String> = self
            .key_after
            .iter()
            .map(|c| match self.old_type(c).filter(|_| cast_back) {
                Some(t) => format!("({})::{t}", ident(&c.name)),
                None => ident(&c.name),
            })
            .collect();
        let ktext = key_text(&key_cols);
        let mut inner = vec![format!("{ktext} COLLATE \"C\" AS k")];
        for c in &self.after.columns {
            let old = self.old_type(c).filter(|_| cast_back);
            inner.push(format!(
                "{} AS h{}",
                fingerprint_expr(&c.name, old.as_deref()),
                c.attnum
            ));
        }
        let raw_key: Vec<String> = self.key_after.iter().map(|c| ident(&c.name)).collect();
        let filter = self
            .sample
            .map(|s| format!(" WHERE {}", s.filter(&raw_key, &ktext)))
            .unwrap_or_default();
        let mut sel = Select { items: Vec::new() };
        let deleted = Counted::add(&mut sel, "a.k IS NULL", "b.k");
        let inserted = Counted::add(&mut sel, "b.k IS NULL", "a.k");
        let before_rows = sel.push("pg_catalog.count(b.k)".into());
        let matched = sel.push(format!("pg_catalog.count(*) FILTER (WHERE {MATCHED})"));
        // Rows of `b` only: on a row `a` alone has, `b` is a row of NULLs.
        let digest =
            sel.push(DIGEST.replace("), 0)::text", ") FILTER (WHERE b.k IS NOT NULL), 0)::text"));
        let kept = self
            .cols
            .kept
            .iter()
            .map(|(b, a)| {
                // NULL (not counted) on a row only one side has: see `fingerprint_expr`.
                let cond = format!("a.h{n} <> b.h{n}", n = b.attnum);
                (*b, *a, Counted::add(&mut sel, &cond, "b.k"))
            })
            .collect();
        let dropped = self
            .cols
            .dropped
            .iter()
            .map(|d| {
                let n = sel.push(format!(
                    "pg_catalog.count(*) FILTER (WHERE b.h{} <> 0)",
                    d.attnum
                ));
                (*d, n)
            })
            .collect();
        let added = self
            .cols
            .added
            .iter()
            .map(|x| {
                let n = sel.push(format!(
                    "pg_catalog.count(*) FILTER (WHERE a.h{} <> 0)",
                    x.attnum
                ));
                (*x, n)
            })
            .collect();
        let mut pairs = Vec::new();
        for d in self.cols.dropped.iter().take(8) {
            for x in self.cols.added.iter().take(8) {
                // Equal fingerprints (NULL = NULL is 0 = 0) on a row both sides have.
                let i = sel.push(format!(
                    "pg_catalog.count(*) FILTER (WHERE a.h{} = b.h{})",
                    x.attnum, d.attnum
                ));
                pairs.push((*d, *x, i));
            }
        }
        let sql = format!(
            "SELECT {} FROM {} b FULL JOIN (SELECT {} FROM ONLY {}{filter}) a ON a.k = b.k",
            sel.items.join(", "),
            self.scratch,
            inner.join(", "),
            self.after.sql_name()
        );
        KeyedQuery {
            sql,
            deleted,
            inserted,
            before_rows,
            matched,
            digest,
            kept,
            dropped,
            added,
            pairs,
        }
    }

    /// Rows deleted and inserted.
    fn rows(&self, out: &mut Out<'_>, q: &KeyedQuery<'_>, row: &Row) {
        let (name, sampled) = (&self.name, &self.sampled);
        let (del, del_ex) = q.deleted.read(row);
        let (ins, _) = q.inserted.read(row);
        if del > 0 {
            let same = if ins == del {
                ": the row count is the same, the rows are not"
            } else {
                ""
            };
            let what = if ins > 0 {
                format!("{name}: {del} row(s) deleted{del_ex} and {ins} inserted{same}{sampled}")
            } else {
                format!("{name}: {del} row(s) deleted{del_ex}{sampled}")
            };
            out.change(self.after, None, what, "a row the migration deletes on the test Neon database branch is deleted on production too, even when as many rows take its place (the rows' identity, and whatever refers to them, is lost)", None);
        } else if ins > 0 {
            out.info(
                self.after,
                format!("{name}: {ins} row(s) inserted{sampled}"),
                "new rows are information: nothing that existed was lost",
            );
        }
    }

    /// Values changed in the columns that stayed; returns how many columns are unchanged.
    fn kept(&self, out: &mut Out<'_>, q: &KeyedQuery<'_>, row: &Row, cast_back: bool) -> usize {
        let (name, sampled) = (&self.name, &self.sampled);
        let mut unchanged = 0;
        for (b, a, counted) in &q.kept {
            let (n, ex) = counted.read(row);
            let column = format!("{name}.{}", a.name);
            if b.data_type != a.data_type {
                if n > 0 {
                    let how = if cast_back {
                        "not equal after casting back"
                    } else {
                        "changed (their text forms differ; the new values do not all cast back)"
                    };
                    out.change(self.after, Some(&a.name), format!("{column}: type {} → {}: {n} value(s) {how}{ex}{sampled}", b.data_type, a.data_type), "the type change truncated, rounded or shifted values that production holds", Some("keep a type that holds every value, or convert the values on purpose in the migration".into()));
                } else {
                    out.details.push(format!(
                        "{column}: type {} → {}, every value equal after casting back",
                        b.data_type, a.data_type
                    ));
                }
            } else if n > 0 {
                out.change(self.after, Some(&a.name), format!("{column}: {n} value(s) changed{ex}{sampled}"), "the migration rewrote values that existed before it; row counts do not show it", None);
            } else {
                unchanged += 1;
            }
        }
        unchanged
    }

    /// Dropped columns and the renames among drops and adds; returns the added columns
    /// already explained by a rename.
    fn dropped(&self, out: &mut Out<'_>, q: &KeyedQuery<'_>, row: &Row) -> Vec<i32> {
        let (name, sampled) = (&self.name, &self.sampled);
        let matched: i64 = row.get(q.matched);
        let mut used_added = Vec::new();
        for (d, i) in &q.dropped {
            let lost: i64 = row.get(*i);
            let column = format!("{name}.{}", d.name);
            let copy = q
                .pairs
                .iter()
                .filter(|(pd, _, _)| pd.attnum == d.attnum)
                .find(|(_, _, j)| matched > 0 && row.get::<_, i64>(*j) == matched);
            if let Some((_, x, _)) = copy.filter(|_| lost > 0) {
                used_added.push(x.attnum);
                out.info(
                    self.after,
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
            let added = &self.cols.added;
            let partner = added
                .iter()
                .find(|x| x.data_type == d.data_type && !used_added.contains(&x.attnum))
                .or_else(|| (self.cols.dropped.len() == 1 && added.len() == 1).then(|| &added[0]))
                .copied();
            match partner {
                Some(x) => {
                    used_added.push(x.attnum);
                    let fix = rename_fix(out.facts.tool, &self.after.sql_name(), &d.name, &x.name);
                    out.change(self.after, Some(&d.name), format!("{name}: {} dropped and {} added looks like a rename done as drop + add: {lost} value(s) lost{sampled}", d.name, x.name), "the values of the old column are not in the new one: production loses them", Some(fix));
                }
                None => out.change(
                    self.after,
                    Some(&d.name),
                    format!("{column} dropped with {lost} non-null value(s) lost{sampled}"),
                    "the column's values are gone from production once this migration is applied",
                    None,
                ),
            }
        }
        used_added
    }

    /// Added columns: backfilled ones are information.
    fn added(&self, out: &mut Out<'_>, q: &KeyedQuery<'_>, row: &Row, renamed: &[i32]) {
        for (x, i) in q.added.iter().filter(|(x, _)| !renamed.contains(&x.attnum)) {
            let filled: i64 = row.get(*i);
            let column = format!("{}.{}", self.name, x.name);
            if filled > 0 {
                out.info(
                    self.after,
                    format!(
                        "{column} added, backfilled: {filled} non-null value(s){}",
                        self.sampled
                    ),
                    "a new column's values are information: nothing that existed was lost",
                );
            } else {
                out.details.push(format!("{column}: added (no values)"));
            }
        }
    }
}

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
    let k = Keyed {
        before,
        after,
        cols: columns(before, after),
        key_after,
        scratch,
        sample: sample.as_ref(),
        name,
        sampled,
    };
    let mut cast_back = true;
    let (q, row) = loop {
        let q = k.query(cast_back);
        match client.query_one(&q.sql, &[&seed]).await {
            Ok(row) => break (q, row),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                tampered(out, after, "it is gone");
                return Ok(());
            }
            // A new value that does not cast back to the old type: compare the text forms.
            Err(_) if cast_back && k.any_type_changed() => cast_back = false,
            Err(e) => {
                return Err(IntegrityError::Query {
                    what: format!("cannot compare {}", k.name),
                    source: e,
                })
            }
        }
    };
    if row.get::<_, i64>(q.before_rows) != *rows || row.get::<_, String>(q.digest) != *digest {
        tampered(out, after, "its rows are not the ones recorded");
        return Ok(());
    }
    k.rows(out, &q, &row);
    let unchanged = k.kept(out, &q, &row, cast_back);
    let renamed = k.dropped(out, &q, &row);
    k.added(out, &q, &row, &renamed);
    let matched: i64 = row.get(q.matched);
    let how = if k.sampled.is_empty() {
        " (exact)"
    } else {
        k.sampled.as_str()
    };
    out.details.push(format!(
        "{}: {matched} row(s) matched by key, {unchanged} column(s) unchanged{how}",
        k.name
    ));
    Ok(())
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

//! After the migration: the fingerprints joined with the migrated tables, one statement per
//! table, and the findings.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::record::{
    self, fingerprint_expr, key_text, ColumnInfo, Mode, Recorded, Retyped, Sample, TableInfo,
    TableRecord, DIGEST,
};
use super::{
    display, examples, shown, IntegrityConfig, IntegrityError, NAME, SCRATCH_SCHEMA, SESSION,
};
use crate::checks::{CheckResult, Finding, Severity};
use crate::pg::ident;

/// What the run knows besides the database: the tool (for its rename fix) and whether a
/// migration of the run is listed in `allow-migrations`.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    pub tool: &'a str,
    /// Every migration applied in the run is listed in `allow-migrations` (changes cannot be
    /// attributed to one migration, so only then are they declared).
    pub migration_allowed: bool,
    /// Migrations of the run that `allow-migrations` does not list, when it lists another one
    /// of the run: said on each change it then does not excuse.
    pub unlisted: &'a [String],
}

/// Compares the migrated test Neon database branch with what [`record::record`] recorded.
pub async fn evaluate(
    client: &Client,
    rec: &Recorded,
    cfg: &IntegrityConfig,
    facts: RunFacts<'_>,
) -> CheckResult {
    // Nothing was fingerprinted: never a pass, whoever calls.
    if let Some(n) = rec.occupied {
        return CheckResult::failed(
            NAME,
            format!(
                "nothing compared: a schema named {SCRATCH_SCHEMA} already existed on the test Neon database branch before the migration ({n} relation(s)) — it is the integrity check's scratch schema, so it was left as it is and no table was fingerprinted; rename that schema (or drop it if it is a leftover) on the main Neon database branch"
            ),
        );
    }
    let mut out = Out {
        cfg,
        facts,
        findings: Vec::new(),
        details: Vec::new(),
        failing: 0,
        informational: 0,
        notes: 0,
    };
    for t in &rec.hidden {
        out.findings.push(
            Finding::new(
                NAME,
                Severity::Warning,
                format!("NOT CHECKED: {t}: a row-level security policy hid its rows from the checks' role before the migration (FORCE ROW LEVEL SECURITY), so its values were not fingerprinted or compared"),
                "with row security off, Postgres refuses to read such a table instead of filtering it; a filtered fingerprint would prove nothing",
            )
            .at(t.clone())
            .fix("run the checks as a role that bypasses row-level security (BYPASSRLS), or cover the table with a `[[checks.sql]]` assertion"),
        );
    }
    match compare(client, rec, &mut out).await {
        Ok(()) => {
            let summary = super::summary(rec, &out);
            CheckResult::from_findings(NAME, summary, out.findings, out.details)
        }
        Err(e) => CheckResult::failed(NAME, format!("cannot compare the values: {e}")),
    }
}

/// Findings being gathered.
pub(super) struct Out<'a> {
    pub(super) cfg: &'a IntegrityConfig,
    facts: RunFacts<'a>,
    pub(super) findings: Vec<Finding>,
    pub(super) details: Vec<String>,
    /// Tables with a change that fails the check.
    pub(super) failing: usize,
    /// Tables whose changes are all information (declared, new rows or columns).
    pub(super) informational: usize,
    /// Information findings that are no change (how a table was compared).
    notes: usize,
}

const FIX_HINT: &str = "if this change is intended, add";

impl Out<'_> {
    /// An error unless declared (`allow-change`, `allow-migrations`): then information.
    pub(super) fn change(
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
                format!("{what} (every migration of the run is in allow-migrations)"),
            )
        } else if !self.facts.unlisted.is_empty() {
            let names = self.facts.unlisted.join(", ");
            (
                Severity::Error,
                format!("{what} (not excused by allow-migrations: the run also applied {names}, which it does not list, and a change cannot be attributed to one migration)"),
            )
        } else {
            (Severity::Error, what)
        };
        let entry = match column {
            Some(c) => format!("{}.{}", display(&t.schema, &t.name), shown(c)),
            None => display(&t.schema, &t.name),
        };
        // As a TOML string: a quoted identifier's `"` needs the literal form.
        let toml = if entry.contains('"') {
            format!("'{entry}'")
        } else {
            format!("\"{entry}\"")
        };
        let allow = format!("{FIX_HINT} {toml} to `allow-change` under [checks.{NAME}]");
        let fix = match (fix, declared) {
            (Some(f), true) => Some(f),
            (None, true) => None,
            (Some(f), false) => Some(format!("{f}; {allow}")),
            (None, false) => Some(allow),
        };
        let finding = Finding::new(NAME, severity, what, why).at(display(&t.schema, &t.name));
        self.findings.push(match fix {
            Some(f) => finding.fix(f),
            None => finding,
        });
    }
    /// Where the findings are before a table is compared (see [`Out::tally`]).
    fn mark(&self) -> (usize, usize) {
        (self.findings.len(), self.notes)
    }
    /// Counts the table compared since `mark`: failing when a change of it is an error,
    /// information only when its changes (notes on how it was compared aside) are not.
    fn tally(&mut self, (findings, notes): (usize, usize)) {
        let new = &self.findings[findings..];
        if new.iter().any(|f| f.severity == Severity::Error) {
            self.failing += 1;
        } else if new.len() > self.notes - notes {
            self.informational += 1;
        }
    }
    /// Information on how a table was compared: no change.
    pub(super) fn note(&mut self, t: &TableInfo, what: String, why: &str) {
        self.notes += 1;
        self.info(t, what, why);
    }
    pub(super) fn info(&mut self, t: &TableInfo, what: String, why: &str) {
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
    super::undeclaring(rec, &now, out);
    for tr in &rec.tables {
        let before = &tr.table;
        let Some(after) = now.iter().find(|t| t.oid == before.oid) else {
            let rows = match &tr.mode {
                Mode::Keyed { rows, .. } | Mode::Aggregate { rows, .. } => *rows,
            };
            if rows > 0 {
                let mark = out.mark();
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
                out.tally(mark);
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
        let mark = out.mark();
        detached(client, before, after, out).await?;
        match &tr.mode {
            Mode::Keyed { .. } => compare_keyed(client, rec, tr, after, out).await?,
            Mode::Aggregate {
                rows,
                columns,
                row_hashes,
            } => {
                let recorded = super::keyless::Aggregated {
                    rows: *rows,
                    columns,
                    row_hashes,
                };
                super::keyless::compare_aggregate(client, before, after, recorded, &rec.tz, out)
                    .await?
            }
        }
        out.tally(mark);
    }
    Ok(())
}

/// A partition (or inheriting child) that is no longer one of the table it belonged to: its
/// rows left that table — what reads the parent no longer sees them. Counted (exactly) and
/// reported on the parent, as a deletion from it.
async fn detached(
    client: &Client,
    before: &TableInfo,
    after: &TableInfo,
    out: &mut Out<'_>,
) -> Result<(), IntegrityError> {
    let Some((poid, pschema, pname)) = &before.parent else {
        return Ok(());
    };
    if after.parent.as_ref().map(|p| p.0) == Some(*poid) {
        return Ok(());
    }
    let rows: i64 = client
        .query_one(
            &format!("SELECT pg_catalog.count(*) FROM ONLY {}", after.sql_name()),
            &[],
        )
        .await
        .map_err(IntegrityError::query(format!(
            "cannot count the rows of {}",
            after.sql_name()
        )))?
        .get(0);
    let parent = TableInfo {
        oid: *poid,
        schema: pschema.clone(),
        name: pname.clone(),
        estimate: 0,
        columns: Vec::new(),
        key: None,
        parent: None,
    };
    let (pdisplay, table) = (display(pschema, pname), display(&after.schema, &after.name));
    if rows == 0 {
        out.details.push(format!(
            "{pdisplay}: partition {table} detached (it was empty)"
        ));
        return Ok(());
    }
    out.change(
        &parent,
        None,
        format!("{pdisplay}: partition {table} detached: its {rows} row(s) left {pdisplay}"),
        "every query of the parent table stops seeing them on production: for the application they are deleted",
        Some(format!("keep the partition attached, or move its rows elsewhere on purpose (and archive {table})")),
    );
    Ok(())
}

/// Columns of a table before and after, by name — what users know a column by: values moved
/// between named columns (`RENAME a TO tmp, b TO a, tmp TO b`) are changed values. A column
/// whose name is gone and whose attribute number holds a column of a new name was renamed
/// (`RENAME COLUMN`): the same column, kept.
pub(super) struct Columns<'a> {
    /// (before, after): the same name, or renamed in place.
    pub(super) kept: Vec<(&'a ColumnInfo, &'a ColumnInfo)>,
    pub(super) dropped: Vec<&'a ColumnInfo>,
    pub(super) added: Vec<&'a ColumnInfo>,
}

pub(super) fn columns<'a>(before: &'a TableInfo, after: &'a TableInfo) -> Columns<'a> {
    let origin = |a: &ColumnInfo| -> Option<&'a ColumnInfo> {
        match before.named(&a.name) {
            Some(b) => Some(b),
            None => before
                .column(a.attnum)
                .filter(|b| after.named(&b.name).is_none()),
        }
    };
    let kept: Vec<(&ColumnInfo, &ColumnInfo)> = after
        .columns
        .iter()
        .filter_map(|a| origin(a).map(|b| (b, a)))
        .collect();
    Columns {
        dropped: before
            .columns
            .iter()
            .filter(|b| !kept.iter().any(|(k, _)| k.attnum == b.attnum))
            .collect(),
        added: after
            .columns
            .iter()
            .filter(|a| !kept.iter().any(|(_, k)| k.attnum == a.attnum))
            .collect(),
        kept,
    }
}

/// Result columns of the comparison statement: every answer is an element of one of two
/// arrays (`bigint[]` counts, `text[]` keys and digest), so that a table of 1,600 columns
/// stays under Postgres' 1,664 entries per select list.
#[derive(Default)]
struct Select {
    ints: Vec<String>,
    texts: Vec<String>,
}

impl Select {
    fn int(&mut self, item: String) -> usize {
        self.ints.push(item);
        self.ints.len() - 1
    }
    fn text(&mut self, item: String) -> usize {
        self.texts.push(item);
        self.texts.len() - 1
    }
    fn sql(&self) -> String {
        format!(
            "ARRAY[{}]::bigint[], ARRAY[{}]::text[]",
            self.ints.join(", "),
            self.texts.join(", ")
        )
    }
}

/// The answers of the comparison statement.
struct Row {
    ints: Vec<i64>,
    texts: Vec<Option<String>>,
}

impl Row {
    fn int(&self, i: usize) -> i64 {
        self.ints.get(i).copied().unwrap_or(0)
    }
    fn text(&self, i: usize) -> Option<String> {
        self.texts.get(i).cloned().flatten()
    }
}

/// Positions of one kind of change: its count and two example keys.
#[derive(Clone, Copy)]
struct Counted {
    n: usize,
    first: usize,
}

impl Counted {
    fn add(sel: &mut Select, cond: &str, key: &str) -> Self {
        let n = sel.int(format!("pg_catalog.count(*) FILTER (WHERE {cond})"));
        let first = sel.text(format!("pg_catalog.min({key}) FILTER (WHERE {cond})"));
        sel.text(format!("pg_catalog.max({key}) FILTER (WHERE {cond})"));
        Counted { n, first }
    }
    fn read(&self, row: &Row) -> (i64, String) {
        let n = row.int(self.n);
        (
            n,
            examples(&row.text(self.first), &row.text(self.first + 1)),
        )
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
    /// The fingerprints are stored in chunks (see [`Mode::Keyed`]).
    chunked: bool,
    /// The database's time zone (see [`record::cast`]).
    tz: &'a str,
    sample: Option<&'a Sample>,
    /// `schema.table` for the findings.
    name: String,
    /// ` (sampled: …)`, or empty.
    sampled: String,
}

impl<'a> Keyed<'a> {
    /// The type a column (of the table now) had before the migration, when it changed.
    fn retyped(&self, c: &ColumnInfo) -> Option<Retyped<'a>> {
        self.cols
            .kept
            .iter()
            .find(|(_, a)| a.attnum == c.attnum)
            .filter(|(b, a)| b.data_type != a.data_type)
            .map(|(b, a)| Retyped {
                old: &b.data_type,
                new: &a.data_type,
                tz: self.tz,
            })
    }

    fn any_type_changed(&self) -> bool {
        self.after.columns.iter().any(|c| self.retyped(c).is_some())
    }

    /// Where a column's fingerprint before the migration is, in the scratch table `b`.
    fn stored(&self, c: &ColumnInfo) -> String {
        self.before.stored(c, self.chunked)
    }

    /// The fingerprints (`b`) FULL JOIN the table as it is now (`a`), hashed the same way;
    /// with `cast_back`, a column whose type changed is cast back to its old type first.
    fn query(&self, cast_back: bool) -> KeyedQuery<'a> {
        let key_cols: Vec<String> = self
            .key_after
            .iter()
            .map(|c| match self.retyped(c).filter(|_| cast_back) {
                Some(r) => record::cast(&ident(&c.name), r.new, r.old, r.tz),
                None => ident(&c.name),
            })
            .collect();
        let ktext = key_text(&key_cols);
        let mut inner = vec![format!("{ktext} COLLATE \"C\" AS k")];
        for c in &self.after.columns {
            let retyped = self.retyped(c).filter(|_| cast_back);
            inner.push(format!(
                "{} AS h{}",
                fingerprint_expr(&c.name, retyped),
                c.attnum
            ));
        }
        let raw_key: Vec<String> = self.key_after.iter().map(|c| ident(&c.name)).collect();
        let filter = self
            .sample
            .map(|s| format!(" WHERE {}", s.filter(&raw_key, &ktext)))
            .unwrap_or_default();
        let mut sel = Select::default();
        let deleted = Counted::add(&mut sel, "a.k IS NULL", "b.k");
        let inserted = Counted::add(&mut sel, "b.k IS NULL", "a.k");
        let before_rows = sel.int("pg_catalog.count(b.k)".into());
        let matched = sel.int(format!("pg_catalog.count(*) FILTER (WHERE {MATCHED})"));
        // Rows of `b` only: on a row `a` alone has, `b` is a row of NULLs.
        let digest =
            sel.text(DIGEST.replace("), 0)::text", ") FILTER (WHERE b.k IS NOT NULL), 0)::text"));
        let kept = self
            .cols
            .kept
            .iter()
            .map(|(b, a)| {
                // NULL (not counted) on a row only one side has: see `fingerprint_expr`.
                let cond = format!("a.h{} <> {}", a.attnum, self.stored(b));
                (*b, *a, Counted::add(&mut sel, &cond, "b.k"))
            })
            .collect();
        let dropped = self
            .cols
            .dropped
            .iter()
            .map(|d| {
                let n = sel.int(format!(
                    "pg_catalog.count(*) FILTER (WHERE {} <> 0)",
                    self.stored(d)
                ));
                (*d, n)
            })
            .collect();
        let added = self
            .cols
            .added
            .iter()
            .map(|x| {
                let n = sel.int(format!(
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
                let i = sel.int(format!(
                    "pg_catalog.count(*) FILTER (WHERE a.h{} = {})",
                    x.attnum,
                    self.stored(d)
                ));
                pairs.push((*d, *x, i));
            }
        }
        let sql = format!(
            "SELECT {} FROM {} b FULL JOIN (SELECT {} FROM ONLY {}{filter}) a ON a.k = b.k",
            sel.sql(),
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
            let column = format!("{name}.{}", shown(&a.name));
            let retyped = b.data_type != a.data_type;
            if b.name != a.name {
                out.details.push(format!(
                    "{name}.{} renamed to {} (the same column)",
                    shown(&b.name),
                    shown(&a.name)
                ));
            }
            // The same name on a new column: dropped and added again (a type change an ORM
            // wrote as DROP + ADD). Whatever was not copied over is lost.
            if self.before.column(a.attnum).is_none() && n > 0 {
                let how = if retyped {
                    format!(" (type {} → {})", b.data_type, a.data_type)
                } else {
                    String::new()
                };
                let fix = recreate_fix(out.facts.tool, &self.after.sql_name(), b, a);
                out.change(self.after, Some(&a.name), format!("{column}: dropped and added again{how}: {n} value(s) lost{ex}{sampled}"), "the column of this name is a new one: the values the old one held are not in it, production loses them", Some(fix));
            } else if retyped {
                if n > 0 {
                    let how = if cast_back {
                        "not equal after casting back (or not kept when cast back and forth)"
                    } else {
                        "changed (their text forms differ; the new values do not all cast back)"
                    };
                    out.change(self.after, Some(&a.name), format!("{column}: type {} → {}: {n} value(s) {how}{ex}{sampled}", b.data_type, a.data_type), "the type change truncated, rounded or shifted values that production holds", Some("keep a type that holds every value, or convert the values on purpose in the migration".into()));
                } else {
                    out.details.push(format!(
                        "{column}: type {} → {}, every value equal after casting back and forth",
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
        let matched = row.int(q.matched);
        let mut used_added = Vec::new();
        for (d, i) in &q.dropped {
            let lost = row.int(*i);
            let column = format!("{name}.{}", shown(&d.name));
            let copy = q
                .pairs
                .iter()
                .filter(|(pd, _, _)| pd.attnum == d.attnum)
                .find(|(_, _, j)| matched > 0 && row.int(*j) == matched);
            if let Some((_, x, _)) = copy.filter(|_| lost > 0) {
                used_added.push(x.attnum);
                out.info(
                    self.after,
                    format!(
                        "{column} renamed to {} by copy: all {lost} non-null value(s) kept",
                        shown(&x.name)
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
                    out.change(self.after, Some(&d.name), format!("{name}: {} dropped and {} added looks like a rename done as drop + add: {lost} value(s) lost{sampled}", shown(&d.name), shown(&x.name)), "the values of the old column are not in the new one: production loses them", Some(fix));
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
            let filled = row.int(*i);
            let column = format!("{}.{}", self.name, shown(&x.name));
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
    rec: &Recorded,
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
        chunked,
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
    let cols = columns(before, after);
    // The key after the migration, by name (a key column renamed in place is followed).
    let key_after: Option<Vec<&ColumnInfo>> = key
        .iter()
        .map(|k| {
            cols.kept
                .iter()
                .find(|(b, a)| b.attnum == *k && before.column(a.attnum).is_some())
                .map(|(_, a)| *a)
        })
        .collect();
    let Some(key_after) = key_after else {
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
        cols,
        key_after,
        scratch,
        chunked: *chunked,
        tz: &rec.tz,
        sample: sample.as_ref(),
        name,
        sampled,
    };
    let mut cast_back = true;
    let (q, row) = loop {
        let q = k.query(cast_back);
        match client.query_one(&q.sql, &[&rec.seed]).await {
            Ok(row) => {
                let row = Row {
                    ints: row.get(0),
                    texts: row.get(1),
                };
                break (q, row);
            }
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
    if row.int(q.before_rows) != *rows || row.text(q.digest).as_ref() != Some(digest) {
        tampered(out, after, "its rows are not the ones recorded");
        return Ok(());
    }
    if let Some(s) = sample {
        let intended = out.cfg.sample_above.min(before.estimate).max(1);
        if rows.saturating_mul(2) < intended {
            unsampled(out, &k, s, *rows, intended);
            return Ok(());
        }
    }
    k.rows(out, &q, &row);
    let unchanged = k.kept(out, &q, &row, cast_back);
    let renamed = k.dropped(out, &q, &row);
    k.added(out, &q, &row, &renamed);
    let matched = row.int(q.matched);
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

/// A sample that read far fewer rows than it aimed for (under half) proves nothing about the
/// table's values: an error, never "unchanged".
fn unsampled(out: &mut Out<'_>, k: &Keyed<'_>, s: &Sample, rows: i64, intended: i64) {
    let estimate = k.before.estimate;
    let what = format!(
        "{}: NOT CHECKED: its sample read {rows} row(s) where it aimed for ~{intended} ({})",
        k.name,
        s.describe(estimate, "the key")
    );
    out.details.push(what.clone());
    out.findings.push(
        Finding::new(
            NAME,
            Severity::Error,
            what,
            "a sample that reads almost nothing shows nothing of what the migration did to the table's values",
        )
        .at(k.name.clone())
        .fix(format!("run ANALYZE on {} on the main Neon database branch (its estimate of ~{estimate} row(s) may be stale), or raise `sample-above` under [checks.{NAME}] above its row count to compare it exactly", k.after.sql_name())),
    );
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

/// How to change a column in place instead of dropping it and adding one of the same name.
fn recreate_fix(tool: &str, table: &str, before: &ColumnInfo, after: &ColumnInfo) -> String {
    let c = ident(&after.name);
    let sql = if before.data_type != after.data_type {
        format!(
            "ALTER TABLE {table} ALTER COLUMN {c} TYPE {t} USING {c}::{t}",
            t = after.data_type
        )
    } else {
        format!("keep the column (drop neither it nor its values): no statement is needed for {c}")
    };
    let change = if before.data_type != after.data_type {
        format!("change the column in place (`{sql}`)")
    } else {
        sql
    };
    match tool {
        "prisma" => format!("Prisma writes some type changes as DROP + ADD: create the migration with `prisma migrate dev --create-only` and {change}"),
        _ => format!("{change}, or add the new column under another name, copy the values (`UPDATE … SET`), then drop the old one and rename"),
    }
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

#[cfg(test)]
mod tests {
    use super::{columns, rename_fix, ColumnInfo, TableInfo};

    fn table(cols: &[(i32, &str)]) -> TableInfo {
        TableInfo {
            oid: 1,
            schema: "public".into(),
            name: "t".into(),
            estimate: 0,
            columns: cols
                .iter()
                .map(|(attnum, name)| ColumnInfo {
                    attnum: *attnum,
                    name: (*name).into(),
                    data_type: "text".into(),
                })
                .collect(),
            key: None,
            parent: None,
        }
    }

    /// (before name, after name) of the kept columns, and the dropped and added names.
    fn names(
        before: &TableInfo,
        after: &TableInfo,
    ) -> (Vec<(String, String)>, Vec<String>, Vec<String>) {
        let c = columns(before, after);
        (
            c.kept
                .iter()
                .map(|(b, a)| (b.name.clone(), a.name.clone()))
                .collect(),
            c.dropped.iter().map(|d| d.name.clone()).collect(),
            c.added.iter().map(|x| x.name.clone()).collect(),
        )
    }

    #[test]
    fn columns_are_matched_by_name_and_followed_through_a_rename() {
        let before = table(&[(1, "id"), (2, "a"), (3, "b")]);
        // Swapped by renames: a is attnum 3 now, b attnum 2 — matched by name.
        let swapped = table(&[(1, "id"), (2, "b"), (3, "a")]);
        let c = columns(&before, &swapped);
        assert!(
            c.kept.iter().all(|(b, a)| b.name == a.name),
            "matched by name"
        );
        assert!(c.dropped.is_empty() && c.added.is_empty());
        // RENAME COLUMN a TO c: the same column.
        let (kept, dropped, added) = names(&before, &table(&[(1, "id"), (2, "c"), (3, "b")]));
        assert!(kept.contains(&("a".into(), "c".into())), "{kept:?}");
        assert!(dropped.is_empty() && added.is_empty());
        // Drop + add of b: the same name on a new column.
        let (kept, _, added) = names(&before, &table(&[(1, "id"), (2, "a"), (4, "b")]));
        assert!(
            kept.contains(&("b".into(), "b".into())) && added.is_empty(),
            "{kept:?}"
        );
        // Drop b, add d: no name in common.
        let (_, dropped, added) = names(&before, &table(&[(1, "id"), (2, "a"), (4, "d")]));
        assert_eq!(
            (dropped, added),
            (vec!["b".to_owned()], vec!["d".to_owned()])
        );
    }

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

//! Data-aware hazards: for the statements of a plan that fail on some rows or silently change
//! them — SET NOT NULL, ADD UNIQUE / PRIMARY KEY, FOREIGN KEY or VALIDATE, CHECK, a NOT NULL
//! column added without a default, a type change — the rows of a database (the one the plan
//! starts from) that they would fail on or change, counted, with example keys (never values).
//!
//! Each count is one read-only statement on the server; a count becomes one more hazard of
//! its statement (`correctness`), so every rendering of the plan (SQL comments, JSON,
//! Markdown) shows it next to the others. Statements with nothing offending get nothing.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::scope::Scope;
use super::IntegrityError;
use crate::schema::model::{Constraint, Table};
use crate::schema::{Hazard, HazardKind, Model, Plan};

/// The errors of a conversion that refuses a value (class 22, data exception).
const DATA_EXCEPTIONS: &[SqlState] = &[
    SqlState::DATA_EXCEPTION,
    SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
    SqlState::STRING_DATA_RIGHT_TRUNCATION,
    SqlState::INVALID_TEXT_REPRESENTATION,
    SqlState::INVALID_BINARY_REPRESENTATION,
    SqlState::INVALID_DATETIME_FORMAT,
    SqlState::DATETIME_FIELD_OVERFLOW,
    SqlState::INVALID_PARAMETER_VALUE,
    SqlState::CHARACTER_NOT_IN_REPERTOIRE,
    SqlState::DIVISION_BY_ZERO,
];

/// One counted hazard: the statement it belongs to, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offending {
    /// Index in `plan.statements`.
    pub statement: usize,
    /// Offending rows; `None` when the statement would fail on a value before it could be
    /// counted (the message says why).
    pub rows: Option<i64>,
    pub message: String,
    /// Set when the plan cannot stand: the statement fails for sure (rows counted, or no
    /// cast at all) — what to report as a change the plan refuses.
    pub refusal: Option<String>,
}

/// A statement's offending rows, as a condition on the table's rows.
pub(super) struct Probe {
    pub(super) statement: usize,
    pub(super) table: String,
    /// SQL condition on `t`.
    pub(super) condition: String,
    /// `… hold NULLs in "c"`, completed with the count.
    pub(super) what: String,
    /// What the statement does to them.
    pub(super) effect: &'static str,
    /// For a SET NOT NULL: the column whose NULLs are the offending rows (so that NULLs
    /// counted before a migration, [`count_nulls`], can be matched with the statement).
    pub(super) nulls_in: Option<String>,
    /// For a type change: the column, its type before and after (see [`count_refused`]).
    pub(super) conversion: Option<(String, String, String)>,
    /// A count above zero refuses the plan (what the refusal says, after the count).
    pub(super) refuse: Option<String>,
    /// An expression of the desired schema the condition evaluates (a CHECK): repository
    /// content, run on the `--from` database only when [`untrusted_calls`] finds nothing.
    pub(super) desired_expression: Option<String>,
    /// The rows the statement checks: the table's own, or its descendants' too.
    pub(super) scope: Scope,
}

/// The counting session: built-ins first, nothing written, no count runs away.
const COUNTING_SESSION: &str =
    "SET search_path = pg_catalog; SET default_transaction_read_only = on; \
     SET statement_timeout = '60s'";

/// Counts, on the database `client` is connected to (the plan's `from` side, `source` in the
/// messages), the rows each data-sensitive statement of `plan` would fail on or change, and
/// adds each non-zero count to its statement's hazards. Returns what it added.
pub async fn annotate(
    plan: &mut Plan,
    from: &Model,
    to: &Model,
    client: &Client,
    source: &str,
) -> Result<Vec<Offending>, IntegrityError> {
    client
        .batch_execute(COUNTING_SESSION)
        .await
        .map_err(IntegrityError::query(
            "cannot prepare the offending-row counts",
        ))?;
    let (probes, mut found) = every_probe(client, plan, from, to, source).await;
    for p in probes {
        if let Some(refused) = super::sure::not_run(client, plan, from, to, &p, source).await {
            found.extend(refused);
            continue;
        }
        if let Some(no_cast) = no_cast(client, plan, &p).await {
            found.push(no_cast);
            continue;
        }
        let (sql, mut extra) = (count_sql(from, &p), None);
        let refusal;
        let (rows, message) = match client.query_one(&sql, &[]).await {
            Ok(row) => {
                let n: i64 = row.get(0);
                if n == 0 {
                    continue;
                }
                let ex = super::examples(&row.get(1), &row.get(2));
                refusal = p
                    .refuse
                    .as_ref()
                    .map(|r| format!("{n} row(s) of {source}{ex}: {r}"));
                (
                    Some(n),
                    format!("{n} row(s) of {source} {}{ex}: {}", p.what, p.effect),
                )
            }
            // The query itself fails before reading a row (it names a value the plan creates
            // first, such as a new enum value): no row is known to violate anything.
            Err(e) if fails_before_rows(client, &sql, &e).await => {
                let code = e.as_db_error().map_or("?", |d| d.code().code()).to_owned();
                let message = format!(
                    "the rows of {source} that {} could not be counted: the counting query itself raises SQLSTATE {code} before reading a row (it needs something this plan creates first, such as a new enum value)",
                    p.what,
                );
                plan.statements[p.statement].hazards.push(Hazard {
                    kind: HazardKind::Correctness,
                    message,
                });
                continue;
            }
            Err(e) => match e.as_db_error() {
                // A data exception: a value the conversion refuses — the statement fails.
                // Postgres' message quotes the refused value (personal data, secrets): only
                // its SQLSTATE is said, never the message.
                Some(db) if DATA_EXCEPTIONS.contains(db.code()) => {
                    let code = db.code().code().to_owned();
                    let counted = match &p.conversion {
                        Some(conv) => count_refused(
                            client,
                            &p.scope.from(&p.table),
                            &key_text(from.tables.get(&p.table)),
                            conv,
                        )
                        .await
                        .ok(),
                        None => None,
                    };
                    match (counted, &p.conversion) {
                        (Some(r), Some((c, old, new))) if r.refused > 0 => {
                            refusal = Some(format!(
                                "{} row(s) of {source}{}: {}",
                                r.refused,
                                r.refused_examples,
                                super::sure::conversion(&p.table, c, old, new)
                            ));
                            if r.changed > 0 {
                                extra = Some((r.changed, format!(
                                    "{} row(s) of {source} hold values of {c} that {old} → {new} changes{}: {}",
                                    r.changed, r.changed_examples, p.effect
                                )));
                            }
                            (
                                Some(r.refused),
                                format!(
                                    "{} row(s) of {source} hold values of {c} that {old} → {new} refuses{}: the conversion raises SQLSTATE {code} — this statement fails on it, and on each of these rows",
                                    r.refused, r.refused_examples
                                ),
                            )
                        }
                        _ => {
                            // Sure to fail all the same: refused.
                            refusal = Some(super::sure::raised(&p, source, &code));
                            (
                                None,
                                format!(
                                    "at least one row of {source} {}: the conversion raises SQLSTATE {code} — this statement fails on it (rows not counted)",
                                    p.what,
                                ),
                            )
                        }
                    }
                }
                // The count ran past its 60 s: said, nothing claimed.
                Some(db) if db.code() == &SqlState::QUERY_CANCELED => {
                    let why = "the count ran past its 60 s";
                    super::sure::not_counted(plan, p.statement, source, &p.what, why);
                    continue;
                }
                // No cast: nothing known, nothing claimed — but an expression of the desired
                // schema that cannot be evaluated on `source` is said not counted.
                _ => {
                    found.extend(super::sure::unevaluated(client, plan, &p, source, &e).await);
                    continue;
                }
            },
        };
        plan.statements[p.statement].hazards.push(Hazard {
            kind: HazardKind::Correctness,
            message: message.clone(),
        });
        found.push(Offending {
            statement: p.statement,
            rows,
            message,
            refusal,
        });
        if let Some((n, message)) = extra {
            plan.statements[p.statement].hazards.push(Hazard {
                kind: HazardKind::Correctness,
                message: message.clone(),
            });
            found.push(Offending {
                statement: p.statement,
                rows: Some(n),
                message,
                refusal: None,
            });
        }
    }
    found.extend(super::bounds::count(plan, from, to, client, source).await);
    Ok(found)
}

/// What in `expr` — an expression of the desired schema, repository content — may not be run
/// on the database `client` is connected to: every call in it (in strings too) that may name a
/// function other than an immutable built-in one (`pg_read_file`, `current_setting`,
/// `query_to_xml`, any user-defined function), and any `OPERATOR(…)`, whose function is not
/// visible. Empty when it is safe to evaluate; an error counts as unsafe. Counting a CHECK's
/// violations runs its expression there with that connection's role, and the count and the
/// example keys it prints would carry what such a function returned.
pub(super) async fn untrusted_calls(client: &Client, expr: &str) -> Vec<String> {
    // Each word followed by `(` (a quoted name's closing quote and spaces between), strings
    // included: a deparsed call is `name(`, `schema.name(` or `"name"(`.
    let chars: Vec<char> = expr.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut start = None;
    for (i, &ch) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
        if ch.is_alphanumeric() || ch == '_' || ch == '$' {
            start.get_or_insert(i);
            continue;
        }
        let Some(from) = start.take() else { continue };
        let next = chars[i..].iter().find(|c| **c != '"' && !c.is_whitespace());
        if next == Some(&'(') {
            words.push(chars[from..i].iter().collect::<String>().to_lowercase());
        }
    }
    words.sort();
    words.dedup();
    let mut found = Vec::new();
    if expr.contains("OPERATOR(") {
        found.push("OPERATOR(…)".to_owned());
    }
    let rows = client
        .query(
            "SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc p \
              WHERE pg_catalog.lower(p.proname) = ANY($1::text[]) \
                AND (p.provolatile <> 'i' OR p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace) \
              ORDER BY 1",
            &[&words],
        )
        .await;
    match rows {
        Ok(rows) => found.extend(rows.iter().map(|r| r.get::<_, String>(0))),
        Err(_) => found.push("functions that could not be checked".to_owned()),
    }
    found
}

/// Whether the counting query `sql`, which failed with `e`, fails the same way without
/// reading a row: `EXPLAIN` parses and plans it (a constant such as `'b'::e` is converted
/// then) but runs nothing.
async fn fails_before_rows(client: &Client, sql: &str, e: &tokio_postgres::Error) -> bool {
    let Some(db) = e.as_db_error() else {
        return false;
    };
    if !DATA_EXCEPTIONS.contains(db.code()) {
        return false;
    }
    match client.query(&format!("EXPLAIN {sql}"), &[]).await {
        Err(again) => again.as_db_error().is_some_and(|d| d.code() == db.code()),
        Ok(_) => false,
    }
}

/// A type change whose `USING` expression Postgres cannot cast (`cannot cast type integer
/// to inet`, SQLSTATE 42846): the statement fails on any table, empty or not. Checked on
/// the plan's own expression, with a NULL of the old type for the column.
async fn no_cast(client: &Client, plan: &Plan, p: &Probe) -> Option<Offending> {
    let (column, old, new) = p.conversion.as_ref()?;
    let sql = &plan.statements[p.statement].sql;
    let using = sql
        .rsplit_once(" USING ")?
        .1
        .trim_end()
        .trim_end_matches(';');
    let rest = using.strip_prefix(column.as_str())?;
    let probe = format!("SELECT (NULL::{old}){rest}");
    let e = client.query(&probe, &[]).await.err()?;
    if e.as_db_error()?.code() != &SqlState::CANNOT_COERCE {
        return None;
    }
    let message = format!(
        "column {}.{column}: {old} → {new} has no cast (Postgres: cannot cast type {old} to {new}) — the type change fails: change it by hand (a new column, filled by a conversion you write)",
        p.table
    );
    Some(Offending {
        statement: p.statement,
        rows: None,
        message: message.clone(),
        refusal: Some(message),
    })
}

/// What [`count_refused`] counted.
struct Refused {
    refused: i64,
    refused_examples: String,
    changed: i64,
    changed_examples: String,
}

/// Counts, row by row, the values of `table` (a `FROM` item of the probe's scope) a conversion (`column`, `old` → `new`, cast as
/// the plan's `USING` does) refuses, and those it changes — where one query stops at the first
/// refused value. A PL/pgSQL block catches each data exception and hands the counts and
/// example keys back through transaction-local settings; it runs read-only, and no value, nor
/// Postgres' message quoting one, leaves the server.
async fn count_refused(
    client: &Client,
    table: &str,
    key: &str,
    (column, old, new): &(String, String, String),
) -> Result<Refused, tokio_postgres::Error> {
    let body = format!(
        "DECLARE r record; v {new}; nr bigint := 0; nc bigint := 0; rf text; rl text; cf text; cl text;
BEGIN
  FOR r IN SELECT {key} AS k, t.{column} AS v FROM {table} t WHERE t.{column} IS NOT NULL LOOP
    BEGIN
      v := (r.v)::{new};
      IF ((v)::{old})::text IS DISTINCT FROM (r.v)::text THEN
        nc := nc + 1;
        IF cf IS NULL OR r.k < cf THEN cf := r.k; END IF;
        IF cl IS NULL OR r.k > cl THEN cl := r.k; END IF;
      END IF;
    EXCEPTION WHEN data_exception THEN
      nr := nr + 1;
      IF rf IS NULL OR r.k < rf THEN rf := r.k; END IF;
      IF rl IS NULL OR r.k > rl THEN rl := r.k; END IF;
    END;
  END LOOP;
  PERFORM pg_catalog.set_config('neon_migrate.counted', pg_catalog.concat_ws(E'\\x1f', nr, nc, rf, rl, cf, cl, ''), true);
  PERFORM pg_catalog.set_config('neon_migrate.nulls', pg_catalog.concat(rf IS NULL, rl IS NULL, cf IS NULL, cl IS NULL), true);
END"
    );
    // A dollar quote no name in the body can end.
    let mut tag = format!("nm{:x}", super::random_seed());
    while body.contains(&format!("${tag}$")) {
        tag.push('x');
    }
    let run =
        format!("BEGIN READ ONLY; SET LOCAL statement_timeout = '60s'; DO ${tag}${body}${tag}$");
    let result = async {
        client.batch_execute(&run).await?;
        client
            .query_one(
                "SELECT pg_catalog.current_setting('neon_migrate.counted'), pg_catalog.current_setting('neon_migrate.nulls')",
                &[],
            )
            .await
    }
    .await;
    let _ = client.batch_execute("ROLLBACK").await;
    let row = result?;
    let counted: String = row.get(0);
    let nulls: String = row.get(1);
    let parts: Vec<&str> = counted.split('\u{1f}').collect();
    let is_null: Vec<bool> = nulls.as_bytes().chunks(1).map(|b| b == b"t").collect();
    let n = |i: usize| parts.get(i).and_then(|p| p.parse().ok()).unwrap_or(0);
    // concat_ws skips NULLs: the keys present are in order, the flags say which they are.
    let mut keys = parts.iter().skip(2).map(|s| (*s).to_owned());
    let mut next = |i: usize| {
        if is_null.get(i).copied().unwrap_or(true) {
            None
        } else {
            keys.next()
        }
    };
    let (rf, rl, cf, cl) = (next(0), next(1), next(2), next(3));
    Ok(Refused {
        refused: n(0),
        refused_examples: super::examples(&rf, &rl),
        changed: n(1),
        changed_examples: super::examples(&cf, &cl),
    })
}

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
    for p in probes(plan, from, to) {
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

/// The key of a row as text for the examples: the primary key's columns (`NULL` without one).
pub(super) fn key_text(table: Option<&Table>) -> String {
    let cols = table
        .and_then(|t| {
            t.constraints
                .values()
                .find(|c| c.definition.starts_with("PRIMARY KEY"))
        })
        .and_then(|c| columns_of(&c.definition));
    match cols {
        Some(cols) if cols.len() == 1 => format!("(t.{})::text", cols[0]),
        Some(cols) => format!(
            "(ROW({}))::text",
            cols.iter()
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "NULL::text".into(),
    }
}

/// The columns of the first parenthesised list of a constraint definition:
/// `UNIQUE (a, "B")` → `["a", "\"B\""]`.
fn columns_of(definition: &str) -> Option<Vec<String>> {
    let open = definition.find('(')?;
    let close = open + definition[open..].find(')')?;
    let cols: Vec<String> = definition[open + 1..close]
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    (!cols.is_empty()).then_some(cols)
}

/// The index of the first statement whose SQL starts with one of `prefixes`, in that order
/// of preference.
pub(super) fn statement(plan: &Plan, prefixes: &[String]) -> Option<usize> {
    prefixes.iter().find_map(|p| {
        plan.statements
            .iter()
            .position(|s| s.sql.starts_with(p.as_str()))
    })
}

fn probes(plan: &Plan, from: &Model, to: &Model) -> Vec<Probe> {
    let mut out = Vec::new();
    super::seq_bounds::narrowed_sequences(plan, from, to, &mut out);
    for (name, new) in &to.tables {
        let Some(old) = from.tables.get(name) else {
            continue;
        };
        columns(plan, name, old, new, &mut out);
        removed_enum_values(plan, name, old, new, from, to, &mut out);
        domain_nulls(plan, name, old, to, &mut out);
        for (cname, c) in &new.constraints {
            if old
                .constraints
                .get(cname)
                .is_some_and(|o| o.definition == c.definition)
            {
                continue;
            }
            if let Some(p) = constraint(plan, (name, new), cname, c, from) {
                out.push(p);
            }
        }
    }
    out
}

fn columns(plan: &Plan, table: &str, old: &Table, new: &Table, out: &mut Vec<Probe>) {
    for c in &new.columns {
        let Some(o) = old.columns.iter().find(|o| o.name == c.name) else {
            // A NOT NULL column without a default, added to a table with rows.
            if c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
                if let Some(i) = statement(
                    plan,
                    &[format!("ALTER TABLE {table} ADD COLUMN {} ", c.name)],
                ) {
                    out.push(Probe {
                        statement: i,
                        table: table.to_owned(),
                        condition: "true".into(),
                        what: format!(
                            "exist, and none has a value for the new NOT NULL column {}",
                            c.name
                        ),
                        effect: "this statement fails on them",
                        nulls_in: None,
                        conversion: None,
                        refuse: Some(format!(
                            "column {table}.{} is added NOT NULL without a default — the ADD COLUMN fails on them: give it a default, or add it nullable, backfill it and set NOT NULL after",
                            c.name
                        )),
                        desired_expression: None,
                        // ADD COLUMN, SET NOT NULL and TYPE reach inheritance children too.
                        scope: Scope::Descendants,
                    });
                }
            }
            continue;
        };
        if c.not_null && !o.not_null {
            let bare = c.name.trim_matches('"');
            let tmp = crate::pg::ident(&format!(
                "{}_nn_neon_migrate",
                bare.chars().take(40).collect::<String>()
            ));
            let i = statement(
                plan,
                &[
                    format!("ALTER TABLE {table} VALIDATE CONSTRAINT {tmp}"),
                    format!("ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL", c.name),
                ],
            );
            if let Some(i) = i {
                out.push(Probe {
                    statement: i,
                    table: table.to_owned(),
                    condition: format!("t.{} IS NULL", c.name),
                    what: format!("hold NULL in {}", c.name),
                    effect: "this statement fails on them",
                    nulls_in: Some(c.name.clone()),
                    conversion: None,
                    refuse: Some(super::sure::not_null(table, &c.name)),
                    desired_expression: None,
                    // ADD COLUMN, SET NOT NULL and TYPE reach inheritance children too.
                    scope: Scope::Descendants,
                });
            }
        }
        if c.data_type != o.data_type {
            if let Some(i) = statement(
                plan,
                &[format!("ALTER TABLE {table} ALTER COLUMN {} TYPE ", c.name)],
            ) {
                out.push(Probe {
                    statement: i,
                    table: table.to_owned(),
                    condition: format!(
                        "t.{c} IS NOT NULL AND (((t.{c})::{new})::{old})::text IS DISTINCT FROM (t.{c})::text",
                        c = c.name,
                        new = c.data_type,
                        old = o.data_type
                    ),
                    what: format!("hold values of {} that {} → {} changes", c.name, o.data_type, c.data_type),
                    effect: "they are truncated, rounded or shifted without an error",
                    nulls_in: None,
                    conversion: Some((c.name.clone(), o.data_type.clone(), c.data_type.clone())),
                    refuse: None,
                    desired_expression: None,
                    // ADD COLUMN, SET NOT NULL and TYPE reach inheritance children too.
                    scope: Scope::Descendants,
                });
            }
        }
    }
}

/// Columns (or arrays) of an enum whose values the desired schema drops: the plan recreates
/// the enum and retypes each column through text, which fails on any row holding a dropped
/// value — a sure failure, counted and refused (the plan would stop half-way otherwise).
fn removed_enum_values(
    plan: &Plan,
    table: &str,
    old: &Table,
    new: &Table,
    from: &Model,
    to: &Model,
    out: &mut Vec<Probe>,
) {
    for c in &new.columns {
        let Some(o) = old.columns.iter().find(|o| o.name == c.name) else {
            continue;
        };
        let element = c.data_type.trim_end_matches("[]");
        if o.data_type != c.data_type {
            continue;
        }
        let (Some(before), Some(after)) = (from.enums.get(element), to.enums.get(element)) else {
            continue;
        };
        let removed: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
        if removed.is_empty() {
            continue;
        }
        let Some(i) = statement(
            plan,
            &[format!("ALTER TABLE {table} ALTER COLUMN {} TYPE ", c.name)],
        ) else {
            continue;
        };
        let values = removed
            .iter()
            .map(|l| crate::pg::literal(l))
            .collect::<Vec<_>>()
            .join(", ");
        let condition = if c.data_type.ends_with("[]") {
            format!(
                "(t.{})::text[] OPERATOR(pg_catalog.&&) ARRAY[{values}]::text[]",
                c.name
            )
        } else {
            format!("(t.{})::text IN ({values})", c.name)
        };
        out.push(Probe {
            statement: i,
            table: table.to_owned(),
            condition,
            what: format!("hold a value of {element} the desired schema drops ({values}) in {}", c.name),
            effect: "this statement fails on them",
            nulls_in: None,
            conversion: None,
            refuse: Some(format!(
                "column {table}.{} holds enum values the desired schema drops from {element} ({values}) — the column's retype fails on them: change those rows first (UPDATE … SET {} = <a kept value>), or keep the values; a value renamed is ALTER TYPE {element} RENAME VALUE (kept rows read the new name), which the engine plans itself when each renamed label keeps its position",
                c.name, c.name
            )),
            desired_expression: None,
            scope: Scope::Descendants,
        });
    }
}

/// Columns of a domain the plan makes NOT NULL (`ALTER DOMAIN … SET NOT NULL` checks every
/// column of the domain): their NULLs make it fail — counted and refused.
fn domain_nulls(plan: &Plan, table: &str, old: &Table, to: &Model, out: &mut Vec<Probe>) {
    for c in &old.columns {
        if c.inherited || !to.domains.get(&c.data_type).is_some_and(|d| d.not_null) {
            continue;
        }
        let Some(i) = statement(
            plan,
            &[format!("ALTER DOMAIN {} SET NOT NULL", c.data_type)],
        ) else {
            continue;
        };
        out.push(Probe {
            statement: i,
            table: table.to_owned(),
            condition: format!("t.{} IS NULL", c.name),
            what: format!("hold NULL in {} (of domain {})", c.name, c.data_type),
            effect: "this statement fails on them",
            nulls_in: None,
            conversion: None,
            refuse: Some(format!(
                "column {table}.{} holds NULL, and its domain {} becomes NOT NULL — the ALTER DOMAIN fails on them: fill those rows first, or keep the domain nullable",
                c.name, c.data_type
            )),
            desired_expression: None,
            scope: Scope::Descendants,
        });
    }
}

/// The probe of constraint `name` (`c`) of `table` (as the desired schema has it: `new`).
fn constraint(
    plan: &Plan,
    (table, new): (&str, &Table),
    name: &str,
    c: &Constraint,
    from: &Model,
) -> Option<Probe> {
    let n = crate::pg::ident(name);
    let def = c.definition.trim_end_matches(" NOT VALID");
    // A CHECK reaches inheritance children unless NO INHERIT; keys and FOREIGN KEYs never do.
    let inheritable = !def.ends_with(" NO INHERIT");
    let def = def.trim_end_matches(" NO INHERIT");
    let own = Scope::of(from, table, false);
    let added = [
        format!("ALTER TABLE {table} VALIDATE CONSTRAINT {n}"),
        format!("CREATE UNIQUE INDEX CONCURRENTLY {n} ON {table} "),
        format!("ALTER TABLE {table} ADD CONSTRAINT {n} "),
        // A key changed in place is built beside the old one under a temporary name first.
        format!(
            "CREATE UNIQUE INDEX CONCURRENTLY {} ON {table} ",
            crate::pg::ident(&format!("{name}_neon_migrate_new"))
        ),
    ];
    // The kind read from the definition (`pg_get_constraintdef`'s first words).
    let primary = def.starts_with("PRIMARY KEY ");
    let kind = if primary || def.starts_with("UNIQUE ") {
        'u'
    } else if def.starts_with("CHECK ") {
        'c'
    } else if def.starts_with("FOREIGN KEY ") {
        'f'
    } else {
        return None;
    };
    match kind {
        'u' => {
            let cols = columns_of(def)?;
            let bare = cols.join(", ");
            let dup =
                super::sure::duplicates(table, own, &cols, def.contains("NULLS NOT DISTINCT"));
            let condition = if primary {
                let nulls: Vec<String> = cols.iter().map(|c| format!("t.{c} IS NULL")).collect();
                format!("{dup} OR {}", nulls.join(" OR "))
            } else {
                dup
            };
            let what = if primary {
                format!("duplicate or leave NULL the new primary key ({bare})")
            } else {
                format!("share their ({bare}) with another row")
            };
            Some(Probe {
                statement: statement(plan, &added[1..])?,
                table: table.to_owned(),
                condition,
                what,
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(super::sure::unique(table, &n, &bare, primary)),
                desired_expression: None,
                scope: own,
            })
        }
        'c' if c.validated => {
            let expr = def.strip_prefix("CHECK ")?;
            let (condition, run) = super::sure::check_condition(expr, from.tables.get(table), new);
            Some(Probe {
                statement: statement(plan, &[added[0].clone(), added[2].clone()])?,
                table: table.to_owned(),
                condition,
                what: format!("violate {def}"),
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(super::sure::check(table, &n, def)),
                desired_expression: Some(run),
                scope: Scope::of(from, table, inheritable),
            })
        }
        'f' if c.validated => {
            let local = columns_of(def)?;
            let rest = def.split_once(" REFERENCES ")?.1;
            let (target, _) = rest.split_once('(')?;
            let target = target.trim();
            let remote = columns_of(rest)?;
            if remote.len() != local.len() {
                return None;
            }
            let present: Vec<String> = local.iter().map(|l| format!("t.{l} IS NOT NULL")).collect();
            let condition = if from.tables.contains_key(target) {
                let eq: Vec<String> = local
                    .iter()
                    .zip(&remote)
                    .map(|(l, r)| format!("r.{r} = t.{l}"))
                    .collect();
                // The key looks up `ONLY` the target (its partitions if partitioned).
                format!(
                    "{} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})",
                    present.join(" AND "),
                    Scope::of(from, target, false).from(target),
                    eq.join(" AND ")
                )
            } else {
                // The referenced table is new, hence empty when the key is validated.
                present.join(" AND ")
            };
            Some(Probe {
                statement: statement(plan, &[added[0].clone(), added[2].clone()])?,
                table: table.to_owned(),
                condition,
                what: format!("reference no row of {target} ({})", local.join(", ")),
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(super::sure::foreign_key(
                    table,
                    &n,
                    &local.join(", "),
                    target,
                )),
                desired_expression: None,
                scope: own,
            })
        }
        _ => None,
    }
}

/// Every count the plan's data-sensitive statements need; those that cannot be counted are
/// said so, and refuse the plan while their table has rows (returned).
async fn every_probe(
    client: &Client,
    plan: &mut Plan,
    from: &Model,
    to: &Model,
    source: &str,
) -> (Vec<Probe>, Vec<Offending>) {
    let (mut probes, mut uncounted) = (probes(plan, from, to), Vec::new());
    super::sure::unique_indexes(plan, from, to, &mut probes, &mut uncounted);
    super::domain_sure::probes(plan, from, to, &mut probes);
    super::exclusions::probes(plan, from, to, &mut probes, &mut uncounted);
    super::sure::dropped_attributes(plan, from, to, &mut probes);
    let mut refused = Vec::new();
    for (p, why) in uncounted {
        refused.extend(super::sure::refuse_uncounted(client, plan, &p, source, &why).await);
    }
    (probes, refused)
}

/// The query counting the rows `p` is about, with the smallest and largest key among them.
fn count_sql(from: &Model, p: &Probe) -> String {
    let key = key_text(from.tables.get(&p.table));
    format!(
        "SELECT pg_catalog.count(*), pg_catalog.min({key}), pg_catalog.max({key}) FROM {} t WHERE {}",
        p.scope.from(&p.table),
        p.condition
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_columns_are_read_from_the_definition() {
        assert_eq!(columns_of("UNIQUE (a, \"B\")").unwrap(), ["a", "\"B\""]);
        assert_eq!(columns_of("PRIMARY KEY (id) INCLUDE (x)").unwrap(), ["id"]);
        assert_eq!(
            columns_of("FOREIGN KEY (a) REFERENCES public.t(id)").unwrap(),
            ["a"]
        );
        assert_eq!(columns_of("UNIQUE ()"), None);
    }
}

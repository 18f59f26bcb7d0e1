//! `INSERT … VALUES ($1, …)` statements from `pg_stat_statements`, replayed.
//!
//! What matters in an insert is the lock it takes (ROW EXCLUSIVE on its table, which a
//! migration's SHARE or ACCESS EXCLUSIVE blocks) and the checks it runs (foreign keys, which
//! lock the referenced rows). The statement is replayed as the application sent it, inside the
//! transaction that is rolled back like every write, so no row is left:
//!
//! - a parameter standing alone in a VALUES row (`$n`, `$n::type`) is filled with values
//!   sampled from the existing rows of the column it is inserted into — values the column's
//!   type, CHECK constraints and foreign keys already accept (NULL when there is none);
//! - for each unique index (the primary key too) whose columns the statement all fills, one of
//!   them gets a fresh value per request instead — a number above the column's max, the
//!   sampled text with a `-nm<n>` suffix, or a uuid of our own — so the insert does not stop at
//!   the unique check (before its foreign-key checks and their locks) and two requests in
//!   flight never wait for each other's uncommitted row; a column without a foreign key is
//!   preferred;
//! - the statement is run once with the first values, in a transaction rolled back, before it
//!   is kept: one that fails (a CHECK a fresh value breaks, an expression index, a trigger)
//!   is listed as skipped with the SQLSTATE, never replayed to fail.
//!
//! A unique violation while the load runs (a unique index the migration added on a sampled
//! column: sampled values then collide, which the application's new values would not) is
//! neither an error nor a success: it is counted apart ([`super::report::Stats::conflicts`]);
//! its latency counts, since the table's lock was taken and waited for before the check.
//! Columns left out of the statement get their defaults: a `serial` one advances its
//! sequence on the test Neon database branch (`nextval` is never rolled back).

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::generator::TextParam;
use super::parse::{is_kw, name_at, param_role, table_refs, Role, Tok};
use super::sources::{mix, sample_column, Params, TextRows, Unusable, MAX_REPLAYED};
use crate::pg;

/// The VALUES of an `INSERT`: which parameter stands alone at which position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    /// The target table, as written.
    pub table: String,
    /// The column list, unquoted as the server folds it (`None`: the table's columns in order).
    pub columns: Option<Vec<String>>,
    /// Per VALUES row, per position: the parameter standing alone there.
    pub rows: Vec<Vec<Option<usize>>>,
    /// Parameters inside an expression of a VALUES row (`lower($2)`): not filled.
    pub nested: Vec<usize>,
}

/// The shape of `INSERT INTO t [AS a] [(cols)] [OVERRIDING … VALUE] VALUES (…)[, (…)]`, or
/// `None` for any other statement (`INSERT … SELECT`, `WITH … INSERT`).
pub(crate) fn shape(toks: &[Tok]) -> Option<Shape> {
    if !(is_kw(toks.first(), "INSERT") && is_kw(toks.get(1), "INTO")) {
        return None;
    }
    let (table, used) = name_at(toks, 2)?;
    let mut j = 2 + used;
    if is_kw(toks.get(j), "AS") {
        j += 2;
    }
    let mut columns = None;
    if toks.get(j) == Some(&Tok::Punct('(')) {
        let mut cols = Vec::new();
        j += 1;
        loop {
            cols.push(match toks.get(j)? {
                Tok::Word(w) => w.to_lowercase(),
                Tok::Quoted(q) => q.clone(),
                _ => return None,
            });
            j += 1;
            match toks.get(j)? {
                Tok::Punct(',') => j += 1,
                Tok::Punct(')') => break,
                _ => return None,
            }
        }
        j += 1;
        columns = Some(cols);
    }
    if is_kw(toks.get(j), "OVERRIDING") {
        j += 3;
    }
    if !is_kw(toks.get(j), "VALUES") {
        return None;
    }
    j += 1;
    let mut rows = Vec::new();
    let mut nested = Vec::new();
    loop {
        if toks.get(j) != Some(&Tok::Punct('(')) {
            return None;
        }
        let (row, next) = row_at(toks, j + 1, &mut nested)?;
        rows.push(row);
        j = next;
        if toks.get(j) != Some(&Tok::Punct(',')) {
            break;
        }
        j += 1;
    }
    Some(Shape {
        table,
        columns,
        rows,
        nested,
    })
}

/// The elements of the VALUES row starting at `j` (after its `(`), and where the row ends.
fn row_at(
    toks: &[Tok],
    mut j: usize,
    nested: &mut Vec<usize>,
) -> Option<(Vec<Option<usize>>, usize)> {
    let mut row = Vec::new();
    let mut element: Vec<&Tok> = Vec::new();
    let mut depth = 0usize;
    loop {
        let t = toks.get(j)?;
        j += 1;
        match t {
            Tok::Punct(',') | Tok::Punct(')') if depth == 0 => {
                row.push(lone_param(&element, nested));
                element.clear();
                if *t == Tok::Punct(')') {
                    return Some((row, j));
                }
                continue;
            }
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth -= 1,
            _ => {}
        }
        element.push(t);
    }
}

/// `$n` or `$n::type` alone; the parameters of any other element go to `nested`.
fn lone_param(element: &[&Tok], nested: &mut Vec<usize>) -> Option<usize> {
    let params: Vec<usize> = element
        .iter()
        .filter_map(|t| match t {
            Tok::Param(n) => Some(*n),
            _ => None,
        })
        .collect();
    let cast = element.len() >= 3
        && *element[1] == Tok::Punct(':')
        && *element[2] == Tok::Punct(':')
        && params.len() == 1;
    match element.first() {
        Some(Tok::Param(n)) if element.len() == 1 || cast => Some(*n),
        _ => {
            nested.extend(params);
            None
        }
    }
}

/// A column of the target table.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    attnum: i16,
    /// The base type, as `format_type` names it (`integer`, `uuid`, `character varying`).
    ty: String,
    /// `pg_type.typcategory`: `N` numbers, `S` strings.
    category: String,
}

/// How a parameter of a unique column gets a fresh value per request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fresh {
    /// Above the column's max (which is `start - 1`).
    Number(i128),
    /// A sampled value (the parameter's pool) with a `-nm<n>` suffix.
    Text,
    /// A uuid of our own, `6e6d2d72-…-<n>`.
    Uuid,
}

/// The parameters of an `INSERT`: sampled pools, some of them fresh per request.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertParams {
    /// One pool of sampled values per parameter (empty for a fresh number or uuid).
    pub pools: TextRows,
    /// (parameter index, how) for the parameters made fresh.
    pub fresh: Vec<(usize, Fresh)>,
    /// The query's place among the replayed ones: its fresh values are its own.
    pub slot: u64,
}

impl InsertParams {
    /// The `k`-th request's values: the fresh ones distinct for every (query, request,
    /// parameter).
    pub fn pick(&self, k: u64) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .pools
            .iter()
            .enumerate()
            .map(|(i, pool)| match pool.len() {
                0 => None,
                n => pool[(mix(k, i as u64 + 1) % n as u64) as usize].clone(),
            })
            .collect();
        let per = self.fresh.len() as u64;
        for (slot, (i, how)) in self.fresh.iter().enumerate() {
            let n = (k.wrapping_mul(MAX_REPLAYED as u64) + self.slot)
                .wrapping_mul(per)
                .wrapping_add(slot as u64);
            out[*i] = Some(match how {
                Fresh::Number(start) => (start + n as i128).to_string(),
                Fresh::Text => format!("{}-nm{n}", out[*i].as_deref().unwrap_or("neon-migrate")),
                Fresh::Uuid => format!("6e6d2d72-6568-4000-8000-{:012x}", n & 0xffff_ffff_ffff),
            });
        }
        out
    }
}

const COLUMNS: &str = "SELECT a.attname::text, a.attnum,
       format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid), NULL), t.typcategory::text
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum";

/// Unique indexes on plain columns (an expression index is left to the trial run).
const UNIQUE: &str = "SELECT c.relname::text, i.indkey::int2[]
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = $1 AND i.indisunique AND NOT (0 = ANY (i.indkey::int2[]))
 ORDER BY i.indisprimary DESC, c.relname";

const FOREIGN_KEYED: &str =
    "SELECT DISTINCT unnest(conkey) FROM pg_constraint WHERE conrelid = $1 AND contype = 'f'";

fn catalog_error(e: &tokio_postgres::Error) -> Unusable {
    Unusable(format!("its table could not be read: {}", pg::describe(e)))
}

/// The target's columns, its unique indexes (name, attnums) and its foreign-keyed attnums.
async fn catalog(
    client: &Client,
    table: &str,
) -> Result<(Vec<Column>, Vec<(String, Vec<i16>)>, BTreeSet<i16>), Unusable> {
    let oid: Option<u32> = client
        .query_one("SELECT to_regclass($1)::oid", &[&table])
        .await
        .map_err(|e| catalog_error(&e))?
        .get(0);
    let oid = oid.ok_or_else(|| {
        Unusable(format!(
            "its table `{table}` is not on the test Neon database branch"
        ))
    })?;
    let columns = client
        .query(COLUMNS, &[&oid])
        .await
        .map_err(|e| catalog_error(&e))?
        .iter()
        .map(|r| Column {
            name: r.get(0),
            attnum: r.get(1),
            ty: r.get(2),
            category: r.get(3),
        })
        .collect();
    let unique = client
        .query(UNIQUE, &[&oid])
        .await
        .map_err(|e| catalog_error(&e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let keyed = client
        .query(FOREIGN_KEYED, &[&oid])
        .await
        .map_err(|e| catalog_error(&e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok((columns, unique, keyed))
}

/// How a column's values can be made fresh, if they can.
fn freshable(c: &Column) -> bool {
    c.ty == "uuid" || c.category == "S" || c.category == "N"
}

/// The columns (attnums) that get fresh values: one per unique index the statement fills
/// entirely, preferring a column without a foreign key.
fn fresh_columns(
    columns: &[Column],
    filled: &BTreeSet<i16>,
    unique: &[(String, Vec<i16>)],
    keyed: &BTreeSet<i16>,
) -> Result<BTreeSet<i16>, Unusable> {
    let mut fresh = BTreeSet::new();
    for (index, keys) in unique {
        if !keys.iter().all(|k| filled.contains(k)) || keys.iter().any(|k| fresh.contains(k)) {
            continue;
        }
        let col = |k: &i16| columns.iter().find(|c| c.attnum == *k);
        let mut candidates: Vec<&Column> = keys
            .iter()
            .filter_map(col)
            .filter(|c| freshable(c))
            .collect();
        candidates.sort_by_key(|c| keyed.contains(&c.attnum));
        let Some(c) = candidates.first() else {
            let names: Vec<String> = keys
                .iter()
                .filter_map(col)
                .map(|c| format!("`{}` ({})", c.name, c.ty))
                .collect();
            return Err(Unusable(format!(
                "unique index `{index}` on {}: values sampled from existing rows would collide, and fresh values are made for numbers, text and uuid only",
                names.join(", ")
            )));
        };
        fresh.insert(c.attnum);
    }
    Ok(fresh)
}

/// The parameters of an INSERT with VALUES, checked by running it once (rolled back).
pub(crate) async fn fill(
    client: &Client,
    sql: &str,
    toks: &[Tok],
    shape: &Shape,
    n: usize,
    slot: u64,
) -> Result<Params, Unusable> {
    if let Some(p) = shape.nested.first() {
        return Err(Unusable(format!(
            "${p} is inside an expression in VALUES: only a lone `$n` (or `$n::type`) is filled"
        )));
    }
    let (columns, unique, keyed) = catalog(client, &shape.table).await?;
    let target: Vec<&Column> = match &shape.columns {
        Some(names) => names
            .iter()
            .map(|name| {
                columns
                    .iter()
                    .find(|c| c.name == *name)
                    .ok_or_else(|| Unusable(format!("column `{name}` is not in `{}`", shape.table)))
            })
            .collect::<Result<_, _>>()?,
        None => columns.iter().collect(),
    };
    let mut of_param: Vec<Option<&Column>> = vec![None; n];
    for row in &shape.rows {
        if row.len() > target.len() {
            return Err(Unusable(format!(
                "more values than `{}` has columns",
                shape.table
            )));
        }
        for (pos, p) in row.iter().enumerate() {
            if let Some(p) = p.filter(|p| (1..=n).contains(p)) {
                of_param[p - 1] = Some(target[pos]);
            }
        }
    }
    let filled: BTreeSet<i16> = of_param.iter().flatten().map(|c| c.attnum).collect();
    let fresh_cols = fresh_columns(&columns, &filled, &unique, &keyed)?;
    let table = [(shape.table.clone(), None)];
    let mut pools: TextRows = vec![Vec::new(); n];
    let mut fresh = Vec::new();
    for p in 1..=n {
        let Some(col) = of_param[p - 1] else {
            pools[p - 1] = other_param(client, toks, p).await?;
            continue;
        };
        let ident = pg::ident(&col.name);
        if !fresh_cols.contains(&col.attnum) {
            // A column with no value to sample (an empty table, all NULL) gets NULL: the trial
            // run says whether the table takes it.
            pools[p - 1] = sample_column(client, &table, None, &ident)
                .await
                .unwrap_or_else(|_| vec![None]);
        } else if col.ty == "uuid" {
            fresh.push((p - 1, Fresh::Uuid));
        } else if col.category == "S" {
            pools[p - 1] = sample_column(client, &table, None, &ident)
                .await
                .unwrap_or_default();
            fresh.push((p - 1, Fresh::Text));
        } else {
            fresh.push((
                p - 1,
                Fresh::Number(above_max(client, &shape.table, &ident).await?),
            ));
        }
    }
    let params = Params::Insert(Arc::new(InsertParams { pools, fresh, slot }));
    trial(client, sql, &params).await?;
    Ok(params)
}

/// A parameter outside the VALUES (`ON CONFLICT … SET c = $n`, `WHERE`): filled as in any
/// statement.
async fn other_param(
    client: &Client,
    toks: &[Tok],
    p: usize,
) -> Result<Vec<Option<String>>, Unusable> {
    match param_role(toks, p) {
        Some(Role::Limit) => Ok(vec![Some("10".into())]),
        Some(Role::Offset) => Ok(vec![Some("0".into())]),
        Some(Role::Column { qualifier, column }) => {
            sample_column(client, &table_refs(toks), qualifier.as_deref(), &column).await
        }
        None => Err(Unusable(format!(
            "${p} is neither alone in VALUES nor in a `col = ${p}`, `col IN (…)`, LIMIT or OFFSET"
        ))),
    }
}

/// One above the column's max (1 on an empty table), the first fresh number.
async fn above_max(client: &Client, table: &str, column: &str) -> Result<i128, Unusable> {
    let sql = format!("SELECT floor(max({column})::numeric)::text FROM {table}");
    let rows = client.query(&sql, &[]).await.map_err(|e| {
        Unusable(format!(
            "the max of `{column}` could not be read: {}",
            crate::sqlstate::without_values(&e)
        ))
    })?;
    let max: Option<String> = rows.first().and_then(|r| r.get(0));
    match max {
        None => Ok(1),
        Some(m) => m
            .parse::<i128>()
            .map(|m| m + 1)
            .map_err(|_| Unusable(format!("the max of `{column}` is not a whole number"))),
    }
}

/// Runs the statement once with its first values, in a transaction rolled back.
async fn trial(client: &Client, sql: &str, params: &Params) -> Result<(), Unusable> {
    let values: Vec<TextParam> = params.pick(0).into_iter().map(TextParam).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
    let ran = async {
        client.batch_execute("BEGIN").await?;
        client.query(sql, &refs).await
    }
    .await;
    let _ = client.batch_execute("ROLLBACK").await;
    ran.map(|_| ()).map_err(|e| {
        // Its values were sampled from the rows: the server's words can hold them.
        let why = crate::sqlstate::without_values(&e);
        Unusable(format!(
            "run once with the values found (in a transaction rolled back), it failed: {why}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse::lex;
    use super::*;

    #[test]
    fn an_insert_s_values_say_which_parameter_goes_in_which_column() {
        let s = shape(&lex(
            "INSERT INTO public.\"Orders\" AS o (id, \"Account\", state) VALUES ($1, $2::bigint, 'new'), ($3, lower($4), DEFAULT) ON CONFLICT (id) DO UPDATE SET state = $5",
        ))
        .expect("an insert with VALUES");
        assert_eq!(s.table, "public.\"Orders\"");
        assert_eq!(
            s.columns,
            Some(vec![
                "id".to_owned(),
                "Account".to_owned(),
                "state".to_owned()
            ])
        );
        assert_eq!(
            s.rows,
            vec![vec![Some(1), Some(2), None], vec![Some(3), None, None]]
        );
        assert_eq!(s.nested, vec![4]);
        let s = shape(&lex("insert into t values ($1, now(), $2::varchar(20))"))
            .expect("no column list");
        assert_eq!(s.columns, None);
        assert_eq!(s.rows, vec![vec![Some(1), None, Some(2)]]);
        assert!(shape(&lex("INSERT INTO t SELECT * FROM u WHERE id = $1")).is_none());
        assert!(shape(&lex("WITH x AS (SELECT 1) INSERT INTO t VALUES ($1)")).is_none());
    }

    #[test]
    fn fresh_values_are_distinct_per_query_request_and_parameter() {
        let p = InsertParams {
            pools: vec![Vec::new(), vec![Some("a@example.com".into())], Vec::new()],
            fresh: vec![(0, Fresh::Number(5001)), (1, Fresh::Text), (2, Fresh::Uuid)],
            slot: 3,
        };
        let other = InsertParams {
            slot: 4,
            ..p.clone()
        };
        let mut seen = BTreeSet::new();
        for k in 0..500 {
            for q in [&p, &other] {
                let v = q.pick(k);
                assert!(
                    v[0].as_deref()
                        .and_then(|n| n.parse::<i64>().ok())
                        .is_some_and(|n| n >= 5001),
                    "{v:?}"
                );
                assert!(
                    v[1].as_deref()
                        .is_some_and(|t| t.starts_with("a@example.com-nm")),
                    "{v:?}"
                );
                assert_eq!(v[2].as_deref().map(str::len), Some(36), "{v:?}");
                for x in v {
                    assert!(seen.insert(x.clone()), "{x:?} twice");
                }
            }
        }
    }
}

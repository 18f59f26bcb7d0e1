//! Where the replayed queries come from, in this order:
//!
//! 1. declared in `neon-migrate.toml` (`[[checks.workload.query]]`), parameters from the rows
//!    of its `params` query, run on the test Neon database branch;
//! 2. the parent's `pg_stat_statements`, when readable: the top statements by calls, each `$n`
//!    filled by sampling real values of the column it is compared with (`col = $n`,
//!    `col IN ($n, …)`; `LIMIT $n` gets 10, `OFFSET $n` 0), or, in an `INSERT … VALUES`, the
//!    column it goes into ([`super::insert`]); statements it cannot fill are listed as skipped;
//! 3. otherwise primary-key reads and single-row updates on the tables the pending migrations
//!    touch (from their SQL), else on the largest tables.

use std::sync::Arc;

use tokio_postgres::{Client, SimpleQueryMessage};

use super::insert::{self, InsertParams};
use super::parse::{lex, param_role, table_refs, Role};
use super::{Target, WorkloadConfig, WorkloadError, MIN_RATE};
use crate::pg;

pub use super::parse::{is_write, max_param, touched_tables};

/// Rows of text values (`None`: SQL NULL).
pub type TextRows = Vec<Vec<Option<String>>>;

/// Where a query's parameters come from.
#[derive(Debug, Clone)]
pub enum Params {
    /// No parameters.
    None,
    /// Each row fills `$1…$n` together (declared `params`, primary keys).
    Rows(Arc<TextRows>),
    /// One pool of sampled values per parameter (`pg_stat_statements`).
    PerParam(Arc<TextRows>),
    /// An `INSERT … VALUES` of `pg_stat_statements`: sampled pools, and fresh values for a
    /// column of each unique index it fills ([`super::insert`]).
    Insert(Arc<InsertParams>),
}

/// A fixed scramble of `k` (and a salt per pool): which value a request picks.
pub(super) fn mix(k: u64, salt: u64) -> u64 {
    let mut x = k
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

impl Params {
    /// The `k`-th set of parameter values (spread over the pools by a fixed scramble, so runs
    /// are repeatable).
    pub fn pick(&self, k: u64) -> Vec<Option<String>> {
        match self {
            Params::None => Vec::new(),
            Params::Rows(rows) if rows.is_empty() => Vec::new(),
            Params::Rows(rows) => rows[(mix(k, 0) % rows.len() as u64) as usize].clone(),
            Params::PerParam(pools) => pools
                .iter()
                .enumerate()
                .map(|(i, pool)| match pool.len() {
                    0 => None,
                    n => pool[(mix(k, i as u64 + 1) % n as u64) as usize].clone(),
                })
                .collect(),
            Params::Insert(p) => p.pick(k),
        }
    }
}

/// The error a request records when it hit a unique violation with values sampled from
/// existing rows: counted apart, neither an error nor a success ([`Query::sampling_conflict`]).
pub const SAMPLING_CONFLICT: &str = "unique violation with values sampled from existing rows (a unique index the migration added?): counted apart, not as an error";

/// Where a query was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Declared,
    PgStatStatements,
    PrimaryKey,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Declared => "declared in neon-migrate.toml",
            Origin::PgStatStatements => "from the parent's pg_stat_statements",
            Origin::PrimaryKey => "primary-key reads and single-row updates (rolled back)",
        }
    }
}

/// One query to replay.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub sql: String,
    /// Replayed inside a transaction that is rolled back.
    pub write: bool,
    /// Per second.
    pub rate: f64,
    pub params: Params,
    pub origin: Origin,
}

impl Query {
    /// Whether `e` is a unique violation of an `INSERT` whose values were sampled from
    /// existing rows: the lock was taken and waited for, but a new row of the application's
    /// would not collide — neither an error nor a success.
    pub fn sampling_conflict(&self, e: &tokio_postgres::Error) -> bool {
        matches!(self.params, Params::Insert(_))
            && e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    }
}

/// A statement that could not be replayed, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    pub query: String,
    pub why: String,
}

/// What to replay.
#[derive(Debug, Clone)]
pub struct Plan {
    pub origin: Origin,
    pub queries: Vec<Query>,
    pub skipped: Vec<Skipped>,
    /// The tables the migration touches (else the largest): what the long transaction reads.
    pub tables: Vec<String>,
    /// Why an earlier source was not used (`pg_stat_statements` not readable, …).
    pub notes: Vec<String>,
}

/// Finds the queries to replay.
pub async fn plan(cfg: &WorkloadConfig, target: &Target<'_>) -> Result<Plan, WorkloadError> {
    let client = session(target.url).await?;
    let named = target.pending_sql.map(touched_tables).unwrap_or_default();
    let touched = resolve_tables(&client, &named).await?;
    let mut notes = Vec::new();
    let candidates = if touched.is_empty() {
        if !named.is_empty() {
            notes.push(format!(
                "none of the tables the migration names ({}) exists with a primary key before it runs",
                named.join(", ")
            ));
        }
        largest_tables(&client).await?
    } else {
        touched
    };
    let tables: Vec<String> = candidates.iter().map(|t| t.name.clone()).collect();
    if !cfg.queries.is_empty() {
        let queries = declared(&client, cfg).await?;
        return Ok(Plan {
            origin: Origin::Declared,
            queries,
            skipped: Vec::new(),
            tables,
            notes,
        });
    }
    if target.parent_url.is_some() || target.parent_database.is_some() {
        let via = target.parent_url.unwrap_or(target.url);
        match statements(via, target.parent_database).await {
            Ok(found) => {
                let (queries, skipped) = fill(&client, &found, cfg.rate).await;
                if !queries.is_empty() {
                    return Ok(Plan {
                        origin: Origin::PgStatStatements,
                        queries,
                        skipped,
                        tables,
                        notes,
                    });
                }
                notes.push(format!(
                    "the parent's pg_stat_statements has {} statement(s), none of which could be filled",
                    found.len()
                ));
            }
            Err(why) => notes.push(format!("the parent's pg_stat_statements: {why}")),
        }
    } else if let Some(why) = target.parent_error {
        notes.push(format!(
            "the parent's pg_stat_statements was not read: the main Neon database branch cannot be reached: {why}"
        ));
    } else {
        notes.push("the parent's pg_stat_statements was not read (no parent given)".into());
    }
    if candidates.is_empty() {
        return Err(WorkloadError::Nothing(
            "no query is declared under [[checks.workload.query]], pg_stat_statements gave none, and no table has a primary key".into(),
        ));
    }
    let (queries, skipped) = primary_key_queries(&client, &candidates, cfg.rate).await?;
    Ok(Plan {
        origin: Origin::PrimaryKey,
        queries,
        skipped,
        tables,
        notes,
    })
}

/// A short-lived session of ours on `url`: its statistics flushed at once (the witness must
/// not count it as one of the tool's sessions when it ends later), its pid registered.
async fn session(url: &crate::secret::Secret<String>) -> Result<Client, WorkloadError> {
    let client = pg::connect_observer(url)
        .await
        .map_err(WorkloadError::Connect)?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(|e| WorkloadError::db("cannot read the test Neon database branch", &e))?
        .get(0);
    pg::note_own_pid(pid);
    client
        .batch_execute(pg::FLUSH_OWN_STATS)
        .await
        .map_err(|e| WorkloadError::db("cannot read the test Neon database branch", &e))?;
    Ok(client)
}

/// Rows of a simple query, every value as text.
async fn text_rows(client: &Client, sql: &str) -> Result<TextRows, tokio_postgres::Error> {
    Ok(client
        .simple_query(sql)
        .await?
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect())
}

/// Most parameter rows kept per query.
const MAX_PARAM_ROWS: usize = 10_000;

async fn declared(client: &Client, cfg: &WorkloadConfig) -> Result<Vec<Query>, WorkloadError> {
    let mut out = Vec::new();
    for q in &cfg.queries {
        let fail = |message: String| WorkloadError::Query {
            name: crate::schema::comment_text(&q.name),
            message,
        };
        let stmt = client.prepare(&q.sql).await.map_err(|e| {
            fail(format!(
                "does not prepare on the test Neon database branch: {}",
                pg::describe(&e)
            ))
        })?;
        let n = stmt.params().len();
        let params = match (&q.params, n) {
            (_, 0) => Params::None,
            (None, _) => {
                return Err(fail(format!(
                    "has {n} parameter(s) and no `params` query supplies them"
                )))
            }
            (Some(p), _) => {
                let sql = format!(
                    "SELECT * FROM ({}) AS params LIMIT {MAX_PARAM_ROWS}",
                    p.trim().trim_end_matches(';')
                );
                let rows = text_rows(client, &sql).await.map_err(|e| {
                    fail(format!(
                        "its `params` query failed: {}",
                        crate::sqlstate::without_values(&e)
                    ))
                })?;
                if rows.is_empty() {
                    return Err(fail(
                        "its `params` query returned no rows: nothing to fill $1… with".into(),
                    ));
                }
                if rows[0].len() < n {
                    return Err(fail(format!(
                        "the statement has {n} parameter(s) but its `params` query returns {} column(s)",
                        rows[0].len()
                    )));
                }
                Params::Rows(Arc::new(rows))
            }
        };
        out.push(Query {
            name: crate::schema::comment_text(&q.name),
            sql: q.sql.clone(),
            write: is_write(&q.sql),
            rate: q.rate,
            params,
            origin: Origin::Declared,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// pg_stat_statements

/// Most statements read from `pg_stat_statements`, and most replayed.
const MAX_STATEMENTS: i64 = 50;
pub(super) const MAX_REPLAYED: usize = 10;

/// Why a statement (or `pg_stat_statements` itself) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

impl From<String> for Unusable {
    fn from(s: String) -> Self {
        Unusable(s)
    }
}

/// The top statements by calls on the parent, with their calls: read on `via`, for database
/// `database` (default: the one `via` connects to).
async fn statements(
    via: &crate::secret::Secret<String>,
    database: Option<&str>,
) -> Result<Vec<(String, i64)>, Unusable> {
    let client = session(via).await.map_err(|e| e.to_string())?;
    let schema = client
        .query_opt(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .map_err(|e| pg::describe(&e))?
        .map(|r| r.get::<_, String>(0))
        .ok_or_else(|| {
            Unusable(
                "the extension is not installed (CREATE EXTENSION pg_stat_statements)".to_owned(),
            )
        })?;
    let sql = format!(
        "SELECT query, calls FROM {}.pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = coalesce($1, current_database())) \
           AND calls > 0 \
           AND query ~* '^\\s*(select|update|delete|insert|with)\\s' \
           AND query !~* '(pg_catalog|information_schema|neon_migrate|pg_stat|pg_locks|pg_class|pg_namespace|pg_database|pg_extension|pg_index|pg_attribute|pg_settings|pg_backend_pid|pg_sleep)' \
         ORDER BY calls DESC, query LIMIT {MAX_STATEMENTS}",
        pg::ident(&schema)
    );
    let rows = client
        .query(&sql, &[&database])
        .await
        .map_err(|e| pg::describe(&e))?;
    if rows.is_empty() {
        // Other roles' statements show as `<insufficient privilege>`: say so, not "none".
        let hidden: i64 = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}.pg_stat_statements \
                     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = coalesce($1, current_database())) \
                       AND query = '<insufficient privilege>'",
                    pg::ident(&schema)
                ),
                &[&database],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        if hidden > 0 {
            return Err(Unusable(format!(
                "{hidden} statement(s) are recorded, but the role reading them may not see their text (other roles' statements need pg_read_all_stats; on the local provider, `tool-role = \"server\"` reads as the server's role)"
            )));
        }
    }
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Fills the parameters of the statements found; splits `total_rate` by their calls.
async fn fill(
    client: &Client,
    found: &[(String, i64)],
    total_rate: f64,
) -> (Vec<Query>, Vec<Skipped>) {
    let mut filled: Vec<(String, i64, Params)> = Vec::new();
    let mut skipped = Vec::new();
    for (sql, calls) in found {
        if filled.len() >= MAX_REPLAYED {
            break;
        }
        match fill_one(client, sql, filled.len() as u64).await {
            Ok(params) => filled.push((sql.clone(), *calls, params)),
            Err(why) => skipped.push(Skipped {
                query: one_line(sql),
                why: why.0,
            }),
        }
    }
    let weights: Vec<f64> = filled.iter().map(|f| f.1.max(1) as f64).collect();
    let rates = split_rate(total_rate, &weights);
    for (sql, _, _) in filled.drain(rates.len()..) {
        skipped.push(Skipped {
            query: one_line(&sql),
            why: too_slow(total_rate, weights.len()),
        });
    }
    let queries = filled
        .into_iter()
        .zip(rates)
        .enumerate()
        .map(|(i, ((sql, _, params), rate))| Query {
            name: format!("pgss-{}", i + 1),
            write: is_write(&sql),
            rate,
            params,
            sql,
            origin: Origin::PgStatStatements,
        })
        .collect();
    (queries, skipped)
}

/// Splits `total` requests per second among queries weighted `weights` so that each gets at
/// least [`MIN_RATE`] and the rates add up to `total` exactly: each gets the minimum, the rest
/// goes in proportion to the weights. When `total` cannot give every query the minimum, only
/// the first `total / MIN_RATE` are given a rate (the length of the result); the caller lists
/// the others as skipped. No rate is ever raised above what the config says.
pub fn split_rate(total: f64, weights: &[f64]) -> Vec<f64> {
    let fit = ((total / MIN_RATE).floor().max(0.0) as usize).min(weights.len());
    let kept = &weights[..fit];
    let sum: f64 = kept.iter().sum();
    let spare = total - MIN_RATE * fit as f64;
    kept.iter()
        .map(|w| match sum > 0.0 {
            true => MIN_RATE + spare * w / sum,
            false => MIN_RATE + spare / fit as f64,
        })
        .collect()
}

/// Why a query found was left out: the total rate leaves it under [`MIN_RATE`].
fn too_slow(total: f64, found: usize) -> String {
    format!(
        "the total `rate` ({total}/s) gives {found} queries less than 1 request per second each, the least a query is replayed at; raise `rate` under [checks.workload] to at least {found}/s to replay them all"
    )
}

/// The statement on one line, shortened.
pub fn one_line(sql: &str) -> String {
    let s = shown(sql);
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// `text` on one line as it may be printed: whitespace runs become one space, and the other
/// control characters (an escape sequence that clears a terminal, from a query's `name`, a
/// table's name or a statement's text) are written escaped (`\u{1b}`), never sent raw.
pub fn shown(text: &str) -> String {
    crate::schema::comment_text(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The parameters of a statement (`slot`: its place among the replayed ones), or why it
/// cannot be filled: an `INSERT … VALUES` as [`insert`] fills it, any other statement one
/// pool of sampled values per `$n`.
async fn fill_one(client: &Client, sql: &str, slot: u64) -> Result<Params, Unusable> {
    let toks = lex(sql);
    let n = max_param(sql);
    if n == 0 {
        return Ok(Params::None);
    }
    if let Some(shape) = insert::shape(&toks) {
        prepares(client, sql).await?;
        return insert::fill(client, sql, &toks, &shape, n, slot).await;
    }
    let tables = table_refs(&toks);
    let mut pools: TextRows = vec![Vec::new(); n];
    for p in 1..=n {
        let Some(role) = param_role(&toks, p) else {
            return Err(Unusable(format!(
                "${p} is not in a `col = ${p}`, `col IN (…)`, LIMIT or OFFSET"
            )));
        };
        pools[p - 1] = match role {
            Role::Limit => vec![Some("10".into())],
            Role::Offset => vec![Some("0".into())],
            Role::Column { qualifier, column } => {
                sample_column(client, &tables, qualifier.as_deref(), &column).await?
            }
        };
    }
    prepares(client, sql).await?;
    Ok(Params::PerParam(Arc::new(pools)))
}

async fn prepares(client: &Client, sql: &str) -> Result<(), Unusable> {
    client.prepare(sql).await.map(|_| ()).map_err(|e| {
        Unusable(format!(
            "does not prepare on the test Neon database branch: {}",
            pg::describe(&e)
        ))
    })
}

/// Real values of `column`, from the table it belongs to.
pub(super) async fn sample_column(
    client: &Client,
    tables: &[(String, Option<String>)],
    qualifier: Option<&str>,
    column: &str,
) -> Result<Vec<Option<String>>, Unusable> {
    let candidates: Vec<&String> = match qualifier {
        Some(q) => tables
            .iter()
            .filter(|(t, alias)| {
                alias.as_deref() == Some(q) || t.as_str() == q || t.ends_with(&format!(".{q}"))
            })
            .map(|(t, _)| t)
            .collect(),
        None => tables.iter().map(|(t, _)| t).collect(),
    };
    if candidates.is_empty() {
        return Err(Unusable(format!(
            "cannot tell which table `{column}` belongs to"
        )));
    }
    for table in candidates {
        for sample in ["TABLESAMPLE SYSTEM (1)", ""] {
            let sql = format!(
                "SELECT DISTINCT ({column})::text FROM {table} {sample} WHERE ({column}) IS NOT NULL LIMIT 500"
            );
            match text_rows(client, &sql).await {
                Ok(rows) if rows.len() >= 20 || (sample.is_empty() && !rows.is_empty()) => {
                    return Ok(rows
                        .into_iter()
                        .map(|r| r.into_iter().next().flatten())
                        .collect())
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    Err(Unusable(format!("no value of `{column}` could be sampled")))
}

// ---------------------------------------------------------------------------------------
// Primary keys

/// A table with a primary key.
#[derive(Debug, Clone)]
pub struct Keyed {
    /// `schema.table`, quoted as needed.
    pub name: String,
    /// The key's columns, quoted as needed.
    pub key: Vec<String>,
}

const KEYED: &str = r#"
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       array_agg(quote_ident(a.attname) ORDER BY k.ord)::text[]
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'neon_migrate')
   AND ($1::text[] IS NULL OR c.oid = ANY (SELECT to_regclass(x)::oid FROM unnest($1::text[]) x))
 GROUP BY n.nspname, c.relname, c.relpages
 ORDER BY c.relpages DESC, 1
 LIMIT $2
"#;

async fn keyed(
    client: &Client,
    names: Option<&[String]>,
    limit: i64,
) -> Result<Vec<Keyed>, WorkloadError> {
    let names: Option<Vec<String>> = names.map(|n| n.to_vec());
    let rows = client
        .query(KEYED, &[&names, &limit])
        .await
        .map_err(|e| WorkloadError::db("cannot list the tables' primary keys", &e))?;
    Ok(rows
        .iter()
        .map(|r| Keyed {
            name: r.get(0),
            key: r.get(1),
        })
        .collect())
}

/// The tables named that exist and have a primary key.
async fn resolve_tables(client: &Client, names: &[String]) -> Result<Vec<Keyed>, WorkloadError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    keyed(client, Some(names), 20).await
}

/// The three largest tables with a primary key.
async fn largest_tables(client: &Client) -> Result<Vec<Keyed>, WorkloadError> {
    keyed(client, None, 3).await
}

/// A point read and a single-row update (rolled back) per table: reads weigh 3, updates 1
/// ([`split_rate`]); the queries the total rate leaves under 1/s are listed as skipped.
async fn primary_key_queries(
    client: &Client,
    tables: &[Keyed],
    total_rate: f64,
) -> Result<(Vec<Query>, Vec<Skipped>), WorkloadError> {
    let mut out = Vec::new();
    for t in tables {
        let cols = t.key.join(", ");
        let mut rows = Vec::new();
        for sample in ["TABLESAMPLE SYSTEM (1)", ""] {
            let sql = format!("SELECT {cols} FROM {} {sample} LIMIT 1000", t.name);
            rows = text_rows(client, &sql).await.map_err(|e| {
                WorkloadError::db(format!("cannot sample the keys of {}", t.name), &e)
            })?;
            if rows.len() >= 50 {
                break;
            }
        }
        if rows.is_empty() {
            continue;
        }
        let pred: Vec<String> = t
            .key
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        let pred = pred.join(" AND ");
        let params = Params::Rows(Arc::new(rows));
        let bare = t.name.strip_prefix("public.").unwrap_or(&t.name);
        // The whole row, as applications read it: a migration that changes the row type
        // (a new column) makes prepared statements plan again.
        out.push(Query {
            name: crate::schema::comment_text(&format!("read {bare}")),
            sql: format!("SELECT * FROM {} WHERE {pred}", t.name),
            write: false,
            rate: 3.0,
            params: params.clone(),
            origin: Origin::PrimaryKey,
        });
        let first = &t.key[0];
        out.push(Query {
            name: crate::schema::comment_text(&format!("update {bare}")),
            sql: format!("UPDATE {} SET {first} = {first} WHERE {pred}", t.name),
            write: true,
            rate: 1.0,
            params,
            origin: Origin::PrimaryKey,
        });
    }
    if out.is_empty() {
        return Err(WorkloadError::Nothing(
            "the tables with a primary key are empty".into(),
        ));
    }
    // Until here `rate` held each query's weight.
    let weights: Vec<f64> = out.iter().map(|q| q.rate).collect();
    let rates = split_rate(total_rate, &weights);
    let skipped = out
        .drain(rates.len()..)
        .map(|q| Skipped {
            query: one_line(&q.sql),
            why: too_slow(total_rate, weights.len()),
        })
        .collect();
    for (q, r) in out.iter_mut().zip(rates) {
        q.rate = r;
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_and_names_are_printed_on_one_line_with_control_characters_escaped() {
        assert_eq!(
            shown("SELECT 1\n  FROM t\t-- \u{1b}[2J"),
            "SELECT 1 FROM t -- \\u{1b}[2J"
        );
        assert_eq!(one_line("SELECT\n::warning::x"), "SELECT ::warning::x");
    }

    /// From an outside attacker: `rate = "1/s"` over a read and an update was replayed at
    /// 2/s (each query found was raised to 1/s). The split keeps the total.
    #[test]
    fn the_total_rate_is_split_exactly_with_at_least_one_per_second_each() {
        let sum = |v: &[f64]| v.iter().sum::<f64>();
        let r = split_rate(100.0, &[3.0, 1.0, 3.0, 1.0]);
        assert!((sum(&r) - 100.0).abs() < 1e-9, "{r:?}");
        assert!(
            (r[0] - 3.0 * r[1] + 2.0).abs() < 1e-9,
            "weights 3:1 beyond 1/s each: {r:?}"
        );
        // A skewed pg_stat_statements: the rare statement still gets 1/s, the total stays.
        let r = split_rate(10.0, &[990.0, 9.0, 1.0]);
        assert!((sum(&r) - 10.0).abs() < 1e-9, "{r:?}");
        assert!(r.iter().all(|x| *x >= MIN_RATE), "{r:?}");
        // Too few for all: the first ones, at 1/s each, never more than the total.
        assert_eq!(split_rate(3.5, &[3.0, 1.0, 3.0, 1.0]).len(), 3);
        assert!((sum(&split_rate(3.5, &[3.0, 1.0, 3.0, 1.0])) - 3.5).abs() < 1e-9);
        assert_eq!(split_rate(1.0, &[3.0, 1.0]), vec![1.0]);
        assert!(split_rate(5.0, &[]).is_empty());
    }

    #[test]
    fn parameters_pick_from_their_pools() {
        let p = Params::PerParam(Arc::new(vec![
            vec![Some("1".into()), Some("2".into())],
            vec![Some("10".into())],
        ]));
        let picked = p.pick(7);
        assert_eq!(picked.len(), 2);
        assert_eq!(picked[1].as_deref(), Some("10"));
        let seen: std::collections::BTreeSet<_> = (0..50).map(|k| p.pick(k)[0].clone()).collect();
        assert_eq!(seen.len(), 2, "both values are used");
    }
}

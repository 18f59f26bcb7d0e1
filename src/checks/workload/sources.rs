//! Where the replayed queries come from, in this order:
//!
//! 1. declared in `neon-migrate.toml` (`[[checks.workload.query]]`), parameters from the rows
//!    of its `params` query, run on the test Neon database branch;
//! 2. the parent's `pg_stat_statements`, when readable: the top statements by calls, each `$n`
//!    filled by sampling real values of the column it is compared with (`col = $n`,
//!    `col IN ($n, …)`; `LIMIT $n` gets 10, `OFFSET $n` 0); statements it cannot fill are
//!    listed as skipped;
//! 3. otherwise primary-key reads and single-row updates on the tables the pending migrations
//!    touch (from their SQL), else on the largest tables.

use std::sync::Arc;

use tokio_postgres::{Client, SimpleQueryMessage};

use super::{Target, WorkloadConfig, WorkloadError};
use crate::pg;

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
}

impl Params {
    /// The `k`-th set of parameter values (spread over the pools by a fixed scramble, so runs
    /// are repeatable).
    pub fn pick(&self, k: u64) -> Vec<Option<String>> {
        let mix = |k: u64, salt: u64| {
            let mut x = k
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
            x ^= x >> 31;
            x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 29)
        };
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
        }
    }
}

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
            Origin::PgStatStatements => "the parent's pg_stat_statements",
            Origin::PrimaryKey => "primary-key reads and single-row updates",
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

/// The largest `$n` in a statement (outside quotes and comments).
pub fn max_param(sql: &str) -> usize {
    lex(sql)
        .iter()
        .filter_map(|t| match t {
            Tok::Param(n) => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Finds the queries to replay.
pub async fn plan(cfg: &WorkloadConfig, target: &Target<'_>) -> Result<Plan, WorkloadError> {
    let (client, _pid) = session(target.url).await?;
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
    } else {
        notes.push("the parent's pg_stat_statements was not read (no parent given)".into());
    }
    if candidates.is_empty() {
        return Err(WorkloadError::Nothing(
            "no query is declared under [[checks.workload.query]], pg_stat_statements gave none, and no table has a primary key".into(),
        ));
    }
    let queries = primary_key_queries(&client, &candidates, cfg.rate).await?;
    Ok(Plan {
        origin: Origin::PrimaryKey,
        queries,
        skipped: Vec::new(),
        tables,
        notes,
    })
}

/// Our pid, left out by the lock sampler until dropped.
struct OwnPid(i32);

impl Drop for OwnPid {
    fn drop(&mut self) {
        pg::forget_own_pid(self.0);
    }
}

/// A short-lived session of ours on `url`: its statistics flushed at once (the witness must
/// not count it as one of the tool's sessions when it ends later), its pid registered.
async fn session(url: &crate::secret::Secret<String>) -> Result<(Client, OwnPid), WorkloadError> {
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
    Ok((client, OwnPid(pid)))
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
            name: q.name.clone(),
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
                    fail(format!("its `params` query failed: {}", pg::describe(&e)))
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
            name: q.name.clone(),
            sql: q.sql.clone(),
            write: is_write(&q.sql),
            rate: q.rate,
            params,
            origin: Origin::Declared,
        });
    }
    Ok(out)
}

/// Whether a statement writes (replayed in a rolled-back transaction): anything but a plain
/// `SELECT`/`VALUES`/`TABLE`, or a `WITH` holding a data-modifying statement.
pub fn is_write(sql: &str) -> bool {
    let toks = lex(sql);
    let words: Vec<String> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    match words.first().map(String::as_str) {
        Some("SELECT") | Some("VALUES") | Some("TABLE") | Some("SHOW") => false,
        Some("WITH") => words
            .iter()
            .any(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE")),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------
// pg_stat_statements

/// Most statements read from `pg_stat_statements`, and most replayed.
const MAX_STATEMENTS: i64 = 50;
const MAX_REPLAYED: usize = 10;

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
    let (client, _pid) = session(via).await.map_err(|e| e.to_string())?;
    let schema = client
        .query_opt(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .map_err(|e| pg::describe(&e))?
        .map(|r| r.get::<_, String>(0))
        .ok_or_else(|| Unusable("the extension is not installed (CREATE EXTENSION pg_stat_statements)".to_owned()))?;
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
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Fills the parameters of the statements found; splits `total_rate` by their calls.
async fn fill(client: &Client, found: &[(String, i64)], total_rate: f64) -> (Vec<Query>, Vec<Skipped>) {
    let mut filled = Vec::new();
    let mut skipped = Vec::new();
    for (sql, calls) in found {
        if filled.len() >= MAX_REPLAYED {
            break;
        }
        match fill_one(client, sql).await {
            Ok(pools) => filled.push((sql.clone(), *calls, pools)),
            Err(why) => skipped.push(Skipped {
                query: one_line(sql),
                why: why.0,
            }),
        }
    }
    let calls: i64 = filled.iter().map(|f| f.1.max(1)).sum();
    let queries = filled
        .into_iter()
        .enumerate()
        .map(|(i, (sql, c, pools))| Query {
            name: format!("pgss-{}", i + 1),
            write: is_write(&sql),
            rate: (total_rate * c.max(1) as f64 / calls.max(1) as f64).max(1.0),
            params: if pools.is_empty() {
                Params::None
            } else {
                Params::PerParam(Arc::new(pools))
            },
            sql,
            origin: Origin::PgStatStatements,
        })
        .collect();
    (queries, skipped)
}

/// The statement on one line, shortened.
pub fn one_line(sql: &str) -> String {
    let s = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// One pool of sampled values per `$n`, or why the statement cannot be filled.
async fn fill_one(client: &Client, sql: &str) -> Result<TextRows, Unusable> {
    let toks = lex(sql);
    let n = max_param(sql);
    if n == 0 {
        return Ok(Vec::new());
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
    if let Err(e) = client.prepare(sql).await {
        return Err(Unusable(format!(
            "does not prepare on the test Neon database branch: {}",
            pg::describe(&e)
        )));
    }
    Ok(pools)
}

/// Real values of `column`, from the table it belongs to.
async fn sample_column(
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
                    return Ok(rows.into_iter().map(|r| r.into_iter().next().flatten()).collect())
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

async fn keyed(client: &Client, names: Option<&[String]>, limit: i64) -> Result<Vec<Keyed>, WorkloadError> {
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

/// A point read and a single-row update (rolled back) per table: reads get ¾ of the rate.
async fn primary_key_queries(
    client: &Client,
    tables: &[Keyed],
    total_rate: f64,
) -> Result<Vec<Query>, WorkloadError> {
    let mut out = Vec::new();
    let share = total_rate / tables.len().max(1) as f64;
    for t in tables {
        let cols = t.key.join(", ");
        let mut rows = Vec::new();
        for sample in ["TABLESAMPLE SYSTEM (1)", ""] {
            let sql = format!("SELECT {cols} FROM {} {sample} LIMIT 1000", t.name);
            rows = text_rows(client, &sql)
                .await
                .map_err(|e| WorkloadError::db(format!("cannot sample the keys of {}", t.name), &e))?;
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
            name: format!("read {bare}"),
            sql: format!("SELECT * FROM {} WHERE {pred}", t.name),
            write: false,
            rate: (share * 0.75).max(1.0),
            params: params.clone(),
            origin: Origin::PrimaryKey,
        });
        let first = &t.key[0];
        out.push(Query {
            name: format!("update {bare}"),
            sql: format!("UPDATE {} SET {first} = {first} WHERE {pred}", t.name),
            write: true,
            rate: (share * 0.25).max(1.0),
            params,
            origin: Origin::PrimaryKey,
        });
    }
    if out.is_empty() {
        return Err(WorkloadError::Nothing(
            "the tables with a primary key are empty".into(),
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// A small lexer: enough to find table names and the predicates parameters appear in.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An unquoted word (keyword or identifier).
    Word(String),
    /// A `"quoted"` identifier.
    Quoted(String),
    Param(usize),
    Punct(char),
    /// A literal (string, number): only its position matters.
    Literal,
}

fn lex(sql: &str) -> Vec<Tok> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '\'' {
            i += 1;
            while i < c.len() {
                if c[i] == '\'' && c.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else if c[i] == '\'' {
                    break;
                } else {
                    i += 1;
                }
            }
            i += 1;
            out.push(Tok::Literal);
        } else if ch == '"' {
            let mut s = String::new();
            i += 1;
            while i < c.len() {
                if c[i] == '"' && c.get(i + 1) == Some(&'"') {
                    s.push('"');
                    i += 2;
                } else if c[i] == '"' {
                    break;
                } else {
                    s.push(c[i]);
                    i += 1;
                }
            }
            i += 1;
            out.push(Tok::Quoted(s));
        } else if ch == '$' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
            let start = i + 1;
            i += 1;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            let n: String = c[start..i].iter().collect();
            out.push(Tok::Param(n.parse().unwrap_or(0)));
        } else if ch == '$' {
            // A dollar-quoted body: skip to its closing tag.
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            if c.get(j) == Some(&'$') {
                let tag: String = c[i..=j].iter().collect();
                let rest: String = c[j + 1..].iter().collect();
                let end = rest.find(&tag).map(|p| rest[..p].chars().count()).unwrap_or(rest.chars().count());
                i = j + 1 + end + tag.chars().count();
                out.push(Tok::Literal);
            } else {
                out.push(Tok::Punct('$'));
                i += 1;
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.') {
                i += 1;
            }
            out.push(Tok::Literal);
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word(c[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// An identifier as SQL: unquoted words as written, quoted ones quoted again.
fn ident_sql(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(w) => Some(w.clone()),
        Tok::Quoted(q) => Some(pg::ident(q)),
        _ => None,
    }
}

/// A possibly qualified name at `toks[i..]`: (SQL text, tokens used).
fn name_at(toks: &[Tok], i: usize) -> Option<(String, usize)> {
    let mut name = ident_sql(toks.get(i)?)?;
    let mut used = 1;
    while toks.get(i + used) == Some(&Tok::Punct('.')) {
        let part = ident_sql(toks.get(i + used + 1)?)?;
        name = format!("{name}.{part}");
        used += 2;
    }
    Some((name, used))
}

/// Words that end a table reference (so they are no alias).
const NOT_ALIAS: &[&str] = &[
    "WHERE", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "ON", "USING", "SET",
    "ORDER", "GROUP", "HAVING", "LIMIT", "OFFSET", "FOR", "UNION", "EXCEPT", "INTERSECT",
    "RETURNING", "VALUES", "SELECT", "WINDOW", "TABLESAMPLE", "DEFAULT", "ONLY", "LATERAL",
];

/// Tables a statement reads or writes, with their aliases.
fn table_refs(toks: &[Tok]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let starts = ["FROM", "JOIN", "UPDATE", "INTO"].iter().any(|k| is_kw(toks.get(i), k))
            || (toks.get(i) == Some(&Tok::Punct(',')) && !out.is_empty() && in_from(toks, i));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if is_kw(toks.get(j), "ONLY") {
            j += 1;
        }
        let Some((name, used)) = name_at(toks, j) else {
            i += 1;
            continue;
        };
        j += used;
        if is_kw(toks.get(j), "AS") {
            j += 1;
        }
        let alias = match toks.get(j) {
            Some(Tok::Word(w)) if !NOT_ALIAS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                Some(w.to_ascii_lowercase())
            }
            Some(Tok::Quoted(q)) => Some(q.clone()),
            _ => None,
        };
        out.push((name, alias));
        i = j;
    }
    out
}

/// Whether the comma at `i` is in a FROM list (the last keyword before it is FROM).
fn in_from(toks: &[Tok], i: usize) -> bool {
    toks[..i]
        .iter()
        .rev()
        .find_map(|t| match t {
            Tok::Word(w) => {
                let u = w.to_ascii_uppercase();
                match u.as_str() {
                    "FROM" => Some(true),
                    "WHERE" | "SELECT" | "SET" | "ON" | "ORDER" | "GROUP" | "VALUES" => Some(false),
                    _ => None,
                }
            }
            _ => None,
        })
        .unwrap_or(false)
}

/// What a parameter stands for.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    Column {
        qualifier: Option<String>,
        column: String,
    },
    Limit,
    Offset,
}

/// The column (possibly qualified) ending at `toks[end]`.
fn column_before(toks: &[Tok], end: usize) -> Option<(Option<String>, String)> {
    let col_sql = ident_sql(toks.get(end)?)?;
    if end >= 2 && toks[end - 1] == Tok::Punct('.') {
        let q = match &toks[end - 2] {
            Tok::Word(w) => w.to_ascii_lowercase(),
            Tok::Quoted(q) => q.clone(),
            _ => return None,
        };
        return Some((Some(q), col_sql));
    }
    Some((None, col_sql))
}

/// How `$p` is used: compared with a column, or a LIMIT / OFFSET.
fn param_role(toks: &[Tok], p: usize) -> Option<Role> {
    let mut found = None;
    for (i, t) in toks.iter().enumerate() {
        if *t != Tok::Param(p) {
            continue;
        }
        // A cast right after (`$1::int`) does not change what it is compared with.
        let role = if i >= 1 && is_kw(toks.get(i - 1), "LIMIT") {
            Some(Role::Limit)
        } else if i >= 1 && is_kw(toks.get(i - 1), "OFFSET") {
            Some(Role::Offset)
        } else if i >= 2 && toks[i - 1] == Tok::Punct('=') {
            column_before(toks, i - 2).map(|(qualifier, column)| Role::Column { qualifier, column })
        } else if toks.get(i + 1) == Some(&Tok::Punct('=')) {
            match (toks.get(i + 2), toks.get(i + 3)) {
                (Some(_), Some(Tok::Punct('.'))) => column_before(toks, i + 4),
                (Some(_), _) => column_before(toks, i + 2),
                _ => None,
            }
            .map(|(qualifier, column)| Role::Column { qualifier, column })
        } else {
            in_list_column(toks, i).map(|(qualifier, column)| Role::Column { qualifier, column })
        };
        match (role, &found) {
            (None, _) => return None,
            (Some(r), None) => found = Some(r),
            (Some(r), Some(f)) if r == *f => {}
            _ => return None,
        }
    }
    found
}

/// For `$p` at `i` inside `col IN ( …, $p, … )`: the column.
fn in_list_column(toks: &[Tok], i: usize) -> Option<(Option<String>, String)> {
    let mut j = i;
    loop {
        j = j.checked_sub(1)?;
        match &toks[j] {
            Tok::Param(_) | Tok::Punct(',') | Tok::Literal => continue,
            Tok::Punct('(') => break,
            _ => return None,
        }
    }
    if !is_kw(toks.get(j.checked_sub(1)?), "IN") {
        return None;
    }
    column_before(toks, j.checked_sub(2)?)
}

/// The tables a migration's SQL names: `ALTER TABLE`, `CREATE INDEX … ON`, `LOCK`,
/// `UPDATE`, `DELETE FROM`, `INSERT INTO`, `TRUNCATE`, `VACUUM FULL`, `CLUSTER`,
/// `REINDEX TABLE`, `REFERENCES`.
pub fn touched_tables(sql: &str) -> Vec<String> {
    let toks = lex(sql);
    let mut out: Vec<String> = Vec::new();
    let kw = |i: usize, k: &str| is_kw(toks.get(i), k);
    let skip = |mut i: usize, words: &[&str]| {
        while words.iter().any(|w| kw(i, w)) {
            i += 1;
        }
        i
    };
    for i in 0..toks.len() {
        let at = if kw(i, "ALTER") && kw(i + 1, "TABLE") {
            let mut j = i + 2;
            if kw(j, "IF") && kw(j + 1, "EXISTS") {
                j += 2;
            }
            Some(skip(j, &["ONLY"]))
        } else if kw(i, "INDEX") && (kw(i.wrapping_sub(1), "CREATE") || kw(i.wrapping_sub(1), "UNIQUE")) {
            let mut j = skip(i + 1, &["CONCURRENTLY"]);
            if kw(j, "IF") {
                j += 3;
            }
            // An optional index name, then ON.
            (j..j + 4).find(|&k| kw(k, "ON")).map(|k| skip(k + 1, &["ONLY"]))
        } else if kw(i, "LOCK") || kw(i, "TRUNCATE") {
            Some(skip(i + 1, &["TABLE", "ONLY"]))
        } else if (kw(i, "UPDATE") && !kw(i.wrapping_sub(1), "FOR") && !kw(i.wrapping_sub(1), "ON") && !kw(i.wrapping_sub(1), "DO"))
            || (kw(i, "FROM") && kw(i.wrapping_sub(1), "DELETE"))
            || (kw(i, "INTO") && kw(i.wrapping_sub(1), "INSERT"))
            || kw(i, "REFERENCES")
            || kw(i, "CLUSTER")
        {
            Some(skip(i + 1, &["ONLY"]))
        } else if kw(i, "VACUUM") && kw(i + 1, "FULL") {
            Some(i + 2)
        } else if kw(i, "REINDEX") && kw(i + 1, "TABLE") {
            Some(skip(i + 2, &["CONCURRENTLY"]))
        } else {
            None
        };
        if let Some((name, _)) = at.and_then(|j| name_at(&toks, j)) {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_name_their_tables() {
        let sql = "-- ALTER TABLE nope\nALTER TABLE IF EXISTS ONLY public.accounts ADD COLUMN x int;\n\
                   CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY \"Orders\" (id);\n\
                   CREATE INDEX ON items (a);\n\
                   ALTER TABLE t2 ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES parents (id);\n\
                   UPDATE accounts SET x = 1; INSERT INTO log VALUES ('ALTER TABLE fake x');\n\
                   SELECT 1 FROM z FOR UPDATE;";
        assert_eq!(
            touched_tables(sql),
            ["public.accounts", "\"Orders\"", "items", "t2", "parents", "accounts", "log"]
        );
    }

    #[test]
    fn parameters_are_placed() {
        let toks = lex("SELECT * FROM accounts a JOIN orders o ON o.account = a.id WHERE a.id = $1 AND o.state IN ($2, $3) AND $4 = o.kind LIMIT $5 OFFSET $6");
        assert_eq!(
            table_refs(&toks),
            [
                ("accounts".to_owned(), Some("a".to_owned())),
                ("orders".to_owned(), Some("o".to_owned()))
            ]
        );
        assert_eq!(
            param_role(&toks, 1),
            Some(Role::Column {
                qualifier: Some("a".into()),
                column: "id".into()
            })
        );
        assert_eq!(
            param_role(&toks, 3),
            Some(Role::Column {
                qualifier: Some("o".into()),
                column: "state".into()
            })
        );
        assert_eq!(
            param_role(&toks, 4),
            Some(Role::Column {
                qualifier: Some("o".into()),
                column: "kind".into()
            })
        );
        assert_eq!(param_role(&toks, 5), Some(Role::Limit));
        assert_eq!(param_role(&toks, 6), Some(Role::Offset));
        let toks = lex("SELECT * FROM t WHERE created > $1");
        assert_eq!(param_role(&toks, 1), None);
        assert_eq!(max_param("SELECT '$9', $2 -- $7\n"), 2);
    }

    #[test]
    fn writes_are_told_from_reads() {
        assert!(!is_write("select * from t where id = $1"));
        assert!(is_write("UPDATE t SET a = 1 WHERE id = $1"));
        assert!(is_write("with x as (delete from t returning *) select 1"));
        assert!(!is_write("with x as (select 1) select * from x"));
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

//! Before the migration: one fingerprint per table row, one hash per column, on the server.

use tokio_postgres::Client;

use super::{random_seed, IntegrityConfig, IntegrityError, SCRATCH_SCHEMA, SESSION};
use crate::pg::{ident, literal};

/// The user tables of a database: every `relkind = 'r'` table outside the catalogs, the
/// scratch schema and extensions — and but the built-in `sql` tool's own tracking table
/// (`neon_migrate.schema_migrations`): a user's table in a schema named `neon_migrate` is
/// compared like any other; with its columns (in attribute number order), its best key: the
/// primary key, else the narrowest unique index without expressions or predicate whose
/// columns are all NOT NULL; and the table it is a partition (or child) of.
const TABLES: &str = r#"
SELECT c.oid::bigint, n.nspname::text, c.relname::text, c.reltuples::float8::bigint,
       coalesce((SELECT pg_catalog.array_agg(a.attnum::int ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       coalesce((SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       coalesce((SELECT pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       (SELECT (SELECT pg_catalog.array_agg(k::int ORDER BY o) FROM pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY u(k, o)
                 WHERE o <= i.indnkeyatts)
          FROM pg_catalog.pg_index i
         WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
           AND i.indpred IS NULL AND i.indexprs IS NULL
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY u(k, o)
                             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.k
                            WHERE u.o <= i.indnkeyatts AND NOT a.attnotnull)
         ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid
         LIMIT 1),
       p.oid::bigint, pn.nspname::text, p.relname::text
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_inherits ih ON ih.inhrelid = c.oid AND ih.inhseqno = 1
  LEFT JOIN pg_catalog.pg_class p ON p.oid = ih.inhparent
  LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
 WHERE c.relkind = 'r'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'neon_migrate_integrity')
   AND NOT (n.nspname = 'neon_migrate' AND c.relname = 'schema_migrations')
   AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                     AND d.objid = c.oid AND d.deptype = 'e')
   AND ($1::bigint[] IS NULL OR c.oid::bigint = ANY($1::bigint[]))
 ORDER BY 2, 3
"#;

/// A column, by attribute number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub attnum: i32,
    pub name: String,
    pub data_type: String,
}

/// A table as the catalog describes it now.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    /// Planner estimate (-1: never analyzed).
    pub estimate: i64,
    pub columns: Vec<ColumnInfo>,
    /// Attribute numbers of the key, if it has a usable one.
    pub key: Option<Vec<i32>>,
    /// The table it is a partition (or an inheriting child) of: oid, schema, name. Its rows
    /// are read through that table: detached, they leave it.
    pub parent: Option<(i64, String, String)>,
}

impl TableInfo {
    /// `"schema"."table"` for SQL.
    pub fn sql_name(&self) -> String {
        format!("{}.{}", ident(&self.schema), ident(&self.name))
    }
    pub fn column(&self, attnum: i32) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.attnum == attnum)
    }
    /// The column of this name: what users know a column by (a rename keeps its attribute
    /// number, and values moved between named columns are changed values).
    pub fn named(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// Where the fingerprint of column `c` (of this table, as recorded) is in the scratch
    /// table `b`: its own column, or an element of a chunk (see [`CHUNK`]).
    pub fn stored(&self, c: &ColumnInfo, chunked: bool) -> String {
        if !chunked {
            return format!("b.h{}", c.attnum);
        }
        let i = self
            .columns
            .iter()
            .position(|x| x.attnum == c.attnum)
            .unwrap_or(0);
        format!("b.c{}[{}]", i / CHUNK, i % CHUNK + 1)
    }
}

/// Reads the user tables (all, or those with these oids).
pub async fn tables(
    client: &Client,
    oids: Option<Vec<i64>>,
) -> Result<Vec<TableInfo>, IntegrityError> {
    let rows = client
        .query(TABLES, &[&oids])
        .await
        .map_err(IntegrityError::query("cannot list the tables"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let nums: Vec<i32> = r.get(4);
            let names: Vec<String> = r.get(5);
            let types: Vec<String> = r.get(6);
            TableInfo {
                oid: r.get(0),
                schema: r.get(1),
                name: r.get(2),
                estimate: r.get(3),
                columns: nums
                    .into_iter()
                    .zip(names)
                    .zip(types)
                    .map(|((attnum, name), data_type)| ColumnInfo {
                        attnum,
                        name,
                        data_type,
                    })
                    .collect(),
                key: r.get(7),
                parent: r
                    .get::<_, Option<i64>>(8)
                    .map(|oid| (oid, r.get(9), r.get(10))),
            }
        })
        .collect())
}

/// How a table's rows were sampled (the same rows are read after the migration).
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// Closed ranges `[from, to]` of an integer key column (`to`: the last key the range
    /// read before the migration).
    Ranges(Vec<(i64, i64)>),
    /// Rows whose key hash (seeded), modulo 2^20, is below this.
    KeyHash { below: i64, seed: i64 },
}

/// Parts of the key hash's range in a sample by key hash.
const HASH_SLOTS: i64 = 1 << 20;
/// Key ranges of a sample by ranges.
const RANGES: i64 = 64;

impl Sample {
    /// The `WHERE` condition selecting the sample, given the key column(s) as SQL.
    pub fn filter(&self, key_cols: &[String], key_text: &str) -> String {
        match self {
            Sample::Ranges(ranges) => {
                let col = &key_cols[0];
                let parts: Vec<String> = ranges
                    .iter()
                    .map(|(a, b)| format!("({col} >= {a} AND {col} <= {b})"))
                    .collect();
                format!("({})", parts.join(" OR "))
            }
            Sample::KeyHash { below, seed } => format!(
                "(pg_catalog.hashtextextended({key_text} COLLATE \"C\", {seed}) & {}) < {below}",
                HASH_SLOTS - 1
            ),
        }
    }
    /// How the sample was taken, for the findings.
    pub fn describe(&self, estimate: i64, key: &str) -> String {
        match self {
            Sample::Ranges(r) => format!(
                "sampled: {} key range(s) of {key} out of ~{estimate} row(s)",
                r.len()
            ),
            Sample::KeyHash { below, .. } => format!(
                "sampled: {:.2}% of ~{estimate} row(s) by the hash of {key}",
                *below as f64 * 100.0 / HASH_SLOTS as f64
            ),
        }
    }
}

/// How a table was recorded.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Per row, in `SCRATCH_SCHEMA.fp_<oid>`.
    Keyed {
        key: Vec<i32>,
        /// Qualified scratch table.
        scratch: String,
        /// Rows fingerprinted.
        rows: i64,
        /// Keyed digest of the scratch table's rows (see [`super`]).
        digest: String,
        sample: Option<Sample>,
        /// The fingerprints are stored in chunks of [`CHUNK`] per `bigint[]` column (`c0`,
        /// `c1`, …) instead of one column each (`h<attnum>`): a table too wide for one
        /// `bigint` per column in a row (Postgres' rows hold ~1,000 of them).
        chunked: bool,
    },
    /// No usable key: rows and, per column, non-null values and the sum of their hashes.
    Aggregate {
        rows: i64,
        columns: Vec<(i32, i64, String)>,
        /// The sum of each row's hash of its column hashes (in attribute number order):
        /// order-independent, yet it keeps which values share a row — values swapped between
        /// rows keep every column's sum, not this one.
        row_hashes: String,
    },
}

/// One table before the migration.
#[derive(Debug, Clone)]
pub struct TableRecord {
    pub table: TableInfo,
    pub mode: Mode,
}

/// Everything recorded before the migration.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub(crate) seed: i64,
    pub tables: Vec<TableRecord>,
    /// The database's time zone as the migration's sessions see it: what a conversion
    /// between `timestamp` (or `date`) and `timestamptz` used.
    pub(crate) tz: String,
    /// The scratch schema already existed, holding this many relations: a schema of the
    /// user's (or put there to be dropped), left as it is — nothing was fingerprinted.
    pub(crate) occupied: Option<i64>,
    /// Tables whose rows a row-level security policy hid from the checks' role before the
    /// migration (FORCE ROW LEVEL SECURITY on a table it owns): not fingerprinted, NOT CHECKED.
    pub hidden: Vec<String>,
}

/// Fingerprints per `bigint[]` chunk of a wide table's scratch row.
pub const CHUNK: usize = 100;
/// Tables with more columns than this store their fingerprints in chunks: one `bigint` per
/// column would make a row too big (8 kB) above ~1,000 columns.
pub const PLAIN_MAX: usize = 400;

/// A column whose type the migration changed: its type before and now, and the database's
/// time zone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retyped<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub tz: &'a str,
}

/// `expr` (of type `from`) cast to type `to`. Between `timestamp` or `date` and
/// `timestamptz`, the conversion happens in the database's time zone `tz`, as the
/// migration's did (this session's is UTC, for stable text forms).
pub(crate) fn cast(expr: &str, from: &str, to: &str, tz: &str) -> String {
    let tstz = |t: &str| t.starts_with("timestamp") && t.ends_with(" with time zone");
    let local =
        |t: &str| t == "date" || (t.starts_with("timestamp") && t.ends_with(" without time zone"));
    if tstz(to) && local(from) {
        format!("((({expr})::timestamp AT TIME ZONE {})::{to})", literal(tz))
    } else if tstz(from) && local(to) {
        format!("((({expr}) AT TIME ZONE {})::{to})", literal(tz))
    } else {
        format!("(({expr})::{to})")
    }
}

/// The hash of one column's text form as SQL, in the "C" collation (a case-insensitive one
/// would hash `Ann` and `ann` alike): `hashtextextended(("c")::text COLLATE "C", 0)`.
///
/// With `retyped`, the value is first cast back to the type it had before the migration — and
/// counts as that old value only when the round trip is lossless for the new value (cast back,
/// then forward again, it has the same text form): otherwise it hashes (with another seed) as
/// a value no old one equals. An `integer` made `numeric` by `v + 0.4` casts back to the same
/// integer, but does not survive the round trip: changed.
pub(crate) fn hash_expr(column: &str, retyped: Option<Retyped<'_>>) -> String {
    let c = ident(column);
    let Some(r) = retyped else {
        return format!("pg_catalog.hashtextextended(({c})::text COLLATE \"C\", 0)");
    };
    let back = cast(&c, r.new, r.old, r.tz);
    let round = cast(&back, r.old, r.new, r.tz);
    format!(
        "CASE WHEN ({round})::text COLLATE \"C\" IS NOT DISTINCT FROM ({c})::text COLLATE \"C\" \
         THEN pg_catalog.hashtextextended(({back})::text COLLATE \"C\", 0) \
         ELSE pg_catalog.hashtextextended(({c})::text COLLATE \"C\", 1) END"
    )
}

/// A column's fingerprint as stored: its [`hash_expr`], with 0 standing for NULL — so that
/// the comparison is a plain `a.hN <> b.hN` (false, never NULL, for an unchanged NULL; NULL
/// for a row only one side has), and a non-null count is `hN <> 0` (a value hashing to 0,
/// one in 2^64, counts as NULL).
pub(crate) fn fingerprint_expr(column: &str, retyped: Option<Retyped<'_>>) -> String {
    format!("coalesce({}, 0)", hash_expr(column, retyped))
}

/// The key of a row as text: the column's text form, or the row constructor's for several.
pub(crate) fn key_text(cols: &[String]) -> String {
    if cols.len() == 1 {
        format!("({})::text", cols[0])
    } else {
        format!("(ROW({}))::text", cols.join(", "))
    }
}

/// Fingerprints every user table but those named in `skip` (`table` or `schema.table`: the
/// tool's own bookkeeping, which it updates by design).
pub async fn record(
    client: &Client,
    cfg: &IntegrityConfig,
    skip: &[String],
) -> Result<Recorded, IntegrityError> {
    // Before SESSION sets UTC: the time zone the migration's own sessions will have.
    let tz: String = client
        .query_one("SELECT pg_catalog.current_setting('TimeZone')", &[])
        .await
        .map_err(IntegrityError::query("cannot read the time zone"))?
        .get(0);
    client
        .batch_execute(SESSION)
        .await
        .map_err(IntegrityError::query("cannot set up the session"))?;
    // The parent never has the scratch schema: when the copy does, it is not ours to drop.
    let occupied: Option<i64> = client
        .query_one(
            "SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid)
               FROM pg_catalog.pg_namespace n WHERE n.nspname = $1",
            &[&SCRATCH_SCHEMA],
        )
        .await
        .ok()
        .map(|r| r.get(0));
    if occupied.is_some() {
        return Ok(Recorded {
            seed: 0,
            tables: Vec::new(),
            tz,
            occupied,
            hidden: Vec::new(),
        });
    }
    client
        .batch_execute(&format!("CREATE SCHEMA {s}", s = ident(SCRATCH_SCHEMA)))
        .await
        .map_err(IntegrityError::query(format!(
            "cannot create the scratch schema {SCRATCH_SCHEMA}"
        )))?;
    let seed = random_seed();
    let mut out = Vec::new();
    let mut hidden = Vec::new();
    for t in tables(client, None).await? {
        if skip
            .iter()
            .any(|s| s == &t.name || *s == format!("{}.{}", t.schema, t.name))
        {
            continue;
        }
        let mode = match &t.key {
            Some(key) => record_keyed(client, &t, key, seed, cfg.sample_above).await,
            None => aggregate(client, &t, &[]).await,
        };
        match mode {
            Ok(mode) => out.push(TableRecord { table: t, mode }),
            // Read with `row_security = off`: refused, not filtered (`pg::connect_checker`).
            Err(e) if e.hidden_by_row_security() => hidden.push(super::display(&t.schema, &t.name)),
            Err(e) => return Err(e),
        }
    }
    Ok(Recorded {
        seed,
        tables: out,
        tz,
        occupied: None,
        hidden,
    })
}

/// The fingerprints go into the scratch table in one `CREATE TABLE … AS` (bulk-written, and
/// the hashing may run in parallel workers), then one read of it takes their keyed digest,
/// and `ANALYZE` gives the comparison's join true row counts (without them the planner
/// guessed billions of rows and sorted both sides on disk; see
/// `benches/results/integrity-profile.txt`).
async fn record_keyed(
    client: &Client,
    t: &TableInfo,
    key: &[i32],
    seed: i64,
    sample_above: i64,
) -> Result<Mode, IntegrityError> {
    let scratch = format!(
        "{}.{}",
        ident(SCRATCH_SCHEMA),
        ident(&format!("fp_{}", t.oid))
    );
    let key_cols: Vec<String> = key
        .iter()
        .filter_map(|k| t.column(*k))
        .map(|c| ident(&c.name))
        .collect();
    let ktext = key_text(&key_cols);
    let sample = if t.estimate > sample_above {
        Some(choose_sample(client, t, key, &key_cols, sample_above).await?)
    } else {
        None
    };
    let mut exprs = vec![format!("{ktext} COLLATE \"C\" AS k")];
    let chunked = t.columns.len() > PLAIN_MAX;
    if chunked {
        for (i, chunk) in t.columns.chunks(CHUNK).enumerate() {
            let fps: Vec<String> = chunk
                .iter()
                .map(|c| fingerprint_expr(&c.name, None))
                .collect();
            exprs.push(format!("ARRAY[{}]::bigint[] AS c{i}", fps.join(", ")));
        }
    } else {
        for c in &t.columns {
            exprs.push(format!(
                "{} AS h{}",
                fingerprint_expr(&c.name, None),
                c.attnum
            ));
        }
    }
    let filter = sample
        .as_ref()
        .map(|s| format!(" WHERE {}", s.filter(&key_cols, &ktext)))
        .unwrap_or_default();
    let what = || format!("cannot fingerprint {}", t.sql_name());
    client
        .batch_execute(&format!(
            "CREATE UNLOGGED TABLE {scratch} AS SELECT {} FROM ONLY {}{filter}",
            exprs.join(", "),
            t.sql_name()
        ))
        .await
        .map_err(IntegrityError::query(what()))?;
    let row = client
        .query_one(
            &format!("SELECT pg_catalog.count(*), {DIGEST} FROM {scratch} b"),
            &[&seed],
        )
        .await
        .map_err(IntegrityError::query(what()))?;
    // The join needs the row count and that `k` is unique, which a 300-row sample tells as
    // well as the default 30,000 (a tenth of the time at 100,000 rows).
    let analyzed = client
        .batch_execute(&format!(
            "BEGIN; SET LOCAL default_statistics_target = 1; ANALYZE {scratch}; COMMIT"
        ))
        .await;
    if let Err(e) = analyzed {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(IntegrityError::query(what())(e));
    }
    Ok(Mode::Keyed {
        key: key.to_vec(),
        scratch,
        rows: row.get(0),
        digest: row.get(1),
        sample,
        chunked,
    })
}

/// The keyed digest of a fingerprint table `b` (`$1`: the seed only this process knows):
/// the sum of each row's hash, every field hashed with the seed. Without the seed, an edit
/// of the fingerprints that keeps the digest cannot be computed.
pub(crate) const DIGEST: &str =
    "coalesce(pg_catalog.sum(pg_catalog.hash_record_extended(b, $1)), 0)::text";

/// Key ranges for an integer key column, else a slice of the key hash, sized so that about
/// `sample_above` rows are read.
///
/// The ranges are drawn from the rows, not from the span of key values (one far-away key
/// would leave every range of a value-spread sample empty): up to [`RANGES`] start keys are
/// picked, evenly by rank from an offset drawn per run, among rows read by `TABLESAMPLE
/// BERNOULLI … REPEATABLE (seed)` (the seed drawn per run), and each range is the next
/// `sample_above / RANGES` keys from its start in key order, `key >= start ORDER BY key LIMIT
/// n`, whose last key is recorded: after the migration exactly the same key interval is read.
async fn choose_sample(
    client: &Client,
    t: &TableInfo,
    key: &[i32],
    key_cols: &[String],
    sample_above: i64,
) -> Result<Sample, IntegrityError> {
    let fraction = (sample_above as f64 / t.estimate.max(1) as f64).clamp(0.0, 1.0);
    let integer = key.len() == 1
        && t.column(key[0])
            .is_some_and(|c| matches!(c.data_type.as_str(), "smallint" | "integer" | "bigint"));
    if integer {
        let ranges = key_ranges(client, t, &key_cols[0], sample_above).await?;
        if !ranges.is_empty() {
            return Ok(Sample::Ranges(ranges));
        }
    }
    Ok(Sample::KeyHash {
        below: ((HASH_SLOTS as f64) * fraction).ceil() as i64,
        // Which keys fall in the slice is drawn per run.
        seed: random_seed(),
    })
}

/// The ranges of [`choose_sample`]: `[start, end]` key intervals, each holding up to
/// `sample_above / RANGES` rows, starting at keys drawn among the rows.
async fn key_ranges(
    client: &Client,
    t: &TableInfo,
    k: &str,
    sample_above: i64,
) -> Result<Vec<(i64, i64)>, IntegrityError> {
    let per_range = ((sample_above as f64) / RANGES as f64).ceil().max(1.0) as i64;
    let seed = random_seed();
    let what = || format!("cannot draw the sample of {}", t.sql_name());
    // About 16 candidates per range, drawn row by row (`BERNOULLI`: pages would cluster
    // them), in key order; the starts are every 16th or so, from an offset drawn per run —
    // spread like the rows, so the ranges do not overlap unless the table is barely above
    // `sample-above`. Too few candidates (a stale estimate): every row is one.
    let percent = (RANGES as f64 * 16.0 * 100.0 / t.estimate.max(1) as f64).clamp(0.0001, 100.0);
    let mut candidates: Vec<i64> = Vec::new();
    for source in [
        format!(
            "ONLY {} TABLESAMPLE BERNOULLI ({percent}) REPEATABLE ({seed})",
            t.sql_name()
        ),
        format!("ONLY {}", t.sql_name()),
    ] {
        let rows = client
            .query(
                // At most 4,096, a random subset of them (whatever the estimate says).
                &format!(
                    "SELECT {k}::bigint FROM {source} WHERE {k} IS NOT NULL \
                      ORDER BY pg_catalog.hashint8extended({k}::bigint, $1) LIMIT {}",
                    RANGES * 64
                ),
                &[&seed],
            )
            .await
            .map_err(IntegrityError::query(what()))?;
        candidates = rows.iter().map(|r| r.get::<_, i64>(0)).collect();
        candidates.sort_unstable();
        if candidates.len() as i64 >= RANGES * 4 {
            break;
        }
    }
    let stride = (candidates.len() / RANGES as usize).max(1);
    let offset = (seed as u64 % stride as u64) as usize;
    let mut starts: Vec<i64> = candidates
        .iter()
        .skip(offset)
        .step_by(stride)
        .take(RANGES as usize)
        .copied()
        .collect();
    starts.sort_unstable();
    let rows = client
        .query(
            &format!(
                "SELECT s.start, (SELECT pg_catalog.max(x.k) FROM (SELECT {k}::bigint AS k FROM ONLY {} \
                   WHERE {k} >= s.start ORDER BY {k} LIMIT {per_range}) x) \
                   FROM pg_catalog.unnest($1::bigint[]) s(start) ORDER BY 1",
                t.sql_name()
            ),
            &[&starts],
        )
        .await
        .map_err(IntegrityError::query(what()))?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((r.get::<_, i64>(0), r.get::<_, Option<i64>>(1)?)))
        .collect())
}

/// Row count and, per column, non-null values and the sum of their hashes (order-independent),
/// in two arrays (a table may have more columns than a select list may have entries).
/// `retyped` gives, by attribute number, the columns to cast back first (see [`hash_expr`]).
pub(crate) async fn aggregate(
    client: &Client,
    t: &TableInfo,
    retyped: &[(i32, Retyped<'_>)],
) -> Result<Mode, IntegrityError> {
    let mut counts = Vec::new();
    let mut sums = Vec::new();
    let mut hashes = Vec::new();
    for c in &t.columns {
        counts.push(format!("pg_catalog.count({})", ident(&c.name)));
        let hash = hash_expr(
            &c.name,
            retyped
                .iter()
                .find(|(n, _)| *n == c.attnum)
                .map(|(_, r)| *r),
        );
        sums.push(format!(
            "coalesce(pg_catalog.sum({hash}::numeric), 0)::text"
        ));
        hashes.push(format!("coalesce({hash}, 0)"));
    }
    sums.push(format!(
        "coalesce(pg_catalog.sum(pg_catalog.hashtextextended((ARRAY[{}]::bigint[])::text, 0)::numeric), 0)::text",
        hashes.join(", ")
    ));
    let row = client
        .query_one(
            &format!(
                "SELECT pg_catalog.count(*), ARRAY[{}]::bigint[], ARRAY[{}]::text[] FROM ONLY {}",
                counts.join(", "),
                sums.join(", "),
                t.sql_name()
            ),
            &[],
        )
        .await
        .map_err(IntegrityError::query(format!(
            "cannot aggregate {}",
            t.sql_name()
        )))?;
    let counts: Vec<i64> = row.get(1);
    let mut sums: Vec<String> = row.get(2);
    let row_hashes = sums.pop().unwrap_or_default();
    let columns = t
        .columns
        .iter()
        .zip(counts.into_iter().zip(sums))
        .map(|(c, (n, sum))| (c.attnum, n, sum))
        .collect();
    Ok(Mode::Aggregate {
        rows: row.get(0),
        columns,
        row_hashes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_filters_are_sql_on_the_key() {
        let s = Sample::Ranges(vec![(1, 5), (100, 104)]);
        assert_eq!(
            s.filter(&["\"id\"".into()], "(\"id\")::text"),
            "((\"id\" >= 1 AND \"id\" <= 5) OR (\"id\" >= 100 AND \"id\" <= 104))"
        );
        let h = Sample::KeyHash {
            below: 1024,
            seed: 77,
        };
        assert_eq!(
            h.filter(&["\"a\"".into(), "\"b\"".into()], "k"),
            "(pg_catalog.hashtextextended(k COLLATE \"C\", 77) & 1048575) < 1024"
        );
        assert!(h
            .describe(10_000_000, "(a, b)")
            .starts_with("sampled: 0.10% of ~10000000"));
    }

    #[test]
    fn the_sample_is_drawn_per_run() {
        let draws: std::collections::BTreeSet<i64> = (0..8).map(|_| random_seed()).collect();
        assert!(
            draws.len() > 1,
            "every run would read the same rows: {draws:?}"
        );
    }

    #[test]
    fn keys_and_hashes_quote_names() {
        assert_eq!(key_text(&["\"id\"".into()]), "(\"id\")::text");
        assert_eq!(
            key_text(&["\"a\"".into(), "\"b\"".into()]),
            "(ROW(\"a\", \"b\"))::text"
        );
        let r = Retyped {
            old: "numeric(12,2)",
            new: "numeric(12,0)",
            tz: "UTC",
        };
        let h = hash_expr("we\"ird", Some(r));
        let back = "((\"we\"\"ird\")::numeric(12,2))";
        // Cast back, then forward again, compared as text with the value now.
        assert!(
            h.starts_with(&format!(
                "CASE WHEN ((({back})::numeric(12,0)))::text COLLATE \"C\" IS NOT DISTINCT FROM (\"we\"\"ird\")::text"
            )),
            "{h}"
        );
        assert!(
            h.contains(&format!(
                "THEN pg_catalog.hashtextextended(({back})::text COLLATE \"C\", 0)"
            )),
            "{h}"
        );
    }

    #[test]
    fn time_zone_conversions_use_the_databases_time_zone() {
        let ts = "timestamp without time zone";
        let tstz = "timestamp with time zone";
        assert_eq!(
            cast("x", ts, tstz, "Europe/Paris"),
            "(((x)::timestamp AT TIME ZONE 'Europe/Paris')::timestamp with time zone)"
        );
        assert_eq!(
            cast("x", tstz, "date", "UTC"),
            "(((x) AT TIME ZONE 'UTC')::date)"
        );
        assert_eq!(cast("x", "integer", "numeric", "UTC"), "((x)::numeric)");
    }
}

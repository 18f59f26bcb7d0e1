//! Benchmark: the schema engine on a wide schema — introspect both sides, diff, plan — against
//! migra on the same pair of databases, in the same run.
//!
//! Run with `cargo bench --bench schema_diff`. Not a timed test: it prints the numbers and how
//! they compare with the targets, and fails only on errors.
//!
//! * A: 2,000 tables of 10 columns each (identity primary key, a foreign key to the previous
//!   table, text, varchar, numeric, int, bool, jsonb, 2 timestamptz) with 2 secondary indexes.
//!   B: a copy of A (`CREATE DATABASE … TEMPLATE`) plus 12 varied changes (see [`CHANGES`]).
//! * The comparison is of whole processes, as a user runs them: `neon-migrate diff --from A
//!   --to B` (the release binary) and `migra --unsafe A B` (migra from PyPI in a virtualenv,
//!   pins in `benches/migra-requirements.txt`, installed by `benches/migra.sh`). Both are
//!   spawned by the same measuring wrapper (this binary, `__spawn`): wall time from spawn to
//!   exit, peak RSS from `getrusage(RUSAGE_CHILDREN)`. They run in [`PAIRS`] interleaved pairs
//!   (after a warm-up pair), the order alternating; the ratio is taken per pair and reported
//!   as its median with the interquartile range.
//! * A breakdown in process (a child of its own per run): one database's catalog read
//!   (connect + introspect A) against the engine (connect + introspect A and B in parallel +
//!   plan).
//! * `NEON_MIGRATE_SCHEMA_BENCH_TABLES=10000` measures 10,000 tables (its own pair of
//!   databases); `scripts/bench` saves the output under `benches/results/`.
//!
//! Targets (issues 5 and 17): ≤ 1.0 s wall and ≤ 60 MB peak at 2,000 tables, ≥ 10× faster than
//! migra, and the engine ≤ 1.5× one catalog read.
//!
//! The embedded cluster lives in a bench-only folder (`/var/tmp/neon-migrate-bench-schema`, or
//! `$NEON_MIGRATE_SCHEMA_BENCH_DIR`) and is stopped at the end, also after an error. The two
//! databases stay in that folder, marked with the generator's version, so the next run skips the
//! minute it takes to build them; `NEON_MIGRATE_SCHEMA_BENCH_FRESH=1` builds them again.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tokio_postgres::Client;

use neon_migrate::pg::{self, ident, literal};
use neon_migrate::providers::local::cluster::{self, Cluster};
use neon_migrate::schema::{self, PlanOptions};
use neon_migrate::secret::Secret;

const TABLES: usize = 2000;
const DB_A: &str = "nmschema_bench_a";
const DB_B: &str = "nmschema_bench_b";
/// Stored as the databases' comment; bump it whenever the generator or [`CHANGES`] change.
const GENERATOR: &str = "neon-migrate schema_diff bench v1";
const DEFAULT_DIR: &str = "/var/tmp/neon-migrate-bench-schema";
/// Measured pairs (neon-migrate, migra) after one warm-up pair; `NEON_MIGRATE_SCHEMA_BENCH_PAIRS`.
const PAIRS: usize = 7;
const TARGET_WALL_S: f64 = 1.0;
/// The engine (both catalogs read in parallel, then the plan) against one catalog read.
const TARGET_CATALOG_RATIO: f64 = 1.5;
const TARGET_PEAK_MB: f64 = 60.0;
const TARGET_RATIO: f64 = 10.0;
/// Tables created per statement batch (one implicit transaction: the lock table is finite).
const CHUNK: usize = 100;

/// What B changes on top of A: twelve changes of different kinds.
const CHANGES: &[&str] = &[
    "CREATE TYPE status AS ENUM ('new', 'active', 'done')",
    "ALTER TABLE t0100 ADD COLUMN status status NOT NULL DEFAULT 'new'",
    "ALTER TABLE t0200 ADD COLUMN note text",
    "ALTER TABLE t0300 DROP COLUMN qty",
    "ALTER TABLE t0400 ALTER COLUMN code TYPE text",
    "ALTER TABLE t0500 ALTER COLUMN code SET NOT NULL",
    "ALTER TABLE t0600 ADD CONSTRAINT t0600_amount_check CHECK (amount >= 0)",
    "DROP INDEX t0700_code_idx",
    "CREATE INDEX t0800_name_idx ON t0800 (name)",
    "CREATE UNIQUE INDEX t0900_code_key ON t0900 (code)",
    "CREATE TABLE extra (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
     t1000_id bigint NOT NULL REFERENCES t1000 (id), payload jsonb)",
    "CREATE VIEW recent AS SELECT a.id, a.name, b.id AS next_id FROM t1100 a \
     JOIN t1101 b ON b.prev_id = a.id WHERE a.created_at > now() - interval '1 day'",
];

fn main() -> ExitCode {
    // The measuring wrapper around a whole process.
    if std::env::args().nth(1).as_deref() == Some("__spawn") {
        let argv: Vec<String> = std::env::args().skip(2).collect();
        return match spawn_and_measure(&argv) {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    // The in-process breakdown, in a child process of its own.
    if std::env::args().nth(1).as_deref() == Some("__measure") {
        let mode = std::env::args().nth(2).unwrap_or_default();
        return match measure(&mode) {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let dir = std::env::var_os("NEON_MIGRATE_SCHEMA_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let started = match cluster::ensure(Some(&dir)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: cannot start the bench cluster in {}: {}",
                dir.display(),
                e
            );
            return ExitCode::FAILURE;
        }
    };
    let result = run(&started);
    if let Err(e) = &result {
        eprintln!("error: {e:#}");
    }
    let stopped = cluster::stop(&started);
    match &stopped {
        Ok(()) => println!(
            "cleanup: stopped the bench cluster in {}",
            started.dir.display()
        ),
        Err(e) => eprintln!("error: cannot stop the bench cluster: {}", e),
    }
    if result.is_ok() && stopped.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")
}

fn run(c: &Cluster) -> Result<()> {
    let tables = tables();
    let pairs = pairs()?;
    let (db_a, db_b) = databases(tables);
    println!(
        "schema_diff: PostgreSQL {} at 127.0.0.1:{} ({}), {tables} tables, {pairs} interleaved pairs",
        c.major,
        c.port,
        c.dir.display()
    );
    println!("load average at start: {}", loadavg());
    runtime()?.block_on(prepare(c, tables))?;
    let migra_bin = install_migra()?;
    let work = tempfile::tempdir().context("temp dir for the diff runs")?;

    // In-process breakdown: one catalog read alone, and the engine (both read in parallel +
    // plan), each in a fresh child process after a warm-up; reports the plan too.
    let catalog: Vec<Value> = (0..=3)
        .map(|_| child(c, tables, "catalog"))
        .collect::<Result<_>>()?;
    let engine: Vec<Value> = (0..=3)
        .map(|_| child(c, tables, "engine"))
        .collect::<Result<_>>()?;
    let last = engine.last().cloned().unwrap_or(Value::Null);
    println!("\nplan A → B ({} statements):", last["statements"]);
    for s in last["first_lines"].as_array().into_iter().flatten() {
        println!("  {}", s.as_str().unwrap_or(""));
    }
    let ms_of = |v: &[Value], k: &str| -> Vec<f64> {
        v.iter()
            .skip(1)
            .map(|x| x[k].as_f64().unwrap_or(f64::NAN))
            .collect()
    };
    let catalog_ms = median(&ms_of(&catalog, "wall_ms"));
    let engine_ms = median(&ms_of(&engine, "wall_ms"));
    let catalog_ratio = engine_ms / catalog_ms;
    println!(
        "\nin process (3 runs after a warm-up, medians): one catalog read (connect + introspect A) {catalog_ms:.0} ms; \
         engine (connect + introspect A and B in parallel + plan) {engine_ms:.0} ms \
         (introspect {:.0} ms, plan {:.0} ms)",
        median(&ms_of(&engine, "introspect_ms")),
        median(&ms_of(&engine, "plan_ms")),
    );
    println!(
        "  engine / one catalog read = {catalog_ratio:.2}×   target ≤ {TARGET_CATALOG_RATIO:.1}×: {}",
        verdict(catalog_ratio <= TARGET_CATALOG_RATIO)
    );

    // Whole processes, interleaved: `neon-migrate diff` and `migra --unsafe`, each spawned
    // by the same measuring wrapper (wall time from spawn to exit, peak RSS of the process).
    let ours = vec![
        env!("CARGO_BIN_EXE_neon-migrate").to_owned(),
        "diff".into(),
        "--from".into(),
        c.url(&db_a),
        "--to".into(),
        c.url(&db_b),
    ];
    let migra_url = |db: &str| format!("postgresql+psycopg2://postgres@127.0.0.1:{}/{db}", c.port);
    let theirs = vec![
        migra_bin.display().to_string(),
        "--unsafe".into(),
        migra_url(&db_a),
        migra_url(&db_b),
    ];
    let mut ours_s = Vec::new();
    let mut theirs_s = Vec::new();
    let mut ours_mb: f64 = 0.0;
    let mut theirs_mb: f64 = 0.0;
    let mut ratios = Vec::new();
    println!("\nwhole processes, interleaved (pair 0 is a warm-up and not counted):");
    for pair in 0..=pairs {
        // Alternate which goes first, so drift and caches favour neither.
        let first_ours = pair % 2 == 0;
        let run_one = |ours_turn: bool| -> Result<Timed> {
            if ours_turn {
                timed(&ours, work.path(), &[("PGPASSWORD", c.password())], &[0])
            } else {
                // migra exits 2 when it found differences (expected here), 0 when none.
                timed(&theirs, work.path(), &[("PGPASSWORD", c.password())], &[2])
            }
        };
        let (a, b) = if first_ours {
            let a = run_one(true)?;
            (a, run_one(false)?)
        } else {
            let b = run_one(false)?;
            (run_one(true)?, b)
        };
        if a.statements == 0 || b.statements == 0 {
            bail!(
                "pair {pair}: a side printed no statements (neon-migrate {}, migra {})",
                a.statements,
                b.statements
            );
        }
        let ratio = b.secs / a.secs;
        println!(
            "  pair {pair:>2}: neon-migrate {:.3} s ({} lines ending in `;`, {:.1} MB)   migra {:.3} s ({} lines ending in `;`, {:.1} MB)   ratio {ratio:.1}×",
            a.secs, a.statements, a.peak_mb, b.secs, b.statements, b.peak_mb
        );
        if pair > 0 {
            ours_s.push(a.secs);
            theirs_s.push(b.secs);
            ours_mb = ours_mb.max(a.peak_mb);
            theirs_mb = theirs_mb.max(b.peak_mb);
            ratios.push(ratio);
        }
    }
    let wall = median(&ours_s);
    let (q1, q3) = quartiles(&ratios);
    let ratio = median(&ratios);
    println!(
        "\nneon-migrate diff (whole process): median {wall:.3} s [{:.3}–{:.3}] over {} runs   target ≤ {TARGET_WALL_S:.1} s: {}",
        min(&ours_s),
        max(&ours_s),
        ours_s.len(),
        sized(tables, wall <= TARGET_WALL_S)
    );
    println!(
        "  memory peak {ours_mb:.1} MB (max RSS of the process, highest of the runs)   target ≤ {TARGET_PEAK_MB:.0} MB: {}",
        sized(tables, ours_mb <= TARGET_PEAK_MB)
    );
    println!(
        "migra --unsafe (whole process, migra 3.0.1663481299 from PyPI): median {:.3} s [{:.3}–{:.3}] over {} runs, peak {theirs_mb:.1} MB",
        median(&theirs_s),
        min(&theirs_s),
        max(&theirs_s),
        theirs_s.len()
    );
    println!(
        "ratio migra / neon-migrate per pair: median {ratio:.1}× (IQR {q1:.1}–{q3:.1}×, min {:.1}×) over {} pairs   target ≥ {TARGET_RATIO:.0}×: {}",
        min(&ratios),
        ratios.len(),
        verdict(ratio >= TARGET_RATIO)
    );
    println!("load average at end: {}", loadavg());
    Ok(())
}

/// One whole-process run, as the measuring wrapper reported it.
struct Timed {
    secs: f64,
    peak_mb: f64,
    statements: usize,
}

/// Runs `argv` under the measuring wrapper (this binary, `__spawn`): wall time from spawn to
/// exit and the child's peak RSS (`getrusage(RUSAGE_CHILDREN)` of the wrapper, which has no
/// other child). The wrapper's own start-up is outside the measured interval.
fn timed(argv: &[String], cwd: &Path, env: &[(&str, &str)], ok_codes: &[i32]) -> Result<Timed> {
    let exe = std::env::current_exe().context("find the bench binary")?;
    let mut cmd = Command::new(exe);
    cmd.arg("__spawn").args(argv).current_dir(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().context("run the measuring wrapper")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("");
    let v: Value = serde_json::from_str(last).with_context(|| {
        format!(
            "the wrapper reported nothing readable for {}: {}",
            argv[0],
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let code = v["code"].as_i64().unwrap_or(-1) as i32;
    if !ok_codes.contains(&code) {
        bail!(
            "{} exited with {code} (expected {ok_codes:?}): {}",
            argv[0],
            v["stderr"].as_str().unwrap_or("")
        );
    }
    Ok(Timed {
        secs: v["wall_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        peak_mb: v["peak_kb"].as_f64().unwrap_or(f64::NAN) / 1024.0,
        statements: v["statements"].as_u64().unwrap_or(0) as usize,
    })
}

/// The wrapper: spawn, wait, report wall time, exit code, peak RSS and the number of SQL
/// statements (lines ending in `;`) the child printed.
fn spawn_and_measure(argv: &[String]) -> Result<Value> {
    let t = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .with_context(|| format!("spawn {}", argv[0]))?;
    let wall = t.elapsed();
    // SAFETY: getrusage writes into the zeroed struct we own; RUSAGE_CHILDREN covers the one
    // child this process waited for.
    let peak_kb = unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut r) != 0 {
            bail!("getrusage failed");
        }
        r.ru_maxrss
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(json!({
        "wall_ms": wall.as_secs_f64() * 1000.0,
        "code": out.status.code().unwrap_or(-1),
        "peak_kb": peak_kb,
        "statements": stdout.lines().filter(|l| l.trim_end().ends_with(';')).count(),
        "stderr": stderr.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"),
    }))
}

fn quartiles(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let q = |f: f64| s[((s.len() - 1) as f64 * f).round() as usize];
    (q(0.25), q(0.75))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn tables() -> usize {
    std::env::var("NEON_MIGRATE_SCHEMA_BENCH_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1200)
        .unwrap_or(TABLES)
}

fn pairs() -> Result<usize> {
    match std::env::var("NEON_MIGRATE_SCHEMA_BENCH_PAIRS") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 3)
            .with_context(|| {
                format!("NEON_MIGRATE_SCHEMA_BENCH_PAIRS must be an integer ≥ 3, got `{v}`")
            }),
        Err(_) => Ok(PAIRS),
    }
}

/// The pair's database names: one pair per table count, so both sizes stay built.
fn databases(tables: usize) -> (String, String) {
    if tables == TABLES {
        (DB_A.to_owned(), DB_B.to_owned())
    } else {
        (format!("{DB_A}_{tables}"), format!("{DB_B}_{tables}"))
    }
}

/// The wall and memory targets are set for [`TABLES`] tables; other sizes are shown only.
fn sized(tables: usize, met: bool) -> &'static str {
    if tables == TABLES {
        verdict(met)
    } else {
        "set for 2,000 tables, not judged at this size"
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::NAN, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::NAN, f64::max)
}

async fn connect(c: &Cluster, db: &str) -> Result<Client> {
    pg::connect(&Secret::new(c.url(db)))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e))
}

/// Builds A and B unless the cluster already holds this generator's version of them.
async fn prepare(c: &Cluster, tables: usize) -> Result<()> {
    let (db_a, db_b) = databases(tables);
    let (db_a, db_b) = (db_a.as_str(), db_b.as_str());
    let admin = connect(c, "postgres").await?;
    let fresh = std::env::var("NEON_MIGRATE_SCHEMA_BENCH_FRESH").is_ok_and(|v| v == "1");
    let marked = admin
        .query(
            "SELECT count(*) FROM pg_database d WHERE d.datname = ANY($1) \
             AND shobj_description(d.oid, 'pg_database') = $2",
            &[&vec![db_a, db_b], &GENERATOR],
        )
        .await?[0]
        .get::<_, i64>(0);
    if marked == 2 && !fresh {
        println!("schema_diff: reusing {db_a} and {db_b} (NEON_MIGRATE_SCHEMA_BENCH_FRESH=1 rebuilds them)");
        return Ok(());
    }
    for db in [db_b, db_a] {
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                ident(db)
            ))
            .await?;
    }
    let t = Instant::now();
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            ident(db_a)
        ))
        .await?;
    {
        let a = connect(c, db_a).await?;
        for chunk in (0..tables).collect::<Vec<_>>().chunks(CHUNK) {
            let sql: String = chunk.iter().map(|&i| table_sql(i)).collect();
            a.batch_execute(&sql)
                .await
                .with_context(|| format!("create tables {}…", chunk[0]))?;
        }
    }
    let strategy = if c.major >= 15 {
        " STRATEGY FILE_COPY"
    } else {
        ""
    };
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy}",
            ident(db_b),
            ident(db_a)
        ))
        .await?;
    {
        let b = connect(c, db_b).await?;
        for change in CHANGES {
            b.batch_execute(change)
                .await
                .with_context(|| format!("apply to B: {change}"))?;
        }
    }
    for db in [db_a, db_b] {
        admin
            .batch_execute(&format!(
                "COMMENT ON DATABASE {} IS {}",
                ident(db),
                literal(GENERATOR)
            ))
            .await?;
    }
    println!(
        "schema_diff: built {db_a} ({tables} tables) and {db_b} (+{} changes) in {:.1} s",
        CHANGES.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn table_sql(i: usize) -> String {
    let t = format!("t{i:04}");
    let fk = if i == 0 {
        String::new()
    } else {
        format!(" REFERENCES t{:04} (id)", i - 1)
    };
    format!(
        "CREATE TABLE {t} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  prev_id bigint{fk},
  name text NOT NULL DEFAULT '',
  code varchar(32),
  amount numeric(12, 2) DEFAULT 0,
  qty integer,
  active boolean NOT NULL DEFAULT true,
  data jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz
);
CREATE INDEX {t}_code_idx ON {t} (code);
CREATE INDEX {t}_prev_created_idx ON {t} (prev_id, created_at);
"
    )
}

/// Runs the in-process breakdown (`catalog` or `engine`) in a child process of its own.
fn child(c: &Cluster, tables: usize, mode: &str) -> Result<Value> {
    let (db_a, db_b) = databases(tables);
    let exe = std::env::current_exe().context("find the bench binary")?;
    let out = Command::new(exe)
        .arg("__measure")
        .arg(mode)
        .env("NM_SCHEMA_BENCH_URL_A", c.url(&db_a))
        .env("NM_SCHEMA_BENCH_URL_B", c.url(&db_b))
        .env("NM_SCHEMA_BENCH_TABLES", tables.to_string())
        .output()
        .context("run the measuring child")?;
    if !out.status.success() {
        bail!(
            "the measuring child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("read the child's report")
}

/// The child: `catalog` connects to A and reads its catalog; `engine` connects to both, reads
/// both in parallel and plans. Reports times.
fn measure(mode: &str) -> Result<Value> {
    let url = |k: &str| -> Result<Secret<String>> {
        Ok(Secret::new(
            std::env::var(k).with_context(|| format!("{k} is not set"))?,
        ))
    };
    let tables: usize = std::env::var("NM_SCHEMA_BENCH_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .context("NM_SCHEMA_BENCH_TABLES")?;
    let (ua, ub) = (url("NM_SCHEMA_BENCH_URL_A")?, url("NM_SCHEMA_BENCH_URL_B")?);
    let rt = runtime()?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ex = schema::default_excluded();
    let t0 = Instant::now();
    if mode == "catalog" {
        let a = rt.block_on(async {
            let ca = pg::connect(&ua).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            schema::introspect(&ca, &ex)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
        })?;
        if a.tables.len() != tables {
            bail!("introspected {} tables, expected {tables}", a.tables.len());
        }
        return Ok(json!({ "wall_ms": ms(t0.elapsed()) }));
    }
    let (a, b, connected, introspected) = rt.block_on(async {
        let (ca, cb) = tokio::try_join!(pg::connect(&ua), pg::connect(&ub))
            .map_err(|e| anyhow::anyhow!("{}", e))?;
        let connected = t0.elapsed();
        // Each database's rows are turned into its model on a worker of its own, as `diff`
        // does.
        let (exa, exb) = (ex.clone(), ex.clone());
        let ta = tokio::spawn(async move { schema::introspect(&ca, &exa).await });
        let tb = tokio::spawn(async move { schema::introspect(&cb, &exb).await });
        let (a, b) = tokio::try_join!(ta, tb).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (a, b) = (
            a.map_err(|e| anyhow::anyhow!("{e}"))?,
            b.map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        Ok::<_, anyhow::Error>((a, b, connected, t0.elapsed() - connected))
    })?;
    let t1 = Instant::now();
    let plan = schema::plan(&a, &b, &PlanOptions::default());
    let planned = t1.elapsed();
    let wall = t0.elapsed();
    if !plan.unsupported.is_empty() {
        bail!(
            "the plan reports unsupported changes: {:?}",
            plan.unsupported
        );
    }
    if a.tables.len() != tables || b.tables.len() != tables + 1 {
        bail!(
            "introspected {} and {} tables, expected {tables} and {}",
            a.tables.len(),
            b.tables.len(),
            tables + 1
        );
    }
    Ok(json!({
        "wall_ms": ms(wall),
        "connect_ms": ms(connected),
        "introspect_ms": ms(introspected),
        "plan_ms": ms(planned),
        "peak_kb": peak_kb()?,
        "statements": plan.statements.len(),
        "first_lines": plan
            .statements
            .iter()
            .map(|s| s.sql.lines().next().unwrap_or("").to_owned())
            .collect::<Vec<_>>(),
    }))
}

/// `VmHWM` (peak resident set size) of this process, in kB.
fn peak_kb() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("read /proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}

/// Installs migra through `benches/migra.sh` (a virtualenv from PyPI, reused); returns the
/// path of its executable.
fn install_migra() -> Result<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/migra.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--install")
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("run {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed", script.display());
    }
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !bin.is_file() {
        bail!(
            "{} named no migra executable ({})",
            script.display(),
            bin.display()
        );
    }
    Ok(bin)
}

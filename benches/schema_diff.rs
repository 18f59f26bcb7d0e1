//! Benchmark: the schema engine on a wide schema — introspect both sides, diff, plan — against
//! migra on the same pair of databases, in the same run.
//!
//! Run with `cargo bench --bench schema_diff`. Not a timed test: it prints the numbers and how
//! they compare with the targets, and fails only on errors.
//!
//! * A: 2,000 tables of 10 columns each (identity primary key, a foreign key to the previous
//!   table, text, varchar, numeric, int, bool, jsonb, 2 timestamptz) with 2 secondary indexes.
//!   B: a copy of A (`CREATE DATABASE … TEMPLATE`) plus 12 varied changes (see [`CHANGES`]).
//! * The measured part — connect to both, introspect both in parallel, plan A → B — runs in a
//!   child process (this binary again), once to warm up and then [`RUNS`] times; each child
//!   reports its wall time and its peak memory (`VmHWM` from `/proc/self/status`), so the peak
//!   is that of the engine alone, not of the generator.
//! * migra: `benches/migra.sh` installs it from PyPI into a virtualenv (pins in
//!   `benches/migra-requirements.txt`) and times `migra --unsafe A B` on the same databases.
//!
//! Targets (issue 5): ≤ 1.0 s wall and ≤ 60 MB peak, and at least 10× faster than migra.
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
/// Measured runs of the engine (after one warm-up run) and of migra.
const RUNS: usize = 9;
const MIGRA_RUNS: usize = 3;
const TARGET_WALL_S: f64 = 1.0;
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
    // The measured part, in a child process of its own.
    if std::env::args().nth(1).as_deref() == Some("__measure") {
        return match measure() {
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
    println!(
        "schema_diff: PostgreSQL {} at 127.0.0.1:{} ({})",
        c.major,
        c.port,
        c.dir.display()
    );
    runtime()?.block_on(prepare(c))?;

    // The engine: one warm-up run, then the measured ones.
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    let mut last = Value::Null;
    for i in 0..=RUNS {
        let v = child(c)?;
        if i > 0 {
            walls.push(v["wall_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0);
            peaks.push(v["peak_kb"].as_f64().unwrap_or(f64::NAN) / 1024.0);
        }
        last = v;
    }
    println!("\nplan A → B ({} statements):", last["statements"]);
    for s in last["first_lines"].as_array().into_iter().flatten() {
        println!("  {}", s.as_str().unwrap_or(""));
    }
    let wall = median(&walls);
    let peak = peaks.iter().cloned().fold(f64::NAN, f64::max);
    println!(
        "\nneon-migrate schema engine: connect + introspect A and B (in parallel) + diff + plan, {TABLES} tables"
    );
    println!(
        "  wall   median {:.3} s [{:.3}–{:.3}] over {} runs (introspect {:.0} ms, plan {:.0} ms in the last)   target ≤ {TARGET_WALL_S:.1} s: {}",
        wall,
        min(&walls),
        max(&walls),
        walls.len(),
        last["introspect_ms"].as_f64().unwrap_or(f64::NAN),
        last["plan_ms"].as_f64().unwrap_or(f64::NAN),
        verdict(wall <= TARGET_WALL_S)
    );
    println!(
        "  memory peak {peak:.1} MB (VmHWM of the measuring process, highest of the runs)   target ≤ {TARGET_PEAK_MB:.0} MB: {}",
        verdict(peak <= TARGET_PEAK_MB)
    );

    // migra on the same pair.
    let migra = migra(c)?;
    let m = median(&migra);
    let ratio = m / wall;
    println!("\nmigra --unsafe A B (migra 3.0.1663481299 in a virtualenv from PyPI)");
    println!(
        "  wall   median {m:.3} s [{:.3}–{:.3}] over {} runs",
        min(&migra),
        max(&migra),
        migra.len()
    );
    println!(
        "\nratio: migra / neon-migrate = {ratio:.1}×   target ≥ {TARGET_RATIO:.0}×: {}",
        verdict(ratio >= TARGET_RATIO)
    );
    Ok(())
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
async fn prepare(c: &Cluster) -> Result<()> {
    let admin = connect(c, "postgres").await?;
    let fresh = std::env::var("NEON_MIGRATE_SCHEMA_BENCH_FRESH").is_ok_and(|v| v == "1");
    let marked = admin
        .query(
            "SELECT count(*) FROM pg_database d WHERE d.datname = ANY($1) \
             AND shobj_description(d.oid, 'pg_database') = $2",
            &[&vec![DB_A, DB_B], &GENERATOR],
        )
        .await?[0]
        .get::<_, i64>(0);
    if marked == 2 && !fresh {
        println!("schema_diff: reusing {DB_A} and {DB_B} (NEON_MIGRATE_SCHEMA_BENCH_FRESH=1 rebuilds them)");
        return Ok(());
    }
    for db in [DB_B, DB_A] {
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
            ident(DB_A)
        ))
        .await?;
    {
        let a = connect(c, DB_A).await?;
        for chunk in (0..TABLES).collect::<Vec<_>>().chunks(CHUNK) {
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
            ident(DB_B),
            ident(DB_A)
        ))
        .await?;
    {
        let b = connect(c, DB_B).await?;
        for change in CHANGES {
            b.batch_execute(change)
                .await
                .with_context(|| format!("apply to B: {change}"))?;
        }
    }
    for db in [DB_A, DB_B] {
        admin
            .batch_execute(&format!(
                "COMMENT ON DATABASE {} IS {}",
                ident(db),
                literal(GENERATOR)
            ))
            .await?;
    }
    println!(
        "schema_diff: built {DB_A} ({TABLES} tables) and {DB_B} (+{} changes) in {:.1} s",
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

/// Runs the measured part in a child process; returns what it reported.
fn child(c: &Cluster) -> Result<Value> {
    let exe = std::env::current_exe().context("find the bench binary")?;
    let out = Command::new(exe)
        .arg("__measure")
        .env("NM_SCHEMA_BENCH_URL_A", c.url(DB_A))
        .env("NM_SCHEMA_BENCH_URL_B", c.url(DB_B))
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

/// The child: connect, introspect both sides in parallel, plan. Reports times and peak memory.
fn measure() -> Result<Value> {
    let url = |k: &str| -> Result<Secret<String>> {
        Ok(Secret::new(
            std::env::var(k).with_context(|| format!("{k} is not set"))?,
        ))
    };
    let (ua, ub) = (url("NM_SCHEMA_BENCH_URL_A")?, url("NM_SCHEMA_BENCH_URL_B")?);
    let rt = runtime()?;
    let t0 = Instant::now();
    let (a, b, connected, introspected) = rt.block_on(async {
        let (ca, cb) = tokio::try_join!(pg::connect(&ua), pg::connect(&ub))
            .map_err(|e| anyhow::anyhow!("{}", e))?;
        let connected = t0.elapsed();
        let ex = schema::default_excluded();
        let (a, b) = tokio::try_join!(schema::introspect(&ca, &ex), schema::introspect(&cb, &ex))
            .map_err(|e| anyhow::anyhow!("{}", e))?;
        Ok::<_, anyhow::Error>((a, b, connected, t0.elapsed() - connected))
    })?;
    let t1 = Instant::now();
    let plan = schema::plan(&a, &b, &PlanOptions::default());
    let planned = t1.elapsed();
    let wall = t0.elapsed();
    let peak = peak_kb()?;
    if !plan.unsupported.is_empty() {
        bail!(
            "the plan reports unsupported changes: {:?}",
            plan.unsupported
        );
    }
    if a.tables.len() != TABLES || b.tables.len() != TABLES + 1 {
        bail!(
            "introspected {} and {} tables, expected {TABLES} and {}",
            a.tables.len(),
            b.tables.len(),
            TABLES + 1
        );
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(json!({
        "wall_ms": ms(wall),
        "connect_ms": ms(connected),
        "introspect_ms": ms(introspected),
        "plan_ms": ms(planned),
        "peak_kb": peak,
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

/// Times migra on the same pair through `benches/migra.sh`; returns the seconds of each run.
fn migra(c: &Cluster) -> Result<Vec<f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/migra.sh");
    let url = |db: &str| format!("postgresql+psycopg2://postgres@127.0.0.1:{}/{db}", c.port);
    let out = Command::new("bash")
        .arg(&script)
        .arg(MIGRA_RUNS.to_string())
        .env("MIGRA_FROM", url(DB_A))
        .env("MIGRA_TO", url(DB_B))
        .env("PGPASSWORD", c.password())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("run {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed", script.display());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut secs = Vec::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() == Some("run") {
            let s: f64 = w
                .next()
                .and_then(|s| s.parse().ok())
                .context("migra time")?;
            let n: usize = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            if n == 0 {
                bail!("migra printed no statements for A → B");
            }
            secs.push(s);
        }
    }
    if secs.is_empty() {
        bail!("{} reported no runs:\n{text}", script.display());
    }
    Ok(secs)
}

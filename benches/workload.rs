//! Benchmark: the `workload` check's load generator (issue 18).
//!
//! Run with `cargo bench --bench workload`. A plain timing harness (no criterion), not a timed
//! test: it reports, it never fails because a target was missed.
//!
//! 1. **Throughput**: one point read (`SELECT id, n FROM accounts WHERE id = $1`, 100,000
//!    rows) scheduled at 2,500 requests/s for 10 s; the answers per second it sustained, how
//!    late it issued requests while a connection was free (its own lag), errors. Target:
//!    ≥ 2,000 queries/s on 2 cores.
//! 2. **Agreement with `pgbench --rate`** (the reference): the same query, rate, connections
//!    and duration with `pgbench -M prepared -R … -l` (per-transaction log; with `--rate`
//!    pgbench measures latency from the scheduled start, as our generator does); p50, p95,
//!    p99 of both and the difference in %. Target: within 10 %.
//! 3. **Overhead on the migration**: `ALTER TABLE accounts ALTER COLUMN n TYPE bigint` on a
//!    fresh copy (100,000 rows), alone and while the rehearsal replays 100 point reads/s
//!    (the default rate), alternating; medians, and the stage's fixed cost (baseline window
//!    plus setup and tail).
//!
//! The embedded cluster lives in a bench-only folder (`/var/tmp/neon-migrate-bench-workload`,
//! or `$NEON_MIGRATE_BENCH_DIR`); the bench drops the databases it created and stops that
//! cluster at the end. `pgbench` is looked up next to the cluster's `initdb`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use neon_migrate::checks::workload::generator::{Pool, Running};
use neon_migrate::checks::workload::sources::{Origin, Params, Query};
use neon_migrate::checks::workload::{Rehearsal, Target, WorkloadConfig};
use neon_migrate::pg::{self, ident};
use neon_migrate::providers::local::cluster::{self, Cluster};
use neon_migrate::secret::Secret;

const MAIN_DB: &str = "nmwl_main";
const PREFIX: &str = "nmwl_";
const DEFAULT_DIR: &str = "/var/tmp/neon-migrate-bench-workload";
const ROWS: i64 = 100_000;
const QUERY: &str = "SELECT id, n FROM accounts WHERE id = $1";
const THROUGHPUT_RATE: f64 = 2_500.0;
const COMPARE_RATE: f64 = 500.0;
const CONNECTIONS: usize = 8;
const SECONDS: u64 = 10;
const OVERHEAD_ROUNDS: usize = 5;

fn main() -> ExitCode {
    let dir = std::env::var_os("NEON_MIGRATE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let c = match cluster::ensure(Some(&dir)) {
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
    let result = rt.block_on(run(&c));
    let _ = rt.block_on(drop_all(&c));
    let _ = cluster::stop(&c);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn sql(c: &Cluster, db: &str, text: &str) -> Result<()> {
    let client = pg::connect(&Secret::new(c.url(db)))
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    client
        .batch_execute(text)
        .await
        .map_err(|e| anyhow::anyhow!(pg::describe(&e)))?;
    Ok(())
}

async fn drop_all(c: &Cluster) -> Result<()> {
    let client = pg::connect(&Secret::new(c.url("postgres")))
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let rows = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            &[&format!("{PREFIX}%")],
        )
        .await?;
    for r in rows {
        let name: String = r.get(0);
        let _ = client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                ident(&name)
            ))
            .await;
    }
    Ok(())
}

async fn run(c: &Cluster) -> Result<()> {
    drop_all(c).await?;
    sql(c, "postgres", &format!("CREATE DATABASE {MAIN_DB}")).await?;
    sql(
        c,
        MAIN_DB,
        &format!(
            "CREATE TABLE accounts (id int PRIMARY KEY, n int NOT NULL, note text);
             INSERT INTO accounts SELECT g, g % 1000, 'note ' || g FROM generate_series(1, {ROWS}) g;"
        ),
    )
    .await?;
    sql(c, MAIN_DB, "VACUUM ANALYZE accounts").await?;
    let url = Secret::new(c.url(MAIN_DB));

    println!("\n## 1. throughput: one point read scheduled at {THROUGHPUT_RATE}/s for {SECONDS} s, {CONNECTIONS} connections");
    let t = generate(&url, THROUGHPUT_RATE, CONNECTIONS).await?;
    println!(
        "sustained {:.0} answers/s ({} requests, {} errors); issued at most {:.2} ms late (p99) while a connection was free; latency p50 {:.2} ms, p99 {:.2} ms",
        t.answered_per_s, t.requests, t.errors, t.lag_p99_ms, t.p50, t.p99
    );
    println!(
        "target ≥ 2000 queries/s: {}",
        if t.answered_per_s >= 2000.0 {
            "met"
        } else {
            "MISSED"
        }
    );

    println!("\n## 2. agreement with pgbench --rate ({COMPARE_RATE}/s, {CONNECTIONS} connections, {SECONDS} s, prepared)");
    let ours = generate(&url, COMPARE_RATE, CONNECTIONS).await?;
    let theirs = pgbench(c, COMPARE_RATE, CONNECTIONS)?;
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10}",
        "", "p50 ms", "p95 ms", "p99 ms", "requests"
    );
    println!(
        "{:<10} {:>10.3} {:>10.3} {:>10.3} {:>10}",
        "pgbench", theirs.p50, theirs.p95, theirs.p99, theirs.requests
    );
    println!(
        "{:<10} {:>10.3} {:>10.3} {:>10.3} {:>10}",
        "neon-migrate", ours.p50, ours.p95, ours.p99, ours.requests
    );
    let pct = |a: f64, b: f64| if b > 0.0 { (a - b) / b * 100.0 } else { 0.0 };
    println!(
        "difference vs pgbench: p50 {:+.1} %, p95 {:+.1} %, p99 {:+.1} %",
        pct(ours.p50, theirs.p50),
        pct(ours.p95, theirs.p95),
        pct(ours.p99, theirs.p99)
    );

    println!("\n## 3. overhead on the migration: ALTER COLUMN n TYPE bigint on {ROWS} rows, {OVERHEAD_ROUNDS} rounds");
    overhead(c).await?;
    Ok(())
}

struct Measured {
    answered_per_s: f64,
    requests: u64,
    errors: u64,
    lag_p99_ms: f64,
    p50: f64,
    p95: f64,
    p99: f64,
}

fn pct_of(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// The generator alone on `QUERY` at `rate` for `SECONDS`.
async fn generate(url: &Secret<String>, rate: f64, conns: usize) -> Result<Measured> {
    let client = pg::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let ids: Vec<Vec<Option<String>>> = client
        .query(
            "SELECT id::text FROM accounts ORDER BY random() LIMIT 10000",
            &[],
        )
        .await?
        .iter()
        .map(|r| vec![Some(r.get::<_, String>(0))])
        .collect();
    drop(client);
    let q = Query {
        name: "point read".into(),
        sql: QUERY.into(),
        write: false,
        rate,
        params: Params::Rows(Arc::new(ids)),
        origin: Origin::Declared,
    };
    let pool = Pool::connect(url, conns, std::slice::from_ref(&q))
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    // Warm-up second, not measured.
    let t0 = Instant::now();
    let running = Running::start(pool, vec![q], t0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    running.mark_migration_start();
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let end = Instant::now();
    let rec = running
        .finish(end)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let measured: Vec<_> = rec
        .samples
        .iter()
        .filter(|s| s.due_us >= rec.migration_start_us && s.due_us < rec.stopped_us)
        .collect();
    let errors = measured.iter().filter(|s| s.error.is_some()).count() as u64;
    let mut lat: Vec<f64> = measured
        .iter()
        .filter(|s| s.error.is_none())
        .map(|s| s.latency_us as f64 / 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let mut lag: Vec<u64> = rec.issue_lag_us.clone();
    lag.sort_unstable();
    let window = (rec.stopped_us - rec.migration_start_us) as f64 / 1e6;
    Ok(Measured {
        answered_per_s: lat.len() as f64 / window,
        requests: measured.len() as u64,
        errors,
        lag_p99_ms: pct_of(&lag.iter().map(|v| *v as f64).collect::<Vec<_>>(), 0.99) / 1000.0,
        p50: pct_of(&lat, 0.50),
        p95: pct_of(&lat, 0.95),
        p99: pct_of(&lat, 0.99),
    })
}

/// `pgbench` on the same query; latencies from its per-transaction log.
fn pgbench(c: &Cluster, rate: f64, conns: usize) -> Result<Measured> {
    let bin = c.bin.join("pgbench");
    if !bin.is_file() {
        bail!("pgbench not found at {}", bin.display());
    }
    let work = tempfile::tempdir()?;
    let script = work.path().join("point.sql");
    std::fs::write(
        &script,
        format!("\\set id random(1, {ROWS})\nSELECT id, n FROM accounts WHERE id = :id;\n"),
    )?;
    // One extra second, dropped from the log below, like the generator's warm-up.
    let out = Command::new(&bin)
        .current_dir(work.path())
        .env("PGPASSWORD", c.password())
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &c.port.to_string(),
            "-U",
            cluster::SUPERUSER,
        ])
        .args(["-n", "-M", "prepared", "-c", &conns.to_string(), "-j", "2"])
        .args(["-R", &format!("{rate}"), "-T", &(SECONDS + 1).to_string()])
        .args(["-l", "--log-prefix", "pgb", "-f"])
        .arg(&script)
        .arg(MAIN_DB)
        .output()
        .context("run pgbench")?;
    if !out.status.success() {
        bail!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut rows: Vec<(f64, f64)> = Vec::new();
    for f in std::fs::read_dir(work.path())? {
        let p = f?.path();
        if p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("pgb"))
        {
            rows.extend(parse_log(&p)?);
        }
    }
    let start = rows.iter().map(|r| r.0).fold(f64::MAX, f64::min);
    let mut lat: Vec<f64> = rows
        .iter()
        .filter(|r| r.0 >= start + 1.0)
        .map(|r| r.1)
        .collect();
    lat.sort_by(f64::total_cmp);
    Ok(Measured {
        answered_per_s: lat.len() as f64 / SECONDS as f64,
        requests: lat.len() as u64,
        errors: 0,
        lag_p99_ms: 0.0,
        p50: pct_of(&lat, 0.50),
        p95: pct_of(&lat, 0.95),
        p99: pct_of(&lat, 0.99),
    })
}

/// (epoch seconds, latency ms) per transaction: `client txn time_us script epoch epoch_us [lag]`.
fn parse_log(p: &Path) -> Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(p)?;
    let mut out = Vec::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 6 {
            continue;
        }
        let (Ok(us), Ok(s), Ok(sus)) = (
            f[2].parse::<f64>(),
            f[4].parse::<f64>(),
            f[5].parse::<f64>(),
        ) else {
            continue;
        };
        out.push((s + sus / 1e6, us / 1000.0));
    }
    Ok(out)
}

async fn overhead(c: &Cluster) -> Result<()> {
    let mut alone = Vec::new();
    let mut loaded = Vec::new();
    let mut fixed = Vec::new();
    let cfg = WorkloadConfig {
        enabled: true,
        ..Default::default()
    };
    let cfg = WorkloadConfig {
        queries: vec![neon_migrate::checks::workload::DeclaredQuery {
            name: "point read".into(),
            sql: QUERY.into(),
            params: Some("SELECT id FROM accounts TABLESAMPLE SYSTEM (1) LIMIT 500".into()),
            rate: neon_migrate::checks::workload::DEFAULT_RATE,
        }],
        ..cfg
    };
    for round in 0..OVERHEAD_ROUNDS * 2 {
        let db = format!("{PREFIX}copy_{round}");
        sql(
            c,
            "postgres",
            &format!("CREATE DATABASE {db} TEMPLATE {MAIN_DB}"),
        )
        .await?;
        let url = Secret::new(c.url(&db));
        let with_load = round % 2 == 1;
        let stage = Instant::now();
        let rehearsal = if with_load {
            let target = Target {
                url: &url,
                parent_url: None,
                parent_database: None,
                pending_sql: None,
            };
            Some(
                Rehearsal::start(&cfg, &target)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.to_string()))?,
            )
        } else {
            None
        };
        let client = pg::connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        let t = Instant::now();
        client
            .batch_execute("ALTER TABLE accounts ALTER COLUMN n TYPE bigint")
            .await
            .map_err(|e| anyhow::anyhow!(pg::describe(&e)))?;
        let took = t.elapsed().as_secs_f64() * 1000.0;
        drop(client);
        if let Some(r) = rehearsal {
            let report = r
                .finish()
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            loaded.push(took);
            fixed.push(stage.elapsed().as_secs_f64() * 1000.0 - took);
            let _ = report;
        } else {
            alone.push(took);
        }
        sql(c, "postgres", &format!("DROP DATABASE {db} WITH (FORCE)")).await?;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, l, f) = (median(&mut alone), median(&mut loaded), median(&mut fixed));
    println!("migration alone: median {a:.0} ms; while the rehearsal replays 100 reads/s: median {l:.0} ms ({:+.1} %)", (l - a) / a * 100.0);
    println!(
        "the stage's fixed cost with the rehearsal: median {f:.0} ms (baseline window {} ms, setup, tail {} ms)",
        neon_migrate::checks::workload::DEFAULT_BASELINE.as_millis(),
        neon_migrate::checks::workload::TAIL.as_millis()
    );
    Ok(())
}

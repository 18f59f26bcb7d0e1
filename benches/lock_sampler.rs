//! Benchmark: the overhead of the `locks` check's sampler on a migration of production size.
//!
//! Run with `cargo bench --bench lock_sampler`. A plain timing harness (no criterion), not a
//! timed test: it reports, it never fails because the target was missed.
//!
//! The main Neon database branch is a database with `ledger`, 200,000 rows (the size of the
//! integration tests' locks scenarios). Every run migrates a fresh test Neon database branch
//! copied from it with `LocalProvider::create`, and applies the same migration —
//! `ALTER TABLE ledger ALTER COLUMN n TYPE bigint`, a rewrite under ACCESS EXCLUSIVE — with
//! the product's `sql` tool (`tools::sql::apply_files`). The variants:
//!
//! * `none`: the migration alone;
//! * `20ms`: `checks::locks::Sampler` started before, finished after, at the default
//!   `sample-interval`;
//! * `1ms`: the same at 1 ms (what the integration tests use to catch catalog-only locks);
//!   shown for information.
//!
//! Each round runs every variant once, in an order that rotates every round so drift and
//! ordering effects cancel out; warm-up rounds first. Two times per run: the migration alone
//! (`apply`), and the whole of what the migrate stage adds (`stage`: sampler start, migration,
//! sampler finish). Overheads are the median of per-round ratios against the sampler-free
//! run of the same round, and the ratio of medians. The verdict is on the migration: how much
//! slower it runs while sampled; the stage's figure adds the sampler's fixed start
//! (a connection and a snapshot of the tables' files), shown in ms. Also shown: how much of
//! the migration's time the sampler spent waiting for its own samples (its load), and the
//! run-to-run noise.
//!
//! The embedded cluster lives in a bench-only folder (`/var/tmp/neon-migrate-bench-locks`, or
//! `$NEON_MIGRATE_BENCH_DIR`). The bench drops every database it created and stops that
//! cluster at the end, also after an error. `$NEON_MIGRATE_BENCH_ITERATIONS` overrides the
//! number of measured rounds (default 21, at least 5).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use neon_migrate::checks::locks::{LockReport, Sampler};
use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::pg::{self, ident};
use neon_migrate::providers::local::{cluster, LocalProvider};
use neon_migrate::providers::{CreateRequest, DeleteOutcome, Provider};
use neon_migrate::secret::{Redactor, Secret};
use neon_migrate::tools::sql;

/// Every database the bench creates starts with this prefix (and only those are dropped).
const PREFIX: &str = "nmlocks_";
const MAIN_DB: &str = "nmlocks_main";
const DEFAULT_DIR: &str = "/var/tmp/neon-migrate-bench-locks";
const DEFAULT_ITERATIONS: usize = 21;
const MIN_ITERATIONS: usize = 5;
const WARM_UP: usize = 1;
const ROWS: i64 = 200_000;
/// The target: the sampler adds less than this to the migrate stage.
const TARGET_PERCENT: f64 = 5.0;

const MIGRATION_FILE: &str = "0001_n_bigint.sql";
const MIGRATION: &str = "ALTER TABLE ledger ALTER COLUMN n TYPE bigint;\n";

/// The variants: label and sample interval (`None`: no sampler).
const VARIANTS: [(&str, Option<u64>); 3] = [("none", None), ("20ms", Some(20)), ("1ms", Some(1))];

fn main() -> ExitCode {
    let dir = std::env::var_os("NEON_MIGRATE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let iterations = match std::env::var("NEON_MIGRATE_BENCH_ITERATIONS") {
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n >= MIN_ITERATIONS => n,
            _ => {
                eprintln!(
                    "error: NEON_MIGRATE_BENCH_ITERATIONS must be an integer ≥ {MIN_ITERATIONS}, got `{v}`"
                );
                return ExitCode::FAILURE;
            }
        },
        Err(_) => DEFAULT_ITERATIONS,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let redactor = Redactor::new();
    let mut cluster_handle: Option<cluster::Cluster> = None;
    let result = runtime.block_on(run(&dir, iterations, &redactor, &mut cluster_handle));
    if let Err(e) = &result {
        eprintln!("error: {}", redactor.redact(&format!("{e:#}")));
    }

    // Clean up whatever happened above: drop the bench databases, stop the bench cluster.
    let mut ok = result.is_ok();
    if cluster_handle.is_none() && dir.join("data").join("postmaster.pid").is_file() {
        match cluster::ensure(Some(&dir)) {
            Ok(c) => cluster_handle = Some(c),
            Err(e) => {
                eprintln!(
                    "error: cannot reach the bench cluster in {} to stop it: {}",
                    dir.display(),
                    e
                );
                ok = false;
            }
        }
    }
    if let Some(c) = &cluster_handle {
        match runtime.block_on(drop_bench_databases(c)) {
            Ok(n) => println!("cleanup: dropped {n} bench database(s)"),
            Err(e) => {
                eprintln!("error: cleanup: {}", redactor.redact(&format!("{e:#}")));
                ok = false;
            }
        }
        match cluster::stop(c) {
            Ok(()) => println!("cleanup: stopped the bench cluster in {}", c.dir.display()),
            Err(e) => {
                eprintln!(
                    "error: cannot stop the bench cluster in {}: {}",
                    c.dir.display(),
                    e
                );
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One run of one variant.
struct Run {
    /// The migration alone.
    apply: Duration,
    /// Sampler start + migration + sampler finish (= `apply` without a sampler).
    stage: Duration,
    /// `Sampler::start` and `Sampler::finish` alone (zero without a sampler).
    start: Duration,
    finish: Duration,
    report: Option<LockReport>,
}

#[derive(Default)]
struct Series {
    apply: Vec<Duration>,
    stage: Vec<Duration>,
    start: Vec<Duration>,
    finish: Vec<Duration>,
    samples: Vec<u64>,
    held_ms: Vec<u64>,
    /// Sampler busy time as a share of the migration, in %.
    busy_pct: Vec<f64>,
}

async fn run(
    dir: &Path,
    n: usize,
    redactor: &Redactor,
    cluster_out: &mut Option<cluster::Cluster>,
) -> Result<()> {
    println!(
        "lock_sampler: sampler overhead on `{}` over {ROWS} rows, embedded cluster in {}",
        MIGRATION.trim(),
        dir.display()
    );
    println!(
        "warm-up {WARM_UP}, measured rounds n = {n}; variants interleaved, order rotating every round"
    );
    println!("load average at start: {}", loadavg());

    let cfg = LocalConfig {
        url: None,
        main_database: Some(MAIN_DB.into()),
        data_dir: Some(dir.to_path_buf()),
        busy_parent: BusyParent::Fail,
        tool_role: Default::default(),
    };
    let provider = LocalProvider::open(&cfg, None, redactor)
        .await
        .context("cannot open the local provider")?;
    let c = provider
        .cluster()
        .context("the local provider runs no embedded cluster")?
        .clone();
    *cluster_out = Some(c.clone());
    let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
    let version: String = admin.query_one("SHOW server_version", &[]).await?.get(0);
    println!(
        "embedded PostgreSQL {version} on 127.0.0.1:{}, {} core(s)",
        c.port,
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // Leftover copies of an interrupted run; the main database is rebuilt below.
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2",
            &[&PREFIX, &MAIN_DB],
        )
        .await?;
    for r in rows {
        let name: String = r.get(0);
        admin
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", ident(&name)))
            .await?;
    }
    let started = Instant::now();
    seed(&provider).await?;
    wait_no_sessions(&admin, MAIN_DB).await?;
    let size: i64 = admin
        .query_one("SELECT pg_database_size($1::text)", &[&MAIN_DB])
        .await?
        .get(0);
    admin.batch_execute("CHECKPOINT").await?;
    println!(
        "main database `{MAIN_DB}`: {ROWS} rows, {:.1} MiB, built in {} ms",
        size as f64 / 1048576.0,
        started.elapsed().as_millis()
    );

    let migrations = tempfile::tempdir().context("temp dir")?;
    std::fs::write(migrations.path().join(MIGRATION_FILE), MIGRATION)?;

    let mut series: Vec<Series> = VARIANTS.iter().map(|_| Series::default()).collect();
    for round in 0..WARM_UP + n {
        let measured = round >= WARM_UP;
        let mut line = format!(
            "  {} {:>2}:",
            if measured { "round" } else { "warm-up" },
            round
        );
        for step in 0..VARIANTS.len() {
            let v = (round + step) % VARIANTS.len();
            let (label, interval) = VARIANTS[v];
            let r = one_run(&provider, &admin, migrations.path(), round, label, interval).await?;
            line.push_str(&format!(
                "  {label} {}/{}",
                r.apply.as_millis(),
                r.stage.as_millis()
            ));
            if measured {
                let s = &mut series[v];
                s.apply.push(r.apply);
                s.stage.push(r.stage);
                s.start.push(r.start);
                s.finish.push(r.finish);
                if let Some(rep) = &r.report {
                    s.samples.push(rep.samples);
                    s.busy_pct.push(rep.busy_ms as f64 / ms(r.apply) * 100.0);
                    let held = rep
                        .held_ms
                        .get("public.ledger")
                        .and_then(|m| m.get("AccessExclusiveLock"))
                        .copied()
                        .unwrap_or(0);
                    s.held_ms.push(held);
                }
            }
        }
        println!("{line}   (apply/stage ms)");
    }
    drop(admin);
    println!("load average at end: {}\n", loadavg());
    report(&series, n);
    Ok(())
}

/// The main database: `ledger` with 200,000 rows, and the `sql` tool's tracking table (the
/// migrate stage creates it before applying; `apply_files` expects it).
async fn seed(provider: &LocalProvider) -> Result<()> {
    let client = pg::connect(&provider.url_of(MAIN_DB)).await?;
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS ledger;
             CREATE TABLE ledger (id bigint PRIMARY KEY, n int NOT NULL, label varchar(32) NOT NULL,
                                  amount numeric(10, 2) NOT NULL);
             INSERT INTO ledger SELECT g, g, 'entry ' || g, g % 1000 FROM generate_series(1, {ROWS}) g;
             DROP SCHEMA IF EXISTS neon_migrate CASCADE;
             CREATE SCHEMA neon_migrate;
             CREATE TABLE neon_migrate.schema_migrations (
                 version     text PRIMARY KEY,
                 file        text NOT NULL,
                 checksum    text NOT NULL,
                 applied_at  timestamptz NOT NULL DEFAULT now(),
                 duration_ms bigint NOT NULL
             )"
        ))
        .await
        .context("cannot seed the main database")?;
    // Frozen and analyzed: autovacuum has no reason to work on the copies while they are
    // measured. (VACUUM runs outside the implicit transaction of a multi-statement batch.)
    client
        .batch_execute("VACUUM (FREEZE, ANALYZE) ledger")
        .await
        .context("VACUUM")?;
    Ok(())
}

/// Copies the main database, migrates the copy (with the sampler when `interval` is set),
/// deletes it.
async fn one_run(
    provider: &LocalProvider,
    admin: &tokio_postgres::Client,
    migrations: &Path,
    round: usize,
    label: &str,
    interval: Option<u64>,
) -> Result<Run> {
    let req = CreateRequest {
        name: format!("{PREFIX}{round}_{label}"),
        ttl: Duration::from_secs(3600),
        git_branch: "bench".into(),
        git_sha: "0000000".into(),
        pipeline: "lock_sampler bench".into(),
        run_id: neon_migrate::providers::new_run_id(),
    };
    let copy = provider
        .create(&req)
        .await
        .context("LocalProvider::create")?;
    let files = [MIGRATION_FILE.to_owned()];

    let stage_start = Instant::now();
    let sampler = match interval {
        Some(ms) => Some(
            Sampler::start(&copy.url, Duration::from_millis(ms))
                .await
                .map_err(anyhow::Error::msg)
                .context("Sampler::start")?,
        ),
        None => None,
    };
    let apply_start = Instant::now();
    let applied = sql::apply_files(migrations, &copy.url, &files)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))
        .context("apply_files")?;
    let apply = apply_start.elapsed();
    let start = apply_start - stage_start;
    let finish_start = Instant::now();
    let report = match sampler {
        Some(s) => Some(
            s.finish()
                .await
                .map_err(anyhow::Error::msg)
                .context("Sampler::finish")?,
        ),
        None => None,
    };
    let finish = finish_start.elapsed();
    let stage = stage_start.elapsed();
    if applied != files {
        bail!("applied {applied:?}, expected {files:?}");
    }
    if let Some(r) = &report {
        if !r.rewrites.contains("public.ledger") {
            bail!("the sampler did not see the rewrite of public.ledger: {r:?}");
        }
    }

    // Connections to the copy are closed; deleting it waits for nothing.
    wait_no_sessions(admin, &copy.id).await?;
    match provider
        .delete(&copy.id)
        .await
        .context("LocalProvider::delete")?
    {
        DeleteOutcome::Deleted => {}
        other => bail!("LocalProvider::delete({}): {other:?}", copy.id),
    }
    Ok(Run {
        apply,
        stage,
        start,
        finish,
        report,
    })
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2
    }
}

fn median_f(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(series: &[Series], n: usize) {
    let base = &series[0];
    let base_apply = median(&base.apply);
    println!("median [min–max] over n = {n} rounds, ms:");
    println!(
        "  {:<6} {:>20} {:>20} {:>8} {:>8} {:>13} {:>8}",
        "", "apply", "stage", "start", "finish", "AE held (ms)", "samples"
    );
    for (i, s) in series.iter().enumerate() {
        let range = |v: &[Duration]| {
            format!(
                "{:.0} [{:.0}–{:.0}]",
                ms(median(v)),
                ms(*v.iter().min().expect("n ≥ 1")),
                ms(*v.iter().max().expect("n ≥ 1"))
            )
        };
        let held = if s.held_ms.is_empty() {
            "-".to_owned()
        } else {
            let mut h = s.held_ms.clone();
            h.sort();
            h[h.len() / 2].to_string()
        };
        let samples = if s.samples.is_empty() {
            "-".to_owned()
        } else {
            let mut h = s.samples.clone();
            h.sort();
            h[h.len() / 2].to_string()
        };
        println!(
            "  {:<6} {:>20} {:>20} {:>8.0} {:>8.0} {:>13} {:>8}",
            VARIANTS[i].0,
            range(&s.apply),
            range(&s.stage),
            ms(median(&s.start)),
            ms(median(&s.finish)),
            held,
            samples
        );
    }
    println!();
    for (i, s) in series.iter().enumerate().skip(1) {
        let label = VARIANTS[i].0;
        let on_medians = |v: &[Duration]| (ms(median(v)) / ms(base_apply) - 1.0) * 100.0;
        // Per round: this variant against the sampler-free run of the same round.
        let paired = |v: &[Duration]| {
            let ratios: Vec<f64> = v
                .iter()
                .zip(&base.apply)
                .map(|(x, b)| (ms(*x) / ms(*b) - 1.0) * 100.0)
                .collect();
            median_f(&ratios)
        };
        // The verdict: the migration with the sampler against the one without, paired per
        // round (robust to drift between rounds). The stage adds the sampler's fixed start.
        let migration = paired(&s.apply);
        let verdict = if migration < TARGET_PERCENT {
            "within"
        } else {
            "MISSES"
        };
        let busy = if s.busy_pct.is_empty() {
            0.0
        } else {
            median_f(&s.busy_pct)
        };
        println!("sampler every {label}:");
        println!(
            "  migration    {migration:+6.1} % paired ({:+.1} % on medians) — {verdict} the < {TARGET_PERCENT} % target",
            on_medians(&s.apply)
        );
        println!(
            "  whole stage  {:+6.1} % paired ({:+.1} % on medians), including the sampler's fixed start of {:.0} ms",
            paired(&s.stage),
            on_medians(&s.stage),
            ms(median(&s.start))
        );
        println!("  busy         {busy:6.1} % of the migration's time spent waiting for samples");
    }
    let mut sorted: Vec<f64> = base.apply.iter().map(|d| ms(*d)).collect();
    sorted.sort_by(f64::total_cmp);
    let q = |f: f64| sorted[((sorted.len() - 1) as f64 * f).round() as usize];
    println!(
        "noise: the sampler-free migration's interquartile range is {:.0} % of its median; load average now {}",
        (q(0.75) - q(0.25)) / ms(base_apply) * 100.0,
        loadavg()
    );
    println!(
        "(stage = sampler start + migration + sampler finish; for `none` it is the migration alone)"
    );
}

/// A template copy needs the parent to have no sessions; a closed client's backend exits
/// asynchronously, so wait until it is gone.
async fn wait_no_sessions(admin: &tokio_postgres::Client, db: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&db],
            )
            .await?
            .get(0);
        if n == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("database `{db}` still has {n} session(s) after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Drops every `nmlocks_` database; returns how many.
async fn drop_bench_databases(c: &cluster::Cluster) -> Result<usize> {
    let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
            &[&PREFIX],
        )
        .await?;
    for row in &rows {
        let name: String = row.get(0);
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                ident(&name)
            ))
            .await
            .with_context(|| format!("cannot drop bench database `{name}`"))?;
    }
    Ok(rows.len())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

//! Benchmark: what the `integrity` check costs — fingerprint before the migration plus the
//! comparison after it — on one table of 1,000,000 rows × 10 columns, beside one
//! `SELECT count(*)` of the same table (what the `data` check reads).
//!
//! Run with `scripts/bench integrity` (saves the output under `benches/results/`). A plain
//! timing harness, not a timed test: it reports, it never fails because a target was missed.
//!
//! The table lives in a bench-only database on a bench-only embedded cluster
//! (`/var/tmp/neon-migrate-bench-integrity`, or `$NEON_MIGRATE_BENCH_DIR`); the library's own
//! `record` and `evaluate` run on it in process, as the `migrate` and `checks` stages call them.
//! Between the two, a migration-like `UPDATE` changes 1,000 values of one column, so the
//! comparison has findings to name. Variants, each `$NEON_MIGRATE_BENCH_ITERATIONS` rounds
//! (default 5) after one warm-up, interleaved:
//!
//! * `count`: `SELECT count(*)` of the table;
//! * `exact`: record + compare with `sample-above` above the table's size (every row);
//! * `sampled`: record + compare with `sample-above = 100000` (64 key ranges, ~10 % of rows).
//!
//! Reported: the median and range per variant, and the medians' ratio to `count`. Rows:
//! `$NEON_MIGRATE_BENCH_ROWS` (default 1,000,000).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use neon_migrate::checks::integrity::{self, compare::RunFacts, IntegrityConfig};
use neon_migrate::checks::CheckStatus;
use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::pg::{self, ident};
use neon_migrate::providers::local::{cluster, LocalProvider};
use neon_migrate::secret::{Redactor, Secret};

const DB: &str = "nmintegrity_bench";
const DEFAULT_DIR: &str = "/var/tmp/neon-migrate-bench-integrity";
const DEFAULT_ROWS: i64 = 1_000_000;
const DEFAULT_ITERATIONS: usize = 5;
const SAMPLED_ABOVE: i64 = 100_000;

fn env_number(name: &str, default: i64) -> Result<i64> {
    match std::env::var(name) {
        Ok(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("{name} must be a positive integer, got `{v}`")),
        Err(_) => Ok(default),
    }
}

fn main() -> ExitCode {
    let dir = std::env::var_os("NEON_MIGRATE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
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
    let mut handle: Option<cluster::Cluster> = None;
    let result = runtime.block_on(run(&dir, &redactor, &mut handle));
    let mut ok = true;
    if let Err(e) = &result {
        eprintln!("error: {}", redactor.redact(&format!("{e:#}")));
        ok = false;
    }
    if let Some(c) = &handle {
        let dropped = runtime.block_on(async {
            let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
            admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(DB)
                ))
                .await?;
            anyhow::Ok(())
        });
        if let Err(e) = dropped {
            eprintln!("error: cleanup: {}", redactor.redact(&format!("{e:#}")));
            ok = false;
        }
        match cluster::stop(c) {
            Ok(()) => println!("cleanup: stopped the bench cluster in {}", c.dir.display()),
            Err(e) => {
                eprintln!("error: cannot stop the bench cluster: {e}");
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

async fn run(
    dir: &std::path::Path,
    redactor: &Redactor,
    cluster_out: &mut Option<cluster::Cluster>,
) -> Result<()> {
    let rows = env_number("NEON_MIGRATE_BENCH_ROWS", DEFAULT_ROWS)?;
    let iterations =
        env_number("NEON_MIGRATE_BENCH_ITERATIONS", DEFAULT_ITERATIONS as i64)? as usize;
    let cfg = LocalConfig {
        url: None,
        main_database: Some(format!("{DB}_main")),
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
        "embedded PostgreSQL {version}, {} core(s); {rows} rows × 10 columns; {iterations} round(s) after 1 warm-up, variants interleaved",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    for sql in [
        format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(DB)),
        format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(&format!("{DB}_main"))
        ),
        format!("CREATE DATABASE {}", ident(DB)),
    ] {
        admin.batch_execute(&sql).await?;
    }
    let client = pg::connect_observer(&provider.url_of(DB)).await?;
    let started = Instant::now();
    client
        .batch_execute(&format!(
            "CREATE TABLE public.wide (id bigint PRIMARY KEY, n int NOT NULL, amount numeric(12,2), \
             label varchar(64), note text, created timestamptz, active boolean, ref uuid, \
             score double precision, tags jsonb); \
             INSERT INTO public.wide SELECT g, g % 1000, (g % 100000) / 100.0, 'label ' || g, \
             md5(g::text), timestamptz '2026-01-01' + g * interval '1 second', g % 2 = 0, \
             md5(g::text)::uuid, g / 7.0, jsonb_build_object('k', g % 10) \
             FROM generate_series(1, {rows}) g"
        ))
        .await?;
    client.batch_execute("VACUUM ANALYZE public.wide").await?;
    let size: i64 = client
        .query_one("SELECT pg_total_relation_size('public.wide')", &[])
        .await?
        .get(0);
    println!(
        "table `wide`: {:.1} MiB with its index, built in {} ms; load average at start: {}",
        size as f64 / 1048576.0,
        started.elapsed().as_millis(),
        loadavg()
    );

    let variants = ["count", "exact", "sampled"];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    let mut record_share: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    for round in 0..=iterations {
        for (i, v) in variants.iter().enumerate() {
            let (total, record) = one(&client, v, rows).await?;
            if round > 0 {
                times[i].push(total);
                record_share[i].push(record);
            }
        }
    }
    println!();
    println!("variant   median     min–max              (record | compare medians)");
    let base = median(&times[0]);
    for (i, v) in variants.iter().enumerate() {
        let m = median(&times[i]);
        let r = median(&record_share[i]);
        let min = times[i].iter().min().copied().unwrap_or_default();
        let max = times[i].iter().max().copied().unwrap_or_default();
        println!(
            "{v:<9} {:>8.1} ms [{:.1}–{:.1}]  {:>5.1}× count   ({:.1} | {:.1} ms)",
            ms(m),
            ms(min),
            ms(max),
            ms(m) / ms(base),
            ms(r),
            ms(m.saturating_sub(r)),
        );
    }
    println!("load average at end: {}", loadavg());
    Ok(())
}

/// One variant once: its total time and, for record + compare, the record part.
async fn one(
    client: &tokio_postgres::Client,
    variant: &str,
    rows: i64,
) -> Result<(Duration, Duration)> {
    if variant == "count" {
        let t = Instant::now();
        let n: i64 = client
            .query_one("SELECT count(*) FROM public.wide", &[])
            .await?
            .get(0);
        if n != rows {
            bail!("count(*) returned {n}, want {rows}");
        }
        let d = t.elapsed();
        return Ok((d, d));
    }
    let cfg = IntegrityConfig {
        enabled: true,
        sample_above: if variant == "exact" {
            rows * 10
        } else {
            SAMPLED_ABOVE
        },
        ..Default::default()
    };
    // Undo the previous round's change, out of the clock.
    client
        .batch_execute(
            "UPDATE public.wide SET note = md5(id::text) WHERE id <= 1000 AND note <> md5(id::text)",
        )
        .await?;
    let t = Instant::now();
    let rec = integrity::record(client, &cfg, &[]).await?;
    let recorded = t.elapsed();
    // The "migration", out of the clock: 1,000 values of one column change.
    client
        .batch_execute("UPDATE public.wide SET note = upper(note) WHERE id <= 1000")
        .await?;
    let t2 = Instant::now();
    let result = integrity::evaluate(
        client,
        &rec,
        &cfg,
        RunFacts {
            tool: "sql",
            migration_allowed: false,
        },
    )
    .await;
    let compared = t2.elapsed();
    if result.status != CheckStatus::Failed
        || !result
            .findings
            .iter()
            .any(|f| f.what.starts_with("public.wide.note: "))
    {
        bail!("the comparison did not find the changed values: {result:?}");
    }
    Ok((recorded + compared, recorded))
}

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s.get(s.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

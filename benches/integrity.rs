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
//! Between the two, a migration-like `UPDATE` changes 1,000 values of one column, every
//! 1,000th key, so the comparison has findings to name also when it reads a sample (drawn
//! anew per run: about a tenth of them fall in the default one). Variants, each `$NEON_MIGRATE_BENCH_ITERATIONS` rounds
//! (default 5) after one warm-up, interleaved:
//!
//! * `count`: `SELECT count(*)` of the table;
//! * `exact`: record + compare with `sample-above` above the table's size (every row);
//! * `default`: record + compare with the shipped `sample-above` (key ranges whose starts are
//!   drawn from the rows, read through the key's index);
//! * `sampled (250000)`: a larger sample, to show how the cost grows with `sample-above`.
//!
//! Reported: the median and range per variant, and the medians' ratio to `count`. Rows:
//! `$NEON_MIGRATE_BENCH_ROWS` (default 1,000,000). The cluster's start, its cleanup and the
//! statistics are shared with the other cluster benches (`benches/support/mod.rs`).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use neon_migrate::checks::integrity::{self, compare::RunFacts, IntegrityConfig};
use neon_migrate::checks::CheckStatus;
use neon_migrate::pg::{self, ident};
use support::{loadavg, median, ms, range_ms, Bench, ClusterSlot};

const PREFIX: &str = "nmintegrity_";
const DB: &str = "nmintegrity_bench";
const MAIN_DB: &str = "nmintegrity_bench_main";
const DEFAULT_DIR: &str = "/var/tmp/neon-migrate-bench-integrity";
const DEFAULT_ROWS: usize = 1_000_000;
const DEFAULT_ITERATIONS: usize = 5;
/// A larger sample than the default, to show how the cost grows with `sample-above`.
const LARGER_SAMPLE: i64 = 250_000;

fn main() -> std::process::ExitCode {
    let bench = Bench {
        default_dir: DEFAULT_DIR,
        db_prefix: PREFIX,
    };
    bench.main(|dir, redactor, slot| async move { run(&dir, &redactor, &slot).await })
}

/// A variant: its label and `sample-above` (`None`: the `count(*)` baseline).
fn variants(rows: i64) -> Vec<(String, Option<i64>)> {
    vec![
        ("count".into(), None),
        ("exact".into(), Some(rows * 10)),
        (
            format!("default ({})", integrity::DEFAULT_SAMPLE_ABOVE),
            Some(integrity::DEFAULT_SAMPLE_ABOVE),
        ),
        (format!("sampled ({LARGER_SAMPLE})"), Some(LARGER_SAMPLE)),
    ]
}

async fn run(
    dir: &std::path::Path,
    redactor: &neon_migrate::secret::Redactor,
    slot: &ClusterSlot,
) -> Result<()> {
    let rows = support::env_count("NEON_MIGRATE_BENCH_ROWS", DEFAULT_ROWS, 1)? as i64;
    let iterations = support::env_count("NEON_MIGRATE_BENCH_ITERATIONS", DEFAULT_ITERATIONS, 1)?;
    let (provider, _cluster, admin) = support::open_cluster(dir, MAIN_DB, redactor, slot).await?;
    println!(
        "{rows} rows × 10 columns; {iterations} round(s) after 1 warm-up, variants interleaved"
    );
    for sql in [
        format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(DB)),
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

    let variants = variants(rows);
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    let mut record_share: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    for round in 0..=iterations {
        for (i, (_, sample_above)) in variants.iter().enumerate() {
            let (total, record) = one(&client, *sample_above, rows).await?;
            if round > 0 {
                times[i].push(total);
                record_share[i].push(record);
            }
        }
    }
    println!();
    println!("variant            median      min–max               (record | compare medians)");
    let base = median(&times[0]);
    for (i, (v, _)) in variants.iter().enumerate() {
        let m = median(&times[i]);
        let r = median(&record_share[i]);
        let (min, max) = range_ms(&times[i]);
        println!(
            "{v:<17} {:>8.1} ms [{min:.1}–{max:.1}]  {:>5.1}× count   ({:.1} | {:.1} ms)",
            ms(m),
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
    sample_above: Option<i64>,
    rows: i64,
) -> Result<(Duration, Duration)> {
    let Some(sample_above) = sample_above else {
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
    };
    let cfg = IntegrityConfig {
        enabled: true,
        sample_above,
        ..Default::default()
    };
    // Undo the previous round's change and drop its scratch schema (the product deletes the
    // whole test copy instead; `record` never drops a scratch schema it did not create), out
    // of the clock.
    client
        .batch_execute(&format!(
            "UPDATE public.wide SET note = md5(id::text) WHERE id % 1000 = 0 AND note <> md5(id::text);
             DROP SCHEMA IF EXISTS {} CASCADE",
            integrity::SCRATCH_SCHEMA
        ))
        .await?;
    let t = Instant::now();
    let rec = integrity::record(client, &cfg, &[]).await?;
    let recorded = t.elapsed();
    // The "migration", out of the clock: 1,000 values of one column change, spread over the
    // table (a sample is drawn per run: about a tenth of them fall in it).
    client
        .batch_execute("UPDATE public.wide SET note = upper(note) WHERE id % 1000 = 0")
        .await?;
    let t2 = Instant::now();
    let result = integrity::evaluate(
        client,
        &rec,
        &cfg,
        RunFacts {
            tool: "sql",
            migration_allowed: false,
            unlisted: &[],
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

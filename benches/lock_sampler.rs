//! Benchmark: what the `locks` check's sampler adds to the migrate stage, as users run it.
//!
//! Run with `cargo bench --bench lock_sampler` (or `scripts/bench lock_sampler`, which saves the
//! output under `benches/results/`). A plain timing harness, not a timed test: it reports, it
//! never fails because the target was missed.
//!
//! The main Neon database branch is a database with `ledger`, 200,000 rows (the size of the
//! integration tests' locks scenarios), on a bench-only embedded cluster. Every run is the
//! product itself — `neon-migrate run pre-push --json` in a scratch git repository — applying
//! `ALTER TABLE ledger ALTER COLUMN n TYPE bigint` (a rewrite under ACCESS EXCLUSIVE) with the
//! `sql` tool on a fresh test Neon database branch, the default checks on (lint off: flagging this
//! rewrite is its job, and a failed run stops the measure). The variants differ
//! only in `[checks.locks]`:
//!
//! * `none`: the locks check disabled (no sampler);
//! * `20ms`: enabled at the default `sample-interval`;
//! * `1ms`: enabled at 1 ms (what the integration tests use to catch catalog-only locks);
//!   shown for information.
//!
//! Each round runs every variant once, in an order that rotates every round; warm-up rounds
//! first. The measure is the `migrate` stage's `duration_ms` from the run's JSON report — the
//! stage the sampler lives in: the observations the checks compare against, the sampler's start,
//! the tool, the sampler's finish. The verdict is the median of the per-round ratios against the
//! sampler-free run of the same round (robust to drift between rounds), with their
//! interquartile range; the whole run's time is shown beside it. Every run must pass, and with
//! the sampler on, the locks check must report the rewrite of `public.ledger`.
//!
//! The embedded cluster lives in a bench-only folder (`/var/tmp/neon-migrate-bench-locks`, or
//! `$NEON_MIGRATE_BENCH_DIR`). The bench drops every database it created and stops that
//! cluster at the end, also after an error. `$NEON_MIGRATE_BENCH_ITERATIONS` overrides the
//! number of measured rounds (default 21, at least 5).

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use neon_migrate::pg::{self, ident};
use neon_migrate::providers::local::LocalProvider;
use serde_json::Value;
use support::{loadavg, median, median_f, ms, quartiles, Bench};

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
    let bench = Bench {
        default_dir: DEFAULT_DIR,
        db_prefix: PREFIX,
    };
    bench.main(|dir, redactor, slot| async move {
        let n = support::env_count(
            "NEON_MIGRATE_BENCH_ITERATIONS",
            DEFAULT_ITERATIONS,
            MIN_ITERATIONS,
        )?;
        run(&dir, n, &redactor, &slot).await
    })
}

/// One run of one variant, from its JSON report.
struct Run {
    /// The `migrate` stage's duration.
    stage: Duration,
    /// The whole run (create, migrate, checks, delete), spawn to exit.
    total: Duration,
    /// ACCESS EXCLUSIVE held on `public.ledger` as the locks check measured it.
    held_ms: Option<u64>,
}

#[derive(Default)]
struct Series {
    stage: Vec<Duration>,
    total: Vec<Duration>,
    held_ms: Vec<u64>,
}

async fn run(
    dir: &Path,
    n: usize,
    redactor: &neon_migrate::secret::Redactor,
    slot: &support::ClusterSlot,
) -> Result<()> {
    println!(
        "lock_sampler: what the sampler adds to the migrate stage of `neon-migrate run pre-push`, \
         migration `{}` over {ROWS} rows, embedded cluster in {}",
        MIGRATION.trim(),
        dir.display()
    );
    println!(
        "warm-up {WARM_UP}, measured rounds n = {n}; variants interleaved, order rotating every round"
    );
    println!("load average at start: {}", loadavg());

    let (provider, _cluster, admin) = support::open_cluster(dir, MAIN_DB, redactor, slot).await?;

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
    drop(admin);
    println!(
        "main database `{MAIN_DB}`: {ROWS} rows, {:.1} MiB, built in {} ms",
        size as f64 / 1048576.0,
        started.elapsed().as_millis()
    );

    let repo = scratch_repo(dir)?;
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
            let r = one_run(repo.path(), dir, label, interval.is_some())?;
            line.push_str(&format!(
                "  {label} {}/{}",
                r.stage.as_millis(),
                r.total.as_millis()
            ));
            if measured {
                let s = &mut series[v];
                s.stage.push(r.stage);
                s.total.push(r.total);
                s.held_ms.extend(r.held_ms);
            }
        }
        println!("{line}   (migrate stage/whole run ms)");
    }
    println!("load average at end: {}\n", loadavg());
    report(&series, n);
    Ok(())
}

/// The main database: `ledger` with 200,000 rows, frozen and analyzed so autovacuum has no
/// reason to work on the copies while they are measured.
async fn seed(provider: &LocalProvider) -> Result<()> {
    let client = pg::connect(&provider.url_of(MAIN_DB)).await?;
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS ledger;
             DROP SCHEMA IF EXISTS neon_migrate CASCADE;
             CREATE TABLE ledger (id bigint PRIMARY KEY, n int NOT NULL, label varchar(32) NOT NULL,
                                  amount numeric(10, 2) NOT NULL);
             INSERT INTO ledger SELECT g, g, 'entry ' || g, g % 1000 FROM generate_series(1, {ROWS}) g"
        ))
        .await
        .context("cannot seed the main database")?;
    // VACUUM runs outside the implicit transaction of a multi-statement batch.
    client
        .batch_execute("VACUUM (FREEZE, ANALYZE) ledger")
        .await
        .context("VACUUM")?;
    Ok(())
}

/// A git repository with the migration and one config per variant.
fn scratch_repo(cluster_dir: &Path) -> Result<tempfile::TempDir> {
    let repo = tempfile::tempdir().context("temp dir")?;
    let root = repo.path();
    std::fs::create_dir(root.join("migrations"))?;
    std::fs::write(root.join("migrations").join(MIGRATION_FILE), MIGRATION)?;
    for (label, interval) in VARIANTS {
        let locks = match interval {
            Some(ms) => format!(
                "enabled = true\nsample-interval = \"{ms}ms\"\naccess-exclusive-budget = \"30s\""
            ),
            None => "enabled = false".to_owned(),
        };
        std::fs::write(
            root.join(format!("{label}.toml")),
            format!(
                "[provider]\nkind = \"local\"\ndata-dir = {:?}\nmain-database = \"{MAIN_DB}\"\n\n\
                 [neon-database-branch]\nname = \"{PREFIX}copy\"\n\n\
                 [tool]\nname = \"sql\"\n\n\
                 # Flagging this rewrite is lint's job; a failed run would stop the measure.\n\
                 [checks.lint]\nenabled = false\n\n[checks.locks]\n{locks}\n",
                cluster_dir.display().to_string()
            ),
        )?;
    }
    for args in [
        &["init", "-q", "-b", "bench"][..],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "add",
            "-A",
        ],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-qm",
            "bench",
        ],
    ] {
        let st = Command::new("git")
            .args(args)
            .current_dir(root)
            .status()
            .context("run git")?;
        if !st.success() {
            bail!("git {args:?} failed in the scratch repository");
        }
    }
    Ok(repo)
}

/// `neon-migrate run pre-push --json` with one variant's config; reads the stage times back.
fn one_run(repo: &Path, cluster_dir: &Path, label: &str, sampled: bool) -> Result<Run> {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_neon-migrate"))
        .args([
            "--config",
            &format!("{label}.toml"),
            "run",
            "pre-push",
            "--json",
        ])
        .current_dir(repo)
        .env("NEON_MIGRATE_CLUSTER_DIR", cluster_dir)
        .env("NO_COLOR", "1")
        .output()
        .context("run neon-migrate")?;
    let total = t.elapsed();
    let report: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{label}: no JSON report (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    if !out.status.success() {
        bail!(
            "{label}: the run failed (exit {:?}): {}",
            out.status.code(),
            serde_json::to_string_pretty(&report["stages"]).unwrap_or_default()
        );
    }
    let stages = report["stages"].as_array().context("no stages")?;
    let migrate = stages
        .iter()
        .find(|s| s["name"] == "migrate")
        .context("no migrate stage in the report")?;
    let stage = Duration::from_millis(migrate["duration_ms"].as_u64().context("duration_ms")?);
    let locks = stages
        .iter()
        .filter_map(|s| s["results"].as_array())
        .flatten()
        .find(|r| r["name"] == "locks");
    let held_ms = match (sampled, locks) {
        (true, Some(l)) => {
            if l["status"] != "passed" {
                bail!("{label}: the locks check did not pass: {l}");
            }
            let summary = l["summary"].as_str().unwrap_or("");
            if !summary.contains(", 1 rewritten") {
                bail!("{label}: the locks check did not see the rewrite of public.ledger: {l}");
            }
            // "ACCESS EXCLUSIVE lock on public.ledger held ~N ms", when a finding names it.
            let text = l.to_string();
            text.split("lock on public.ledger held ~")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
        }
        (true, None) => bail!("{label}: the report has no locks check result"),
        (false, Some(l)) if l["status"] == "passed" => {
            bail!("{label}: the locks check ran although disabled: {l}")
        }
        (false, _) => None,
    };
    Ok(Run {
        stage,
        total,
        held_ms,
    })
}

fn report(series: &[Series], n: usize) {
    let base = &series[0];
    println!("median [min–max] over n = {n} rounds, ms:");
    println!(
        "  {:<6} {:>20} {:>20} {:>13}",
        "", "migrate stage", "whole run", "AE held (ms)"
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
        println!(
            "  {:<6} {:>20} {:>20} {:>13}",
            VARIANTS[i].0,
            range(&s.stage),
            range(&s.total),
            held
        );
    }
    println!();
    // Per round: this variant against the sampler-free run of the same round.
    let paired = |v: &[Duration], b: &[Duration]| -> Vec<f64> {
        v.iter()
            .zip(b)
            .map(|(x, b)| (ms(*x) / ms(*b) - 1.0) * 100.0)
            .collect()
    };
    for (i, s) in series.iter().enumerate().skip(1) {
        let label = VARIANTS[i].0;
        let stage = paired(&s.stage, &base.stage);
        let (q1, q3) = quartiles(&stage);
        let m = median_f(&stage);
        let verdict = if m < TARGET_PERCENT {
            "within"
        } else {
            "MISSES"
        };
        let whole = paired(&s.total, &base.total);
        let (w1, w3) = quartiles(&whole);
        println!("sampler every {label}:");
        println!(
            "  migrate stage {m:+6.1} % median of {} paired ratios (IQR {q1:+.1} … {q3:+.1} %) — {verdict} the < {TARGET_PERCENT} % target",
            stage.len()
        );
        println!(
            "  whole run     {:+6.1} % median of paired ratios (IQR {w1:+.1} … {w3:+.1} %)",
            median_f(&whole)
        );
    }
    let mut sorted: Vec<f64> = base.stage.iter().map(|d| ms(*d)).collect();
    sorted.sort_by(f64::total_cmp);
    let q = |f: f64| sorted[((sorted.len() - 1) as f64 * f).round() as usize];
    println!(
        "noise: the sampler-free migrate stage's interquartile range is {:.0} % of its median; load average now {}",
        (q(0.75) - q(0.25)) / ms(median(&base.stage)) * 100.0,
        loadavg()
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

//! What the benches that run on a bench-only embedded cluster share: the cluster's start and
//! cleanup around the bench's body, the environment knobs, timing statistics and the load
//! average. Included by each bench with `#[path = "support/mod.rs"] mod support;` (a bench
//! uses only part of it).
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::pg::{self, ident};
use neon_migrate::providers::local::{cluster, LocalProvider};
use neon_migrate::secret::{Redactor, Secret};

/// A bench on its own embedded cluster: the folder it lives in and the prefix of every
/// database it creates (only those are dropped at the end).
pub struct Bench {
    /// Default folder of the cluster; `$NEON_MIGRATE_BENCH_DIR` overrides it.
    pub default_dir: &'static str,
    pub db_prefix: &'static str,
}

impl Bench {
    /// The cluster's folder.
    pub fn dir(&self) -> PathBuf {
        std::env::var_os("NEON_MIGRATE_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(self.default_dir))
    }

    /// Runs `body` on a multi-threaded runtime, then — whatever happened — drops the bench's
    /// databases and stops its cluster (`body` stores the cluster it started in its third
    /// argument; one left running by an interrupted run is found from the folder). Errors are
    /// printed redacted; the exit status says whether everything, cleanup included, worked.
    pub fn main<F, Fut>(&self, body: F) -> ExitCode
    where
        F: FnOnce(PathBuf, Redactor, ClusterSlot) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let dir = self.dir();
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
        let slot = ClusterSlot::default();
        let result = runtime.block_on(body(dir.clone(), redactor.clone(), slot.clone()));
        let mut ok = true;
        if let Err(e) = &result {
            eprintln!("error: {}", redactor.redact(&format!("{e:#}")));
            ok = false;
        }
        let mut handle = slot.take();
        if handle.is_none() && dir.join("data").join("postmaster.pid").is_file() {
            match cluster::ensure(Some(&dir)) {
                Ok(c) => handle = Some(c),
                Err(e) => {
                    eprintln!(
                        "error: cannot reach the bench cluster in {} to stop it: {e}",
                        dir.display()
                    );
                    ok = false;
                }
            }
        }
        if let Some(c) = &handle {
            match runtime.block_on(drop_databases(c, self.db_prefix)) {
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
                        "error: cannot stop the bench cluster in {}: {e}",
                        c.dir.display()
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
}

/// Where the bench's body leaves the cluster it started, for the cleanup.
#[derive(Clone, Default)]
pub struct ClusterSlot(std::sync::Arc<std::sync::Mutex<Option<cluster::Cluster>>>);

impl ClusterSlot {
    fn set(&self, c: cluster::Cluster) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
    }
    fn take(&self) -> Option<cluster::Cluster> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Opens the local provider on the embedded cluster in `dir` (started if needed) with
/// `main_db` as its main database, and records the cluster in `slot` for the cleanup.
/// Prints the server's version and the machine's cores.
pub async fn open_cluster(
    dir: &Path,
    main_db: &str,
    redactor: &Redactor,
    slot: &ClusterSlot,
) -> Result<(LocalProvider, cluster::Cluster, tokio_postgres::Client)> {
    let cfg = LocalConfig {
        url: None,
        main_database: Some(main_db.into()),
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
    slot.set(c.clone());
    let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
    let version: String = admin.query_one("SHOW server_version", &[]).await?.get(0);
    println!(
        "embedded PostgreSQL {version} on 127.0.0.1:{}, {} core(s)",
        c.port,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    Ok((provider, c, admin))
}

/// Drops every database whose name starts with `prefix`; returns how many.
pub async fn drop_databases(c: &cluster::Cluster, prefix: &str) -> Result<usize> {
    let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
            &[&prefix],
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

/// A positive integer from the environment, else `default`; at least `min`.
pub fn env_count(name: &str, default: usize, min: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= min.max(1))
            .with_context(|| format!("{name} must be an integer ≥ {}, got `{v}`", min.max(1))),
        Err(_) => Ok(default),
    }
}

/// The median (the mean of the two middle values for an even count).
pub fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    let n = s.len();
    match n {
        0 => Duration::ZERO,
        _ if n % 2 == 1 => s[n / 2],
        _ => (s[n / 2 - 1] + s[n / 2]) / 2,
    }
}

/// The median of floats.
pub fn median_f(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => s[n / 2],
        _ => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// First and third quartiles (nearest rank).
pub fn quartiles(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let q = |f: f64| s[((s.len() - 1) as f64 * f).round() as usize];
    (q(0.25), q(0.75))
}

/// `min–max` of durations, in ms.
pub fn range_ms(v: &[Duration]) -> (f64, f64) {
    let min = v.iter().min().copied().unwrap_or_default();
    let max = v.iter().max().copied().unwrap_or_default();
    (ms(min), ms(max))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The load average (1, 5, 15 min), from `/proc/loadavg`.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

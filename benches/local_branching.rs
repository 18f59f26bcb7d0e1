//! Benchmark: creating a test Neon database branch with the `local` provider, compared with
//! a raw `CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY` on the same server.
//!
//! Run with `cargo bench --bench local_branching`. A plain timing harness (no criterion):
//! for each parent database (~10 MiB and ~200 MiB) it runs warm-up rounds, then n measured
//! rounds. Each round runs all three paths below, in an order that rotates every round so
//! that drift and ordering effects cancel out:
//!
//! * product: `LocalProvider::create` (timed), then `LocalProvider::delete` (timed apart);
//! * raw: `CREATE DATABASE x TEMPLATE parent STRATEGY FILE_COPY` over an already open
//!   connection (timed), then `DROP DATABASE x` (timed apart);
//! * replica: the same statements `LocalProvider::create`/`delete` send, from this file, each
//!   step timed on its own (new connection, catalog look-ups, copy, comment / drop). It is
//!   not a target, only an explanation of where the product's time goes.
//!
//! It reports median [min–max] per path, the product/raw ratio against the 1.2× target, and
//! the replica's per-step medians.
//!
//! The embedded cluster lives in a bench-only folder (`/var/tmp/neon-migrate-bench`, or
//! `$NEON_MIGRATE_BENCH_DIR`) and runs with `fsync = off`. The bench drops every database it
//! created and stops that cluster at the end, also after an error; the folder is kept so the
//! next run skips `initdb`. `$NEON_MIGRATE_BENCH_ITERATIONS` overrides n (default 15).
//!
//! Exit status: non-zero only on errors, never because the target was missed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio_postgres::Client;

use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::pg::{self, ident, literal};
use neon_migrate::providers::local::{cluster, LocalProvider};
use neon_migrate::providers::{CreateRequest, DeleteOutcome, Provider};
use neon_migrate::secret::{Redactor, Secret};

/// Every database the bench creates starts with this prefix (and only those are dropped).
const PREFIX: &str = "nmbench_";
const DEFAULT_DIR: &str = "/var/tmp/neon-migrate-bench";
const DEFAULT_ITERATIONS: usize = 15;
const WARM_UP: usize = 2;
/// The target: product create time ≤ 1.2 × raw create time.
const TARGET_RATIO: f64 = 1.2;
const MIB: f64 = 1024.0 * 1024.0;

/// The parent databases: label and target size in bytes.
const PARENTS: [(&str, i64); 2] = [("10mib", 10 * 1024 * 1024), ("200mib", 200 * 1024 * 1024)];

fn main() -> ExitCode {
    let dir = std::env::var_os("NEON_MIGRATE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let iterations = match std::env::var("NEON_MIGRATE_BENCH_ITERATIONS") {
        Ok(v) => {
            match v.parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    eprintln!("error: NEON_MIGRATE_BENCH_ITERATIONS must be a positive integer, got `{v}`");
                    return ExitCode::FAILURE;
                }
            }
        }
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
        // The cluster may have started before the provider failed to open: find it again.
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
        match runtime.block_on(drop_bench_databases(c, None)) {
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

/// Timings of one parent database.
struct ParentResult {
    db: String,
    size: i64,
    product_create: Vec<Duration>,
    product_delete: Vec<Duration>,
    raw_create: Vec<Duration>,
    raw_drop: Vec<Duration>,
    replica: Replica,
    /// Product creates that had to be retried because the parent briefly had another session.
    busy_retries: usize,
}

/// The product's steps, reproduced and timed one by one.
#[derive(Default)]
struct Replica {
    create_total: Vec<Duration>,
    create_connect: Vec<Duration>,
    create_lookups: Vec<Duration>,
    create_copy: Vec<Duration>,
    create_comment: Vec<Duration>,
    delete_total: Vec<Duration>,
    delete_connect: Vec<Duration>,
    delete_lookup: Vec<Duration>,
    delete_drop: Vec<Duration>,
}

async fn run(
    dir: &Path,
    n: usize,
    redactor: &Redactor,
    cluster_out: &mut Option<cluster::Cluster>,
) -> Result<()> {
    println!(
        "local_branching: test Neon database branches on the embedded cluster in {}",
        dir.display()
    );
    println!(
        "warm-up {WARM_UP}, measured iterations n = {n}; the three paths are interleaved and \
         their order rotates every round"
    );
    println!("load average at start: {}\n", loadavg());

    // One provider per parent database: each plays the main Neon database branch.
    let mut providers = Vec::new();
    for (label, target) in PARENTS {
        let cfg = LocalConfig {
            url: None,
            main_database: Some(format!("{PREFIX}parent_{label}")),
            data_dir: Some(dir.to_path_buf()),
            busy_parent: BusyParent::Fail,
            tool_role: Default::default(),
        };
        let started = Instant::now();
        let provider = LocalProvider::open(&cfg, None, redactor)
            .await
            .with_context(|| {
                format!("cannot open the local provider for `{PREFIX}parent_{label}`")
            })?;
        if cluster_out.is_none() {
            let c = provider
                .cluster()
                .context("the local provider runs no embedded cluster")?
                .clone();
            println!(
                "embedded PostgreSQL {} on 127.0.0.1:{} (open took {})",
                c.major,
                c.port,
                ms(started.elapsed())
            );
            *cluster_out = Some(c);
        }
        providers.push((label, target, provider));
    }
    let c = cluster_out.clone().context("no cluster")?;
    let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
    let version: String = admin.query_one("SHOW server_version", &[]).await?.get(0);
    let fsync: String = admin.query_one("SHOW fsync", &[]).await?.get(0);
    println!(
        "server version {version}, fsync = {fsync}, data directory {}",
        c.data_dir().display()
    );

    // Leftovers of an interrupted earlier run (the parents are rebuilt below anyway).
    let parents: Vec<String> = providers
        .iter()
        .map(|(_, _, p)| p.main_database().to_owned())
        .collect();
    let leftovers = drop_bench_databases(&c, Some(&parents)).await?;
    if leftovers > 0 {
        println!("dropped {leftovers} leftover bench database(s) from an earlier run");
    }

    for (_, target, provider) in &providers {
        let db = provider.main_database();
        let started = Instant::now();
        let size = build_parent(provider, &admin, *target).await?;
        println!(
            "built parent database `{db}`: {:.1} MiB in {}",
            size as f64 / MIB,
            ms(started.elapsed())
        );
    }
    admin
        .batch_execute("CHECKPOINT")
        .await
        .context("CHECKPOINT")?;

    let mut results = Vec::new();
    for (label, _, provider) in &providers {
        println!();
        results.push(measure(label, provider, &admin, n).await?);
    }
    drop(admin);
    println!("\nload average at end: {}", loadavg());

    report(&results, n);
    Ok(())
}

/// Fills the parent database with one table (primary key + one more index) until
/// `pg_database_size` reaches about `target` bytes; returns the final size.
async fn build_parent(provider: &LocalProvider, admin: &Client, target: i64) -> Result<i64> {
    let db = provider.main_database().to_owned();
    let c = pg::connect(&provider.url_of(&db)).await?;
    c.batch_execute(
        "DROP TABLE IF EXISTS bench_rows; \
         CREATE TABLE bench_rows (id bigint PRIMARY KEY, grp int NOT NULL, payload text NOT NULL); \
         CREATE INDEX bench_rows_grp ON bench_rows (grp)",
    )
    .await
    .context("cannot create the bench table")?;
    // A probe tells the bytes per row (heap + both indexes); then fill towards the target,
    // re-estimating after each pass, until within 2 % of it.
    const PROBE: i64 = 20_000;
    const CHUNK: i64 = 500_000;
    let base = db_size(admin, &db).await?;
    insert_rows(&c, 1, PROBE).await?;
    let mut rows = PROBE;
    let mut size = db_size(admin, &db).await?;
    for _ in 0..4 {
        if size as f64 >= 0.98 * target as f64 {
            break;
        }
        let per_row = ((size - base) as f64 / rows as f64).max(1.0);
        let wanted = (((target - size) as f64 / per_row) as i64).max(1_000);
        let last = rows + wanted;
        while rows < last {
            let end = (rows + CHUNK).min(last);
            insert_rows(&c, rows + 1, end).await?;
            rows = end;
        }
        size = db_size(admin, &db).await?;
    }
    // Frozen and analyzed: autovacuum has no reason to work in it during the measurements.
    c.batch_execute("VACUUM (FREEZE, ANALYZE) bench_rows")
        .await
        .context("VACUUM")?;
    drop(c);
    wait_no_sessions(admin, &db).await?;
    db_size(admin, &db).await
}

async fn insert_rows(c: &Client, from: i64, to: i64) -> Result<()> {
    c.batch_execute(&format!(
        "INSERT INTO bench_rows SELECT g, (g % 1000)::int, md5(g::text) FROM generate_series({from}::bigint, {to}::bigint) g"
    ))
    .await
    .context("cannot fill the bench table")?;
    Ok(())
}

async fn db_size(admin: &Client, db: &str) -> Result<i64> {
    Ok(admin
        .query_one("SELECT pg_database_size($1::text)", &[&db])
        .await
        .with_context(|| format!("pg_database_size({db})"))?
        .get(0))
}

/// A template copy needs the parent to have no sessions; a closed client's backend exits
/// asynchronously, so wait until it is gone.
async fn wait_no_sessions(admin: &Client, db: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = admin
            .query(
                "SELECT pid, backend_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&db],
            )
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let who: Vec<String> = rows
                .iter()
                .map(|r| {
                    format!(
                        "pid {} ({})",
                        r.get::<_, i32>(0),
                        r.get::<_, Option<String>>(1).unwrap_or_default()
                    )
                })
                .collect();
            bail!(
                "database `{db}` still has sessions after 30 s: {}",
                who.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Drops every `nmbench_` database except `keep`; returns how many it dropped.
async fn drop_bench_databases(c: &cluster::Cluster, keep: Option<&[String]>) -> Result<usize> {
    let admin = pg::connect(&Secret::new(c.url("postgres"))).await?;
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
            &[&PREFIX],
        )
        .await?;
    let mut dropped = 0;
    for row in rows {
        let name: String = row.get(0);
        if keep.is_some_and(|k| k.contains(&name)) {
            continue;
        }
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                ident(&name)
            ))
            .await
            .with_context(|| format!("cannot drop bench database `{name}`"))?;
        dropped += 1;
    }
    Ok(dropped)
}

/// The interleaved measurement for one parent database.
async fn measure(
    label: &str,
    provider: &LocalProvider,
    admin: &Client,
    n: usize,
) -> Result<ParentResult> {
    let parent = provider.main_database().to_owned();
    let size = db_size(admin, &parent).await?;
    println!(
        "parent `{parent}` ({:.1} MiB): {WARM_UP} warm-up + {n} measured rounds",
        size as f64 / MIB
    );
    let admin_url = Secret::new(provider.cluster().context("no cluster")?.url("postgres"));
    let mut r = ParentResult {
        db: parent.clone(),
        size,
        product_create: Vec::new(),
        product_delete: Vec::new(),
        raw_create: Vec::new(),
        raw_drop: Vec::new(),
        replica: Replica::default(),
        busy_retries: 0,
    };
    for round in 0..WARM_UP + n {
        let measured = round >= WARM_UP;
        let mut line = format!(
            "  {} {:>2}:",
            if measured { "round" } else { "warm-up" },
            round
        );
        for step in 0..3 {
            match (round + step) % 3 {
                0 => {
                    let (create, delete, retries) =
                        product_round(label, round, provider, admin).await?;
                    r.busy_retries += retries;
                    line.push_str(&format!(
                        "  product {}/{}",
                        msf(create).round(),
                        msf(delete).round()
                    ));
                    if measured {
                        r.product_create.push(create);
                        r.product_delete.push(delete);
                    }
                }
                1 => {
                    let (create, drop) = raw_round(label, round, &parent, admin).await?;
                    line.push_str(&format!(
                        "  raw {}/{}",
                        msf(create).round(),
                        msf(drop).round()
                    ));
                    if measured {
                        r.raw_create.push(create);
                        r.raw_drop.push(drop);
                    }
                }
                _ => {
                    let rep = replica_round(label, round, &parent, &admin_url).await?;
                    line.push_str(&format!(
                        "  replica {}/{}",
                        msf(rep.create_total[0]).round(),
                        msf(rep.delete_total[0]).round()
                    ));
                    if measured {
                        r.replica.append(rep);
                    }
                }
            }
        }
        println!("{line}   (create/delete ms)");
    }
    Ok(r)
}

/// Product path: `create` (timed), then `delete` (timed). Returns the create and delete
/// times and how many times `create` was retried because the parent was briefly busy.
async fn product_round(
    label: &str,
    round: usize,
    provider: &LocalProvider,
    admin: &Client,
) -> Result<(Duration, Duration, usize)> {
    let req = CreateRequest {
        name: format!("{PREFIX}p_{label}_{round}"),
        ttl: Duration::from_secs(3600),
        git_branch: "bench".into(),
        git_sha: "0000000".into(),
        pipeline: "local_branching bench".into(),
        run_id: neon_migrate::providers::new_run_id(),
    };
    let mut retries = 0;
    let (created, create_time) = loop {
        let started = Instant::now();
        match provider.create(&req).await {
            Ok(b) => break (b, started.elapsed()),
            // Another session on the parent (e.g. an autovacuum worker passing by) makes the
            // product refuse the copy; wait for it to leave and count the retry.
            Err(e) if e.to_string().contains("other session(s)") && retries < 3 => {
                retries += 1;
                eprintln!(
                    "  note: product create refused, parent busy (retry {retries}): {}",
                    e
                );
                wait_no_sessions(admin, provider.main_database()).await?;
            }
            Err(e) => return Err(e).context("LocalProvider::create"),
        }
    };
    let started = Instant::now();
    let outcome = provider
        .delete(&created.id)
        .await
        .context("LocalProvider::delete")?;
    let delete_time = started.elapsed();
    if outcome != DeleteOutcome::Deleted {
        bail!(
            "LocalProvider::delete({}) found nothing to delete",
            created.id
        );
    }
    Ok((create_time, delete_time, retries))
}

/// Raw baseline over the open maintenance connection: CREATE (timed), then DROP (timed).
async fn raw_round(
    label: &str,
    round: usize,
    parent: &str,
    admin: &Client,
) -> Result<(Duration, Duration)> {
    let child = format!("{PREFIX}r_{label}_{round}");
    let started = Instant::now();
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
            ident(&child),
            ident(parent)
        ))
        .await
        .with_context(|| format!("raw CREATE DATABASE {child}"))?;
    let create_time = started.elapsed();
    let started = Instant::now();
    admin
        .batch_execute(&format!("DROP DATABASE {}", ident(&child)))
        .await
        .with_context(|| format!("raw DROP DATABASE {child}"))?;
    Ok((create_time, started.elapsed()))
}

const COMMENT_OF: &str =
    "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1";
const SESSIONS_ON: &str = "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), \
     coalesce(host(client_addr), 'local socket'), coalesce(state, '') \
     FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()";

/// The statements `LocalProvider::create` and `delete` send (src/providers/local/mod.rs),
/// in the same order, each step timed: one sample in every field.
async fn replica_round(
    label: &str,
    round: usize,
    parent: &str,
    admin_url: &Secret<String>,
) -> Result<Replica> {
    let child = format!("{PREFIX}s_{label}_{round}");
    let mut r = Replica::default();

    // create(): self.admin(), comment_of(main), comment_of(db), sessions_on(main),
    // copy_database(), COMMENT ON DATABASE.
    let t0 = Instant::now();
    let client = pg::connect(admin_url).await?;
    let t1 = Instant::now();
    client.query_opt(COMMENT_OF, &[&parent]).await?;
    client.query_opt(COMMENT_OF, &[&child]).await?;
    let sessions = client.query(SESSIONS_ON, &[&parent]).await?;
    if !sessions.is_empty() {
        bail!("replica: the parent `{parent}` has other sessions");
    }
    let t2 = Instant::now();
    client
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
            ident(&child),
            ident(parent)
        ))
        .await
        .with_context(|| format!("replica CREATE DATABASE {child}"))?;
    let t3 = Instant::now();
    let json = format!(r#"{{"neon_migrate":1,"name":"{child}","parent":"{parent}"}}"#);
    client
        .batch_execute(&format!(
            "COMMENT ON DATABASE {} IS {}",
            ident(&child),
            literal(&json)
        ))
        .await?;
    let t4 = Instant::now();
    drop(client);
    r.create_connect.push(t1 - t0);
    r.create_lookups.push(t2 - t1);
    r.create_copy.push(t3 - t2);
    r.create_comment.push(t4 - t3);
    r.create_total.push(t4 - t0);

    // delete(): self.admin(), comment_of(id), DROP DATABASE IF EXISTS … WITH (FORCE).
    let t0 = Instant::now();
    let client = pg::connect(admin_url).await?;
    let t1 = Instant::now();
    client.query_opt(COMMENT_OF, &[&child]).await?;
    let t2 = Instant::now();
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(&child)
        ))
        .await
        .with_context(|| format!("replica DROP DATABASE {child}"))?;
    let t3 = Instant::now();
    drop(client);
    r.delete_connect.push(t1 - t0);
    r.delete_lookup.push(t2 - t1);
    r.delete_drop.push(t3 - t2);
    r.delete_total.push(t3 - t0);
    Ok(r)
}

impl Replica {
    fn append(&mut self, mut o: Replica) {
        self.create_total.append(&mut o.create_total);
        self.create_connect.append(&mut o.create_connect);
        self.create_lookups.append(&mut o.create_lookups);
        self.create_copy.append(&mut o.create_copy);
        self.create_comment.append(&mut o.create_comment);
        self.delete_total.append(&mut o.delete_total);
        self.delete_connect.append(&mut o.delete_connect);
        self.delete_lookup.append(&mut o.delete_lookup);
        self.delete_drop.append(&mut o.delete_drop);
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Median, minimum and maximum.
#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut s = samples.to_vec();
        s.sort();
        let mid = s.len() / 2;
        let median = if s.len() % 2 == 1 {
            s[mid]
        } else {
            (s[mid - 1] + s[mid]) / 2
        };
        Stats {
            median,
            min: s[0],
            max: s[s.len() - 1],
        }
    }
    fn cell(&self) -> String {
        format!(
            "{:.1} [{:.1}–{:.1}]",
            msf(self.median),
            msf(self.min),
            msf(self.max)
        )
    }
}

fn msf(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", msf(d))
}

fn report(results: &[ParentResult], n: usize) {
    println!(
        "\n=== local_branching: create a test Neon database branch \
         (ms, median [min–max], n = {n}) ===\n"
    );
    println!(
        "{:<22} {:>8}  {:>22}  {:>22}  {:>6}  {:<8}  {:>22}",
        "parent database",
        "MiB",
        "product create",
        "raw FILE_COPY create",
        "ratio",
        "≤ 1.2×?",
        "replica create"
    );
    for r in results {
        let p = Stats::of(&r.product_create);
        let raw = Stats::of(&r.raw_create);
        let ratio = msf(p.median) / msf(raw.median);
        println!(
            "{:<22} {:>8.1}  {:>22}  {:>22}  {:>5.2}×  {:<8}  {:>22}",
            r.db,
            r.size as f64 / MIB,
            p.cell(),
            raw.cell(),
            ratio,
            if ratio <= TARGET_RATIO {
                "met"
            } else {
                "MISSED"
            },
            Stats::of(&r.replica.create_total).cell()
        );
    }
    println!();
    println!(
        "{:<22} {:>8}  {:>22}  {:>22}  {:>6}  {:<8}  {:>22}",
        "parent database", "MiB", "product delete", "raw DROP", "ratio", "", "replica delete"
    );
    for r in results {
        let p = Stats::of(&r.product_delete);
        let raw = Stats::of(&r.raw_drop);
        println!(
            "{:<22} {:>8.1}  {:>22}  {:>22}  {:>5.2}×  {:<8}  {:>22}",
            r.db,
            r.size as f64 / MIB,
            p.cell(),
            raw.cell(),
            msf(p.median) / msf(raw.median),
            "",
            Stats::of(&r.replica.delete_total).cell()
        );
    }
    println!();
    println!("where the product's extra time goes: the replica's steps (ms, median [min–max])");
    for r in results {
        let rep = &r.replica;
        let raw = Stats::of(&r.raw_create).median;
        println!(
            "  {} — product create − raw create = {:+.1} ms",
            r.db,
            msf(Stats::of(&r.product_create).median) - msf(raw)
        );
        let steps: [(&str, &Vec<Duration>); 8] = [
            ("create: new connection (pg::connect)", &rep.create_connect),
            ("create: 2× comment_of + sessions_on", &rep.create_lookups),
            (
                "create: CREATE DATABASE on that connection",
                &rep.create_copy,
            ),
            ("create: COMMENT ON DATABASE", &rep.create_comment),
            ("delete: new connection (pg::connect)", &rep.delete_connect),
            ("delete: comment_of", &rep.delete_lookup),
            ("delete: DROP DATABASE … WITH (FORCE)", &rep.delete_drop),
            ("(raw DROP on the open connection)", &r.raw_drop),
        ];
        for (what, samples) in steps {
            println!("    {:<46} {:>22}", what, Stats::of(samples).cell());
        }
    }
    let retries: usize = results.iter().map(|r| r.busy_retries).sum();
    if retries > 0 {
        println!(
            "  note: {retries} product create(s) were retried because the parent \
             briefly had another session"
        );
    }
    println!();
    let all_met = results.iter().all(|r| {
        msf(Stats::of(&r.product_create).median)
            <= TARGET_RATIO * msf(Stats::of(&r.raw_create).median)
    });
    println!(
        "target (product create ≤ {TARGET_RATIO}× raw create, per parent): {}",
        if all_met {
            "met for every parent"
        } else {
            "MISSED for at least one parent"
        }
    );
}

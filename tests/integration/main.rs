//! Integration tests of neon-migrate: the real binary against a real, embedded PostgreSQL.
//!
//! One cluster serves the whole run. It is started through the product's own code
//! (`cluster::ensure`) in a test-only folder — `/dev/shm/neon-migrate-it-<hash>` (tmpfs) when
//! there is one, else `/var/tmp/…` — and every invocation of the binary is pointed at it with
//! `NEON_MIGRATE_CLUSTER_DIR`. After every test ran, the harness fails the run if any test
//! Neon database branch is left on that cluster, then stops the server.
//!
//! Run with `cargo test --test integration [FILTER]`.

/// Registers test functions under their own names, so a name cannot drift from its code:
/// `tests![a_test, another_test => skip_reason]` gives a [`Test`] per function, named by
/// `stringify!`; `=> expr` (an `Option<&'static str>`) says why the test is skipped, if it is.
/// A test function left out of its file's list is dead code: a warning, an error under
/// `cargo clippy -- -D warnings`. (Rows of a scenario table carry their name as data, once.)
macro_rules! tests {
    ($($name:ident $(=> $skip:expr)?),* $(,)?) => {
        vec![$($crate::Test::new(stringify!($name), $name, None $(.or($skip))?)),*]
    };
}

/// Declares the test files and gathers their tests: each file has `pub fn tests()`.
macro_rules! test_files {
    ($($(#[$attr:meta])* $file:ident),* $(,)?) => {
        $($(#[$attr])* mod $file;)*

        /// Every test of the suite but the schema fixtures (those come from files).
        fn tests() -> Vec<Test> {
            let mut all = Vec::new();
            $(all.extend($file::tests());)*
            all
        }
    };
}

test_files![
    pipeline,
    checks,
    naming,
    cleanup,
    parent,
    sql_tool,
    secrets,
    cli_config,
    users,
    neon_provider,
    emulator,
    neonctl,
    hooks,
    outputs,
    apply,
    apply_settings,
    apply_authz,
    reliability,
    isolation,
    scratch_isolation,
    collisions,
    #[path = "../contract/contract.rs"]
    contract,
    tools,
    models,
    proof,
    layouts,
    commands,
    hardening,
    clone,
    config_diagnostics,
    workload,
    workload_attacks,
    workload_pool_attacks,
    workload_leaks,
    workload_longtx,
    workload_window,
    workload_rows,
    trials,
    integrity,
    integrity_attacks,
    check_attacks,
    check_counts,
    schema_authz,
    safety_net,
    extension_members,
    schema_rebuilt,
    hook_trust,
    trial7,
    schema_net,
    schema_transitions,
    locks,
    lint_catalog,
    cluster_props,
    policy_gaps,
    copy_fidelity,
];

mod schema;
mod schema_windows;
mod support;

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use libtest_mimic::{Arguments, Failed, Trial};
use neon_migrate::pg;
use neon_migrate::providers::local::cluster;

use support::{all_test_db_branches, query, runtime, MAIN_DB_PREFIX};

/// A test of the suite: its name, what it runs (a panic is a failure, its message the
/// report), and why it is skipped, if it is.
pub struct Test {
    name: &'static str,
    run: Box<dyn FnOnce() + Send>,
    skip: Option<&'static str>,
}

impl Test {
    pub fn new(
        name: &'static str,
        run: impl FnOnce() + Send + 'static,
        skip: Option<&'static str>,
    ) -> Test {
        Test {
            name,
            run: Box::new(run),
            skip,
        }
    }
}

/// The workload rehearsal judges latencies against its own schedule, and refuses to judge
/// (NOT RUN) when the machine keeps it from that schedule. Its tests run alone: every other
/// test holds the machine shared, they hold it exclusively (a waiting writer keeps new readers
/// out), so no other test's Postgres work or tool competes with them for the two cores.
static MACHINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Tests whose migration changes roles or cluster-wide grants: every other run's schema
/// check on the shared cluster would see them (a drift test failed so under load).
const CLUSTER_WIDE: &[&str] = &[
    // It creates a role (a reader without CREATEDB).
    "diff_says_a_new_extensions_members_are_not_checked_when_no_probe_can_be_made",
    "schema_check_fails_on_a_migration_that_grants_a_role_membership",
    "schema_check_fails_on_a_migration_that_grants_on_parameters_tablespaces_and_databases",
    "schema_check_fails_on_a_migration_that_changes_a_memberships_inherit_option",
    // Their plans change a database's privileges and owner, which the schema check of a
    // pipeline test running beside them compares (other databases' grants and owners).
    "schema_engine::fixture::606_net_database_privileges_and_comment",
    "schema_engine::fixture::607_net_database_owner",
    // Their migration runs as the server's superuser, whose schema check compares every
    // database: the emulator handing a test's main database to its project's role beside them
    // changed one (failed once in CI).
    "isolation_tool_role_server_is_the_documented_opt_out",
    "apply_refused_when_an_owner_changed_on_main_after_the_test_copy",
    // Its migration runs ALTER SYSTEM, which every other run's schema check reads.
    "schema_check_fails_on_a_migration_that_runs_alter_system",
];

/// Tests that run with the machine to themselves: the timing-sensitive ones, and those that
/// change what every other test's checks read.
fn timing_sensitive(name: &str) -> bool {
    name.starts_with("workload_") || CLUSTER_WIDE.contains(&name)
}

/// The machine, shared with every test but the timing-sensitive ones.
pub(crate) fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|e| e.into_inner())
}

/// The machine as test `name` holds it while it runs: alone when [`timing_sensitive`],
/// shared otherwise.
#[allow(dead_code)] // held for its drop
pub(crate) enum Hold {
    Shared(std::sync::RwLockReadGuard<'static, ()>),
    Alone(std::sync::RwLockWriteGuard<'static, ()>),
}

pub(crate) fn hold(name: &str) -> Hold {
    if timing_sensitive(name) {
        Hold::Alone(MACHINE.write().unwrap_or_else(|e| e.into_inner()))
    } else {
        Hold::Shared(shared())
    }
}

fn trials() -> Vec<Trial> {
    let all = tests();
    // Two files may hold functions of one name: a filter must still pick out one test.
    let mut names = std::collections::HashSet::new();
    for t in &all {
        assert!(names.insert(t.name), "two tests are named `{}`", t.name);
    }
    all.into_iter()
        .map(|t| {
            if let Some(reason) = t.skip {
                println!("note: `{}` is ignored: {reason}", t.name);
            }
            let run = t.run;
            let name = t.name;
            Trial::test(t.name, move || {
                let _machine = hold(name);
                run();
                Ok::<(), Failed>(())
            })
            .with_ignored_flag(t.skip.is_some())
        })
        .chain(schema::trials())
        .collect()
}

/// The test-only cluster folder: tmpfs when available, one per checkout.
fn cluster_dir() -> PathBuf {
    let hash = neon_migrate::naming::short_hash(env!("CARGO_MANIFEST_DIR"));
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/var/tmp"
    };
    // Another server (`NEON_MIGRATE_PG_BIN`, e.g. the PG 17 run) gets a cluster of its own.
    let bin = std::env::var(cluster::ENV_BIN)
        .map(|b| format!("-{}", neon_migrate::naming::short_hash(&b)))
        .unwrap_or_default();
    PathBuf::from(format!("{base}/neon-migrate-it-{hash}{bin}"))
}

/// Drops what earlier runs left: every test Neon database branch and every `it_*` main
/// database (golden templates included) on the test-only cluster. Returns what it dropped.
async fn drop_test_databases() -> Vec<String> {
    let rows = query(
        "postgres",
        &format!(
            "SELECT datname FROM pg_database d WHERE datname LIKE '{MAIN_DB_PREFIX}%' \
             OR shobj_description(d.oid, 'pg_database') LIKE '{{\"neon_migrate\":%'"
        ),
    )
    .await
    .expect("list test databases");
    let mut dropped = Vec::new();
    for row in rows {
        let name = row[0].clone().unwrap_or_default();
        let template = format!("ALTER DATABASE {} IS_TEMPLATE false", pg::ident(&name));
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::ident(&name));
        for sql in [template, drop] {
            if let Err(e) = query("postgres", &sql).await {
                eprintln!("warning: cannot drop {name}: {e}");
            }
        }
        dropped.push(name);
    }
    dropped
}

/// The shared server, stopped when dropped: at the end of the run, and also when the harness
/// itself panics (say, its stdout was closed), so no server outlives the suite.
struct StopOnDrop(cluster::Cluster);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Err(e) = cluster::stop(&self.0) {
            let _ = writeln!(
                std::io::stderr(),
                "warning: cannot stop the test cluster: {}",
                e
            );
        }
    }
}

fn main() {
    let mut args = Arguments::from_args();
    if args.list {
        libtest_mimic::run(&args, trials()).exit();
    }
    // The tests spend most of their time waiting on child processes, TTLs and the server:
    // more threads than cores keeps the run short on small machines.
    if args.test_threads.is_none() {
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        args.test_threads = Some(cores.max(4));
    }

    let started = Instant::now();
    let dir = cluster_dir();
    std::fs::create_dir_all(&dir).expect("create the test cluster folder");
    // Two suite runs in one checkout share the folder: they take turns.
    let suite_lock = File::create(dir.join("suite.lock")).expect("create suite.lock");
    suite_lock.lock().expect("lock suite.lock");

    let c = match cluster::ensure(Some(&dir)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: cannot start the test cluster in {}: {}",
                dir.display(),
                e
            );
            if let Some(h) = e.help_text() {
                eprintln!("  help: {h}");
            }
            std::process::exit(101);
        }
    };
    // From here on, even a panicking harness stops the server.
    let server = StopOnDrop(c.clone());
    println!(
        "test cluster: PostgreSQL {} at 127.0.0.1:{} in {} (ready after {} ms)",
        c.major,
        c.port,
        dir.display(),
        started.elapsed().as_millis()
    );
    support::set_cluster(c.clone());
    let rt = runtime();
    let stale = rt.block_on(drop_test_databases());
    if !stale.is_empty() {
        println!(
            "note: dropped {} database(s) left by an earlier interrupted run: {}",
            stale.len(),
            stale.join(", ")
        );
    }

    let conclusion = libtest_mimic::run(&args, trials());

    // The suite-wide promise: nothing a test created as a test Neon database branch survives.
    let left = rt.block_on(all_test_db_branches());
    // And no output of any test contains an API key or a password.
    support::note_secret(emulator::KEY);
    support::note_secret("secret-test-key-7d1f0c"); // neon_provider.rs's key
    let leaks = support::leaked_secrets();
    let _ = rt.block_on(drop_test_databases());
    drop(rt);
    drop(server);
    drop(suite_lock);
    println!(
        "integration suite finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !leaks.is_empty() {
        eprintln!("\nerror: {} output(s) contain a secret:", leaks.len());
        for l in &leaks {
            eprintln!("  {l}");
        }
        std::process::exit(1);
    }
    if !left.is_empty() {
        eprintln!(
            "\nerror: {} test Neon database branch(es) left behind on the test cluster:",
            left.len()
        );
        for f in &left {
            eprintln!(
                "  {} (database `{}`, parent `{}`)",
                f.name, f.database, f.parent
            );
        }
        std::process::exit(1);
    }
    conclusion.exit();
}

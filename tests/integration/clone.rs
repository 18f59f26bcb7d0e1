//! PostgreSQL ≥ 18 on a filesystem with reflinks: the local provider's copies are copy-on-write
//! (`file_copy_method = clone`), as the README says. Proven by what the filesystem reports: a
//! copy of a 100 MB database taken by the provider adds only a small fraction of that to the
//! space used, while the same copy without the setting adds all of it (the control, which shows
//! the measure can tell the two apart).
//!
//! `scripts/test` mounts an XFS image (`NEON_MIGRATE_TEST_XFS`) and runs this test with
//! PostgreSQL 18's binaries (`NEON_MIGRATE_PG_BIN`); elsewhere it is skipped and says why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::pg::{self, ident};
use neon_migrate::providers::local::{cluster, LocalProvider};
use neon_migrate::providers::{new_run_id, CreateRequest, DeleteOutcome, Provider};
use neon_migrate::secret::{Redactor, Secret};

use crate::Test;

const MAIN_DB: &str = "clone_main";

pub fn tests() -> Vec<Test> {
    tests![local_provider_clone_copies_are_copy_on_write_on_postgresql_18_over_xfs => skip_reason()]
}

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<&'static str> {
    let why = match (std::env::var_os("NEON_MIGRATE_TEST_XFS"), cluster::find_bin()) {
        (None, _) => format!(
            "no copy-on-write filesystem: scripts/test mounts one as root ({})",
            std::env::var("NEON_MIGRATE_TEST_XFS_MISSING")
                .unwrap_or_else(|_| "NEON_MIGRATE_TEST_XFS is not set".into())
        ),
        (Some(_), Err(e)) => format!("no PostgreSQL binaries: {}", e),
        (Some(_), Ok((_, major))) if major < 18 => format!(
            "needs PostgreSQL ≥ 18 (file_copy_method), this run has {major}; scripts/test runs it with 18"
        ),
        _ => return None,
    };
    Some(Box::leak(why.into_boxed_str()))
}

/// Bytes in use on the filesystem holding `path`.
fn used(path: &Path) -> u64 {
    let s = nix::sys::statvfs::statvfs(path).expect("statvfs");
    (s.blocks() - s.blocks_free()) * s.fragment_size()
}

struct OwnCluster(cluster::Cluster);

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Err(e) = cluster::stop(&self.0) {
            eprintln!("warning: cannot stop the clone test's cluster: {}", e);
        }
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

fn local_provider_clone_copies_are_copy_on_write_on_postgresql_18_over_xfs() {
    let mount = PathBuf::from(std::env::var_os("NEON_MIGRATE_TEST_XFS").expect("checked"));
    let dir = mount.join(format!("nm-clone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the cluster folder");
    let own = OwnCluster(cluster::ensure(Some(&dir)).unwrap_or_else(|e| {
        panic!(
            "cannot start a cluster in {}: {}",
            dir.display(),
            e
        )
    }));
    assert!(
        own.0.major >= 18,
        "the cluster runs PostgreSQL {}",
        own.0.major
    );
    assert!(
        cluster::supports_reflink(&own.0.data_dir()),
        "{} is not on a filesystem with reflinks",
        own.0.data_dir().display()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let admin = pg::connect(&Secret::new(own.0.url("postgres")))
            .await
            .expect("connect");
        admin
            .batch_execute(&format!("CREATE DATABASE {}", ident(MAIN_DB)))
            .await
            .expect("create the main database");
        {
            let main = pg::connect(&Secret::new(own.0.url(MAIN_DB)))
                .await
                .expect("connect to main");
            main.batch_execute(
                "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 3) AS pad \
                 FROM generate_series(1, 800000) g; CHECKPOINT",
            )
            .await
            .expect("fill the main database");
        }
        let size: i64 = admin
            .query_one("SELECT pg_database_size($1::text)", &[&MAIN_DB])
            .await
            .expect("size")
            .get(0);
        assert!(size > 100_000_000, "the main database is only {size} bytes");

        // The control: a plain FILE_COPY writes every byte again.
        let before = used(&dir);
        admin
            .batch_execute(&format!(
                "CREATE DATABASE clone_control TEMPLATE {} STRATEGY FILE_COPY",
                ident(MAIN_DB)
            ))
            .await
            .expect("plain copy");
        let plain = used(&dir).saturating_sub(before);
        assert!(
            plain as i64 > size / 2,
            "a plain copy of {size} bytes used only {plain} more: the measure cannot tell copies apart"
        );
        admin
            .batch_execute("DROP DATABASE clone_control")
            .await
            .expect("drop the control");

        // The provider's copy.
        let cfg = LocalConfig {
            url: None,
            main_database: Some(MAIN_DB.into()),
            data_dir: Some(dir.clone()),
            busy_parent: BusyParent::Fail,
            tool_role: Default::default(),
        };
        let redactor = Redactor::new();
        let provider = LocalProvider::open(&cfg, None, &redactor)
            .await
            .unwrap_or_else(|e| panic!("open the provider: {}", e));
        let before = used(&dir);
        let copy = provider
            .create(&CreateRequest {
                name: "migrate/clone-test".into(),
                ttl: Duration::from_secs(600),
                git_branch: "clone-test".into(),
                git_sha: "0000000".into(),
                pipeline: "test".into(),
                run_id: new_run_id(),
            })
            .await
            .unwrap_or_else(|e| panic!("create a test Neon database branch: {}", e));
        let cloned = used(&dir).saturating_sub(before);
        let rows: i64 = {
            let c = pg::connect(&copy.url).await.expect("connect to the copy");
            c.query_one("SELECT count(*) FROM big", &[])
                .await
                .expect("count")
                .get(0)
        };
        assert_eq!(rows, 800_000, "the copy does not hold the main database's rows");
        assert!(
            (cloned as i64) < size / 10,
            "the provider's copy of {size} bytes used {cloned} more bytes (a plain copy used {plain}): \
             not copy-on-write"
        );
        println!(
            "main database {size} bytes; plain FILE_COPY +{plain} bytes; provider's copy +{cloned} bytes"
        );
        match provider.delete(&copy.id).await {
            Ok(DeleteOutcome::Deleted) => {}
            other => panic!("delete the copy: {:?}", other.map_err(|e| e.to_string())),
        }
    });
    drop(rt);
    drop(own);
}

//! The `locks` check's honesty: a sampler sees only the locks held while it samples, so what it
//! did not see is "not observed", never "none".

use serde_json::Value;

use crate::support::{stage, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![locks_a_lock_the_migration_takes_that_no_sample_saw_is_not_observed_never_none]
}

/// `ALTER TABLE accounts ADD COLUMN` takes ACCESS EXCLUSIVE for a few milliseconds, after a
/// second of `pg_sleep`; the sampler samples once at its start and then every 10 s, so it
/// cannot see that lock (whatever the machine's load): the report must say the lock was
/// expected and not observed, and must not say that no table was locked. The budget (30 s) is
/// one the sampling can prove, and the sampler never went that long without a sample: passed.
fn locks_a_lock_the_migration_takes_that_no_sample_saw_is_not_observed_never_none() {
    let p = Project::new("locks_unseen")
        .config("[checks.locks]\nsample-interval = \"10s\"\naccess-exclusive-budget = \"30s\"\n")
        .migration(
            "0001_note.sql",
            "select pg_sleep(1);\nalter table accounts add column note text;\n",
        )
        .commit()
        .git_branch("feature/locks_unseen");
    p.main_sql("create table accounts (id int primary key); insert into accounts select generate_series(1, 10)");
    let out = p.run(&["run", "pre-push", "--json"]);
    p.assert_no_test_db_branches();
    let report = out.json();
    let locks = stage(&report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == "locks"))
        .cloned()
        .unwrap_or_else(|| panic!("no locks check\n{out}"));
    let summary = locks["summary"].as_str().unwrap_or_default();
    assert_eq!(
        summary,
        "no table lock observed (sampled every 10000 ms; shorter locks are not seen); expected, not observed: ACCESS EXCLUSIVE on public.accounts, 0 rewritten",
        "{locks:#}"
    );
    assert_eq!(locks["status"], "passed", "{locks:#}");
    let details: Vec<&str> = locks["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        details.iter().any(|d| d.starts_with(
            "public.accounts: ACCESS EXCLUSIVE expected from `alter table accounts add column …`, not observed"
        )),
        "{locks:#}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("longest gap between samples ")),
        "{locks:#}"
    );
}

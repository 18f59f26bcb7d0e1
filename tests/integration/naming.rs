//! Test Neon database branch names derived from git branch names: sanitized, cut with a hash
//! when too long, and the short sha when HEAD is detached.

use neon_migrate::exit;
use sha2::{Digest, Sha256};

use crate::support::Project;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        git_branch_with_uppercase_and_odd_characters_gets_a_sanitized_name,
        very_long_git_branch_gets_a_hashed_name_and_a_63_byte_database,
        detached_head_plan_says_the_short_sha_stands_in_for_the_git_branch,
        git_branches_that_sanitize_alike_get_distinct_test_neon_database_branches,
    ]
}

/// First 8 hex digits of SHA-256, computed here rather than by the product.
fn hash8(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

const CURRENT_DATABASE: &str = r#"
[[checks.sql]]
name = "runs on the test Neon database branch"
query = "select current_database()"
expect-value = "{db}"
"#;

fn git_branch_with_uppercase_and_odd_characters_gets_a_sanitized_name() {
    let git_branch = "Feature/JIRA-12+Fix#1,Über";
    // Sanitizing changed it, so it keeps a hash of the original: distinct from the names of
    // other git branches that sanitize alike.
    let want = format!(
        "migrate/feature/jira-12-fix-1-ber-{}",
        hash8(&format!("migrate/{git_branch}"))
    );
    let want = want.as_str();
    let p = Project::new("sanitized_name")
        .migration("0001_init.sql", "create table t (id int);\n")
        .commit()
        .git_branch(git_branch);

    let out = p.run(&["plan", "pre-push", "--json"]);
    out.code(exit::OK);
    let plan = out.json();
    assert_eq!(plan["git"]["branch"], git_branch, "{plan:#}");
    assert_eq!(plan["neon_database_branch"]["name"], want, "{plan:#}");

    // The human plan says the same.
    p.run(&["plan", "pre-push"])
        .code(exit::OK)
        .stdout_has(&format!("git branch            {git_branch}"))
        .stdout_has(&format!("Neon database branch  {want} (TTL 4h)"));

    // And the database really has that name while the run is on it.
    let p = p.config(&CURRENT_DATABASE.replace("{db}", want));
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::OK);
    let report = out.json();
    assert_eq!(report["neon_database_branch"]["name"], want);
    assert_eq!(report["neon_database_branch"]["id"], want);
    assert_eq!(report["neon_database_branch"]["deleted"], true);
    p.assert_no_test_db_branches();
}

fn very_long_git_branch_gets_a_hashed_name_and_a_63_byte_database() {
    // Git limits each ref component (a file name) to 255 bytes, not the whole ref.
    let git_branch = format!("feature/{}/{}/Tail-End", "a".repeat(120), "b".repeat(120));
    let raw = format!("migrate/{git_branch}");
    assert!(raw.len() > 256);
    let lowered = raw.to_lowercase();
    let want_name = format!("{}-{}", &lowered[..256 - 9], hash8(&raw));
    let want_db = format!("{}-{}", &want_name[..63 - 9], hash8(&want_name));
    let p = Project::new("long_name")
        .config(&CURRENT_DATABASE.replace("{db}", &want_db))
        .migration("0001_init.sql", "create table t (id int);\n")
        .commit()
        .git_branch(&git_branch);

    let plan = p.run(&["plan", "pre-push", "--json"]).code(exit::OK).json();
    let name = plan["neon_database_branch"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(name.len() <= 256, "{} chars: {name}", name.len());
    assert_eq!(name, want_name);

    // A different long git branch that only differs past the cut gets a different name.
    p.git(&["checkout", "-q", "-b", &format!("{git_branch}-2")]);
    let plan2 = p.run(&["plan", "pre-push", "--json"]).code(exit::OK).json();
    let name2 = plan2["neon_database_branch"]["name"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(name2.len(), 256, "{name2}");
    assert_ne!(
        name2, name,
        "two long git branches must not share a test Neon database branch"
    );
    p.git(&["checkout", "-q", &git_branch]);

    // End to end: the database name fits Postgres' 63 bytes and the check runs inside it.
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::OK);
    let report = out.json();
    assert_eq!(report["neon_database_branch"]["name"], want_name.as_str());
    let id = report["neon_database_branch"]["id"]
        .as_str()
        .unwrap_or_default();
    assert!(id.len() <= 63, "database name of {} bytes: {id}", id.len());
    assert_eq!(id, want_db);
    assert_eq!(report["neon_database_branch"]["created"], true);
    assert_eq!(report["neon_database_branch"]["deleted"], true);
    p.assert_no_test_db_branches();
}

fn detached_head_plan_says_the_short_sha_stands_in_for_the_git_branch() {
    let p = Project::new("detached_head").commit().detach();
    let sha = p.git(&["rev-parse", "HEAD"]);
    let short = &sha[..7];

    p.run(&["plan", "pre-push"])
        .code(exit::OK)
        .stdout_has(&format!("git branch            {short} (detached HEAD: the short sha stands in for the git branch)"))
        .stdout_has(&format!("commit                {sha}"))
        .stdout_has(&format!("Neon database branch  migrate/{short} "));

    let plan = p.run(&["plan", "pre-push", "--json"]).code(exit::OK).json();
    assert_eq!(plan["git"]["detached"], true);
    assert_eq!(plan["git"]["branch"], short);
    assert_eq!(plan["git"]["sha"], sha.as_str());
    assert_eq!(
        plan["neon_database_branch"]["name"],
        format!("migrate/{short}")
    );
}

/// The test Neon database branch name `plan` gives on git branch `git_branch` of `p`.
fn planned_name(p: &Project, git_branch: &str) -> String {
    p.git(&["checkout", "-q", "-B", git_branch]);
    let plan = p.run(&["plan", "pre-push", "--json"]).code(exit::OK).json();
    assert_eq!(plan["git"]["branch"], git_branch, "{plan:#}");
    plan["neon_database_branch"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn git_branches_that_sanitize_alike_get_distinct_test_neon_database_branches() {
    let p = Project::new("lossy_names").commit();
    // Each group sanitized to one name before: one run's copy was the other's.
    let groups: &[&[&str]] = &[
        &["feat/dedupe", "feat/Dedupe"],
        &["feat/foo.bar", "feat/FOO.BAR"],
        &["feat/a-b", "feat/a+b", "feat/a@b"],
        &["feat/x-y", "feat/x_y", "feat/X-Y"],
    ];
    for group in groups {
        let names: Vec<String> = group.iter().map(|b| planned_name(&p, b)).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{group:?} -> {names:?}");
        for (b, n) in group.iter().zip(&names) {
            let raw = format!("migrate/{b}");
            if raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/-".contains(c))
            {
                assert_eq!(n, &raw, "a name that needs no change keeps it");
            } else {
                assert_eq!(
                    n,
                    &format!(
                        "{}-{}",
                        n.rsplit_once('-').map(|(h, _)| h).unwrap_or(""),
                        hash8(&raw)
                    ),
                    "{b}: a changed name ends with a hash of the original"
                );
            }
        }
    }
    // `feat/ñ-ç` loses its whole last segment; git branch `feat` (another repository: one
    // cannot hold both) keeps `migrate/feat`.
    let accented = planned_name(&p, "feat/ñ-ç");
    let q = Project::new("lossy_names_plain").commit();
    let plain = planned_name(&q, "feat");
    assert_eq!(plain, "migrate/feat");
    assert_eq!(
        accented,
        format!("migrate/feat-{}", hash8("migrate/feat/ñ-ç"))
    );
}

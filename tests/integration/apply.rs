//! `apply` and `rollback`: the git branch policy, the drift check, the apply lock, lock
//! timeouts with retries, the restore point, and both ways back — through the real binary on
//! the shared cluster (local provider) and against the Neon API emulator (neon provider).

use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use neon_migrate::apply_lock::APPLY_LOCK_CLASS;
use neon_migrate::exit;
use neon_migrate::pg;
use neon_migrate::secret::Secret;
use serde_json::Value;

use crate::reliability::NeonEmu;
use crate::support::{cluster, run_command, stage, Output, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        apply_refused_from_a_git_branch_the_policy_does_not_allow_and_allowed_when_listed,
        apply_refused_when_main_changed_after_the_test_copy_and_says_what_changed,
        apply_waits_for_the_apply_lock_then_stops_naming_its_holder,
        apply_retries_after_lock_timeouts_and_passes_once_the_lock_is_released,
        apply_gives_up_after_lock_timeouts_naming_the_long_transaction,
        apply_creates_a_restore_point_and_rollback_restores_main_from_it,
        rollback_down_runs_down_migrations_one_step_at_a_time,
        rollback_restores_main_through_the_neon_restore_endpoint,
        apply_interrupted_while_holding_access_exclusive_cancels_our_session_and_says_what_was_rolled_back,
        apply_interrupted_while_the_tool_holds_access_exclusive_cancels_the_tools_session,
        apply_interrupted_on_the_neon_provider_cancels_the_session_on_the_main_neon_database_branch,
        apply_interrupted_during_a_data_migration_whose_tool_renamed_itself_never_commits_it_later,
    ]
}

const ORDERS: &str =
    "create table orders (id bigint primary key, total numeric(10, 2) not null);\n";
const ORDERS_DOWN: &str = "drop table orders;\n";
const NOTE: &str = "alter table orders add column note text;\n";
const NOTE_DOWN: &str = "alter table orders drop column note;\n";

/// The `[apply]` table with `extra` lines; restore points kept two hours.
fn apply_table(extra: &str) -> String {
    format!("[apply]\nrestore-point-ttl = \"2h\"\n{extra}\n")
}

/// The apply stage of a report: (status, message, help, details joined).
fn apply_of(out: &Output) -> (String, String, String, String) {
    let r = out.json();
    let a = stage(&r, "apply");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let details = a["details"]
        .as_array()
        .map(|d| d.iter().map(text).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default();
    (
        text(&a["status"]),
        text(&a["error"]["message"]),
        text(&a["error"]["help"]),
        details,
    )
}

/// Every stage before `apply` passed and the test Neon database branch is gone.
#[track_caller]
fn proven(out: &Output) {
    let r = out.json();
    for s in [
        "create-neon-database-branch",
        "migrate",
        "checks",
        "delete-neon-database-branch",
    ] {
        assert_eq!(stage(&r, s)["status"], "passed", "{s}\n{out}");
    }
    assert_eq!(r["neon_database_branch"]["deleted"], true, "{out}");
}

/// Deletes the restore points (and rollback leftovers) a test made: they are ours, so the
/// suite-wide check would count them.
fn gc_all(p: &Project) {
    p.run(&["gc", "--all"]).code(exit::OK);
    p.assert_no_test_db_branches();
}

fn apply_refused_from_a_git_branch_the_policy_does_not_allow_and_allowed_when_listed() {
    let p = Project::new("apply_policy")
        .config(&apply_table(""))
        .migration("0001_create_orders.sql", ORDERS)
        .commit();
    p.git(&["branch", "main"]);
    let p = p.git_branch("apply-policy/x");

    // The default: only the repository's default git branch (`main`: there is no origin).
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::APPLY_REFUSED);
    proven(&out);
    let (status, message, help, _) = apply_of(&out);
    assert_eq!(status, "failed");
    assert_eq!(
        message,
        "refusing to apply from git branch `apply-policy/x`: the default policy (only the repository's default git branch) allows only `main`"
    );
    assert!(
        help.contains("or add `apply-policy/x` to `git-branches` under [apply]"),
        "{help}"
    );
    assert_eq!(out.json()["restore_point"], Value::Null, "{out}");
    assert!(!p.main_has("public.orders"), "refused, yet applied\n{out}");
    p.assert_no_test_db_branches();

    // The human report says the same.
    p.run(&["run", "deploy"])
        .code(exit::APPLY_REFUSED)
        .stdout_has("refusing to apply from git branch `apply-policy/x`");

    // An explicit list without this git branch.
    let p = p.config(&apply_table("git-branches = [\"main\", \"release\"]"));
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::APPLY_REFUSED);
    let (_, message, _, _) = apply_of(&out);
    assert_eq!(
        message,
        "refusing to apply from git branch `apply-policy/x`: `git-branches` under [apply] allows only `main`, `release`"
    );
    assert!(!p.main_has("public.orders"));

    // Listed: applied.
    let p = p.config(&apply_table(
        "git-branches = [\"main\", \"apply-policy/x\"]",
    ));
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    assert!(p.main_has("public.orders"), "{out}");

    // A detached HEAD names no git branch: refused whatever the list says.
    let p = p.detach();
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::APPLY_REFUSED);
    let (_, message, help, _) = apply_of(&out);
    assert!(
        message.contains("refusing to apply from a detached HEAD"),
        "{out}"
    );
    assert!(help.contains("`git-branches` under [apply]"), "{help}");
    gc_all(&p);
}

fn apply_refused_when_main_changed_after_the_test_copy_and_says_what_changed() {
    let p = Project::new("apply_drift");
    p.main_sql("create table accounts (id bigint primary key)");
    let psql = cluster().bin.join("psql");
    let p = p
        .config(&format!(
            r#"
{}
[stages.alter-main]
kind = "shell"
run = '"$NM_PSQL" -q -v ON_ERROR_STOP=1 -d "$NM_MAIN_URL" -c "alter table accounts add column sneaky integer"'

[pipelines.deploy-drift]
stages = ["create-neon-database-branch", "migrate", "checks", "delete-neon-database-branch", "alter-main", "apply"]
"#,
            apply_table("git-branches = [\"apply-drift/x\"]")
        ))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("apply-drift/x");
    let mut c = p.command(&["run", "deploy-drift", "--json"]);
    c.env("NM_PSQL", &psql)
        .env("NM_MAIN_URL", cluster().url(p.main_db()));
    let out = run_command(c, &["run", "deploy-drift", "--json"]);
    out.code(exit::APPLY_REFUSED);
    proven(&out);
    let (status, message, help, details) = apply_of(&out);
    assert_eq!(status, "failed");
    assert_eq!(
        message,
        "refusing to apply: the main Neon database branch changed since this run copied it (1 change(s))"
    );
    assert!(help.contains("run the pipeline again"), "{help}");
    assert!(
        details.contains("changed on main: ") && details.contains("sneaky"),
        "what changed is named:\n{details}\n{out}"
    );
    assert!(
        !p.main_has("public.orders"),
        "main was migrated despite the drift\n{out}"
    );
    assert_eq!(out.json()["restore_point"], Value::Null, "{out}");
    p.assert_no_test_db_branches();

    // Proven again against the current schema: applied.
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    let (_, _, _, details) = apply_of(&out);
    assert!(
        details.contains("no drift: main's schema fingerprint is "),
        "{out}"
    );
    assert!(p.main_has("public.orders"));
    gc_all(&p);
}

/// A session holding the apply lock of `p`'s main database, as another apply would.
struct Holder {
    client: tokio_postgres::Client,
    pid: i32,
}

fn hold_apply_lock(p: &Project, app: &str) -> Holder {
    p.ensure_main();
    p.block_on(async {
        // The local provider takes the lock on the server's maintenance database.
        let client = pg::connect(&Secret::new(cluster().url("postgres")))
            .await
            .expect("connect");
        client
            .batch_execute(&format!("SET application_name = '{app}'"))
            .await
            .expect("application_name");
        client
            .query_one(
                "SELECT pg_advisory_lock($1, hashtext($2))",
                &[&APPLY_LOCK_CLASS, &p.main_db()],
            )
            .await
            .expect("take the apply lock");
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .expect("pid")
            .get(0);
        Holder { client, pid }
    })
}

fn apply_waits_for_the_apply_lock_then_stops_naming_its_holder() {
    let p = Project::new("apply_lock_held")
        .config(&apply_table(
            "git-branches = [\"apply-lock/held\"]\nlock-wait = \"1500ms\"",
        ))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("apply-lock/held");
    let holder = hold_apply_lock(&p, "it-apply-holder");
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::APPLY_REFUSED);
    proven(&out);
    let (_, message, help, _) = apply_of(&out);
    assert!(
        message.starts_with(&format!(
            "another apply holds the lock on the main Neon database branch {}: session pid {} (application `it-apply-holder`, client ",
            p.main_db(),
            holder.pid
        )),
        "{out}"
    );
    assert!(message.ends_with("; waited 1500ms"), "{message}");
    assert!(help.contains("raise `lock-wait` under [apply]"), "{help}");
    assert!(
        stage(&out.json(), "apply")["duration_ms"]
            .as_u64()
            .unwrap_or(0)
            >= 1500,
        "it waited `lock-wait` first\n{out}"
    );
    assert!(!p.main_has("public.orders"));

    // Another main database on the same server is not held up by this lock.
    let other = Project::new("apply_lock_other")
        .config(&apply_table(
            "git-branches = [\"apply-lock/other\"]\nlock-wait = \"1s\"",
        ))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("apply-lock/other");
    other.run(&["run", "deploy"]).code(exit::OK);
    gc_all(&other);

    // Released while a run waits: it proceeds, and says it waited.
    let p = p.config(&apply_table(
        "git-branches = [\"apply-lock/held\"]\nlock-wait = \"30s\"",
    ));
    let child = p
        .command(&["run", "deploy", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until it is the one waiting (its lock session is there), then let go.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting = p.block_on(holder.client.query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'neon-migrate apply apply-lock/held@%'",
            &[],
        ));
        if waiting.map(|r| r.get::<_, i64>(0)).unwrap_or(0) > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second run never came to the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
    let Holder { client, pid } = holder;
    drop(client);
    p.block_on(crate::support::wait_session_gone(pid));
    let out = child.wait_with_output().expect("wait");
    let out = Output::recorded("neon-migrate run deploy --json", &out, Duration::ZERO);
    out.code(exit::OK);
    let (_, _, _, details) = apply_of(&out);
    assert!(details.contains("s for another apply"), "{details}\n{out}");
    assert!(p.main_has("public.orders"));
    gc_all(&p);
}

/// A session of the test that keeps `accounts` locked in an open transaction.
fn lock_accounts(p: &Project) -> crate::support::Held {
    let held = p.hold_main_connection();
    p.block_on(held.client.batch_execute(
        "SET application_name = 'it-lock-holder'; BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE",
    ))
    .expect("lock accounts");
    held
}

/// Distinct backends that waited for a lock on `p`'s main database, polled until `n` were
/// seen (or `within` passed).
fn waiters(p: &Project, n: usize, within: Duration) -> Vec<i32> {
    let main = p.main_db().to_owned();
    p.block_on(async {
        let admin = pg::connect(&Secret::new(cluster().url("postgres")))
            .await
            .expect("connect");
        let mut seen = Vec::new();
        let deadline = Instant::now() + within;
        while seen.len() < n && Instant::now() < deadline {
            let rows = admin
                .query(
                    "SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                     WHERE NOT l.granted AND d.datname = $1",
                    &[&main],
                )
                .await
                .expect("pg_locks");
            for r in rows {
                let pid: i32 = r.get(0);
                if !seen.contains(&pid) {
                    seen.push(pid);
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seen
    })
}

fn lock_timeout_project(tag: &str, git_branch: &str, apply: &str) -> Project {
    let p = Project::new(tag);
    p.main_sql(
        "create table accounts (id bigint primary key); insert into accounts values (1), (2)",
    );
    // The test's own session stays on main: copies come from the golden template.
    p.config(&format!(
        "[provider]\nbusy-parent = \"golden-template\"\n\n{}",
        apply_table(&format!(
            "git-branches = [\"{git_branch}\"]\nlock-timeout = \"200ms\"\n{apply}"
        ))
    ))
    .migration(
        "0001_accounts_note.sql",
        "alter table accounts add column note text;\n",
    )
    .commit()
    .git_branch(git_branch)
}

fn has_note(p: &Project) -> bool {
    !p.main_sql("SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'note'")
        .is_empty()
}

fn apply_retries_after_lock_timeouts_and_passes_once_the_lock_is_released() {
    let p = lock_timeout_project("apply_lock_timeout", "apply-locked/retried", "retries = 5");
    let held = lock_accounts(&p);
    // The golden template is made now (main is busy), with two rows; a third arrives after it.
    p.run(&["run", "pre-push"]).code(exit::OK);
    p.main_sql("insert into accounts values (3)");
    let child = p
        .command(&["run", "deploy", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Two attempts timed out waiting for the table: release it.
    let seen = waiters(&p, 2, Duration::from_secs(60));
    assert!(seen.len() >= 2, "the apply did not retry: {seen:?}");
    p.block_on(held.client.batch_execute("COMMIT"))
        .expect("commit");
    p.release(held);
    let out = child.wait_with_output().expect("wait");
    let out = Output::recorded("neon-migrate run deploy --json", &out, Duration::ZERO);
    out.code(exit::OK);
    let (_, _, _, details) = apply_of(&out);
    assert!(
        details.contains("attempt 1: lock timeout; retrying in 0.5 s"),
        "{details}"
    );
    assert!(details.contains("after lock timeouts"), "{details}");
    assert!(
        details.contains("applied 0001_accounts_note.sql"),
        "{details}"
    );
    assert!(has_note(&p));
    // The restore point was copied from the busy main with its current data, not from the
    // golden template (whose data is as of the last schema change: two rows).
    let point = out.json()["restore_point"]
        .as_str()
        .expect("restore point")
        .to_owned();
    let db = p.ours()
        .into_iter()
        .find(|f| f.name == point)
        .expect("the restore point exists")
        .database;
    let rows = p
        .block_on(crate::support::query(&db, "select count(*) from accounts"))
        .expect("query the restore point");
    assert_eq!(rows[0][0].as_deref(), Some("3"));
    gc_all(&p);
}

fn apply_gives_up_after_lock_timeouts_naming_the_long_transaction() {
    let p = lock_timeout_project(
        "apply_lock_gives_up",
        "apply-locked/gives-up",
        "retries = 1",
    );
    let held = lock_accounts(&p);
    let out = p.run(&["run", "deploy", "--json"]);
    p.block_on(held.client.batch_execute("COMMIT"))
        .expect("commit");
    p.release(held);
    out.code(exit::MIGRATION_FAILED);
    proven(&out);
    let (status, message, help, details) = apply_of(&out);
    assert_eq!(status, "failed");
    assert!(
        message.contains("lock timeout") && message.contains("55P03"),
        "{message}"
    );
    assert!(help.starts_with("gave up after 2 attempt(s): "), "{help}");
    assert!(
        help.contains("`it-lock-holder`"),
        "the blocker is named: {help}"
    );
    assert!(
        help.contains("raise `lock-timeout`/`retries` under [apply]"),
        "{help}"
    );
    assert!(
        details.contains("attempt 1: lock timeout; retrying in 0.5 s"),
        "{details}"
    );
    assert!(
        details.contains("holds the state before this apply"),
        "{details}"
    );
    assert!(!has_note(&p), "nothing was applied");
    gc_all(&p);
}

fn apply_creates_a_restore_point_and_rollback_restores_main_from_it() {
    let p = Project::new("apply_rollback");
    p.main_sql(
        "create table accounts (id bigint primary key); insert into accounts values (1), (2), (3)",
    );
    let p = p
        .config(&apply_table("git-branches = [\"release/rollback\"]"))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("release/rollback");
    let before = Utc::now();
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    let point = out.json()["restore_point"]
        .as_str()
        .expect("restore point named")
        .to_owned();
    assert!(
        point.starts_with(&format!("restore/{}-", p.main_db())),
        "{point}"
    );
    let (_, _, _, details) = apply_of(&out);
    assert!(
        details.contains(&format!("restore point {point} (expires 20")),
        "{details}"
    );
    let found = p.ours()
        .into_iter()
        .find(|f| f.name == point)
        .expect("the restore point exists");
    let ttl = found.expires_at - before;
    assert!(
        ttl > chrono::Duration::minutes(119) && ttl <= chrono::Duration::minutes(121),
        "restore-point-ttl = 2h, got {ttl}"
    );
    assert!(p.main_has("public.orders"));
    // Production moves on after the apply.
    p.main_sql("insert into accounts values (4); insert into orders values (1, 9.99)");

    // No terminal, no --yes: it says what it would do, then refuses.
    let out = p.run(&["rollback"]);
    out.code(exit::USAGE)
        .stdout_has(&format!(
            "This restores the main Neon database branch {} from restore point {point}",
            p.main_db()
        ))
        .stdout_has("(expires in 7 days)")
        .stderr_has("rollback needs confirmation")
        .stderr_has("pass `--yes`");
    assert!(p.main_has("public.orders"), "nothing was restored");

    let out = p.run(&["rollback", "--to", "restore/no-such-point", "--yes"]);
    out.code(exit::USAGE)
        .stderr_has("no restore point named `restore/no-such-point`")
        .stderr_has(&format!("existing: {point}"));
    p.run(&["rollback", "--to", &point, "--down"])
        .code(exit::USAGE)
        .stderr_has("`--to` names a restore point, and `--down` does not use one");

    // A connection to main is ended by the restore.
    let held = p.hold_main_connection();
    let out = p.run(&["rollback", "--yes"]);
    drop(held);
    out.code(exit::OK).stdout_has(&format!(
        "restored {} from {point}; the previous state is {}-before-rollback-",
        p.main_db(),
        p.main_db()
    ));
    assert!(
        !p.main_has("public.orders"),
        "main is back to before the apply\n{out}"
    );
    assert_eq!(
        p.main_sql("select count(*) from accounts")[0][0].as_deref(),
        Some("3"),
        "{out}"
    );
    // The state it replaced is kept, with a TTL.
    let kept = p.ours()
        .into_iter()
        .find(|f| {
            f.name
                .starts_with(&format!("{}-before-rollback-", p.main_db()))
        })
        .unwrap_or_else(|| panic!("the previous state is kept\n{out}"));
    assert!(kept.expires_at > Utc::now() + chrono::Duration::days(6));
    let rows = p
        .block_on(crate::support::query(
            &kept.database,
            "select count(*) from accounts",
        ))
        .expect("query the kept state");
    assert_eq!(rows[0][0].as_deref(), Some("4"));
    // The restore point became main: none is left.
    p.run(&["rollback", "--yes"])
        .code(exit::USAGE)
        .stderr_has("no restore point of the main Neon database branch");
    // And the proof applies again from here.
    p.run(&["run", "deploy"]).code(exit::OK);
    assert!(p.main_has("public.orders"));
    gc_all(&p);
}

fn rollback_down_runs_down_migrations_one_step_at_a_time() {
    let p = Project::new("apply_rollback_down")
        .config(&apply_table(
            "git-branches = [\"release/down\"]\nrestore-point = false",
        ))
        .migration("0001_create_orders.sql", ORDERS)
        .migration("0001_create_orders.down.sql", ORDERS_DOWN)
        .migration("0002_orders_note.sql", NOTE)
        .migration("0002_orders_note.down.sql", NOTE_DOWN)
        .commit()
        .git_branch("release/down");
    let out = p.run(&["run", "deploy", "--json"]);
    out.code(exit::OK);
    assert_eq!(
        out.json()["restore_point"],
        Value::Null,
        "restore-point = false"
    );
    let has_note = |p: &Project| {
        !p.main_sql("SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'")
            .is_empty()
    };
    assert!(has_note(&p));

    let out = p.run(&["rollback", "--down"]);
    out.code(exit::USAGE)
        .stdout_has(&format!(
            "This runs, on the main Neon database branch {}:",
            p.main_db()
        ))
        .stdout_has("  0002_orders_note.down.sql")
        .stderr_has("rollback needs confirmation");
    assert!(has_note(&p), "nothing ran without confirmation");

    p.run(&["rollback", "--down", "--yes"])
        .code(exit::OK)
        .stdout_has("rolled back: 0002_orders_note.down.sql");
    assert!(!has_note(&p) && p.main_has("public.orders"));
    p.run(&["rollback", "--down", "--steps", "1", "--yes"])
        .code(exit::OK)
        .stdout_has("rolled back: 0001_create_orders.down.sql");
    assert!(!p.main_has("public.orders"));
    p.run(&["rollback", "--down", "--yes"])
        .code(exit::OK)
        .stdout_has("nothing to roll back");
    // Applied again, then two steps at once, newest first.
    p.run(&["run", "deploy"]).code(exit::OK);
    p.run(&["rollback", "--down", "--steps", "2", "--yes"])
        .code(exit::OK)
        .stdout_has("rolled back: 0002_orders_note.down.sql, 0001_create_orders.down.sql");
    assert!(!p.main_has("public.orders"));

    // A migration without its down file: refused before anything runs.
    let p = p.migration(
        "0003_orders_customer.sql",
        "alter table orders add column customer text;\n",
    );
    std::fs::remove_file(p.path().join("migrations/0001_create_orders.down.sql")).expect("rm");
    let p = p.commit();
    p.run(&["run", "deploy"]).code(exit::OK);
    p.run(&["rollback", "--down", "--steps", "3", "--yes"])
        .code(exit::USAGE)
        .stderr_has(
            "no down migration for 0003_orders_customer.down.sql, 0001_create_orders.down.sql",
        );
    assert!(has_note(&p), "nothing ran");
    p.assert_no_test_db_branches();
}

fn rollback_restores_main_through_the_neon_restore_endpoint() {
    let p = Project::new("apply_rollback_neon");
    let neon = NeonEmu::start("apply-rollback", p.main_db());
    let p = p
        .config_raw(&neon.toml(&apply_table("git-branches = [\"main\"]")))
        .migration("0001_create_orders.sql", ORDERS)
        .commit()
        .git_branch("main");
    let out = neon.run(&p, &["run", "deploy", "--json"]);
    out.code(exit::OK);
    let point = out.json()["restore_point"]
        .as_str()
        .expect("restore point")
        .to_owned();
    assert!(point.starts_with("restore/main-"), "{point}");
    let listed = neon.others();
    let rp = listed
        .iter()
        .find(|b| b["name"] == point.as_str())
        .unwrap_or_else(|| panic!("the restore point is a Neon database branch: {listed:#?}"));
    assert!(rp["expires_at"].is_string(), "{rp:#}");
    assert!(neon.main_has("public.orders"));
    neon.main_sql("insert into orders values (1, 9.99)");

    let out = neon.run(&p, &["rollback"]);
    out.code(exit::USAGE)
        .stdout_has(&format!(
            "This restores the main Neon database branch main from restore point {point}"
        ))
        .stdout_has("(no expiry: delete it when you no longer need it)");
    assert!(neon.main_has("public.orders"));

    let out = neon.run(&p, &["rollback", "--yes"]);
    out.code(exit::OK).stdout_has(&format!(
        "restored main from {point}; the previous state is main-before-rollback-"
    ));
    neon.wait_idle();
    assert!(!neon.main_has("public.orders"), "main restored\n{out}");
    let names = neon.names();
    assert!(
        names.iter().any(|n| n.starts_with("main-before-rollback-")),
        "the previous state is preserved: {names:?}"
    );
    neon.assert_every_db_branch_has_a_ttl(&out);
}

/// Locks anyone holds or waits for on database `db` (relations, advisory locks, objects), seen
/// from outside (`postgres`): (pid, mode, granted, application name).
fn locks_on(p: &Project, db: &str) -> Vec<Vec<Option<String>>> {
    p.block_on(crate::support::query(
        "postgres",
        &format!(
            "SELECT l.pid::text, l.mode, l.granted::text, coalesce(a.application_name, '') \
             FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.database = (SELECT oid FROM pg_database WHERE datname = {})",
            pg::literal(db)
        ),
    ))
    .expect("pg_locks")
}

/// `deploy` of a migration that takes ACCESS EXCLUSIVE on main and then sleeps (only on main:
/// on the test copy it passes at once), interrupted with SIGINT while it holds the lock.
fn interrupt_during_apply(tag: &str, tool: &str, prelude: &str) -> (Project, Output) {
    interrupt_during_apply_on(Project::new(tag), None, tag, tool, prelude)
}

/// [`interrupt_during_apply`] on `p`, through the Neon API emulator `neon` when given.
fn interrupt_during_apply_on(
    p: Project,
    neon: Option<&NeonEmu>,
    tag: &str,
    tool: &str,
    prelude: &str,
) -> (Project, Output) {
    let seed = "create table accounts (id bigint primary key); insert into accounts values (1)";
    match neon {
        // Through its endpoint: the main Neon database branch's role owns the table.
        Some(neon) => {
            neon.main_sql(seed);
        }
        None => {
            p.main_sql(seed);
        }
    }
    let main = p.main_db().to_owned();
    let migration = format!(
        "{prelude}alter table accounts add column flagged boolean;\n\
         DO $$ BEGIN IF current_database() = {} THEN PERFORM pg_sleep(600); END IF; END $$;\n",
        pg::literal(&main)
    );
    let git_branch = format!("{tag}/x");
    let toml = format!(
        "{tool}\n{}",
        apply_table(&format!("git-branches = [\"{git_branch}\"]"))
    );
    let p = match neon {
        Some(neon) => p.config_raw(&neon.toml(&toml)),
        None => p.config(&toml),
    }
    .migration("0001_flag.sql", &migration)
    .commit()
    .git_branch(&git_branch);
    let mut c = match neon {
        Some(neon) => neon.command(&p, &["run", "deploy", "--json"]),
        None => p.command(&["run", "deploy", "--json"]),
    };
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = c.spawn().expect("spawn neon-migrate");
    // The event: ACCESS EXCLUSIVE granted on main, seen from outside.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let held = locks_on(&p, &main).iter().any(|l| {
            l[1].as_deref() == Some("AccessExclusiveLock") && l[2].as_deref() == Some("true")
        });
        if held {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            panic!(
                "neon-migrate ended ({status}) before the migration held its lock on main\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "the migration never locked main");
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let out = child.wait_with_output().expect("wait for neon-migrate");
    let out = Output::recorded("neon-migrate run deploy --json (SIGINT during apply)", &out, started.elapsed());
    // Right after the exit, from outside: nobody holds or waits for a lock on main, and no
    // session is left on it.
    let left = locks_on(&p, &main);
    assert!(left.is_empty(), "locks left on main: {left:?}\n{out}");
    let sessions = p
        .block_on(crate::support::query(
            "postgres",
            &format!(
                "SELECT pid::text, coalesce(application_name, ''), coalesce(state, '') \
                 FROM pg_stat_activity WHERE datname = {} AND backend_type = 'client backend'",
                pg::literal(&main)
            ),
        ))
        .expect("pg_stat_activity");
    assert!(
        sessions.is_empty(),
        "sessions left on main: {sessions:?}\n{out}"
    );
    out.code(exit::INTERRUPTED);
    let report = out.json();
    assert_eq!(report["outcome"], "interrupted", "{out}");
    proven(&out);
    // Readers get through, and nothing of the migration stayed.
    let flagged = p.main_sql(
        "SET lock_timeout = '10s'; SELECT count(*)::text FROM information_schema.columns \
         WHERE table_name = 'accounts' AND column_name = 'flagged'",
    );
    assert_eq!(flagged, vec![vec![Some("0".to_owned())]], "{out}");
    (p, out)
}

fn apply_interrupted_while_holding_access_exclusive_cancels_our_session_and_says_what_was_rolled_back() {
    let (p, out) = interrupt_during_apply("apply_interrupt_sql", "", "");
    let (status, message, _, details) = apply_of(&out);
    assert_eq!(status, "failed", "{out}");
    assert!(
        message.starts_with("interrupted by a signal during apply to the main Neon database branch ")
            && message.contains("cancelled 1 session(s) of the migration on it")
            && message.contains("rolled back: the open transaction of the migration in progress; not applied: 0001_flag.sql")
            && message.contains("kept: nothing"),
        "{message}\n{out}"
    );
    assert!(
        details.contains("cancelled pid ") && details.contains("neon-migrate-apply-"),
        "{details}\n{out}"
    );
    assert!(
        details.contains("restore point restore/"),
        "{details}\n{out}"
    );
    gc_all(&p);
}

fn apply_interrupted_while_the_tool_holds_access_exclusive_cancels_the_tools_session() {
    let psql = cluster().bin.join("psql");
    let tool = format!(
        "[tool]\nname = \"psql-files\"\ncommand = '''\"{}\" -X -v ON_ERROR_STOP=1 -1 -d \"$DATABASE_URL\" -f migrations/0001_flag.sql'''\n",
        psql.display()
    );
    // A tool that names its sessions itself: found as the sessions it opened on main while
    // it ran that hold a lock only schema changes take.
    let (p, out) = interrupt_during_apply(
        "apply_interrupt_tool",
        &tool,
        "set application_name = 'my-own-tool';\n",
    );
    let (status, message, _, details) = apply_of(&out);
    assert_eq!(status, "failed", "{out}");
    // The tool's backend, its client killed, may also have ended on its own first
    // (`client_connection_check_interval`): then there was nothing left to cancel.
    if message.contains("cancelled 1 session(s) of the migration on it") {
        assert!(
            message.contains("rolled back: the open transaction of the migration in progress")
                && details.contains("cancelled pid ")
                && details.contains("application `my-own-tool`"),
            "{message}\n{details}\n{out}"
        );
    } else {
        assert!(
            message.contains("no session of the migration was running on it")
                && message.contains("its sessions had already ended"),
            "{message}\n{out}"
        );
    }
    gc_all(&p);
}

fn apply_interrupted_on_the_neon_provider_cancels_the_session_on_the_main_neon_database_branch() {
    let tag = "apply_interrupt_neon";
    let p = Project::new(tag);
    let neon = NeonEmu::start(tag, p.main_db());
    let (p, out) = interrupt_during_apply_on(p, Some(&neon), tag, "", "");
    neon.assert_no_secret(&out);
    let (status, message, _, details) = apply_of(&out);
    assert_eq!(status, "failed", "{out}");
    assert!(
        message.contains("cancelled 1 session(s) of the migration on it")
            && message.contains("not applied: 0001_flag.sql"),
        "{message}\n{out}"
    );
    assert!(details.contains("restore point "), "{details}\n{out}");
    neon.run(&p, &["gc", "--all"]).code(exit::OK);
}

/// The tool is one psql call that renames its session, updates rows and sleeps before its
/// COMMIT, all in one simple-query string: a data migration, holding only ROW EXCLUSIVE. Its
/// backend does not read from its (killed) client while the string runs, so unless it is
/// cancelled or notices the dead client, it commits after the sleep — after neon-migrate said
/// it rolled back.
fn apply_interrupted_during_a_data_migration_whose_tool_renamed_itself_never_commits_it_later() {
    const SLEEP_S: u64 = 15;
    let tag = "apply_interrupt_data";
    let p = Project::new(tag);
    p.main_sql(
        "create table customers (id bigint primary key, name text not null); \
         insert into customers values (1, 'a'), (2, 'b'), (3, 'c'); \
         create table trk (name text primary key)",
    );
    let main = p.main_db().to_owned();
    let psql = cluster().bin.join("psql");
    let script = format!(
        "exec \"{}\" -X -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -c \"set application_name='myapp'; begin; \
         update customers set name = 'changed'; insert into trk values ('0001_data'); \
         select pg_sleep(case when current_database() = '{main}' then {SLEEP_S} else 0 end); commit;\"\n",
        psql.display()
    );
    let git_branch = format!("{tag}/x");
    let toml = format!(
        "[tool]\nname = \"data-script\"\ncommand = \"sh apply.sh\"\ntracking-query = \"select name from trk order by name\"\n\n{}",
        apply_table(&format!("git-branches = [\"{git_branch}\"]"))
    );
    let p = p
        .config(&toml)
        .file("apply.sh", &script)
        .migration("0001_data.sql", "update customers set name = 'changed';\n")
        .commit()
        .git_branch(&git_branch);
    let mut c = p.command(&["run", "deploy", "--json"]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = c.spawn().expect("spawn neon-migrate");
    // The event: the tool's session on main sleeps before its COMMIT, seen from outside.
    let sleeping_on_main = format!(
        "SELECT pid::text FROM pg_stat_activity WHERE datname = {} \
         AND application_name = 'myapp' AND wait_event = 'PgSleep'",
        pg::literal(&main)
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let rows = p
            .block_on(crate::support::query("postgres", &sleeping_on_main))
            .expect("pg_stat_activity");
        if !rows.is_empty() {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            panic!(
                "neon-migrate ended ({status}) before the tool slept on main\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "the tool never slept on main");
        std::thread::sleep(Duration::from_millis(20));
    }
    let slept_from = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let out = child.wait_with_output().expect("wait for neon-migrate");
    let out = Output::recorded("neon-migrate run deploy --json (SIGINT during a data migration's apply)", &out, started.elapsed());
    // Right after the exit, from outside: the tool's session is gone from main.
    let left = p
        .block_on(crate::support::query(
            "postgres",
            &format!(
                "SELECT pid::text, coalesce(state, ''), coalesce(wait_event, '') \
                 FROM pg_stat_activity WHERE datname = {} AND application_name = 'myapp'",
                pg::literal(&main)
            ),
        ))
        .expect("pg_stat_activity");
    assert!(
        left.is_empty(),
        "the tool's session is left on main: {left:?}\n{out}"
    );
    out.code(exit::INTERRUPTED);
    proven(&out);
    let (status, message, _, details) = apply_of(&out);
    assert_eq!(status, "failed", "{out}");
    // The report is true: it checked, found nothing left, and nothing was kept.
    assert!(
        message.contains("rolled back: ") && message.contains("kept: nothing"),
        "{message}\n{out}"
    );
    assert!(
        !message.contains("may still run")
            && details.contains("checked after the cleanup: no session"),
        "{message}\n{details}\n{out}"
    );
    if message.contains("cancelled 1 session(s)") {
        assert!(details.contains("application `myapp`"), "{details}\n{out}");
    }
    // Longer than the sleep: had the backend run on, it would have committed by now.
    let until = slept_from + Duration::from_secs(SLEEP_S + 5);
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
    let rows = p.main_sql(
        "SELECT (SELECT count(*) FROM customers WHERE name = 'changed')::text, \
         (SELECT count(*) FROM trk)::text",
    );
    assert_eq!(
        rows,
        vec![vec![Some("0".to_owned()), Some("0".to_owned())]],
        "the interrupted data migration committed on main after the report said it rolled back\n{out}"
    );
    gc_all(&p);
}

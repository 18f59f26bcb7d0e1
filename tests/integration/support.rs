//! The test kit: a project builder that reads like a terminal session, the real binary, and
//! helpers that look inside the shared embedded cluster.
//!
//! ```text
//! let p = Project::new("pre_push")
//!     .config(TOML)
//!     .migration("0001_init.sql", SQL)
//!     .commit()
//!     .git_branch("feature/x");
//! p.run(&["run", "pre-push"]).code(0).stdout_has("PASSED");
//! ```
//!
//! Every project is its own git repository in a temporary folder with its own main database
//! (`provider.main-database = "it_<unique>"`), so tests never share state and run in parallel.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use neon_migrate::config::{BusyParent, LocalConfig};
use neon_migrate::emulator::{Emulator, EmulatorOptions};
use neon_migrate::pg;
use neon_migrate::providers::local::cluster::{self, Cluster};
use neon_migrate::secret::Secret;
use serde_json::Value;
use tokio_postgres::SimpleQueryMessage;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_neon-migrate");

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Registers the shared cluster (done once by the harness before any test runs).
pub fn set_cluster(c: Cluster) {
    CLUSTER.set(c).expect("the shared cluster is set once");
}

/// The shared embedded cluster of this test run.
pub fn cluster() -> &'static Cluster {
    CLUSTER
        .get()
        .expect("the harness starts the shared cluster before the tests")
}

/// Prefix of every main database a test creates (the harness drops them all at the end).
pub const MAIN_DB_PREFIX: &str = "it_";

/// A unique main database name for a test.
pub fn unique_db(test: &str) -> String {
    let slug: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{MAIN_DB_PREFIX}{slug}_{}_{n}", std::process::id())
}

/// A Neon API emulator for project `project_id` (API key `key`) whose main Neon database
/// branch is database `main_db` of the shared cluster, on a multi-threaded runtime of its own
/// (it keeps serving while the test thread waits for the binary).
pub fn start_emulator(
    project_id: &str,
    key: &str,
    main_db: &str,
    operation_delay: Duration,
) -> (tokio::runtime::Runtime, Emulator) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let opts = EmulatorOptions {
        listen: "127.0.0.1:0".parse().expect("address"),
        project_id: project_id.into(),
        api_key: Some(key.into()),
        operation_delay,
        local: LocalConfig {
            url: None,
            main_database: Some(main_db.into()),
            data_dir: Some(cluster().dir.clone()),
            busy_parent: BusyParent::Fail,
            tool_role: Default::default(),
        },
    };
    let emu = rt
        .block_on(Emulator::start(opts))
        .unwrap_or_else(|e| panic!("cannot start the emulator: {} ({:?})", e, e.help_text()));
    (rt, emu)
}

/// A current-thread Tokio runtime for one test's database work.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Rows of a simple query, every value as text (as psql shows it).
pub type Rows = Vec<Vec<Option<String>>>;

fn rows_of(messages: Vec<SimpleQueryMessage>) -> Rows {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

/// Runs `sql` on database `db` of the shared cluster, then waits until the session is gone
/// from `pg_stat_activity`: a lingering session on a main database would make the next run's
/// template copy fail for a reason that has nothing to do with the test.
pub async fn query(db: &str, sql: &str) -> Result<Rows, String> {
    query_on(cluster(), db, sql).await
}

/// [`query`] on another cluster `c` (one a test started for itself).
pub async fn query_on(c: &Cluster, db: &str, sql: &str) -> Result<Rows, String> {
    let client = pg::connect(&Secret::new(c.url(db)))
        .await
        .map_err(|e| e.to_string())?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(|e| pg::describe(&e))?
        .get(0);
    let result = client
        .simple_query(sql)
        .await
        .map(rows_of)
        .map_err(|e| pg::describe(&e));
    drop(client);
    wait_session_gone_on(c, pid).await;
    result
}

/// Waits (at most 10 s) until backend `pid` has left `pg_stat_activity`.
pub async fn wait_session_gone(pid: i32) {
    wait_session_gone_on(cluster(), pid).await
}

/// [`wait_session_gone`] on cluster `c`.
async fn wait_session_gone_on(c: &Cluster, pid: i32) {
    let admin = pg::connect(&Secret::new(c.url("postgres")))
        .await
        .expect("admin connection");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .await
            .expect("pg_stat_activity")
            .get(0);
        if n == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "backend {pid} did not go away within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A Neon database branch neon-migrate made, as the cluster records it (the database
/// comment's JSON): a test Neon database branch, or a restore point `apply` keeps.
#[derive(Debug, Clone)]
pub struct Found {
    /// The database name (the local provider's id).
    pub database: String,
    /// The Neon database branch name.
    pub name: String,
    /// The main database it was copied from.
    pub parent: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl Found {
    /// A restore point: kept on purpose (with a TTL) for `neon-migrate rollback`.
    pub fn is_restore_point(&self) -> bool {
        self.name
            .starts_with(neon_migrate::providers::RESTORE_PREFIX)
    }
}

/// Every test Neon database branch on the shared cluster, whoever made it (restore points,
/// kept on purpose, are not test Neon database branches).
pub async fn all_test_db_branches() -> Vec<Found> {
    marked_databases()
        .await
        .into_iter()
        .filter(|f| !f.is_restore_point())
        .collect()
}

/// Every database whose comment is neon-migrate's JSON (the same rule as
/// `LocalProvider::list`), whoever made it.
pub async fn marked_databases() -> Vec<Found> {
    let rows = query(
        "postgres",
        "SELECT d.datname, s.description FROM pg_database d \
         JOIN pg_shdescription s ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass \
         WHERE s.description LIKE '{\"neon_migrate\":%' ORDER BY d.datname",
    )
    .await
    .expect("list test Neon database branches");
    rows.into_iter()
        .map(|r| {
            let database = r[0].clone().unwrap_or_default();
            let meta: Value =
                serde_json::from_str(r[1].as_deref().unwrap_or("{}")).unwrap_or(Value::Null);
            let text = |k: &str| meta[k].as_str().unwrap_or_default().to_owned();
            let expires_at = chrono::DateTime::parse_from_rfc3339(&text("expires_at"))
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default();
            Found {
                database,
                name: text("name"),
                parent: text("parent"),
                expires_at,
            }
        })
        .collect()
}

/// Whether database `name` exists on the shared cluster.
pub async fn database_exists(name: &str) -> bool {
    let sql = format!(
        "SELECT 1 FROM pg_database WHERE datname = {}",
        pg::literal(name)
    );
    !query("postgres", &sql)
        .await
        .expect("pg_database")
        .is_empty()
}

/// What one run of the binary did.
pub struct Output {
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    pub took: Duration,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\n(exit {}, {} ms)\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.code,
            self.took.as_millis(),
            self.stdout,
            self.stderr
        )
    }
}

impl Output {
    /// What a finished process did, as `command` (how failure messages name it).
    pub fn of(command: impl Into<String>, out: &std::process::Output, took: Duration) -> Output {
        Output {
            command: command.into(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
            took,
        }
    }

    /// [`Output::of`], its stdout and stderr fed to the suite's secret scan.
    pub fn recorded(
        command: impl Into<String>,
        out: &std::process::Output,
        took: Duration,
    ) -> Output {
        let out = Output::of(command, out, took);
        record_output(&out.command, &out.stdout);
        record_output(&out.command, &out.stderr);
        out
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(self.code, want, "unexpected exit code\n{self}");
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{self}"
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}\n{self}"
        );
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }

    /// The line of stdout that reports stage `name` (`  ✓ migrate   12 ms   …`).
    #[track_caller]
    pub fn stage_line(&self, name: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| {
                let mut w = l.split_whitespace();
                matches!(w.next(), Some("✓" | "✗" | "-")) && w.next() == Some(name)
            })
            .unwrap_or_else(|| panic!("no line for stage `{name}`\n{self}"))
    }
}

/// A stage of a `--json` report, by name.
#[track_caller]
pub fn stage<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no stage `{name}` in the report:\n{report:#}"))
}

/// The words of `text`, one space apart, without the frame of a diagnostic (`│`): what a
/// message says, however the terminal's width wrapped it.
pub fn flat_words(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Both streams of `out`, flattened: messages may go to either, and diagnostics wrap to the
/// terminal's width.
pub fn all(out: &Output) -> String {
    flat_words(&format!("{}{}", out.stdout, out.stderr))
}

/// Asserts that `needle` is in either stream of `out`.
#[track_caller]
pub fn has(out: &Output, needle: &str) {
    assert!(
        all(out).contains(needle),
        "no {needle:?} in the output\n{out}"
    );
}

/// The status of check `name` in the `checks` stage of `out`'s `--json` report.
#[track_caller]
pub fn check_status(report: &Value, name: &str, out: &Output) -> String {
    stage(report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == name))
        .map(|c| c["status"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_else(|| panic!("no check `{name}`\n{out}"))
}

/// The result of check `name` in the `checks` stage of a `--json` report.
#[track_caller]
pub fn check_result<'a>(report: &'a Value, name: &str) -> &'a Value {
    stage(report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check `{name}` in the checks stage:\n{report:#}"))
}

/// The findings of check `name` whose `field` (`what`, `why`, …) starts with `prefix`.
#[track_caller]
pub fn findings_starting<'a>(
    report: &'a Value,
    name: &str,
    field: &str,
    prefix: &str,
) -> Vec<&'a Value> {
    check_result(report, name)["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f[field].as_str().unwrap_or("").starts_with(prefix))
        .collect()
}

/// A git repository with a `neon-migrate.toml`, in a temporary folder.
pub struct Project {
    dir: tempfile::TempDir,
    main_db: String,
    cluster_dir: PathBuf,
    rt: tokio::runtime::Runtime,
}

impl Project {
    /// A new repository on git branch `it/<name>` whose config only names the test's own
    /// main database.
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("nm-it-{name}-"))
            .tempdir()
            .expect("temp dir");
        let p = Project {
            dir,
            main_db: unique_db(name),
            cluster_dir: cluster().dir.clone(),
            rt: runtime(),
        };
        p.git(&["init", "-q", "-b", &format!("it/{name}")]);
        p.config("")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The database that plays the main Neon database branch for this project.
    pub fn main_db(&self) -> &str {
        &self.main_db
    }

    /// Runs the embedded cluster of this project from another folder (default: the shared one).
    pub fn with_cluster_dir(mut self, dir: &Path) -> Self {
        self.cluster_dir = dir.to_owned();
        self
    }

    /// Writes `neon-migrate.toml`: `toml` plus `main-database` under `[provider]` (added to
    /// the table when `toml` has one, appended otherwise, so line numbers stay put).
    pub fn config(self, toml: &str) -> Self {
        let line = format!("main-database = \"{}\"", self.main_db);
        let text = if toml.contains("[provider]\n") {
            toml.replacen("[provider]\n", &format!("[provider]\n{line}\n"), 1)
        } else {
            format!("{toml}\n[provider]\n{line}\n")
        };
        self.file("neon-migrate.toml", &text)
    }

    /// Writes `neon-migrate.toml` exactly as given.
    pub fn config_raw(self, toml: &str) -> Self {
        self.file("neon-migrate.toml", toml)
    }

    /// Writes a file (folders created as needed).
    pub fn file(self, path: &str, content: &str) -> Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("create folders");
        std::fs::write(&full, content).expect("write file");
        self
    }

    /// Writes `migrations/<file>`.
    pub fn migration(self, file: &str, sql: &str) -> Self {
        self.file(&format!("migrations/{file}"), sql)
    }

    /// `git add -A && git commit`.
    pub fn commit(self) -> Self {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", "test commit"]);
        self
    }

    /// `git checkout -b <name>`.
    pub fn git_branch(self, name: &str) -> Self {
        self.git(&["checkout", "-q", "-b", name]);
        self
    }

    /// `git checkout --detach`.
    pub fn detach(self) -> Self {
        self.git(&["checkout", "-q", "--detach"]);
        self
    }

    /// Runs git in the project; returns its stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=neon-migrate tests",
                "-c",
                "user.email=tests@example.com",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The binary, set up to run in this project on this run's cluster.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.path())
            .env(cluster::ENV_DIR, &self.cluster_dir)
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null());
        c
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        run_command(self.command(args), args)
    }

    /// Runs the binary to completion with `env` set on top of the project's environment.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.command(args);
        c.envs(env.iter().copied());
        run_command(c, args)
    }

    /// Runs the binary to completion with `dir` first on `PATH`.
    pub fn run_with_path(&self, dir: &Path, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        self.run_env(args, &[("PATH", &path)])
    }

    /// Runs `f` on this project's Tokio runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Runs SQL on the main database (created first when it does not exist yet).
    #[track_caller]
    pub fn main_sql(&self, sql: &str) -> Rows {
        self.ensure_main();
        self.block_on(query(&self.main_db, sql))
            .unwrap_or_else(|e| panic!("on {}: {sql}: {e}", self.main_db))
    }

    /// Creates the main database the way neon-migrate would on first use.
    pub fn ensure_main(&self) {
        self.block_on(async {
            if !database_exists(&self.main_db).await {
                query(
                    "postgres",
                    &format!("CREATE DATABASE {}", pg::ident(&self.main_db)),
                )
                .await
                .expect("create main");
            }
        })
    }

    /// Whether relation `name` exists on the main database.
    pub fn main_has(&self, relation: &str) -> bool {
        let sql = format!("SELECT to_regclass({}) IS NOT NULL", pg::literal(relation));
        self.main_sql(&sql)[0][0].as_deref() == Some("t")
    }

    /// Test Neon database branches whose parent is this project's main database.
    pub fn test_db_branches(&self) -> Vec<Found> {
        self.block_on(all_test_db_branches())
            .into_iter()
            .filter(|f| f.parent == self.main_db)
            .collect()
    }

    /// Every database neon-migrate marked as its own whose parent is this project's main
    /// database: test Neon database branches, restore points, states kept by `rollback`.
    pub fn ours(&self) -> Vec<Found> {
        self.block_on(marked_databases())
            .into_iter()
            .filter(|f| f.parent == self.main_db)
            .collect()
    }

    /// Restore points of this project's main database (kept by `apply` on purpose).
    pub fn restore_points(&self) -> Vec<Found> {
        self.ours()
            .into_iter()
            .filter(Found::is_restore_point)
            .collect()
    }

    /// Asserts that this project left no test Neon database branch behind.
    #[track_caller]
    pub fn assert_no_test_db_branches(&self) {
        let left = self.test_db_branches();
        assert!(
            left.is_empty(),
            "test Neon database branches left behind: {left:#?}"
        );
    }

    /// Waits (at most `within`) until a test Neon database branch named `name` exists.
    #[track_caller]
    pub fn wait_for_test_db_branch(&self, name: &str, within: Duration) -> Found {
        let deadline = Instant::now() + within;
        loop {
            if let Some(f) = self.test_db_branches().into_iter().find(|f| f.name == name) {
                return f;
            }
            assert!(
                Instant::now() < deadline,
                "no test Neon database branch `{name}` within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs a prepared command to completion and captures what it did.
pub fn run_command(mut c: Command, args: &[&str]) -> Output {
    let started = Instant::now();
    let out = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run neon-migrate");
    let out = Output::recorded(
        format!("neon-migrate {}", args.join(" ")),
        &out,
        started.elapsed(),
    );
    out
}

/// Everything the binary printed in this run of the suite, and the secrets the tests know of:
/// the harness scans the one for the other at the end.
static OUTPUTS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
static SECRETS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Keeps `text` (one stream of `command`) for the suite's secret scan.
pub fn record_output(command: &str, text: &str) {
    if !text.is_empty() {
        let mut o = OUTPUTS.lock().unwrap_or_else(|e| e.into_inner());
        o.push((command.to_owned(), text.to_owned()));
    }
}

/// Registers a secret (an API key, a password) that no output may contain.
pub fn note_secret(secret: &str) {
    let mut s = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !s.iter().any(|x| x == secret) {
        s.push(secret.to_owned());
    }
}

/// What [`record_output`] kept, and what [`note_secret`] registered.
pub fn recorded() -> (Vec<(String, String)>, Vec<String>) {
    let o = OUTPUTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let s = SECRETS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (o, s)
}

/// A connection held open on purpose (it blocks template copies of its database).
pub struct Held {
    pub client: tokio_postgres::Client,
    pub pid: i32,
}

impl Project {
    /// Opens a connection to the main database and keeps it.
    pub fn hold_main_connection(&self) -> Held {
        self.ensure_main();
        self.block_on(async {
            let client = pg::connect(&Secret::new(cluster().url(&self.main_db)))
                .await
                .expect("connect to main");
            let pid = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .expect("pid")
                .get(0);
            Held { client, pid }
        })
    }

    /// Closes a held connection and waits until its session is gone.
    pub fn release(&self, held: Held) {
        let Held { client, pid } = held;
        drop(client);
        self.block_on(wait_session_gone(pid));
    }
}

/// Pids of the direct children of `pid` (from `/proc/*/stat`).
pub fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …: the command may contain spaces, so split after ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == pid {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            out.push((child, cmdline.trim().to_owned()));
        }
    }
    out
}

/// Outputs that contain a secret: a registered one, the shared cluster's password, a password
/// of the emulator's shape (`npg_` and 16 characters), or the password of a connection URL
/// that is not masked. Each entry names the command and what leaked (never the secret).
pub fn leaked_secrets() -> Vec<String> {
    let (outputs, mut secrets) = recorded();
    if let Some(c) = CLUSTER.get() {
        secrets.push(c.password().to_owned());
    }
    scan_for_secrets(&outputs, &secrets)
}

/// The scan of [`leaked_secrets`]: `(command, text)` pairs against `secrets` and the shapes.
pub fn scan_for_secrets(outputs: &[(String, String)], secrets: &[String]) -> Vec<String> {
    let mut leaks = Vec::new();
    for (command, text) in outputs {
        for (i, s) in secrets.iter().enumerate() {
            if s.len() >= 4 && text.contains(s.as_str()) {
                leaks.push(format!("`{command}` printed registered secret #{i}"));
            }
        }
        if emulator_password_in(text) {
            leaks.push(format!("`{command}` printed an emulator password (npg_…)"));
        }
        if let Some(url) = unmasked_url(text) {
            leaks.push(format!(
                "`{command}` printed a connection URL with its password: {url}"
            ));
        }
    }
    leaks
}

fn emulator_password_in(text: &str) -> bool {
    text.match_indices("npg_").any(|(i, _)| {
        let tail: Vec<char> = text[i + 4..].chars().take(17).collect();
        tail.len() >= 16
            && tail[..16].iter().all(|c| c.is_ascii_alphanumeric())
            && tail.get(16).is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

/// The first `scheme://user:password@host` whose password is not the redactor's mask, with
/// the password itself replaced (so the report does not leak it again).
fn unmasked_url(text: &str) -> Option<String> {
    for (i, _) in text.match_indices("://") {
        let authority: String = text[i + 3..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '/' | '"' | '\'' | '`'))
            .collect();
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            continue;
        };
        let Some((user, password)) = userinfo.split_once(':') else {
            continue;
        };
        let placeholder = password.is_empty()
            || password == neon_migrate::secret::MASK
            || password.starts_with('$')
            || password.starts_with('{')
            || password.starts_with('<')
            || password.chars().all(|c| c == '*' || c == '.' || c == '…');
        if !placeholder {
            return Some(format!(
                "…://{user}:<{} characters>@{host}",
                password.chars().count()
            ));
        }
    }
    None
}

//! Neon's own CLI, `neonctl` (pinned in tests/tools/package.json), against the emulator: the
//! emulator is only as good as the real client's acceptance of it.
//!
//! neonctl is pointed at the emulator with `--api-host` and run as a user would run it; the
//! tests assert on its JSON and text output and on what its connection strings reach. The
//! pinned tools live in the test-tools cache that scripts/test fills (see [`tools_dir`]);
//! without them these tests are skipped with the reason, unless `NEON_MIGRATE_REQUIRE_TOOLS=1`
//! (scripts/test sets it), where a missing tool fails the test.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use neon_migrate::emulator::{Fault, FaultAction};
use neon_migrate::pg;
use neon_migrate::secret::Secret;
use serde_json::{json, Value};

use crate::emulator::{has_id_shape, neon_time, Emu, KEY};
use crate::support::Output;
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    let skip = skip_reason(&[Tool::Neonctl]);
    tests![
        neonctl_lists_creates_gets_connects_diffs_and_deletes_a_neon_database_branch => skip,
        neonctl_retries_a_423_on_delete_and_succeeds => skip,
    ]
}

// ---- the pinned test tools ------------------------------------------------------------------

/// Where scripts/test installs the pinned tools: `$NEON_MIGRATE_TEST_TOOLS`, else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/neon-migrate-test-tools` (the same default as the script).
pub fn tools_dir() -> PathBuf {
    let set = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    set("NEON_MIGRATE_TEST_TOOLS").unwrap_or_else(|| {
        set("XDG_CACHE_HOME")
            .or_else(|| set("HOME").map(|h| h.join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"))
            .join("neon-migrate-test-tools")
    })
}

/// Whether a missing tool fails its tests instead of skipping them.
pub fn tools_required() -> bool {
    std::env::var("NEON_MIGRATE_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

#[derive(Debug, Clone, Copy)]
pub enum Tool {
    /// `neonctl` from npm.
    Neonctl,
    /// `public-v2-for-users.gen.yaml` from the npm package `@neondatabase/api-client`.
    OpenApiDocument,
    /// The Python of the venv that holds `openapi-core` (tests/tools/requirements.txt).
    Validator,
}

impl Tool {
    fn path(self) -> PathBuf {
        let d = tools_dir();
        match self {
            Tool::Neonctl => d.join("npm/node_modules/.bin/neonctl"),
            Tool::OpenApiDocument => {
                d.join("npm/node_modules/@neondatabase/api-client/public-v2-for-users.gen.yaml")
            }
            Tool::Validator => d.join("venv/bin/python"),
        }
    }

    /// What is wrong with the installed tool, if anything.
    fn problem(self) -> Option<String> {
        let path = self.path();
        if !path.exists() {
            return Some(format!(
                "{} is not installed ({} is missing)",
                self.name(),
                path.display()
            ));
        }
        let stamp = match self {
            Tool::Validator => "venv/.stamp",
            _ => "npm/.stamp",
        };
        if !tools_dir().join(stamp).exists() {
            return Some(format!(
                "{} is installed only in part ({} is missing)",
                self.name(),
                stamp
            ));
        }
        // The npm tools must be the pinned versions.
        let pinned = |package: &str| -> Option<String> {
            let read = |p: PathBuf| -> Value {
                std::fs::read_to_string(p)
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(Value::Null)
            };
            let manifest =
                read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/package.json"));
            let want = manifest["dependencies"][package]
                .as_str()
                .unwrap_or("?")
                .to_owned();
            let have = read(tools_dir().join(format!("npm/node_modules/{package}/package.json")));
            let have = have["version"].as_str().unwrap_or("?");
            (have != want)
                .then(|| format!("{package} {have} is installed, tests/tools pins {want}"))
        };
        match self {
            Tool::Neonctl => pinned("neonctl"),
            Tool::OpenApiDocument => pinned("@neondatabase/api-client"),
            Tool::Validator => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tool::Neonctl => "neonctl",
            Tool::OpenApiDocument => "Neon's OpenAPI document (@neondatabase/api-client)",
            Tool::Validator => "the OpenAPI validator (openapi-core venv)",
        }
    }
}

/// Why tests that need `tools` are skipped: `None` when every tool is there, or when tools
/// are required (the test then runs and fails on the missing tool).
pub fn skip_reason(tools: &[Tool]) -> Option<&'static str> {
    if tools_required() {
        return None;
    }
    let problems: Vec<String> = tools.iter().filter_map(|t| t.problem()).collect();
    if problems.is_empty() {
        return None;
    }
    let reason = format!(
        "{}; scripts/test installs the pinned tools into {}",
        problems.join("; "),
        tools_dir().display()
    );
    Some(Box::leak(reason.into_boxed_str()))
}

/// The path of a tool; fails the test, saying how to install it, when it is not usable.
#[track_caller]
pub fn tool(t: Tool) -> PathBuf {
    if let Some(problem) = t.problem() {
        panic!(
            "{problem} (NEON_MIGRATE_REQUIRE_TOOLS=1); run scripts/test, which installs the tools \
             pinned in tests/tools/ into {}",
            tools_dir().display()
        );
    }
    t.path()
}

// ---- neonctl ------------------------------------------------------------------------------

/// neonctl set up for one emulator, with its own config folder.
struct Neonctl {
    bin: PathBuf,
    api_host: String,
    project: String,
    config_dir: tempfile::TempDir,
}

impl Neonctl {
    fn new(e: &Emu) -> Neonctl {
        Neonctl {
            bin: tool(Tool::Neonctl),
            api_host: e.base.clone(),
            project: e.project.clone(),
            config_dir: tempfile::Builder::new()
                .prefix("nm-it-neonctl-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// Runs `neonctl --api-host … --api-key … --no-analytics --project-id … <args>` (at most
    /// two minutes).
    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(&self.bin);
        c.args([
            "--api-host",
            &self.api_host,
            "--api-key",
            KEY,
            "--no-analytics",
        ])
        .args(["--project-id", &self.project, "--config-dir"])
        .arg(self.config_dir.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env("NEON_CONFIG_DIR", self.config_dir.path());
        for var in [
            "NEON_API_KEY",
            "NEON_API_HOST",
            "NEON_PROJECT_ID",
            "NEON_PROFILE",
            "DEBUG",
        ] {
            c.env_remove(var);
        }
        let started = Instant::now();
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()));
        let limit = Duration::from_secs(120);
        while child.try_wait().expect("wait for neonctl").is_none() {
            if started.elapsed() > limit {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().expect("neonctl output");
        let out = Output::of(format!("neonctl --api-host {} … {}", self.api_host, args.join(" ")), &out, started.elapsed());
        // Not fed to the suite's secret scan: printing connection strings with their
        // password is what `neonctl connection-string` is for.
        out
    }

    /// `neonctl operations list` until no operation is pending (what a script would do:
    /// neonctl has no `--wait`).
    fn wait_operations(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.run(&["operations", "list", "-o", "json"]);
            out.code(0);
            let ops = out.json();
            let ops = ops.as_array().cloned().unwrap_or_default();
            assert!(!ops.is_empty(), "no operations listed\n{out}");
            if ops.iter().all(|o| o["status"] == "finished") {
                return;
            }
            assert!(Instant::now() < deadline, "operations still pending\n{out}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Connects to `url`, runs `sql` (if any), and returns `current_database()`.
fn current_database(e: &Emu, url: &str, sql: Option<&str>) -> String {
    e.block_on(async {
        let client = pg::connect(&Secret::new(url.to_owned()))
            .await
            .unwrap_or_else(|err| panic!("cannot connect with neonctl's URL: {}", err));
        if let Some(sql) = sql {
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|err| panic!("{sql}: {}", pg::describe(&err)));
        }
        let db: String = client
            .query_one("SELECT current_database()", &[])
            .await
            .expect("current_database()")
            .get(0);
        db
    })
}

fn neonctl_lists_creates_gets_connects_diffs_and_deletes_a_neon_database_branch() {
    let e = Emu::start("neonctl", Duration::from_millis(300));
    let n = Neonctl::new(&e);

    // `neonctl branches list`: the default Neon database branch, as JSON.
    let out = n.run(&["branches", "list", "-o", "json"]);
    out.code(0);
    let list = out.json();
    let list = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array\n{out}"));
    assert_eq!(list.len(), 1, "{out}");
    assert_eq!(list[0]["name"], "main");
    assert_eq!(list[0]["default"], true);
    let main_id = list[0]["id"].as_str().expect("id").to_owned();
    assert!(has_id_shape(&main_id, "br"), "{main_id}");
    // The same under /api/v2.
    let v2 = Neonctl {
        api_host: format!("{}/api/v2", e.base),
        ..Neonctl::new(&e)
    };
    let out = v2.run(&["branches", "list", "-o", "json"]);
    out.code(0);
    assert_eq!(out.json()[0]["id"], main_id.as_str(), "{out}");

    // `neonctl branches create --expires-at` (given with an offset and milliseconds: neonctl sends
    // `toISOString()`; Neon keeps UTC at second precision).
    let name = "it/neonctl-lifecycle";
    let expires = DateTime::from_timestamp(Utc::now().timestamp() + 7200, 0).expect("time");
    let sent = expires
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).expect("offset"))
        .to_rfc3339_opts(SecondsFormat::Millis, false);
    let want = neon_time(expires);
    let out = n.run(&[
        "branches",
        "create",
        "--name",
        name,
        "--expires-at",
        &sent,
        "-o",
        "json",
    ]);
    out.code(0);
    let created = out.json();
    assert_eq!(created["branch"]["name"], name, "{out}");
    assert_eq!(created["branch"]["expires_at"], want.as_str(), "{out}");
    assert_eq!(created["branch"]["parent_id"], main_id.as_str(), "{out}");
    let id = created["branch"]["id"].as_str().expect("id").to_owned();
    assert!(has_id_shape(&id, "br"), "{id}");
    let ep = created["endpoints"][0]["id"].as_str().unwrap_or_default();
    assert!(has_id_shape(ep, "ep"), "endpoint {ep}\n{out}");
    let uri = created["connection_uris"][0]["connection_uri"]
        .as_str()
        .unwrap_or_else(|| panic!("no connection URI\n{out}"));
    assert!(uri.ends_with("/neondb"), "{uri}");
    n.wait_operations();

    // `neonctl branches get`, by name and by id: expires_at at second precision.
    for key in [name, id.as_str()] {
        let out = n.run(&["branches", "get", key, "-o", "json"]);
        out.code(0);
        let got = out.json();
        assert_eq!(got["id"], id.as_str(), "{out}");
        assert_eq!(got["expires_at"], want.as_str(), "{out}");
        assert_eq!(got["current_state"], "ready", "{out}");
    }

    // `neonctl connection-string`: the new Neon database branch and the default one, both `neondb`.
    let cs = |args: &[&str]| {
        let out = n.run(args);
        out.code(0);
        let url = out.stdout.trim().to_owned();
        assert!(
            url.starts_with("postgresql://neondb_owner:") && url.ends_with("/neondb"),
            "{out}"
        );
        url
    };
    let new_url = cs(&["connection-string", name, "--ssl", "omit"]);
    let main_url = cs(&["connection-string", "--ssl", "omit"]);
    assert_ne!(new_url, main_url, "one endpoint per Neon database branch");
    let out = n.run(&["connection-string", name]);
    out.code(0).stdout_has("sslmode=require");
    let main_db = current_database(&e, &main_url, None);
    let table = "it_neonctl_schema_diff";
    let new_db = current_database(
        &e,
        &new_url,
        Some(&format!(
            "CREATE TABLE {table} (id int PRIMARY KEY, note text)"
        )),
    );
    assert_ne!(main_db, new_db, "both URLs reach the same database");
    for db in [&main_db, &new_db] {
        assert!(e.physical_dbs().contains(db), "{db} is not the emulator's");
    }

    // `neonctl branches schema-diff`: the table made through the new URL is the difference.
    let out = n.run(&[
        "branches",
        "schema-diff",
        "main",
        name,
        "--database",
        "neondb",
    ]);
    out.code(0)
        .stdout_has(&format!("--- Database: neondb\t(Branch: {main_id})"))
        .stdout_has(&format!("+++ Database: neondb\t(Branch: {id})"))
        .stdout_has(&format!("+CREATE TABLE public.{table} ("));
    // And none the other way round for the default one against itself.
    let out = n.run(&[
        "branches",
        "schema-diff",
        "main",
        "main",
        "--database",
        "neondb",
    ]);
    out.code(0).stdout_lacks("CREATE TABLE");

    // `neonctl branches delete`: the Neon database branch and its database are gone.
    let out = n.run(&["branches", "delete", name, "-o", "json"]);
    out.code(0);
    assert_eq!(out.json()["id"], id.as_str(), "{out}");
    let out = n.run(&["branches", "list", "-o", "json"]);
    out.code(0).stdout_lacks(&id);
    e.wait_idle();
    assert!(
        !e.physical_dbs().contains(&new_db),
        "{new_db} survived the delete"
    );
    e.finish();
}

fn neonctl_retries_a_423_on_delete_and_succeeds() {
    let e = Emu::start("neonctl-423", Duration::from_millis(100));
    let n = Neonctl::new(&e);
    let created = e.create(json!({ "name": "it/neonctl-locked" }), true);
    let id = created["branch"]["id"].as_str().expect("id").to_owned();
    e.wait_idle();
    e.emulator().inject(Fault {
        method: Some("DELETE".into()),
        path_contains: format!("/branches/{id}"),
        times: 2,
        action: FaultAction::Status {
            status: 423,
            retry_after: None,
        },
    });
    let out = n.run(&["branches", "delete", &id, "-o", "json"]);
    out.code(0);
    assert_eq!(out.json()["id"], id.as_str(), "{out}");
    let waits = out.stderr.matches("Resource is locked").count();
    assert_eq!(waits, 2, "two 423s, two waits\n{out}");
    assert!(
        out.took >= Duration::from_secs(6),
        "neonctl waits 3 s per retry\n{out}"
    );
    e.wait_idle();
    e.call("GET", &e.p(&format!("/branches/{id}")), None)
        .expect_error(404, "not found");
    assert_eq!(e.physical_dbs().len(), 1, "only main is left");
    e.finish();
}

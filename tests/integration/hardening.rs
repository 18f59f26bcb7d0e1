//! Untrusted input stays data (issue #14 parts 3, 4 and 6): git branch names and other template
//! values never run as shell code, secrets taken by templates never reach any output, and bad
//! input is refused early and clearly.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use neon_migrate::exit;
use neon_migrate::providers::local::cluster;
use serde_json::Value;

use crate::support::{
    cluster as shared_cluster, note_secret, run_command, stage, Output, Project, BIN,
};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        a_data_dir_that_holds_other_files_is_refused_and_left_as_it_was,
        shell_metacharacters_in_git_branch_names_and_env_values_are_text_in_stage_run_and_tool_command,
        shell_metacharacters_in_git_branch_names_are_text_through_the_installed_hook_on_git_push,
        secret_env_values_taken_by_templates_are_redacted_in_every_output_and_refused_in_the_name,
        a_password_in_the_provider_url_query_is_never_printed_and_check_snippets_mask_secrets,
        a_key_value_conninfo_provider_url_is_refused_clearly,
        check_refuses_values_that_would_only_fail_at_run_time_and_run_json_reports_config_errors,
        the_sql_tool_refuses_a_migration_with_an_upper_case_extension,
        the_embedded_server_start_fails_at_once_with_the_log_tail_when_postgres_exits,
        terminal_escape_codes_of_tools_never_reach_the_reports,
        a_closed_stdout_ends_plan_and_run_quietly,
    ]
}

/// A command that prints the git branch and an env value in every quoting context; each
/// printed line is `[<context>:<value>]`.
const PRINT: &str = r#"printf '[%s]\n' {{git.branch}} "d:{{git.branch}}" 's:{{git.branch}}' "$(printf 'n:%s' {{git.branch}})" "e:{{env.HARDENING_PAYLOAD}}""#;

/// The value of `HARDENING_PAYLOAD`: a newline cannot be in a git branch name.
const ENV_PAYLOAD: &str = "nl\ntouch pwned-by-env; echo `touch pwned-by-env`";

fn printing_config() -> String {
    format!(
        r#"
[tool]
name = "printing-tool"
command = '''{PRINT}; exit 3'''

[stages.print-stage]
kind = "shell"
run = '''{PRINT}'''

[pipelines.meta]
stages = ["create-neon-database-branch", "print-stage", "migrate", "delete-neon-database-branch"]

[pipelines.pre-push]
stages = ["create-neon-database-branch", "print-stage", "delete-neon-database-branch"]
"#
    )
}

/// Git branch names (all valid for git: no spaces, hence `${{IFS}}`) that would create a file
/// in `dir` if they ran: `$(…)`, backticks, `;`, `|`, `&&`, and breaking out of single and
/// double quotes.
fn payloads(dir: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        format!("feat/$(touch${{IFS}}{d}/pwned1)"),
        format!("feat/`touch${{IFS}}{d}/pwned2`"),
        format!("feat/a;touch${{IFS}}{d}/pwned3"),
        format!("feat/x|touch${{IFS}}{d}/pwned4"),
        format!("feat/x&&touch${{IFS}}{d}/pwned5"),
        format!("feat/q'$(touch${{IFS}}{d}/pwned6)'"),
        format!("feat/q\"$(touch${{IFS}}{d}/pwned7)\"q"),
    ]
}

/// Files the payloads created, anywhere under `dir`.
fn pwned(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("pwned") {
                found.push(e.path().display().to_string());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) && name != ".git" {
                stack.push(e.path());
            }
        }
    }
    found
}

/// The lines `PRINT` prints for git branch `payload`.
fn printed_lines(payload: &str) -> Vec<String> {
    ["", "d:", "s:", "n:"]
        .iter()
        .map(|c| format!("[{c}{payload}]"))
        .chain(std::iter::once("[e:nl".to_owned()))
        .collect()
}

fn shell_metacharacters_in_git_branch_names_and_env_values_are_text_in_stage_run_and_tool_command() {
    let mut p = Project::new("metachar_run")
        .config(&printing_config())
        .commit();
    let root = p.path().to_owned();
    for payload in payloads(&root) {
        p = p.git_branch(&payload);
        let out = p.run_env(&["run", "meta", "--json"], &[("HARDENING_PAYLOAD", ENV_PAYLOAD)]);
        out.code(exit::MIGRATION_FAILED);
        let report = out.json();
        let s = stage(&report, "print-stage");
        assert_eq!(s["status"], "passed", "{out}");
        let details: Vec<&str> = s["details"]
            .as_array()
            .expect("details")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let output = stage(&report, "migrate")["error"]["output"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for line in printed_lines(&payload) {
            assert!(
                details.contains(&format!("│ {line}").as_str()),
                "the stage printed {line:?} as text\n{out}"
            );
            assert!(
                output.lines().any(|l| l == line),
                "the tool printed {line:?} as text\n{out}"
            );
        }
        // The report shows the command with the value quoted, as a shell would read it.
        let summary = s["summary"].as_str().unwrap_or_default();
        let escaped: String = payload
            .chars()
            .flat_map(|c| {
                let e = matches!(c, '\\' | '$' | '`' | '"');
                e.then_some('\\').into_iter().chain([c])
            })
            .collect();
        assert!(summary.contains(&format!("\"d:{escaped}\"")), "{summary}");
        assert_eq!(pwned(&root), Vec::<String>::new(), "a payload ran\n{out}");
    }
    assert_eq!(pwned(&root), Vec::<String>::new());
    p.assert_no_test_db_branches();
}

/// git with hooks enabled and neon-migrate found through `$NEON_MIGRATE_BIN`.
fn git(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new("git");
    c.args([
        "-c",
        "user.name=neon-migrate tests",
        "-c",
        "user.email=t@example.com",
    ])
    .args(["-c", "commit.gpgsign=false"])
    .args(args)
    .current_dir(dir)
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null")
    .env(cluster::ENV_DIR, &shared_cluster().dir)
    .env("NEON_MIGRATE_BIN", BIN)
    .env("NO_COLOR", "1")
    .env("HARDENING_PAYLOAD", ENV_PAYLOAD)
    .env_remove("NEON_MIGRATE")
    .env_remove("DATABASE_URL")
    .env_remove("GITHUB_ACTIONS")
    .env_remove("GITHUB_STEP_SUMMARY")
    .stdin(Stdio::null());
    run_command(c, args)
}

fn shell_metacharacters_in_git_branch_names_are_text_through_the_installed_hook_on_git_push() {
    let p = Project::new("metachar_hook")
        .config(&printing_config())
        .commit();
    let root = p.path().to_owned();
    let main = p.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let remote = tempfile::Builder::new()
        .prefix("nm-it-remote-")
        .tempdir()
        .expect("temp dir");
    let remote_path = remote.path().display().to_string();
    git(remote.path(), &["init", "-q", "--bare", "-b", &main]).code(0);
    p.git(&["remote", "add", "origin", &remote_path]);
    git(&root, &["push", "-q", "--no-verify", "origin", "HEAD"]).code(0);
    git(&root, &["remote", "set-head", "origin", "-a"]).code(0);
    p.run(&["hooks", "install"]).code(exit::OK);

    // One commit that changes a watched path, under every payload name; one push of them all.
    let p = p.file("notes.txt", "a change to prove\n").commit();
    let names = payloads(&root);
    for name in &names {
        p.git(&["branch", name]);
    }
    let mut args = vec!["push", "origin"];
    args.extend(names.iter().map(String::as_str));
    let out = git(&root, &args);
    out.code(0);
    let all = format!("{}{}", out.stdout, out.stderr);
    for name in &names {
        assert!(
            all.contains(&format!("git branch            {name} @")),
            "the hook proved {name}\n{out}"
        );
        for line in printed_lines(name) {
            assert!(
                all.contains(&format!("│ {line}")),
                "the hook's stage printed {line:?} as text\n{out}"
            );
        }
        let on_remote = git(
            remote.path(),
            &["rev-parse", "--verify", "-q", &format!("refs/heads/{name}")],
        );
        on_remote.code(0);
    }
    assert_eq!(pwned(&root), Vec::<String>::new(), "a payload ran\n{out}");
    p.assert_no_test_db_branches();
}

const API_KEY: &str = "napi_hardening_0d9c7be1f4a2";
const DB_PASSWORD: &str = "pw-hardening-5e2a91c7";

fn secret_env_values_taken_by_templates_are_redacted_in_every_output_and_refused_in_the_name() {
    note_secret(API_KEY);
    note_secret(DB_PASSWORD);
    let config = r#"
[tool]
name = "key-tool"
command = '''echo "tool key={{env.NEON_API_KEY}} pw={{env.APP_DB_PASSWORD}}"; echo "env $LEAK" >&2; exit 3'''

[tool.env]
LEAK = "{{env.APP_DB_PASSWORD}}"

[stages.key-stage]
kind = "shell"
run = '''echo "stage key={{env.NEON_API_KEY}}"; echo "raw $NEON_API_KEY"'''

[pipelines.keys]
stages = ["create-neon-database-branch", "key-stage", "migrate", "delete-neon-database-branch"]
"#;
    let p = Project::new("env_secrets").config(config).commit();
    let md = p.path().join("summary.md");
    let md_arg = md.display().to_string();
    let with_env = |args: &[&str]| {
        let mut c = p.command(args);
        c.env("NEON_API_KEY", API_KEY)
            .env("APP_DB_PASSWORD", DB_PASSWORD)
            .env("GITHUB_ACTIONS", "true")
            .env_remove("GITHUB_STEP_SUMMARY");
        run_command(c, args)
    };
    let human = with_env(&["run", "keys", "--summary-md", &md_arg]);
    human
        .code(exit::MIGRATION_FAILED)
        .stdout_has("│ stage key=****")
        .stdout_has("│ raw ****")
        .stdout_has("`echo \"stage key=****\"; echo \"raw $NEON_API_KEY\"` succeeded")
        .stdout_has("tool key=**** pw=****")
        .stdout_has("env ****")
        .stdout_has("::error ");
    let markdown = std::fs::read_to_string(&md).expect("the Markdown summary");
    assert!(markdown.contains("tool key=**** pw=****"), "{markdown}");
    let json = with_env(&["run", "keys", "--json"]);
    json.code(exit::MIGRATION_FAILED);
    let report = json.json();
    let output = stage(&report, "migrate")["error"]["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(output.contains("tool key=**** pw=****"), "{json}");
    assert!(
        json.stderr.contains("::error "),
        "annotations on stderr\n{json}"
    );
    for (what, text) in [
        ("human stdout", &human.stdout),
        ("human stderr", &human.stderr),
        ("json stdout", &json.stdout),
        ("json stderr", &json.stderr),
        ("markdown", &markdown),
    ] {
        for secret in [API_KEY, DB_PASSWORD] {
            assert!(
                !text.contains(secret),
                "a secret is in the {what}\n{human}\n{json}"
            );
        }
    }

    // A secret is never part of a test Neon database branch's name.
    let named = Project::new("env_secret_name")
        .config("[neon-database-branch]\nname = \"migrate/{{env.NEON_API_KEY}}\"\n")
        .commit();
    let mut c = named.command(&["check"]);
    c.env("NEON_API_KEY", API_KEY);
    let out = run_command(c, &["check"]);
    out.code(exit::CONFIG)
        .stderr_has("neon-migrate.toml:2:19")
        .stderr_has("`env.NEON_API_KEY` looks like a secret")
        .stderr_has("name the test Neon database branch after other values");
    assert!(!out.stderr.contains(API_KEY), "{out}");
    // Nor a password carried by a connection URL in a variable of any name.
    let url_named = Project::new("env_url_name")
        .config("[neon-database-branch]\nname = \"migrate/{{env.APP_DB_URL}}\"\n")
        .commit();
    let mut c = url_named.command(&["run", "pre-push", "--json"]);
    c.env("APP_DB_URL", "postgres://app:sup3rs3cretpw@db.example/app");
    let out = run_command(c, &["run", "pre-push", "--json"]);
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("would contain a password")
            || out.stderr.contains("would contain a password"),
        "{out}"
    );
    assert!(
        !out.stdout.to_lowercase().contains("sup3rs3cretpw")
            && !out.stderr.to_lowercase().contains("sup3rs3cretpw"),
        "{out}"
    );
    url_named.assert_no_test_db_branches();
    p.assert_no_test_db_branches();
}

fn a_password_in_the_provider_url_query_is_never_printed_and_check_snippets_mask_secrets() {
    let c = shared_cluster();
    let password = c.password().to_owned();
    let url = format!(
        "postgresql://postgres@127.0.0.1:{}/postgres?sslmode=disable&password={password}",
        c.port
    );
    let p = Project::new("query_password")
        .config("[provider]\nurl = \"{{env.HARDENING_URL}}\"\n")
        .migration("0001_init.sql", "create table t (id bigint primary key);\n")
        .commit();
    // A server of one's own has its main database already.
    p.ensure_main();
    let md = p.path().join("summary.md");
    let md_arg = md.display().to_string();
    let run = |args: &[&str]| {
        let mut cmd = p.command(args);
        cmd.env("HARDENING_URL", &url);
        run_command(cmd, args)
    };
    let human = run(&["run", "pre-push", "--summary-md", &md_arg]);
    human.code(exit::OK).stdout_has("password=****");
    let json = run(&["run", "pre-push", "--json"]);
    json.code(exit::OK);
    let provider = json.json()["provider"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(provider.contains("password=****"), "{provider}");
    let markdown = std::fs::read_to_string(&md).expect("the Markdown summary");
    for (what, text) in [
        ("human stdout", &human.stdout),
        ("human stderr", &human.stderr),
        ("json stdout", &json.stdout),
        ("json stderr", &json.stderr),
        ("markdown", &markdown),
    ] {
        assert!(
            !text.contains(&password),
            "the password is in the {what}\n{human}"
        );
    }
    p.assert_no_test_db_branches();

    // Secrets written in the file: `check` refuses them and its snippets mask them.
    const LITERAL_PW: &str = "literal-hardening-pw-93f1";
    const LITERAL_KEY: &str = "napi_literal_hardening_key_5b7";
    note_secret(LITERAL_PW);
    note_secret(LITERAL_KEY);
    let text = format!(
        "[provider]\nurl = \"postgresql://postgres@127.0.0.1:5432/x?password={LITERAL_PW}\"\n"
    );
    let p = Project::new("literal_query_password")
        .config_raw(&text)
        .commit();
    let out = p.run(&["check"]);
    out.code(exit::CONFIG)
        .stderr_has("neon-migrate.toml:2:")
        .stderr_has("a password is written in `provider.url`")
        .stderr_has("?password=****");
    assert!(!out.stderr.contains(LITERAL_PW), "{out}");
    // A templated password in the userinfo does not make a literal one behind it safe.
    let text = format!(
        "[provider]\nurl = \"postgresql://postgres:{{{{env.PGPASSWORD}}}}@127.0.0.1:5432/x?sslmode=disable&password={LITERAL_PW}\"\n"
    );
    let p = Project::new("literal_password_behind_template")
        .config_raw(&text)
        .commit();
    let out = p.run(&["check"]);
    out.code(exit::CONFIG)
        .stderr_has("a password is written in `provider.url`")
        .stderr_has("&password=****");
    assert!(!out.stderr.contains(LITERAL_PW), "{out}");
    let text =
        format!("[provider]\nkind = \"neon\"\nproject-id = \"p-1\"\napi-key = \"{LITERAL_KEY}\"\n");
    let p = Project::new("literal_api_key").config_raw(&text).commit();
    let out = p.run(&["check"]);
    out.code(exit::CONFIG)
        .stderr_has("neon-migrate.toml:4:11")
        .stderr_has("an API key is written in `neon-migrate.toml`")
        .stderr_has("api-key = ****");
    assert!(!out.stderr.contains(LITERAL_KEY), "{out}");
}

fn a_key_value_conninfo_provider_url_is_refused_clearly() {
    let p = Project::new("conninfo_literal")
        .config("[provider]\nurl = \"host=127.0.0.1 port=5432 dbname=app\"\n")
        .commit();
    p.run(&["check"])
        .code(exit::CONFIG)
        .stderr_has("neon-migrate.toml:3:7")
        .stderr_has("a key=value connection string (`host=… dbname=…`) is not supported")
        .stderr_has("postgresql://USER@HOST:5432/DATABASE");

    const KV_PW: &str = "kvpw-hardening-71c2";
    note_secret(KV_PW);
    let p = Project::new("conninfo_env")
        .config("[provider]\nurl = \"{{env.HARDENING_CONNINFO}}\"\n")
        .commit();
    let args = ["run", "pre-push", "--json"];
    let mut c = p.command(&args);
    c.env(
        "HARDENING_CONNINFO",
        format!("host=127.0.0.1 dbname=app password={KV_PW}"),
    );
    let out = run_command(c, &args);
    out.code(exit::PROVIDER)
        .stderr_has("provider.url: a key=value connection string");
    let report = out.json();
    let s = stage(&report, "open-provider");
    assert_eq!(s["kind"], "setup");
    assert!(
        s["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("key=value connection string")),
        "{out}"
    );
    assert!(
        !out.stdout.contains(KV_PW) && !out.stderr.contains(KV_PW),
        "{out}"
    );
}

fn check_refuses_values_that_would_only_fail_at_run_time_and_run_json_reports_config_errors() {
    let long = "m".repeat(70);
    let text = format!(
        r#"[neon-database-branch]
name = ""

[provider]
main-database = "{long}"

[tool]
name = "sql"
timeout = "0s"

[stages.s]
kind = "shell"
run = "true"
timeout = "0s"

[[checks.sql]]
name = "negative"
query = "select 1"
expect-rows = -1

[[checks.sql]]
name = "empty"
query = ""
"#
    );
    let p = Project::new("check_run_time").config_raw(&text).commit();
    let out = p.run(&["check"]);
    out.code(exit::CONFIG)
        .stderr_has("neon-migrate.toml has 6 problems");
    let at = |needle: &str| {
        let i = text.find(needle).expect("needle");
        let line = text[..i].matches('\n').count() + 1;
        let col = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
        format!("neon-migrate.toml:{line}:{col}\n")
    };
    let expected = [
        (
            "\"\"\n\n[provider]",
            "`neon-database-branch.name` is empty",
            "name the test Neon database branch after the git branch",
        ),
        (
            &format!("\"{long}\"")[..],
            "`main-database` is 70 bytes long; PostgreSQL names are at most 63 bytes",
            "1 to 63 bytes",
        ),
        (
            "\"0s\"\n\n[stages",
            "`tool.timeout` is zero",
            "give a positive duration, e.g. `30m`",
        ),
        (
            "\"0s\"\n\n[[checks",
            "`stages.s.timeout` is zero",
            "give a positive duration",
        ),
        (
            "-1",
            "SQL check `negative`: `expect-rows = -1` can never match",
            "0 or more",
        ),
        (
            "\"\"\n",
            "SQL check `empty` has an empty `query`",
            "write the query the check runs",
        ),
    ];
    for (needle, message, help) in expected {
        let place = if needle == "\"\"\n" {
            // The last `""` of the file.
            let i = text.rfind(needle).expect("needle");
            let line = text[..i].matches('\n').count() + 1;
            let col = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
            format!("neon-migrate.toml:{line}:{col}\n")
        } else {
            at(needle)
        };
        out.stderr_has(&place).stderr_has(message).stderr_has(help);
    }

    // `run --json` prints a report with the problems, not nothing.
    let run = p.run(&["run", "pre-push", "--json"]);
    run.code(exit::CONFIG);
    let report = run.json();
    assert_eq!(report["outcome"], "failed", "{run}");
    assert_eq!(report["exit_code"], exit::CONFIG, "{run}");
    assert_eq!(report["pipeline"], "pre-push", "{run}");
    let s = stage(&report, "load-config");
    assert_eq!(s["kind"], "setup");
    assert_eq!(s["status"], "failed");
    assert_eq!(
        s["error"]["message"], "neon-migrate.toml has 6 problems",
        "{run}"
    );
    let details = s["details"].as_array().expect("details");
    assert_eq!(details.len(), 6, "{run}");
    assert!(
        details.iter().any(|d| d
            .as_str()
            .is_some_and(|d| d.contains(":19:15: SQL check `negative`"))),
        "{run}"
    );
    run.stderr_has("neon-migrate.toml has 6 problems");

    // A name that renders to nothing is refused at run time too, never called `unnamed`.
    let p = Project::new("empty_rendered_name")
        .config("[neon-database-branch]\nname = \"{{env.HARDENING_EMPTY}}\"\n")
        .commit();
    let out = p.run_env(&["run", "pre-push", "--json"], &[("HARDENING_EMPTY", "//")]);
    out.code(exit::CONFIG);
    let report = out.json();
    let message = stage(&report, "name-neon-database-branch")["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("is empty once sanitized"), "{out}");
    p.assert_no_test_db_branches();

    // Outside a git repository, too.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = Command::new(BIN);
    c.args(["run", "pre-push", "--json"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env(
            "GIT_CEILING_DIRECTORIES",
            dir.path().parent().expect("parent"),
        );
    let out = run_command(c, &["run", "pre-push", "--json"]);
    out.code(exit::GIT);
    assert_eq!(stage(&out.json(), "find-git-repository")["kind"], "setup");
}

fn the_sql_tool_refuses_a_migration_with_an_upper_case_extension() {
    let p = Project::new("upper_sql")
        .migration("0001_init.sql", "create table a (id bigint primary key);\n")
        .migration("0002_b.sql", "create table b (id bigint primary key);\n")
        .migration("0003_upper.SQL", "drop table a;\n")
        .commit();
    let out = p.run(&["run", "pre-push"]);
    out.code(exit::MIGRATION_FAILED)
        .stdout_has("end in `.sql` spelled in another case, and the sql tool reads only lower-case `.sql`: 0003_upper.SQL")
        .stdout_has("`0003_upper.SQL` → `0003_upper.sql`");
    p.assert_no_test_db_branches();
}

fn the_embedded_server_start_fails_at_once_with_the_log_tail_when_postgres_exits() {
    let shared = &shared_cluster().dir;
    let dir = shared.with_file_name(format!(
        "{}-broken",
        shared.file_name().unwrap_or_default().to_string_lossy()
    ));
    let clear = |dir: &Path| {
        if dir.join("data").join("postmaster.pid").is_file() {
            if let Ok(c) = cluster::ensure(Some(dir)) {
                let _ = cluster::stop(&c);
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    };
    clear(&dir);
    std::fs::create_dir_all(&dir).expect("create the cluster folder");
    let c = cluster::ensure(Some(&dir)).unwrap_or_else(|e| panic!("first start: {}", e));
    cluster::stop(&c).unwrap_or_else(|e| panic!("stop: {}", e));
    // A setting the server refuses: postgres exits at once.
    let auto = dir.join("data").join("postgresql.auto.conf");
    let mut conf = std::fs::read_to_string(&auto).unwrap_or_default();
    conf.push_str("shared_buffers = 'not-a-size'\n");
    std::fs::write(&auto, conf).expect("write postgresql.auto.conf");

    let started = Instant::now();
    let result = cluster::ensure(Some(&dir));
    let took = started.elapsed();
    clear(&dir);
    let e = match result {
        Ok(_) => panic!("a server with an invalid setting started"),
        Err(e) => e,
    };
    // Generous: the old code waited out its whole 60 s.
    assert!(took < Duration::from_secs(30), "took {took:?}: {}", e);
    assert!(e.to_string().contains("server.log"), "{}", e.to_string());
    assert!(
        e.to_string().contains("shared_buffers"),
        "the log tail: {}",
        e
    );
}

fn terminal_escape_codes_of_tools_never_reach_the_reports() {
    let print = r"printf '\033[2K\033[1G\033[32m✔ done\033[0m \033]0;title\007tail\n'";
    let p = Project::new("ansi")
        .config(&format!(
            r#"
[tool]
name = "colour-tool"
command = '''{print}; exit 3'''

[stages.colour-stage]
kind = "shell"
run = '''{print}'''

[pipelines.colour]
stages = ["create-neon-database-branch", "colour-stage", "migrate", "delete-neon-database-branch"]
"#
        ))
        .commit();
    let human = p.run(&["run", "colour"]);
    human
        .code(exit::MIGRATION_FAILED)
        .stdout_has("│ ✔ done tail");
    let json = p.run(&["run", "colour", "--json"]);
    json.code(exit::MIGRATION_FAILED);
    let report = json.json();
    assert_eq!(
        stage(&report, "migrate")["error"]["output"].as_str(),
        Some("✔ done tail\n"),
        "{json}"
    );
    for out in [&human, &json] {
        assert!(!out.stdout.contains('\u{1b}'), "an escape code in\n{out}");
    }
    p.assert_no_test_db_branches();
}

/// Runs the binary with a stdout whose reader is already gone.
fn with_closed_stdout(p: &Project, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let started = Instant::now();
    let out = p
        .command(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run neon-migrate");
    let out = Output {
        command: format!("neon-migrate {} >&-", args.join(" ")),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
        took: started.elapsed(),
    };
    crate::support::record_output(&out.command, &out.stderr);
    out
}

fn a_closed_stdout_ends_plan_and_run_quietly() {
    let p = Project::new("closed_stdout")
        .migration("0001_init.sql", "create table t (id bigint primary key);\n")
        .commit();
    let plan = with_closed_stdout(&p, &["plan", "pre-push"]);
    plan.code(exit::OK);
    assert!(!plan.stderr.contains("panicked"), "{plan}");
    // A run still finishes, cleans up and exits with its verdict.
    let run = with_closed_stdout(&p, &["run", "pre-push"]);
    run.code(exit::OK);
    assert!(!run.stderr.contains("panicked"), "{run}");
    p.assert_no_test_db_branches();
}

/// A stranger's config points `data-dir` at a folder of someone else's: neon-migrate must not
/// take it over (as root it would hand the folder to the server's account).
fn a_data_dir_that_holds_other_files_is_refused_and_left_as_it_was() {
    use std::os::unix::fs::MetadataExt;
    let victim = tempfile::tempdir().expect("temp dir");
    std::fs::write(victim.path().join("important.txt"), "keep me\n").expect("write");
    let before = std::fs::metadata(victim.path()).expect("stat");
    let p = Project::new("foreign_data_dir")
        .config_raw(&format!(
            "[provider]\ndata-dir = \"{}\"\n",
            victim.path().display()
        ))
        .commit();
    let mut c = p.command(&["run", "pre-push"]);
    c.env_remove("NEON_MIGRATE_CLUSTER_DIR");
    let out = run_command(c, &["run", "pre-push"]);
    out.code(exit::PROVIDER)
        .stderr_has("already holds other files (important.txt)");
    let after = std::fs::metadata(victim.path()).expect("stat");
    assert_eq!(
        (before.uid(), before.gid()),
        (after.uid(), after.gid()),
        "{out}"
    );
    let names: Vec<String> = std::fs::read_dir(victim.path())
        .expect("read")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["important.txt"], "{out}");
}

//! The cluster password never reaches the output, whatever stages and tools print.

use neon_migrate::exit;

use crate::support::{cluster, Project};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        the_cluster_password_never_appears_in_any_output,
        passwords_a_user_typed_never_come_back_in_errors_or_json,
        row_values_in_postgres_errors_never_reach_any_output,
    ]
}

/// Prints the connection string every way a careless script might: the env var, the
/// template, the bare password cut out of the URL, on stdout and on stderr.
const LEAKY: &str = r#"echo "env $DATABASE_URL"; echo "template {{neon_database_branch.url}}"; p=${DATABASE_URL#*://*:}; echo "bare ${p%%@*}"; echo "stderr $DATABASE_URL" >&2"#;

fn config(tool_fails: bool) -> String {
    // A passing tool must show it worked on the test Neon database branch: it connects.
    let exit = if tool_fails {
        "exit 3"
    } else {
        r#"psql "$DATABASE_URL" -qc "select 1""#
    };
    format!(
        r#"
[tool]
name = "leaky-tool"
command = '{LEAKY}; {exit}'

[stages.leaky-stage]
kind = "shell"
run = '{LEAKY}'

[pipelines.leak]
stages = ["create-neon-database-branch", "leaky-stage", "migrate", "delete-neon-database-branch"]
"#
    )
}

fn the_cluster_password_never_appears_in_any_output() {
    let password =
        std::fs::read_to_string(cluster().dir.join("password")).expect("read the cluster password");
    let password = password.trim();
    assert!(password.len() >= 16, "unexpectedly short password");

    let p = Project::new("secrets")
        .config(&config(true))
        .commit()
        .git_branch("feature/leaky");
    let human = p.run(&["run", "leak"]);
    human.code(exit::MIGRATION_FAILED);
    // The scripts did print their URLs, masked: the stage's tail and the tool's output.
    // (The URL's role is the test copy's own: `neon_migrate_copy_<hash>`.)
    human
        .stdout_has("│ env postgresql://neon_migrate_copy_")
        .stdout_has("│ template postgresql://neon_migrate_copy_")
        .stdout_has("│ bare ****")
        .stdout_has("│ stderr postgresql://neon_migrate_copy_");
    for line in human
        .stdout
        .lines()
        .filter(|l| l.contains("://neon_migrate_copy_"))
    {
        assert!(line.contains(":****@127.0.0.1:"), "{line}\n{human}");
    }
    let json = p.run(&["run", "leak", "--json"]);
    json.code(exit::MIGRATION_FAILED);
    let report = json.json();
    let output = crate::support::stage(&report, "migrate")["error"]["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        output.contains("bare ****"),
        "the tool's output is in the report: {output}"
    );

    // A passing tool: its output is not shown, but the stage's is.
    let p = p.config(&config(false));
    let passing = p.run(&["run", "leak", "--json"]);
    passing.code(exit::OK);

    for out in [&human, &json, &passing] {
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text.contains(password),
                "the cluster password is in {stream}\n{out}"
            );
        }
    }
    p.assert_no_test_db_branches();
}

/// Passwords in what the user typed — a config URL with several `password=` parameters, a
/// pipeline name, a `--schema` path, a `--config` path — are masked in every error and in the
/// JSON report (they were echoed back by the config snippet, the error renderer and the JSON).
fn passwords_a_user_typed_never_come_back_in_errors_or_json() {
    let p = Project::new("typed_secrets").config_raw(
        "[provider]\nurl = \"postgres://u:hunter1@localhost/db?sslmode=x&password=hunter2&password=hunter3\"\nbusy-parent = \"wait\"\n",
    );
    let plain = Project::new("typed_secrets_plain");
    let runs = [
        p.run(&["check"]),
        p.run(&["plan", "pre-push", "--json"]),
        plain.run(&["run", "--json", "postgres://u:hunter4@x/y"]),
        plain.run(&["generate", "z", "--schema", "postgres://u:hunter5@127.0.0.1:1/db"]),
        plain.run(&["--config", "/nonexistent/postgres://u:hunter6@x/y.toml", "check"]),
    ];
    for out in &runs {
        assert_ne!(out.code, exit::OK, "{out}");
        let all = format!("{}{}", out.stdout, out.stderr);
        for pw in ["hunter1", "hunter2", "hunter3", "hunter4", "hunter5", "hunter6"] {
            assert!(!all.contains(pw), "`{pw}` came back:\n{out}");
        }
        assert!(all.contains("****"), "nothing was masked, so nothing was shown:\n{out}");
    }
}

/// A migration that fails on production data fails with the data in PostgreSQL's message
/// (`Key (email)=(…) is duplicated`, `Failing row contains (…)`): neither our own error nor
/// a tool's output may show the values — the columns stay, to say what to fix.
fn row_values_in_postgres_errors_never_reach_any_output() {
    const SEED: &str = "create table people (id int primary key, email text, n bigint); \
        insert into people values (1, 'ann.secret@example.com', 5000000000), (2, 'ann.secret@example.com', 1)";
    let cases: [(&str, &str, &str); 3] = [
        ("unique", "alter table people add constraint people_email_key unique (email);\n", "Key (email)=(…) is duplicated"),
        ("check", "alter table people add constraint small check (n < 3) not valid;\nupdate people set n = n;\n", "Failing row contains (…)"),
        ("cast", "alter table people alter column email type int using email::int;\n", "invalid input syntax for type integer: \"…\""),
    ];
    for (tag, migration, masked) in cases {
        let p = Project::new(&format!("row_values_{tag}"))
            .migration("0001_change.sql", migration)
            .commit()
            .git_branch(&format!("feature/row-values-{tag}"));
        p.main_sql(SEED);
        for args in [&["run", "pre-push"][..], &["run", "pre-push", "--json"][..]] {
            let out = p.run(args);
            out.code(exit::MIGRATION_FAILED);
            for text in [&out.stdout, &out.stderr] {
                assert!(
                    !text.contains("ann.secret") && !text.contains("5000000000"),
                    "a row value is shown ({tag}):\n{out}"
                );
            }
            // (In JSON its quotes are escaped.)
            let in_json = masked.replace('"', "\\\"");
            assert!(
                out.stdout.contains(masked) || out.stdout.contains(&in_json),
                "{tag}: want {masked:?}\n{out}"
            );
        }
    }

    // A tool of the project's own, printing a driver's error as psycopg or node-postgres do.
    let p = Project::new("row_values_tool")
        .config(
            r#"
[tool]
name = "printing-tool"
command = 'echo "DETAIL:  Key (email)=(ann.secret@example.com) already exists." >&2; exit 1'
"#,
        )
        .commit()
        .git_branch("feature/row-values-tool");
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(exit::MIGRATION_FAILED);
    assert!(!out.stdout.contains("ann.secret") && !out.stderr.contains("ann.secret"), "{out}");
    assert!(out.stdout.contains("Key (email)=(…) already exists."), "{out}");
}

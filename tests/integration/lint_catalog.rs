//! Lint's "created in this run", the online way to index a partitioned table and the
//! squawk-ignore comments it reports, through `pre-push` on the local provider with the
//! built-in `sql` tool (attack11 A3b, B6, C1).

use neon_migrate::exit;
use serde_json::Value;

use crate::support::{check_result, findings_starting, Project};
use crate::Test;

pub fn tests() -> Vec<Test> {
    tests![
        lint_resolves_table_names_as_postgres_does_before_calling_a_table_new,
        lint_and_schema_pass_the_online_way_to_index_a_partitioned_table,
        lint_reports_a_squawk_ignore_file_on_a_line_of_its_own_in_a_block_comment,
    ]
}

const NO_REVERSIBLE: &str = "[checks.reversible]\nenabled = false\n";

fn project(name: &str, migration: &str) -> Project {
    Project::new(name)
        .config(NO_REVERSIBLE)
        .migration("0001_change.sql", migration)
        .commit()
}

fn pre_push_json(p: &Project, code: i32) -> Value {
    let out = p.run(&["run", "pre-push", "--json"]);
    out.code(code);
    p.assert_no_test_db_branches();
    out.json()
}

/// `(severity, location)` of the lint findings whose `what` starts with `rule`, by location.
fn lint_findings(report: &Value, rule: &str) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = findings_starting(report, "lint", "what", rule)
        .into_iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or("").to_owned(),
                f["location"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    got.sort_by(|a, b| a.1.cmp(&b.1));
    got
}

/// A migration that creates a table `t` and drops the id default of existing tables named
/// the ways Postgres normalizes: a `U&` escape, a name cut to 63 bytes, a comment inside the
/// qualified name, an unquoted non-ASCII letter Postgres does not fold (beside a new table
/// of the folded name). Each named an existing table and was demoted to info as "created in
/// this run"; only `t` is (and `tmp`, created and dropped).
fn lint_resolves_table_names_as_postgres_does_before_calling_a_table_new() {
    let long = format!("customer_addresses_{}", "0".repeat(44));
    assert_eq!(long.len(), 63);
    let p = project(
        "lint_names",
        &format!(
            "set lock_timeout = '2s';\n\
             set statement_timeout = '60s';\n\
             create table t (id int default 1);\n\
             create table \"äpfel\" (id int);\n\
             alter table t alter column id drop default;\n\
             alter table U&\"\\0075sers\" alter column id drop default;\n\
             alter table {long}_archive_v2 alter column id drop default;\n\
             alter table public/* here */.orders alter column id drop default;\n\
             alter table Äpfel alter column id drop default;\n\
             create table tmp (id int);\n\
             drop table tmp;\n"
        ),
    );
    p.main_sql(&format!(
        "create table users (id serial primary key); insert into users default values; \
         create table {long} (id serial primary key); \
         create table orders (id serial primary key); \
         create table \"Äpfel\" (id serial primary key)"
    ));
    let report = pre_push_json(&p, exit::CHECK_FAILED);
    let lint = check_result(&report, "lint");
    let got = lint_findings(&report, "ban-drop-default");
    let at = |line: usize| format!("0001_change.sql:{line}:");
    let severity_at = |line: usize| {
        got.iter()
            .filter(|(_, l)| l.starts_with(&at(line)))
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(severity_at(5), ["info"], "{lint:#}");
    for line in 6..=9 {
        assert_eq!(severity_at(line), ["error"], "line {line}: {lint:#}");
    }
    // A table created and dropped in the run is never in the catalog: it was not there
    // before, and no table that was is gone.
    let dropped = lint_findings(&report, "ban-drop-table");
    assert_eq!(dropped.len(), 1, "{lint:#}");
    assert!(dropped[0].1.starts_with(&at(11)), "{lint:#}");
    assert_eq!(dropped[0].0, "info", "{lint:#}");
    let t = findings_starting(&report, "lint", "location", &at(5));
    assert!(
        t.iter().any(|f| f["what"]
            .as_str()
            .is_some_and(|w| w.ends_with("t did not exist on the parent: created in this run, no rows and no clients yet"))),
        "{lint:#}"
    );
}

/// `CREATE INDEX … ON ONLY` a partitioned table (it builds nothing), `CREATE INDEX
/// CONCURRENTLY` on each partition, `ALTER INDEX … ATTACH PARTITION`: the only way to index
/// a partitioned table without blocking writes. Lint failed it (require-concurrent-index-
/// creation, though CONCURRENTLY is an error on a partitioned table) and the schema check
/// showed it as `CREATE INDEX m_v_idx ON public.m`, a full build.
fn lint_and_schema_pass_the_online_way_to_index_a_partitioned_table() {
    let p = project(
        "lint_part_index",
        "-- neon-migrate: no-transaction\n\
         set lock_timeout = '2s';\n\
         set statement_timeout = '60s';\n\
         create index if not exists m_v_idx on only m (v);\n\
         create index concurrently if not exists m_2025_v_idx on m_2025 (v);\n\
         create index concurrently if not exists m_2026_v_idx on m_2026 (v);\n\
         alter index m_v_idx attach partition m_2025_v_idx;\n\
         alter index m_v_idx attach partition m_2026_v_idx;\n",
    );
    p.main_sql(
        "create table m (id bigint, y int not null, v int) partition by list (y); \
         create table m_2025 partition of m for values in (2025); \
         create table m_2026 partition of m for values in (2026); \
         create table plain (v int); \
         insert into m select g, 2025 + g % 2, g from generate_series(1, 2000) g",
    );
    let report = pre_push_json(&p, exit::OK);
    let lint = check_result(&report, "lint");
    let got = lint_findings(&report, "require-concurrent-index-creation");
    assert_eq!(
        got,
        [("info".to_owned(), "0001_change.sql:4:1".to_owned())],
        "{lint:#}"
    );
    let schema = check_result(&report, "schema");
    let shown = schema.to_string();
    assert!(
        shown.contains("CREATE INDEX m_v_idx ON ONLY public.m USING btree (v)")
            && !shown.contains("m_v_idx ON public.m"),
        "{schema:#}"
    );

    // ON ONLY a table that is not partitioned builds the whole index: still an error.
    let p = project(
        "lint_only_plain",
        "set lock_timeout = '2s';\nset statement_timeout = '60s';\ncreate index plain_v on only plain (v);\n",
    );
    p.main_sql("create table plain (v int); insert into plain select generate_series(1, 100)");
    let report = pre_push_json(&p, exit::CHECK_FAILED);
    assert_eq!(
        lint_findings(&report, "require-concurrent-index-creation"),
        [("error".to_owned(), "0001_change.sql:3:1".to_owned())],
        "{:#}",
        check_result(&report, "lint")
    );
}

/// squawk honours `squawk-ignore-file` on a line of its own inside a block comment; lint only
/// reported one on the line that opens the comment, so the file's lint was switched off in
/// silence and a dropped default of an existing table passed with no word.
fn lint_reports_a_squawk_ignore_file_on_a_line_of_its_own_in_a_block_comment() {
    let p = project(
        "lint_ignore_block",
        "/*\n   squawk-ignore-file\n*/\nalter table users alter column id drop default;\n-- squawk-ignore\nalter table users alter column id set default 1;\n",
    );
    p.main_sql("create table users (id serial primary key); insert into users default values");
    let report = pre_push_json(&p, exit::OK);
    let lint = check_result(&report, "lint");
    assert!(
        lint_findings(&report, "ban-drop-default").is_empty(),
        "{lint:#}"
    );
    let f = findings_starting(&report, "lint", "what", "`squawk-ignore-file");
    assert_eq!(f.len(), 1, "{lint:#}");
    assert_eq!(f[0]["severity"], "warning", "{lint:#}");
    assert_eq!(f[0]["location"], "0001_change.sql:2:4", "{lint:#}");
    // A bare `-- squawk-ignore` hides every rule of the next statement, and says so.
    let f = findings_starting(&report, "lint", "location", "0001_change.sql:5:4");
    assert_eq!(f.len(), 1, "{lint:#}");
    assert_eq!(f[0]["severity"], "info", "{lint:#}");
    assert!(
        f[0]["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("`squawk-ignore`: ") && w.contains("every rule is NOT CHECKED there")),
        "{lint:#}"
    );
}

//! The checks of the `checks` stage end to end (issue 6): for every check a migration that
//! trips it and one that passes, through `pre-push` on the local provider; the locks of real
//! migrations on a table of 200,000 rows; and checks that aggregate (one failure never hides
//! another).
//!
//! Each scenario runs twice: once for the human report (what/where/why/fix of each finding,
//! printed under its check) and once with `--json` (stage `checks` → `results[]`: `name`,
//! `status`, `findings`). Each project's main Neon database branch is its own database,
//! seeded by the test.

use neon_migrate::exit;
use serde_json::Value;

use crate::support::{stage, Output, Project};
use crate::Test;

/// Every test of this file: the rows of [`table`].
pub fn tests() -> Vec<Test> {
    table()
        .into_iter()
        .map(|(name, cases)| Test::new(name, move || cases.into_iter().for_each(Case::run), None))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `accounts`: 100 rows on the main Neon database branch.
const ACCOUNTS: &str = "create table accounts (id bigint primary key, email text not null, note text); \
     insert into accounts select g, 'user' || g || '@example.com', null from generate_series(1, 100) g";

/// Rows of the big table of the locks scenarios.
const LEDGER_ROWS: i64 = 200_000;

/// `ledger`: 200,000 rows, with an `int`, a `varchar(32)` and a `numeric(10,2)` column.
fn seed_ledger(p: &Project) {
    p.main_sql(&format!(
        "create table ledger (id bigint primary key, n int not null, label varchar(32) not null, \
         amount numeric(10, 2) not null); \
         insert into ledger select g, g, 'entry ' || g, g % 1000 \
         from generate_series(1, {LEDGER_ROWS}) g"
    ));
    assert_eq!(
        p.main_sql("select count(*) from ledger")[0][0].as_deref(),
        Some(LEDGER_ROWS.to_string().as_str())
    );
}

/// A project on git branch `feature/<name>` with `migrations` and `config`, committed.
fn project(name: &str, config: &str, migrations: &[(&str, &str)]) -> Project {
    let mut p = Project::new(name).config(config);
    for (file, sql) in migrations {
        p = p.migration(file, sql);
    }
    p.commit().git_branch(&format!("feature/{name}"))
}

/// Replaces the config (and commits it) for the next run.
fn reconfigure(p: Project, config: &str) -> Project {
    p.config(config).commit()
}

/// `pre-push`, once for the human report and once with `--json`; both must exit `code` and
/// leave no test Neon database branch behind.
#[track_caller]
fn pre_push(p: &Project, code: i32) -> (Output, Value) {
    let out = p.run(&["run", "pre-push"]);
    out.code(code);
    p.assert_no_test_db_branches();
    let json = p.run(&["run", "pre-push", "--json"]);
    json.code(code);
    p.assert_no_test_db_branches();
    let report = json.json();
    assert_eq!(report["exit_code"], code, "{report:#}");
    (out, report)
}

/// Check `name` in the `checks` stage of a `--json` report.
#[track_caller]
fn result<'a>(report: &'a Value, name: &str) -> &'a Value {
    stage(report, "checks")["results"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check `{name}` in the checks stage:\n{report:#}"))
}

/// `status` of every check, in report order.
fn statuses(report: &Value) -> Vec<(String, String)> {
    stage(report, "checks")["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("?").to_owned(),
                c["status"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

/// Asserts the status of every check that ran, `name=status …` in report order (`sql` only
/// appears when assertions exist).
#[track_caller]
fn assert_statuses(report: &Value, want: &str) {
    let got = statuses(report);
    let want: Vec<(String, String)> = want
        .split_whitespace()
        .map(|w| {
            let (n, s) = w.split_once('=').expect("name=status");
            (n.to_owned(), s.to_owned())
        })
        .collect();
    assert_eq!(got, want, "check statuses\n{report:#}");
}

/// Findings of check `name` whose `what` starts with `prefix`.
fn findings<'a>(report: &'a Value, name: &str, prefix: &str) -> Vec<&'a Value> {
    result(report, name)["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["what"].as_str().unwrap_or("").starts_with(prefix))
        .collect()
}

/// The one finding of check `name` whose `what` starts with `prefix`.
#[track_caller]
fn finding<'a>(report: &'a Value, name: &str, prefix: &str) -> &'a Value {
    let found = findings(report, name, prefix);
    assert_eq!(
        found.len(),
        1,
        "want exactly one `{name}` finding starting with {prefix:?}, got {found:#?}\n{:#}",
        result(report, name)
    );
    found[0]
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// What a finding must say in the human report. `what` are fragments of its first line (the
/// first is its start, after the severity); `why` and `fix` are fragments of the next two.
struct Printed<'a> {
    severity: &'a str,
    what: &'a [&'a str],
    at: Option<&'a str>,
    why: &'a str,
    fix: &'a str,
}

/// Asserts that the human report prints a finding as
/// `<severity>: <what> [<where>]` / `why: …` / `fix: …`.
#[track_caller]
fn assert_printed(out: &Output, want: &Printed<'_>) {
    let lines: Vec<&str> = out.stdout.lines().collect();
    let head = format!("{}: {}", want.severity, want.what[0]);
    let ok = lines.iter().enumerate().any(|(i, line)| {
        let line = line.trim_start();
        line.starts_with(&head)
            && want.what[1..].iter().all(|w| line.contains(w))
            && want.at.is_none_or(|at| line.ends_with(&format!(" [{at}]")))
            && lines.get(i + 1).is_some_and(|l| {
                l.trim_start()
                    .strip_prefix("why: ")
                    .is_some_and(|w| w.contains(want.why))
            })
            && lines.get(i + 2).is_some_and(|l| {
                l.trim_start()
                    .strip_prefix("fix: ")
                    .is_some_and(|f| f.contains(want.fix))
            })
    });
    assert!(
        ok,
        "the human report lacks the finding\n  {head} … {:?} [{:?}]\n  why: …{}…\n  fix: …{}…\n{out}",
        &want.what[1..],
        want.at,
        want.why,
        want.fix
    );
}

/// The result line of check `name` in the human report: `✓ name: summary`.
#[track_caller]
fn check_line<'a>(out: &'a Output, name: &str) -> &'a str {
    out.stdout
        .lines()
        .map(str::trim_start)
        .find(|l| {
            let mut w = l.split_whitespace();
            matches!(w.next(), Some("✓" | "✗" | "-"))
                && w.next() == Some(&format!("{name}:") as &str)
        })
        .unwrap_or_else(|| panic!("no result line for check `{name}`\n{out}"))
}

/// The number in `… ~<n> ms …` right after `marker`.
#[track_caller]
fn ms_after(s: &str, marker: &str) -> u64 {
    let rest = s
        .split_once(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {s:?}"))
        .1;
    rest.trim_start_matches('~')
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {marker:?} in {s:?}"))
}

/// The `details` line of check `name` that starts with `prefix`.
fn detail<'a>(report: &'a Value, name: &str, prefix: &str) -> Option<&'a str> {
    result(report, name)["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|d| d.starts_with(prefix))
}

// ---------------------------------------------------------------------------------------
// The table: one row a test, each a list of cases (a project and the rounds run on it)
// ---------------------------------------------------------------------------------------

/// Rows of [`Printed`] and a round's particular assertions, for the table below.
type Then = fn(&Project, &Output, &Value);

/// What changes before a round.
enum Change {
    Nothing,
    /// The config is replaced (and committed).
    Config(String),
    /// A migration file is written again (and committed).
    Migration(&'static str, &'static str),
}

/// One `pre-push` round of a case (human and `--json`, see [`pre_push`]): its exit code, text
/// the human report has and lacks, findings it prints, the status of every check that ran (in
/// report order: `name=status …`), and the round's particular assertions.
struct Round {
    change: Change,
    code: i32,
    has: Vec<String>,
    lacks: Vec<&'static str>,
    printed: Vec<Printed<'static>>,
    statuses: Option<&'static str>,
    then: Then,
}

impl Round {
    fn new(code: i32) -> Round {
        Round {
            change: Change::Nothing,
            code,
            has: Vec::new(),
            lacks: Vec::new(),
            printed: Vec::new(),
            statuses: None,
            then: |_, _, _| {},
        }
    }

    fn config(mut self, config: impl Into<String>) -> Self {
        self.change = Change::Config(config.into());
        self
    }

    fn migration(mut self, file: &'static str, sql: &'static str) -> Self {
        self.change = Change::Migration(file, sql);
        self
    }

    fn has<S: ToString>(mut self, texts: &[S]) -> Self {
        self.has.extend(texts.iter().map(ToString::to_string));
        self
    }

    fn lacks(mut self, texts: &[&'static str]) -> Self {
        self.lacks.extend(texts);
        self
    }

    fn printed(mut self, finding: Printed<'static>) -> Self {
        self.printed.push(finding);
        self
    }

    fn statuses(mut self, statuses: &'static str) -> Self {
        self.statuses = Some(statuses);
        self
    }

    fn then(mut self, then: Then) -> Self {
        self.then = then;
        self
    }
}

/// A project on git branch `feature/<tag>` with `config` and `migrations`, its main Neon
/// database branch seeded by `seed`, and the rounds run on it in turn.
struct Case {
    tag: &'static str,
    config: String,
    migrations: &'static [(&'static str, &'static str)],
    seed: fn(&Project),
    rounds: Vec<Round>,
}

impl Case {
    fn new(
        tag: &'static str,
        config: impl Into<String>,
        migrations: &'static [(&'static str, &'static str)],
        seed: fn(&Project),
    ) -> Case {
        Case {
            tag,
            config: config.into(),
            migrations,
            seed,
            rounds: Vec::new(),
        }
    }

    fn round(mut self, round: Round) -> Self {
        self.rounds.push(round);
        self
    }

    fn run(self) {
        let mut p = project(self.tag, &self.config, self.migrations);
        (self.seed)(&p);
        for round in self.rounds {
            p = match round.change {
                Change::Nothing => p,
                Change::Config(config) => reconfigure(p, &config),
                Change::Migration(file, sql) => p.migration(file, sql).commit(),
            };
            let (out, report) = pre_push(&p, round.code);
            for text in &round.has {
                out.stdout_has(text);
            }
            for text in &round.lacks {
                out.stdout_lacks(text);
            }
            for finding in &round.printed {
                assert_printed(&out, finding);
            }
            if let Some(statuses) = round.statuses {
                assert_statuses(&report, statuses);
            }
            (round.then)(&p, &out, &report);
        }
    }
}

/// `accounts`: 100 rows.
fn accounts(p: &Project) {
    p.main_sql(ACCOUNTS);
}

/// The statuses of a passing run without `[[checks.sql]]` or a down migration.
const ALL_PASS: &str = "schema=passed lint=passed locks=passed data=passed reversible=not-run";

/// Every test of this file: a row of the table, named as the test is.
fn table() -> Vec<(&'static str, Vec<Case>)> {
    vec![
        (
            "checks_sql_fails_on_a_false_assertion_and_passes_when_it_holds",
            vec![Case::new(
                "checks_sql",
                sql_config("100"),
                &[("0001_add_account.sql", ADD_ONE_ACCOUNT)],
                accounts,
            )
            .round(
                Round::new(exit::CHECK_FAILED)
                    .has(&[
                        "✗ accounts after the migration: expected the value `100`, got `101`",
                        "query: select count(*) from accounts",
                        "✗ sql: 1 of 1 assertion(s) failed",
                    ])
                    .statuses("sql=failed schema=passed lint=passed locks=passed data=passed reversible=not-run")
                    .then(|_, _, report| {
                        let f = finding(report, "sql", "`accounts after the migration`");
                        assert_eq!(
                            text(f, "what"),
                            "`accounts after the migration`: expected the value `100`, got `101`"
                        );
                        assert_eq!(text(f, "location"), "select count(*) from accounts");
                        assert_eq!(
                            text(f, "why"),
                            "a declared invariant of the data does not hold after the migration"
                        );
                        assert_eq!(f["severity"], "error");
                        assert_eq!(
                            text(stage(report, "checks"), "summary"),
                            "1 of 5 check(s) failed: sql; 1 NOT RUN: reversible"
                        );
                    }),
            )
            .round(
                Round::new(exit::OK)
                    .config(sql_config("101"))
                    .has(&["✓ accounts after the migration", "✓ sql: 1 assertion(s) hold"])
                    .lacks(&["error:"])
                    .then(|p, _, report| {
                        assert_eq!(result(report, "sql")["status"], "passed");
                        assert_eq!(result(report, "sql")["findings"], serde_json::json!([]));
                        assert!(!p.main_has("neon_migrate.schema_migrations"));
                    }),
            )],
        ),
        (
            "checks_schema_denies_a_dropped_column_unless_the_migration_is_allowed",
            vec![Case::new(
                "checks_schema",
                LINT_ALLOWS_DROP,
                &[("0001_drop_note.sql", "alter table accounts drop column note;\n")],
                accounts,
            )
            .round(
                Round::new(exit::CHECK_FAILED)
                    .printed(Printed {
                        severity: "error",
                        what: &[DROP_NOTE],
                        at: Some("public.accounts"),
                        why: "",
                        fix: "list the migration in `allow-migrations` under [checks.schema] (applied here: 0001_drop_note.sql)",
                    })
                    .statuses("schema=failed lint=passed locks=passed data=passed reversible=not-run")
                    .then(|_, out, report| {
                        assert!(check_line(out, "schema").starts_with("✗ schema: 1 schema change(s)"));
                        let f = finding(report, "schema", "deletes_data:");
                        assert_eq!(f["severity"], "error");
                        assert!(text(f, "what").starts_with(DROP_NOTE), "{f:#}");
                        assert_eq!(text(f, "location"), "public.accounts");
                        assert!(
                            text(f, "why").contains("note"),
                            "the why names the dropped column: {f:#}"
                        );
                        assert!(
                            text(f, "fix").starts_with("first deploy code that no longer reads or writes it"),
                            "{f:#}"
                        );
                    }),
            )
            // The same migration, deliberately allowed.
            .round(
                Round::new(exit::OK)
                    .config(format!(
                        "{LINT_ALLOWS_DROP}\n[checks.schema]\nallow-migrations = [\"0001_drop_note.sql\"]\n"
                    ))
                    .printed(Printed {
                        severity: "warning",
                        what: &[DROP_NOTE],
                        at: Some("public.accounts"),
                        why: "",
                        fix: "first deploy code that no longer reads or writes it",
                    })
                    .lacks(&["allow-migrations"])
                    .then(|_, _, report| {
                        assert_eq!(result(report, "schema")["status"], "passed");
                        assert_eq!(
                            finding(report, "schema", "deletes_data:")["severity"],
                            "warning"
                        );
                    }),
            )],
        ),
        (
            "checks_lint_flags_a_blocking_index_build_with_file_line_why_and_fix",
            vec![Case::new("checks_lint", "", &[("0001_email_idx.sql", PLAIN_INDEX)], accounts)
                .round(
                    Round::new(exit::CHECK_FAILED)
                        .printed(Printed {
                            severity: "error",
                            what: &[BLOCKING_INDEX_RULE, "table updates are blocked"],
                            at: Some("0001_email_idx.sql:2:1"),
                            why: "a plain CREATE INDEX holds a SHARE lock for the whole build: every write to the table waits",
                            fix: "Use `concurrently` to avoid blocking writes.",
                        })
                        .statuses("schema=passed lint=failed locks=passed data=passed reversible=not-run")
                        .then(|_, out, report| {
                            assert!(check_line(out, "lint").starts_with("✗ lint: 1 file(s) linted"));
                            let f = finding(report, "lint", BLOCKING_INDEX_RULE);
                            assert_eq!(f["severity"], "error");
                            assert_eq!(text(f, "location"), "0001_email_idx.sql:2:1");
                            // Only that rule fails the check; the default warnings stay warnings.
                            let errors: Vec<&Value> = lint_errors(report);
                            assert_eq!(errors.len(), 1, "{errors:#?}");
                        }),
                )
                // The safe form passes.
                .round(
                    Round::new(exit::OK)
                        .migration("0001_email_idx.sql", CONCURRENT_INDEX)
                        .lacks(&[BLOCKING_INDEX_RULE])
                        .then(|_, _, report| {
                            assert_eq!(result(report, "lint")["status"], "passed");
                            assert!(findings(report, "lint", BLOCKING_INDEX_RULE).is_empty());
                            assert!(lint_errors(report).is_empty());
                        }),
                )],
        ),
        (
            "checks_lint_ignore_and_warn_let_the_same_migration_pass",
            vec![Case::new(
                "checks_lint_lists",
                format!("[checks.lint]\nignore = [\"{BLOCKING_INDEX_RULE}\"]\n"),
                &[("0001_email_idx.sql", PLAIN_INDEX)],
                accounts,
            )
            // `ignore`: not reported at all.
            .round(
                Round::new(exit::OK)
                    .lacks(&[BLOCKING_INDEX_RULE])
                    .then(|_, _, report| {
                        assert_eq!(result(report, "lint")["status"], "passed");
                        assert!(findings(report, "lint", BLOCKING_INDEX_RULE).is_empty());
                        // Ignoring one rule leaves the others: the timeouts are still advised.
                        assert!(!findings(report, "lint", "require-lock-timeout").is_empty());
                    }),
            )
            // `warn`: reported, without failing. The list replaces the default one, so it
            // repeats the default rules this file trips.
            .round(
                Round::new(exit::OK)
                    .config(format!(
                        "[checks.lint]\nwarn = [\"{BLOCKING_INDEX_RULE}\", \"require-lock-timeout\", \"require-statement-timeout\"]\n"
                    ))
                    .printed(Printed {
                        severity: "warning",
                        what: &[BLOCKING_INDEX_RULE],
                        at: Some("0001_email_idx.sql:2:1"),
                        why: "a plain CREATE INDEX holds a SHARE lock",
                        fix: "Use `concurrently`",
                    })
                    .then(|_, _, report| {
                        assert_eq!(result(report, "lint")["status"], "passed");
                        assert_eq!(
                            finding(report, "lint", BLOCKING_INDEX_RULE)["severity"],
                            "warning"
                        );
                    }),
            )],
        ),
        (
            "checks_data_fails_on_lost_rows_unless_the_table_may_lose_them",
            vec![Case::new("checks_data", "", &[("0001_purge.sql", PURGE)], accounts)
                .round(
                    Round::new(exit::CHECK_FAILED)
                        .printed(Printed {
                            severity: "error",
                            what: &[LOST_10],
                            at: Some("public.accounts"),
                            why: "rows a migration deletes on the test Neon database branch are deleted on production too",
                            fix: ALLOW_LOSS_FIX,
                        })
                        .statuses("schema=passed lint=passed locks=passed data=failed reversible=not-run")
                        .then(|p, _, report| {
                            let f = finding(report, "data", "public.accounts lost");
                            assert_eq!(text(f, "what"), LOST_10);
                            assert_eq!(text(f, "location"), "public.accounts");
                            assert_eq!(text(f, "fix"), ALLOW_LOSS_FIX);
                            assert_eq!(f["severity"], "error");
                            // The parent is untouched.
                            assert_eq!(
                                p.main_sql("select count(*) from accounts")[0][0].as_deref(),
                                Some("100")
                            );
                        }),
                )
                // Allowed (by bare name): still reported, as information.
                .round(
                    Round::new(exit::OK)
                        .config("[checks.data]\nallow-loss = [\"accounts\"]\n")
                        .printed(Printed {
                            severity: "info",
                            what: &[LOST_10],
                            at: Some("public.accounts"),
                            why: "deleted on production too",
                            fix: "allow-loss",
                        })
                        .then(|_, _, report| {
                            assert_eq!(result(report, "data")["status"], "passed");
                            assert_eq!(
                                finding(report, "data", "public.accounts lost")["severity"],
                                "info"
                            );
                        }),
                )],
        ),
        (
            "checks_data_estimates_see_rows_a_delete_removed",
            // Above `exact-below` the rows are estimated; the estimate must see what a DELETE did.
            vec![Case::new(
                "checks_data_estimates",
                "[checks.data]\nexact-below = 10\n",
                &[("0001_purge_half.sql", "delete from accounts where id % 2 = 0;\n")],
                |p| {
                    p.main_sql(ACCOUNTS);
                    p.main_sql("analyze accounts");
                },
            )
            .round(
                Round::new(exit::CHECK_FAILED)
                    .has(&["error: public.accounts lost 50 row(s): 100 → 50 (estimate) [public.accounts]"])
                    .then(|_, _, report| {
                        assert_eq!(result(report, "data")["status"], "failed");
                        let f = finding(report, "data", "public.accounts lost");
                        assert!(text(f, "what").ends_with("(estimate)"), "{f:#}");
                    }),
            )
            // A migration that keeps every row passes, also on estimates.
            .round(
                Round::new(exit::OK)
                    .migration(
                        "0001_purge_half.sql",
                        "update accounts set note = 'kept' where id % 2 = 0;\n",
                    )
                    .then(|_, _, report| {
                        assert_eq!(result(report, "data")["status"], "passed");
                        assert!(
                            detail(report, "data", "public.accounts: 100 → 100 row(s) (estimate)")
                                .is_some(),
                            "{:#}",
                            result(report, "data")
                        );
                    }),
            )],
        ),
        (
            "checks_reversible_passes_with_a_correct_down_and_fails_when_down_leaves_a_column",
            vec![Case::new(
                "checks_reversible",
                "",
                &[
                    ("0001_add_plan.sql", ADD_PLAN),
                    (
                        "0001_add_plan.down.sql",
                        "alter table accounts drop column seats, drop column plan;\n",
                    ),
                ],
                accounts,
            )
            .round(
                Round::new(exit::OK)
                    .has(&[
                        "✓ reversible: down then up again reproduces both schemas",
                        "· down: 0001_add_plan.down.sql",
                        "· up again: 0001_add_plan.sql",
                    ])
                    .statuses("schema=passed lint=passed locks=passed data=passed reversible=passed"),
            )
            // A down migration that forgets a column.
            .round(
                Round::new(exit::CHECK_FAILED)
                    .migration(
                        "0001_add_plan.down.sql",
                        "alter table accounts drop column plan;\n",
                    )
                    .printed(Printed {
                        severity: "error",
                        what: &[
                            "after the down migrations the schema differs from the parent's in 1 way(s)",
                            "seats",
                        ],
                        at: None,
                        why: "a rollback would not restore the schema production has now",
                        fix: "make the down migrations undo exactly what the up migrations do",
                    })
                    .statuses("schema=passed lint=passed locks=passed data=passed reversible=failed")
                    .then(|_, _, report| {
                        let f = finding(
                            report,
                            "reversible",
                            "after the down migrations the schema differs",
                        );
                        assert!(text(f, "what").contains("seats"), "{f:#}");
                        assert!(!text(f, "what").contains("plan"), "{f:#}");
                        // Running the up migration again then meets the column left behind:
                        // said too.
                        let again = finding(
                            report,
                            "reversible",
                            "the up migrations failed when run again",
                        );
                        assert!(text(again, "what").contains("seats"), "{again:#}");
                    }),
            )],
        ),
        (
            "checks_reversible_is_not_run_without_a_down_and_fails_when_required",
            vec![Case::new(
                "checks_reversible_missing",
                "",
                &[("0001_add_plan.sql", ADD_PLAN)],
                accounts,
            )
            // Not run is said loudly, and counted in the stage's summary.
            .round(
                Round::new(exit::OK)
                    .has(&[
                        format!("! reversible: NOT RUN: {NO_DOWN}"),
                        "1 NOT RUN: reversible".to_owned(),
                    ])
                    .then(|_, _, report| {
                        let r = result(report, "reversible");
                        assert_eq!(r["status"], "not-run");
                        assert_eq!(text(r, "summary"), format!("NOT RUN: {NO_DOWN}"));
                    }),
            )
            .round(
                Round::new(exit::CHECK_FAILED)
                    .config("[checks.reversible]\nrequired = true\n")
                    .printed(Printed {
                        severity: "error",
                        what: &[NO_DOWN],
                        at: None,
                        why: "without a down migration a bad deploy can only be undone by restoring from a restore point",
                        fix: "write the down migration beside the up one, or set `required = false` under [checks.reversible]",
                    })
                    .then(|_, _, report| {
                        assert_eq!(result(report, "reversible")["status"], "failed");
                        assert_eq!(
                            text(finding(report, "reversible", "no down migration"), "what"),
                            NO_DOWN
                        );
                    }),
            )],
        ),
        (
            "checks_two_failing_checks_in_one_run_are_both_reported",
            vec![
                // A blocking index build (lint) and a purge (data), in one migration.
                Case::new(
                    "checks_aggregate",
                    "",
                    &[(
                        "0001_index_and_purge.sql",
                        "create index accounts_email_idx on accounts (email);\ndelete from accounts where id <= 10;\n",
                    )],
                    accounts,
                )
                .round(
                    Round::new(exit::CHECK_FAILED)
                        .has(&["error: 2 of 4 check(s) failed on test Neon database branch migrate/feature/checks_aggregate: lint, data"])
                        .printed(Printed {
                            severity: "error",
                            what: &[BLOCKING_INDEX_RULE],
                            at: Some("0001_index_and_purge.sql:1:1"),
                            why: "SHARE lock",
                            fix: "concurrently",
                        })
                        .printed(Printed {
                            severity: "error",
                            what: &[LOST_10],
                            at: Some("public.accounts"),
                            why: "deleted on production too",
                            fix: "allow-loss",
                        })
                        .statuses("schema=passed lint=failed locks=passed data=failed reversible=not-run")
                        .then(|_, out, report| {
                            assert!(out
                                .stage_line("checks")
                                .contains("2 of 4 check(s) failed: lint, data"));
                            assert_eq!(stage(report, "checks")["status"], "failed");
                            assert_eq!(
                                text(stage(report, "checks"), "summary"),
                                "2 of 4 check(s) failed: lint, data; 1 NOT RUN: reversible"
                            );
                        }),
                ),
                // A dropped table trips three checks at once, and a failing assertion a fourth.
                Case::new(
                    "checks_aggregate_drop",
                    r#"
[[checks.sql]]
name = "audit is kept"
query = "select to_regclass('public.audit') is not null"
expect-true = true
"#,
                    &[("0001_drop_audit.sql", "drop table audit;\n")],
                    |p| {
                        p.main_sql(
                            "create table audit (id bigint primary key, line text); \
                             insert into audit select g, 'line ' || g from generate_series(1, 5) g",
                        );
                    },
                )
                .round(
                    Round::new(exit::CHECK_FAILED)
                        .has(&["✗ audit is kept: expected `true`, got `false`"])
                        .printed(Printed {
                            severity: "error",
                            what: &["deletes_data: DROP TABLE public.audit"],
                            at: None,
                            why: "",
                            fix: "allow-migrations",
                        })
                        .printed(Printed {
                            severity: "error",
                            what: &["ban-drop-table"],
                            at: Some("0001_drop_audit.sql:1:1"),
                            why: "clients still running the old code break",
                            fix: "",
                        })
                        .printed(Printed {
                            severity: "error",
                            what: &["table public.audit disappeared with its 5 row(s)"],
                            at: Some("public.audit"),
                            why: "its rows are gone from production",
                            fix: "add \"public.audit\" to `allow-loss`",
                        })
                        .statuses("sql=failed schema=failed lint=failed locks=passed data=failed reversible=not-run")
                        .then(|_, out, _| {
                            assert!(
                                out.stage_line("checks")
                                    .contains("4 of 5 check(s) failed: sql, schema, lint, data"),
                                "{out}"
                            );
                        }),
                ),
            ],
        ),
        (
            "checks_locks_int_to_bigint_on_200k_rows_is_a_measured_access_exclusive_rewrite",
            vec![Case::new(
                "checks_locks_bigint",
                BUDGET_1MS,
                &[("0001_n_bigint.sql", N_BIGINT)],
                seed_ledger,
            )
            .round(
                Round::new(exit::CHECK_FAILED)
                    .printed(Printed {
                        severity: "error",
                        what: &[
                            "ACCESS EXCLUSIVE lock on public.ledger held ~",
                            " ms and the table was rewritten (budget 1 ms)",
                        ],
                        at: Some("public.ledger"),
                        why: "while it is held every read and write of public.ledger waits",
                        fix: "a new column and a backfill instead of a type change",
                    })
                    .statuses("schema=passed lint=failed locks=failed data=passed reversible=not-run")
                    .then(bigint_rewrite_is_measured),
            )
            // A large budget passes the same measured rewrite; squawk's rule is accepted here
            // so that the run passes as a whole.
            .round(
                Round::new(exit::OK)
                    .config("[checks.locks]\naccess-exclusive-budget = \"10min\"\n\n[checks.lint]\nignore = [\"changing-column-type\"]\n")
                    .printed(Printed {
                        severity: "warning",
                        what: &[
                            "public.ledger was rewritten under ACCESS EXCLUSIVE in ~",
                            " ms",
                        ],
                        at: Some("public.ledger"),
                        why: "a rewrite grows with the table",
                        fix: "a new column and a batched backfill",
                    })
                    .then(|_, _, report| {
                        assert_eq!(result(report, "locks")["status"], "passed");
                        let f = finding(report, "locks", "public.ledger was rewritten");
                        assert_eq!(f["severity"], "warning");
                        let held = ms_after(text(f, "what"), "in ");
                        assert!(held >= 20, "{f:#}");
                        assert!(
                            text(result(report, "locks"), "summary")
                                == "1 table(s) locked, 1 rewritten",
                            "{:#}",
                            result(report, "locks")
                        );
                    }),
            )],
        ),
        (
            "checks_locks_varchar_widening_on_200k_rows_is_observed_as_no_rewrite",
            vec![Case::new(
                "checks_locks_varchar",
                "[checks.locks]\nsample-interval = \"1ms\"\n",
                &[("0001_widen.sql", WIDEN)],
                seed_ledger,
            )
            .round(
                Round::new(exit::OK)
                    .printed(Printed {
                        severity: "info",
                        what: &[
                            "changing-column-type",
                            "— observed on the test Neon database branch: no table was rewritten",
                        ],
                        at: Some("0001_widen.sql:1:39"),
                        why: "a type change takes ACCESS EXCLUSIVE and may rewrite the table",
                        fix: "add a column of the new type",
                    })
                    .has(&["info: table_rewrite: ALTER TABLE public.ledger ALTER COLUMN amount TYPE numeric(12,2)"])
                    .statuses(ALL_PASS)
                    .then(widening_is_observed_as_no_rewrite),
            )],
        ),
        (
            "checks_locks_plain_create_index_on_200k_rows_holds_share_for_the_build",
            vec![Case::new(
                "checks_locks_index",
                BUDGET_1MS,
                &[(
                    "0001_label_idx.sql",
                    "create index ledger_label_idx on ledger (label);\n",
                )],
                seed_ledger,
            )
            .round(
                Round::new(exit::CHECK_FAILED)
                    .printed(Printed {
                        severity: "error",
                        what: &[
                            "SHARE lock on public.ledger held ~",
                            " ms (budget for locks that block writes: 4 ms)",
                        ],
                        at: Some("public.ledger"),
                        why: "every INSERT, UPDATE and DELETE on public.ledger waits while it is held",
                        fix: "build indexes with CREATE INDEX CONCURRENTLY",
                    })
                    // The schema check says what changed, not how the engine would build it:
                    // the locks check just saw the index built without CONCURRENTLY.
                    .has(&[
                        "· public.ledger: strongest lock SHARE for ~",
                        "· CREATE INDEX ledger_label_idx ON public.ledger",
                        "built without CONCURRENTLY it also blocks writes while it runs — the locks check shows how the migration built it",
                    ])
                    .lacks(&[
                        "CREATE INDEX CONCURRENTLY ledger_label_idx",
                        "builds the index concurrently",
                    ])
                    // The SHARE lock blocks writes for the whole build: over the budget for
                    // such locks (by default four times the ACCESS EXCLUSIVE one, so 4 ms).
                    .statuses("schema=passed lint=failed locks=failed data=passed reversible=not-run")
                    .then(index_build_holds_share),
            )
            // CONCURRENTLY: no SHARE lock and lint passes; the locks check sees no lock over
            // its budget, but a 1 ms budget is finer than every gap between samples, so that
            // proves nothing: NOT RUN (attack11 A7), and the run passes (it is not required).
            .round(
                Round::new(exit::OK)
                    .migration(
                        "0001_label_idx.sql",
                        "-- neon-migrate: no-transaction\ncreate index concurrently ledger_label_idx on ledger (label);\n",
                    )
                    .lacks(&["SHARE lock on public.ledger"])
                    .then(|_, _, report| {
                        let d = detail(report, "locks", "public.ledger: strongest lock ")
                            .unwrap_or_else(|| panic!("{:#}", result(report, "locks")));
                        assert!(
                            d.starts_with("public.ledger: strongest lock SHARE UPDATE EXCLUSIVE for ~"),
                            "{d}"
                        );
                        let locks = result(report, "locks");
                        assert_eq!(locks["status"], "not-run", "{locks:#}");
                        assert!(
                            text(locks, "summary").starts_with("NOT RUN: the lock sampler went "),
                            "{locks:#}"
                        );
                        assert_eq!(result(report, "lint")["status"], "passed");
                    }),
            )],
        ),
    ]
}

// ---------------------------------------------------------------------------------------
// What the rows use
// ---------------------------------------------------------------------------------------

const ADD_ONE_ACCOUNT: &str =
    "insert into accounts (id, email) values (101, 'late@example.com');\n";

fn sql_config(expect: &str) -> String {
    format!(
        r#"
[[checks.sql]]
name = "accounts after the migration"
query = "select count(*) from accounts"
expect-value = "{expect}"
"#
    )
}

/// squawk's `ban-drop-column` is ignored so that the schema check alone decides.
const LINT_ALLOWS_DROP: &str = "[checks.lint]\nignore = [\"ban-drop-column\"]\n";

const DROP_NOTE: &str = "deletes_data: ALTER TABLE public.accounts DROP COLUMN note";

const PLAIN_INDEX: &str =
    "-- look accounts up by email\ncreate index accounts_email_idx on accounts (email);\n";
const CONCURRENT_INDEX: &str = "-- neon-migrate: no-transaction\n\
     create index concurrently accounts_email_idx on accounts (email);\n";
const BLOCKING_INDEX_RULE: &str = "require-concurrent-index-creation";

/// The lint findings of severity `error`.
fn lint_errors(report: &Value) -> Vec<&Value> {
    result(report, "lint")["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .collect()
}

const PURGE: &str = "delete from accounts where id > 90;\n";
const LOST_10: &str = "public.accounts lost 10 row(s): 100 → 90 (exact)";
const ALLOW_LOSS_FIX: &str =
    "if this loss is intended, add \"public.accounts\" to `allow-loss` under [checks.data]";

const ADD_PLAN: &str = "alter table accounts add column plan text, add column seats integer;\n";
const NO_DOWN: &str = "no down migration for 0001_add_plan.sql (expected 0001_add_plan.down.sql)";

// locks, on 200,000 rows

const BUDGET_1MS: &str = "[checks.locks]\naccess-exclusive-budget = \"1ms\"\n";

/// Multi-line on purpose: the line with `TYPE bigint` does not name the table.
const N_BIGINT: &str =
    "-- the counter outgrows int\nalter table ledger\n  alter column n type bigint;\n";

/// A catalog-only change holds its lock for a couple of milliseconds, which a sampler on a
/// loaded machine can miss; so the file then waits 300 ms in the same transaction, which keeps
/// the lock (locks last until commit) without touching the table: a sampler that works sees
/// it on the first run. The verdicts that do not depend on catching it (no rewrite,
/// downgraded guesses) are asserted on every run; the lock must be caught within a few runs.
const WIDEN: &str = "alter table ledger alter column label type varchar(64);\n\
     alter table ledger alter column amount type numeric(12, 2);\n\
     select pg_sleep(0.3);\n";

/// The migrate stage's duration in a `--json` report.
fn migrate_ms(report: &Value) -> u64 {
    stage(report, "migrate")["duration_ms"]
        .as_u64()
        .expect("migrate duration")
}

/// The longest the sampler saw the migration's statement (the file) running.
#[track_caller]
fn statement_ms(report: &Value, starts: &str) -> u64 {
    let line = result(report, "locks")["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|d| d.starts_with("statement ran ≥ ") && d.contains(starts))
        .unwrap_or_else(|| {
            panic!(
                "no statement duration for {starts:?}:\n{:#}",
                result(report, "locks")
            )
        });
    ms_after(line, "statement ran ≥ ")
}

/// The rewrite's ACCESS EXCLUSIVE lock is measured, over its 1 ms budget.
fn bigint_rewrite_is_measured(_: &Project, out: &Output, report: &Value) {
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("· public.ledger: strongest lock ACCESS EXCLUSIVE for ~"))
        .unwrap_or_else(|| panic!("no lock line for public.ledger\n{out}"));
    assert!(line.ends_with(", table rewritten"), "{line}\n{out}");
    assert!(check_line(out, "locks").starts_with("✗ locks: 1 table(s) locked, 1 rewritten"));

    let locks = result(report, "locks");
    assert_eq!(locks["status"], "failed", "{locks:#}");
    let f = finding(report, "locks", "ACCESS EXCLUSIVE lock on public.ledger");
    let held = ms_after(text(f, "what"), "held ");
    let detail_line = detail(
        report,
        "locks",
        "public.ledger: strongest lock ACCESS EXCLUSIVE for ~",
    )
    .unwrap_or_else(|| panic!("{locks:#}"));
    assert_eq!(ms_after(detail_line, "for "), held, "{locks:#}");
    assert!(detail_line.ends_with(", table rewritten"), "{detail_line}");
    // The duration is a measurement: about as long as the statement was seen running (both
    // come from the same samples; a loaded machine delays samples, so half of it, or 50 ms,
    // is allowed), at most the whole migrate stage (plus rounding): a wrong unit or a
    // lock never seen still fails.
    let ran = statement_ms(report, "alter table ledger alter column n type bigint");
    let migrate = migrate_ms(report);
    assert!(
        ran >= 20,
        "rewriting 200,000 rows took {ran} ms?\n{locks:#}"
    );
    assert!(
        held + (ran / 2).max(50) >= ran && held <= migrate + 100,
        "lock held ~{held} ms; statement ran ≥ {ran} ms; migrate took {migrate} ms\n{locks:#}"
    );
    // Observed, the rewrite confirms both static guesses instead of downgrading them.
    let rewrite = finding(report, "schema", "table_rewrite:");
    assert_eq!(rewrite["severity"], "warning", "{rewrite:#}");
    assert!(!text(rewrite, "what").contains("no rewrite"), "{rewrite:#}");
    let lint = finding(report, "lint", "changing-column-type");
    assert_eq!(lint["severity"], "error", "{lint:#}");
    assert_eq!(text(lint, "location"), "0001_n_bigint.sql:3:18");
}

/// The guesses are downgraded by the observation (no rewrite) on every run; the brief lock
/// is caught within a few runs.
fn widening_is_observed_as_no_rewrite(p: &Project, _: &Output, report: &Value) {
    // lint: both type changes are downgraded by the observation.
    let lint = findings(report, "lint", "changing-column-type");
    assert_eq!(lint.len(), 2, "{:#}", result(report, "lint"));
    for f in lint {
        assert_eq!(f["severity"], "info", "{f:#}");
        assert!(
            text(f, "what")
                .ends_with(" — observed on the test Neon database branch: no table was rewritten"),
            "{f:#}"
        );
    }
    // schema: the engine knows a varchar widening does not rewrite; it guesses the numeric
    // one might, and the observation downgrades that guess.
    let rewrites = findings(report, "schema", "table_rewrite:");
    assert_eq!(rewrites.len(), 1, "{:#}", result(report, "schema"));
    let guess = rewrites[0];
    assert!(text(guess, "what").contains("ALTER COLUMN amount TYPE numeric(12,2)"));
    assert!(
        text(guess, "what").ends_with(" — observed on the test Neon database branch: no rewrite"),
        "{guess:#}"
    );
    assert_eq!(guess["severity"], "info");
    assert_eq!(
        findings(report, "schema", "access_exclusive_lock:").len(),
        2,
        "{:#}",
        result(report, "schema")
    );

    // locks: no rewrite on any run; the brief ACCESS EXCLUSIVE lock in one of a few.
    let mut caught = None;
    let mut runs = vec![report.clone()];
    for _ in 0..6 {
        let report = runs.last().expect("a run");
        let locks = result(report, "locks");
        assert!(
            text(locks, "summary").ends_with(", 0 rewritten"),
            "{locks:#}"
        );
        assert!(!locks.to_string().contains("table rewritten"), "{locks:#}");
        if let Some(d) = detail(report, "locks", "public.ledger: strongest lock ") {
            caught = Some(d.to_owned());
            break;
        }
        let json = p.run(&["run", "pre-push", "--json"]);
        json.code(exit::OK);
        runs.push(json.json());
    }
    let caught = caught.unwrap_or_else(|| {
        panic!(
            "in {} runs the sampler never saw the ACCESS EXCLUSIVE lock on public.ledger:\n{:#}",
            runs.len(),
            result(runs.last().expect("a run"), "locks")
        )
    });
    assert!(
        caught.starts_with("public.ledger: strongest lock ACCESS EXCLUSIVE for ~")
            && caught.ends_with(", no rewrite"),
        "{caught}"
    );
    p.assert_no_test_db_branches();
}

/// A plain index build holds SHARE for as long as the build ran, within the migrate stage.
fn index_build_holds_share(_: &Project, _: &Output, report: &Value) {
    let locks = result(report, "locks");
    let d = detail(report, "locks", "public.ledger: strongest lock ")
        .unwrap_or_else(|| panic!("{locks:#}"));
    assert!(
        d.starts_with("public.ledger: strongest lock SHARE for ~") && d.ends_with(", no rewrite"),
        "{d}"
    );
    let held = ms_after(d, "for ");
    let f = finding(report, "locks", "SHARE lock on public.ledger");
    assert_eq!(ms_after(text(f, "what"), "held "), held);
    // Held for the build: as long as the statement ran, within the migrate stage.
    let ran = statement_ms(report, "create index ledger_label_idx on ledger (label);");
    let migrate = migrate_ms(report);
    assert!(
        ran >= 20,
        "building an index on 200,000 rows took {ran} ms?\n{locks:#}"
    );
    assert!(
        held + (ran / 2).max(50) >= ran && held <= migrate + 100,
        "SHARE held ~{held} ms; the build ran ≥ {ran} ms; migrate took {migrate} ms\n{locks:#}"
    );
    assert!(
        findings(report, "locks", "ACCESS EXCLUSIVE").is_empty(),
        "{locks:#}"
    );
}

//! `lint`: zero-downtime hazards in the SQL that runs, with squawk's linter (the
//! `squawk-linter` crate, pinned) rather than a rewrite of its rules.
//!
//! For the built-in `sql` tool the migration files applied in this run are linted; tools
//! that generate SQL lint through their "print SQL" mode. Findings carry `file:line` and
//! squawk's help; rules can be ignored or downgraded to warnings in config. A rule that
//! predicts a table rewrite is downgraded when the locks check observed none.

use std::path::Path;

use squawk_linter::{Linter, Rule};
use squawk_syntax::{Parse, SourceFile};

use super::lint_names::{self, Catalog, Name};
use super::{
    Check, CheckResult, Evaluation, Finding, Needs, Observations, RecordError, Recording, Severity,
};
use crate::config::{Config, LintCheck, ToolKind};

const NAME: &str = "lint";

/// `[checks.lint]`: lints the SQL of this run's migrations — the files for the built-in `sql`
/// tool, the print-SQL output (taken before the tool ran) or the migration files for any
/// other tool.
pub struct Lint {
    /// The catalog's relations before the migration: a finding on a relation whose OID is not
    /// among them was made in this run (`None`: not read, nothing is demoted).
    before: Option<lint_names::Relations>,
}

impl Lint {
    pub fn new(config: &Config) -> Option<Self> {
        config.checks.lint.enabled.then_some(Lint { before: None })
    }
}

#[async_trait::async_trait]
impl Check for Lint {
    fn name(&self) -> &'static str {
        NAME
    }

    fn needs(&self) -> Needs {
        Needs::PENDING_SQL
    }

    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        self.before = lint_names::read(cx.client).await;
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let obs = cx.obs;
        let after = match cx.client {
            Some(client) if self.before.is_some() => lint_names::read(client).await,
            _ => None,
        };
        let cat = Catalog {
            before: self.before.clone(),
            after,
        };
        let major = obs
            .before
            .as_ref()
            .map(|m| m.server_version)
            .unwrap_or(150_000)
            / 10_000;
        if obs.applied.is_empty() {
            return Some(CheckResult::skipped(
                NAME,
                "no migration was applied in this run",
            ));
        }
        let cfg = &cx.config().checks.lint;
        Some(match &cx.config().tool.kind {
            ToolKind::Sql { migrations_dir } => {
                match lint_files(migrations_dir, obs, &cat, cfg, major) {
                    Ok(findings) => {
                        let n = findings.len();
                        CheckResult::from_findings(
                            NAME,
                            format!("{} file(s) linted, {n} finding(s)", obs.applied.len()),
                            findings,
                            Vec::new(),
                        )
                    }
                    Err(e) => CheckResult::failed(NAME, e.to_string()),
                }
            }
            ToolKind::Command { .. } => lint_command_tool(cx, &cat, major),
        })
    }
}

/// Lint for a tool run as a command: its print-SQL output, else its migration files.
fn lint_command_tool(cx: &Evaluation<'_>, cat: &Catalog, major: i32) -> CheckResult {
    let obs = cx.obs;
    let tool = &cx.config().tool.name;
    let text = match &obs.pending_sql {
            None => {
                return lint_sql_files(cx, cat, major).unwrap_or_else(|| {
                    CheckResult::not_run(
                        NAME,
                        format!("`{tool}` has no print-SQL mode and its migrations are not SQL files: set `print-sql-command` under [tool]"),
                    )
                })
            }
            Some(Err(e)) => {
                let why = match e.output().filter(|o| !o.trim().is_empty()) {
                    Some(o) => format!("{e}; its output ends with: {}", tail(o)),
                    None => e.to_string(),
                };
                return CheckResult::not_run(NAME, format!("the print-SQL command failed: {why}"));
            }
            Some(Ok(text)) => text,
        };
    if !has_sql(text) {
        return CheckResult::not_run(
            NAME,
            format!(
                "the print-SQL command printed no SQL, yet {} migration(s) were applied",
                obs.applied.len()
            ),
        );
    }
    let file = format!("{tool} print-SQL output");
    // The tool's output carries its own BEGIN/COMMIT when it uses a transaction;
    // otherwise each statement stands alone.
    let in_tx = !text.lines().any(|l| {
        let l = l.trim().to_ascii_uppercase();
        l == "BEGIN;" || l.starts_with("BEGIN TRANSACTION")
    });
    let findings = lint_observed_text(
        &file,
        text,
        (obs, cat),
        &cx.config().checks.lint,
        major,
        in_tx,
    );
    let n = findings.len();
    CheckResult::from_findings(
        NAME,
        format!(
            "the SQL of {} migration(s) linted (print-SQL mode), {n} finding(s)",
            obs.applied.len()
        ),
        findings,
        Vec::new(),
    )
}

/// The last few lines of a tool's output, for a one-line reason.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.trim_end().lines().collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// Lint for a tool without a print-SQL mode whose migrations are plain SQL files (Drizzle,
/// Prisma, sqlx, dbmate, diesel, refinery, Flyway): the files of the migrations this run
/// applied, found by the names the tracking table gives them. `None` when they cannot be
/// found (the caller says NOT RUN).
fn lint_sql_files(cx: &Evaluation<'_>, cat: &Catalog, major: i32) -> Option<CheckResult> {
    let obs = cx.obs;
    let tool = &cx.config().tool;
    let patterns = &tool.tracking.as_ref()?.migration_files;
    let files = crate::tools::detect::Tree::new(&tool.working_dir).files(patterns);
    let list =
        crate::tools::recorded::sql_files_of(&tool.name, &tool.working_dir, &obs.applied, &files)?;
    if list.is_empty() {
        return None;
    }
    let mut findings = Vec::new();
    for file in &list {
        let path = tool.working_dir.join(file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                return Some(CheckResult::failed(
                    NAME,
                    format!("cannot read {}: {e}", path.display()),
                ))
            }
        };
        // dbmate keeps the down migration in the same file, after `-- migrate:down`.
        let up = text.split("-- migrate:down").next().unwrap_or(&text);
        // These tools run each migration in a transaction unless the file opts out.
        let in_tx = !(up.contains("transaction:false") || up.contains("no-transaction"));
        findings.extend(lint_observed_text(
            file,
            up,
            (obs, cat),
            &cx.config().checks.lint,
            major,
            in_tx,
        ));
    }
    let n = findings.len();
    Some(CheckResult::from_findings(
        NAME,
        format!(
            "{} SQL file(s) of {} migration(s) linted, {n} finding(s)",
            list.len(),
            obs.applied.len()
        ),
        findings,
        Vec::new(),
    ))
}

/// Whether a text holds anything but blank lines and `--` comments.
fn has_sql(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with("--")
    })
}

/// A migration file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", .path.display())]
pub struct ReadError {
    path: std::path::PathBuf,
    #[source]
    source: std::io::Error,
}

/// Every rule name squawk knows.
pub fn rule_names() -> Vec<&'static str> {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            enum_iterator::all::<Rule>()
                .map(|r| &*Box::leak(r.to_string().into_boxed_str()))
                .collect()
        })
        .clone()
}

/// What the rule is about, in zero-downtime terms, for findings' "why".
fn why(rule: &str) -> &'static str {
    match rule {
        "require-concurrent-index-creation" => "a plain CREATE INDEX holds a SHARE lock for the whole build: every write to the table waits",
        "require-concurrent-index-deletion" => "a plain DROP INDEX takes an ACCESS EXCLUSIVE lock: reads and writes wait",
        "constraint-missing-not-valid" => "adding a constraint scans the table while holding a lock that blocks writes",
        "adding-foreign-key-constraint" => "a foreign key scans the table under SHARE ROW EXCLUSIVE on both tables: writes wait",
        "changing-column-type" => "a type change takes ACCESS EXCLUSIVE and may rewrite the table: reads and writes wait",
        "adding-not-nullable-field" => "SET NOT NULL scans the table under ACCESS EXCLUSIVE",
        "adding-field-with-default" => "a volatile default rewrites the table under ACCESS EXCLUSIVE",
        "disallowed-unique-constraint" | "adding-serial-primary-key-field" => "the constraint's index is built under ACCESS EXCLUSIVE",
        "ban-drop-column" | "ban-drop-table" | "renaming-column" | "renaming-table" => "clients still running the old code break",
        "require-timeout-settings" | "require-lock-timeout" | "require-statement-timeout" => "without timeouts a statement queued behind a long transaction blocks everything queued behind it",
        "prefer-bigint-over-int" | "prefer-bigint-over-smallint" => "a 32-bit (or 16-bit) key runs out; widening it later rewrites the table under ACCESS EXCLUSIVE",
        "prefer-text-field" => "a varchar(n) limit cannot be tightened later without scanning the table under ACCESS EXCLUSIVE; text with a CHECK can be changed NOT VALID",
        "prefer-timestamp-tz" => "timestamp without time zone stores wall-clock values; converting the column later rewrites the table under ACCESS EXCLUSIVE",
        "ban-char-field" => "char(n) pads every value, and changing the column later rewrites the table",
        "prefer-identity" => "a serial's sequence is a separate object (ownership, grants, dumps); an identity column keeps it tied to the column",
        "adding-required-field" => "adding a NOT NULL column without a default fails on a table that has rows",
        "ban-drop-database" | "ban-drop-schema" => "it deletes every table in it, and the data with them",
        "ban-drop-not-null" => "clients that rely on the column never being NULL start reading NULLs",
        "ban-truncate-cascade" => "TRUNCATE … CASCADE also empties every table that references this one",
        "ban-concurrent-index-creation-in-transaction" => "CREATE INDEX CONCURRENTLY cannot run inside a transaction: the migration fails on production",
        "prefer-robust-stmts" => "without IF [NOT] EXISTS a migration that failed half-way cannot simply be run again",
        "transaction-nesting" | "ban-uncommitted-transaction" => "a stray BEGIN or COMMIT ends the tool's transaction early, or leaves one open holding its locks",
        "ban-create-domain-with-constraint" | "ban-alter-domain-with-add-constraint" => "a domain constraint is checked against every column of that domain at once, under locks, and cannot be added NOT VALID",
        "require-concurrent-reindex" => "a plain REINDEX blocks writes (and reads through the index) for the whole rebuild",
        "require-concurrent-partition-detach" => "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table",
        _ => "it can block or break production traffic while the migration runs",
    }
}

/// How to do it safely, when squawk gives no help of its own.
fn safe_way(rule: &str) -> String {
    match rule {
        "changing-column-type" => "add a column of the new type, backfill it in batches, switch reads and writes to it, then drop the old one".into(),
        "ban-drop-column" | "ban-drop-table" => "first deploy code that no longer uses it, then drop it in a later migration".into(),
        "renaming-column" | "renaming-table" => "add the new name beside the old one (a new column kept in sync, or a view), move the code over, then drop the old name".into(),
        _ => format!("see https://squawkhq.com/docs/{rule}"),
    }
}

/// Lints one migration file.
pub fn lint_text(
    file: &str,
    text: &str,
    cfg: &LintCheck,
    pg_major: i32,
    in_transaction: bool,
) -> Vec<Finding> {
    lint_text_at(file, text, cfg, pg_major, in_transaction)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// [`lint_text`], with the byte offset in `text` each finding points at.
fn lint_text_at(
    file: &str,
    text: &str,
    cfg: &LintCheck,
    pg_major: i32,
    in_transaction: bool,
) -> Vec<(Finding, usize)> {
    let parse = squawk_syntax::SourceFile::parse(text);
    let mut linter = Linter::with_default_rules();
    if let Ok(v) = format!("{pg_major}").parse() {
        linter.settings.pg_version = v;
    }
    linter.settings.assume_in_transaction = in_transaction;
    let mut out = Vec::new();
    for v in linter.lint(&parse, text) {
        let rule = v.code.to_string();
        if cfg.ignore.contains(&rule) {
            continue;
        }
        let offset: usize = v.text_range.start().into();
        let (line, col) = crate::config::diag::line_col(text, offset);
        let severity = if cfg.warn.contains(&rule) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let mut f = Finding::new(
            "lint",
            severity,
            format!("{rule}: {}", v.message),
            why(&rule),
        )
        .at(format!("{file}:{line}:{col}"));
        f = f.fix(v.help.unwrap_or_else(|| safe_way(&rule)));
        out.push((f, offset));
    }
    out.extend(ignore_comments(file, text, &parse));
    out
}

/// squawk honours `-- squawk-ignore rule` (the next line) and `-- squawk-ignore-file`: what
/// such a comment hides was not checked, and the result says so instead of passing in
/// silence. A whole file switched off is a warning; one rule on one line is info (as
/// `generate` writes for the plan's own helper constraints). The comments are found the way
/// squawk finds them (its own reader, over the comment tokens of the parsed file): a block
/// comment whose directive is on a line of its own counts, text in a string does not, and
/// what follows a `--` inside the comment is not part of the rule list.
fn ignore_comments(file: &str, text: &str, parse: &Parse<SourceFile>) -> Vec<(Finding, usize)> {
    use squawk_linter::ignore::{ignore_rule_info, IgnoreKind};
    let mut out = Vec::new();
    for token in parse
        .syntax_node()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        let Some((names, range, kind)) = ignore_rule_info(&token) else {
            continue;
        };
        let names = names
            .split(',')
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let (prefix, severity, what) = match kind {
            IgnoreKind::File => (
                squawk_linter::ignore::IGNORE_FILE_TEXT,
                Severity::Warning,
                "the lint rules it names (every rule when it names none) are NOT CHECKED in this file",
            ),
            IgnoreKind::Line if names.is_empty() => (
                squawk_linter::ignore::IGNORE_LINE_TEXT,
                Severity::Info,
                "no lint rule is checked on the statement that follows (it names none: every rule is NOT CHECKED there)",
            ),
            IgnoreKind::Line => (
                squawk_linter::ignore::IGNORE_LINE_TEXT,
                Severity::Info,
                "the rules it names are NOT CHECKED on the statement that follows",
            ),
        };
        let directive = if names.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix} {names}")
        };
        let at = usize::from(range.start()).saturating_sub(prefix.len());
        let (line, col) = crate::config::diag::line_col(text, at);
        out.push((
            Finding::new(
                "lint",
                severity,
                format!("`{directive}`: {what}"),
                "a squawk-ignore comment in the migration switches the lint off where it stands",
            )
            .at(format!("{file}:{line}:{col}"))
            .fix("remove the comment to have the statement linted, or keep it if the rule does not apply"),
            at,
        ));
    }
    out
}

/// `public."Big"` → `["public", "Big"]`; unquoted parts are folded to lower case, as
/// PostgreSQL does.
fn split_name(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut chars = name.trim().chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                part.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut part)),
            c if !quoted && c.is_whitespace() => {}
            c if quoted => part.push(c),
            c => part.extend(c.to_lowercase()),
        }
    }
    parts.push(part);
    parts
}

/// Lints the files applied in this run; downgrades what the parent shows cannot happen (see
/// [`refine`]).
pub fn lint_files(
    dir: &Path,
    obs: &Observations,
    cat: &Catalog,
    cfg: &LintCheck,
    pg_major: i32,
) -> Result<Vec<Finding>, ReadError> {
    let mut findings = Vec::new();
    for file in &obs.applied {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|source| ReadError {
            path: path.clone(),
            source,
        })?;
        let in_tx = !text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
            .any(|l| l.contains(crate::tools::sql::NO_TRANSACTION));
        findings.extend(lint_observed_text(
            file,
            &text,
            (obs, cat),
            cfg,
            pg_major,
            in_tx,
        ));
    }
    Ok(findings)
}

/// Lints `text` (a migration file, or a tool's print-SQL output) and [`refine`]s the
/// findings with what was observed on the test Neon database branch.
pub fn lint_observed_text(
    file: &str,
    text: &str,
    (obs, cat): (&Observations, &Catalog),
    cfg: &LintCheck,
    pg_major: i32,
    in_transaction: bool,
) -> Vec<Finding> {
    let parse = squawk_syntax::SourceFile::parse(text);
    lint_text_at(file, text, cfg, pg_major, in_transaction)
        .into_iter()
        .map(|(f, offset)| refine(f, &parse, offset, obs, cat))
        .collect()
}

/// Downgrades to info what the observations refute:
/// - a finding on a statement about a table created in this run: a relation whose OID the
///   catalog did not have before the migration, under a name no relation had then (in any
///   schema, for an unqualified name), resolved as Postgres reads the name (`U&` escapes,
///   63-byte truncation, case folding) — it holds no rows to lock or rewrite and no deployed
///   client reads it (a project's first deploy replays its whole history onto an empty
///   database);
/// - a plain `CREATE INDEX … ON ONLY` a partitioned table: it builds nothing (the parent's
///   index, invalid until each partition's index is attached), the online way to index one;
/// - a predicted rewrite (`changing-column-type`) of a table the locks check saw no rewrite of.
///
/// A name that cannot be resolved, or no catalog read before and after, keeps the severity.
fn refine(
    mut f: Finding,
    parse: &Parse<SourceFile>,
    offset: usize,
    obs: &Observations,
    cat: &Catalog,
) -> Finding {
    if f.severity == Severity::Info {
        return f;
    }
    // The statement's own table, not a guess from the text of one line: a violation may
    // point at `TYPE …` on a line of its own.
    let Some(stmt) = lint_names::statement(parse, offset) else {
        return f;
    };
    let Some(names) = stmt.tables.into_iter().collect::<Option<Vec<Name>>>() else {
        return f;
    };
    let created = if stmt.drop {
        cat.all_created_and_dropped(&names)
    } else {
        cat.all_created(&names)
    };
    if created {
        let shown: Vec<String> = names.iter().map(Name::shown).collect();
        f.severity = Severity::Info;
        f.what.push_str(&format!(
            " — {} did not exist on the parent: created in this run, no rows and no clients yet",
            shown.join(", ")
        ));
        return f;
    }
    let name = &names[0];
    if stmt.index_on_only
        && f.what.starts_with("require-concurrent-index-creation")
        && cat.partitioned(name)
    {
        f.severity = Severity::Info;
        f.what.push_str(&format!(
            " — ON ONLY {}, a partitioned table: builds no index, it adds the parent's (invalid until an index of each partition, built CONCURRENTLY, is attached with ALTER INDEX … ATTACH PARTITION)",
            name.shown()
        ));
        return f;
    }
    if f.what.starts_with("changing-column-type") {
        let rewritten = obs.locks.as_ref().map(|l| {
            l.rewrites.iter().any(|t| match split_name(t).as_slice() {
                [s, t] => name.is(s, t),
                _ => true,
            })
        });
        if rewritten == Some(false) {
            f.severity = Severity::Info;
            f.what
                .push_str(" — observed on the test Neon database branch: no table was rewritten");
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LintCheck {
        LintCheck {
            enabled: true,
            required: false,
            ignore: Vec::new(),
            warn: Vec::new(),
        }
    }

    #[test]
    fn flags_a_blocking_index_build_with_its_line() {
        let f = lint_text(
            "0002_idx.sql",
            "-- comment\nCREATE INDEX i ON t (x);\n",
            &cfg(),
            15,
            true,
        );
        let idx = f
            .iter()
            .find(|f| f.what.starts_with("require-concurrent-index-creation"))
            .expect("rule fires");
        assert_eq!(idx.location.as_deref(), Some("0002_idx.sql:2:1"));
        assert_eq!(idx.severity, Severity::Error);
    }

    #[test]
    fn ignore_and_warn_lists_apply() {
        let mut c = cfg();
        c.ignore = vec!["require-concurrent-index-creation".into()];
        let f = lint_text("a.sql", "CREATE INDEX i ON t (x);", &c, 15, true);
        assert!(!f
            .iter()
            .any(|f| f.what.starts_with("require-concurrent-index-creation")));
        let mut c = cfg();
        c.warn = vec!["ban-drop-column".into()];
        let f = lint_text("a.sql", "ALTER TABLE t DROP COLUMN x;", &c, 15, true);
        assert!(
            f.iter()
                .any(|f| f.what.starts_with("ban-drop-column") && f.severity == Severity::Warning),
            "{f:?}"
        );
    }

    /// Lints `sql` as `0002_x.sql` with the sampler having seen `rewrites` (None: no sampler).
    fn lint_observed(sql: &str, rewrites: Option<&[&str]>) -> Vec<Finding> {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("0002_x.sql"), sql).expect("write");
        let obs = Observations {
            applied: vec!["0002_x.sql".into()],
            locks: rewrites.map(|r| super::super::locks::LockReport {
                rewrites: r.iter().map(|t| t.to_string()).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        lint_files(dir.path(), &obs, &Catalog::default(), &cfg(), 15).expect("lint")
    }

    fn type_change(f: &[Finding]) -> &Finding {
        f.iter()
            .find(|f| f.what.starts_with("changing-column-type"))
            .unwrap_or_else(|| panic!("no changing-column-type finding in {f:?}"))
    }

    #[test]
    fn a_rewrite_of_a_multi_line_statement_is_not_explained_away() {
        // `TYPE bigint` sits on a line that does not name the table.
        let sql = "ALTER TABLE accounts\n  ALTER COLUMN n TYPE bigint;\n";
        let f = lint_observed(sql, Some(&["public.accounts"]));
        assert_eq!(type_change(&f).severity, Severity::Error, "{f:?}");
        let f = lint_observed(sql, Some(&[]));
        let t = type_change(&f);
        assert_eq!(t.severity, Severity::Info, "{f:?}");
        assert!(t.what.ends_with("no table was rewritten"), "{t:?}");
    }

    #[test]
    fn another_rewritten_table_does_not_keep_a_type_change_an_error() {
        // `public.t` was rewritten; `accounts` (whose line contains a "t") was not.
        let sql = "ALTER TABLE accounts ALTER COLUMN name TYPE varchar(64);\n";
        let f = lint_observed(sql, Some(&["public.t"]));
        assert_eq!(type_change(&f).severity, Severity::Info, "{f:?}");
        let f = lint_observed(
            "ALTER TABLE public.\"Accounts\" ALTER COLUMN name TYPE text;",
            Some(&["public.\"Accounts\""]),
        );
        assert_eq!(type_change(&f).severity, Severity::Error, "{f:?}");
        let f = lint_observed(
            "ALTER TABLE audit.accounts ALTER COLUMN name TYPE text;",
            Some(&["public.accounts"]),
        );
        assert_eq!(type_change(&f).severity, Severity::Info, "{f:?}");
    }

    #[test]
    fn without_observations_a_type_change_stays_an_error() {
        let f = lint_observed("ALTER TABLE t ALTER COLUMN n TYPE bigint;", None);
        assert_eq!(type_change(&f).severity, Severity::Error, "{f:?}");
    }

    #[test]
    fn names_split_like_postgres_reads_them() {
        assert_eq!(split_name("public.Big"), ["public", "big"]);
        assert_eq!(split_name("\"My \"\"T\".x"), ["My \"T", "x"]);
        assert_eq!(split_name("t"), ["t"]);
    }

    #[test]
    fn squawk_ignore_comments_are_reported_not_silent() {
        let text = "/* squawk-ignore-file */\nALTER TABLE t DROP CONSTRAINT c;\n";
        let f: Vec<Finding> = lint_text("0001.sql", text, &cfg(), 15, true)
            .into_iter()
            .filter(|f| !f.what.starts_with("require-"))
            .collect();
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].location.as_deref(), Some("0001.sql:1:4"));
        assert!(
            f[0].what.starts_with("`squawk-ignore-file`: ")
                && f[0].what.contains("NOT CHECKED in this file"),
            "{}",
            f[0].what
        );
        let text = "ALTER TABLE t DROP CONSTRAINT a;\n-- squawk-ignore ban-drop-constraint -- why\nALTER TABLE t DROP CONSTRAINT b;\n";
        let f = lint_text("0001.sql", text, &cfg(), 15, true);
        let mut got: Vec<(Severity, &str)> = f
            .iter()
            .filter(|f| f.what.starts_with("ban-drop-constraint") || f.what.starts_with('`'))
            .map(|f| (f.severity, f.location.as_deref().unwrap_or("")))
            .collect();
        got.sort_by_key(|g| g.1.to_owned());
        assert_eq!(
            got,
            [
                (Severity::Error, "0001.sql:1:15"),
                (Severity::Info, "0001.sql:2:4")
            ]
        );
    }

    #[test]
    fn squawk_ignore_comments_are_read_as_squawk_reads_them() {
        let ignores = |text: &str| -> Vec<(Severity, String, String)> {
            lint_text("0001.sql", text, &cfg(), 15, true)
                .into_iter()
                .filter(|f| f.what.starts_with('`'))
                .map(|f| (f.severity, f.what, f.location.unwrap_or_default()))
                .collect()
        };
        // The directive on a line of its own inside a block comment: squawk honours it.
        let f =
            ignores("/*\n  squawk-ignore-file\n*/\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].0, Severity::Warning);
        assert!(f[0].1.starts_with("`squawk-ignore-file`: "), "{f:#?}");
        assert_eq!(f[0].2, "0001.sql:2:3");
        let hidden = lint_text(
            "0001.sql",
            "/*\n  squawk-ignore-file\n*/\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;\n",
            &cfg(),
            15,
            true,
        );
        assert!(
            !hidden
                .iter()
                .any(|f| f.what.starts_with("ban-drop-default")),
            "squawk honours it: {hidden:#?}"
        );
        // A trailing `-- why` is not part of the rule list; nor a `*/`.
        let f = ignores("-- squawk-ignore ban-drop-default,  ban-drop-column -- the plan's own helper\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;\n/* squawk-ignore ban-drop-column */\nALTER TABLE t DROP COLUMN c;\n");
        let what: Vec<&str> = f
            .iter()
            .map(|f| f.1.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            what,
            [
                "`squawk-ignore ban-drop-default, ban-drop-column`",
                "`squawk-ignore ban-drop-column`"
            ],
            "{f:#?}"
        );
        // A bare directive hides every rule of the next statement: said so.
        let f = ignores("-- squawk-ignore\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;\n");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].1.contains("every rule is NOT CHECKED there"), "{f:#?}");
        // In a string it is no directive, for squawk or here.
        let f = ignores("COMMENT ON TABLE t IS '-- squawk-ignore-file';\n");
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn knows_rule_names() {
        assert!(rule_names().contains(&"changing-column-type"));
    }
}

//! `integrity`: every value the migration changed, not only how many rows there are.
//!
//! Before the tool runs (the test Neon database branch is then the parent's copy),
//! [`record::record`] fingerprints every table on the server: one row per table row, keyed by
//! the primary key (or a unique NOT NULL key), one 64-bit hash per column of the value's text
//! form, stored in the scratch schema [`SCRATCH_SCHEMA`] on the test Neon database branch —
//! one set-based statement per table, nothing hashed row by row in Rust. After the tool ran,
//! [`compare::evaluate`] joins the fingerprints with the migrated table, again in one
//! statement per table: rows deleted, rows inserted, and per column (matched by name) the
//! rows whose value changed; dropped columns with the values they held; added columns and what
//! they were backfilled with; type changes compared after casting the new value back to the
//! old type (and forward again: the round trip must be lossless); columns dropped and added
//! again under their name; partitions detached from their table; renames done as a copy (fine)
//! or as drop + add (values lost). Tables of more than [`record::PLAIN_MAX`] columns keep their
//! fingerprints in `bigint[]` chunks. Findings name example keys, never values (they may be
//! personal data).
//!
//! Tables without a usable key are compared by order-independent aggregates per column and of
//! whole rows, and the finding says so. Tables above `sample-above` rows are sampled (key
//! ranges of an integer key starting at keys drawn among the rows, else a slice of the key's
//! hash): the same rows before and after, and the finding says it was a sample; a sample that
//! read under half the rows it aimed for fails the check as NOT CHECKED.
//!
//! Trust: the scratch schema lives on a database the migration can write. A digest of each
//! fingerprint table, keyed with a random seed that only this process knows, is kept in
//! memory and checked after the migration: fingerprints edited to hide a change fail the check.
//!
//! [`hazards`] is the other half of the issue: for a schema plan, the rows of a database that
//! a statement would fail on (NULLs under SET NOT NULL, duplicates under UNIQUE, orphans under
//! a FOREIGN KEY, CHECK violations) or silently change (type narrowing), counted.

mod bounds;
pub mod compare;
mod domain_sure;
mod exclusions;
pub mod hazards;
mod keyed;
mod keyless;
mod newkeys;
mod nulls;
mod probes;
pub mod record;
mod scope;
mod seq_bounds;
mod sure;

use serde::Deserialize;

pub use compare::evaluate;
pub use record::{record, Recorded};

use super::{
    Check, CheckResult, Evaluation, Finding, Observations, RecordError, Recording, Severity,
};
use crate::config::Config;

/// The check's name in every output.
pub const NAME: &str = "integrity";

/// Scratch schema of the fingerprints, on the test Neon database branch only. Every other
/// check and the schema engine leave it out (see `schema::default_excluded`).
pub const SCRATCH_SCHEMA: &str = "neon_migrate_integrity";

/// Default of `sample-above`: tables with more rows (planner estimate) are sampled. Chosen
/// from `benches/integrity.rs` (see `benches/results/integrity.txt` and the README's
/// "Integrity" paragraph): at 100,000, record + compare of a larger table stays within a
/// small multiple of one `count(*)` of it, and an exact comparison up to that size takes
/// well under a second.
pub const DEFAULT_SAMPLE_ABOVE: i64 = 100_000;

/// `[checks.integrity]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct IntegrityConfig {
    /// Off by default: it reads every row of every table twice.
    #[serde(default)]
    pub enabled: bool,
    /// A run where this check could not run fails (default: shown as "not run").
    #[serde(default)]
    pub required: bool,
    /// Declared changes: `schema.table.column`, `table.column` (schema `public`),
    /// `schema.table` or `table` (every change of the table), as SQL names (see
    /// [`parse_entry`]). Still reported, as information.
    #[serde(default)]
    pub allow_change: Vec<String>,
    /// Migrations whose changes are declared: when every migration applied in the run is one
    /// of them, every change is information (changes cannot be attributed to one migration).
    #[serde(default)]
    pub allow_migrations: Vec<String>,
    /// Tables estimated above this many rows are compared on a deterministic sample.
    #[serde(default = "default_sample_above")]
    pub sample_above: i64,
}

fn default_sample_above() -> i64 {
    DEFAULT_SAMPLE_ABOVE
}

impl Default for IntegrityConfig {
    fn default() -> Self {
        IntegrityConfig {
            enabled: false,
            required: false,
            allow_change: Vec::new(),
            allow_migrations: Vec::new(),
            sample_above: DEFAULT_SAMPLE_ABOVE,
        }
    }
}

impl IntegrityConfig {
    /// Whether `allow-change` declares a change of `schema.table` (column `None`: a change of
    /// whole rows) or of one of its columns. Entries are SQL identifiers (see [`parse_entry`]),
    /// matched exactly: `public.a.b` is column `b` of table `a`, never table `"a.b"`.
    pub fn allows(&self, schema: &str, table: &str, column: Option<&str>) -> bool {
        self.allow_change.iter().any(|entry| {
            parse_entry(entry).is_some_and(|parts| declares(&parts, schema, table, column))
        })
    }
}

/// Whether the parsed `allow-change` entry `parts` names `schema.table` (a whole table) or
/// its `column`.
pub(crate) fn declares(parts: &[String], schema: &str, table: &str, column: Option<&str>) -> bool {
    let public = schema == "public";
    match parts {
        [t] => public && t == table,
        [s, t] => {
            (s == schema && t == table) || (public && s == table && Some(t.as_str()) == column)
        }
        [s, t, c] => s == schema && t == table && Some(c.as_str()) == column,
        _ => false,
    }
}

/// An `allow-change` entry as SQL names: `schema.table.column`, `"Mixed".t`, `public."a.b".c`;
/// unquoted parts are folded to lower case as Postgres does, `""` inside quotes is one `"`.
/// `None` when it is not 1 to 3 dot-separated identifiers.
pub fn parse_entry(entry: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = entry.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != '.') {
                if c == '"' || c.is_whitespace() {
                    return None;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
        }
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => continue,
            Some(_) => return None,
        }
    }
    (1..=3).contains(&parts.len()).then_some(parts)
}

/// An identifier as users can write it back: bare when Postgres would read it unchanged
/// (lower case letters, digits, `_`, `$`, not starting with a digit or `$`), else quoted.
pub(crate) fn shown(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `[checks.integrity]` behind the [`Check`] trait: `record_before` fingerprints every table
/// over the recording connection (the tool's own bookkeeping tables aside), `evaluate` joins
/// the fingerprints with the migrated rows over the shared reading connection.
pub struct Integrity {
    recorded: Option<Recorded>,
}

impl Integrity {
    pub fn new(config: &Config) -> Option<Self> {
        config
            .checks
            .integrity
            .enabled
            .then_some(Integrity { recorded: None })
    }
}

#[async_trait::async_trait]
impl Check for Integrity {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        let config = cx.config();
        let skip = bookkeeping(config.tool.tracking.as_ref().map(|t| t.query.as_str()));
        let recorded = record(cx.client, &config.checks.integrity, &skip).await;
        // The connection is shared: leave its settings as they were.
        let _ = cx.client.batch_execute(RESET).await;
        let recorded = recorded
            .map_err(|e| cx.unrecorded("the fingerprints of the rows before the migration", e))?;
        self.recorded = Some(recorded);
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let Some(recorded) = &self.recorded else {
            return Some(CheckResult::not_run(
                NAME,
                "no fingerprints were recorded before the migration (no migrate stage in this run)",
            ));
        };
        let client = match cx.reader() {
            Ok(c) => c,
            Err(e) => return Some(CheckResult::failed(NAME, e.to_string())),
        };
        let config = cx.config();
        let cfg = &config.checks.integrity;
        let tool = &config.tool;
        // Changes cannot be attributed to one migration: they are declared only when every
        // migration of the run is listed.
        let (listed, unlisted): (Vec<&String>, Vec<&String>) =
            cx.obs.applied.iter().partition(|m| {
                crate::tools::layout::allows(
                    &cfg.allow_migrations,
                    &tool.name,
                    &tool.working_dir,
                    m,
                )
            });
        let migration_allowed = !listed.is_empty() && unlisted.is_empty();
        let unlisted: Vec<String> = if listed.is_empty() {
            Vec::new()
        } else {
            unlisted.into_iter().cloned().collect()
        };
        let facts = compare::RunFacts {
            tool: &tool.name,
            migration_allowed,
            unlisted: &unlisted,
        };
        let result = evaluate(client, recorded, cfg, facts).await;
        let _ = client.batch_execute(RESET).await;
        Some(result)
    }
}

/// The check's summary line: how the tables were compared (value by value, sampled, by
/// aggregates) and how many have changes, failing or information only.
fn summary(rec: &Recorded, out: &compare::Out<'_>) -> String {
    let keyed = rec
        .tables
        .iter()
        .filter(|t| matches!(t.mode, record::Mode::Keyed { .. }))
        .count();
    let sampled = rec
        .tables
        .iter()
        .filter(|t| {
            matches!(
                t.mode,
                record::Mode::Keyed {
                    sample: Some(_),
                    ..
                }
            )
        })
        .count();
    let aggregated = rec.tables.len() - keyed;
    let mut how = vec![format!("{keyed} value by value")];
    if sampled > 0 {
        how[0] = format!("{} ({sampled} sampled)", how[0]);
    }
    if aggregated > 0 {
        how.push(format!("{aggregated} by aggregates (no key)"));
    }
    let hidden = match rec.hidden.len() {
        0 => String::new(),
        n => format!("; {n} NOT CHECKED (rows hidden by row-level security)"),
    };
    format!(
        "{} table(s) compared: {}; {} with changes that fail, {} with information only{hidden}",
        rec.tables.len(),
        how.join(", "),
        out.failing,
        out.informational
    )
}

/// `allow-change` entries that name no table or column of the database (before or after
/// the migration) declare nothing: a warning each, rather than silence (a typo, or a name
/// that needs quoting: `public."Users".email`).
fn undeclaring(rec: &Recorded, now: &[record::TableInfo], out: &mut compare::Out<'_>) {
    let tables = rec.tables.iter().map(|t| &t.table).chain(now);
    let mut names: Vec<(&str, &str, Option<&str>)> = Vec::new();
    for t in tables {
        names.push((&t.schema, &t.name, None));
        // A partitioned parent is no table of its own here, but declares its partitions.
        if let Some((_, schema, name)) = &t.parent {
            names.push((schema, name, None));
        }
        names.extend(
            t.columns
                .iter()
                .map(|c| (&*t.schema, &*t.name, Some(&*c.name))),
        );
    }
    for entry in &out.cfg.allow_change {
        let why = match parse_entry(entry) {
            None => "it is not `table`, `schema.table`, `table.column` or `schema.table.column` (SQL names; quote one with capitals or dots: `public.\"Users\".email`)",
            Some(parts) if !names.iter().any(|(s, t, c)| declares(&parts, s, t, *c)) => {
                "it matches no table or column of the database (unquoted names are read in lower case, as Postgres does: quote one with capitals or dots, `public.\"Users\".email`)"
            }
            Some(_) => continue,
        };
        out.findings.push(
            Finding::new(
                NAME,
                Severity::Warning,
                format!("allow-change entry \"{entry}\" declares nothing: {why}"),
                "an entry that matches nothing excuses no change: the change it was meant for fails the check",
            )
            .fix(format!("correct or remove \"{entry}\" in `allow-change` under [checks.{NAME}]")),
        );
    }
}

/// What can go wrong while recording or comparing.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    /// A statement failed.
    #[error("{what}: {}", crate::pg::describe(.source))]
    Query {
        what: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl IntegrityError {
    /// A read refused because a row-level security policy would have filtered it.
    pub fn hidden_by_row_security(&self) -> bool {
        match self {
            IntegrityError::Query { source, .. } => crate::pg::hidden_by_row_security(source),
        }
    }
    pub(crate) fn query(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Self {
        let what = what.into();
        move |source| IntegrityError::Query { what, source }
    }
}

/// Session settings that fix every type's text form (dates, floats, intervals, bytea), so the
/// same value hashes the same before and after whatever the database's defaults say — a
/// migration that changes them (`ALTER DATABASE … SET DateStyle`) cannot make values look
/// changed or unchanged. JIT is off: compiling the wide hashing and comparison expressions
/// cost about a second per statement and saved less (`benches/results/integrity.txt`).
pub(crate) const SESSION: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; \
    SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'; \
    SET statement_timeout = 0; SET jit = off";

/// Undoes [`SESSION`] on a connection other checks share.
const RESET: &str = "RESET TimeZone; RESET DateStyle; RESET IntervalStyle; \
    RESET extra_float_digits; RESET bytea_output; RESET statement_timeout; RESET jit";

/// `schema.table` as users write it in `allow-change`, quoted where needed
/// (`public."T"`).
pub(crate) fn display(schema: &str, table: &str) -> String {
    format!("{}.{}", shown(schema), shown(table))
}

/// A random 63-bit seed for the fingerprint digests, known only to this process.
pub(crate) fn random_seed() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    (h.finish() >> 1) as i64
}

/// The tool's own bookkeeping tables, read from its tracking query (`… FROM alembic_version`),
/// with their lock tables (`knex_migrations_lock`, `databasechangeloglock`): the tool updates
/// them by design, so they are not fingerprinted.
pub fn bookkeeping(tracking_query: Option<&str>) -> Vec<String> {
    let Some(q) = tracking_query else {
        return Vec::new();
    };
    let words: Vec<&str> = q.split_whitespace().collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if !matches!(pair[0].to_ascii_lowercase().as_str(), "from" | "join") {
            continue;
        }
        let name = pair[1].trim_end_matches([';', ')', ',']).trim_matches('"');
        let bare = name.rsplit('.').next().unwrap_or(name).trim_matches('"');
        for n in [
            name.to_owned(),
            bare.to_owned(),
            format!("{bare}_lock"),
            format!("{bare}lock"),
        ] {
            if !n.is_empty() && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Up to two example keys, `e.g. keys 1, 7` — numbers only: a key of text (an e-mail, a
/// token) is a row value, and row values never reach any output.
pub(crate) fn examples(first: &Option<String>, last: &Option<String>) -> String {
    let numeric = |k: &Option<String>| {
        k.clone().filter(|k| {
            k.chars().any(|c| c.is_ascii_digit())
                && k.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | ',' | ' ' | '(' | ')'))
        })
    };
    let (first, last) = (&numeric(first), &numeric(last));
    match (first, last) {
        (Some(a), Some(b)) if a != b => format!(" (e.g. keys {a}, {b})"),
        (Some(a), _) | (None, Some(a)) => format!(" (e.g. key {a})"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_change_names_tables_and_columns() {
        let cfg = IntegrityConfig {
            allow_change: vec![
                "public.users.email".into(),
                "audit".into(),
                "app.t.c".into(),
            ],
            ..Default::default()
        };
        assert!(cfg.allows("public", "users", Some("email")));
        assert!(!cfg.allows("public", "users", Some("name")));
        assert!(!cfg.allows("public", "users", None));
        assert!(cfg.allows("public", "audit", None));
        assert!(cfg.allows("public", "audit", Some("x")));
        assert!(cfg.allows("app", "t", Some("c")));
        assert!(!cfg.allows("other", "t", Some("c")));
        let bare = IntegrityConfig {
            allow_change: vec!["users.email".into()],
            ..Default::default()
        };
        assert!(bare.allows("public", "users", Some("email")));
        assert!(!bare.allows("app", "users", Some("email")));
    }

    #[test]
    fn allow_change_entries_are_sql_names_matched_exactly() {
        let p = |e: &str| parse_entry(e);
        assert_eq!(
            p("public.a.b"),
            Some(vec!["public".into(), "a".into(), "b".into()])
        );
        assert_eq!(
            p("public.\"a.b\""),
            Some(vec!["public".into(), "a.b".into()])
        );
        assert_eq!(p("Users.Email"), Some(vec!["users".into(), "email".into()]));
        assert_eq!(p("\"T\".\"x\"\"y\""), Some(vec!["T".into(), "x\"y".into()]));
        for bad in ["", "a..b", "a.b.c.d", "\"open", "a b", "a.\"b\"c"] {
            assert_eq!(p(bad), None, "{bad}");
        }
        let cfg = IntegrityConfig {
            allow_change: vec!["public.a.b".into(), "public.\"T\".v".into()],
            ..Default::default()
        };
        assert!(cfg.allows("public", "a", Some("b")));
        assert!(
            !cfg.allows("public", "a.b", Some("v")),
            "table \"a.b\" is not column a.b"
        );
        assert!(cfg.allows("public", "T", Some("v")));
        assert!(!cfg.allows("public", "t", Some("v")));
        assert_eq!(display("public", "T"), "public.\"T\"");
        assert_eq!(display("public", "a.b"), "public.\"a.b\"");
        assert_eq!(display("app_1", "users"), "app_1.users");
    }

    #[test]
    fn config_reads_kebab_case_and_refuses_wrong_types() {
        let cfg: IntegrityConfig = toml::from_str(
            "enabled = true\nallow-change = [\"public.users.email\"]\nsample-above = 10\n",
        )
        .expect("parses");
        assert!(cfg.enabled);
        assert_eq!(cfg.sample_above, 10);
        assert_eq!(cfg.allow_change, ["public.users.email"]);
        assert!(toml::from_str::<IntegrityConfig>("sample-above = \"many\"").is_err());
        let empty: IntegrityConfig = toml::from_str("").expect("parses");
        assert_eq!(empty, IntegrityConfig::default());
    }

    #[test]
    fn bookkeeping_tables_come_from_the_tracking_query() {
        let b = bookkeeping(Some("SELECT version_num FROM alembic_version"));
        assert!(b.contains(&"alembic_version".to_owned()), "{b:?}");
        let k = bookkeeping(Some("select name from knex_migrations order by id"));
        assert!(k.contains(&"knex_migrations_lock".to_owned()), "{k:?}");
        assert!(bookkeeping(None).is_empty());
    }

    #[test]
    fn the_config_enables_the_check_and_refuses_a_sample_below_one_row() {
        let dir = tempfile::tempdir().expect("tempdir");
        let parse = |toml: &str| crate::config::parse(crate::config::FILE_NAME, toml, dir.path());
        let on = parse("[checks.integrity]\nenabled = true\nallow-change = [\"users.email\"]\n")
            .expect("valid");
        assert!(on.checks.integrity.enabled);
        assert!(Integrity::new(&on).is_some());
        let off = parse("").expect("valid");
        assert!(Integrity::new(&off).is_none(), "off by default");
        let bad = parse("[checks.integrity]\nsample-above = 0\n").expect_err("refused");
        assert!(
            format!("{bad:?}").contains("`sample-above` must be at least 1"),
            "{bad:?}"
        );
    }

    #[test]
    fn examples_name_at_most_two_keys() {
        assert_eq!(
            examples(&Some("1".into()), &Some("9".into())),
            " (e.g. keys 1, 9)"
        );
        assert_eq!(
            examples(&Some("1".into()), &Some("1".into())),
            " (e.g. key 1)"
        );
        assert_eq!(examples(&None, &None), "");
        // Keys of text are row values: never shown.
        assert_eq!(
            examples(
                &Some("sk_live_SECRET".into()),
                &Some("ceo@corp.example".into())
            ),
            ""
        );
        assert_eq!(
            examples(&Some("ceo@corp.example".into()), &Some("12".into())),
            " (e.g. key 12)"
        );
        assert_eq!(
            examples(&Some("(3, 4)".into()), &None),
            " (e.g. key (3, 4))"
        );
    }
}

//! The schema engine: introspect a database into a [`Model`], diff two models into an
//! online-safe [`Plan`], fingerprint a model, and render or apply a plan.
//!
//! One engine serves the schema-diff check (what a migration really changed), the drift
//! check before apply (fingerprints), the reversibility check, and the fallback for
//! repositories without a migration system (`neon-migrate generate`).

pub mod catalog;
pub mod cluster_grants;
pub mod compact;
pub mod extprobe;
pub mod introspect;
pub mod model;
pub mod net_parts;
pub mod plan;
mod printable;
pub mod roles;
pub(crate) mod roundtrip;
mod spell;
pub mod system_settings;

pub(crate) use names::{quote_ident, split_qualified};
pub(crate) mod names;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

pub use model::Model;
pub use plan::{Hazard, HazardKind, Plan, PlanOptions, Statement};
pub use printable::printable_sql;

use crate::pg::PgError;

/// Introspects the database `client` is connected to, skipping `excluded` schemas.
///
/// The session's `search_path` is emptied first, so every name the server prints comes
/// schema-qualified: definitions then compare equal across databases and run anywhere. JIT
/// is turned off meanwhile: the catalog queries are large enough to cross `jit_above_cost`,
/// and compiling them cost more than running them (1–2 s per database at 2,000 tables).
/// Parallel query is turned off too: a parallel plan of the catalog fingerprint's query
/// started two workers per database, each loading its own catalog caches and hashing the
/// same rows again (some 30 ms of server CPU per database at 2,000 tables, for a part that
/// returns no rows).
pub async fn introspect(client: &Client, excluded: &[String]) -> Result<Model, PgError> {
    client
        .batch_execute(
            "SET search_path = ''; SET jit = off; SET max_parallel_workers_per_gather = 0",
        )
        .await
        .map_err(|e| PgError::new("cannot prepare introspection", e))?;
    let model = introspect::introspect(client, excluded).await;
    let _ = client
        .batch_execute("RESET search_path; RESET jit; RESET max_parallel_workers_per_gather")
        .await;
    model
}

/// The default excluded schemas, owned.
pub fn default_excluded() -> Vec<String> {
    introspect::DEFAULT_EXCLUDED
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Diffs `a` (the current schema) into `b` (the desired one): the engine's plan, plus what
/// the catalog fingerprints show and the models do not ([`catalog::net`]).
pub fn plan(a: &Model, b: &Model, o: &PlanOptions) -> Plan {
    let mut p = plan::plan(a, b, o);
    catalog::net(a, b, &mut p);
    p
}

/// A stable hash of everything the model holds (no OIDs, no physical layout), and of its
/// catalog fingerprint.
pub fn fingerprint(model: &Model) -> String {
    let json = serde_json::to_string(model).expect("the model serializes");
    let mut h = Sha256::new();
    h.update(json.as_bytes());
    for (id, aspects) in model.catalog.iter().flatten() {
        h.update(format!("\n{}\t{}\t{}\t{:?}", id.kind, id.parent, id.name, aspects).as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Text made safe for one `--` comment line: a line break (from an object's name, a key or
/// a server message) would end the comment and make the rest SQL that runs, so control
/// characters are written escaped (`\n`, `\r`, `\u{1b}`).
pub fn comment_text(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if unprintable(c) {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// A character that is not printed as itself: control characters, and the invisible
/// formatting ones that reorder or hide text (bidi overrides and isolates, zero-width marks,
/// line and paragraph separators), which spoof what a reviewer reads.
pub fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// The plan's SQL was deparsed under an empty `search_path` ([`introspect`]): every user
/// object is qualified, and every unqualified name is a built-in one. So the plan puts
/// `pg_catalog` first: a target whose database or role puts a user schema first would
/// otherwise resolve the plan's `text` or `lower(…)` to that schema's domain or function. The
/// session's own schemas stay after it, because user functions the plan runs (a default filled
/// in, a CHECK validated; before PostgreSQL 17 a materialized view's query or an index
/// expression too) may name objects unqualified in their bodies: an empty path, as pg_dump
/// sets, made `ADD COLUMN … DEFAULT f()` over such a function fail.
/// Only qualified functions and no operators are called before the path is set.
pub const PIN_SEARCH_PATH: &str = "SELECT pg_catalog.set_config('search_path', \
     pg_catalog.regexp_replace(pg_catalog.concat('pg_catalog, ', pg_catalog.current_setting('search_path')), \
     ', (\"\"|)$', ''), false);";

/// The plan as a SQL script: session settings, then each statement with its hazards and
/// timeouts as comments.
pub fn render_sql(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.unsupported.is_empty() {
        out.push_str(
            "-- WARNING: changes the schema engine cannot express (write them by hand):\n",
        );
        for u in &plan.unsupported {
            out.push_str(&format!("--   {}\n", comment_text(u)));
        }
        out.push('\n');
    }
    if plan.statements.is_empty() {
        // "No schema changes" only when nothing differs: the plan is empty only when the
        // catalog fingerprints agree (`catalog::net`).
        out.push_str(if plan.unsupported.is_empty() {
            "-- no schema changes\n"
        } else {
            "-- no statements: the schemas differ only in the changes above, which this script does NOT make\n"
        });
        return out;
    }
    // Literals are written for standard strings (a backslash is a plain character): a server
    // or role where `standard_conforming_strings` is off would read `'\''` as a quote and run
    // the rest of a comment or default as SQL. pg_dump sets it the same way.
    out.push_str("SET check_function_bodies = false;\nSET standard_conforming_strings = on;\n");
    out.push_str(PIN_SEARCH_PATH);
    out.push('\n');
    let mut timeouts = (0, 0);
    for s in &plan.statements {
        out.push('\n');
        for hz in &s.hazards {
            out.push_str(&format!(
                "-- hazard {}: {}\n",
                serde_json::to_value(hz.kind)
                    .expect("enum")
                    .as_str()
                    .unwrap_or("?"),
                comment_text(&hz.message)
            ));
        }
        if !s.transactional {
            out.push_str("-- runs outside a transaction\n");
        }
        if timeouts != (s.lock_timeout_ms, s.statement_timeout_ms) {
            timeouts = (s.lock_timeout_ms, s.statement_timeout_ms);
            out.push_str(&format!(
                "SET lock_timeout = '{}ms';\nSET statement_timeout = '{}ms';\n",
                s.lock_timeout_ms, s.statement_timeout_ms
            ));
        }
        if let Some((rule, why)) = s.lint_exempt {
            out.push_str(&format!("-- squawk-ignore {rule} -- {why}\n"));
        }
        out.push_str(&printable_sql(&s.sql));
        out.push('\n');
    }
    out
}

/// The plan as Markdown (pull-request comments, step summaries).
pub fn render_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        return "No schema changes.\n".into();
    }
    out.push_str(&format!("{} statement(s)", plan.statements.len()));
    let kinds = plan.hazard_kinds();
    if !kinds.is_empty() {
        let list: Vec<String> = kinds
            .iter()
            .map(|k| {
                format!(
                    "`{}`",
                    serde_json::to_value(k)
                        .expect("enum")
                        .as_str()
                        .unwrap_or("?")
                )
            })
            .collect();
        out.push_str(&format!(", hazards: {}", list.join(", ")));
    }
    out.push_str("\n\n");
    for u in &plan.unsupported {
        out.push_str(&format!("- ⚠️ {}\n", comment_text(u)));
    }
    if plan.statements.is_empty() {
        out.push_str("\nNo statements: the schemas differ only in the changes above, which the plan does NOT make.\n");
        return out;
    }
    out.push_str("| # | statement | hazards |\n|---|---|---|\n");
    for (i, s) in plan.statements.iter().enumerate() {
        let sql = printable_sql(&s.sql);
        let first = sql.lines().next().unwrap_or("").replace('|', "\\|");
        let more = if sql.lines().count() > 1 { " …" } else { "" };
        let hz: Vec<String> = s
            .hazards
            .iter()
            .map(|h| {
                serde_json::to_value(h.kind)
                    .expect("enum")
                    .as_str()
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect();
        out.push_str(&format!(
            "| {} | `{first}{more}` | {} |\n",
            i + 1,
            hz.join(", ")
        ));
    }
    out
}

/// Applies a plan statement by statement, with each statement's timeouts and the
/// `search_path` pinned ([`PIN_SEARCH_PATH`]; reset after).
pub async fn apply(client: &Client, plan: &Plan) -> Result<(), PgError> {
    client
        .batch_execute(&format!(
            "SET check_function_bodies = false; SET standard_conforming_strings = on; {PIN_SEARCH_PATH}"
        ))
        .await
        .map_err(PgError::bare)?;
    for (i, s) in plan.statements.iter().enumerate() {
        let set = format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
            s.lock_timeout_ms, s.statement_timeout_ms
        );
        client.batch_execute(&set).await.map_err(PgError::bare)?;
        // As `render_sql` prints it: the same statement, names and strings with escapes.
        if let Err(e) = client.batch_execute(&printable_sql(&s.sql)).await {
            // A plan's `BEGIN` … `COMMIT` stretch (`plan::windows`) must not stay open.
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(PgError::statement(i + 1, plan.statements.len(), &s.sql, e));
        }
    }
    let _ = client
        .batch_execute(
            "RESET lock_timeout; RESET statement_timeout; RESET check_function_bodies; RESET standard_conforming_strings; RESET search_path",
        )
        .await;
    Ok(())
}

#[cfg(test)]
mod comment_tests {
    use super::*;

    #[test]
    fn a_line_break_in_a_hazard_or_a_warning_never_ends_its_comment() {
        let mut plan = Plan::default();
        plan.unsupported
            .push("not modeled: table \"a\nDROP TABLE victim; --\" differs".into());
        let sql = render_sql(&plan);
        assert!(
            sql.lines()
                .all(|l| l.trim().is_empty() || l.starts_with("--")),
            "every line is a comment:\n{sql}"
        );
        assert!(sql.contains("\\nDROP TABLE victim"), "{sql}");
        assert_eq!(comment_text("k\r\nx\u{1b}"), "k\\r\\nx\\u{1b}");
    }
}

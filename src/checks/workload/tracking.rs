//! The migration tools' own tracking tables (`alembic_version`, `django_migrations`, …): the
//! tool writes them by design, and the application never goes there. Their statements in the
//! parent's `pg_stat_statements` (the tool's own runs on production) are not user traffic,
//! the fallback source does not replay them, and the rows the migration writes there need no
//! replayed write ([`super::rows`]).

/// The tracking tables of the supported migration tools (by their unquoted name, in any
/// schema), besides the configured tool's own (read from its `tracking-query`, as the
/// integrity check does: [`crate::checks::integrity::bookkeeping`]). Names as generic as
/// TypeORM's and Laravel's `migrations` count only when the configured tool says so.
pub const TOOL_TABLES: &[&str] = &[
    "alembic_version",
    "django_migrations",
    "_prisma_migrations",
    "schema_migrations",
    "ar_internal_metadata",
    "knex_migrations",
    "knex_migrations_lock",
    "_sqlx_migrations",
    "__diesel_schema_migrations",
    "__drizzle_migrations",
    "flyway_schema_history",
    "goose_db_version",
    "pgmigrations",
    "SequelizeMeta",
    "seaql_migrations",
    "refinery_schema_history",
    "databasechangelog",
    "databasechangeloglock",
    "atlas_schema_revisions",
];

/// The tool tables of a run: [`TOOL_TABLES`] and the configured tool's (`extra`, unquoted).
pub fn names(extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = TOOL_TABLES.iter().map(|t| t.to_string()).collect();
    for e in extra {
        let bare = unquoted_last(e);
        if !bare.is_empty() && !out.contains(&bare) {
            out.push(bare);
        }
    }
    out
}

/// The last part of a possibly qualified, possibly quoted name: `drizzle."__drizzle_migrations"`
/// → `__drizzle_migrations`.
fn unquoted_last(name: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = name.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts.pop().unwrap_or_default()
}

/// Whether `table` (as SQL or the catalog writes it: `public.alembic_version`,
/// `"SequelizeMeta"`) is one of `tool_tables` ([`names`]).
pub fn is_tool_table(tool_tables: &[String], table: &str) -> bool {
    let bare = unquoted_last(table);
    tool_tables.contains(&bare)
}

/// The tool table a statement names, if any.
pub fn named_in(tool_tables: &[String], sql: &str) -> Option<String> {
    let toks = super::parse::lex(sql);
    super::parse::table_refs(&toks)
        .into_iter()
        .map(|(t, _)| t)
        .chain(super::parse::touched_tables(sql))
        .find(|t| is_tool_table(tool_tables, t))
}

/// Why a statement on a tool table is left out.
pub fn why(table: &str) -> String {
    format!(
        "it goes to {table}, a migration tool's own tracking table: the tool's bookkeeping, not the application's traffic"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_tables_are_found_in_statements_however_they_are_written() {
        let t = names(&["trk".into(), "drizzle.__drizzle_migrations".into()]);
        assert!(t.contains(&"trk".to_owned()));
        for sql in [
            "UPDATE alembic_version SET version_num = $1 WHERE alembic_version.version_num = $2",
            "SELECT version_num FROM public.alembic_version",
            "INSERT INTO \"SequelizeMeta\" (name) VALUES ($1)",
            "select id from drizzle.\"__drizzle_migrations\" order by created_at desc limit $1",
            "INSERT INTO trk VALUES ($1)",
        ] {
            assert!(named_in(&t, sql).is_some(), "{sql}");
        }
        for sql in [
            "SELECT id FROM accounts WHERE id = $1",
            "SELECT * FROM migrations",
            "SELECT * FROM sequelizemeta",
        ] {
            assert_eq!(named_in(&t, sql), None, "{sql}");
        }
        assert!(is_tool_table(&t, "public.schema_migrations"));
        assert!(is_tool_table(&t, "\"SequelizeMeta\""));
        assert!(!is_tool_table(&t, "public.accounts"));
    }
}

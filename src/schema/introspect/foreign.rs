//! Foreign data wrappers, foreign servers, user mappings and foreign tables.
//!
//! Server, user mapping and foreign table options can hold secrets (passwords): their values never leave
//! the server. Each option comes back as its name and either its value, for the few options
//! known to be harmless (`host`, `port`, `dbname`, …), or a SHA-256 digest of `name=value`
//! computed by the server: changes are seen, values are never printed. All user mapping
//! options are digested. User mappings are read from `pg_user_mappings`, whose options are
//! NULL for a role that may not see them: such a mapping is never taken as having none, it
//! is refused by name as not checked.

use std::collections::BTreeMap;

use tokio_postgres::Row;

use super::super::model::{ForeignDataWrapper, ForeignServer, ForeignTable, OptionValue};
use super::{q, Build};

/// Options of wrappers and servers whose values are kept and printed: connection targets
/// and tuning knobs of postgres_fdw, never credentials. A value that is itself a connection
/// string (`dbname` may be a `postgresql://user:password@…` URI or `key=value` pairs) is a
/// digest like any other.
pub const PLAIN_OPTIONS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "fetch_size",
    "batch_size",
    "use_remote_estimate",
    "updatable",
    "truncatable",
    "extensions",
    "async_capable",
    "keep_connections",
    "parallel_commit",
    "parallel_abort",
    "fdw_startup_cost",
    "fdw_tuple_cost",
    "analyze_sampling",
    "application_name",
    "sslmode",
    "connect_timeout",
];

/// Options of foreign tables and their columns whose values are kept and printed: where
/// the rows are (postgres_fdw's names, file_fdw's file and format) and tuning knobs. Any
/// other option (a `program`, a password of some wrapper) is a digest, never printed.
pub const PLAIN_TABLE_OPTIONS: &[&str] = &[
    "schema_name",
    "table_name",
    "column_name",
    "fetch_size",
    "batch_size",
    "use_remote_estimate",
    "updatable",
    "truncatable",
    "async_capable",
    "analyze_sampling",
    "filename",
    "format",
    "header",
    "delimiter",
    "quote",
    "escape",
    "null",
    "encoding",
    "force_not_null",
    "force_null",
];

fn quoted_list(names: &[&str]) -> String {
    if names.is_empty() {
        return "''".to_owned();
    }
    names
        .iter()
        .map(|o| format!("'{o}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `=value` for an option `o` (`name=value`) in `allowed`, else `#digest`.
fn option_value_sql(o: &str, allowed: &str) -> String {
    format!(
        "CASE WHEN split_part({o}, '=', 1) IN ({allowed}) AND substr({o}, strpos({o}, '=') + 1) !~ '=|://'
              THEN '=' || substr({o}, strpos({o}, '=') + 1)
              ELSE '#' || encode(sha256(convert_to({o}, 'UTF8')), 'hex') END"
    )
}

/// Two arrays for an options column: the names, and `=value` or `#digest` for each.
fn options_sql(column: &str, plain: bool) -> String {
    let allowed = quoted_list(if plain { PLAIN_OPTIONS } else { &[] });
    format!(
        "coalesce((SELECT array_agg(split_part(o, '=', 1) ORDER BY o) FROM unnest({column}) o), '{{}}'),
       coalesce((SELECT array_agg(CASE WHEN split_part(o, '=', 1) IN ({allowed}) AND substr(o, strpos(o, '=') + 1) !~ '=|://'
                                       THEN '=' || substr(o, strpos(o, '=') + 1)
                                       ELSE '#' || encode(sha256(convert_to(o, 'UTF8')), 'hex') END ORDER BY o)
                   FROM unnest({column}) o), '{{}}')"
    )
}

fn options_of(r: &Row, i: usize) -> BTreeMap<String, OptionValue> {
    let names: Vec<String> = r.get(i);
    let values: Vec<String> = r.get(i + 1);
    names
        .into_iter()
        .zip(values)
        .map(|(n, v)| (n, option_value(v)))
        .collect()
}

const NOT_EXT: &str = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass AND d.objid = x.oid AND d.deptype = 'e')";

fn not_ext(catalog: &str) -> String {
    NOT_EXT.replace("{catalog}", catalog)
}

pub(super) fn fdws_query() -> String {
    format!(
        r#"
SELECT quote_ident(x.fdwname),
       CASE WHEN x.fdwhandler <> 0 THEN x.fdwhandler::regproc::text END,
       CASE WHEN x.fdwvalidator <> 0 THEN x.fdwvalidator::regproc::text END,
       {}
  FROM pg_foreign_data_wrapper x WHERE {} ORDER BY 1"#,
        options_sql("x.fdwoptions", true),
        not_ext("pg_foreign_data_wrapper")
    )
}

pub(super) type FdwRow = (String, ForeignDataWrapper);

pub(super) fn fdw_row(r: &Row) -> FdwRow {
    let w = ForeignDataWrapper {
        handler: r.get(1),
        validator: r.get(2),
        options: options_of(r, 3),
    };
    (r.get(0), w)
}

pub(super) fn servers_query() -> String {
    format!(
        r#"
SELECT quote_ident(x.srvname), quote_ident(w.fdwname), x.srvtype, x.srvversion,
       {}
  FROM pg_foreign_server x JOIN pg_foreign_data_wrapper w ON w.oid = x.srvfdw
 WHERE {} ORDER BY 1"#,
        options_sql("x.srvoptions", true),
        not_ext("pg_foreign_server")
    )
}

pub(super) type ServerRow = (String, ForeignServer);

pub(super) fn server_row(r: &Row) -> ServerRow {
    let s = ForeignServer {
        fdw: r.get(1),
        server_type: r.get(2),
        version: r.get(3),
        options: options_of(r, 4),
    };
    (r.get(0), s)
}

/// Keyed `FOR <role> SERVER <server>`.
pub(super) fn user_mappings_query() -> String {
    format!(
        r#"
SELECT 'FOR ' || CASE WHEN x.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(x.usename) END || ' SERVER ' || quote_ident(x.srvname),
       {}
  FROM pg_user_mappings x JOIN pg_foreign_server s ON s.oid = x.srvid
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_foreign_server'::regclass AND d.objid = s.oid AND d.deptype = 'e')
 ORDER BY 1"#,
        options_sql("x.umoptions", false) + ",\n       " + &um_readable("x", "s")
    )
}

/// Whether the session's role may see the options of user mapping `um` (a row of
/// `pg_user_mappings`) on server `srv`: the view's own rule. NULL options mean "none" only then.
pub(crate) fn um_readable(um: &str, srv: &str) -> String {
    format!(
        "({um}.umoptions IS NOT NULL \
          OR ({um}.umuser <> 0 AND {um}.usename = current_user \
              AND (pg_has_role({srv}.srvowner, 'USAGE') OR has_server_privilege({srv}.oid, 'USAGE'))) \
          OR ({um}.umuser = 0 AND pg_has_role({srv}.srvowner, 'USAGE')) \
          OR coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false))"
    )
}

/// The option a user mapping whose options the session's role may not read carries instead:
/// a digest unique to this read, so it never compares equal, and the plan refuses it by name.
pub const UNREADABLE_OPTIONS: &str = "(options not readable by the comparing role)";

pub(super) type UserMappingRow = (String, BTreeMap<String, OptionValue>);

pub(super) fn user_mapping_row(r: &Row) -> UserMappingRow {
    let mut options = options_of(r, 1);
    if !r.get::<_, bool>(3) {
        options.insert(
            UNREADABLE_OPTIONS.to_owned(),
            OptionValue::Digest(super::catalog::unread()),
        );
    }
    (r.get(0), options)
}

pub(super) fn foreign_tables_query() -> String {
    let allowed = quoted_list(PLAIN_TABLE_OPTIONS);
    let table = format!(
        "coalesce((SELECT array_agg(split_part(o, '=', 1) ORDER BY o) FROM unnest(ft.ftoptions) o), '{{}}'),
       coalesce((SELECT array_agg({} ORDER BY o) FROM unnest(ft.ftoptions) o), '{{}}')",
        option_value_sql("o", &allowed)
    );
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(s.srvname),
       {table_options},
       coalesce((SELECT array_agg(quote_ident(a.attname) ORDER BY a.attnum, o) FROM pg_attribute a, unnest(a.attfdwoptions) o
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       coalesce((SELECT array_agg(split_part(o, '=', 1) ORDER BY a.attnum, o) FROM pg_attribute a, unnest(a.attfdwoptions) o
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       coalesce((SELECT array_agg({column_value} ORDER BY a.attnum, o) FROM pg_attribute a, unnest(a.attfdwoptions) o
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}')
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid JOIN ns ON ns.oid = c.relnamespace
  JOIN pg_foreign_server s ON s.oid = ft.ftserver
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#)
    .replace("{table_options}", &table)
    .replace("{column_value}", &option_value_sql("o", &allowed))
}

type Options = BTreeMap<String, OptionValue>;

/// (name, server, options, column options by column).
pub(super) type ForeignTableRow = (String, String, Options, BTreeMap<String, Options>);

fn option_value(v: String) -> OptionValue {
    match v.strip_prefix('=') {
        Some(plain) => OptionValue::Plain(plain.to_owned()),
        None => OptionValue::Digest(v.trim_start_matches('#').to_owned()),
    }
}

pub(super) fn foreign_table_row(r: &Row) -> ForeignTableRow {
    let cols: Vec<String> = r.get(4);
    let names: Vec<String> = r.get(5);
    let values: Vec<String> = r.get(6);
    let mut column_options: BTreeMap<String, Options> = BTreeMap::new();
    for ((c, n), v) in cols.into_iter().zip(names).zip(values) {
        column_options
            .entry(c)
            .or_default()
            .insert(n, option_value(v));
    }
    (r.get(0), r.get(1), options_of(r, 2), column_options)
}

/// After the tables and their constraints were added: foreign tables move out of them.
pub(super) fn add(
    b: &mut Build,
    fdws: Vec<FdwRow>,
    servers: Vec<ServerRow>,
    user_mappings: Vec<UserMappingRow>,
    foreign_tables: Vec<ForeignTableRow>,
) {
    b.m.fdws = fdws.into_iter().collect();
    b.m.servers = servers.into_iter().collect();
    b.m.user_mappings = user_mappings.into_iter().collect();
    for (name, server, options, column_options) in foreign_tables {
        let Some(table) = b.m.tables.remove(&name) else {
            continue;
        };
        b.m.foreign_tables.insert(
            name,
            ForeignTable {
                table,
                server,
                options,
                column_options,
            },
        );
    }
}

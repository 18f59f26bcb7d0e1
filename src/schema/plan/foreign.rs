//! Foreign data wrappers, servers, user mappings and foreign tables.
//!
//! Option values of servers and user mappings can be secrets: only the values of options
//! known to be harmless ([`PLAIN_OPTIONS`](super::super::introspect) — `host`, `port`,
//! `dbname`, …) are in the model; any other option is a digest, compared but never printed.
//! An option that must be set and whose value is only a digest — every user mapping option
//! (`user`, `password`), a server's `password` — is refused loudly, naming the object and
//! the option names, never the values: the object itself is still created (without it) and
//! options that go are still dropped. Foreign tables hold no rows here: one whose options alone
//! change is altered in place; one that changes otherwise is dropped and created again, unless
//! a view or another object depends on it. A foreign table's options are treated as a
//! server's: a value not known to be harmless is a digest, never printed, and a foreign table
//! that would have to be created with one is refused by name (table and option names only).

use std::collections::{BTreeMap, BTreeSet};

use super::super::introspect::UNREADABLE_OPTIONS;
use super::super::model::{ConstraintKind, ForeignTable, OptionValue};
use super::sql::lit;
use super::{Cx, HazardKind, Phase, Stmt};
use crate::pg::ident;

type Options = BTreeMap<String, OptionValue>;

pub(super) fn diff(x: &mut Cx<'_>) {
    wrappers(x);
    servers(x);
    user_mappings(x);
    drop_gone(x);
    foreign_tables(x);
}

/// `OPTIONS (…)` clauses turning `old` into `new`, and the names of options whose value
/// cannot be written (only their digest is known).
fn option_changes(old: &Options, new: &Options) -> (Vec<String>, Vec<String>) {
    let mut clauses = Vec::new();
    let mut secret = Vec::new();
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        clauses.push(format!("DROP {}", ident(k)));
    }
    for (k, v) in new {
        if old.get(k) == Some(v) {
            continue;
        }
        let verb = if old.contains_key(k) { "SET" } else { "ADD" };
        match v {
            OptionValue::Plain(value) => {
                clauses.push(format!("{verb} {} {}", ident(k), lit(value)))
            }
            OptionValue::Digest(_) => secret.push(k.clone()),
        }
    }
    (clauses, secret)
}

fn options_clause(clauses: &[String]) -> String {
    if clauses.is_empty() {
        String::new()
    } else {
        format!(" OPTIONS ({})", clauses.join(", "))
    }
}

fn refuse_secret(x: &mut Cx<'_>, what: &str, secret: &[String]) {
    if secret.is_empty() {
        return;
    }
    x.unsupported(format!(
        "{what}: options ({}) differ — their values may be secrets and are never printed; set them by hand",
        secret.join(", ")
    ));
}

fn wrappers(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, w) in &b.fdws {
        let empty = Options::new();
        let old = a.fdws.get(k);
        let (clauses, secret) = option_changes(old.map_or(&empty, |o| &o.options), &w.options);
        let func = |kw: &str, f: &Option<String>| match f {
            Some(f) => format!(" {kw} {f}"),
            None => format!(" NO {kw}"),
        };
        match old {
            None => {
                let mut s = format!("CREATE FOREIGN DATA WRAPPER {k}");
                if w.handler.is_some() {
                    s.push_str(&func("HANDLER", &w.handler));
                }
                if w.validator.is_some() {
                    s.push_str(&func("VALIDATOR", &w.validator));
                }
                let clauses: Vec<String> = clauses
                    .iter()
                    .map(|c| c.trim_start_matches("ADD ").to_owned())
                    .collect();
                s.push_str(&options_clause(&clauses));
                x.simple(Phase::CreateForeignServers, s);
            }
            Some(o) => {
                let mut s = String::new();
                if o.handler != w.handler {
                    s.push_str(&func("HANDLER", &w.handler));
                }
                if o.validator != w.validator {
                    s.push_str(&func("VALIDATOR", &w.validator));
                }
                s.push_str(&options_clause(&clauses));
                if !s.is_empty() {
                    x.simple(
                        Phase::CreateForeignServers,
                        format!("ALTER FOREIGN DATA WRAPPER {k}{s}"),
                    );
                }
            }
        }
        refuse_secret(x, &format!("foreign data wrapper {k}"), &secret);
    }
}

fn servers(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, s) in &b.servers {
        let empty = Options::new();
        let old = a.servers.get(k);
        if let Some(o) = old {
            if o.fdw != s.fdw || o.server_type != s.server_type {
                x.unsupported(format!("server {k}: its foreign data wrapper or type changed — a server cannot be altered so; write this change by hand"));
                continue;
            }
        }
        let (clauses, secret) = option_changes(old.map_or(&empty, |o| &o.options), &s.options);
        match old {
            None => {
                let mut sql = format!("CREATE SERVER {k}");
                if let Some(t) = &s.server_type {
                    sql.push_str(&format!(" TYPE {}", lit(t)));
                }
                if let Some(v) = &s.version {
                    sql.push_str(&format!(" VERSION {}", lit(v)));
                }
                sql.push_str(&format!(" FOREIGN DATA WRAPPER {}", s.fdw));
                let clauses: Vec<String> = clauses
                    .iter()
                    .map(|c| c.trim_start_matches("ADD ").to_owned())
                    .collect();
                sql.push_str(&options_clause(&clauses));
                x.simple(Phase::CreateForeignServers, sql);
            }
            Some(o) => {
                if o.version != s.version {
                    let v = s.version.as_deref().map_or("NULL".to_owned(), lit);
                    x.simple(
                        Phase::CreateForeignServers,
                        format!("ALTER SERVER {k} VERSION {v}"),
                    );
                }
                if !clauses.is_empty() {
                    x.push(
                        Stmt::new(
                            Phase::CreateForeignServers,
                            format!("ALTER SERVER {k}{}", options_clause(&clauses)),
                        )
                        .hazard(
                            HazardKind::Correctness,
                            format!("foreign tables of server {k} read from where the new options point"),
                        ),
                    );
                }
            }
        }
        refuse_secret(x, &format!("server {k}"), &secret);
    }
}

fn user_mappings(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let unreadable = |m: &crate::schema::Model, k: &str| {
        m.user_mappings
            .get(k)
            .is_some_and(|o| o.contains_key(UNREADABLE_OPTIONS))
    };
    // A mapping that goes needs no options; one that stays or comes does.
    for k in b.user_mappings.keys() {
        if unreadable(a, k) || unreadable(b, k) {
            x.unsupported(format!(
                "user mapping {k}: its options are NOT CHECKED — pg_user_mappings shows them only to \
                 the mapped role, the server's owner or a superuser, not to the comparing role; \
                 compare as such a role"
            ));
        }
    }
    for (k, opts) in &b.user_mappings {
        if unreadable(a, k) || unreadable(b, k) {
            continue;
        }
        let empty = Options::new();
        let old = a.user_mappings.get(k);
        let (clauses, secret) = option_changes(old.unwrap_or(&empty), opts);
        match old {
            None => x.push(
                Stmt::new(
                    Phase::CreateForeignServers,
                    format!("CREATE USER MAPPING {k}"),
                )
                .hazard(
                    HazardKind::AuthzUpdate,
                    format!("user mapping {k} lets that role reach the foreign server"),
                ),
            ),
            Some(_) if !clauses.is_empty() => x.simple(
                Phase::CreateForeignServers,
                format!("ALTER USER MAPPING {k}{}", options_clause(&clauses)),
            ),
            Some(_) => {}
        }
        refuse_secret(x, &format!("user mapping {k}"), &secret);
    }
}

/// User mappings, servers and wrappers that go, in that order, after the foreign tables.
fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for k in a
        .user_mappings
        .keys()
        .filter(|k| !b.user_mappings.contains_key(*k))
    {
        x.push(
            Stmt::new(Phase::DropForeignServers, format!("DROP USER MAPPING {k}")).hazard(
                HazardKind::AuthzUpdate,
                format!("without user mapping {k} that role cannot reach the foreign server"),
            ),
        );
    }
    for k in a.servers.keys().filter(|k| !b.servers.contains_key(*k)) {
        x.simple(Phase::DropForeignServers, format!("DROP SERVER {k}"));
    }
    for k in a.fdws.keys().filter(|k| !b.fdws.contains_key(*k)) {
        x.simple(
            Phase::DropForeignServers,
            format!("DROP FOREIGN DATA WRAPPER {k}"),
        );
    }
}

/// Whether anything of the current schema depends on foreign table `k`.
fn has_dependents(x: &Cx<'_>, k: &str) -> bool {
    x.a.deps
        .iter()
        .any(|(d, set)| d.relation() != Some(k) && set.iter().any(|r| r.relation() == Some(k)))
}

/// Names of options (of the table and of its columns) whose values are only a digest.
fn digested(t: &ForeignTable) -> Vec<String> {
    let is_digest = |v: &OptionValue| matches!(v, OptionValue::Digest(_));
    let mut out: Vec<String> = t
        .options
        .iter()
        .filter(|(_, v)| is_digest(v))
        .map(|(k, _)| k.clone())
        .collect();
    for (c, o) in &t.column_options {
        out.extend(
            o.iter()
                .filter(|(_, v)| is_digest(v))
                .map(|(k, _)| format!("{c}.{k}")),
        );
    }
    out
}

/// What a changed foreign table needs.
enum Change {
    /// Only options differ: `ALTER FOREIGN TABLE … OPTIONS`.
    Options,
    /// Dropped and created again.
    Again,
    /// Refused (already reported).
    Refused,
}

fn change_of(x: &mut Cx<'_>, k: &str, old: &ForeignTable, t: &ForeignTable) -> Change {
    if old.table == t.table && old.server == t.server {
        return Change::Options;
    }
    if has_dependents(x, k) {
        x.unsupported(format!("foreign table {k}: changed while other objects depend on it — it would be dropped and created again; write this change by hand"));
        return Change::Refused;
    }
    let secret = digested(t);
    if !secret.is_empty() {
        x.unsupported(format!("foreign table {k}: changed, and it would be dropped and created again, but options ({}) may be secrets whose values are never printed; write this change by hand", secret.join(", ")));
        return Change::Refused;
    }
    Change::Again
}

fn foreign_tables(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let mut again = BTreeSet::new();
    for (k, old) in &a.foreign_tables {
        match b.foreign_tables.get(k) {
            None => x.simple(Phase::DropForeignTables, format!("DROP FOREIGN TABLE {k}")),
            Some(t) if t != old => match change_of(x, k, old, t) {
                Change::Options => alter_options(x, k, old, t),
                Change::Again => {
                    x.simple(Phase::DropForeignTables, format!("DROP FOREIGN TABLE {k}"));
                    again.insert(k.clone());
                }
                Change::Refused => {}
            },
            Some(_) => {}
        }
    }
    for (k, t) in &b.foreign_tables {
        if a.foreign_tables.contains_key(k) && !again.contains(k) {
            continue;
        }
        if t.table.partition_of.is_some() || !t.table.inherits.is_empty() {
            x.unsupported(format!("foreign table {k}: a partition or an inheritance child — not supported by the schema engine; write this change by hand"));
            continue;
        }
        let secret = digested(t);
        if !secret.is_empty() {
            x.unsupported(format!("foreign table {k}: options ({}) may be secrets — their values are never printed, so it is not created; create it by hand", secret.join(", ")));
            continue;
        }
        x.simple(Phase::CreateTables, create_sql(k, t));
        if again.contains(k) {
            x.recreated.insert(format!("FOREIGN TABLE {k}"));
        }
    }
}

/// Options of the table and of its columns, changed in place; digested values are refused.
fn alter_options(x: &mut Cx<'_>, k: &str, old: &ForeignTable, t: &ForeignTable) {
    let empty = Options::new();
    let (clauses, mut secret) = option_changes(&old.options, &t.options);
    let mut parts = Vec::new();
    if !clauses.is_empty() {
        parts.push(options_clause(&clauses).trim_start().to_owned());
    }
    let columns: BTreeSet<&String> = old
        .column_options
        .keys()
        .chain(t.column_options.keys())
        .collect();
    for c in columns {
        let (clauses, s) = option_changes(
            old.column_options.get(c).unwrap_or(&empty),
            t.column_options.get(c).unwrap_or(&empty),
        );
        secret.extend(s.into_iter().map(|o| format!("{c}.{o}")));
        if !clauses.is_empty() {
            parts.push(format!("ALTER COLUMN {c}{}", options_clause(&clauses)));
        }
    }
    if !parts.is_empty() {
        x.simple(
            Phase::CreateTables,
            format!("ALTER FOREIGN TABLE {k} {}", parts.join(", ")),
        );
    }
    refuse_secret(x, &format!("foreign table {k}"), &secret);
}

/// Plain options as `"key" 'value'` (a digested one is never written: refused before).
fn options_sql(o: &Options) -> String {
    let o: Vec<String> = o
        .iter()
        .filter_map(|(k, v)| match v {
            OptionValue::Plain(v) => Some(format!("{} {}", ident(k), lit(v))),
            OptionValue::Digest(_) => None,
        })
        .collect();
    format!(" OPTIONS ({})", o.join(", "))
}

fn create_sql(k: &str, t: &ForeignTable) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in t.table.columns.iter().filter(|c| !c.inherited) {
        let mut s = format!("{} {}", c.name, c.data_type);
        if let Some(o) = t.column_options.get(&c.name) {
            s.push_str(&options_sql(o));
        }
        if let Some(coll) = &c.collation {
            s.push_str(&format!(" COLLATE {coll}"));
        }
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT {d}"));
        }
        if c.not_null {
            s.push_str(" NOT NULL");
        }
        parts.push(s);
    }
    for (n, c) in &t.table.constraints {
        if c.kind == ConstraintKind::Check {
            parts.push(format!("CONSTRAINT {} {}", ident(n), c.definition));
        }
    }
    let mut s = format!(
        "CREATE FOREIGN TABLE {k} (\n    {}\n) SERVER {}",
        parts.join(",\n    "),
        t.server
    );
    if !t.options.is_empty() {
        s.push_str(&options_sql(&t.options));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::super::model::{ForeignServer, Model};
    use super::super::{plan, PlanOptions};
    use super::*;
    use crate::schema::render_sql;

    fn server(options: &[(&str, OptionValue)]) -> ForeignServer {
        ForeignServer {
            fdw: "w".into(),
            server_type: None,
            version: None,
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn digested_options_are_refused_by_name_and_never_printed() {
        let digest = OptionValue::Digest("d1gest0fsecret".into());
        let host = OptionValue::Plain("db.internal".into());
        let mut a = Model::default();
        a.servers
            .insert("s".into(), server(&[("host", host.clone())]));
        let mut b = a.clone();
        b.servers.insert(
            "s".into(),
            server(&[("host", host.clone()), ("password", digest.clone())]),
        );
        let mapping: Options = [("password".to_string(), digest.clone())].into();
        b.user_mappings
            .insert("FOR PUBLIC SERVER s".into(), mapping.clone());
        let p = plan(&a, &b, &PlanOptions::default());
        let text = format!("{}{:?}", render_sql(&p), p.unsupported);
        assert!(!text.contains("d1gest0fsecret"), "{text}");
        assert!(
            text.contains("CREATE USER MAPPING FOR PUBLIC SERVER s;"),
            "{text}"
        );
        // Literals are written for standard strings, and the script says so before its first
        // statement (a role with `standard_conforming_strings = off` would read `'\''` as a
        // quote and run the rest as SQL).
        let set = text
            .find("SET standard_conforming_strings = on;")
            .unwrap_or_else(|| panic!("{text}"));
        assert!(set < text.find("CREATE ").unwrap_or(0), "{text}");
        assert!(
            p.unsupported
                .iter()
                .any(|u| u.contains("user mapping FOR PUBLIC SERVER s: options (password)")),
            "{:?}",
            p.unsupported
        );
        assert!(
            p.unsupported
                .iter()
                .any(|u| u.contains("server s: options (password)")),
            "{:?}",
            p.unsupported
        );
        // A digested option that goes is dropped by name.
        let mut c = b.clone();
        c.user_mappings
            .insert("FOR PUBLIC SERVER s".into(), Options::new());
        let p = plan(&b, &c, &PlanOptions::default());
        assert!(render_sql(&p).contains(r#"OPTIONS (DROP "password")"#));
        assert!(p.unsupported.is_empty(), "{:?}", p.unsupported);
    }
}

//! Text search dictionaries and configurations: dictionaries first (configurations map
//! token types to them), both after the functions and before the tables, indexes and views
//! that name them; dropped in the reverse order before the functions. A configuration's
//! mappings change in place (`ADD/ALTER/DROP MAPPING`), a dictionary's options too; a new
//! parser or template is a drop and a create, refused when something uses the object.

use std::collections::BTreeMap;

use super::super::model::{TsConfig, TsDictionary};
use super::{Cx, HazardKind, Phase, Stmt};

const REMAPPED: &str = "tsvector values already stored, and indexes over them, keep the old result until recomputed (UPDATE, REINDEX)";

pub(super) fn diff(x: &mut Cx<'_>) {
    super::ts_parsers::create(x);
    dictionaries(x);
    configs(x);
    super::ts_parsers::drop_gone(x);
}

fn create_dictionary(k: &str, d: &TsDictionary) -> String {
    match &d.options {
        Some(o) if !o.is_empty() => format!(
            "CREATE TEXT SEARCH DICTIONARY {k} (TEMPLATE = {}, {o})",
            d.template
        ),
        _ => format!(
            "CREATE TEXT SEARCH DICTIONARY {k} (TEMPLATE = {})",
            d.template
        ),
    }
}

/// `a = 'x', b = 1` → [(a, `a = 'x'`), (b, `b = 1`)], splitting outside quotes.
fn options(s: Option<&str>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(s) = s else { return out };
    let (mut cur, mut quoted) = (String::new(), false);
    let mut push = |cur: &mut String| {
        let item = cur.trim().to_owned();
        if !item.is_empty() {
            let key = item.split('=').next().unwrap_or("").trim().to_lowercase();
            out.push((key, item));
        }
        cur.clear();
    };
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => push(&mut cur),
            _ => cur.push(c),
        }
    }
    push(&mut cur);
    out
}

fn dictionaries(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, d) in &b.ts_dictionaries {
        let Some(old) = a.ts_dictionaries.get(k) else {
            x.simple(Phase::CreateTsDictionaries, create_dictionary(k, d));
            continue;
        };
        if old.template == d.template {
            if old.options != d.options {
                let new = options(d.options.as_deref());
                let mut items: Vec<String> = new.iter().map(|(_, i)| i.clone()).collect();
                for (key, _) in options(old.options.as_deref()) {
                    if !new.iter().any(|(n, _)| *n == key) {
                        items.push(key);
                    }
                }
                x.push(
                    Stmt::new(
                        Phase::CreateTsDictionaries,
                        format!("ALTER TEXT SEARCH DICTIONARY {k} ({})", items.join(", ")),
                    )
                    .hazard(HazardKind::Correctness, REMAPPED),
                );
            }
            continue;
        }
        if !old.used_by.is_empty() {
            x.unsupported(format!(
                "text search dictionary {k}: its template changes, so it must be dropped and created again, but {} use it — not supported by the schema engine; write this change by hand",
                old.used_by.join(", ")
            ));
            continue;
        }
        x.simple(
            Phase::CreateTsDictionaries,
            format!("DROP TEXT SEARCH DICTIONARY {k}"),
        );
        x.recreated.insert(format!("TEXT SEARCH DICTIONARY {k}"));
        x.simple(Phase::CreateTsDictionaries, create_dictionary(k, d));
    }
    for k in a.ts_dictionaries.keys() {
        if !b.ts_dictionaries.contains_key(k) {
            x.simple(
                Phase::DropTsDictionaries,
                format!("DROP TEXT SEARCH DICTIONARY {k}"),
            );
        }
    }
}

/// `ADD MAPPING` statements for `mappings`, one per list of dictionaries.
fn add_mappings(k: &str, mappings: &BTreeMap<String, Vec<String>>, verb: &str) -> Vec<String> {
    let mut by_dicts: BTreeMap<&Vec<String>, Vec<&str>> = BTreeMap::new();
    for (alias, dicts) in mappings {
        by_dicts.entry(dicts).or_default().push(alias);
    }
    by_dicts
        .into_iter()
        .map(|(dicts, aliases)| {
            format!(
                "ALTER TEXT SEARCH CONFIGURATION {k} {verb} MAPPING FOR {} WITH {}",
                aliases.join(", "),
                dicts.join(", ")
            )
        })
        .collect()
}

fn create_config(x: &mut Cx<'_>, k: &str, c: &TsConfig) {
    x.simple(
        Phase::CreateTsConfigs,
        format!(
            "CREATE TEXT SEARCH CONFIGURATION {k} (PARSER = {})",
            c.parser
        ),
    );
    for s in add_mappings(k, &c.mappings, "ADD") {
        x.simple(Phase::CreateTsConfigs, s);
    }
}

fn configs(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, c) in &b.ts_configs {
        let Some(old) = a.ts_configs.get(k) else {
            create_config(x, k, c);
            continue;
        };
        if old.parser == c.parser {
            alter_mappings(x, k, old, c);
            continue;
        }
        if !old.used_by.is_empty() {
            x.unsupported(format!(
                "text search configuration {k}: its parser changes, so it must be dropped and created again, but {} use it — not supported by the schema engine; write this change by hand",
                old.used_by.join(", ")
            ));
            continue;
        }
        x.simple(
            Phase::CreateTsConfigs,
            format!("DROP TEXT SEARCH CONFIGURATION {k}"),
        );
        x.recreated.insert(format!("TEXT SEARCH CONFIGURATION {k}"));
        create_config(x, k, c);
    }
    for k in a.ts_configs.keys() {
        if !b.ts_configs.contains_key(k) {
            x.simple(
                Phase::DropTsConfigs,
                format!("DROP TEXT SEARCH CONFIGURATION {k}"),
            );
        }
    }
}

fn alter_mappings(x: &mut Cx<'_>, k: &str, old: &TsConfig, c: &TsConfig) {
    let gone: Vec<&str> = old
        .mappings
        .keys()
        .filter(|t| !c.mappings.contains_key(*t))
        .map(String::as_str)
        .collect();
    let added: BTreeMap<String, Vec<String>> = c
        .mappings
        .iter()
        .filter(|(t, _)| !old.mappings.contains_key(*t))
        .map(|(t, d)| (t.clone(), d.clone()))
        .collect();
    let changed: BTreeMap<String, Vec<String>> = c
        .mappings
        .iter()
        .filter(|(t, d)| old.mappings.get(*t).is_some_and(|o| o != *d))
        .map(|(t, d)| (t.clone(), d.clone()))
        .collect();
    let mut stmts = Vec::new();
    if !gone.is_empty() {
        stmts.push(format!(
            "ALTER TEXT SEARCH CONFIGURATION {k} DROP MAPPING FOR {}",
            gone.join(", ")
        ));
    }
    stmts.extend(add_mappings(k, &changed, "ALTER"));
    stmts.extend(add_mappings(k, &added, "ADD"));
    for s in stmts {
        x.push(Stmt::new(Phase::CreateTsConfigs, s).hazard(HazardKind::Correctness, REMAPPED));
    }
}

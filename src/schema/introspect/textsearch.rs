//! Text search dictionaries and configurations (with their token mappings, from
//! `pg_ts_config_map`), parsers and templates (their functions, by name).

use tokio_postgres::Row;

use super::super::model::{TsConfig, TsDictionary};
use super::operators::used_by;
use super::{q, Build};

/// Separates the dictionaries of one mapping (names may hold any other character).
const SEP: char = '\u{1}';

pub(super) fn dictionaries_query() -> String {
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(d.dictname),
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.tmplname) FROM pg_ts_template t
          JOIN pg_namespace tn ON tn.oid = t.tmplnamespace WHERE t.oid = d.dicttemplate),
       d.dictinitoption,
       {used}
  FROM pg_ts_dict d JOIN ns ON ns.oid = d.dictnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_dict'::regclass AND ext.objid = d.oid)
 ORDER BY 1"#,
        used = used_by("pg_ts_dict", "d.oid")
    ))
}

pub(super) fn dictionary_row(r: &Row) -> (String, TsDictionary) {
    let d = TsDictionary {
        template: r.get(1),
        options: r.get(2),
        used_by: r.get(3),
    };
    (r.get(0), d)
}

pub(super) fn configs_query() -> String {
    q(&format!(
        r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.cfgname),
       (SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.prsname) FROM pg_ts_parser p
          JOIN pg_namespace pn ON pn.oid = p.prsnamespace WHERE p.oid = c.cfgparser),
       ARRAY(SELECT tt.alias FROM pg_ts_config_map m JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype
              WHERE m.mapcfg = c.oid GROUP BY tt.alias ORDER BY tt.alias),
       ARRAY(SELECT string_agg(quote_ident(dn.nspname) || '.' || quote_ident(dd.dictname), chr(1) ORDER BY m.mapseqno)
               FROM pg_ts_config_map m JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype
               JOIN pg_ts_dict dd ON dd.oid = m.mapdict JOIN pg_namespace dn ON dn.oid = dd.dictnamespace
              WHERE m.mapcfg = c.oid GROUP BY tt.alias ORDER BY tt.alias),
       {used}
  FROM pg_ts_config c JOIN ns ON ns.oid = c.cfgnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_config'::regclass AND ext.objid = c.oid)
 ORDER BY 1"#,
        used = used_by("pg_ts_config", "c.oid")
    ))
}

pub(super) fn config_row(r: &Row) -> (String, TsConfig) {
    let aliases: Vec<String> = r.get(2);
    let dicts: Vec<String> = r.get(3);
    let mappings = aliases
        .into_iter()
        .zip(dicts)
        .map(|(a, d)| (a, d.split(SEP).map(str::to_owned).collect()))
        .collect();
    let c = TsConfig {
        parser: r.get(1),
        mappings,
        used_by: r.get(4),
    };
    (r.get(0), c)
}

/// Parsers (`p`) and templates (`t`): (kind, name, `CREATE` options).
pub(super) fn parsers_and_templates_query() -> String {
    let f = |col: &str, key: &str| {
        format!(
            "(SELECT '{key} = ' || quote_ident(fn.nspname) || '.' || quote_ident(f.proname) FROM pg_proc f \
             JOIN pg_namespace fn ON fn.oid = f.pronamespace WHERE f.oid = {col})"
        )
    };
    q(&format!(
        r#"
SELECT 'p', quote_ident(ns.nspname) || '.' || quote_ident(p.prsname),
       '(' || concat_ws(', ', {start}, {token}, {end}, {lextypes}, {headline}) || ')'
  FROM pg_ts_parser p JOIN ns ON ns.oid = p.prsnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_parser'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 't', quote_ident(ns.nspname) || '.' || quote_ident(t.tmplname), '(' || concat_ws(', ', {init}, {lexize}) || ')'
  FROM pg_ts_template t JOIN ns ON ns.oid = t.tmplnamespace
 WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_template'::regclass AND ext.objid = t.oid)"#,
        start = f("p.prsstart", "START"),
        token = f("p.prstoken", "GETTOKEN"),
        end = f("p.prsend", "END"),
        lextypes = f("p.prslextype", "LEXTYPES"),
        headline = f("p.prsheadline", "HEADLINE"),
        init = f("t.tmplinit", "INIT"),
        lexize = f("t.tmpllexize", "LEXIZE"),
    ))
}

pub(super) type ParserRow = (String, String, String);

pub(super) fn parser_row(r: &Row) -> ParserRow {
    (r.get(0), r.get(1), r.get(2))
}

pub(super) fn add(
    b: &mut Build,
    dictionaries: Vec<(String, TsDictionary)>,
    configs: Vec<(String, TsConfig)>,
    parsers: Vec<ParserRow>,
) {
    b.m.ts_dictionaries = dictionaries.into_iter().collect();
    b.m.ts_configs = configs.into_iter().collect();
    for (kind, name, definition) in parsers {
        let into = if kind == "p" {
            &mut b.m.ts_parsers
        } else {
            &mut b.m.ts_templates
        };
        into.insert(name, definition);
    }
}

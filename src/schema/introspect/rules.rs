//! Rules on tables (not the `_RETURN` rule that makes a view).

use tokio_postgres::Row;

use super::super::model::Rule;
use super::{first_char, q, Build};

pub(super) fn rules_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(r.rulename),
       pg_get_ruledef(r.oid), r.ev_enabled::text
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace
 WHERE r.rulename <> '_RETURN'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
 ORDER BY 1, 2"#)
}

/// (`table.rule`, rule).
pub(super) type RuleRow = (String, Rule);

pub(super) fn rule_row(r: &Row) -> RuleRow {
    let (table, name): (String, String) = (r.get(0), r.get(1));
    let rule = Rule {
        table: table.clone(),
        definition: r.get(2),
        enabled: first_char(r.get::<_, &str>(3), 'O'),
    };
    (format!("{table}.{name}"), rule)
}

pub(super) fn add(b: &mut Build, rules: Vec<RuleRow>) {
    b.m.rules = rules.into_iter().collect();
}

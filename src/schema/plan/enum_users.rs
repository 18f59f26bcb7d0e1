//! Uses of an enum that a recreation (rename the old type, create the new one, retype each
//! column with `USING v::text::new`) cannot carry, beyond the ones found through `pg_depend`
//! (`analysis::recreated_enums`): Postgres fails the retype half-way, after the rename and the
//! new type have committed (attack12 N2–N5):
//! - a partition key over a column of it (`cannot alter column … part of the partition key`;
//!   the plan had already detached a partition, whose rows left the table);
//! - a foreign key over a column of it (both ends are of the enum: the first retype makes
//!   them incompatible types);
//! - a rule reading a column of it (`cannot alter type of a column used by a view or rule`);
//! - an extended statistics object with an expression on a table with a column of it
//!   (Postgres rebuilds the expression over the old type: `operator does not exist`).

use super::super::model::{ConstraintKind, DepKey, Model};
use super::sql::element_type;

/// What of `a` keeps enum `k` from being recreated by the plan (empty: nothing).
pub(super) fn blockers(a: &Model, k: &str) -> Vec<String> {
    let mut out = Vec::new();
    // (table, column) of every table column of the enum (or an array of it).
    let cols: Vec<(&str, &str)> = a
        .tables
        .iter()
        .flat_map(|(t, table)| {
            table
                .columns
                .iter()
                .filter(|c| element_type(&c.data_type) == k)
                .map(move |c| (t.as_str(), c.name.as_str()))
        })
        .collect();
    if cols.is_empty() {
        return out;
    }
    let of_table = |t: &str| -> Vec<&str> {
        cols.iter()
            .filter(|(ct, _)| *ct == t)
            .map(|(_, c)| *c)
            .collect()
    };
    for (t, table) in &a.tables {
        if let Some(key) = &table.partition_key {
            if of_table(t).iter().any(|c| words(key).any(|w| w == *c)) {
                out.push(format!("the partition key of {t} ({key})"));
            }
        }
        for (n, con) in &table.constraints {
            if con.kind != ConstraintKind::ForeignKey {
                continue;
            }
            let local = con
                .definition
                .strip_prefix("FOREIGN KEY (")
                .and_then(|r| r.split_once(')'))
                .map(|(l, _)| l)
                .unwrap_or("");
            if of_table(t)
                .iter()
                .any(|c| local.split(", ").any(|w| w == *c))
            {
                out.push(format!("foreign key {t}.{n}"));
            }
        }
    }
    for (r, rule) in &a.rules {
        // A rule on a view goes with the view, which is rebuilt over the new type.
        let on_table = a.tables.contains_key(&rule.table);
        let reads = !of_table(&rule.table).is_empty()
            || a.deps
                .get(&DepKey::Rel(rule.table.clone()))
                .is_some_and(|ds| {
                    cols.iter()
                        .any(|(t, c)| ds.contains(&DepKey::Col(format!("{t}.{c}"))))
                });
        if on_table && reads {
            out.push(format!("rule {r}"));
        }
    }
    for (s, st) in &a.statistics {
        let expression = st.definition.contains(" ON (") || st.definition.contains(", (");
        if expression && !of_table(&st.table).is_empty() {
            out.push(format!("statistics {s} (an expression on {})", st.table));
        }
    }
    out
}

/// The identifiers (and other runs of word characters) of `s`.
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"' || ch == '$'))
        .filter(|w| !w.is_empty())
}

//! Keys over columns the plan adds: a new unique index or UNIQUE / PRIMARY KEY whose keys (or
//! predicate) name a column that `--from` does not have yet. The existing rows hold that
//! column's default once the plan adds it (NULL without one), or its generation expression:
//! the keys are counted with those values in its place, as a CHECK over a new column is
//! ([`super::sure::check_condition`]) — a constant default on two rows or more is a duplicate.
//! A column whose values are drawn per row (an identity, a volatile default such as
//! `nextval(…)` or `gen_random_uuid()`) makes each key distinct: nothing to count.

use std::collections::BTreeSet;

use tokio_postgres::Client;

use super::sure::identifier_words;
use crate::schema::model::{Column, Table};
use crate::schema::Model;

/// (table, column) of the columns the plan adds whose default is volatile (per row).
pub(super) type Volatile = BTreeSet<(String, String)>;

/// How the keys of an index or constraint over new columns are counted.
pub(super) enum Lifted {
    /// They name no column the plan adds: counted as they are.
    Unchanged,
    /// They name one whose values are drawn per row: no two rows share the keys.
    Distinct,
    /// The keys and predicate, each new column read from a row of the values the existing rows
    /// get; and those values (`(<default>)::type AS c, …`: repository SQL, vetted before it runs).
    Values(Vec<String>, Option<String>, String),
}

fn added<'a>(old: &'a Table, new: &'a Table) -> impl Iterator<Item = &'a Column> {
    new.columns
        .iter()
        .filter(move |c| !old.columns.iter().any(|o| o.name == c.name))
}

/// `keys` and `pred` of `table`, with the columns the plan adds read as the existing rows will
/// hold them.
pub(super) fn lift(
    table: &str,
    from: &Model,
    to: &Model,
    keys: &[String],
    pred: Option<&str>,
    volatile: &Volatile,
) -> Lifted {
    let (Some(old), Some(new)) = (from.tables.get(table), to.tables.get(table)) else {
        return Lifted::Unchanged;
    };
    let words = identifier_words(&format!("{} {}", keys.join(" "), pred.unwrap_or("")));
    let named: Vec<&Column> = added(old, new)
        .filter(|c| words.contains(&c.name.trim_matches('"').to_owned()))
        .collect();
    if named.is_empty() {
        return Lifted::Unchanged;
    }
    if named.iter().any(|c| {
        c.generated.is_none()
            && (c.identity.is_some() || volatile.contains(&(table.to_owned(), c.name.clone())))
    }) {
        return Lifted::Distinct;
    }
    let values: Vec<String> = named
        .iter()
        .map(|c| {
            let value = c.generated.as_deref().or(c.default.as_deref());
            format!(
                "({})::{} AS {}",
                value.unwrap_or("NULL"),
                c.data_type,
                c.name
            )
        })
        .collect();
    let values = values.join(", ");
    let read = |e: &str| format!("(SELECT {e} FROM (SELECT {values}) neon_migrate_n)");
    Lifted::Values(
        keys.iter().map(|k| read(k)).collect(),
        pred.map(read),
        values,
    )
}

/// The columns the plan adds (tables of both sides) whose default calls a volatile function:
/// each row gets a value of its own. A default that cannot be checked counts as constant (its
/// count then runs it only as [`super::sure::not_run`] allows).
pub(super) async fn volatile(client: &Client, from: &Model, to: &Model) -> Volatile {
    let mut out = Volatile::new();
    for (k, new) in &to.tables {
        let Some(old) = from.tables.get(k) else {
            continue;
        };
        for c in added(old, new) {
            let Some(d) = c.default.as_deref().filter(|d| d.contains('(')) else {
                continue;
            };
            let words: Vec<String> = identifier_words(d)
                .into_iter()
                .map(|w| w.to_lowercase())
                .collect();
            let found = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.provolatile = 'v' \
                       AND pg_catalog.lower(p.proname) = ANY($1::text[]))",
                    &[&words],
                )
                .await
                .is_ok_and(|r| r.get::<_, bool>(0));
            if found {
                out.insert((k.clone(), c.name.clone()));
            }
        }
    }
    out
}

//! Sequences that outlive or replace what they counted for.
//!
//! A sequence the desired schema keeps while the column that owns it goes (its table dropped,
//! the column dropped or handed another sequence): `DROP TABLE` / `DROP COLUMN` would take the
//! owned sequence (and its position) along, so it is released (`OWNED BY NONE`) before anything
//! is dropped; its new owner, if any, is set with the other ownerships.
//!
//! A sequence the plan creates for a column that exists on both sides (a serial whose sequence
//! is renamed, a column that starts drawing from a new sequence): starting again at `START
//! WITH`, it would hand out the keys of the rows already there — the next insert would fail on
//! the primary key. It is set past the column's values (and past the position of the sequence
//! the column drew from before), right after it is created.

use std::collections::{BTreeMap, BTreeSet};

use super::super::model::{Model, Sequence};
use super::super::split_qualified;
use super::sql::lit;
use super::{Cx, Phase, Stmt};

/// Whether the column owning `s` in the current schema is gone from the desired one.
pub(super) fn owner_gone(b: &Model, s: &Sequence) -> bool {
    s.owned_by.as_ref().is_some_and(|col| {
        let Some((table, c)) = split_qualified(col) else {
            return false;
        };
        b.tables.get(table).and_then(|t| t.column(c)).is_none()
    })
}

/// Releases (`OWNED BY NONE`, before any drop) every kept sequence whose owning column goes.
/// Returns their keys.
pub(super) fn release_early(x: &mut Cx<'_>) -> BTreeSet<String> {
    let (a, b) = (x.a, x.b);
    let mut out = BTreeSet::new();
    for (k, old) in &a.sequences {
        if !b.sequences.contains_key(k) || !owner_gone(b, old) {
            continue;
        }
        x.push(Stmt::new(
            Phase::CreateOrAlterSequences,
            format!("ALTER SEQUENCE {k} OWNED BY NONE"),
        ));
        out.insert(k.clone());
    }
    out
}

/// Integer types whose values a sequence position can be compared with.
fn integral(t: &str) -> bool {
    matches!(t, "smallint" | "integer" | "bigint")
}

/// The sequence (of `m`) a `nextval(…)` default reads.
fn drawn_from<'m>(m: &'m Model, default: Option<&str>) -> Option<&'m str> {
    let d = default?;
    m.sequences
        .keys()
        .find(|k| d == format!("nextval({}::regclass)", lit(k)))
        .map(String::as_str)
}

/// A kept column that starts drawing from a new sequence: (table, column, the sequence it
/// drew from before).
pub(super) struct Drawer<'m> {
    table: &'m str,
    column: &'m str,
    before: Option<&'m str>,
}

/// The kept integer columns whose default changes to `nextval` of a sequence the plan
/// creates, by that sequence: read once for all sequences.
pub(super) fn drawers<'m>(a: &'m Model, b: &'m Model) -> BTreeMap<&'m str, Vec<Drawer<'m>>> {
    let mut out: BTreeMap<&str, Vec<Drawer<'m>>> = BTreeMap::new();
    for (tk, t) in &b.tables {
        let Some(old_t) = a.tables.get(tk) else {
            continue;
        };
        for c in &t.columns {
            let Some(o) = old_t.column(&c.name) else {
                continue;
            };
            if c.inherited || o.default == c.default || !integral(&o.data_type) {
                continue;
            }
            let Some(k) = drawn_from(b, c.default.as_deref()) else {
                continue;
            };
            if a.sequences.contains_key(k) {
                continue;
            }
            out.entry(k).or_default().push(Drawer {
                table: tk,
                column: &c.name,
                before: drawn_from(a, o.default.as_deref()),
            });
        }
    }
    out
}

/// Sets the new sequence `k` (of the desired schema, just created) past the values of every
/// kept column that starts drawing from it ([`drawers`]), and past the position of the
/// sequence each drew from before.
pub(super) fn carry_position(x: &mut Cx<'_>, k: &str, s: &Sequence, drawers: &[Drawer<'_>]) {
    let (pick, agg, cmp) = if s.increment < 0 {
        ("LEAST", "min", "<=")
    } else {
        ("GREATEST", "max", ">=")
    };
    for d in drawers {
        let mut terms = vec![format!("(SELECT {agg}({}) FROM {})", d.column, d.table)];
        if let Some(prev) = d.before {
            terms.push(format!(
                "pg_catalog.pg_sequence_last_value({}::regclass)",
                lit(prev)
            ));
        }
        x.push(
            Stmt::new(
                Phase::CreateOrAlterSequences,
                format!(
                    "SELECT pg_catalog.setval({}, v) FROM (SELECT {pick}({}) AS v) AS p WHERE v {cmp} {}",
                    lit(k),
                    terms.join(", "),
                    s.start
                ),
            )
            .long(),
        );
    }
}

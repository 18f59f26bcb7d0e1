//! Sequences whose bounds narrow: the `ALTER SEQUENCE` fails when the sequence stands outside
//! them, and applies but leaves every next `nextval` failing when it stands at their last
//! value — both read from the sequence itself (its one row) and refused.

use super::hazards::{statement, Probe};
use super::scope::Scope;
use crate::schema::{Model, Plan};

/// Sequences whose bounds narrow: `ALTER SEQUENCE` fails when the current value lies outside
/// them (Postgres: RESTART value cannot be greater than MAXVALUE) — a sure failure, read from
/// the sequence itself (its one row) and refused.
pub(super) fn narrowed_sequences(plan: &Plan, from: &Model, to: &Model, out: &mut Vec<Probe>) {
    for (k, s) in &to.sequences {
        let Some(o) = from.sequences.get(k) else {
            continue;
        };
        if s.min <= o.min && s.max >= o.max {
            continue;
        }
        let Some(i) = statement(plan, &[format!("ALTER SEQUENCE {k} AS ")]) else {
            continue;
        };
        out.push(Probe {
            statement: i,
            table: k.clone(),
            condition: format!("t.last_value < {} OR t.last_value > {}", s.min, s.max),
            what: format!("(the position of sequence {k}) lie outside its new bounds {}..{}", s.min, s.max),
            effect: "this statement fails on it",
            nulls_in: None,
            conversion: None,
            refuse: Some(format!(
                "sequence {k} stands at a value outside its new bounds (AS {}, MINVALUE {}, MAXVALUE {}) — the ALTER SEQUENCE fails on it: keep the bounds, or restart the sequence within them by hand (numbers it handed out may come again)",
                s.data_type, s.min, s.max
            )),
            desired_expression: None,
            scope: Scope::Only,
        });
        if s.cycle {
            continue;
        }
        // Within the bounds, but at the last value they allow: the ALTER applies, and the
        // next nextval fails ("reached maximum value") — so does every INSERT drawing from it.
        out.push(Probe {
            statement: i,
            table: k.clone(),
            condition: format!("t.last_value BETWEEN {min} AND {max} AND t.is_called AND (t.last_value::numeric + {inc} > {max} OR t.last_value::numeric + {inc} < {min})", min = s.min, max = s.max, inc = s.increment),
            what: format!("(the position of sequence {k}) stand at the last value its new bounds {}..{} allow", s.min, s.max),
            effect: "every nextval after this statement fails on it",
            nulls_in: None,
            conversion: None,
            refuse: Some(format!(
                "sequence {k} already stands at the last value its new bounds allow (MINVALUE {}, MAXVALUE {}): the ALTER SEQUENCE applies, then its next nextval fails (\"reached maximum value\") and so does every INSERT drawing from it — keep the bounds, or leave room above the sequence's position",
                s.min, s.max
            )),
            desired_expression: None,
            scope: Scope::Only,
        });
    }
}

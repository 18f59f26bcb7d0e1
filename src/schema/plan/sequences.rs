//! Sequences: created or altered early, their ownership set and the ones that go dropped
//! once the tables are in place.

use std::collections::BTreeSet;

use super::super::model::Sequence;
use super::super::split_qualified;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let released = super::seqpos::release_early(x);
    create_or_alter(x);
    ownership(x, &released);
    drop_gone(x);
}

pub(super) fn body(s: &Sequence) -> String {
    format!(
        "INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

fn create_or_alter(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let shape = |s: &Sequence| {
        (
            s.data_type.clone(),
            s.increment,
            s.min,
            s.max,
            s.start,
            s.cache,
            s.cycle,
        )
    };
    let handed_over = super::unidentity::successors(a, b);
    let drawers = super::seqpos::drawers(a, b);
    for (k, s) in &b.sequences {
        match a.sequences.get(k) {
            None if handed_over.contains(k) => {} // created with the column (unidentity.rs)
            None => {
                x.simple(
                    Phase::CreateOrAlterSequences,
                    format!("CREATE SEQUENCE {k} AS {} {}", s.data_type, body(s)),
                );
                if let Some(d) = drawers.get(k.as_str()) {
                    super::seqpos::carry_position(x, k, s, d);
                }
            }
            Some(old) if shape(old) != shape(s) => {
                // Narrower bounds fail when the current value lies outside them; the plan
                // cannot know it, and moving the value would hand out used numbers again.
                let mut stmt = Stmt::new(
                    Phase::CreateOrAlterSequences,
                    format!("ALTER SEQUENCE {k} AS {} {}", s.data_type, body(s)),
                );
                if s.min > old.min || s.max < old.max {
                    stmt = stmt.hazard(
                        HazardKind::Correctness,
                        "fails if the sequence's current value is outside the new bounds",
                    );
                }
                x.push(stmt);
            }
            _ => {}
        }
    }
}

/// Ownerships that change; `released` were set to NONE before the drops (seqpos.rs).
fn ownership(x: &mut Cx<'_>, released: &BTreeSet<String>) {
    let (a, b) = (x.a, x.b);
    for (k, s) in &b.sequences {
        let before = match a.sequences.get(k) {
            _ if released.contains(k) => None,
            o => o.and_then(|o| o.owned_by.clone()),
        };
        if s.owned_by != before {
            match &s.owned_by {
                Some(col) => x.simple(
                    Phase::SequenceOwnership,
                    format!("ALTER SEQUENCE {k} OWNED BY {col}"),
                ),
                None => x.simple(
                    Phase::SequenceOwnership,
                    format!("ALTER SEQUENCE {k} OWNED BY NONE"),
                ),
            }
        }
    }
}

/// Sequences that go, unless the column that owns them goes too (and takes them along).
fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, s) in &a.sequences {
        if b.sequences.contains_key(k) {
            continue;
        }
        let owner_gone = s.owned_by.as_ref().is_some_and(|col| {
            let table = split_qualified(col).map(|(t, _)| t).unwrap_or(col);
            !b.tables.contains_key(table)
                || b.tables
                    .get(table)
                    .and_then(|t| t.column(col.rsplit('.').next().unwrap_or("")))
                    .is_none()
        });
        // A serial column that becomes an identity: its statement drops the sequence.
        let to_identity = s.owned_by.as_ref().is_some_and(|col| {
            let Some((t, c)) = split_qualified(col) else {
                return false;
            };
            let was = a.tables.get(t).and_then(|t| t.column(c));
            let now = b.tables.get(t).and_then(|t| t.column(c));
            was.is_some_and(|w| w.identity.is_none()) && now.is_some_and(|n| n.identity.is_some())
        });
        if !owner_gone && !to_identity {
            x.push(
                Stmt::new(Phase::SequenceOwnership, format!("DROP SEQUENCE {k}")).hazard(
                    HazardKind::DeletesData,
                    "the sequence's current value is lost",
                ),
            );
        }
    }
}

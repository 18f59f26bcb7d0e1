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
                let mut sql = format!("CREATE SEQUENCE {k} AS {} {}", s.data_type, body(s));
                let mut stmt = Stmt::new(Phase::CreateOrAlterSequences, "");
                if let Some((owner, hazard)) = owner_when_created(x, k) {
                    sql.push_str(&format!(";\nALTER SEQUENCE {k} OWNER TO {owner}"));
                    stmt = stmt.hazard(HazardKind::AuthzUpdate, hazard);
                }
                stmt.sql = sql;
                x.push(stmt);
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
                        "fails if the sequence's current value is outside the new bounds; once it reaches them (it may stand at the new MAXVALUE already), every nextval fails (\"reached maximum value\") and so does every INSERT drawing from it",
                    );
                }
                for (kind, message) in breaks_draws(old, s) {
                    stmt = stmt.hazard(kind, message);
                }
                x.push(stmt);
            }
            _ => {}
        }
    }
}

/// Changes after which the sequence's next values repeat numbers it handed out: its
/// direction reversed, or `CYCLE` added over a range a table can exhaust (an `integer`'s or
/// less: it wraps back to its start, duplicate keys).
fn breaks_draws(old: &Sequence, s: &Sequence) -> Vec<(HazardKind, String)> {
    let mut out = Vec::new();
    if (old.increment > 0) != (s.increment > 0) {
        out.push((HazardKind::BreaksWrites, format!("INCREMENT BY goes from {} to {}: nextval walks back over the numbers the sequence handed out — the next INSERTs drawing from it repeat existing keys (duplicate key) or reach its bound. Keep the direction; to renumber, use a new sequence set past the column's values", old.increment, s.increment)));
    }
    if s.cycle && !old.cycle {
        let range = i128::from(s.max) - i128::from(s.min);
        let kind = if range <= i128::from(i32::MAX) {
            HazardKind::BreaksWrites
        } else {
            HazardKind::Correctness
        };
        out.push((kind, format!("CYCLE is added over {}..{}: after {} the sequence starts again at {}, handing out numbers already used — INSERTs drawing from it fail on a unique key, or duplicate ids. Keep NO CYCLE", s.min, s.max, if s.increment > 0 { s.max } else { s.min }, if s.increment > 0 { s.min } else { s.max })));
    }
    out
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
                Some(col) => x.push(link(x, k, col, before.is_some())),
                None => x.simple(
                    Phase::SequenceOwnership,
                    format!("ALTER SEQUENCE {k} OWNED BY NONE"),
                ),
            }
        }
    }
}

/// The owner, other than the role running the plan, of the table that exists already and
/// whose column sequence `k` of the desired schema is linked to (`OWNED BY`): a sequence the
/// plan creates gets it right away, so the table's owner can draw from it as soon as a
/// default does.
fn linked_table_owner<'m>(x: &Cx<'m>, k: &str) -> Option<&'m String> {
    let col = x.b.sequences.get(k)?.owned_by.as_deref()?;
    let table = split_qualified(col).map_or(col, |(t, _)| t);
    x.a.owners.get(&format!("TABLE {table}"))
}

/// For a sequence the plan creates: the owner to give it right after `CREATE SEQUENCE` (see
/// [`linked_table_owner`]), and the statement's hazard.
pub(super) fn owner_when_created(x: &Cx<'_>, k: &str) -> Option<(String, String)> {
    let owner = linked_table_owner(x, k)?;
    Some((
        owner.clone(),
        format!("SEQUENCE {k}: owner role {owner}, the owner of the table whose column it is linked to (OWNED BY requires it): role {owner} gains every privilege on it"),
    ))
}

/// `ALTER SEQUENCE k OWNED BY col`. Postgres refuses it unless the sequence has the owner of
/// `col`'s table, so the sequence is first given that owner — the one the table has when this
/// runs: its current owner, or the role running the plan for a table the plan creates (whose
/// `OWNER TO`, which moves its sequences along, this statement precedes: it goes wherever
/// that statement is moved, see [`super::windows`]). A sequence linked to another column
/// must be unlinked first: an owned sequence's owner only changes with its table's.
fn link(x: &Cx<'_>, k: &str, col: &str, linked: bool) -> Stmt {
    let table = split_qualified(col).map_or(col, |(t, _)| t);
    let table_key = format!("TABLE {table}");
    let seq_key = format!("SEQUENCE {k}");
    let new_table = !x.a.tables.contains_key(table);
    let table_owner = if new_table {
        None
    } else {
        x.a.owners.get(&table_key)
    };
    let new_seq = !x.a.sequences.contains_key(k) || x.recreated.contains(&seq_key);
    let seq_owner = if new_seq {
        linked_table_owner(x, k)
    } else {
        x.a.owners.get(&seq_key)
    };
    let mut sql = Vec::new();
    let mut hazard = None;
    if seq_owner != table_owner {
        if linked {
            sql.push(format!("ALTER SEQUENCE {k} OWNED BY NONE"));
        }
        let to = table_owner.map_or("CURRENT_USER", String::as_str);
        sql.push(format!("ALTER SEQUENCE {k} OWNER TO {to}"));
        let who = |o: Option<&String>| {
            o.map_or_else(
                || "the role running the migration".to_owned(),
                |r| format!("role {r}"),
            )
        };
        hazard = Some(format!(
            "{seq_key}: owner {} → {} (the owner of {table}, which OWNED BY requires): the new owner gains every privilege on it, the old one loses those it had as the owner",
            who(seq_owner),
            who(table_owner)
        ));
    }
    sql.push(format!("ALTER SEQUENCE {k} OWNED BY {col}"));
    let mut stmt = Stmt::new(Phase::SequenceOwnership, sql.join(";\n"));
    if let Some(h) = hazard {
        stmt = stmt.hazard(HazardKind::AuthzUpdate, h);
    }
    if new_table {
        stmt = stmt.secures(table_key);
    }
    stmt
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

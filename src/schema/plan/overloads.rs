//! A function that goes while a new overload of the same name comes (`f(int)` →
//! `f(int, int DEFAULT 0)`): objects that keep calling it by name (policies, domain CHECKs,
//! trigger WHEN clauses, views, column defaults) bind to the new overload in the desired
//! schema, but on the current one they depend on the old function (`pg_depend`), so
//! Postgres refuses to drop it under them — and while both exist, a call matching both is
//! ambiguous, so a rebuilt view fails too. Such a change is refused, naming the dependents.

use super::super::model::DepKey;
use super::Cx;

/// `schema.name` of a function key `schema.name(arguments)`.
fn name_of(key: &str) -> &str {
    key.split_once('(').map_or(key, |(n, _)| n)
}

/// The new overload of gone function `k` (a function of the desired schema with its name).
pub(super) fn new_overload<'m>(x: &Cx<'m>, k: &str) -> Option<&'m str> {
    let name = name_of(k);
    x.b.functions
        .keys()
        .find(|n| n.as_str() != k && name_of(n) == name)
        .map(String::as_str)
}

/// The objects that depend on gone function `k` and, kept in the desired schema, call a
/// function of its name there: what blocks its drop.
pub(super) fn blockers(x: &Cx<'_>, k: &str) -> Vec<String> {
    let key = DepKey::Fn(k.to_owned());
    let name = name_of(k);
    x.a.deps
        .iter()
        .filter(|(d, ds)| {
            ds.contains(&key)
                && x.b.deps.get(*d).is_some_and(|now| {
                    now.iter()
                        .any(|n| matches!(n, DepKey::Fn(f) if f != k && name_of(f) == name))
                })
        })
        .map(|(d, _)| d.to_string())
        .collect()
}

/// Refuses the drop of gone function `k` when objects kept around it call its new overload.
/// Returns whether it refused.
pub(super) fn refuse_drop(x: &mut Cx<'_>, k: &str) -> bool {
    let Some(new) = new_overload(x, k) else {
        return false;
    };
    let blockers = blockers(x, k);
    if blockers.is_empty() {
        return false;
    }
    x.unsupported(format!(
        "function {k} is replaced by a new overload {new}, but {} call it by name: Postgres refuses to drop {k} under them (they depend on it), and while both exist a call matching both is ambiguous — not supported by the schema engine; write this change by hand (drop and re-create them around the function in one transaction)",
        blockers.join(", ")
    ));
    true
}

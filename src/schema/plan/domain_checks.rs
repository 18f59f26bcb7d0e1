//! When a domain's new CHECK can be added, and when it never can.
//!
//! A CHECK that calls a function the plan creates or replaces is added after the functions
//! (Postgres resolves the call when the constraint is added). A CHECK validated, or NOT NULL
//! set, on a domain that a column stores inside a container (an array of the domain, a
//! composite type holding it) always fails: Postgres cannot check a domain's values through
//! a container ("cannot alter type … because column … uses it"), whatever the data.

use super::super::model::{DepKey, Domain, Model};
use super::{composites, Cx, Phase};

/// The phase in which the new CHECKs of domain `k` are added.
pub(super) fn phase(x: &Cx<'_>, k: &str) -> Phase {
    let calls = |late: bool| {
        x.b.deps.get(&DepKey::Type(k.to_owned())).is_some_and(|ds| {
            ds.iter().any(|d| match d {
                DepKey::Fn(f) => {
                    x.a.functions.get(f).map(|o| &o.definition)
                        != x.b.functions.get(f).map(|n| &n.definition)
                        && (!late || super::functions::created_late(x, f))
                }
                _ => false,
            })
        })
    };
    if calls(true) {
        Phase::AfterLateFunctions
    } else if calls(false) {
        Phase::AddDomainChecksAfterFunctions
    } else {
        Phase::AddDomainChecks
    }
}

/// Refuses (and returns true) a change of domain `k` that Postgres must validate against the
/// stored values (a CHECK added valid, NOT NULL set) while a column of `a` stores the domain in
/// a container: the statement can never succeed.
pub(super) fn refuse_in_container(x: &mut Cx<'_>, k: &str, old: &Domain, new: &Domain) -> bool {
    let validates = (new.not_null && !old.not_null)
        || new
            .checks
            .iter()
            .any(|(n, c)| old.checks.get(n) != Some(c) && !c.ends_with(" NOT VALID"));
    if !validates {
        return false;
    }
    let columns = containers(x.a, k);
    if columns.is_empty() {
        return false;
    }
    x.unsupported(format!(
        "domain {k}: a CHECK or NOT NULL is added, but column {} stores the domain inside an array or composite type, and Postgres cannot validate a domain constraint through it (\"cannot alter type because column uses it\"), whatever the data — not supported by the schema engine; write this change by hand (or add the CHECK NOT VALID)",
        columns.join(", ")
    ));
    true
}

/// The columns of `a` that store domain `k` inside a container (not the domain itself, nor a
/// domain over it).
fn containers(a: &Model, k: &str) -> Vec<String> {
    let direct = |t: &str| t == k || a.domains.get(t).is_some_and(|d| d.base == k);
    composites::stored_in(a, k)
        .into_iter()
        .filter(|col| {
            let Some((t, c)) = super::super::split_qualified(col) else {
                return true;
            };
            let ty = a
                .tables
                .get(t)
                .and_then(|t| t.column(c))
                .map(|c| c.data_type.as_str());
            !ty.is_some_and(direct)
        })
        .collect()
}

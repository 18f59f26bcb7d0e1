//! Owners of the rarer kinds — aggregates (and their privileges, `EXECUTE` as a function's),
//! operators, collations, conversions, text search dictionaries and configurations, extended
//! statistics — planned like the others' (`privileges`): `ALTER <kind> … OWNER TO`. Range
//! types are `TYPE`s there. Conversions are not modelled (the catalog net reads them): only
//! the owner of one both sides have is changed, never one the plan cannot create.

use super::super::catalog::{self, ObjectId};
use super::super::model::Model;
use super::partitions::do_block;
use super::sql::lit;
use super::{Cx, HazardKind, Phase, Stmt};

/// The kinds, as `ALTER <kind>` spells them.
const KINDS: [&str; 7] = [
    "AGGREGATE",
    "OPERATOR",
    "COLLATION",
    "CONVERSION",
    "TEXT SEARCH DICTIONARY",
    "TEXT SEARCH CONFIGURATION",
    "STATISTICS",
];

/// `OPERATOR public.===(integer, integer)` → (`OPERATOR`, `public.===(integer, integer)`).
pub(super) fn split_key(key: &str) -> Option<(&'static str, &str)> {
    KINDS.into_iter().find_map(|kind| {
        key.strip_prefix(kind)
            .and_then(|r| r.strip_prefix(' '))
            .map(|rest| (kind, rest))
    })
}

/// Whether `m` has the object `name` of one of these kinds (`None`: not one of them).
pub(super) fn exists(kind: &str, name: &str, m: &Model) -> Option<bool> {
    Some(match kind {
        "AGGREGATE" => m.aggregates.contains_key(name),
        "OPERATOR" => m.operators.contains_key(name),
        "COLLATION" => m.collations.contains_key(name),
        "CONVERSION" => m.catalog.as_ref().is_some_and(|c| {
            c.contains_key(&ObjectId {
                kind: catalog::kind("conversion"),
                parent: "".into(),
                name: name.into(),
            })
        }),
        "TEXT SEARCH DICTIONARY" => m.ts_dictionaries.contains_key(name),
        "TEXT SEARCH CONFIGURATION" => m.ts_configs.contains_key(name),
        "STATISTICS" => m.statistics.contains_key(name),
        _ => return None,
    })
}

/// Whether the plan cannot create an object of `kind` (its owner is changed only where it
/// exists already).
pub(super) fn never_created(kind: &str) -> bool {
    kind == "CONVERSION"
}

/// An object's name as `ALTER <kind>` takes it: an aggregate without arguments is `agg(*)`.
pub(super) fn spelled<'n>(kind: &str, name: &'n str) -> std::borrow::Cow<'n, str> {
    match name.strip_suffix("()") {
        Some(bare) if kind == "AGGREGATE" => format!("{bare}(*)").into(),
        _ => name.into(),
    }
}

/// What `GRANT`/`REVOKE … ON` names an aggregate by: `FUNCTION name(types)`, its argument
/// types in one list (an ordered-set aggregate's `ORDER BY` is not allowed there). `None`
/// for a `VARIADIC … ORDER BY VARIADIC …` (hypothetical-set) one, whose list is not that.
pub(super) fn aggregate_target(name: &str) -> Option<String> {
    if name.contains(" ORDER BY VARIADIC ") {
        return None;
    }
    Some(format!("FUNCTION {}", name.replacen(" ORDER BY ", ", ", 1)))
}

/// The multirange of range type `range` in `m`'s catalog, and its owner (`=`: the role
/// introspection ran as).
fn multirange_owner<'m>(m: &'m Model, range: &str) -> Option<(&'m str, &'m str)> {
    let (id, aspects) = m.catalog.as_ref()?.iter().find(|(id, _)| {
        id.kind == "range type part" && &*id.parent == range && id.name.starts_with("TYPE ")
    })?;
    Some((id.name.strip_prefix("TYPE ")?, aspects[2].as_deref()?))
}

/// Multiranges' owners. PostgreSQL 14 and 15 keep a multirange's owner when its range's
/// changes (found by an outside attacker, N19), and let it be changed apart; 16 on moves it
/// with the range and refuses that. So each multirange whose owner is not the desired one
/// once the ranges' owners are set is given it: on 16 and later, never (its range's was).
pub(super) fn multiranges(x: &mut Cx<'_>) {
    for (r, def) in &x.b.ranges {
        let Some((multi, owner)) = multirange_owner(x.b, r) else {
            continue;
        };
        let before = if x.a.ranges.get(r) == Some(def) {
            multirange_owner(x.a, r)
                .filter(|(m, _)| *m == multi)
                .map(|(_, o)| o)
        } else {
            Some("=")
        };
        if before == Some(owner) {
            continue;
        }
        let (to, oid) = if owner == "=" {
            (
                "CURRENT_USER".to_owned(),
                "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)".to_owned(),
            )
        } else {
            (owner.to_owned(), format!("{}::regrole", lit(owner)))
        };
        let sql = do_block(&format!(
            "BEGIN IF (SELECT typowner FROM pg_catalog.pg_type WHERE oid = {m}::regtype) <> {oid} \
             THEN EXECUTE {alter}; END IF; END",
            m = lit(multi),
            alter = lit(&format!("ALTER TYPE {multi} OWNER TO {to}")),
        ));
        x.push(Stmt::new(Phase::SecurityAndTriggers, sql).hazard(
            HazardKind::AuthzUpdate,
            format!("TYPE {multi} (the multirange of {r}): owner → {to}: the new owner gains every privilege on it, the old one loses those it had as the owner"),
        ));
    }
}

//! User-defined casts: created once the functions they call exist (after those created
//! again too), dropped before those go. A cast whose method or context changes is dropped
//! and created again right away, in one transaction.

use super::super::model::{DepKey, Model};
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for k in a.casts.keys().filter(|k| !b.casts.contains_key(*k)) {
        x.push(
            Stmt::new(Phase::DropEventTriggersAndCasts, format!("DROP CAST {k}")).hazard(
                HazardKind::UntrackableDependencies,
                format!("queries and functions converting {k} fail or resolve to another conversion once the cast is gone"),
            ),
        );
    }
    for (k, def) in &b.casts {
        match a.casts.get(k) {
            Some(old) if old == def => {}
            Some(old) => {
                if stale_users(x, k, old, def) {
                    // Left as it is: the refusal stands until the users are re-created.
                    continue;
                }
                x.simple(Phase::CreateCasts, format!("DROP CAST {k}"));
                x.simple(Phase::CreateCasts, format!("CREATE CAST {k} {def}"));
                // Its comment goes with it: written again (`comments`).
                x.recreated.insert(format!("CAST {k}"));
            }
            None => x.simple(Phase::CreateCasts, format!("CREATE CAST {k} {def}")),
        }
    }
}

/// The function a cast calls (`WITH FUNCTION f(args)`), if any.
fn cast_function(def: &str) -> Option<DepKey> {
    let f = def.strip_prefix("WITH FUNCTION ")?;
    let f = f.strip_suffix(" AS ASSIGNMENT").unwrap_or(f);
    let f = f.strip_suffix(" AS IMPLICIT").unwrap_or(f);
    Some(DepKey::Fn(f.to_owned()))
}

/// A cast that changes its function while views, defaults, CHECKs, indexes, policies or
/// triggers on both sides apply it: Postgres records no dependency on a cast, only on its
/// function, so they keep calling the old one after `DROP CAST` / `CREATE CAST`, and both
/// sides deparse alike (`(x)::integer`). Found where the object's dependency on the old
/// function exists only in the current schema, or on the new one only in the desired schema
/// (an object that calls a function by name depends on it on both sides). Refused: the plan
/// does not re-create them (attack12 N10), and the cast is left as it is. Returns whether it
/// refused.
fn stale_users(x: &mut Cx<'_>, k: &str, old: &str, def: &str) -> bool {
    let (a, b) = (x.a, x.b);
    let (was, will) = (cast_function(old), cast_function(def));
    let on = |m: &Model, obj: &DepKey, f: &Option<DepKey>| {
        f.as_ref()
            .is_some_and(|f| m.deps.get(obj).is_some_and(|d| d.contains(f)))
    };
    let users: Vec<String> = b
        .deps
        .keys()
        .filter(|obj| a.deps.contains_key(*obj))
        .filter(|obj| {
            (on(a, obj, &was) && !on(b, obj, &was)) || (on(b, obj, &will) && !on(a, obj, &will))
        })
        .map(ToString::to_string)
        .collect();
    if !users.is_empty() {
        x.unsupported(format!(
            "cast {k} changes how it converts ({old} → {def}) while {} apply it: Postgres keeps the old conversion in what it stored (it records no dependency on a cast), and the plan does not re-create them: the cast is left unchanged. Change it and re-create them after the cast in the same migration",
            users.join(", ")
        ));
    }
    !users.is_empty()
}

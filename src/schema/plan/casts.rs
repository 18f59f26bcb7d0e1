//! User-defined casts: created once the functions they call exist (after those created
//! again too), dropped before those go. A cast whose method or context changes is dropped
//! and created again right away, in one transaction.

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
            Some(_) => {
                x.simple(Phase::CreateCasts, format!("DROP CAST {k}"));
                x.simple(Phase::CreateCasts, format!("CREATE CAST {k} {def}"));
                // Its comment goes with it: written again (`comments`).
                x.recreated.insert(format!("CAST {k}"));
            }
            None => x.simple(Phase::CreateCasts, format!("CREATE CAST {k} {def}")),
        }
    }
}

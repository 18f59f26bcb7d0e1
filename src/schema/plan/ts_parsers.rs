//! Text search parsers and templates: made of functions (C functions, usually of a library
//! the server has), created after them and before the configurations and dictionaries that
//! use them, dropped after those and before the functions. Neither can be altered: one whose
//! functions change is refused, naming it.

use std::collections::BTreeMap;

use super::{Cx, HazardKind, Phase, Stmt};

/// (`PARSER`/`TEMPLATE`, the model's map) of both kinds in `m`.
fn kinds(m: &super::Model) -> [(&'static str, &BTreeMap<String, String>); 2] {
    [("TEMPLATE", &m.ts_templates), ("PARSER", &m.ts_parsers)]
}

/// Before the dictionaries and configurations are created.
pub(super) fn create(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for ((kind, old), (_, new)) in kinds(a).into_iter().zip(kinds(b)) {
        for (k, def) in new {
            match old.get(k) {
                None => x.push(
                    Stmt::new(
                        Phase::CreateTsDictionaries,
                        format!("CREATE TEXT SEARCH {kind} {k} {def}"),
                    )
                    .hazard(
                        HazardKind::Correctness,
                        format!("creating a text search {} needs a superuser: it fails for any other role (on Neon, every role)", kind.to_lowercase()),
                    ),
                ),
                Some(was) if was != def => x.unsupported(format!(
                    "text search {} {k}: its functions change ({was} → {def}) — a text search {} cannot be altered; write this change by hand",
                    kind.to_lowercase(),
                    kind.to_lowercase()
                )),
                Some(_) => {}
            }
        }
    }
}

/// After the dictionaries and configurations that use them are dropped.
pub(super) fn drop_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for ((kind, old), (_, new)) in kinds(a).into_iter().zip(kinds(b)) {
        for k in old.keys().filter(|k| !new.contains_key(*k)) {
            x.push(
                Stmt::new(
                    Phase::DropTsDictionaries,
                    format!("DROP TEXT SEARCH {kind} {k}"),
                )
                .hazard(
                    HazardKind::Correctness,
                    format!(
                        "dropping a text search {} needs a superuser",
                        kind.to_lowercase()
                    ),
                ),
            );
        }
    }
}

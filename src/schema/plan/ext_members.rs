//! A user type or function whose name an extension the plan creates provides (a domain
//! `citext` before `CREATE EXTENSION citext`, a function `similarity(text, text)` before
//! `pg_trgm`: attack ex_user2ext). The user object is dropped in its own phase, before the
//! extension is created (`CREATE EXTENSION` fails on "already exists"), when nothing else uses
//! it; otherwise the change is refused, naming what uses it, and both the user object and
//! the extension are left out of the plan (never half of the change).

use super::super::model::{DepKey, Model};
use super::{Cx, HazardKind, Phase, Stmt};

/// A user object of `a` that a new extension of `b` provides.
struct Taken {
    /// The extension.
    ext: String,
    /// The user object's key in `a`.
    key: DepKey,
    /// `DOMAIN public.citext`, `FUNCTION public.similarity(text, text)`.
    what: String,
}

fn taken(a: &Model, b: &Model) -> Vec<Taken> {
    let mut out = Vec::new();
    for (ext, e) in &b.extensions {
        if a.extensions.contains_key(ext) {
            continue;
        }
        for m in &e.members {
            if let Some(t) = m.strip_prefix("type:") {
                let word = if a.domains.contains_key(t) {
                    "DOMAIN"
                } else if a.enums.contains_key(t)
                    || a.composites.contains_key(t)
                    || a.ranges.contains_key(t)
                {
                    "TYPE"
                } else {
                    continue;
                };
                out.push(Taken {
                    ext: ext.clone(),
                    key: DepKey::Type(t.to_owned()),
                    what: format!("{word} {t}"),
                });
            } else if let Some(sig) = m.strip_prefix("fn:") {
                for (k, f) in a.functions.iter().filter(|(_, f)| f.signature == sig) {
                    out.push(Taken {
                        ext: ext.clone(),
                        key: DepKey::Fn(k.clone()),
                        what: format!("{} {k}", f.kind.keyword()),
                    });
                }
            }
        }
    }
    out
}

/// What else in `a` uses `key`.
fn users(a: &Model, key: &DepKey) -> Vec<String> {
    a.deps
        .iter()
        .filter(|(d, ds)| *d != key && ds.contains(key))
        .map(|(d, _)| d.to_string())
        .collect()
}

fn remove(m: &mut Model, key: &DepKey) {
    match key {
        DepKey::Type(t) => {
            m.domains.remove(t);
            m.enums.remove(t);
            m.composites.remove(t);
            m.ranges.remove(t);
        }
        DepKey::Fn(f) => {
            m.functions.remove(f);
        }
        _ => {}
    }
}

/// The early drops: (statement, whether it drops a function).
pub(super) type Drops = Vec<(String, bool)>;

/// The early drops, and copies of the models without the taken objects (and without the
/// extensions refused) — `None` when nothing is taken (the common case: nothing is copied).
pub(super) fn prune(
    a: &Model,
    b: &Model,
    unsupported: &mut Vec<String>,
) -> Option<(Model, Model, Drops)> {
    let found = taken(a, b);
    if found.is_empty() {
        return None;
    }
    let (mut pa, mut pb) = (a.clone(), b.clone());
    let mut drops: Drops = Vec::new();
    let mut refused: Vec<&str> = Vec::new();
    for t in &found {
        let users = users(a, &t.key);
        if users.is_empty() {
            continue;
        }
        unsupported.push(format!(
            "extension {}: it provides {}, which the current schema defines itself, and {} use(s) it: the user object must be dropped before the extension is created — not supported by the schema engine; write this change by hand (move what uses it to the extension's object, or drop it, first)",
            t.ext,
            t.what,
            users.join(", ")
        ));
        refused.push(&t.ext);
    }
    for t in &found {
        if refused.contains(&t.ext.as_str()) {
            // Left alone: the user object stays, the extension is not created.
            pb.extensions.remove(&t.ext);
        } else {
            drops.push((format!("DROP {}", t.what), matches!(t.key, DepKey::Fn(_))));
        }
        remove(&mut pa, &t.key);
    }
    Some((pa, pb, drops))
}

/// Pushes the early drops: before the extensions are created.
pub(super) fn push(x: &mut Cx<'_>, drops: Drops) {
    for (sql, function) in drops {
        let stmt = Stmt::new(Phase::DropForExtensions, sql);
        x.push(if function {
            stmt.hazard(
                HazardKind::UntrackableDependencies,
                "an extension created by the plan provides a function of the same name: the user's function is dropped first; callers are not tracked by Postgres",
            )
        } else {
            stmt
        });
    }
}

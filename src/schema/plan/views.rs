//! Views and materialized views: dropped (dependents first) when they go or change or sit on
//! something that changes shape, created again (dependencies first) after the tables.

use std::collections::BTreeSet;

use super::super::model::DepKey;
use super::graph::topo;
use super::{Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let drop: Vec<DepKey> = a
        .views
        .keys()
        .map(|k| DepKey::Rel(k.clone()))
        .filter(|k| match k {
            DepKey::Rel(v) => !b.views.contains_key(v) || x.ch.recreate_views.contains(k),
            _ => false,
        })
        // What goes over their row types, before them (see `rowtypes`).
        .chain(x.ch.drop_with_views.iter().cloned())
        .collect();
    let mut ordered = topo(&drop, &a.deps);
    ordered.reverse();
    for key in &ordered {
        let DepKey::Rel(k) = key else {
            super::rowtypes::drop(x, key, Phase::DropViews);
            continue;
        };
        let what = if a.views[k].materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        let drop = Stmt::new(Phase::DropViews, format!("DROP {what} {k}"));
        // Created again: missing until then (see `early`).
        x.push(if b.views.contains_key(k) {
            drop.opens(format!("REBUILT {what} {k}"))
        } else {
            drop
        });
    }

    let create: Vec<DepKey> = b
        .views
        .keys()
        .map(|k| DepKey::Rel(k.clone()))
        .filter(|k| match k {
            DepKey::Rel(v) => !a.views.contains_key(v) || x.ch.recreate_views.contains(k),
            _ => false,
        })
        .chain(x.ch.view_fns.iter().cloned())
        .collect();
    let mut early = BTreeSet::new();
    for key in topo(&create, &b.deps) {
        if let DepKey::Fn(f) = &key {
            // A function whose SQL-standard body reads a new view: after it.
            if let Some(s) = super::functions::create(x, f, Phase::CreateViews) {
                x.push(s);
            }
            continue;
        }
        let DepKey::Rel(k) = &key else { continue };
        let v = &b.views[k];
        let rebuilt = a.views.contains_key(k);
        let phase = if rebuilt && is_early(x, k, &early) {
            early.insert(k.clone());
            Phase::RecreateViews
        } else {
            Phase::CreateViews
        };
        let what = if v.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        // Read by its grantees with its owner's privileges: what it newly reads (see
        // `exposure`) is theirs to read too.
        let exposed = super::exposure::view(x, k);
        let closes = |s: Stmt| {
            let s = match &exposed {
                Some(m) => s.hazard(HazardKind::AuthzUpdate, m.clone()),
                None => s,
            };
            if rebuilt {
                s.closes(format!("REBUILT {what} {k}"))
            } else {
                s
            }
        };
        let body = v.definition.trim().trim_end_matches(';');
        let mut with = if v.options.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", v.options.join(", "))
        };
        if let Some(am) = &v.access_method {
            with = format!(" USING {am}{with}");
        }
        if let Some(space) = &v.tablespace {
            with = format!("{with} TABLESPACE {space}");
        }
        if v.materialized && !v.populated {
            x.push(closes(Stmt::new(
                phase,
                format!("CREATE MATERIALIZED VIEW {k}{with} AS\n{body}\nWITH NO DATA"),
            )));
        } else if v.materialized {
            x.push(closes(
                Stmt::new(
                    phase,
                    format!("CREATE MATERIALIZED VIEW {k}{with} AS\n{body}"),
                )
                .opens(format!("MATERIALIZED VIEW {k}"))
                .hazard(
                    HazardKind::IndexBuild,
                    "the materialized view is populated: it runs its query once",
                )
                .long(),
            ));
        } else {
            let create = if v.self_seed.is_empty() {
                Stmt::new(phase, format!("CREATE VIEW {k}{with} AS\n{body}"))
                    .opens(format!("VIEW {k}"))
            } else {
                // It reads itself: created with its columns first, then given its definition.
                let seed = format!("CREATE VIEW {k} AS SELECT {}", v.self_seed.join(", "));
                x.push(Stmt::new(phase, seed).opens(format!("VIEW {k}")));
                Stmt::new(
                    phase,
                    format!("CREATE OR REPLACE VIEW {k}{with} AS\n{body}"),
                )
            };
            let mut stmt = closes(create);
            for lost in security_lost(a.views.get(k).map(|o| &o.options[..]), &v.options) {
                stmt = stmt.hazard(HazardKind::AuthzUpdate, format!("view {k} {lost}"));
            }
            x.push(stmt);
        }
        // What a created view does not carry: its column defaults.
        for (c, d) in &v.column_defaults {
            x.simple(
                phase,
                format!("ALTER VIEW {k} ALTER COLUMN {c} SET DEFAULT {d}"),
            );
        }
    }
    refresh(x);
    column_defaults(x);
}

/// Whether the view `k`, dropped and created again, can be created again right after the
/// tables change ([`Phase::RecreateViews`]) rather than after the keys, checks and indexes:
/// a plain view whose every dependency is there by then — tables, columns, types, functions
/// A already has as they are, and views created early too (or kept). Its drop … create then
/// spans only what forced it, and no concurrent index build (attack8 F-view-window).
fn is_early(x: &Cx<'_>, k: &str, early: &BTreeSet<String>) -> bool {
    let (a, b) = (x.a, x.b);
    if b.views[k].materialized {
        return false;
    }
    let deps = b.deps.get(&DepKey::Rel(k.to_owned()));
    deps.into_iter().flatten().all(|d| match d {
        DepKey::Rel(r) if b.views.contains_key(r) => {
            early.contains(r) || (a.views.contains_key(r) && !x.ch.recreate_views.contains(d))
        }
        DepKey::Rel(_) | DepKey::Col(_) | DepKey::Type(_) => true,
        DepKey::Fn(f) => a
            .functions
            .get(f)
            .zip(b.functions.get(f))
            .is_some_and(|(o, n)| o.definition == n.definition),
        _ => false,
    })
}

/// What a view that stays loses of its security options: without `security_invoker` it reads
/// its tables with its owner's privileges (and past their row-level security policies) for
/// every caller; without `security_barrier` a caller's function sees the rows its conditions
/// filter out.
fn security_lost(old: Option<&[String]>, new: &[String]) -> Vec<&'static str> {
    let Some(old) = old else {
        return Vec::new();
    };
    let on = super::exposure::option_on;
    let mut out = Vec::new();
    if on(old, "security_invoker") && !on(new, "security_invoker") {
        out.push("loses security_invoker: it reads its tables with its owner's privileges, past their row-level security, for every caller");
    }
    if on(old, "security_barrier") && !on(new, "security_barrier") {
        out.push("loses security_barrier: a caller's function may see the rows its conditions filter out");
    }
    out
}

/// A view kept as it is whose column defaults change: `SET` / `DROP DEFAULT` in place (a view
/// created again gets its defaults with its `CREATE`, above).
fn column_defaults(x: &mut Cx<'_>) {
    for (k, v) in &x.b.views {
        let Some(old) = x.a.views.get(k) else {
            continue;
        };
        if old.column_defaults == v.column_defaults
            || x.ch.recreate_views.contains(&DepKey::Rel(k.clone()))
        {
            continue;
        }
        let had = |c: &str| old.column_defaults.iter().find(|(o, _)| o == c);
        for (c, d) in &v.column_defaults {
            if had(c).is_none_or(|(_, od)| od != d) {
                let sql = format!("ALTER VIEW {k} ALTER COLUMN {c} SET DEFAULT {d}");
                x.simple(Phase::CreateViews, sql);
            }
        }
        for (c, _) in &old.column_defaults {
            if !v.column_defaults.iter().any(|(n, _)| n == c) {
                let sql = format!("ALTER VIEW {k} ALTER COLUMN {c} DROP DEFAULT");
                x.simple(Phase::CreateViews, sql);
            }
        }
    }
}

/// A materialized view kept but populated on one side only: `REFRESH` it (`WITH NO DATA`
/// empties it).
fn refresh(x: &mut Cx<'_>) {
    for (k, v) in &x.b.views {
        let Some(old) = x.a.views.get(k) else {
            continue;
        };
        if old.populated == v.populated || x.ch.recreate_views.contains(&DepKey::Rel(k.clone())) {
            continue;
        }
        if v.populated {
            x.push(
                Stmt::new(Phase::CreateViews, format!("REFRESH MATERIALIZED VIEW {k}"))
                    .hazard(
                        HazardKind::IndexBuild,
                        "the materialized view is populated: it runs its query once",
                    )
                    .long(),
            );
        } else {
            let sql = format!("REFRESH MATERIALIZED VIEW {k} WITH NO DATA");
            x.simple(Phase::CreateViews, sql);
        }
    }
}

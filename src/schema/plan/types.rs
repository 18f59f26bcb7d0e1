//! Types: enums, domains, composite types and range types.

use super::super::model::{DepKey, Domain, Model};
use super::super::split_qualified;
use super::graph::topo;
use super::sql::{is_subsequence, lit, old_name, strip_not_valid};
use super::{composites, h, Cx, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    create(x);
    alter_enums(x);
    alter_domains(x);
    alter_composites(x);
    alter_ranges(x);
    drop_gone(x);
}

/// A range type cannot be altered: a new definition is refused.
fn alter_ranges(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, def) in &b.ranges {
        if a.ranges.get(k).is_some_and(|old| old != def) {
            x.unsupported(format!(
                "range type {k}: definition changed — a range type cannot be altered; drop and recreate it by hand"
            ));
        }
    }
}

/// The types of `m` not in `other`, as keys.
fn types_not_in(m: &Model, other: &Model) -> Vec<DepKey> {
    let mut keys: Vec<DepKey> = Vec::new();
    keys.extend(
        m.enums
            .keys()
            .filter(|k| !other.enums.contains_key(*k))
            .map(|k| DepKey::Type(k.clone())),
    );
    keys.extend(
        m.domains
            .keys()
            .filter(|k| !other.domains.contains_key(*k))
            .map(|k| DepKey::Type(k.clone())),
    );
    keys.extend(
        m.composites
            .keys()
            .filter(|k| !other.composites.contains_key(*k))
            .map(|k| DepKey::Type(k.clone())),
    );
    keys.extend(
        m.ranges
            .keys()
            .filter(|k| !other.ranges.contains_key(*k))
            .map(|k| DepKey::Type(k.clone())),
    );
    keys.sort();
    keys
}

fn create(x: &mut Cx<'_>) {
    let b = x.b;
    for key in topo(&types_not_in(b, x.a), &b.deps) {
        let DepKey::Type(k) = &key else { continue };
        if x.ch.late_types.contains(k) {
            // Over a new table's row type: among the tables (`tables::create`).
            continue;
        }
        if let Some(labels) = b.enums.get(k) {
            let list = labels.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ");
            x.push(
                Stmt::new(
                    Phase::CreateTypes,
                    format!("CREATE TYPE {k} AS ENUM ({list})"),
                )
                .opens(format!("TYPE {k}")),
            );
        } else if b.domains.contains_key(k) || b.composites.contains_key(k) {
            create_late(x, k, Phase::CreateTypes);
        } else if b.ranges.contains_key(k) && !late_range(x.a, b, &key) {
            create_range(x, k, Phase::CreateTypes);
        }
    }
}

/// Creates the new domain or composite type `k` of B in `phase` (`CreateTypes`, or
/// `CreateTables` among the tables for one over a new table's row type).
pub(super) fn create_late(x: &mut Cx<'_>, k: &str, phase: Phase) {
    let b = x.b;
    if let Some(d) = b.domains.get(k) {
        create_new_domain(x, k, d, phase);
    } else if let Some(attrs) = b.composites.get(k) {
        let list = attrs
            .iter()
            .map(|(n, t)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        x.push(Stmt::new(phase, format!("CREATE TYPE {k} AS ({list})")).opens(format!("TYPE {k}")));
    }
}

/// `CREATE TYPE k AS RANGE`: its constructors, multirange and array types come with it.
pub(super) fn create_range(x: &mut Cx<'_>, k: &str, phase: Phase) {
    if let Some(def) = x.b.ranges.get(k) {
        x.simple(phase, format!("CREATE TYPE {k} AS RANGE {def}"));
    }
}

/// Whether `key` is a range type of `b` that `a` lacks and whose definition names a function
/// `a` lacks (`subtype_diff`, `canonical`): Postgres resolves it when the range is created,
/// so the range is created among the functions, after it (attack F25 o_range_newfn).
pub(super) fn late_range(a: &Model, b: &Model, key: &DepKey) -> bool {
    let DepKey::Type(k) = key else { return false };
    b.ranges.contains_key(k)
        && !a.ranges.contains_key(k)
        && b.deps.get(key).is_some_and(|ds| {
            ds.iter()
                .any(|d| matches!(d, DepKey::Fn(f) if !a.functions.contains_key(f)))
        })
}

/// A new domain. One whose CHECK or DEFAULT calls a function the plan creates or replaces is
/// created bare, and those are given after the functions: Postgres resolves the call when
/// the domain is created, and the function may itself take the domain (`f(x dom)`).
fn create_new_domain(x: &mut Cx<'_>, k: &str, d: &Domain, base: Phase) {
    let phase = super::domain_checks::phase(x, k).max(base);
    let late = phase > base
        && phase != Phase::AddDomainChecks
        && (d.default.is_some() || !d.checks.is_empty());
    if !late {
        x.push(Stmt::new(base, create_domain(k, d)).opens(format!("DOMAIN {k}")));
        return;
    }
    let bare = Domain {
        default: None,
        checks: Default::default(),
        ..d.clone()
    };
    x.push(Stmt::new(base, create_domain(k, &bare)).opens(format!("DOMAIN {k}")));
    if let Some(def) = &d.default {
        x.simple(phase, format!("ALTER DOMAIN {k} SET DEFAULT {def}"));
    }
    for (n, c) in &d.checks {
        x.simple(phase, format!("ALTER DOMAIN {k} ADD CONSTRAINT {n} {c}"));
    }
}

fn create_domain(k: &str, d: &Domain) -> String {
    let mut s = format!("CREATE DOMAIN {k} AS {}", d.base);
    if let Some(c) = &d.collation {
        s.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(def) = &d.default {
        s.push_str(&format!(" DEFAULT {def}"));
    }
    if d.not_null {
        s.push_str(" NOT NULL");
    }
    for (n, c) in &d.checks {
        s.push_str(&format!(" CONSTRAINT {n} {c}"));
    }
    s
}

/// New values are added in place; an enum whose values are removed or reordered is renamed
/// away, created again, and the old one dropped once the columns moved over.
fn alter_enums(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, labels) in &b.enums {
        let Some(old) = a.enums.get(k) else { continue };
        if old == labels {
            continue;
        }
        if is_subsequence(old, labels) {
            add_enum_values(x, k, old, labels);
        } else if x.ch.recreated_enums.contains(k) {
            recreate_enum(x, k, old, labels);
        }
        // Otherwise reported as unsupported by the analysis.
    }
}

fn add_enum_values(x: &mut Cx<'_>, k: &str, old: &[String], labels: &[String]) {
    for (i, l) in labels.iter().enumerate() {
        if old.contains(l) {
            continue;
        }
        let place = match labels[i + 1..].iter().find(|n| old.contains(n)) {
            Some(next) => format!(" BEFORE {}", lit(next)),
            // After the value just before it, old or added by the statement before: several
            // values added after the last old one keep their order (each AFTER the last old
            // value would put them in reverse).
            None => match i.checked_sub(1).map(|p| &labels[p]) {
                Some(prev) => format!(" AFTER {}", lit(prev)),
                None => String::new(),
            },
        };
        // Not in a transaction: a later statement using the new value would fail.
        x.push(
            Stmt::new(
                Phase::AddEnumValues,
                format!("ALTER TYPE {k} ADD VALUE {}{place}", lit(l)),
            )
            .outside_txn(),
        );
    }
}

fn recreate_enum(x: &mut Cx<'_>, k: &str, old: &[String], labels: &[String]) {
    let old_name = super::tempnames::relation(x, &old_name(k, "__neon_migrate_old"), k);
    let list = labels.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ");
    x.simple(
        Phase::RecreateEnums,
        format!("ALTER TYPE {k} RENAME TO {}", crate::pg::ident(&old_name)),
    );
    let mut create = Stmt::new(
        Phase::RecreateEnums,
        format!("CREATE TYPE {k} AS ENUM ({list})"),
    )
    .opens(format!("TYPE {k}"));
    for removed in old.iter().filter(|l| !labels.contains(l)) {
        create = create.hazard(
            HazardKind::Correctness,
            format!(
                "value {} is removed: rows holding it make the column retype fail",
                lit(removed)
            ),
        );
    }
    x.push(create);
    x.recreated.insert(format!("TYPE {k}"));
    let schema = split_qualified(k).map(|(s, _)| s).unwrap_or("public");
    x.simple(
        Phase::DropFunctions,
        format!("DROP TYPE {schema}.{}", crate::pg::ident(&old_name)),
    );
}

fn alter_domains(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, d) in &b.domains {
        let Some(old) = a.domains.get(k) else {
            continue;
        };
        if old.base != d.base || old.collation != d.collation {
            x.unsupported(format!(
                "domain {k}: base type or collation changed — drop and recreate it by hand"
            ));
            continue;
        }
        if super::domain_checks::refuse_in_container(x, k, old, d) {
            continue;
        }
        if old.default != d.default {
            // After the functions when it may call one the plan creates or replaces.
            let phase = match super::domain_checks::phase(x, k) {
                Phase::AddDomainChecks => Phase::AlterTypes,
                late => late,
            };
            match &d.default {
                Some(def) => x.simple(phase, format!("ALTER DOMAIN {k} SET DEFAULT {def}")),
                None => x.simple(Phase::AlterTypes, format!("ALTER DOMAIN {k} DROP DEFAULT")),
            }
        }
        if old.not_null != d.not_null {
            let verb = if d.not_null { "SET" } else { "DROP" };
            let hz = if d.not_null {
                vec![h(
                    HazardKind::Correctness,
                    "fails if a column of this domain holds NULL",
                )]
            } else {
                Vec::new()
            };
            x.push(
                Stmt::new(
                    Phase::AlterTypes,
                    format!("ALTER DOMAIN {k} {verb} NOT NULL"),
                )
                .hazards(hz)
                .long(),
            );
        }
        alter_domain_checks(x, k, old, d);
    }
}

fn alter_domain_checks(x: &mut Cx<'_>, k: &str, old: &Domain, d: &Domain) {
    for (n, c) in &old.checks {
        if d.checks.get(n) != Some(c) {
            x.simple(
                Phase::AlterTypes,
                format!("ALTER DOMAIN {k} DROP CONSTRAINT {n}"),
            );
        }
    }
    for (n, c) in &d.checks {
        if old.checks.get(n) == Some(c) {
            continue;
        }
        // Dropped and added again: its comment went with it.
        x.recreated.insert(format!("CONSTRAINT {n} ON DOMAIN {k}"));
        let phase = super::domain_checks::phase(x, k);
        x.simple(
            phase,
            format!(
                "ALTER DOMAIN {k} ADD CONSTRAINT {n} {} NOT VALID",
                strip_not_valid(c)
            ),
        );
        if c.ends_with(" NOT VALID") {
            continue;
        }
        x.push(
            Stmt::new(phase, format!("ALTER DOMAIN {k} VALIDATE CONSTRAINT {n}"))
                .hazard(
                    HazardKind::Correctness,
                    "fails if existing values violate the new domain constraint",
                )
                .long(),
        );
    }
}

fn alter_composites(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    for (k, attrs) in &b.composites {
        let Some(old) = a.composites.get(k) else {
            continue;
        };
        if let Some((after, desired)) = composites::order_differs(old, attrs) {
            x.unsupported(format!(
                "composite type {k}: the attribute order differs ({} → {}): attributes cannot be reordered in place (an added one comes last) — review this change by hand",
                after.join(", "),
                desired.join(", ")
            ));
        }
        let phase = composites::phase(a, x.b, k);
        for (n, t) in old {
            match attrs.iter().find(|(m, _)| m == n) {
                None => {
                    let action = format!("DROP ATTRIBUTE {n}");
                    match super::typed::cascade(x, k, n, &action) {
                        Some(s) => x.push(s),
                        None => x.push(composites::drop_attribute(a, k, n, phase)),
                    }
                }
                Some((_, nt)) if nt != t => {
                    let stored = composites::stored_in(a, k);
                    let action = format!("ALTER ATTRIBUTE {n} TYPE {nt}");
                    if let Some(s) = super::typed::cascade(x, k, n, &action) {
                        x.push(s);
                    } else if stored.is_empty() {
                        x.simple(phase, format!("ALTER TYPE {k} {action}"));
                    } else {
                        x.unsupported(format!(
                            "composite type {k}: attribute {n} changes type ({t} → {nt}), but column {} stores the type and Postgres cannot change an attribute's type under it — not supported by the schema engine; write this change by hand",
                            stored.join(", ")
                        ));
                    }
                }
                _ => {}
            }
        }
        for (n, t) in attrs {
            if !old.iter().any(|(m, _)| m == n) {
                let action = format!("ADD ATTRIBUTE {n} {t}");
                match super::typed::cascade(x, k, n, &action) {
                    Some(s) => x.push(s),
                    None => x.simple(Phase::AlterTypes, format!("ALTER TYPE {k} {action}")),
                }
            }
        }
    }
}

/// Types that go, after everything that used them.
fn drop_gone(x: &mut Cx<'_>) {
    let a = x.a;
    let mut order = topo(&types_not_in(a, x.b), &a.deps);
    order.reverse();
    for key in order {
        let DepKey::Type(k) = &key else { continue };
        if !super::rowtypes::dropped_with_relations(x, &key) {
            drop_one(x, k, Phase::DropTypes);
        }
    }
}

/// Drops type `k` of A in `phase`.
pub(super) fn drop_one(x: &mut Cx<'_>, k: &str, phase: Phase) {
    let what = if x.a.domains.contains_key(k) {
        "DOMAIN"
    } else {
        "TYPE"
    };
    x.simple(phase, format!("DROP {what} {k}"));
}

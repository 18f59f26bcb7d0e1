//! A PRIMARY KEY or UNIQUE constraint whose definition changes (INCLUDE columns, storage
//! parameters) on columns that stay as they are: its new index is built concurrently under a
//! temporary name while the old constraint keeps serving, and only then swapped in — the
//! foreign keys on it dropped, the old constraint dropped, the new one attached
//! (`ADD … USING INDEX`, which renames the index), the foreign keys added again `NOT VALID`
//! and the replica identity set again, all in one short transaction ([`super::windows`]).
//! Dropping first would leave the table without its key, its foreign keys and its replica
//! identity for the whole build.

use std::collections::BTreeSet;

use super::super::model::ConstraintKind::{ForeignKey, PrimaryKey, Unique};
use super::super::model::{Constraint, DepKey, TableKind};
use super::super::{quote_ident, split_qualified};
use super::sql::{old_name, strip_not_valid, unique_index_columns};
use super::{Cx, HazardKind, Phase, Stmt};

/// Whether the key `name` of table `tk` is swapped (see the module): it changes, stays a key
/// of the same kind, and no column its old or new definition names changes.
pub(super) fn swapped(x: &Cx<'_>, tk: &str, name: &str) -> bool {
    let (Some(t), Some(nt)) = (x.a.tables.get(tk), x.b.tables.get(tk)) else {
        return false;
    };
    let (Some(o), Some(n)) = (t.constraints.get(name), nt.constraints.get(name)) else {
        return false;
    };
    if !x.o.online
        || !matches!(o.kind, PrimaryKey | Unique)
        || o.kind != n.kind
        || strip_not_valid(&o.definition) == strip_not_valid(&n.definition)
        || nt.kind != TableKind::Table
        || t.kind != TableKind::Table
        || unique_index_columns(&n.definition).is_none()
    {
        return false;
    }
    let words: BTreeSet<&str> = o
        .definition
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
        .chain(
            n.definition
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"')),
        )
        .collect();
    t.columns.iter().all(|c| {
        let named =
            words.contains(c.name.as_str()) || words.contains(crate::pg::ident(&c.name).as_str());
        !named
            || nt.column(&c.name).is_some_and(|m| {
                m.data_type == c.data_type
                    && m.collation == c.collation
                    && m.generated == c.generated
            })
    })
}

/// The foreign keys (table, name) of A that rest on the key `name` of table `tk`.
pub(super) fn fks_on(x: &Cx<'_>, tk: &str, name: &str) -> Vec<(String, String)> {
    let schema = split_qualified(tk).map_or("public", |(s, _)| s);
    let index = DepKey::Index(format!("{schema}.{}", quote_ident(name)));
    let mut out = Vec::new();
    for (d, ds) in &x.a.deps {
        let DepKey::Con(con) = d else { continue };
        if !ds.contains(&index) {
            continue;
        }
        for (ftk, ft) in &x.a.tables {
            let Some(fname) = con
                .strip_prefix(ftk.as_str())
                .and_then(|r| r.strip_prefix('.'))
            else {
                continue;
            };
            for (cn, fc) in &ft.constraints {
                if fc.kind == ForeignKey && quote_ident(cn) == fname {
                    out.push((ftk.clone(), cn.clone()));
                }
            }
        }
    }
    out
}

/// Whether the foreign key (`tk`, `name`) is dropped and added again by a key swap: it rests
/// on a swapped key and B has it as it is.
pub(super) fn fk_swapped(x: &Cx<'_>, tk: &str, name: &str) -> bool {
    let Some(fk) = x.a.tables.get(tk).and_then(|t| t.constraints.get(name)) else {
        return false;
    };
    let kept = kept(x, tk, name);
    // Only the referenced table's keys can be the one it hangs on (looking at every table's
    // keys for every foreign key made the plan quadratic: 97 s at 10,000 tables).
    let referenced = fk
        .references
        .as_ref()
        .and_then(|r| x.a.tables.get_key_value(r));
    kept && referenced.is_some_and(|(kt, t)| {
        t.constraints.iter().any(|(kn, kc)| {
            kc.kind.is_key()
                && swapped(x, kt, kn)
                && fks_on(x, kt, kn).iter().any(|(a, b)| a == tk && b == name)
        })
    })
}

/// Whether B has the foreign key (`tk`, `name`) of A as it is (validation aside).
fn kept(x: &Cx<'_>, tk: &str, name: &str) -> bool {
    let Some(fk) = x.a.tables.get(tk).and_then(|t| t.constraints.get(name)) else {
        return false;
    };
    x.b.tables
        .get(tk)
        .and_then(|t| t.constraints.get(name))
        .is_some_and(|n| {
            n.kind == ForeignKey
                && strip_not_valid(&n.definition) == strip_not_valid(&fk.definition)
        })
}

/// Pushes the swap of key `name` (see the module).
pub(super) fn swap(x: &mut Cx<'_>, tk: &str, name: &str, c: &Constraint) {
    let Some(cols) = unique_index_columns(&c.definition) else {
        return;
    };
    let n = crate::pg::ident(name);
    let schema = split_qualified(tk).map_or("public", |(s, _)| s);
    let wanted = old_name(&format!("{schema}.{n}"), "_neon_migrate_new");
    let temp = crate::pg::ident(&super::tempnames::relation(x, &wanted, tk));
    let window = format!("KEY {tk}.{name}");
    x.push(
        Stmt::new(
            Phase::AddKeys,
            format!("CREATE UNIQUE INDEX CONCURRENTLY {temp} ON {tk} {cols}"),
        )
        .hazard(
            HazardKind::IndexBuild,
            "builds the constraint's new index concurrently, beside the old one",
        )
        .hazard(
            HazardKind::Correctness,
            "fails if existing rows hold duplicates",
        )
        .outside_txn()
        .long(),
    );
    // Only the foreign keys B keeps as they are: one dropped, changed or on a dropped table
    // is dropped (and added again) by its own change, before the swap — handled here too,
    // its second drop failed half-way (attack12 N8).
    let fks: Vec<(String, String)> = fks_on(x, tk, name)
        .into_iter()
        .filter(|(ft, fname)| kept(x, ft, fname))
        .collect();
    let mut first = true;
    let mut opener = |s: Stmt| {
        let s = if first { s.opens(window.clone()) } else { s };
        first = false;
        s
    };
    let mut drops = Vec::new();
    for (ft, fname) in &fks {
        drops.push(opener(Stmt::new(
            Phase::AddKeys,
            format!(
                "ALTER TABLE {ft} DROP CONSTRAINT {}",
                crate::pg::ident(fname)
            ),
        )));
    }
    drops.push(
        opener(Stmt::new(Phase::AddKeys, format!("ALTER TABLE {tk} DROP CONSTRAINT {n}")))
            .hazard(HazardKind::AccessExclusiveLock, "brief ACCESS EXCLUSIVE lock: the old constraint is replaced by the new one in the same transaction")
            .hazard(HazardKind::IndexDropped, "the constraint's previous index is dropped: queries that used it may get slower"),
    );
    for s in drops {
        x.push(s);
    }
    let kind = c.kind.key_keyword();
    x.push(
        Stmt::new(
            Phase::AddKeys,
            format!("ALTER TABLE {tk} ADD CONSTRAINT {n} {kind} USING INDEX {temp}"),
        )
        .closes(window.clone()),
    );
    for (ft, fname) in &fks {
        let Some(fk) = x.b.tables.get(ft).and_then(|t| t.constraints.get(fname)) else {
            continue;
        };
        let fname = crate::pg::ident(fname);
        let def = strip_not_valid(&fk.definition);
        // Before PostgreSQL 18 a partitioned table refuses `NOT VALID` foreign keys: it is
        // added (and checked) at once there, as `constraints` adds it.
        let partitioned =
            x.a.tables
                .get(ft)
                .is_some_and(|t| t.kind == TableKind::Partitioned);
        if partitioned {
            x.push(
                Stmt::new(
                    Phase::AddKeys,
                    format!("ALTER TABLE {ft} ADD CONSTRAINT {fname} {def}"),
                )
                .hazard(
                    HazardKind::ShareRowExclusiveLock,
                    "SHARE ROW EXCLUSIVE lock on both tables while every row is checked",
                )
                .closes(window.clone())
                .long(),
            );
            continue;
        }
        x.push(
            Stmt::new(
                Phase::AddKeys,
                format!("ALTER TABLE {ft} ADD CONSTRAINT {fname} {def} NOT VALID"),
            )
            .hazard(
                HazardKind::ShareRowExclusiveLock,
                "brief SHARE ROW EXCLUSIVE lock on both tables (NOT VALID: no scan)",
            )
            .closes(window.clone()),
        );
        if fk.validated {
            x.push(
                Stmt::new(Phase::ValidateConstraints, format!("ALTER TABLE {ft} VALIDATE CONSTRAINT {fname}"))
                    .hazard(HazardKind::Correctness, "validating the foreign key scans the table (writes continue) and fails if existing rows violate it")
                    .long(),
            );
        }
    }
    let q = quote_ident(name);
    if x.b
        .replica_identities
        .get(tk)
        .is_some_and(|r| *r == format!("USING INDEX {q}"))
    {
        x.push(
            Stmt::new(
                Phase::AddKeys,
                format!("ALTER TABLE {tk} REPLICA IDENTITY USING INDEX {q}"),
            )
            .closes(window),
        );
    }
}

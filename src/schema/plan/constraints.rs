//! Table constraints. Dropped foreign keys first, then the others (keys last, with their
//! indexes); added keys first (foreign keys need them), then checks, then foreign keys —
//! CHECK and FOREIGN KEY `NOT VALID` and validated apart, PRIMARY KEY and UNIQUE over an
//! index built concurrently.

use super::super::model::ConstraintKind::{self, *};
use super::super::model::{Constraint, Table, TableKind};
use super::keyswap;
use super::sql::{strip_not_valid, unique_index_columns};
use super::{h, Cx, Hazard, HazardKind, Phase, Stmt};

pub(super) fn diff(x: &mut Cx<'_>) {
    for fk_pass in [true, false] {
        drop_changed(x, fk_pass);
    }
    for pass in [Phase::AddKeys, Phase::AddChecks, Phase::AddForeignKeys] {
        add_changed(x, pass);
    }
}

/// Whether `c` (current) and `n` (desired) are the same constraint, validation aside — but
/// for a validated one that the desired schema has `NOT VALID`: no statement un-validates a
/// constraint, so it is dropped and added again `NOT VALID` (no scan), as a domain's is.
fn same(c: &Constraint, n: &Constraint) -> bool {
    n.kind == c.kind
        && strip_not_valid(&n.definition) == strip_not_valid(&c.definition)
        && (n.validated || !c.validated)
}

/// Drops the foreign keys (`fk_pass`) or the other constraints that go or change.
fn drop_changed(x: &mut Cx<'_>, fk_pass: bool) {
    let (a, b) = (x.a, x.b);
    // Parents first: a child's own declaration of a CHECK it also inherits can be dropped
    // only once the parent's is gone.
    for (tk, t) in super::inherit_checks::parents_first(a) {
        let Some(nt) = b.tables.get(tk) else {
            // A dropped table's foreign keys go with it, unless the key they rest on
            // goes first.
            for (n, c) in &t.constraints {
                if fk_pass
                    && c.kind == ForeignKey
                    && x.ch.rebuilt_fks.contains(&(tk.clone(), n.clone()))
                {
                    x.simple(
                        Phase::DropForeignKeys,
                        format!("ALTER TABLE {tk} DROP CONSTRAINT {}", crate::pg::ident(n)),
                    );
                }
            }
            continue;
        };
        for (n, c) in &t.constraints {
            if (c.kind == ForeignKey) != fk_pass {
                continue;
            }
            let kept = nt.constraints.get(n).is_some_and(|nc| same(c, nc))
                && !x.ch.rebuilt_fks.contains(&(tk.clone(), n.clone()));
            let swapped = if fk_pass {
                keyswap::fk_swapped(x, tk, n)
            } else {
                keyswap::swapped(x, tk, n)
            };
            if kept
                || swapped
                || super::inherit_checks::local_drop_refused(x, tk, n, c)
                || super::partitions::adopted_by_attach(x, tk, n, c)
            {
                continue;
            }
            let mut stmt = Stmt::new(
                if fk_pass {
                    Phase::DropForeignKeys
                } else {
                    Phase::DropConstraints
                },
                format!("ALTER TABLE {tk} DROP CONSTRAINT {}", crate::pg::ident(n)),
            );
            if c.kind.has_index() {
                stmt = stmt.hazard(
                    HazardKind::IndexDropped,
                    "the constraint's index is dropped with it: queries that used it may get slower",
                );
                // Added again later: the table is without the key meanwhile.
                if nt.constraints.get(n).is_some_and(|nc| nc.kind == c.kind) {
                    stmt = stmt.opens(format!("KEY {tk}.{n}"));
                }
            }
            // A foreign key dropped for the key it rests on, and added again: the table is
            // without it until then.
            if c.kind == ForeignKey && nt.constraints.get(n).is_some_and(|nc| nc.kind == c.kind) {
                stmt = stmt.opens(format!("FKEY {tk}.{n}"));
            }
            x.push(stmt);
        }
    }
}

/// The phase in which a constraint of this kind is added: keys first (foreign keys need
/// them), then checks and exclusions, then foreign keys.
fn add_phase(kind: ConstraintKind) -> Phase {
    match kind {
        PrimaryKey | Unique => Phase::AddKeys,
        ForeignKey => Phase::AddForeignKeys,
        Check | Exclusion => Phase::AddChecks,
    }
}

/// Adds the constraints of one phase (see [`add_phase`]) that are new or changed, and
/// validates those that B has validated.
fn add_changed(x: &mut Cx<'_>, pass: Phase) {
    let (a, b) = (x.a, x.b);
    for (tk, t) in &b.tables {
        let existing = a.tables.get(tk);
        for (n, c) in &t.constraints {
            if add_phase(c.kind) != pass {
                continue;
            }
            let old = existing
                .and_then(|e| e.constraints.get(n))
                .filter(|oc| same(oc, c))
                .filter(|_| !x.ch.rebuilt_fks.contains(&(tk.clone(), n.clone())));
            let again = c.kind.has_index()
                && !keyswap::swapped(x, tk, n)
                && existing
                    .and_then(|e| e.constraints.get(n))
                    .is_some_and(|oc| oc.kind == c.kind);
            match old {
                None if again => {
                    add(x, tk, n, c, existing);
                    // The statement that adds it closes the window its drop opened.
                    if let Some(last) = x.out.last_mut() {
                        last.closes = Some(format!("KEY {tk}.{n}"));
                    }
                }
                Some(oc) => {
                    if !oc.validated && c.validated {
                        x.push(
                            Stmt::new(
                                Phase::ValidateConstraints,
                                format!(
                                    "ALTER TABLE {tk} VALIDATE CONSTRAINT {}",
                                    crate::pg::ident(n)
                                ),
                            )
                            .hazards(validate_hazards(c))
                            .long(),
                        );
                    }
                }
                None if super::partitions::kept_by_detach(x, tk, n, c) => {}
                None if c.kind == ForeignKey && keyswap::fk_swapped(x, tk, n) => {}
                None if c.kind == ForeignKey => {
                    let from = x.out.len();
                    add(x, tk, n, c, existing);
                    // The statement that adds it closes the window its drop opened.
                    let head = format!("ALTER TABLE {tk} ADD CONSTRAINT ");
                    if let Some(s) = x.out[from..].iter_mut().find(|s| s.sql.starts_with(&head)) {
                        s.closes = Some(format!("FKEY {tk}.{n}"));
                    }
                }
                None => add(x, tk, n, c, existing),
            }
        }
    }
}

fn validate_hazards(c: &Constraint) -> Vec<Hazard> {
    let what = if c.kind == ForeignKey {
        "foreign key"
    } else {
        "check constraint"
    };
    vec![h(HazardKind::Correctness, format!("validating the {what} scans the table (writes continue) and fails if existing rows violate it"))]
}

fn add(x: &mut Cx<'_>, table: &str, name: &str, c: &Constraint, existing: Option<&Table>) {
    let table_existed = existing.is_some();
    let n = crate::pg::ident(name);
    // PostgreSQL before 18 refuses `NOT VALID` for a foreign key on a partitioned table: it
    // is added (and checked) at once there, on every version alike.
    let partitioned_fk = c.kind == ForeignKey
        && existing.is_some_and(|t| t.kind == super::super::model::TableKind::Partitioned);
    let online = x.o.online && table_existed && !partitioned_fk;
    // The comment target as the catalog prints it (quote_ident quotes only when needed).
    x.recreated.insert(format!("CONSTRAINT {name} ON {table}"));
    x.recreated.insert(format!("CONSTRAINT {n} ON {table}"));
    let plain = format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition);
    if c.kind == ForeignKey && super::analysis::fk_on_plain_index(x.b, table, name) {
        return add_fk_after_indexes(x, table, &n, c, online);
    }
    match c.kind {
        PrimaryKey | Unique if online && keyswap::swapped(x, table, name) => {
            keyswap::swap(x, table, name, c)
        }
        PrimaryKey | Unique if online => add_key_online(x, table, &n, c),
        Check | ForeignKey if online => {
            let phase = add_phase(c.kind);
            let def = strip_not_valid(&c.definition);
            let stmt = Stmt::new(
                phase,
                format!("ALTER TABLE {table} ADD CONSTRAINT {n} {def} NOT VALID"),
            );
            x.push(if c.kind == ForeignKey {
                stmt.hazard(
                    HazardKind::ShareRowExclusiveLock,
                    "brief SHARE ROW EXCLUSIVE lock on both tables (NOT VALID: no scan)",
                )
            } else {
                stmt.hazard(
                    HazardKind::AccessExclusiveLock,
                    "brief ACCESS EXCLUSIVE lock (NOT VALID: no scan)",
                )
            });
            if c.validated {
                x.push(
                    Stmt::new(
                        Phase::ValidateConstraints,
                        format!("ALTER TABLE {table} VALIDATE CONSTRAINT {n}"),
                    )
                    .hazards(validate_hazards(c))
                    .long(),
                );
            }
        }
        Exclusion if table_existed => x.push(
            Stmt::new(Phase::AddChecks, plain)
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    "an exclusion constraint builds its index under ACCESS EXCLUSIVE",
                )
                .hazard(HazardKind::IndexBuild, "builds an index")
                .long(),
        ),
        _ => {
            let mut stmt = Stmt::new(add_phase(c.kind), plain).long_if(table_existed);
            if table_existed {
                stmt = stmt.hazard(
                    HazardKind::AccessExclusiveLock,
                    "the constraint is added and checked under a lock",
                );
            }
            x.push(stmt);
        }
    }
}

/// A PRIMARY KEY or UNIQUE constraint on a table that exists: its index built concurrently
/// and attached, where the definition and the table allow it.
fn add_key_online(x: &mut Cx<'_>, table: &str, n: &str, c: &Constraint) {
    let add = format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition);
    let Some(cols) = unique_index_columns(&c.definition) else {
        x.push(
            Stmt::new(Phase::AddKeys, add)
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    "builds the constraint's index under ACCESS EXCLUSIVE",
                )
                .hazard(HazardKind::IndexBuild, "builds a unique index")
                .long(),
        );
        return;
    };
    let partitioned =
        x.b.tables
            .get(table)
            .is_some_and(|t| t.kind == TableKind::Partitioned);
    if partitioned {
        x.push(
            Stmt::new(Phase::AddKeys, add)
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    "partitioned tables cannot build the index concurrently",
                )
                .hazard(
                    HazardKind::IndexBuild,
                    "builds a unique index on every partition",
                )
                .long(),
        );
        return;
    }
    let unique = c.kind.key_keyword();
    x.push(
        Stmt::new(
            Phase::AddKeys,
            format!("CREATE UNIQUE INDEX CONCURRENTLY {n} ON {table} {cols}"),
        )
        .hazard(
            HazardKind::IndexBuild,
            "builds the constraint's index concurrently",
        )
        .hazard(
            HazardKind::Correctness,
            "fails if existing rows hold duplicates",
        )
        .outside_txn()
        .long(),
    );
    x.push(
        Stmt::new(
            Phase::AddKeys,
            format!("ALTER TABLE {table} ADD CONSTRAINT {n} {unique} USING INDEX {n}"),
        )
        .hazard(
            HazardKind::AccessExclusiveLock,
            "brief ACCESS EXCLUSIVE lock to attach the index",
        ),
    );
}

/// A foreign key whose referenced key is a plain unique index: added once the indexes are
/// built (`NOT VALID` and validated apart on a table that exists).
fn add_fk_after_indexes(x: &mut Cx<'_>, table: &str, n: &str, c: &Constraint, online: bool) {
    if !online {
        let sql = format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition);
        let mut stmt = Stmt::new(Phase::AddIndexForeignKeys, sql);
        if x.a.tables.contains_key(table) {
            stmt = stmt
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    "the constraint is added and checked under a lock",
                )
                .long();
        }
        x.push(stmt);
        return;
    }
    let def = strip_not_valid(&c.definition);
    x.push(
        Stmt::new(
            Phase::AddIndexForeignKeys,
            format!("ALTER TABLE {table} ADD CONSTRAINT {n} {def} NOT VALID"),
        )
        .hazard(
            HazardKind::ShareRowExclusiveLock,
            "brief SHARE ROW EXCLUSIVE lock on both tables (NOT VALID: no scan)",
        ),
    );
    if c.validated {
        x.push(
            Stmt::new(
                Phase::ValidateIndexForeignKeys,
                format!("ALTER TABLE {table} VALIDATE CONSTRAINT {n}"),
            )
            .hazards(validate_hazards(c))
            .long(),
        );
    }
}

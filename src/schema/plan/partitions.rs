//! A table that stays but joins, leaves or moves between partitioned tables: `DETACH
//! PARTITION` (CONCURRENTLY where the server allows it) then `ATTACH PARTITION`.
//! Turning a plain table into a partitioned one (or back) is refused by the caller.

use super::super::model::Table;
use super::sql::lit;
use super::{h, Cx, HazardKind, Phase, Stmt};

/// Whether `parent` has a default partition in the current schema.
fn has_default(x: &Cx<'_>, parent: &str) -> bool {
    x.a.tables.values().any(|t| {
        t.partition_of
            .as_ref()
            .is_some_and(|(p, bound)| p == parent && bound == "DEFAULT")
    })
}

/// Detaches `k` (as it is in the current schema, `old`) from its partitioned table.
pub(super) fn detach(x: &mut Cx<'_>, k: &str, old: &Table) {
    let Some((parent, _)) = &old.partition_of else {
        return;
    };
    let leaves = h(
        HazardKind::Correctness,
        format!("the rows of {k} stop being rows of {parent}"),
    );
    if x.a.server_version < 140_000 || has_default(x, parent) || !x.o.online {
        x.push(
            Stmt::new(
                Phase::AlterTables,
                format!("ALTER TABLE {parent} DETACH PARTITION {k}"),
            )
            .hazards(vec![
                h(
                    HazardKind::AccessExclusiveLock,
                    format!("ACCESS EXCLUSIVE lock on {parent} and {k} while the partition is detached (DETACH … CONCURRENTLY needs PostgreSQL ≥ 14 and no default partition)"),
                ),
                leaves,
            ]),
        );
        return;
    }
    x.push(
        Stmt::new(
            Phase::AlterTables,
            format!("ALTER TABLE {parent} DETACH PARTITION {k} CONCURRENTLY"),
        )
        .hazards(vec![leaves])
        .outside_txn()
        .long(),
    );
    // DETACH … CONCURRENTLY leaves a CHECK constraint equal to the partition bound on the
    // table, under a generated name: it is the one CHECK the table did not have before.
    let had: Vec<String> = old.constraints.keys().map(|n| lit(n)).collect();
    let drop = lit(&format!("ALTER TABLE {k} DROP CONSTRAINT %I"));
    x.simple(
        Phase::AlterTables,
        format!(
            "DO $neon_migrate$ DECLARE c name; BEGIN FOR c IN SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = {}::regclass AND contype = 'c' AND conname <> ALL (ARRAY[{}]::name[]) LOOP EXECUTE format({drop}, c); END LOOP; END $neon_migrate$",
            lit(k),
            had.join(", ")
        ),
    );
}

/// Attaches `k` to the partitioned table it belongs to in the desired schema (`t`).
pub(super) fn attach(x: &mut Cx<'_>, k: &str, t: &Table) {
    let Some((parent, bound)) = &t.partition_of else {
        return;
    };
    let mut hz = vec![
        h(
            HazardKind::AccessExclusiveLock,
            format!("ACCESS EXCLUSIVE lock on {k} (SHARE UPDATE EXCLUSIVE on {parent}) while every row is checked against the bound; a validated CHECK constraint equal to the bound, added first, skips the scan"),
        ),
        h(
            HazardKind::Correctness,
            format!("fails if a row of {k} is outside {bound}; its rows become rows of {parent}"),
        ),
    ];
    if has_default(x, parent) {
        hz.push(h(
            HazardKind::AccessExclusiveLock,
            format!("the default partition of {parent} is scanned for rows of the new bound while locked"),
        ));
    }
    x.push(
        Stmt::new(
            Phase::AlterTables,
            format!("ALTER TABLE {parent} ATTACH PARTITION {k} {bound}"),
        )
        .hazards(hz)
        .long(),
    );
}

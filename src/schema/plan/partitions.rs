//! A table that stays but joins, leaves or moves between partitioned tables: `DETACH
//! PARTITION` (CONCURRENTLY where the server allows it) then `ATTACH PARTITION`.
//! Turning a plain table into a partitioned one (or back) is refused by the caller.

use super::super::model::{Constraint, ConstraintKind, Model, Table};
use super::super::split_qualified;
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

/// The default partition of `parent` in the current schema that stays its default partition.
fn staying_default<'m>(x: &Cx<'m>, parent: &str) -> Option<&'m String> {
    let is_default = |t: &Table| {
        t.partition_of
            .as_ref()
            .is_some_and(|(p, bound)| p == parent && bound == "DEFAULT")
    };
    x.a.tables
        .iter()
        .find(|(d, t)| is_default(t) && x.b.tables.get(*d).is_some_and(&is_default))
        .map(|(d, _)| d)
}

/// A new partition `k` (created by `create`) of a partitioned table whose default partition
/// stays: Postgres refuses to create it while the default partition holds rows of its range.
/// So, in one `DO` block (one statement, so one transaction however the plan is run — `psql`
/// statement by statement too): the default partition is detached, the partition created,
/// the user triggers of both disabled, the default partition's rows of its range moved into
/// it over the columns the parent has at that point (columns the plan adds come later, in
/// `ALTER TABLE`), the triggers given back their states, and the default partition attached
/// again. Moving rows must not fire the application's triggers: a `BEFORE INSERT` trigger
/// returning NULL lost the rows, one stamping columns rewrote them (attack12 N1, N6, N7).
/// A foreign key referencing the partitioned table forbids the detach while rows point into
/// the default partition: refused (N13), the partition left out. Returns whether it handled
/// the partition (else the caller creates it alone).
pub(super) fn create_beside_default(x: &mut Cx<'_>, k: &str, t: &Table, create: &str) -> bool {
    let Some((parent, bound)) = &t.partition_of else {
        return false;
    };
    if bound == "DEFAULT" {
        return false;
    }
    let Some(d) = staying_default(x, parent) else {
        return false;
    };
    let (Some(p), Some(old)) = (x.b.tables.get(parent), x.a.tables.get(parent)) else {
        return false;
    };
    let referencing = referencing_keys(x, parent);
    if !referencing.is_empty() {
        x.unsupported(format!(
            "partition {k} is new beside the default partition {d} of {parent}, which must be detached to move its rows of {bound} into {k}, but foreign keys reference {parent} ({}): Postgres refuses to detach a partition that referencing rows point into, and the plan would stop half-way. Drop the foreign keys, create the partition, and add them again (NOT VALID, then VALIDATE) by hand",
            referencing.join(", ")
        ));
        // Not created: the move would fail, and the plan must not stop half-way.
        return true;
    }
    let exists = |n: &str| {
        old.columns
            .iter()
            .any(|c| c.name == n && c.generated.is_none())
    };
    let cols: Vec<&str> = p
        .columns
        .iter()
        .filter(|c| c.generated.is_none() && exists(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    let list = cols.join(", ");
    let identity = |t: &Table| t.columns.iter().any(|c| c.identity == Some('a'));
    let overriding = if identity(p) || identity(old) {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let moving = lit(&format!(
        "WITH moved AS (DELETE FROM {d} WHERE %s RETURNING {list}) INSERT INTO {k} ({list}){overriding} SELECT {list} FROM moved"
    ));
    let sql = do_block(&move_body(parent, d, k, create, &moving));
    x.push(
        Stmt::new(Phase::CreateTables, sql)
            .hazards(vec![
                h(
                    HazardKind::AccessExclusiveLock,
                    format!("ACCESS EXCLUSIVE lock on {parent} and its default partition {d} while {k} is created beside it, in one statement: {d} is detached, its rows of {k}'s range are moved into {k} (with the user triggers of both disabled), and it is attached again (a scan of {d})"),
                ),
                h(
                    HazardKind::Correctness,
                    format!("rows of {d} in {k}'s range {bound} move to {k} (Postgres would refuse to create {k} while {d} holds them); triggers on {d} and {k} do not fire for the move"),
                ),
            ])
            .long(),
    );
    true
}

/// The foreign keys (`table.constraint`) of the current schema that reference `parent`.
fn referencing_keys(x: &Cx<'_>, parent: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (t, table) in &x.a.tables {
        for (n, c) in &table.constraints {
            if c.references.as_deref() == Some(parent) {
                out.push(format!("{t}.{n}"));
            }
        }
    }
    out
}

/// The body of the default-partition move's `DO` block (see [`create_beside_default`]).
fn move_body(parent: &str, d: &str, k: &str, create: &str, moving: &str) -> String {
    let triggers = format!(
        "FROM pg_catalog.pg_trigger WHERE tgrelid IN ({}::regclass, {}::regclass) AND NOT tgisinternal AND tgenabled <> 'D'",
        lit(d),
        lit(k)
    );
    format!(
        "DECLARE restore text[]; s text; BEGIN \
         EXECUTE {detach}; EXECUTE {create}; \
         SELECT coalesce(array_agg(format('ALTER TABLE %s ENABLE %sTRIGGER %I', tgrelid::regclass, CASE tgenabled WHEN 'A' THEN 'ALWAYS ' WHEN 'R' THEN 'REPLICA ' ELSE '' END, tgname)), '{{}}') INTO restore {triggers}; \
         FOR s IN SELECT format('ALTER TABLE %s DISABLE TRIGGER %I', tgrelid::regclass, tgname) {triggers} LOOP EXECUTE s; END LOOP; \
         EXECUTE format({moving}, pg_catalog.pg_get_partition_constraintdef({kr}::regclass)); \
         FOREACH s IN ARRAY restore LOOP EXECUTE s; END LOOP; \
         EXECUTE {attach}; END",
        detach = lit(&format!("ALTER TABLE {parent} DETACH PARTITION {d}")),
        create = lit(create),
        attach = lit(&format!("ALTER TABLE {parent} ATTACH PARTITION {d} DEFAULT")),
        kr = lit(k),
    )
}

/// Whether a table that stays joins, leaves or changes its partitioned table (and is not
/// turned into or out of a partitioned table, or moved in an inheritance tree: refused).
pub(super) fn moves(old: &Table, t: &Table) -> bool {
    old.partition_of != t.partition_of
        && old.partition_key == t.partition_key
        && old.inherits == t.inherits
}

/// `t` as a table of its own: its columns all declared locally. A table detached keeps the
/// columns it inherited as its own; one attached must first have the parent's columns (types,
/// NOT NULL) itself — Postgres refuses to attach it otherwise. Its column changes are
/// planned between the two.
pub(super) fn alone(t: &Table) -> Table {
    let mut t = t.clone();
    t.partition_of = None;
    for c in &mut t.columns {
        c.inherited = false;
    }
    t
}

/// Partitions that go, of a partitioned table that stays and gains a partition (new, moved
/// in, or under a changed bound): detached first, so that the new bound may take their range
/// (the `DROP TABLE` comes after the tables are created and altered).
pub(super) fn detach_gone(x: &mut Cx<'_>) {
    let (a, b) = (x.a, x.b);
    let gains = |parent: &str| {
        b.tables.iter().any(|(k, t)| {
            t.partition_of.as_ref().is_some_and(|(p, _)| p == parent)
                && a.tables
                    .get(k)
                    .is_none_or(|o| o.partition_of != t.partition_of)
        })
    };
    for (k, old) in &a.tables {
        let Some((parent, _)) = &old.partition_of else {
            continue;
        };
        if !b.tables.contains_key(k) && b.tables.contains_key(parent) && gains(parent) {
            detach(x, k, old);
        }
    }
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
                Phase::DetachPartitions,
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
        drop_index_clones(x, k, old);
        return;
    }
    x.push(
        Stmt::new(
            Phase::DetachPartitions,
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
        Phase::DetachPartitions,
        do_block(&format!(
            "DECLARE c name; BEGIN FOR c IN SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = {}::regclass AND contype = 'c' AND conname <> ALL (ARRAY[{}]::name[]) LOOP EXECUTE format({drop}, c); END LOOP; END",
            lit(k),
            had.join(", ")
        )),
    );
    drop_index_clones(x, k, old);
}

/// DETACH PARTITION leaves the table its clones of the partitioned table's indexes (attack12
/// N15): those of the table's keys are the keys' (`kept_by_detach`); the others are dropped
/// when the table stays, and the indexes the desired schema has on it created afterwards.
fn drop_index_clones(x: &mut Cx<'_>, k: &str, old: &Table) {
    let Some(catalog) = x.a.catalog.as_ref() else {
        return;
    };
    if !x.b.tables.contains_key(k) {
        return;
    }
    let schema = split_qualified(k).map_or("public", |(s, _)| s);
    let new = x.b.tables.get(k);
    let of_key = |name: &str| {
        let is = |n: &String| format!("{schema}.{}", crate::schema::quote_ident(n)) == name;
        old.constraints.keys().any(is) || new.is_some_and(|t| t.constraints.keys().any(is))
    };
    let clones: Vec<String> = catalog
        .keys()
        .filter(|id| id.kind == "partition index" && &*id.parent == k && !of_key(&id.name))
        .map(|id| id.name.to_string())
        .collect();
    if clones.is_empty() {
        return;
    }
    let hazard = "the detached table's copy of its partitioned table's index is dropped";
    // A clone of a key of the partitioned table the desired table does not keep is its
    // key's: left to the constraint (which one is, the model does not say; the server does).
    let parent_has_keys = old
        .partition_of
        .as_ref()
        .and_then(|(p, _)| x.a.tables.get(p))
        .is_some_and(|p| p.constraints.values().any(|c| c.kind.has_index()));
    if parent_has_keys {
        let names: Vec<String> = clones.iter().map(|n| lit(n)).collect();
        let body = format!(
            "DECLARE i regclass; BEGIN FOR i IN SELECT c.oid::regclass FROM pg_catalog.pg_class c \
             WHERE c.oid = ANY (SELECT pg_catalog.to_regclass(n) FROM pg_catalog.unnest(ARRAY[{}]::text[]) n) \
             AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = c.oid) \
             LOOP EXECUTE pg_catalog.format('DROP INDEX %s', i); END LOOP; END",
            names.join(", ")
        );
        x.push(
            Stmt::new(Phase::DetachPartitions, do_block(&body))
                .hazard(HazardKind::IndexDropped, hazard)
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    format!("ACCESS EXCLUSIVE lock on {k} while its copies of the partitioned table's indexes are dropped"),
                ),
        );
        return;
    }
    // A partitioned table's indexes cannot be dropped CONCURRENTLY.
    let conc = x.o.online && old.partition_key.is_none();
    for name in clones {
        let concurrently = if conc { "CONCURRENTLY " } else { "" };
        x.push(
            Stmt::new(
                Phase::DetachPartitions,
                format!("DROP INDEX {concurrently}{name}"),
            )
            .hazard(HazardKind::IndexDropped, hazard)
            .outside_txn_if(conc),
        );
    }
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
    if x.a.server_version >= 180_000 {
        // PostgreSQL 18 names NOT NULL constraints: an attached table keeps its own names,
        // where a partition created under the parent takes the parent's: the parent's are given
        // first (an inherited constraint cannot be renamed).
        let rename = lit(&format!("ALTER TABLE {k} RENAME CONSTRAINT %I TO %I"));
        x.simple(
            Phase::AlterTables,
            do_block(&format!(
                "DECLARE r record; BEGIN FOR r IN SELECT c.conname AS own, p.conname AS parents \
                 FROM pg_catalog.pg_constraint c \
                 JOIN pg_catalog.pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = c.conkey[1] \
                 JOIN pg_catalog.pg_attribute pa ON pa.attrelid = {pr}::regclass AND pa.attname = ca.attname \
                 JOIN pg_catalog.pg_constraint p ON p.conrelid = pa.attrelid AND p.contype = 'n' AND p.conkey[1] = pa.attnum \
                 WHERE c.conrelid = {kr}::regclass AND c.contype = 'n' AND c.conname <> p.conname \
                 LOOP EXECUTE format({rename}, r.own, r.parents); END LOOP; END",
                pr = lit(parent),
                kr = lit(k),
            )),
        );
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

/// A new partition `k` whose column order is not its parent's (built alone and attached, in
/// the desired schema): `CREATE TABLE … PARTITION OF` would give it the parent's order (found
/// by an outside attacker, N18). The `ATTACH` for the caller to run after the parent's
/// columns change, when the table is created alone; `None` to create it under its parent (a
/// default partition that stays has rows to move: see `create_beside_default`).
pub(super) fn attach_own_order(x: &Cx<'_>, k: &str, t: &Table) -> Option<Stmt> {
    let (parent, bound) = t.partition_of.as_ref()?;
    let p = x.b.tables.get(parent)?;
    let same = t.columns.len() == p.columns.len()
        && t.columns
            .iter()
            .zip(&p.columns)
            .all(|(c, pc)| c.name == pc.name);
    if same || staying_default(x, parent).is_some() {
        return None;
    }
    Some(Stmt::new(
        Phase::AlterTables,
        format!("ALTER TABLE {parent} ATTACH PARTITION {k} {bound}"),
    ))
}

/// `DO` with `body` in dollar quotes whose tag `body` does not hold: the body carries names
/// from the schema (a partition named `x$neon_migrate$; DROP TABLE victim; …` closed a fixed
/// tag early and ran the rest as SQL of the plan).
pub(super) fn do_block(body: &str) -> String {
    let tag = (0..)
        .map(|n| match n {
            0 => "$neon_migrate$".to_owned(),
            n => format!("$neon_migrate_{n}$"),
        })
        .find(|t| !body.contains(t.as_str()))
        .unwrap_or_default();
    format!("DO {tag} {body} {tag}")
}

/// Whether the catalog of `m` has a partition's index `name` (unqualified, quoted) on `table`.
fn partition_index(m: &Model, table: &str, name: &str) -> bool {
    let schema = split_qualified(table).map_or("public", |(s, _)| s);
    let full = format!("{schema}.{name}");
    m.catalog.as_ref().is_none_or(|c| {
        c.keys().any(|id| {
            id.kind == "partition index" && &*id.parent == table && &*id.name == full.as_str()
        })
    })
}

/// A key (or foreign key) of `tk` in the desired schema that the table already has once this
/// plan detaches it: DETACH PARTITION leaves the table its clones of the partitioned table's
/// keys (under the partition index's name) and foreign keys. Created again, the key's index
/// already existed and the plan failed (trial9 P9).
pub(super) fn kept_by_detach(x: &Cx<'_>, tk: &str, n: &str, c: &Constraint) -> bool {
    let (Some(old), Some(new)) = (x.a.tables.get(tk), x.b.tables.get(tk)) else {
        return false;
    };
    let Some((parent, _)) = &old.partition_of else {
        return false;
    };
    if new.partition_of.is_some() || !moves(old, new) {
        return false;
    }
    let Some(p) = x.a.tables.get(parent) else {
        return false;
    };
    if c.kind.has_index() {
        p.constraints
            .values()
            .any(|pc| pc.kind == c.kind && pc.definition == c.definition)
            && partition_index(x.a, tk, &crate::schema::quote_ident(n))
    } else {
        c.kind == ConstraintKind::ForeignKey
            && p.constraints
                .get(n)
                .is_some_and(|pc| pc.kind == c.kind && pc.definition == c.definition)
    }
}

/// A key of `tk` in the current schema that the desired schema's partitioned table adopts
/// when this plan attaches the table: ATTACH PARTITION takes an index matching the
/// partitioned table's key as the partition's, under its own name. Dropped first, the key
/// came back under a name Postgres made up (trial9 P10).
pub(super) fn adopted_by_attach(x: &Cx<'_>, tk: &str, n: &str, c: &Constraint) -> bool {
    let (Some(old), Some(new)) = (x.a.tables.get(tk), x.b.tables.get(tk)) else {
        return false;
    };
    let Some((parent, _)) = &new.partition_of else {
        return false;
    };
    if old.partition_of.is_some() || !moves(old, new) || !c.kind.has_index() {
        return false;
    }
    let Some(p) = x.b.tables.get(parent) else {
        return false;
    };
    p.constraints
        .values()
        .any(|pc| pc.kind == c.kind && pc.definition == c.definition)
        && partition_index(x.b, tk, &crate::schema::quote_ident(n))
        && x.b.catalog.is_some()
}

//! Columns of a table that stays: dropped, added, retyped, their defaults, identities,
//! generation expressions and NOT NULL changed — online where Postgres allows it.

use std::collections::BTreeSet;

use super::super::model::{Column, DepKey, IdentityOptions, Model, Table};
use super::super::split_qualified;
use super::sql::{
    column_sql, element_type, identity_sql, lit, narrowing, no_rewrite, volatile_default,
};
use super::{generated, h, inherit, unidentity, Cx, HazardKind, Phase, Stmt};

const P: Phase = Phase::AlterTables;

/// The column changes of table `k` (`old` → `t`).
pub(super) fn diff(x: &mut Cx<'_>, k: &str, old: &Table, t: &Table) {
    inherit::check_local_flags(x, k, old, t);
    let (readded, left, later) = drop_columns(x, k, old, t);
    // Columns dropped to be added again go in after the other columns' changes: a generated
    // column reads the retyped (or added) columns it is rebuilt around, wherever it stands.
    let mut readd: Vec<&Column> = Vec::new();
    for c in &t.columns {
        if c.inherited {
            match old.column(&c.name) {
                Some(oc) if oc.inherited => inherited_default(x, k, oc, c),
                // Added to the parent (before this child): the child's own default follows.
                None => {
                    inherited_out_of_place(x, k, old, t, c);
                    if let Some(d) = &c.default {
                        x.simple(
                            P,
                            format!("ALTER TABLE {k} ALTER COLUMN {} SET DEFAULT {d}", c.name),
                        );
                    }
                }
                Some(_) => {}
            }
            continue;
        }
        if left.contains(c.name.as_str()) {
            continue;
        }
        let Some(oc) = old
            .column(&c.name)
            .filter(|_| !readded.contains(c.name.as_str()))
        else {
            if readded.contains(c.name.as_str()) {
                readd.push(c);
                continue;
            }
            let moved = inherit::moved_up_retyped(x, k, c);
            if !moved.is_empty() {
                x.unsupported(format!(
                    "column {k}.{}: added to {k} while {} already declare it with another type or collation — Postgres merges a column a parent adds only into children that agree, so this move up with a type change fails; change the children's type first, in a migration of its own",
                    c.name,
                    moved.join(", ")
                ));
                continue;
            }
            add(x, k, c);
            out_of_place(x, k, old, t, c);
            continue;
        };
        if inherit::moving_up_retyped(x, old, t, &c.name) {
            continue; // refused with the parent's column
        }
        if read_by_refused(x, k, &left, oc, c) {
            continue; // refused with the generated column that reads it
        }
        if let Some(why) = retype_blocker(x, k, oc, c) {
            x.unsupported(format!(
                "column {k}.{}: its type changes ({} → {}), but {why} use it and Postgres refuses to change the type of a column they use — not supported by the schema engine; write this change by hand",
                c.name, oc.data_type, c.data_type
            ));
            continue;
        }
        alter_expression(x, k, oc, c);
        let was = Column {
            generated: c.generated.clone(),
            ..oc.clone()
        };
        alter(x, k, &was, c);
    }
    // Columns that go and that a generated column read: once it reads them no more.
    for stmt in later {
        x.push(stmt);
    }
    for c in readd {
        add(x, k, c);
        out_of_place(x, k, old, t, c);
    }
    for c in &old.columns {
        let rebuilt = x.ch.rebuilt_columns.contains(&format!("{k}.{}", c.name));
        if let Some(n) = t
            .column(&c.name)
            .filter(|_| rebuilt && generated::suspends(x, k, c))
        {
            generated::restore(x, k, n);
        }
    }
}

/// Drops the columns that go, and those dropped to be added again: generated columns with a
/// new expression before PG 17 (no SET EXPRESSION), and generated columns that read a
/// retyped column. Returns the names of the latter, of the columns left alone because
/// dropping and adding them again would lose more than their values (reported), and the
/// drops of columns that go but that a generated column reads (dropped after its expression
/// changed: Postgres refuses to drop a column a generated column reads).
fn drop_columns<'t>(
    x: &mut Cx<'_>,
    k: &str,
    old: &'t Table,
    t: &Table,
) -> (BTreeSet<&'t str>, BTreeSet<&'t str>, Vec<Stmt>) {
    let mut later = Vec::new();
    // Generated columns: a new expression is set in place on PG ≥ 17 (SET EXPRESSION)
    // and dropped and added on older servers; a column that stops being generated keeps
    // its values (DROP EXPRESSION); one that reads a retyped column is rebuilt around it.
    let set_expression = x.a.server_version >= 170_000;
    let mut readded: BTreeSet<&str> = BTreeSet::new();
    let mut left: BTreeSet<&str> = BTreeSet::new();
    for c in &old.columns {
        if c.inherited {
            continue;
        }
        let n = t.column(&c.name);
        let rebuilt = x.ch.rebuilt_columns.contains(&format!("{k}.{}", c.name));
        let regenerated = n.is_some_and(|n| {
            n.generated.is_some()
                && n.generated != c.generated
                && !(set_expression && c.generated.is_some())
        });
        if regenerated && !rebuilt {
            if let Some(why) = readd_blocker(x, k, t, &c.name) {
                x.unsupported(format!(
                    "column {k}.{}: {} must be dropped and added again (Postgres has no statement that makes a column generated{}), but {why} — not supported by the schema engine; write this change by hand",
                    c.name,
                    if c.generated.is_some() { "its generation expression changes, so it" } else { "it becomes generated, so it" },
                    if set_expression { "" } else { " or, before PostgreSQL 17, changes its expression" }
                ));
                left.insert(c.name.as_str());
                continue;
            }
        }
        if rebuilt && n.is_some() && generated::suspends(x, k, c) {
            generated::suspend(x, k, c);
            continue;
        }
        if rebuilt && n.is_some() {
            let lost = generated::lost_with(x, k, &c.name);
            // Its place: `out_of_place` reports it once it is added again.
            let why =
                (!lost.is_empty()).then(|| format!("{} would be dropped with it", lost.join(", ")));
            if let Some(why) = why {
                x.unsupported(format!(
                    "column {k}.{}: it is generated from a column whose type changes, which Postgres refuses while the generated column reads it; the schema engine would drop it and add it again{}, but {why} — not supported by the schema engine; write this change by hand",
                    c.name,
                    if x.a.server_version >= 170_000 { " (its expression is not suspended: a NULL would break its NOT NULL, a CHECK or a foreign key)" } else { " (PostgreSQL 17 can suspend its expression instead)" }
                ));
                left.insert(c.name.as_str());
                continue;
            }
        }
        if n.is_none() || regenerated || rebuilt {
            let mut hz = vec![h(
                HazardKind::AccessExclusiveLock,
                "brief ACCESS EXCLUSIVE lock; clients still using the column break",
            )];
            if c.generated.is_none() {
                hz.insert(
                    0,
                    h(
                        HazardKind::DeletesData,
                        format!("the data of column {} is lost", c.name),
                    ),
                );
            }
            if n.is_none() && !regenerated && !rebuilt {
                let keepers = inherit::children_keeping(x, k, &c.name);
                if !keepers.is_empty() {
                    inherit::drop_parent_only(x, k, &c.name, &keepers);
                    continue;
                }
            }
            let stmt = Stmt::new(P, format!("ALTER TABLE {k} DROP COLUMN {}", c.name)).hazards(hz);
            if n.is_none() && read_by_generated(x, k, old, &c.name) {
                later.push(stmt);
                continue;
            }
            x.push(stmt);
            if n.is_some() {
                readded.insert(c.name.as_str());
            }
        }
    }
    (readded, left, later)
}

/// Whether another generated column of `old` (table `k`) reads column `col`.
fn read_by_generated(x: &Cx<'_>, k: &str, old: &Table, col: &str) -> bool {
    let key = DepKey::Col(format!("{k}.{col}"));
    old.columns.iter().any(|g| {
        g.generated.is_some()
            && g.name != col
            && x.a
                .deps
                .get(&DepKey::Col(format!("{k}.{}", g.name)))
                .is_some_and(|ds| ds.contains(&key))
    })
}

/// The default a child or partition gives a column it inherits: set or dropped; under a
/// type change (done by the parent, before the children's statements), dropped first.
fn inherited_default(x: &mut Cx<'_>, k: &str, oc: &Column, c: &Column) {
    let type_changes = oc.data_type != c.data_type || oc.collation != c.collation;
    let col = &c.name;
    if oc.default.is_some() && type_changes {
        x.simple(
            Phase::DropParentOnlyColumns,
            format!("ALTER TABLE {k} ALTER COLUMN {col} DROP DEFAULT"),
        );
        if let Some(d) = &c.default {
            x.simple(
                P,
                format!("ALTER TABLE {k} ALTER COLUMN {col} SET DEFAULT {d}"),
            );
        }
    } else if oc.default != c.default {
        let what = match &c.default {
            Some(d) => format!("SET DEFAULT {d}"),
            None => "DROP DEFAULT".into(),
        };
        x.simple(P, format!("ALTER TABLE {k} ALTER COLUMN {col} {what}"));
    }
}

/// What keeps column `c` of `k` from changing type in place: rules (on any table) and
/// functions with a SQL-standard body (`BEGIN ATOMIC`, `RETURN`) that read it.
fn retype_blocker(x: &Cx<'_>, k: &str, old: &Column, c: &Column) -> Option<String> {
    if old.data_type == c.data_type && old.collation == c.collation {
        return None;
    }
    let key = DepKey::Col(format!("{k}.{}", c.name));
    let mut users: Vec<String> = Vec::new();
    for (d, ds) in &x.a.deps {
        if !ds.contains(&key) {
            continue;
        }
        match d {
            DepKey::Fn(f) => users.push(format!("function {f}")),
            DepKey::Rel(r) if x.a.tables.contains_key(r) => users.extend(
                x.a.rules
                    .iter()
                    .filter(|(_, rule)| &rule.table == r)
                    .map(|(n, _)| format!("rule {n}")),
            ),
            _ => {}
        }
    }
    (!users.is_empty()).then(|| users.join(", "))
}

/// Whether column `c` of `k` changes type while a generated column left alone (refused:
/// it cannot be rebuilt around the change) reads it: Postgres would refuse the type change.
fn read_by_refused(x: &Cx<'_>, k: &str, left: &BTreeSet<&str>, old: &Column, c: &Column) -> bool {
    if old.data_type == c.data_type && old.collation == c.collation {
        return false;
    }
    let key = DepKey::Col(format!("{k}.{}", c.name));
    left.iter().any(|g| {
        x.a.deps
            .get(&DepKey::Col(format!("{k}.{g}")))
            .is_some_and(|ds| ds.contains(&key))
    })
}

/// Why column `col` of `k` cannot simply be dropped and added again: what would go with it
/// (constraints, indexes), or its place among the columns (an added column comes last).
fn readd_blocker(x: &Cx<'_>, k: &str, t: &Table, col: &str) -> Option<String> {
    let lost = generated::lost_with(x, k, col);
    if !lost.is_empty() {
        return Some(format!("{} would be dropped with it", lost.join(", ")));
    }
    let old = x.a.tables.get(k)?;
    let pos = t.columns.iter().position(|c| c.name == col)?;
    let later_kept = t.columns[pos + 1..]
        .iter()
        .find(|c| !c.inherited && old.column(&c.name).is_some());
    later_kept.map(|c| {
        format!(
            "added again it would come after {} (a column is always added last)",
            c.name
        )
    })
}

/// A generation expression that goes (the column keeps its values) or changes in place.
fn alter_expression(x: &mut Cx<'_>, k: &str, oc: &Column, c: &Column) {
    match (&oc.generated, &c.generated) {
        (Some(_), None) => {
            x.push(
                Stmt::new(
                    P,
                    format!("ALTER TABLE {k} ALTER COLUMN {} DROP EXPRESSION", c.name),
                )
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    "brief ACCESS EXCLUSIVE lock; the column keeps its values",
                ),
            );
        }
        (Some(was), Some(expr)) if was != expr => {
            x.push(
                Stmt::new(
                    P,
                    format!(
                        "ALTER TABLE {k} ALTER COLUMN {} SET EXPRESSION AS ({expr})",
                        c.name
                    ),
                )
                .hazard(
                    HazardKind::TableRewrite,
                    "the new expression is computed for every row: the table is rewritten",
                )
                .hazard(
                    HazardKind::AccessExclusiveLock,
                    "ACCESS EXCLUSIVE lock for the whole rewrite",
                )
                .long(),
            );
        }
        _ => {}
    }
}

/// A column a parent adds reaches its inheritance children (and partitions) after their last
/// column: where the desired schema has it before a column the child keeps (its own, or
/// another parent's), the child's column order would differ from it — the plan applied, and
/// only the next diff saw it (attack10 d06). Refused now, as [`out_of_place`] does.
fn inherited_out_of_place(x: &mut Cx<'_>, k: &str, old: &Table, t: &Table, c: &Column) {
    let at = t.columns.iter().position(|o| o.name == c.name);
    let Some(next) = at.and_then(|i| {
        t.columns[i + 1..]
            .iter()
            .find(|o| old.column(&o.name).is_some())
    }) else {
        return;
    };
    x.unsupported(format!(
        "table {k}: {} comes from its parent, which adds it: Postgres puts it after the child's last column, not before {} as in the desired schema — the column order differs (SELECT *, COPY without a column list and positional INSERTs see it); put it last in the desired schema (add it to the parent with ALTER TABLE), or rebuild the child by hand",
        c.name, next.name
    ));
}

/// PostgreSQL adds a column after the last one: where the desired schema has it before a
/// column the table keeps, the order differs from it, which `SELECT *`, `COPY` without a
/// column list and positional `INSERT`s see. Said on the statement that adds it, and refused:
/// once applied, every later diff would find the columns in another order and refuse then
/// (a plan that exits 0 must converge).
fn out_of_place(x: &mut Cx<'_>, k: &str, old: &Table, t: &Table, c: &Column) {
    let at = t.columns.iter().position(|o| o.name == c.name);
    let before_kept = at.and_then(|i| {
        t.columns[i + 1..]
            .iter()
            .find(|o| !o.inherited && old.column(&o.name).is_some())
    });
    let (Some(next), Some(last)) = (before_kept, x.out.last_mut()) else {
        return;
    };
    let why = format!(
        "{} is added after the last column, not before {} as in the desired schema: the column order differs (SELECT *, COPY without a column list and positional INSERTs see it)",
        c.name, next.name
    );
    last.hazards.push(h(HazardKind::Correctness, why.clone()));
    x.unsupported(format!(
        "table {k}: {why} — PostgreSQL cannot add a column elsewhere: put it last in the desired schema, or rebuild the table by hand"
    ));
}

fn add(x: &mut Cx<'_>, table: &str, c: &Column) {
    let mut hz = Vec::new();
    let rewrite = if c.generated.is_some() {
        Some("a stored generated column rewrites the table")
    } else if c.identity.is_some() {
        Some("an identity column fills every row: the table is rewritten")
    } else if c.default.as_deref().is_some_and(volatile_default) {
        Some("a volatile default is evaluated for every row: the table is rewritten")
    } else {
        None
    };
    if let Some(why) = rewrite {
        hz.push(h(HazardKind::TableRewrite, why));
        hz.push(h(
            HazardKind::AccessExclusiveLock,
            "ACCESS EXCLUSIVE lock for the whole rewrite",
        ));
    }
    if c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
        hz.push(h(
            HazardKind::Correctness,
            "NOT NULL without a default fails if the table has rows",
        ));
    }
    let long = !hz.is_empty();
    x.recreated.insert(format!("COLUMN {table}.{}", c.name));
    x.push(
        Stmt::new(
            P,
            format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(c)),
        )
        .hazards(hz)
        .long_if(long),
    );
}

/// A column that stays: type, default, identity, NOT NULL.
fn alter(x: &mut Cx<'_>, table: &str, old: &Column, new: &Column) {
    let col = &new.name;
    let recast = x.ch.recreated_enums.contains(element_type(&new.data_type));
    let type_changes = old.data_type != new.data_type || old.collation != new.collation || recast;
    let default_changes = old.default != new.default;
    // Identity added: NOT NULL first (online), then the default goes in the same statement
    // as the identity comes (no moment without either), and the sequence moves past the data.
    let adds_identity = old.identity.is_none() && new.identity.is_some();
    let folded_default = adds_identity && old.default.is_some() && !type_changes;
    // Identity removed: first, so that a type change that follows may leave integers.
    let drops_identity = old.identity.is_some() && new.identity.is_none();
    if let Some(seq) = drops_identity
        .then(|| unidentity::successor(x.a, x.b, old, new))
        .flatten()
    {
        unidentity::hand_over(x, table, col, seq);
    } else if drops_identity {
        x.simple(
            P,
            format!("ALTER TABLE {table} ALTER COLUMN {col} DROP IDENTITY"),
        );
    }
    if type_changes && old.default.is_some() {
        x.simple(
            P,
            format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT"),
        );
    }
    if type_changes {
        retype(x, table, old, new, recast);
    }
    if ((type_changes && new.default.is_some()) || (default_changes && !type_changes))
        && !(folded_default && new.default.is_none())
    {
        match &new.default {
            Some(d) => x.simple(
                P,
                format!("ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {d}"),
            ),
            None => x.simple(
                P,
                format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT"),
            ),
        }
    }
    if adds_identity {
        if !old.not_null {
            set_not_null(x, table, col);
        }
        let serial = serial_sequence(x, table, col);
        add_identity(
            x,
            table,
            new,
            folded_default && new.default.is_none(),
            serial,
        );
    } else if !drops_identity {
        alter_identity(x, table, old, new);
    }
    if old.not_null != new.not_null && !(adds_identity && new.not_null) {
        if new.not_null {
            set_not_null(x, table, col);
        } else {
            x.simple(
                P,
                format!("ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"),
            );
        }
    }
}

/// Notes that `table` and its partitions and inheritance children (the retype recurses to
/// them) have a column retyped.
fn note_retyped(x: &mut Cx<'_>, table: &str) {
    if !x.retyped.insert(table.to_owned()) {
        return;
    }
    let children: Vec<&String> =
        x.a.tables
            .iter()
            .filter(|(_, t)| {
                t.inherits.iter().any(|p| p == table)
                    || t.partition_of.as_ref().is_some_and(|(p, _)| p == table)
            })
            .map(|(k, _)| k)
            .collect();
    for c in children {
        note_retyped(x, c);
    }
}

fn retype(x: &mut Cx<'_>, table: &str, old: &Column, new: &Column, recast: bool) {
    note_retyped(x, table);
    let col = &new.name;
    let collate = new
        .collation
        .as_ref()
        .map(|c| format!(" COLLATE {c}"))
        .unwrap_or_default();
    let using = if recast {
        // Through text: the old and the new enum have no cast between them.
        let text = new
            .data_type
            .replacen(element_type(&new.data_type), "text", 1);
        format!("{col}::{text}::{}", new.data_type)
    } else if through_text(x, old, new) {
        // An enum (or an array of one) has no cast to or from another type but text.
        format!("{col}::text::{}", new.data_type)
    } else {
        format!("{col}::{}", new.data_type)
    };
    // A generated column is computed again by its expression: Postgres refuses a USING.
    let using = if new.generated.is_some() {
        String::new()
    } else {
        format!(" USING {using}")
    };
    let mut stmt = Stmt::new(
        P,
        format!(
            "ALTER TABLE {table} ALTER COLUMN {col} TYPE {}{collate}{using}",
            new.data_type
        ),
    )
    .hazard(
        HazardKind::AccessExclusiveLock,
        "ACCESS EXCLUSIVE lock while the column is converted",
    )
    .long();
    // A domain relabelled to its base type is binary coercible too.
    let to_base =
        x.a.domains
            .get(&old.data_type)
            .is_some_and(|d| d.base == new.data_type && old.collation == new.collation);
    let same_type = old.data_type == new.data_type;
    let rewrites = !(same_type || no_rewrite(&old.data_type, &new.data_type) || to_base);
    if let Some(how) = narrowing(&old.data_type, &new.data_type) {
        stmt = stmt.hazard(
            HazardKind::DeletesData,
            format!(
                "{col}: {} → {} narrows the column: {how}",
                old.data_type, new.data_type
            ),
        );
    }
    if rewrites || recast {
        stmt = stmt.hazard(
            HazardKind::TableRewrite,
            format!(
                "changing {} → {} may rewrite the table and its indexes",
                old.data_type, new.data_type
            ),
        );
    } else if same_type && uses_column_in_index(x.a, table, col) {
        // A new collation keeps the rows but not the order of the indexes on them.
        stmt = stmt.hazard(
            HazardKind::IndexBuild,
            format!("indexes on {col} are rebuilt for the new collation, under the lock"),
        );
    }
    x.push(stmt);
}

/// Identity added to an existing column (already NOT NULL): its default dropped in the same
/// statement when it had one, then the new sequence set past the largest value the column
/// holds (smallest, for a descending one) in the same transaction (one simple query), so the
/// first generated value does not collide with the rows already there.
fn add_identity(
    x: &mut Cx<'_>,
    table: &str,
    new: &Column,
    drop_default: bool,
    serial: Option<String>,
) {
    let col = &new.name;
    let Some(kind) = new.identity else { return };
    let identity = identity_sql(kind, new.identity_options.as_deref());
    let drop = if drop_default {
        format!("DROP DEFAULT, ALTER COLUMN {col} ")
    } else {
        String::new()
    };
    // The serial's own sequence goes first (its default already went, or goes here), so the
    // identity's sequence takes its name rather than `…_seq1`.
    if let Some(seq) = &serial {
        // The identity's sequence takes the serial's name, but not its privileges.
        x.recreated.insert(format!("SEQUENCE {seq}"));
    }
    let (head, drop) = match serial {
        Some(seq) if drop_default => (
            format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT;\nDROP SEQUENCE {seq};\n"),
            String::new(),
        ),
        Some(seq) => (format!("DROP SEQUENCE {seq};\n"), drop),
        None => (String::new(), drop),
    };
    let (start, increment) = new
        .identity_options
        .as_ref()
        .map_or((1, 1), |o| (o.start, o.increment));
    let (agg, cmp) = if increment < 0 {
        ("min", "<=")
    } else {
        ("max", ">=")
    };
    let bare = col.trim_matches('"').replace("\"\"", "\"");
    let sql = format!(
        "{head}ALTER TABLE {table} ALTER COLUMN {col} {drop}ADD{identity};\n\
         SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({}, {}), {agg}({col})) FROM {table} HAVING {agg}({col}) {cmp} {start}",
        lit(table),
        lit(&bare)
    );
    let mut s = Stmt::new(P, sql).long();
    if drop_default {
        // Clients relied on the default: what they get now, and the scan under the lock.
        s = s
            .hazard(
                HazardKind::AccessExclusiveLock,
                "ACCESS EXCLUSIVE lock while the identity is added and its sequence is set past the column's values (a scan of the column without an index on it)",
            )
            .hazard(
                HazardKind::Correctness,
                format!("the default of {col} is replaced by the identity's sequence{}", if kind == 'a' { "; GENERATED ALWAYS: inserts that give it a value now fail" } else { "" }),
            );
    }
    x.push(s);
}

/// The sequence of a serial column that becomes an identity: owned by the column in A, gone
/// in B. The identity's statement drops it (the sequences' plan leaves it alone).
fn serial_sequence(x: &Cx<'_>, table: &str, col: &str) -> Option<String> {
    let owner = format!("{table}.{col}");
    x.a.sequences
        .iter()
        .find(|(k, s)| {
            s.owned_by.as_deref() == Some(owner.as_str()) && !x.b.sequences.contains_key(*k)
        })
        .map(|(k, _)| k.clone())
}

/// Whether a type change goes through text: an enum on either side (enums have no casts
/// but to and from text; the text form of an array reads back as an array of the new type).
fn through_text(x: &Cx<'_>, old: &Column, new: &Column) -> bool {
    let is_enum = |t: &str| {
        let e = element_type(t);
        x.a.enums.contains_key(e) || x.b.enums.contains_key(e)
    };
    old.data_type != new.data_type && (is_enum(&old.data_type) || is_enum(&new.data_type))
}

fn alter_identity(x: &mut Cx<'_>, table: &str, old: &Column, new: &Column) {
    let col = &new.name;
    match (old.identity, new.identity) {
        (Some(_), None) => {}
        (None, Some(k)) => {
            let identity = identity_sql(k, new.identity_options.as_deref());
            x.simple(
                P,
                format!("ALTER TABLE {table} ALTER COLUMN {col} ADD{identity}"),
            );
        }
        (Some(was), Some(k)) => {
            if was != k {
                let how = if k == 'a' { "ALWAYS" } else { "BY DEFAULT" };
                x.simple(
                    P,
                    format!("ALTER TABLE {table} ALTER COLUMN {col} SET GENERATED {how}"),
                );
            }
            if let (Some(o), Some(n)) = (&old.identity_options, &new.identity_options) {
                rename_identity_sequence(x, table, col, o, n);
            }
            // Only the options that differ: a type change already moved the sequence's
            // bounds when they were the old type's defaults.
            if let (Some(o), Some(n)) = (&old.identity_options, &new.identity_options) {
                let changed: Vec<String> = n
                    .clauses()
                    .into_iter()
                    .zip(o.clauses())
                    .filter(|(n, o)| n != o)
                    .map(|(n, _)| format!(" SET {n}"))
                    .collect();
                if !changed.is_empty() {
                    x.simple(
                        P,
                        format!("ALTER TABLE {table} ALTER COLUMN {col}{}", changed.concat()),
                    );
                }
            }
        }
        (None, None) => {}
    }
}

/// An identity's sequence renamed (or moved to another schema): `ALTER SEQUENCE`, from the
/// name it has (Postgres's `table_column_seq` when none of its own) to the desired one.
fn rename_identity_sequence(
    x: &mut Cx<'_>,
    table: &str,
    col: &str,
    o: &IdentityOptions,
    n: &IdentityOptions,
) {
    if o.sequence_name == n.sequence_name {
        return;
    }
    let unquote = |s: &str| {
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map_or(s.to_owned(), |s| s.replace("\"\"", "\""))
    };
    let (schema, t) = split_qualified(table).unwrap_or(("public", table));
    let default = format!(
        "{schema}.{}",
        crate::schema::quote_ident(&format!("{}_{}_seq", unquote(t), unquote(col)))
    );
    let from = o.sequence_name.clone().unwrap_or_else(|| default.clone());
    let to = n.sequence_name.clone().unwrap_or(default);
    let split = |q: &str| {
        split_qualified(q).map_or((schema.to_owned(), q.to_owned()), |(s, b)| {
            (s.to_owned(), b.to_owned())
        })
    };
    let ((fs, fb), (ts, tb)) = (split(&from), split(&to));
    if fs != ts {
        x.simple(P, format!("ALTER SEQUENCE {from} SET SCHEMA {ts}"));
    }
    if fb != tb {
        x.simple(P, format!("ALTER SEQUENCE {ts}.{fb} RENAME TO {tb}"));
    }
}

fn set_not_null(x: &mut Cx<'_>, table: &str, col: &str) {
    if !x.o.online {
        x.push(
            Stmt::new(
                P,
                format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
            )
            .hazard(
                HazardKind::AccessExclusiveLock,
                "scans the table under ACCESS EXCLUSIVE",
            )
            .long(),
        );
        return;
    }
    // A validated CHECK lets SET NOT NULL skip its scan under ACCESS EXCLUSIVE.
    let bare = col.trim_matches('"');
    let wanted = format!(
        "{}_nn_neon_migrate",
        bare.chars().take(40).collect::<String>()
    );
    let tmp = crate::pg::ident(&super::tempnames::constraint(x, &wanted, table));
    x.push(
        Stmt::new(
            P,
            format!("ALTER TABLE {table} ADD CONSTRAINT {tmp} CHECK ({col} IS NOT NULL) NOT VALID"),
        )
        .hazard(
            HazardKind::AccessExclusiveLock,
            "brief ACCESS EXCLUSIVE lock (NOT VALID: no scan)",
        ),
    );
    x.push(
        Stmt::new(P, format!("ALTER TABLE {table} VALIDATE CONSTRAINT {tmp}"))
            .hazard(
                HazardKind::Correctness,
                format!("fails if column {col} holds NULLs (the scan does not block writes)"),
            )
            .long(),
    );
    x.push(
        Stmt::new(
            P,
            format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
        )
        .hazard(
            HazardKind::AccessExclusiveLock,
            "brief ACCESS EXCLUSIVE lock: the validated CHECK spares the scan",
        ),
    );
    x.push(
        Stmt::new(P, format!("ALTER TABLE {table} DROP CONSTRAINT {tmp}")).lint_exempt(
            "ban-drop-constraint",
            "the plan's own helper CHECK, added above so that SET NOT NULL skips its scan",
        ),
    );
}

/// Whether an index (or an index-backed constraint) of `table` in `m` names column `col`.
fn uses_column_in_index(m: &Model, table: &str, col: &str) -> bool {
    let names = |def: &str| {
        // The column list (and expressions) follow the access method: "… USING btree (a, b)".
        let cols = def.split_once(" USING ").map_or(def, |(_, r)| r);
        cols.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
            .any(|w| w == col)
    };
    m.indexes
        .values()
        .any(|i| i.table == table && names(&i.definition))
        || m.tables.get(table).is_some_and(|t| {
            t.constraints
                .values()
                .any(|c| c.kind.has_index() && names(&c.definition))
        })
}

//! A stored generated column that reads a column whose type changes: Postgres refuses the
//! type change under it. On PostgreSQL ≥ 17 its expression is suspended (`SET EXPRESSION AS
//! (NULL)` reads nothing) and set again once the other columns changed: the column keeps its
//! place, its grants, comment and options. Before 17 it is dropped and added again (last).

use super::super::model::{Column, DepKey};
use super::super::split_qualified;
use super::{h, Cx, HazardKind, Phase, Stmt};

/// Whether generated column `c` (of A, rebuilt around a retyped column) is suspended rather
/// than dropped: PostgreSQL ≥ 17, and no NOT NULL, CHECK or referencing foreign key that a
/// NULL expression would break.
pub(super) fn suspends(x: &Cx<'_>, k: &str, c: &Column) -> bool {
    x.a.server_version >= 170_000
        && c.generated.is_some()
        && !c.not_null
        && !null_breaks(x, k, &c.name)
}

fn rewrite(x: &mut Cx<'_>, k: &str, col: &str, expr: &str, why: String) {
    x.push(
        Stmt::new(
            Phase::AlterTables,
            format!("ALTER TABLE {k} ALTER COLUMN {col} SET EXPRESSION AS ({expr})"),
        )
        .hazards(vec![
            h(HazardKind::TableRewrite, why),
            h(
                HazardKind::AccessExclusiveLock,
                "ACCESS EXCLUSIVE lock for the whole rewrite",
            ),
        ])
        .long(),
    );
}

/// Suspends `c`'s expression before the columns it reads change type.
pub(super) fn suspend(x: &mut Cx<'_>, k: &str, c: &Column) {
    let why = format!(
        "{} stops reading the columns whose type changes (it is NULL until its expression is set again below): the table is rewritten",
        c.name
    );
    rewrite(x, k, &c.name, "NULL", why);
}

/// Sets `c`'s expression (the desired schema's) again.
pub(super) fn restore(x: &mut Cx<'_>, k: &str, c: &Column) {
    let Some(expr) = &c.generated else { return };
    let why = format!(
        "{} is computed again for every row: the table is rewritten",
        c.name
    );
    rewrite(x, k, &c.name, expr, why);
}

/// What goes with column `col` of `k` when it is dropped (to be added again): constraints
/// that use it (also other tables' foreign keys that reference it), indexes whose columns,
/// expressions or predicates read it, and extended statistics on it. Adding the column
/// again brings none of them back.
pub(super) fn lost_with(x: &Cx<'_>, k: &str, col: &str) -> Vec<String> {
    let key = DepKey::Col(format!("{k}.{col}"));
    let names = |text: &str| {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
            .any(|w| w == col)
    };
    let mut lost: Vec<String> =
        x.a.deps
            .iter()
            .filter_map(|(d, ds)| match d {
                DepKey::Con(n) if ds.contains(&key) => Some(format!("constraint {n}")),
                _ => None,
            })
            .collect();
    for (n, i) in &x.a.indexes {
        if i.table == k && names(after_using(&i.definition)) {
            lost.push(format!("index {n}"));
        }
    }
    for (n, s) in &x.a.statistics {
        let on = s.definition.split_once(" ON ").map_or("", |(_, r)| r);
        let cols = on.rsplit_once(" FROM ").map_or(on, |(l, _)| l);
        if s.table == k && names(cols) {
            lost.push(format!("statistics {n}"));
        }
    }
    lost
}

/// An index or key definition from its access method on: "… USING btree (a, b) WHERE …".
fn after_using(def: &str) -> &str {
    def.split_once(" USING ").map_or(def, |(_, r)| r)
}

/// Whether a constraint that a NULL in column `col` of `k` could break uses it: a CHECK on
/// it, or a foreign key (of any table) referencing it — a suspended expression (NULL) would
/// fail them when the table is rewritten, so the column is not suspended.
fn null_breaks(x: &Cx<'_>, k: &str, col: &str) -> bool {
    let key = DepKey::Col(format!("{k}.{col}"));
    x.a.deps.iter().any(|(d, ds)| match d {
        DepKey::Con(n) if ds.contains(&key) => {
            let kind = split_qualified(n)
                .and_then(|(t, c)| x.a.tables.get(t).and_then(|t| t.constraints.get(c)))
                .map(|c| c.kind);
            !kind.is_some_and(|k| k.has_index())
        }
        _ => false,
    })
}

//! A stored generated column that reads a column whose type changes: Postgres refuses the
//! type change under it. On PostgreSQL ≥ 17 its expression is suspended (`SET EXPRESSION AS
//! (NULL)` reads nothing) and set again once the other columns changed: the column keeps its
//! place, its grants, comment and options. Before 17 it is dropped and added again (last).

use super::super::model::Column;
use super::{h, Cx, HazardKind, Phase, Stmt};

/// Whether generated column `c` (of A, rebuilt around a retyped column) is suspended rather
/// than dropped: PostgreSQL ≥ 17, and no NOT NULL that a NULL expression would break.
pub(super) fn suspends(x: &Cx<'_>, c: &Column) -> bool {
    x.a.server_version >= 170_000 && c.generated.is_some() && !c.not_null
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

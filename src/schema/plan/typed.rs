//! Typed tables (`CREATE TABLE … OF type`): their columns are the composite type's attributes,
//! and Postgres refuses both `ALTER TYPE … ADD/DROP/ALTER ATTRIBUTE` without `CASCADE` and
//! `ALTER TABLE … ADD/DROP COLUMN` or `ALTER COLUMN … TYPE` on them. A composite type whose
//! attributes change under a typed table is altered with `CASCADE` (when the tables' columns
//! change, after the objects the plan drops around them), and the tables' own column
//! statements start from the columns that leaves (see [`after_cascade`]).

use super::super::model::{Column, DepKey, Model, Table};
use super::{Cx, HazardKind, Phase, Stmt};

/// The composite type (of `m`) table `k` is a typed table of: it depends on the type, and its
/// columns are the type's attributes.
pub(super) fn type_of<'m>(m: &'m Model, k: &str) -> Option<&'m str> {
    let t = m.tables.get(k)?;
    let deps = m.deps.get(&DepKey::Rel(k.to_owned()))?;
    deps.iter().find_map(|d| {
        let DepKey::Type(ct) = d else { return None };
        let attrs = m.composites.get(ct)?;
        let cols: Vec<&Column> = t.columns.iter().collect();
        let same = cols.len() == attrs.len()
            && cols
                .iter()
                .zip(attrs)
                .all(|(c, (n, ty))| &c.name == n && &c.data_type == ty && !c.inherited);
        same.then_some(ct.as_str())
    })
}

/// The typed tables of composite type `ct` in `m`.
pub(super) fn tables_of(m: &Model, ct: &str) -> Vec<String> {
    m.tables
        .keys()
        .filter(|k| type_of(m, k) == Some(ct))
        .cloned()
        .collect()
}

/// Table `k` (`old`, typed on both sides by the same type) as the type's `CASCADE` leaves it:
/// gone attributes dropped, changed ones retyped, new ones added last.
pub(super) fn after_cascade(x: &Cx<'_>, k: &str, old: &Table) -> Option<Table> {
    let ct = type_of(x.a, k)?;
    if type_of(x.b, k) != Some(ct) {
        return None;
    }
    let attrs = x.b.composites.get(ct)?;
    let mut t = old.clone();
    t.columns
        .retain(|c| attrs.iter().any(|(n, _)| n == &c.name));
    for c in &mut t.columns {
        if let Some((_, ty)) = attrs.iter().find(|(n, _)| n == &c.name) {
            c.data_type = ty.clone();
        }
    }
    for (n, ty) in attrs {
        if old.column(n).is_none() {
            t.columns.push(Column {
                name: n.clone(),
                data_type: ty.clone(),
                not_null: false,
                default: None,
                identity: None,
                identity_options: None,
                generated: None,
                collation: None,
                inherited: false,
            });
        }
    }
    Some(t)
}

/// The statement changing attribute `n` of composite type `k` (`action`: `ADD ATTRIBUTE c
/// date`, `DROP ATTRIBUTE c`, `ALTER ATTRIBUTE c TYPE bigint`) when typed tables use the
/// type: with `CASCADE`, with the tables' column changes. `None` without typed tables.
pub(super) fn cascade(x: &Cx<'_>, k: &str, n: &str, action: &str) -> Option<Stmt> {
    let tables = tables_of(x.a, k);
    if tables.is_empty() {
        return None;
    }
    let list = tables.join(", ");
    let stmt = Stmt::new(Phase::AlterTables, format!("ALTER TYPE {k} {action} CASCADE"))
        .hazard(
            HazardKind::AccessExclusiveLock,
            format!("ACCESS EXCLUSIVE lock on the typed table(s) {list} while their column {n} changes with the type"),
        )
        .long();
    Some(if action.starts_with("DROP ") {
        stmt.hazard(
            HazardKind::DeletesData,
            format!("the data of column {n} of the typed table(s) {list} is lost"),
        )
    } else if action.starts_with("ALTER ") {
        stmt.hazard(
            HazardKind::TableRewrite,
            format!("the typed table(s) {list} are rewritten for the new type of {n}"),
        )
    } else {
        stmt
    })
}

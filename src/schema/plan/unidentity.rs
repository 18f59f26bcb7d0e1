//! An identity column that becomes a plain column drawing from a sequence (`serial`,
//! `DEFAULT nextval('s')`) the plan creates. `DROP IDENTITY` drops the identity's own
//! sequence, whose name the new one often takes (`t_id_seq`): created beside it, the new
//! sequence would collide; created after it, it would start again at 1 and hand out the
//! numbers of the rows already there. So the new sequence is created under a temporary name,
//! set past both the identity's position and the column's values, and renamed once the
//! identity is gone — all in this column's statements, not with the other sequences.

use std::collections::BTreeSet;

use super::super::model::{Column, Model};
use super::super::split_qualified;
use super::sql::lit;
use super::{sequences, Cx, HazardKind, Phase, Stmt};

/// The sequence (model key) that takes over from the identity of `new`'s column: created by
/// the plan, and read by the column's new default.
pub(super) fn successor<'m>(
    a: &Model,
    b: &'m Model,
    old: &Column,
    new: &Column,
) -> Option<&'m str> {
    if old.identity.is_none() || new.identity.is_some() {
        return None;
    }
    let default = new.default.as_deref()?;
    b.sequences
        .keys()
        .filter(|k| !a.sequences.contains_key(*k))
        .find(|k| default == format!("nextval({}::regclass)", lit(k)))
        .map(String::as_str)
}

/// Every sequence some column's identity hands over to: the sequences' own plan leaves
/// their creation to the column.
pub(super) fn successors(a: &Model, b: &Model) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (k, t) in &b.tables {
        let Some(old) = a.tables.get(k) else { continue };
        for c in &t.columns {
            if let Some(s) = old.column(&c.name).and_then(|o| successor(a, b, o, c)) {
                out.insert(s.to_owned());
            }
        }
    }
    out
}

/// Drops the identity of `table`.`col` and hands its position over to sequence `seq` (created
/// here). Ascending sequences go past the larger of the identity's last value and the
/// column's largest value; descending ones below the smaller.
pub(super) fn hand_over(x: &mut Cx<'_>, table: &str, col: &str, seq: &str) {
    let Some(s) = x.b.sequences.get(seq) else {
        return;
    };
    let (schema, name) = split_qualified(seq).unwrap_or(("", seq));
    let bare = name.trim_matches('"').replace("\"\"", "\"");
    let tmp_name = crate::pg::ident(&format!(
        "{}_neon_migrate",
        bare.chars().take(40).collect::<String>()
    ));
    let tmp = if schema.is_empty() {
        tmp_name.clone()
    } else {
        format!("{schema}.{tmp_name}")
    };
    let (pick, agg, cmp) = if s.increment < 0 {
        ("LEAST", "min", "<=")
    } else {
        ("GREATEST", "max", ">=")
    };
    let bare_col = col.trim_matches('"').replace("\"\"", "\"");
    let identity_seq = format!(
        "pg_catalog.pg_get_serial_sequence({}, {})::regclass",
        lit(table),
        lit(&bare_col)
    );
    // The table's owner draws from it as soon as the default does (and `OWNED BY` needs it).
    let owner = sequences::owner_when_created(x, seq);
    let owner_sql = owner
        .as_ref()
        .map(|(o, _)| format!("ALTER SEQUENCE {tmp} OWNER TO {o};\n"))
        .unwrap_or_default();
    let sql = format!(
        "CREATE SEQUENCE {tmp} AS {} {};\n{owner_sql}\
         SELECT pg_catalog.setval({}, v) FROM (SELECT {pick}(pg_catalog.pg_sequence_last_value({identity_seq}), (SELECT {agg}({col}) FROM {table})) AS v) AS p WHERE v {cmp} {};\n\
         ALTER TABLE {table} ALTER COLUMN {col} DROP IDENTITY;\n\
         ALTER SEQUENCE {tmp} RENAME TO {name}",
        s.data_type,
        sequences::body(s),
        lit(&tmp),
        s.start,
    );
    // Its owner, grants and comment are set as for any sequence the plan creates.
    x.recreated.insert(format!("SEQUENCE {seq}"));
    let mut stmt = Stmt::new(Phase::AlterTables, sql)
        .hazard(
            HazardKind::AccessExclusiveLock,
            format!("brief ACCESS EXCLUSIVE lock on {table} while the identity of {col} is dropped and its position handed to {seq} (a scan of the column for its largest value)"),
        )
        .long();
    if let Some((_, hazard)) = owner {
        stmt = stmt.hazard(HazardKind::AuthzUpdate, hazard);
    }
    x.push(stmt);
}

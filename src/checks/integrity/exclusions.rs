//! New EXCLUDE constraints, counted on `--from` like the other sure failures
//! ([`super::sure`]): the rows that conflict with another row under every operator of the
//! constraint make its build fail (the plan exited 0, then `could not create exclusion
//! constraint`). Counted when each element is a plain column compared with a bare operator
//! (`r WITH &&`) and there is no predicate; otherwise named "not counted". The operators are
//! resolved as the counting session resolves them (built-ins first): one the plan creates
//! fails the count, which then says so.

use super::hazards::Probe;
use super::scope::Scope;
use super::sure::{is_identifier, not_counted};
use crate::schema::{Model, Plan};

/// The probes of the EXCLUDE constraints the plan adds to tables of `from`.
pub(super) fn probes(
    plan: &mut Plan,
    from: &Model,
    to: &Model,
    source: &str,
    out: &mut Vec<Probe>,
) {
    for (table, new) in &to.tables {
        let Some(old) = from.tables.get(table) else {
            continue;
        };
        for (name, c) in &new.constraints {
            let def = c.definition.as_str();
            if !def.starts_with("EXCLUDE ")
                || old
                    .constraints
                    .get(name)
                    .is_some_and(|o| o.definition == c.definition)
            {
                continue;
            }
            let n = crate::pg::ident(name);
            let added = format!("ALTER TABLE {table} ADD CONSTRAINT {n} ");
            let Some(at) = plan
                .statements
                .iter()
                .position(|s| s.sql.starts_with(&added))
            else {
                continue;
            };
            // Not inherited by inheritance children; a partitioned table's spans its partitions.
            let scope = Scope::of(from, table, false);
            match elements(def) {
                Ok(pairs) => {
                    let other = scope.from(table);
                    // Under the counting session's search_path: built-in operators only.
                    let same: Vec<String> = pairs
                        .iter()
                        .map(|(col, op)| format!("o.{col} {op} t.{col}"))
                        .collect();
                    let cols: Vec<&str> = pairs.iter().map(|(c, _)| c.as_str()).collect();
                    let cols = cols.join(", ");
                    out.push(Probe {
                        statement: at,
                        table: table.clone(),
                        condition: format!(
                            "EXISTS (SELECT 1 FROM {other} o WHERE (o.tableoid, o.ctid) <> (t.tableoid, t.ctid) AND {})",
                            same.join(" AND ")
                        ),
                        what: format!("conflict with another row on ({cols}) under the new {def}"),
                        effect: "this statement fails on them",
                        nulls_in: None,
                        conversion: None,
                        refuse: Some(format!(
                            "rows of {table} conflict with each other on ({cols}) under the new {def} ({n}) — building it fails on them: change or delete those rows first, or leave the constraint out"
                        )),
                        // Its operators are the desired schema's: one the count cannot
                        // resolve is said not counted, and refused (`sure::unevaluated`).
                        desired_expression: Some(same.join(" AND ")),
                        scope,
                    });
                }
                Err(why) => not_counted(
                    plan,
                    at,
                    source,
                    &format!("would conflict under the new {def} ({n})"),
                    &format!("{why} — the desired schema's SQL is not run there, so a conflict makes this build fail unannounced"),
                ),
            }
        }
    }
}

/// The (column, operator) pairs of an EXCLUDE definition (`pg_get_constraintdef`) when each
/// element is a plain column compared with a bare operator and there is no predicate; else why
/// not.
fn elements(def: &str) -> Result<Vec<(String, String)>, &'static str> {
    const EXPRESSIONS: &str =
        "its elements are expressions, or carry a collation, operator class or schema-qualified operator of their own";
    let open = def.find('(').ok_or(EXPRESSIONS)?;
    let (mut depth, mut quoted, mut close) = (0usize, false, None);
    for (i, ch) in def[open..].char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.ok_or(EXPRESSIONS)?;
    if def[close..].contains(" WHERE ") {
        return Err("it has a WHERE predicate (repository SQL)");
    }
    let mut out = Vec::new();
    for item in def[open + 1..close].split(',') {
        let (col, op) = item.trim().rsplit_once(" WITH ").ok_or(EXPRESSIONS)?;
        let op = op.trim();
        let bare_op = !op.is_empty() && op.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c));
        if !is_identifier(col.trim()) || !bare_op {
            return Err(EXPRESSIONS);
        }
        out.push((col.trim().to_owned(), op.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_columns_and_bare_operators_are_counted() {
        assert_eq!(
            elements("EXCLUDE USING gist (room WITH =, during WITH &&)").unwrap(),
            [
                ("room".to_owned(), "=".to_owned()),
                ("during".to_owned(), "&&".to_owned())
            ]
        );
        assert!(elements("EXCLUDE USING gist (r WITH &&) WHERE ((id > 0))")
            .unwrap_err()
            .contains("WHERE"));
        assert!(elements("EXCLUDE USING gist (lower(a) WITH =)").is_err());
        assert!(elements("EXCLUDE USING gist (a WITH OPERATOR(public.===))").is_err());
    }
}

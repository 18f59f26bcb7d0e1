//! The probes of [`super::hazards`]: for each data-sensitive statement of a plan, the rows it
//! would fail on or change, as a condition on the table's rows.

use super::hazards::Probe;
use super::scope::Scope;
use crate::schema::model::{Constraint, Table};
use crate::schema::{Model, Plan};

/// The key of a row as text for the examples: the primary key's columns (`NULL` without one).
pub(super) fn key_text(table: Option<&Table>) -> String {
    let cols = table
        .and_then(|t| {
            t.constraints
                .values()
                .find(|c| c.definition.starts_with("PRIMARY KEY"))
        })
        .and_then(|c| columns_of(&c.definition));
    match cols {
        Some(cols) if cols.len() == 1 => format!("(t.{})::text", cols[0]),
        Some(cols) => format!(
            "(ROW({}))::text",
            cols.iter()
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "NULL::text".into(),
    }
}

/// The columns of the first parenthesised list of a constraint definition:
/// `UNIQUE (a, "B")` → `["a", "\"B\""]`.
fn columns_of(definition: &str) -> Option<Vec<String>> {
    let open = definition.find('(')?;
    let close = open + definition[open..].find(')')?;
    let cols: Vec<String> = definition[open + 1..close]
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    (!cols.is_empty()).then_some(cols)
}

/// The index of the first statement whose SQL starts with one of `prefixes`, in that order
/// of preference.
pub(super) fn statement(plan: &Plan, prefixes: &[String]) -> Option<usize> {
    prefixes.iter().find_map(|p| {
        plan.statements
            .iter()
            .position(|s| s.sql.starts_with(p.as_str()))
    })
}

pub(super) fn probes(
    plan: &Plan,
    from: &Model,
    to: &Model,
    volatile: &super::newkeys::Volatile,
) -> Vec<Probe> {
    let mut out = Vec::new();
    super::seq_bounds::narrowed_sequences(plan, from, to, &mut out);
    for (name, new) in &to.tables {
        let Some(old) = from.tables.get(name) else {
            continue;
        };
        columns(plan, name, old, new, &mut out);
        removed_enum_values(plan, name, old, new, from, to, &mut out);
        domain_nulls(plan, name, old, to, &mut out);
        for (cname, c) in &new.constraints {
            if old
                .constraints
                .get(cname)
                .is_some_and(|o| o.definition == c.definition)
            {
                continue;
            }
            if let Some(p) = constraint(plan, (name, new), cname, c, (from, to, volatile)) {
                out.push(p);
            }
        }
    }
    out
}

fn columns(plan: &Plan, table: &str, old: &Table, new: &Table, out: &mut Vec<Probe>) {
    for c in &new.columns {
        let Some(o) = old.columns.iter().find(|o| o.name == c.name) else {
            // A NOT NULL column without a default, added to a table with rows.
            if c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
                if let Some(i) = statement(
                    plan,
                    &[format!("ALTER TABLE {table} ADD COLUMN {} ", c.name)],
                ) {
                    out.push(Probe {
                        statement: i,
                        table: table.to_owned(),
                        condition: "true".into(),
                        what: format!(
                            "exist, and none has a value for the new NOT NULL column {}",
                            c.name
                        ),
                        effect: "this statement fails on them",
                        nulls_in: None,
                        conversion: None,
                        refuse: Some(format!(
                            "column {table}.{} is added NOT NULL without a default — the ADD COLUMN fails on them: give it a default, or add it nullable, backfill it and set NOT NULL after",
                            c.name
                        )),
                        desired_expression: None,
                        // ADD COLUMN, SET NOT NULL and TYPE reach inheritance children too.
                        scope: Scope::Descendants,
                    });
                }
            }
            continue;
        };
        if c.not_null && !o.not_null {
            let bare = c.name.trim_matches('"');
            let tmp = crate::pg::ident(&format!(
                "{}_nn_neon_migrate",
                bare.chars().take(40).collect::<String>()
            ));
            let i = statement(
                plan,
                &[
                    format!("ALTER TABLE {table} VALIDATE CONSTRAINT {tmp}"),
                    format!("ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL", c.name),
                ],
            );
            if let Some(i) = i {
                out.push(Probe {
                    statement: i,
                    table: table.to_owned(),
                    condition: format!("t.{} IS NULL", c.name),
                    what: format!("hold NULL in {}", c.name),
                    effect: "this statement fails on them",
                    nulls_in: Some(c.name.clone()),
                    conversion: None,
                    refuse: Some(super::sure::not_null(table, &c.name)),
                    desired_expression: None,
                    // ADD COLUMN, SET NOT NULL and TYPE reach inheritance children too.
                    scope: Scope::Descendants,
                });
            }
        }
        if c.data_type != o.data_type {
            if let Some(i) = statement(
                plan,
                &[format!("ALTER TABLE {table} ALTER COLUMN {} TYPE ", c.name)],
            ) {
                out.push(Probe {
                    statement: i,
                    table: table.to_owned(),
                    condition: format!(
                        "t.{c} IS NOT NULL AND (((t.{c})::{new})::{old})::text IS DISTINCT FROM (t.{c})::text",
                        c = c.name,
                        new = c.data_type,
                        old = o.data_type
                    ),
                    what: format!("hold values of {} that {} → {} changes", c.name, o.data_type, c.data_type),
                    effect: "they are truncated, rounded or shifted without an error",
                    nulls_in: None,
                    conversion: Some((c.name.clone(), o.data_type.clone(), c.data_type.clone())),
                    refuse: None,
                    desired_expression: None,
                    // ADD COLUMN, SET NOT NULL and TYPE reach inheritance children too.
                    scope: Scope::Descendants,
                });
            }
        }
    }
}

/// Columns (or arrays) of an enum whose values the desired schema drops: the plan recreates
/// the enum and retypes each column through text, which fails on any row holding a dropped
/// value — a sure failure, counted and refused (the plan would stop half-way otherwise).
fn removed_enum_values(
    plan: &Plan,
    table: &str,
    old: &Table,
    new: &Table,
    from: &Model,
    to: &Model,
    out: &mut Vec<Probe>,
) {
    for c in &new.columns {
        let Some(o) = old.columns.iter().find(|o| o.name == c.name) else {
            continue;
        };
        let element = c.data_type.trim_end_matches("[]");
        if o.data_type != c.data_type {
            continue;
        }
        let (Some(before), Some(after)) = (from.enums.get(element), to.enums.get(element)) else {
            continue;
        };
        let removed: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
        if removed.is_empty() {
            continue;
        }
        let Some(i) = statement(
            plan,
            &[format!("ALTER TABLE {table} ALTER COLUMN {} TYPE ", c.name)],
        ) else {
            continue;
        };
        let values = removed
            .iter()
            .map(|l| crate::pg::literal(l))
            .collect::<Vec<_>>()
            .join(", ");
        let condition = if c.data_type.ends_with("[]") {
            format!(
                "(t.{})::text[] OPERATOR(pg_catalog.&&) ARRAY[{values}]::text[]",
                c.name
            )
        } else {
            format!("(t.{})::text IN ({values})", c.name)
        };
        out.push(Probe {
            statement: i,
            table: table.to_owned(),
            condition,
            what: format!("hold a value of {element} the desired schema drops ({values}) in {}", c.name),
            effect: "this statement fails on them",
            nulls_in: None,
            conversion: None,
            refuse: Some(format!(
                "column {table}.{} holds enum values the desired schema drops from {element} ({values}) — the column's retype fails on them: change those rows first (UPDATE … SET {} = <a kept value>), or keep the values; or, if the value was meant to be renamed, write ALTER TYPE {element} RENAME VALUE by hand (rows holding it then read the new name; the engine never guesses a rename)",
                c.name, c.name
            )),
            desired_expression: None,
            scope: Scope::Descendants,
        });
    }
}

/// Columns of a domain the plan makes NOT NULL (`ALTER DOMAIN … SET NOT NULL` checks every
/// column of the domain): their NULLs make it fail — counted and refused.
fn domain_nulls(plan: &Plan, table: &str, old: &Table, to: &Model, out: &mut Vec<Probe>) {
    for c in &old.columns {
        if c.inherited || !to.domains.get(&c.data_type).is_some_and(|d| d.not_null) {
            continue;
        }
        let Some(i) = statement(
            plan,
            &[format!("ALTER DOMAIN {} SET NOT NULL", c.data_type)],
        ) else {
            continue;
        };
        out.push(Probe {
            statement: i,
            table: table.to_owned(),
            condition: format!("t.{} IS NULL", c.name),
            what: format!("hold NULL in {} (of domain {})", c.name, c.data_type),
            effect: "this statement fails on them",
            nulls_in: None,
            conversion: None,
            refuse: Some(format!(
                "column {table}.{} holds NULL, and its domain {} becomes NOT NULL — the ALTER DOMAIN fails on them: fill those rows first, or keep the domain nullable",
                c.name, c.data_type
            )),
            desired_expression: None,
            scope: Scope::Descendants,
        });
    }
}

/// The probe of constraint `name` (`c`) of `table` (as the desired schema has it: `new`).
fn constraint(
    plan: &Plan,
    (table, new): (&str, &Table),
    name: &str,
    c: &Constraint,
    (from, to, volatile): (&Model, &Model, &super::newkeys::Volatile),
) -> Option<Probe> {
    let n = crate::pg::ident(name);
    let def = c.definition.trim_end_matches(" NOT VALID");
    // A CHECK reaches inheritance children unless NO INHERIT; keys and FOREIGN KEYs never do.
    let inheritable = !def.ends_with(" NO INHERIT");
    let def = def.trim_end_matches(" NO INHERIT");
    let own = Scope::of(from, table, false);
    let added = [
        format!("ALTER TABLE {table} VALIDATE CONSTRAINT {n}"),
        format!("CREATE UNIQUE INDEX CONCURRENTLY {n} ON {table} "),
        format!("ALTER TABLE {table} ADD CONSTRAINT {n} "),
        // A key changed in place is built beside the old one under a temporary name first.
        format!(
            "CREATE UNIQUE INDEX CONCURRENTLY {} ON {table} ",
            crate::pg::ident(&format!("{name}_neon_migrate_new"))
        ),
    ];
    // The kind read from the definition (`pg_get_constraintdef`'s first words).
    let primary = def.starts_with("PRIMARY KEY ");
    let kind = if primary || def.starts_with("UNIQUE ") {
        'u'
    } else if def.starts_with("CHECK ") {
        'c'
    } else if def.starts_with("FOREIGN KEY ") {
        'f'
    } else {
        return None;
    };
    match kind {
        'u' => {
            let cols = columns_of(def)?;
            let bare = cols.join(", ");
            let nulls_equal = def.contains("NULLS NOT DISTINCT");
            // Columns the plan adds: read as the existing rows will hold them.
            let (dup, nulls, desired_expression) =
                match super::newkeys::lift(table, from, to, &cols, None, volatile) {
                    super::newkeys::Lifted::Distinct => return None,
                    super::newkeys::Lifted::Values(keys, _, values) => (
                        super::keyed::duplicate_keys(table, own, &keys, None, nulls_equal),
                        keys.iter().map(|k| format!("({k}) IS NULL")).collect(),
                        Some(format!("{} {values}", keys.join(", "))),
                    ),
                    super::newkeys::Lifted::Unchanged => (
                        super::sure::duplicates(table, own, &cols, nulls_equal),
                        cols.iter()
                            .map(|c| format!("t.{c} IS NULL"))
                            .collect::<Vec<_>>(),
                        None,
                    ),
                };
            let condition = if primary {
                format!("{dup} OR {}", nulls.join(" OR "))
            } else {
                dup
            };
            let what = if primary {
                format!("duplicate or leave NULL the new primary key ({bare})")
            } else {
                format!("share their ({bare}) with another row")
            };
            Some(Probe {
                statement: statement(plan, &added[1..])?,
                table: table.to_owned(),
                condition,
                what,
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(super::sure::unique(table, &n, &bare, primary)),
                desired_expression,
                scope: own,
            })
        }
        'c' if c.validated => {
            let expr = def.strip_prefix("CHECK ")?;
            let (condition, run) = super::sure::check_condition(expr, from.tables.get(table), new);
            Some(Probe {
                statement: statement(plan, &[added[0].clone(), added[2].clone()])?,
                table: table.to_owned(),
                condition,
                what: format!("violate {def}"),
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(super::sure::check(table, &n, def)),
                desired_expression: Some(run),
                scope: Scope::of(from, table, inheritable),
            })
        }
        'f' if c.validated => {
            let local = columns_of(def)?;
            let rest = def.split_once(" REFERENCES ")?.1;
            let (target, _) = rest.split_once('(')?;
            let target = target.trim();
            let remote = columns_of(rest)?;
            if remote.len() != local.len() {
                return None;
            }
            let present: Vec<String> = local.iter().map(|l| format!("t.{l} IS NOT NULL")).collect();
            let condition = if from.tables.contains_key(target) {
                let eq: Vec<String> = local
                    .iter()
                    .zip(&remote)
                    .map(|(l, r)| format!("r.{r} = t.{l}"))
                    .collect();
                // The key looks up `ONLY` the target (its partitions if partitioned).
                format!(
                    "{} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})",
                    present.join(" AND "),
                    Scope::of(from, target, false).from(target),
                    eq.join(" AND ")
                )
            } else {
                // The referenced table is new, hence empty when the key is validated.
                present.join(" AND ")
            };
            Some(Probe {
                statement: statement(plan, &[added[0].clone(), added[2].clone()])?,
                table: table.to_owned(),
                condition,
                what: format!("reference no row of {target} ({})", local.join(", ")),
                effect: "this statement fails on them",
                nulls_in: None,
                conversion: None,
                refuse: Some(super::sure::foreign_key(
                    table,
                    &n,
                    &local.join(", "),
                    target,
                )),
                desired_expression: None,
                scope: own,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_columns_are_read_from_the_definition() {
        assert_eq!(columns_of("UNIQUE (a, \"B\")").unwrap(), ["a", "\"B\""]);
        assert_eq!(columns_of("PRIMARY KEY (id) INCLUDE (x)").unwrap(), ["id"]);
        assert_eq!(
            columns_of("FOREIGN KEY (a) REFERENCES public.t(id)").unwrap(),
            ["a"]
        );
        assert_eq!(columns_of("UNIQUE ()"), None);
    }
}

//! Sure failures of domain CHECK constraints (F13), counted on the `--from` database like the
//! other sure failures ([`super::sure`]): a column whose type becomes a domain (`int` →
//! `public.positive`) holding values the domain's CHECKs refuse — the `ALTER COLUMN … TYPE`
//! fails on them — and a new validated CHECK of an existing domain (`ALTER DOMAIN … ADD
//! CHECK`) that values stored in a column of the domain fail — its `VALIDATE CONSTRAINT` fails.
//! Both exited 0 and failed on apply. The CHECK is the desired schema's expression, run only
//! when it calls nothing but immutable built-ins (`untrusted_calls`), with `VALUE` read as the
//! column's value cast to the domain's base type.

use super::hazards::Probe;
use super::scope::Scope;
use crate::schema::{Model, Plan};

/// The CHECKs a value of domain `d` of `m` must pass (its own and its base domains'), and
/// the type under them all (not a domain).
fn checks_of<'m>(m: &'m Model, d: &'m str) -> (Vec<(&'m str, &'m str)>, &'m str) {
    let (mut out, mut t) = (Vec::new(), d);
    let mut seen = 0;
    while let Some(dom) = m.domains.get(t) {
        out.extend(dom.checks.iter().map(|(n, c)| (n.as_str(), c.as_str())));
        t = &dom.base;
        seen += 1;
        if seen > 16 {
            break;
        }
    }
    (out, t)
}

/// `expr` (`CHECK (VALUE > 0)`'s inside, as the server prints it) with each `VALUE` keyword
/// outside quotes read as `value`.
fn with_value(expr: &str, value: &str) -> String {
    let (mut out, mut word) = (String::new(), String::new());
    let (mut single, mut double) = (false, false);
    let flush = |word: &mut String, out: &mut String| {
        if word == "VALUE" {
            out.push_str(value);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in expr.chars() {
        let in_word = ch.is_ascii_alphanumeric() || ch == '_' || ch == '$';
        if !single && !double && in_word {
            word.push(ch);
            continue;
        }
        flush(&mut word, &mut out);
        match ch {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            _ => {}
        }
        out.push(ch);
    }
    flush(&mut word, &mut out);
    out
}

/// Where a domain's CHECK is met: the statement, the column and its domain.
struct At<'a> {
    statement: usize,
    table: &'a str,
    column: &'a str,
    /// The type under the domain (what `VALUE` is read as).
    base: &'a str,
    domain: &'a str,
    /// The statement, as the refusal names it.
    when: String,
}

fn probe(at: &At<'_>, name: &str, def: &str) -> Option<Probe> {
    let At {
        statement,
        table,
        column,
        base,
        domain,
        when,
    } = at;
    let statement = *statement;
    let def = def.trim_end_matches(" NOT VALID");
    let expr = def.strip_prefix("CHECK ")?;
    let value = format!("((t.{column})::{base})");
    Some(Probe {
        statement,
        table: (*table).to_owned(),
        condition: format!("t.{column} IS NOT NULL AND NOT {}", with_value(expr, &value)),
        what: format!("hold values of {column} that domain {domain}'s {def} ({name}) refuses"),
        effect: "this statement fails on them",
        nulls_in: None,
        conversion: None,
        refuse: Some(format!(
            "column {table}.{column} holds values that the {def} ({name}) of domain {domain} refuses — {when} fails on them: change those rows first, or change the domain's CHECK"
        )),
        desired_expression: Some(expr.to_owned()),
        // Both statements reach the rows of the table's inheritance children and partitions
        // (whose inherited columns are not probed apart).
        scope: Scope::Descendants,
    })
}

fn position(plan: &Plan, prefix: &str) -> Option<usize> {
    plan.statements
        .iter()
        .position(|s| s.sql.starts_with(prefix))
}

/// The domain CHECKs the plan makes the stored values of `from`'s tables pass.
pub(super) fn probes(plan: &Plan, from: &Model, to: &Model, out: &mut Vec<Probe>) {
    for (tk, new) in &to.tables {
        let Some(old) = from.tables.get(tk) else {
            continue;
        };
        for c in &new.columns {
            let Some(o) = old.columns.iter().find(|o| o.name == c.name) else {
                continue;
            };
            // An inherited column's rows are counted from its parent's.
            if o.inherited {
                continue;
            }
            // The column becomes a domain: its values must pass every CHECK of it.
            if o.data_type != c.data_type && to.domains.contains_key(&c.data_type) {
                let Some(i) = position(
                    plan,
                    &format!("ALTER TABLE {tk} ALTER COLUMN {} TYPE ", c.name),
                ) else {
                    continue;
                };
                let (checks, base) = checks_of(to, &c.data_type);
                let at = At {
                    statement: i,
                    table: tk,
                    column: &c.name,
                    base,
                    domain: &c.data_type,
                    when: format!("the ALTER COLUMN {} TYPE {}", c.name, c.data_type),
                };
                out.extend(checks.into_iter().filter_map(|(n, def)| probe(&at, n, def)));
                continue;
            }
            // The column's domain (or a base domain of it) gets a new validated CHECK.
            let mut d = o.data_type.as_str();
            let mut depth = 0;
            while let (Some(was), Some(now)) = (from.domains.get(d), to.domains.get(d)) {
                for (n, def) in &now.checks {
                    if was.checks.get(n) == Some(def) || def.ends_with(" NOT VALID") {
                        continue;
                    }
                    let Some(i) =
                        position(plan, &format!("ALTER DOMAIN {d} VALIDATE CONSTRAINT {n}"))
                    else {
                        continue;
                    };
                    let (_, base) = checks_of(to, d);
                    let at = At {
                        statement: i,
                        table: tk,
                        column: &c.name,
                        base,
                        domain: d,
                        when: format!("ALTER DOMAIN {d} VALIDATE CONSTRAINT {n}"),
                    };
                    out.extend(probe(&at, n, def));
                }
                d = &now.base;
                depth += 1;
                if depth > 16 {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_replaced_outside_quotes_only() {
        assert_eq!(
            with_value("((VALUE > 0) AND (VALUE::text <> 'VALUE'))", "x"),
            "((x > 0) AND (x::text <> 'VALUE'))"
        );
        assert_eq!(
            with_value("(\"VALUE\" > VALUES_1)", "x"),
            "(\"VALUE\" > VALUES_1)"
        );
    }
}

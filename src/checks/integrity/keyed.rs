//! The keys of a new unique index or EXCLUDE constraint read from its definition
//! (`pg_get_indexdef`, `pg_get_constraintdef`): each element an expression the counting query
//! can select (a column, a parenthesized expression, a function call, with a `COLLATE` of its
//! own), and the predicate of a partial one. The counts of [`super::sure::unique_indexes`] and
//! [`super::exclusions`] evaluate them on `--from` — repository SQL, run there only when every
//! function it calls is an immutable built-in or one `--from` has as the desired schema has it
//! ([`super::sure::not_run`]); its bare operators resolve among the built-ins (the counting
//! session's search_path), one the plan creates fails the count, which is then refused.

use super::scope::Scope;
use super::sure::is_identifier;

/// Built-in operator classes whose equality is the type's own: an element carrying one is
/// counted as the bare expression.
const PLAIN_EQUALITY: &[&str] = &[
    "text_pattern_ops",
    "varchar_pattern_ops",
    "bpchar_pattern_ops",
];

/// An EXCLUDE's (expression, operator) pairs.
pub(super) type Pairs = Vec<(String, String)>;

/// What cannot be counted: an element the query cannot select as it is.
pub(super) const EXPRESSIONS: &str =
    "its elements carry an operator class, a schema-qualified operator or a syntax of their own";

/// The elements of a definition (between the parentheses after `USING method`), each as
/// written, and what follows them (`INCLUDE …`, `WHERE …`).
pub(super) fn split(def: &str) -> Result<(Vec<String>, &str), &'static str> {
    let rest = def.split_once(" USING ").ok_or(EXPRESSIONS)?.1;
    let open = rest.find('(').ok_or(EXPRESSIONS)?;
    let (items, end) = parenthesized(&rest[open..]).ok_or(EXPRESSIONS)?;
    Ok((items, &rest[open + end..]))
}

/// `s` opens with `(`: the comma-separated items at its top level, each as written, and the
/// byte offset just past the `)` that closes it (quoted names and strings skipped); `None`
/// when it never closes. The one scanner of parentheses here.
fn parenthesized(s: &str) -> Option<(Vec<String>, usize)> {
    let (mut depth, mut quoted, mut single) = (0usize, false, false);
    let mut items = vec![String::new()];
    for (i, ch) in s.char_indices() {
        match ch {
            '"' if !single => quoted = !quoted,
            '\'' if !quoted => single = !single,
            '(' if !quoted && !single => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ')' if !quoted && !single => {
                depth -= 1;
                if depth == 0 {
                    return Some((items, i + 1));
                }
            }
            ',' if !quoted && !single && depth == 1 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        items.last_mut().expect("one item").push(ch);
    }
    None
}

/// The predicate of a partial index or EXCLUDE (`WHERE (…)` after the elements), if any.
pub(super) fn predicate(tail: &str) -> Option<String> {
    let (_, p) = tail.split_once(" WHERE ")?;
    let mut p = p.trim();
    for suffix in [" INITIALLY DEFERRED", " INITIALLY IMMEDIATE", " DEFERRABLE"] {
        p = p.strip_suffix(suffix).unwrap_or(p).trim_end();
    }
    Some(p.to_owned())
}

/// One element (sort order already removed) as an expression a `SELECT` list can hold.
pub(super) fn element(item: &str) -> Result<String, &'static str> {
    let mut item = item.trim().to_owned();
    for class in PLAIN_EQUALITY {
        if let Some(s) = item.strip_suffix(&format!(" {class}")) {
            item = s.trim_end().to_owned();
        }
    }
    // `x COLLATE "C"` / `COLLATE pg_catalog."default"`: kept, the count compares under it.
    let base = match item.rsplit_once(" COLLATE ") {
        Some((b, c)) if c.split('.').all(|w| is_identifier(w) || w == "\"C\"") => b.trim(),
        _ => item.as_str(),
    };
    if is_identifier(base) || balanced_call(base) {
        Ok(item)
    } else {
        Err(EXPRESSIONS)
    }
}

/// The keys of a unique index (sort orders removed) and its predicate.
pub(super) fn index_keys(def: &str) -> Result<(Vec<String>, Option<String>), &'static str> {
    let (items, tail) = split(def)?;
    let mut keys = Vec::new();
    for item in items {
        let mut words = item.trim().to_owned();
        for suffix in [" NULLS FIRST", " NULLS LAST", " DESC", " ASC"] {
            if let Some(s) = words.strip_suffix(suffix) {
                words = s.to_owned();
            }
        }
        keys.push(element(&words)?);
    }
    Ok((keys, predicate(tail)))
}

/// The (expression, operator) pairs of an EXCLUDE and its predicate: each operator a bare one.
pub(super) fn exclusion_pairs(def: &str) -> Result<(Pairs, Option<String>), &'static str> {
    let (items, tail) = split(def)?;
    let mut pairs = Vec::new();
    for item in items {
        let (e, op) = item.trim().rsplit_once(" WITH ").ok_or(EXPRESSIONS)?;
        let op = op.trim();
        let bare_op = !op.is_empty() && op.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c));
        if !bare_op {
            return Err(EXPRESSIONS);
        }
        pairs.push((element(e)?, op.to_owned()));
    }
    Ok((pairs, predicate(tail)))
}

/// `(…)` or `name(…)` / `schema.name(…)`, whose first parenthesis closes at its end.
fn balanced_call(s: &str) -> bool {
    let Some(open) = s.find('(') else {
        return false;
    };
    let head = &s[..open];
    if !head.is_empty() && !head.split('.').all(is_identifier) {
        return false;
    }
    parenthesized(&s[open..]).is_some_and(|(_, end)| open + end == s.len())
}

/// The condition on `t` of sharing the values of `keys` (expressions of the table's columns)
/// with another row, among the rows of `scope` that satisfy `pred` (a partial index's): a
/// row outside the predicate is never in the index. NULLs never collide, unless `nulls_equal`
/// (`NULLS NOT DISTINCT`).
pub(super) fn duplicate_keys(
    table: &str,
    scope: Scope,
    keys: &[String],
    pred: Option<&str>,
    nulls_equal: bool,
) -> String {
    let from = scope.from(table);
    let pred = pred.unwrap_or("true");
    let list = keys.join(", ");
    let ordinals: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
    let names: Vec<String> = (1..=keys.len())
        .map(|i| format!("neon_migrate_k{i}"))
        .collect();
    let d: Vec<String> = names.iter().map(|n| format!("d.{n}")).collect();
    let same = if nulls_equal {
        "IS NOT DISTINCT FROM"
    } else {
        "="
    };
    format!(
        "(t.tableoid, t.ctid) IN (SELECT x.tableoid, x.ctid FROM {from} x WHERE ({pred}) AND EXISTS (\
         SELECT 1 FROM (SELECT {list} FROM {from} neon_migrate_g WHERE ({pred}) GROUP BY {} HAVING pg_catalog.count(*) > 1) d({}) \
         WHERE ROW({}) {same} ROW({list})))",
        ordinals.join(", "),
        names.join(", "),
        d.join(", ")
    )
}

/// The condition on `t` of conflicting with another row of `scope` under an EXCLUDE whose
/// elements are `pairs` (expression, operator), among the rows satisfying `pred`.
pub(super) fn conflicts(
    table: &str,
    scope: Scope,
    pairs: &[(String, String)],
    pred: Option<&str>,
) -> String {
    let from = scope.from(table);
    let pred = pred.unwrap_or("true");
    let keys: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (e, _))| format!("{e} AS neon_migrate_k{}", i + 1))
        .collect();
    let side = format!(
        "(SELECT tableoid AS neon_migrate_i, ctid AS neon_migrate_c, {} FROM {from} WHERE ({pred}))",
        keys.join(", ")
    );
    let same: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (_, op))| format!("a.neon_migrate_k{n} {op} b.neon_migrate_k{n}", n = i + 1))
        .collect();
    format!(
        "(t.tableoid, t.ctid) IN (SELECT a.neon_migrate_i, a.neon_migrate_c FROM {side} a JOIN {side} b \
         ON (a.neon_migrate_i, a.neon_migrate_c) <> (b.neon_migrate_i, b.neon_migrate_c) AND {})",
        same.join(" AND ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_predicates_are_read_from_the_definition() {
        let def = "CREATE UNIQUE INDEX i ON public.t USING btree (lower(email), ((a + 1)) DESC, b COLLATE \"C\", c text_pattern_ops) WHERE (d IS NULL)";
        let (items, tail) = split(def).unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(predicate(tail).unwrap(), "(d IS NULL)");
        assert_eq!(element("lower(email)").unwrap(), "lower(email)");
        assert_eq!(element("((a + 1))").unwrap(), "((a + 1))");
        assert_eq!(element("b COLLATE \"C\"").unwrap(), "b COLLATE \"C\"");
        assert_eq!(element("c text_pattern_ops").unwrap(), "c");
        assert!(element("c public.my_ops").is_err());
        assert!(element("lower(a) || lower(b)").is_err());
        let x = "EXCLUDE USING gist (r WITH &&) WHERE ((id > 0)) DEFERRABLE";
        assert_eq!(predicate(split(x).unwrap().1).unwrap(), "((id > 0))");
        assert!(balanced_call("lower((a || ')'))"));
        assert!(!balanced_call("(a) + (b)"));
        assert!(split("CREATE INDEX i ON t USING btree (a, (b").is_err());
    }
}

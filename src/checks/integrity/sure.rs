//! Sure failures among the counted hazards ([`super::hazards`]): a statement whose rows on
//! the `--from` database make it fail — NULLs under a new SET NOT NULL, duplicates under a new
//! UNIQUE / PRIMARY KEY or unique index, orphans under a new validated FOREIGN KEY, violations
//! of a new validated CHECK, values a type change refuses. A count above zero refuses the plan
//! (`diff` and `generate` exit 4): applied, it would stop half-way (a NOT VALID constraint
//! committed, an invalid index left by a failed CONCURRENTLY build). Each text says what
//! fails, where, and how to get past it.
//!
//! New unique indexes are counted here too, on plain columns only: an index on expressions,
//! with a predicate, or with a collation or operator class of its own would need its
//! (repository) SQL run on `--from` — it is named "not counted" instead.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::hazards::{untrusted_calls, Offending, Probe};
use super::scope::Scope;
use crate::schema::{Hazard, HazardKind, Model, Plan};

pub(super) fn not_null(table: &str, column: &str) -> String {
    format!(
        "column {table}.{column} holds NULL, and the desired schema makes it NOT NULL — the SET NOT NULL fails on them: fill those rows first (UPDATE {table} SET {column} = … WHERE {column} IS NULL, in a migration of its own), or keep the column nullable"
    )
}

pub(super) fn unique(table: &str, name: &str, columns: &str, primary: bool) -> String {
    let (what, kind) = if primary {
        ("duplicate or leave NULL", "PRIMARY KEY")
    } else {
        ("share their values of", "UNIQUE constraint")
    };
    format!(
        "rows of {table} {what} ({columns}), which the new {kind} {name} requires to be unique — building it fails on them: change or delete those rows first, or leave the constraint out"
    )
}

pub(super) fn unique_index(table: &str, index: &str, columns: &str, partial: &str) -> String {
    format!(
        "rows of {table} share their values of ({columns}){partial}, which the new unique index {index} requires to be unique — building it fails on them (a CONCURRENTLY build leaves an invalid index behind): change or delete those rows first, or leave the index out"
    )
}

pub(super) fn foreign_key(table: &str, name: &str, columns: &str, target: &str) -> String {
    format!(
        "rows of {table} reference no row of {target} through ({columns}), and the new FOREIGN KEY {name} is validated — the validation fails on them (after the key was added NOT VALID): add the missing rows of {target} or change or delete those rows first, or declare the key NOT VALID"
    )
}

pub(super) fn check(table: &str, name: &str, definition: &str) -> String {
    format!(
        "rows of {table} violate the new {definition} ({name}), which is validated — the validation fails on them (after the constraint was added NOT VALID): change those rows first, or declare the constraint NOT VALID"
    )
}

pub(super) fn conversion(table: &str, column: &str, old: &str, new: &str) -> String {
    format!(
        "column {table}.{column} holds values that {old} → {new} refuses — the type change fails on them: change those rows first, or convert the column by hand (a new column, filled by a conversion you write)"
    )
}

/// What refuses a statement whose count stopped on a row raising SQLSTATE `code` (a value the
/// conversion or the CHECK refuses): it fails on that row, however many more there are.
pub(super) fn raised(p: &Probe, source: &str, code: &str) -> String {
    let why = match (&p.refuse, &p.conversion) {
        (Some(r), _) => r.clone(),
        (None, Some((c, old, new))) => conversion(&p.table, c, old, new),
        (None, None) => format!("{} — this statement fails on them", p.what),
    };
    format!("at least one row of {source} (not counted: it raises SQLSTATE {code}): {why}")
}

/// For a probe evaluating an expression of the desired schema: `None` when it may be run on
/// `source` (it calls only immutable built-ins, or functions of the schema the plan leaves as
/// they are on `source`: their count is the statement's own check, run before it). Else its
/// rows are not counted, and the statement may fail on any of them: said so, and refused
/// unless it checks no row (the returned list holds the refusal).
pub(super) async fn not_run(
    client: &Client,
    plan: &mut Plan,
    from: &Model,
    to: &Model,
    p: &Probe,
    source: &str,
) -> Option<Vec<Offending>> {
    let expr = p.desired_expression.as_ref()?;
    let calls = untrusted_calls(client, expr).await;
    let names: Vec<&str> = calls
        .iter()
        .filter(|c| !unchanged(from, to, c))
        .map(|c| c.as_str())
        .collect();
    if names.is_empty() {
        return None;
    }
    let why = format!("the expression calls {} — only immutable built-in functions, and functions {source} has as the desired schema has them, are run on {source}", names.join(", "));
    Some(refuse_uncounted(client, plan, p, source, &why).await)
}

/// For a probe evaluating an expression of the desired schema whose count failed with `e`
/// (not a refused value): a function or type it names that the plan creates first (SQLSTATE
/// 42883, 42704), or a column the plan adds with values not known before (42703, an identity
/// column), leaves its rows not counted — said, and refused unless it checks no row. Another
/// failure is said "not counted" only.
pub(super) async fn unevaluated(
    client: &Client,
    plan: &mut Plan,
    p: &Probe,
    source: &str,
    e: &tokio_postgres::Error,
) -> Vec<Offending> {
    if p.desired_expression.is_none() {
        return Vec::new();
    }
    let code = e.as_db_error().map_or("?", |d| d.code().code());
    let why = format!("evaluating the expression on {source} raises SQLSTATE {code}");
    if matches!(code, "42883" | "42704") {
        let why = format!("{why} (it names a function or type {source} does not have yet)");
        return refuse_uncounted(client, plan, p, source, &why).await;
    }
    // A column the plan adds whose values are not known before it runs (an identity column:
    // numbered by its sequence in the order the rewrite reads the rows).
    if e.as_db_error().map(|d| d.code()) == Some(&SqlState::UNDEFINED_COLUMN) {
        let why = format!("{why} (it names a column the plan adds, whose values {source} does not hold yet: an identity column's are numbered as the rewrite reads the rows)");
        return refuse_uncounted(client, plan, p, source, &why).await;
    }
    not_counted(plan, p.statement, source, &p.what, &why);
    Vec::new()
}

/// Says the rows `p` checks not counted (`why`) and refuses the plan, unless `p` checks no
/// row (an empty table cannot fail it).
pub(super) async fn refuse_uncounted(
    client: &Client,
    plan: &mut Plan,
    p: &Probe,
    source: &str,
    why: &str,
) -> Vec<Offending> {
    let rows = format!(
        "SELECT pg_catalog.count(*) FROM {} t",
        p.scope.from(&p.table)
    );
    let n: Option<i64> = client.query_one(&rows, &[]).await.ok().map(|r| r.get(0));
    if n == Some(0) {
        return Vec::new();
    }
    not_counted(plan, p.statement, source, &p.what, why);
    let held = n.map_or_else(|| "the".to_owned(), |n| n.to_string());
    // A unique index or EXCLUDE cannot be NOT VALID: built, it checks every row.
    let sql = &plan.statements[p.statement].sql;
    let way = if sql.starts_with("CREATE ") || sql.contains(" EXCLUDE ") {
        format!("check those rows by hand and build it in a migration of its own (counted there once what it calls exists on {source}), or leave it out")
    } else {
        format!("check those rows by hand and declare the constraint NOT VALID (validated in a migration of its own, once what it calls exists on {source}), or leave it out")
    };
    let refusal = format!(
        "{held} row(s) of {source} in {} were not counted ({why}) — the statement fails if any of them {}: the plan is refused rather than risk failing half-way; {way}",
        p.table, p.what
    );
    vec![Offending {
        statement: p.statement,
        rows: None,
        message: refusal.clone(),
        refusal: Some(refusal),
    }]
}

/// Whether every function of the name `called` (`proname`) is in `from` as in `to`, and
/// there is one.
fn unchanged(from: &Model, to: &Model, called: &str) -> bool {
    let named = |m: &Model| -> Vec<(String, crate::schema::model::Function)> {
        m.functions
            .iter()
            .filter(|(k, _)| {
                let head = k.split('(').next().unwrap_or("");
                let name = head.rsplit('.').next().unwrap_or("");
                name.trim_matches('"').eq_ignore_ascii_case(called)
            })
            .map(|(k, f)| (k.clone(), f.clone()))
            .collect()
    };
    let now = named(to);
    !now.is_empty() && now == named(from)
}

/// Says, as one more hazard of `statement`, that the rows of `source` that `what` were not
/// counted, and why.
pub(super) fn not_counted(plan: &mut Plan, statement: usize, source: &str, what: &str, why: &str) {
    plan.statements[statement].hazards.push(Hazard {
        kind: HazardKind::Correctness,
        message: format!("the rows of {source} that {what} were not counted: {why}"),
    });
}

/// New (or changed) unique indexes of tables of both sides: duplicates are probed — of plain
/// columns, or of the expressions and among the rows of the predicate of the desired schema's
/// index ([`super::keyed`]); those that cannot be counted go to `uncounted`, with why.
pub(super) fn unique_indexes(
    plan: &Plan,
    from: &Model,
    to: &Model,
    out: &mut Vec<Probe>,
    uncounted: &mut Vec<(Probe, String)>,
    volatile: &super::newkeys::Volatile,
) {
    for (k, i) in &to.indexes {
        if !i.unique || !from.tables.contains_key(&i.table) {
            continue;
        }
        if from
            .indexes
            .get(k)
            .is_some_and(|o| o.definition == i.definition)
        {
            continue;
        }
        let concurrent = i.definition.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1);
        // On a partitioned table: built on every partition at once (`ON`, not `ON ONLY`).
        let cascading = i.definition.replacen(" ON ONLY ", " ON ", 1);
        let Some(at) = plan
            .statements
            .iter()
            .map(|s| s.sql.trim_end().trim_end_matches(';'))
            .position(|s| s == i.definition || s == concurrent || s == cascading)
        else {
            continue;
        };
        // A unique index is the table's own (its partitions' if partitioned).
        let scope = Scope::of(from, &i.table, false);
        let nulls_equal = i.definition.contains(" NULLS NOT DISTINCT");
        let keys = super::keyed::index_keys(&i.definition);
        let bare = keys
            .as_ref()
            .map_or_else(|_| "its keys".to_owned(), |(k, _)| k.join(", "));
        let partial = match &keys {
            Ok((_, Some(p))) => format!(" among the rows WHERE {p}"),
            _ => String::new(),
        };
        let mut probe = Probe {
            statement: at,
            table: i.table.clone(),
            condition: String::new(),
            what: format!("share their ({bare}){partial} with another row (unique index {k})"),
            effect: "this statement fails on them",
            nulls_in: None,
            conversion: None,
            refuse: Some(unique_index(&i.table, k, &bare, &partial)),
            desired_expression: None,
            scope,
        };
        if let Ok((ks, pred)) = &keys {
            match super::newkeys::lift(&i.table, from, to, ks, pred.as_deref(), volatile) {
                super::newkeys::Lifted::Distinct => continue,
                super::newkeys::Lifted::Values(ks, pred, values) => {
                    probe.condition = super::keyed::duplicate_keys(
                        &i.table,
                        scope,
                        &ks,
                        pred.as_deref(),
                        nulls_equal,
                    );
                    probe.desired_expression = Some(format!(
                        "{} {} {values}",
                        ks.join(", "),
                        pred.unwrap_or_default()
                    ));
                    out.push(probe);
                    continue;
                }
                super::newkeys::Lifted::Unchanged => {}
            }
        }
        match (plain_index_columns(&i.definition), keys) {
            (Ok(cols), _) => {
                probe.condition = duplicates(&i.table, scope, &cols, nulls_equal);
                out.push(probe);
            }
            (Err(_), Ok((keys, pred))) => {
                probe.condition = super::keyed::duplicate_keys(
                    &i.table,
                    scope,
                    &keys,
                    pred.as_deref(),
                    nulls_equal,
                );
                // Repository SQL: run only as `not_run` allows, refused if it cannot be.
                probe.desired_expression =
                    Some(format!("{} {}", keys.join(", "), pred.unwrap_or_default()));
                out.push(probe);
            }
            (Err(_), Err(why)) => uncounted.push((probe, why.to_owned())),
        }
    }
}

/// Attributes of composite types the plan drops while a column of `from` stores the type
/// (`deletes_data`, attack9 F2): the rows holding a value of that attribute are counted, as
/// a narrowing type change's changed values are (they go from every stored row). Columns of
/// the type itself and arrays of it; a domain or another composite over it is not counted.
pub(super) fn dropped_attributes(plan: &Plan, from: &Model, to: &Model, out: &mut Vec<Probe>) {
    for (k, attrs) in &from.composites {
        let Some(now) = to.composites.get(k) else {
            continue;
        };
        for (n, _) in attrs
            .iter()
            .filter(|(n, _)| !now.iter().any(|(m, _)| m == n))
        {
            let sql = format!("ALTER TYPE {k} DROP ATTRIBUTE {n}");
            let Some(at) = plan
                .statements
                .iter()
                .position(|s| s.sql.trim_end().trim_end_matches(';') == sql)
            else {
                continue;
            };
            for (tk, t) in &from.tables {
                for c in t
                    .columns
                    .iter()
                    .filter(|c| !c.inherited && c.generated.is_none())
                {
                    let condition = if c.data_type == *k {
                        format!("(t.{}).{n} IS NOT NULL", c.name)
                    } else if c.data_type.strip_suffix("[]") == Some(k.as_str()) {
                        format!("EXISTS (SELECT 1 FROM pg_catalog.unnest(t.{}) e WHERE (e).{n} IS NOT NULL)", c.name)
                    } else {
                        continue;
                    };
                    out.push(Probe {
                        statement: at,
                        table: tk.clone(),
                        condition,
                        what: format!("hold a value of attribute {n} of {k} in {}", c.name),
                        effect: "those values are lost (the attribute goes from every stored row)",
                        nulls_in: None,
                        conversion: None,
                        refuse: None,
                        desired_expression: None,
                        // The attribute goes from the children's rows too.
                        scope: Scope::Descendants,
                    });
                }
            }
        }
    }
}

/// The condition on `t` of violating the CHECK `expr` of a table (`old` on `--from`, `new`
/// desired), and what it evaluates of the desired schema. Columns the plan adds hold their
/// default (NULL without one), or their generation expression, in the rows the CHECK is
/// validated on: those `expr` names are read from a row of these (`SELECT <default>::<type>
/// AS c`), the table's own columns from `t` (a correlated reference). A new identity column
/// is left out (its values come from a sequence): the count then fails, and is refused ([`unevaluated`]).
pub(super) fn check_condition(
    expr: &str,
    old: Option<&crate::schema::model::Table>,
    new: &crate::schema::model::Table,
) -> (String, String) {
    let words = identifier_words(expr);
    let added: Vec<&crate::schema::model::Column> = new
        .columns
        .iter()
        .filter(|c| old.is_some_and(|o| !o.columns.iter().any(|x| x.name == c.name)))
        .filter(|c| c.identity.is_none())
        .filter(|c| words.contains(&c.name.trim_matches('"').to_owned()))
        .collect();
    if added.is_empty() {
        return (format!("NOT {expr}"), expr.to_owned());
    }
    let values: Vec<String> = added
        .iter()
        .map(|c| {
            let value = c.generated.as_deref().or(c.default.as_deref());
            let value = value.unwrap_or("NULL");
            format!("({value})::{} AS {}", c.data_type, c.name)
        })
        .collect();
    let values = values.join(", ");
    (
        format!("NOT (SELECT {expr} FROM (SELECT {values}) n)"),
        format!("{expr} {values}"),
    )
}

/// The identifiers of `expr` (bare words, and double-quoted names without their quotes), in
/// the server's spelling; quoted strings are skipped.
pub(super) fn identifier_words(expr: &str) -> Vec<String> {
    let (mut out, mut word) = (Vec::new(), String::new());
    let (mut single, mut double) = (false, false);
    for ch in expr.chars().chain(std::iter::once(' ')) {
        match ch {
            '\'' if !double => single = !single,
            '"' if !single => {
                double = !double;
                continue;
            }
            _ => {}
        }
        let in_word = double || ch.is_alphanumeric() || ch == '_' || ch == '$';
        if !single && in_word {
            word.push(ch);
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    out
}

/// The condition on `t` (a row of `table`) of sharing the values of `cols` with another row
/// among the rows of `scope`.
/// Under `NULLS NOT DISTINCT` (`nulls_equal`) NULLs compare equal, as the index compares them:
/// `IN` never matches a NULL, so the rows are matched with `IS NOT DISTINCT FROM` instead.
pub(super) fn duplicates(table: &str, scope: Scope, cols: &[String], nulls_equal: bool) -> String {
    let list = |alias: &str| {
        cols.iter()
            .map(|c| format!("{alias}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bare = cols.join(", ");
    let groups = format!(
        "SELECT {bare} FROM {} GROUP BY {bare} HAVING pg_catalog.count(*) > 1",
        scope.from(table)
    );
    if nulls_equal {
        format!(
            "EXISTS (SELECT 1 FROM ({groups}) d WHERE ROW({}) IS NOT DISTINCT FROM ROW({}))",
            list("d"),
            list("t")
        )
    } else {
        format!("({}) IN ({groups})", list("t"))
    }
}

/// The key columns of a unique index's definition (`pg_get_indexdef`) when each is a plain
/// column (sorted `DESC` or `NULLS FIRST/LAST` at most) and there is no predicate; else why not.
fn plain_index_columns(def: &str) -> Result<Vec<String>, &'static str> {
    const EXPRESSIONS: &str =
        "its keys are expressions, or carry a collation or operator class of their own";
    let (items, tail) = super::keyed::split(def).map_err(|_| EXPRESSIONS)?;
    if tail.contains(" WHERE ") {
        return Err("it is a partial index (its WHERE predicate is repository SQL)");
    }
    let mut cols = Vec::new();
    for item in items {
        let mut words = item.trim().to_owned();
        for suffix in [" NULLS FIRST", " NULLS LAST", " DESC", " ASC"] {
            if let Some(s) = words.strip_suffix(suffix) {
                words = s.to_owned();
            }
        }
        if !is_identifier(&words) {
            return Err(EXPRESSIONS);
        }
        cols.push(words);
    }
    Ok(cols)
}

/// A column name as the server prints it: a bare lower-case word, or one double-quoted name.
pub(super) fn is_identifier(s: &str) -> bool {
    let bare = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_' || !c.is_ascii())
        && s.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$' || !c.is_ascii()
        });
    let quoted = s.len() >= 2
        && s.starts_with('"')
        && s.ends_with('"')
        && !s[1..s.len() - 1].replace("\"\"", "").contains('"');
    bare || quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_read_outside_strings_and_without_quotes() {
        assert_eq!(
            identifier_words("((c > 0) AND (\"My c\" <> 'x y'::text))"),
            ["c", "0", "AND", "My c", "text"]
        );
    }

    #[test]
    fn only_plain_columns_of_a_unique_index_are_counted() {
        let ok = |d: &str| plain_index_columns(d).ok();
        assert_eq!(
            ok("CREATE UNIQUE INDEX i ON public.t USING btree (a, \"B,c\" DESC NULLS LAST) INCLUDE (x)").unwrap(),
            ["a", "\"B,c\""]
        );
        assert_eq!(
            ok("CREATE UNIQUE INDEX i ON public.t USING btree (lower(email))"),
            None
        );
        assert_eq!(
            ok("CREATE UNIQUE INDEX i ON public.t USING btree (a text_pattern_ops)"),
            None
        );
        assert_eq!(
            ok("CREATE UNIQUE INDEX i ON public.t USING btree (a COLLATE \"C\")"),
            None
        );
        assert_eq!(
            ok("CREATE UNIQUE INDEX i ON public.t USING btree ((a + 1))"),
            None
        );
        assert!(plain_index_columns(
            "CREATE UNIQUE INDEX i ON public.t USING btree (a) WHERE (a > 0)"
        )
        .unwrap_err()
        .contains("partial"));
    }
}

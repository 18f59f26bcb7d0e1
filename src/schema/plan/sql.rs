//! Small pieces of SQL text shared by the object kinds.

use super::super::model::{Column, IdentityOptions};

pub(super) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub(super) fn column_sql(c: &Column) -> String {
    let mut s = format!("{} {}", c.name, c.data_type);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
    } else if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(k) = c.identity {
        s.push_str(&identity_sql(k, c.identity_options.as_ref()));
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    s
}

/// ` GENERATED … AS IDENTITY (options)`.
pub(super) fn identity_sql(kind: char, options: Option<&IdentityOptions>) -> String {
    let how = if kind == 'a' { "ALWAYS" } else { "BY DEFAULT" };
    match options {
        Some(o) => format!(" GENERATED {how} AS IDENTITY ({})", o.clauses().join(" ")),
        None => format!(" GENERATED {how} AS IDENTITY"),
    }
}

/// Defaults that Postgres cannot store as a "fast default" (PG ≥ 11) force a rewrite.
pub(super) fn volatile_default(expr: &str) -> bool {
    let e = expr.to_lowercase();
    [
        "nextval(",
        "random(",
        "gen_random_uuid(",
        "uuid_generate",
        "clock_timestamp(",
        "timeofday(",
    ]
    .iter()
    .any(|f| e.contains(f))
}

/// Type changes known not to rewrite the table (binary-coercible widening).
pub(super) fn no_rewrite(from: &str, to: &str) -> bool {
    let len = |t: &str, p: &str| -> Option<Option<u32>> {
        if t == p {
            return Some(None);
        }
        t.strip_prefix(&format!("{p}("))
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|n| n.parse().ok())
            .map(Some)
    };
    for base in ["character varying", "varchar", "bit varying"] {
        if let (Some(a), Some(b)) = (len(from, base), len(to, base)) {
            return match (a, b) {
                (Some(x), Some(y)) => y >= x,
                (_, None) => true,
                (None, Some(_)) => false,
            };
        }
    }
    if (from.starts_with("character varying") || from == "text") && to == "text" {
        return true;
    }
    false
}

pub(super) fn index_sql_concurrent(def: &str) -> String {
    // "CREATE [UNIQUE] INDEX name ON …" → "CREATE [UNIQUE] INDEX CONCURRENTLY name ON …"
    def.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1)
}

/// Index definition for a partitioned table: without `ONLY`, so it cascades to partitions.
pub(super) fn index_sql_cascading(def: &str) -> String {
    def.replacen(" ON ONLY ", " ON ", 1)
}

pub(super) fn strip_not_valid(def: &str) -> &str {
    def.strip_suffix(" NOT VALID").unwrap_or(def)
}

/// `(cols)` plus `INCLUDE`/`NULLS NOT DISTINCT` of a PRIMARY KEY/UNIQUE definition, when it
/// can be built as a plain unique index.
pub(super) fn unique_index_columns(def: &str) -> Option<&str> {
    if def.contains("DEFERRABLE")
        || def.contains("USING INDEX TABLESPACE")
        || def.contains(" WITH (")
    {
        return None;
    }
    let rest = def
        .strip_prefix("PRIMARY KEY ")
        .or_else(|| def.strip_prefix("UNIQUE "))?;
    Some(rest)
}

/// The name of a table's object (`public.t.name` → `name`).
pub(super) fn name_of(key: &str, table: &str) -> String {
    key.strip_prefix(table)
        .and_then(|k| k.strip_prefix('.'))
        .unwrap_or(key)
        .to_owned()
}

/// The element type of an array type (`public.tag[]` → `public.tag`), else the type itself.
pub(super) fn element_type(data_type: &str) -> &str {
    let mut t = data_type;
    while let Some(e) = t.strip_suffix("[]") {
        t = e;
    }
    t
}

pub(super) fn is_subsequence(old: &[String], new: &[String]) -> bool {
    let mut it = new.iter();
    old.iter().all(|o| it.any(|n| n == o))
}

/// `{name}{suffix}` of a qualified name's last part, for a renamed-away old copy.
pub(super) fn old_name(key: &str, suffix: &str) -> String {
    format!(
        "{}{suffix}",
        key.rsplit('.').next().unwrap_or(key).trim_matches('"')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_coercible_widenings_do_not_rewrite() {
        assert!(no_rewrite("character varying(32)", "character varying(64)"));
        assert!(no_rewrite("character varying(32)", "text"));
        assert!(!no_rewrite(
            "character varying(64)",
            "character varying(32)"
        ));
        assert!(!no_rewrite("integer", "bigint"));
    }

    #[test]
    fn enum_additions_are_recognised() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(is_subsequence(&s(&["a", "c"]), &s(&["a", "b", "c"])));
        assert!(!is_subsequence(&s(&["a", "c"]), &s(&["c", "a"])));
    }
}

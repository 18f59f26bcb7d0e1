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
        s.push_str(&identity_sql(k, c.identity_options.as_deref()));
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
        Some(o) => {
            let name = o
                .sequence_name
                .as_ref()
                .map(|n| format!("SEQUENCE NAME {n} "))
                .unwrap_or_default();
            format!(
                " GENERATED {how} AS IDENTITY ({name}{})",
                o.clauses().join(" ")
            )
        }
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

/// `name(n)` / `name(p,s)` → (`name`, numbers); a type without a modifier has none.
fn type_mods(t: &str) -> (&str, Vec<i64>) {
    match t.split_once('(') {
        Some((base, rest)) => {
            let inner = rest.split_once(')').map_or(rest, |(i, _)| i);
            let n = inner
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            // `timestamp(3) without time zone`: the modifier sits inside the name.
            let tail = rest.split_once(')').map_or("", |(_, t)| t);
            if tail.is_empty() {
                (base, n)
            } else {
                (t, n)
            }
        }
        None => (t, Vec::new()),
    }
}

/// How a type change can lose values without an error, or fail on values out of range
/// (the `USING` cast truncates strings, rounds numbers): `None` when it cannot.
pub fn narrowing(from: &str, to: &str) -> Option<String> {
    if let (Some(f), Some(t)) = (from.strip_suffix("[]"), to.strip_suffix("[]")) {
        return narrowing(f, t);
    }
    let (fb, fm) = type_mods(from);
    let (tb, tm) = type_mods(to);
    let strings = [
        "text",
        "character varying",
        "character",
        "bpchar",
        "varchar",
        "char",
    ];
    let is_string = |b: &str| strings.contains(&b);
    if is_string(tb) && is_string(fb) {
        if let Some(&m) = tm.first() {
            let wider = fm.first().is_some_and(|&n| n <= m) && fb != "text";
            if !wider {
                return Some(format!(
                    "values longer than {m} characters are cut to {m} without an error"
                ));
            }
        }
        return None;
    }
    let rank = |b: &str| match b {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        _ => None,
    };
    let inexact = |b: &str| ["numeric", "real", "double precision"].contains(&b);
    match (rank(fb), rank(tb)) {
        (Some(f), Some(t)) if t < f => {
            return Some(format!("values outside the range of {to} make the apply fail"))
        }
        (None, Some(_)) if inexact(fb) => {
            return Some(format!("fractions are rounded away converting to {to}, and values outside its range make the apply fail"))
        }
        _ => {}
    }
    if let Some(how) = to_float(fb, tb, rank) {
        return Some(how);
    }
    if tb == "numeric" && !tm.is_empty() {
        let (p2, s2) = (tm[0], tm.get(1).copied().unwrap_or(0));
        // (fractions rounded, integer digits that no longer fit): integers have no fractions.
        let (rounds, overflows) = match (fb, fm.as_slice()) {
            ("numeric", [p, rest @ ..]) => {
                let s = rest.first().copied().unwrap_or(0);
                (s2 < s, p2 - s2 < p - s)
            }
            ("numeric" | "real" | "double precision", _) => (true, true),
            (b, _) => (false, rank(b).is_some_and(|r| p2 - s2 < [5, 10, 19][r - 1])),
        };
        let mut how = Vec::new();
        if rounds {
            how.push(if s2 == 0 {
                "fractions are rounded away".to_owned()
            } else {
                format!("values are rounded to {s2} decimal places")
            });
        }
        if overflows {
            how.push(format!(
                "values with more than {} digits before the point make the apply fail",
                p2 - s2
            ));
        }
        if !how.is_empty() {
            return Some(how.join(", and "));
        }
    }
    let precise = |b: &str| {
        b.starts_with("timestamp")
            || b.starts_with("time ")
            || b == "time"
            || b.starts_with("interval")
    };
    let kind = |b: &str| {
        let head = b.split(['(', ' ']).next().unwrap_or(b).to_owned();
        (head, b.contains(" with time zone"))
    };
    if precise(fb) && precise(tb) && kind(fb) == kind(tb) {
        let (f, t) = (
            fm.first().copied().unwrap_or(6),
            tm.first().copied().unwrap_or(6),
        );
        if t < f {
            return Some(format!("fractions of seconds are rounded to {t} digits"));
        }
    }
    if fb.starts_with("timestamp") && tb == "date" {
        return Some("the time of day is cut off".into());
    }
    lossy_conversion(fb, tb)
}

/// Conversions between types of one family that lose what the old type kept.
fn lossy_conversion(fb: &str, tb: &str) -> Option<String> {
    let msg = match (fb, tb) {
        ("json", "jsonb") => "objects keep only the last value of a duplicate key, and key order and whitespace are lost",
        ("inet", "cidr") => "host bits to the right of each netmask are zeroed (10.0.0.1/8 becomes 10.0.0.0/8)",
        (f, t) if f.starts_with("timestamp") && f.ends_with("with time zone") && t.starts_with("timestamp") && t.ends_with("without time zone") => {
            "each instant becomes its wall-clock time in the applying session's TimeZone (not set by the plan): the offset is lost, and another session zone shifts the values"
        }
        (f, t) if f.starts_with("interval") && t.starts_with("interval ") && f != t => {
            "the parts of each interval its new fields leave out are cut off"
        }
        _ => return None,
    };
    Some(msg.into())
}

/// A change to `real` or `double precision` that rounds values silently: from a float or
/// `numeric` of more digits, or from integers larger than the float's mantissa holds exactly.
fn to_float(fb: &str, tb: &str, rank: impl Fn(&str) -> Option<usize>) -> Option<String> {
    let (digits, exact_up_to, max_rank) = match tb {
        "real" => (6, "16,777,216 (2^24)", 1),
        "double precision" => (15, "9,007,199,254,740,992 (2^53)", 2),
        _ => return None,
    };
    if fb == "numeric" || (fb == "double precision" && tb == "real") {
        let fails = if fb == "numeric" {
            ", and values outside its range make the apply fail"
        } else {
            ""
        };
        return Some(format!(
            "values are rounded to {tb}'s {digits} significant digits{fails}"
        ));
    }
    rank(fb).filter(|&r| r > max_rank).map(|_| {
        format!("integers larger than {exact_up_to} in magnitude are rounded to the nearest value {tb} holds")
    })
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
///
/// A constraint says `UNIQUE NULLS NOT DISTINCT (cols) INCLUDE (…) WITH (…)`; an index wants
/// `(cols) INCLUDE (…) NULLS NOT DISTINCT WITH (…)` (written as the constraint has it, the
/// build was a syntax error, after the old constraint was dropped).
pub(super) fn unique_index_columns(def: &str) -> Option<String> {
    if def.contains("DEFERRABLE") {
        return None;
    }
    let rest = def
        .strip_prefix("PRIMARY KEY ")
        .or_else(|| def.strip_prefix("UNIQUE "))?;
    // The tablespace comes last in both: `USING INDEX TABLESPACE s` is an index's
    // `TABLESPACE s`.
    let rest = rest.replacen(" USING INDEX TABLESPACE ", " TABLESPACE ", 1);
    let Some(rest) = rest.strip_prefix("NULLS NOT DISTINCT ") else {
        return Some(rest);
    };
    let before = [" WITH (", " TABLESPACE "]
        .iter()
        .filter_map(|w| rest.find(w))
        .min();
    Some(match before {
        Some(at) => format!("{} NULLS NOT DISTINCT{}", &rest[..at], &rest[at..]),
        None => format!("{rest} NULLS NOT DISTINCT"),
    })
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
///
/// The result fits PostgreSQL's 63 bytes: a longer name is cut (at a character boundary)
/// and given 8 hex digits of its SHA-256, so two long names that share their first bytes
/// still get distinct names (Postgres would cut both to the same one).
pub(super) fn old_name(key: &str, suffix: &str) -> String {
    use sha2::{Digest, Sha256};
    let last = super::super::split_qualified(key).map_or(key, |(_, n)| n);
    let bare = match last.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None => last.to_owned(),
    };
    const MAX: usize = 63;
    if bare.len() + suffix.len() <= MAX {
        return format!("{bare}{suffix}");
    }
    let hash: String = Sha256::digest(bare.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cut = MAX - suffix.len() - hash.len() - 1;
    while !bare.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}{suffix}", &bare[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_nulls_not_distinct_goes_where_an_index_has_it() {
        let cols = |d| unique_index_columns(d).expect("buildable");
        assert_eq!(cols("UNIQUE (x)"), "(x)");
        assert_eq!(
            cols("UNIQUE NULLS NOT DISTINCT (x)"),
            "(x) NULLS NOT DISTINCT"
        );
        assert_eq!(
            cols("UNIQUE NULLS NOT DISTINCT (x) INCLUDE (k) WITH (fillfactor='70')"),
            "(x) INCLUDE (k) NULLS NOT DISTINCT WITH (fillfactor='70')"
        );
        assert_eq!(cols("PRIMARY KEY (id) INCLUDE (k)"), "(id) INCLUDE (k)");
        assert_eq!(unique_index_columns("UNIQUE (x) DEFERRABLE"), None);
        assert_eq!(
            cols("PRIMARY KEY (id) INCLUDE (x) USING INDEX TABLESPACE ts1"),
            "(id) INCLUDE (x) TABLESPACE ts1"
        );
        assert_eq!(
            cols("UNIQUE NULLS NOT DISTINCT (x) USING INDEX TABLESPACE \"T s\""),
            "(x) NULLS NOT DISTINCT TABLESPACE \"T s\""
        );
    }

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

#[cfg(test)]
mod narrowing_tests {
    use super::{narrowing, old_name};

    #[test]
    fn old_names_fit_63_bytes_and_stay_distinct() {
        let long_a = format!("public.{}", "a".repeat(60) + "x");
        let long_b = format!("public.{}", "a".repeat(60) + "y");
        let (x, y) = (
            old_name(&long_a, "_neon_migrate_old"),
            old_name(&long_b, "_neon_migrate_old"),
        );
        assert!(x.len() <= 63 && y.len() <= 63, "{x} {y}");
        assert_ne!(x, y);
        assert!(x.ends_with("_neon_migrate_old"));
        assert_eq!(
            old_name("public.t_idx", "_neon_migrate_old"),
            "t_idx_neon_migrate_old"
        );
        assert_eq!(old_name(r#""a.b"."Q""x""#, "_o"), r#"Q"x_o"#);
        let multibyte = format!("public.{}", "é".repeat(31));
        assert!(old_name(&multibyte, "_neon_migrate_old").len() <= 63);
    }

    #[test]
    fn narrowing_casts_are_told_apart_from_widening_ones() {
        for (from, to) in [
            ("text", "character varying(3)"),
            ("character varying(10)", "character varying(3)"),
            ("character varying", "character(2)"),
            ("numeric(10,4)", "numeric(10,2)"),
            ("numeric(10,2)", "numeric(6,2)"),
            ("numeric", "numeric(12,2)"),
            ("bigint", "integer"),
            ("integer", "smallint"),
            ("numeric", "integer"),
            ("double precision", "real"),
            ("integer", "numeric(5,0)"),
            (
                "timestamp(6) without time zone",
                "timestamp(0) without time zone",
            ),
            ("timestamp with time zone", "date"),
            ("text[]", "character varying(3)[]"),
            ("integer", "real"),
            ("bigint", "double precision"),
            ("numeric(20,0)", "double precision"),
            ("json", "jsonb"),
            ("inet", "cidr"),
            ("interval", "interval hour to minute"),
            ("timestamp with time zone", "timestamp without time zone"),
            (
                "timestamp(3) with time zone",
                "timestamp(3) without time zone",
            ),
        ] {
            assert!(narrowing(from, to).is_some(), "{from} → {to}");
        }
        // Integers are never rounded: only their integer digits can fail to fit (F-z2).
        assert_eq!(
            narrowing("integer", "numeric(10,2)").as_deref(),
            Some("values with more than 8 digits before the point make the apply fail")
        );
        assert_eq!(
            narrowing("numeric(10,4)", "numeric(12,2)").as_deref(),
            Some("values are rounded to 2 decimal places")
        );
        assert_eq!(
            narrowing("numeric(12,2)", "numeric(8,0)").as_deref(),
            Some("fractions are rounded away, and values with more than 8 digits before the point make the apply fail")
        );
        assert_eq!(
            narrowing("real", "numeric(6,2)").as_deref(),
            Some("values are rounded to 2 decimal places, and values with more than 4 digits before the point make the apply fail")
        );
        for (from, to) in [
            ("character varying(3)", "text"),
            ("character varying(3)", "character varying(10)"),
            ("character(3)", "character varying(3)"),
            ("numeric(10,2)", "numeric(12,4)"),
            ("integer", "bigint"),
            ("smallint", "integer"),
            ("integer", "numeric"),
            ("integer", "numeric(12,0)"),
            ("real", "double precision"),
            ("smallint", "real"),
            ("integer", "double precision"),
            ("integer", "text"),
            (
                "timestamp(0) without time zone",
                "timestamp(3) without time zone",
            ),
            ("date", "timestamp without time zone"),
            ("jsonb", "json"),
            ("cidr", "inet"),
            ("interval hour to minute", "interval"),
            ("timestamp without time zone", "timestamp with time zone"),
        ] {
            assert!(narrowing(from, to).is_none(), "{from} → {to}");
        }
    }
}

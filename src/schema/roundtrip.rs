//! Definitions that do not survive the server's deparse → re-parse, in one spelling both
//! sides share.
//!
//! `varchar_col IN ('a', 'b')` is stored as `(col)::text = ANY ((ARRAY['a'::character
//! varying, 'b'::character varying])::text[])`; written back, the parser pushes the outer
//! cast into the ARRAY constructor and stores `ANY (ARRAY[('a'::character varying)::text,
//! …])`: a database built from the project's source and one restored from its dump hold two
//! texts of one constraint, and a plan writing the first gave the second — every re-diff
//! dropped and added it again (trial9 P11). Both read here as `ANY ((ARRAY['a'::character
//! varying, …]::character varying[])::text[])`, which the server parses to the first form
//! again (the inner cast keeps the constructor's elements as they are; the outer one applies
//! to a cast, not a constructor): the plan writing it reproduces the source's catalog.

/// `def` with every `ANY (…)`/`ALL (…)` over an array of string literals of one type cast to
/// another array type in the shared spelling; anything else as it is.
pub(crate) fn canonical_check(def: &str) -> String {
    let mut out = String::with_capacity(def.len() + 32);
    let mut rest = def;
    loop {
        let hit = [" ANY (", " ALL ("]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| i + k.len()))
            .min();
        let Some(start) = hit else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if let Some((spelled, used)) = literal_array(rest) {
            out.push_str(&spelled);
            rest = &rest[used..];
        }
    }
}

/// At the start of `s` (just after `ANY (`): one of the two forms, as (shared spelling,
/// bytes consumed). The form already shared is kept as it is.
fn literal_array(s: &str) -> Option<(String, usize)> {
    // `(ARRAY['a'::S, …])::T[]`
    if let Some(body) = s.strip_prefix("(ARRAY[") {
        let (items, used) = elements(body, false)?;
        let after = &body[used..];
        let after = after.strip_prefix("])::")?;
        let (to, n) = type_name(after)?;
        after[n..].strip_prefix("[]")?;
        let from = one_type(&items, None)?;
        let consumed = "(ARRAY[".len() + used + "])::".len() + n + 2;
        return Some((spelled(&items, &from, &to), consumed));
    }
    // `ARRAY[('a'::S)::T, …]`
    let body = s.strip_prefix("ARRAY[")?;
    let (items, used) = elements(body, true)?;
    body[used..].strip_prefix(']')?;
    let to = items.first()?.2.clone()?;
    let from = one_type(&items, Some(&to))?;
    Some((spelled(&items, &from, &to), "ARRAY[".len() + used + 1))
}

/// The elements' common type, when every element has it (and, with `to`, every element is
/// cast to `to`); never an element already of the target type.
fn one_type(items: &[Item], to: Option<&str>) -> Option<String> {
    let from = items.first()?.1.clone();
    let same = items
        .iter()
        .all(|(_, s, t)| *s == from && t.as_deref() == to);
    (same && to != Some(from.as_str())).then_some(from)
}

fn spelled(items: &[Item], from: &str, to: &str) -> String {
    let list: Vec<String> = items.iter().map(|(l, s, _)| format!("{l}::{s}")).collect();
    format!("(ARRAY[{}]::{from}[])::{to}[]", list.join(", "))
}

/// A string literal, its type, and (cast form) the type it is cast to.
type Item = (String, String, Option<String>);

/// The elements `'a'::S, …` (or `('a'::S)::T, …` when `cast`) up to the closing `]`, and
/// the bytes they take.
fn elements(s: &str, cast: bool) -> Option<(Vec<Item>, usize)> {
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        let mut at = &s[i..];
        if cast {
            at = at.strip_prefix('(')?;
            i += 1;
        }
        let lit = literal(at)?;
        i += lit.len();
        let at = s[i..].strip_prefix("::")?;
        let (ty, n) = type_name(at)?;
        i += 2 + n;
        let mut to = None;
        if cast {
            let at = s[i..].strip_prefix(")::")?;
            let (t, n) = type_name(at)?;
            i += 3 + n;
            to = Some(t);
        }
        items.push((lit.to_owned(), ty, to));
        match s[i..].strip_prefix(", ") {
            Some(_) => i += 2,
            None => return s[i..].starts_with(']').then_some((items, i)),
        }
    }
}

/// A string literal at the start of `s` (`'it''s'`).
fn literal(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if b.first() != Some(&b'\'') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(&s[..=i]);
        }
        i += 1;
    }
    None
}

/// A plain type name at the start of `s` (`text`, `character varying`, `character
/// varying(50)`), without array brackets, and the bytes it takes.
fn type_name(s: &str) -> Option<(String, usize)> {
    let mut n = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == ' '))
        .map_or(s.len(), |(i, _)| i);
    if s[n..].starts_with('(') {
        let close = s[n..].find(')')?;
        if !s[n + 1..n + close]
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',')
        {
            return None;
        }
        n += close + 1;
    }
    let name = &s[..n];
    (!name.is_empty() && !name.ends_with(' ')).then(|| (name.to_owned(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "CHECK (((entity_type)::text = ANY ((ARRAY['area'::character varying, 'it''s'::character varying])::text[])))";
    const RESTORED: &str = "CHECK (((entity_type)::text = ANY (ARRAY[('area'::character varying)::text, ('it''s'::character varying)::text])))";
    const SHARED: &str = "CHECK (((entity_type)::text = ANY ((ARRAY['area'::character varying, 'it''s'::character varying]::character varying[])::text[])))";

    #[test]
    fn both_stored_forms_read_as_one() {
        assert_eq!(canonical_check(SOURCE), SHARED);
        assert_eq!(canonical_check(RESTORED), SHARED);
        assert_eq!(canonical_check(SHARED), SHARED);
    }

    #[test]
    fn other_shapes_are_kept() {
        for d in [
            "CHECK ((n = ANY (ARRAY[1, 2])))",
            "CHECK ((t = ANY (ARRAY['a'::text, 'b'::text])))",
            "CHECK (((c)::text <> ALL (ARRAY[('a'::character varying)::text, 'b'::text])))",
            "CHECK ((x > 0))",
        ] {
            assert_eq!(canonical_check(d), d);
        }
        assert_eq!(
            canonical_check("CHECK (((c)::text <> ALL ((ARRAY['a'::character varying(5)])::text[])))"),
            "CHECK (((c)::text <> ALL ((ARRAY['a'::character varying(5)]::character varying(5)[])::text[])))"
        );
    }
}

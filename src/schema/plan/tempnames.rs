//! Temporary names the plan gives objects (an index renamed away while its replacement is
//! built, an enum renamed away while recreated, a key's new index, a NOT NULL check) must not
//! be a name the schema already has: the plan would fail on the rename — and then drop the
//! user's object of that name. Relations and types share their names within a schema
//! (`pg_class`, and `pg_type` holds every relation's row type); constraints are unique per
//! table.

use std::collections::BTreeSet;

use super::super::model::Model;
use super::super::split_qualified;
use super::Cx;

const MAX: usize = 63;

/// `wanted`, or `wanted` with a number, so that no relation or type of `key`'s schema (in A
/// or B) has that name.
pub(super) fn relation(x: &Cx<'_>, wanted: &str, key: &str) -> String {
    let schema = split_qualified(key).map_or("public", |(s, _)| s);
    let mut taken = BTreeSet::new();
    for m in [x.a, x.b] {
        class_and_type_names(m, schema, &mut taken);
    }
    free(wanted, &taken)
}

/// `wanted`, or `wanted` with a number, so that no constraint of table `table` (in A or B)
/// has that name.
pub(super) fn constraint(x: &Cx<'_>, wanted: &str, table: &str) -> String {
    let taken: BTreeSet<String> = [x.a, x.b]
        .iter()
        .filter_map(|m| m.tables.get(table))
        .flat_map(|t| t.constraints.keys().cloned())
        .collect();
    free(wanted, &taken)
}

fn class_and_type_names(m: &Model, schema: &str, out: &mut BTreeSet<String>) {
    let keys = m
        .tables
        .keys()
        .chain(m.views.keys())
        .chain(m.sequences.keys())
        .chain(m.indexes.keys())
        .chain(m.enums.keys())
        .chain(m.domains.keys())
        .chain(m.composites.keys())
        .chain(m.ranges.keys());
    for k in keys {
        if let Some((s, n)) = split_qualified(k) {
            if s == schema {
                out.insert(unquote(n));
            }
        }
    }
    // Key and exclusion constraints' indexes carry the constraint's name.
    for (k, t) in &m.tables {
        if split_qualified(k).is_some_and(|(s, _)| s == schema) {
            for (n, c) in &t.constraints {
                if c.kind.has_index() {
                    out.insert(n.clone());
                }
            }
        }
    }
}

fn unquote(n: &str) -> String {
    match n.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        Some(q) => q.replace("\"\"", "\""),
        None => n.to_owned(),
    }
}

/// `wanted` if not taken, else the first of `wanted_2`, `wanted_3`, … (cut to 63 bytes).
fn free(wanted: &str, taken: &BTreeSet<String>) -> String {
    if !taken.contains(wanted) {
        return wanted.to_owned();
    }
    for i in 2.. {
        let tail = format!("_{i}");
        let mut cut = wanted.len().min(MAX - tail.len());
        while !wanted.is_char_boundary(cut) {
            cut -= 1;
        }
        let name = format!("{}{tail}", &wanted[..cut]);
        if !taken.contains(&name) {
            return name;
        }
    }
    unreachable!("a free name is found among finitely many taken ones")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_a_number_and_stays_within_63_bytes() {
        let taken: BTreeSet<String> = ["ix_old".to_owned(), "ix_old_2".to_owned()].into();
        assert_eq!(free("ix_old", &taken), "ix_old_3");
        assert_eq!(free("other", &taken), "other");
        let long = "a".repeat(63);
        let taken: BTreeSet<String> = [long.clone()].into();
        let got = free(&long, &taken);
        assert!(got.len() <= 63 && got.ends_with("_2"), "{got}");
    }
}

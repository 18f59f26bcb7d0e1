//! A column of a partition key whose type (or collation) changes: PostgreSQL refuses
//! `ALTER COLUMN … TYPE` on it ("it is part of the partition key"), and detaching and
//! retyping the partitions cannot change the parent's key either. The change is refused up
//! front, naming the key, and the partitioned table and its partitions are left out of the
//! plan — never half of it (a policy on the table dropped to be created again around the
//! retype, a partition detached).

use std::collections::BTreeSet;

use super::super::model::Model;
use super::super::quote_ident;

/// Refuses each partitioned table of `a` with a key column `b` retypes; returns a copy of `b`
/// in which those tables and their partitions are as in `a` — `None` when there is none.
pub(super) fn keep(a: &Model, b: &Model, unsupported: &mut Vec<String>) -> Option<Model> {
    let mut kept: BTreeSet<String> = BTreeSet::new();
    for (k, old) in &a.tables {
        let (Some(key), Some(new)) = (&old.partition_key, b.tables.get(k)) else {
            continue;
        };
        let retyped: Vec<String> = old
            .columns
            .iter()
            .filter(|c| in_key(key, &c.name))
            .filter_map(|c| {
                let n = new.column(&c.name)?;
                (n.data_type != c.data_type || n.collation != c.collation)
                    .then(|| format!("{} ({} → {})", c.name, c.data_type, n.data_type))
            })
            .collect();
        if retyped.is_empty() {
            continue;
        }
        unsupported.push(format!(
            "table {k}: column {} is part of its partition key ({key}) and changes type — PostgreSQL cannot change the type of a partition key column, so {k} and its partitions are left unchanged; not supported by the schema engine; write this change by hand (create a new partitioned table with the new key and move the rows)",
            retyped.join(", ")
        ));
        kept.insert(k.clone());
    }
    if kept.is_empty() {
        return None;
    }
    // The partitions, at any depth, in either model.
    loop {
        let before = kept.len();
        for m in [a, b] {
            for (k, t) in &m.tables {
                if t.partition_of
                    .as_ref()
                    .is_some_and(|(p, _)| kept.contains(p))
                {
                    kept.insert(k.clone());
                }
            }
        }
        if kept.len() == before {
            break;
        }
    }
    let mut pb = b.clone();
    for k in &kept {
        match a.tables.get(k) {
            Some(t) => pb.tables.insert(k.clone(), t.clone()),
            None => pb.tables.remove(k),
        };
    }
    Some(pb)
}

/// Whether column `name` appears in the partition key `key` (`pg_get_partkeydef`: `RANGE (k)`,
/// `LIST (lower("Name"))`): as a whole identifier, quoted as the key quotes it.
fn in_key(key: &str, name: &str) -> bool {
    let ident = quote_ident(name);
    let cols = key.find('(').map_or(key, |i| &key[i..]);
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '"';
    cols.match_indices(&ident).any(|(i, _)| {
        let before = cols[..i].chars().next_back();
        let after = cols[i + ident.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[cfg(test)]
mod tests {
    use super::in_key;

    #[test]
    fn key_columns_are_whole_identifiers() {
        assert!(in_key("RANGE (k)", "k"));
        assert!(in_key("LIST (lower(name))", "name"));
        assert!(in_key("HASH (id, \"Odd Col\")", "Odd Col"));
        assert!(!in_key("RANGE (kk)", "k"));
        assert!(!in_key("RANGE (k_2)", "k"));
        assert!(!in_key("RANGE (\"K\")", "k"));
    }
}

//! Definitions of plain indexes and constraints, written on our side exactly as the server's
//! `pg_get_indexdef` and `pg_get_constraintdef` print them.
//!
//! The server's deparsers look every column, operator class and referenced table up in its
//! catalog caches, one object at a time; on a cold connection to a schema of thousands of
//! tables that is most of the introspection's time. The columns query has already read every
//! column name, so the common shapes — indexes on plain columns with default operator classes
//! and collations, no predicate and no storage options; PRIMARY KEY and UNIQUE constraints
//! without INCLUDE, storage options or tablespace; foreign keys without a column list on
//! `SET NULL`/`SET DEFAULT` — are spelled here. Anything else returns `None` and is deparsed
//! by the server. The integration suite holds both spellings equal on every shape the engine
//! spells (`schema_engine::index_definitions_are_the_servers`,
//! `schema_engine::constraint_definitions_are_the_servers`).

use std::collections::{HashMap, HashSet};

use super::quote_ident;

/// A column as the columns query read it: its quoted name and its collation OID.
pub(super) struct ColumnName {
    pub quoted: String,
    pub collation: u32,
}

/// Column names by (table OID, attnum).
pub(super) type Columns = HashMap<(i64, i32), ColumnName>;

/// What `pg_index` says about an index whose shape allows spelling it here.
pub(super) struct RawIndex {
    /// The index's quoted name, without its schema.
    pub bare: String,
    /// The table's qualified, quoted name.
    pub table: String,
    pub table_oid: i64,
    pub am: String,
    pub unique: bool,
    /// A partitioned table's own index (`ON ONLY`).
    pub only: bool,
    pub key_columns: usize,
    pub attnums: Vec<i16>,
    pub opclasses: Vec<u32>,
    pub options: Vec<i16>,
    pub collations: Vec<u32>,
    pub nulls_not_distinct: bool,
}

/// `pg_get_indexdef(oid)` of a plain index, or `None` when the server must spell it.
pub(super) fn index(i: &RawIndex, columns: &Columns, defaults: &HashSet<u32>) -> Option<String> {
    let btree = i.am == "btree";
    let mut keys = Vec::new();
    let mut included = Vec::new();
    for (n, &attnum) in i.attnums.iter().enumerate() {
        let col = columns.get(&(i.table_oid, i32::from(attnum)))?;
        if n >= i.key_columns {
            included.push(col.quoted.clone());
            continue;
        }
        let opclass = *i.opclasses.get(n)?;
        let collation = *i.collations.get(n)?;
        let option = *i.options.get(n)?;
        if !defaults.contains(&opclass)
            || (collation != 0 && collation != col.collation)
            || (option != 0 && !btree)
        {
            return None;
        }
        let order = match (option & 1 == 1, option & 2 == 2) {
            (true, true) => " DESC",
            (true, false) => " DESC NULLS LAST",
            (false, true) => " NULLS FIRST",
            (false, false) => "",
        };
        keys.push(format!("{}{order}", col.quoted));
    }
    if keys.is_empty() {
        return None;
    }
    let mut out = format!(
        "CREATE {}INDEX {} ON {}{} USING {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        i.bare,
        if i.only { "ONLY " } else { "" },
        i.table,
        quote_ident(&i.am),
        keys.join(", ")
    );
    if !included.is_empty() {
        out.push_str(&format!(" INCLUDE ({})", included.join(", ")));
    }
    if i.nulls_not_distinct {
        out.push_str(" NULLS NOT DISTINCT");
    }
    Some(out)
}

/// What `pg_constraint` says about a constraint, as spelling it here needs.
pub(super) struct RawConstraint {
    pub kind: char,
    pub table_oid: i64,
    pub keys: Vec<i16>,
    /// Foreign keys: the referenced table's OID and columns.
    pub references_oid: i64,
    pub references_keys: Vec<i16>,
    pub match_type: char,
    pub on_update: char,
    pub on_delete: char,
    pub deferrable: bool,
    pub deferred: bool,
    pub validated: bool,
}

/// `pg_get_constraintdef(oid)` of a plain PRIMARY KEY, UNIQUE or FOREIGN KEY constraint, or
/// `None` when the server must spell it. `references` is a foreign key's referenced table, by
/// its qualified name.
pub(super) fn constraint(
    c: &RawConstraint,
    references: Option<&str>,
    columns: &Columns,
) -> Option<String> {
    let names = |table: i64, attnums: &[i16]| -> Option<String> {
        let names: Option<Vec<&str>> = attnums
            .iter()
            .map(|&a| {
                columns
                    .get(&(table, i32::from(a)))
                    .map(|c| c.quoted.as_str())
            })
            .collect();
        names.filter(|n| !n.is_empty()).map(|n| n.join(", "))
    };
    let keys = names(c.table_oid, &c.keys)?;
    let mut out = match c.kind {
        'p' => format!("PRIMARY KEY ({keys})"),
        'u' => format!("UNIQUE ({keys})"),
        'f' => {
            let table = references?;
            let mut s = format!(
                "FOREIGN KEY ({keys}) REFERENCES {table}({})",
                names(c.references_oid, &c.references_keys)?
            );
            s.push_str(match c.match_type {
                'f' => " MATCH FULL",
                'p' => " MATCH PARTIAL",
                's' => "",
                _ => return None,
            });
            for (clause, action) in [(" ON UPDATE ", c.on_update), (" ON DELETE ", c.on_delete)] {
                let action = match action {
                    'a' => continue,
                    'r' => "RESTRICT",
                    'c' => "CASCADE",
                    'n' => "SET NULL",
                    'd' => "SET DEFAULT",
                    _ => return None,
                };
                s.push_str(clause);
                s.push_str(action);
            }
            s
        }
        _ => return None,
    };
    if c.deferrable {
        out.push_str(" DEFERRABLE");
    }
    if c.deferred {
        out.push_str(" INITIALLY DEFERRED");
    }
    if !c.validated {
        out.push_str(" NOT VALID");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        let mut c = Columns::new();
        c.insert(
            (1, 1),
            ColumnName {
                quoted: "id".into(),
                collation: 0,
            },
        );
        c.insert(
            (1, 2),
            ColumnName {
                quoted: "\"Code\"".into(),
                collation: 100,
            },
        );
        c.insert(
            (2, 1),
            ColumnName {
                quoted: "id".into(),
                collation: 0,
            },
        );
        c
    }

    fn raw(attnums: Vec<i16>, key_columns: usize) -> RawIndex {
        let n = key_columns;
        RawIndex {
            bare: "i".into(),
            table: "public.t".into(),
            table_oid: 1,
            am: "btree".into(),
            unique: false,
            only: false,
            key_columns,
            attnums,
            opclasses: vec![10; n],
            options: vec![0; n],
            collations: vec![0; n],
            nulls_not_distinct: false,
        }
    }

    #[test]
    fn plain_indexes_are_spelled_and_others_left_to_the_server() {
        let d: HashSet<u32> = [10].into();
        let mut i = raw(vec![2, 1], 1);
        i.options = vec![3];
        i.collations = vec![100];
        assert_eq!(
            index(&i, &columns(), &d).as_deref(),
            Some("CREATE INDEX i ON public.t USING btree (\"Code\" DESC) INCLUDE (id)")
        );
        i.opclasses = vec![11];
        assert_eq!(index(&i, &columns(), &d), None, "a non-default opclass");
        let mut i = raw(vec![2], 1);
        i.collations = vec![950];
        assert_eq!(index(&i, &columns(), &d), None, "another collation");
        let i = raw(vec![9], 1);
        assert_eq!(index(&i, &columns(), &d), None, "an unknown column");
        let mut i = raw(vec![1], 1);
        i.am = "gin".into();
        i.options = vec![1];
        assert_eq!(
            index(&i, &columns(), &d),
            None,
            "an order on an unordered method"
        );
    }

    #[test]
    fn constraints_are_spelled_like_the_server() {
        let fk = RawConstraint {
            kind: 'f',
            table_oid: 1,
            keys: vec![1],
            references_oid: 2,
            references_keys: vec![1],
            match_type: 'f',
            on_update: 'a',
            on_delete: 'n',
            deferrable: true,
            deferred: true,
            validated: false,
        };
        assert_eq!(
            constraint(&fk, Some("public.u"), &columns()).as_deref(),
            Some(
                "FOREIGN KEY (id) REFERENCES public.u(id) MATCH FULL ON DELETE SET NULL \
                 DEFERRABLE INITIALLY DEFERRED NOT VALID"
            )
        );
        let pk = RawConstraint {
            kind: 'p',
            keys: vec![1, 2],
            references_keys: Vec::new(),
            deferrable: false,
            deferred: false,
            validated: true,
            ..fk
        };
        assert_eq!(
            constraint(&pk, None, &columns()).as_deref(),
            Some("PRIMARY KEY (id, \"Code\")")
        );
        let missing = RawConstraint {
            keys: vec![7],
            ..pk
        };
        assert_eq!(constraint(&missing, None, &columns()), None);
    }
}

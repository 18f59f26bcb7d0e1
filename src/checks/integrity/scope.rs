//! What a count of [`super::hazards`] reads: the rows a statement checks. PostgreSQL applies
//! some statements to a table's inheritance children too — `SET NOT NULL`, a CHECK (unless
//! `NO INHERIT`) and its `VALIDATE`, `ALTER COLUMN … TYPE`, `ADD COLUMN` — and others to the
//! table alone: a UNIQUE / PRIMARY KEY or unique index, a FOREIGN KEY (whose referencing side
//! is the table's own rows, and whose referenced side is `ONLY` the target). A partitioned
//! table holds no rows itself: every statement on it reaches all its partitions.

use crate::schema::model::TableKind;
use crate::schema::Model;

/// The rows of a table a count reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// The table's own rows (`FROM ONLY`).
    Only,
    /// The table's rows and its descendants' (inheritance children, partitions).
    Descendants,
}

impl Scope {
    /// The scope of a statement on `table` (of `from`): `recurses` when PostgreSQL applies the
    /// statement to inheritance children too; a partitioned table's rows are its partitions'.
    pub(super) fn of(from: &Model, table: &str, recurses: bool) -> Scope {
        let partitioned = from
            .tables
            .get(table)
            .is_some_and(|t| t.kind == TableKind::Partitioned);
        if recurses || partitioned {
            Scope::Descendants
        } else {
            Scope::Only
        }
    }

    /// `table` as a `FROM` item of this scope: `ONLY public.t` or `public.t`.
    pub(super) fn from(self, table: &str) -> String {
        match self {
            Scope::Only => format!("ONLY {table}"),
            Scope::Descendants => table.to_owned(),
        }
    }
}

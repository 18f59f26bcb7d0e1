//! The schema model: what introspection produces and the diff compares.
//!
//! Every collection is a `BTreeMap` keyed by a stable, qualified name, so two
//! introspections of the same schema serialize identically (the fingerprint relies on it).
//! Definitions are kept as the server prints them (`pg_get_*def`), which is both what we
//! compare and what we emit — no re-implementation of Postgres' deparser.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Model {
    /// `server_version_num` of the introspected server.
    #[serde(skip)]
    pub server_version: i32,
    pub schemas: BTreeSet<String>,
    pub extensions: BTreeMap<String, Extension>,
    pub enums: BTreeMap<String, Vec<String>>,
    pub domains: BTreeMap<String, Domain>,
    pub composites: BTreeMap<String, Vec<(String, String)>>,
    pub sequences: BTreeMap<String, Sequence>,
    pub tables: BTreeMap<String, Table>,
    pub indexes: BTreeMap<String, Index>,
    pub views: BTreeMap<String, View>,
    pub functions: BTreeMap<String, Function>,
    pub triggers: BTreeMap<String, Trigger>,
    pub policies: BTreeMap<String, Policy>,
    /// `COMMENT ON <target> IS …`, keyed by the target as SQL (`TABLE public.t`).
    pub comments: BTreeMap<String, String>,
    /// Objects the engine does not model, with a digest of their definition: a difference
    /// here is reported as unsupported, never silently ignored.
    pub unsupported: BTreeMap<String, String>,
    /// Dependencies between objects (`dependent` → referenced keys), from `pg_depend`.
    #[serde(skip)]
    pub deps: Deps,
    /// The catalog fingerprint ([`super::catalog`]): `None` for a model not introspected.
    #[serde(skip)]
    pub catalog: Option<super::catalog::Catalog>,
}

/// Dependencies: each object → the objects it depends on.
pub type Deps = BTreeMap<DepKey, BTreeSet<DepKey>>;

/// An object in the dependency graph, by kind and qualified name.
///
/// The variants are declared in the alphabetical order of the text keys they replace
/// (`col:`, `con:`, `fn:`, `index:`, `policy:`, `rel:`, `trigger:`, `type:`), and no prefix is
/// a prefix of another, so the derived ordering is the one of those strings: the plan's
/// dependency walks visit keys in the same order as ever.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKey {
    /// `<table>.<column>`, where Postgres records a column.
    Col(String),
    /// `<table>.<constraint>`.
    Con(String),
    /// A function or procedure: `schema.name(identity arguments)`.
    Fn(String),
    Index(String),
    /// `<table>.<policy>`.
    Policy(String),
    /// A table, view, materialized view or sequence.
    Rel(String),
    /// `<table>.<trigger>`.
    Trigger(String),
    Type(String),
}

impl DepKey {
    /// The relation of a [`DepKey::Rel`] or [`DepKey::Col`] key.
    pub fn relation(&self) -> Option<&str> {
        match self {
            DepKey::Rel(r) => Some(r),
            DepKey::Col(c) => super::split_qualified(c).map(|(t, _)| t),
            _ => None,
        }
    }
}

impl std::fmt::Display for DepKey {
    /// The key as it reads in messages: `kind:name`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, name) = match self {
            DepKey::Col(n) => ("col", n),
            DepKey::Con(n) => ("con", n),
            DepKey::Fn(n) => ("fn", n),
            DepKey::Index(n) => ("index", n),
            DepKey::Policy(n) => ("policy", n),
            DepKey::Rel(n) => ("rel", n),
            DepKey::Trigger(n) => ("trigger", n),
            DepKey::Type(n) => ("type", n),
        };
        write!(f, "{kind}:{name}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub schema: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Domain {
    pub base: String,
    pub default: Option<String>,
    pub not_null: bool,
    pub collation: Option<String>,
    /// Constraint name → definition.
    pub checks: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `schema.table.column` that owns it.
    pub owned_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub kind: TableKind,
    pub columns: Vec<Column>,
    pub constraints: BTreeMap<String, Constraint>,
    /// `PARTITION BY …` of a partitioned table.
    pub partition_key: Option<String>,
    /// For a partition: (parent, `FOR VALUES …`).
    pub partition_of: Option<(String, String)>,
    /// Parents by plain inheritance.
    pub inherits: Vec<String>,
    pub rls: bool,
    pub rls_forced: bool,
    pub options: Vec<String>,
    pub unlogged: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// `a` always, `d` by default.
    pub identity: Option<char>,
    /// Options of the identity's sequence (its type follows the column's).
    pub identity_options: Option<IdentityOptions>,
    /// Expression of a `GENERATED ALWAYS AS (…) STORED` column.
    pub generated: Option<String>,
    pub collation: Option<String>,
    /// Inherited from a parent (partition or inheritance): not declared here.
    pub inherited: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityOptions {
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

impl IdentityOptions {
    /// The options as `sequence_option`s (`START WITH 1 INCREMENT BY 1 …`).
    pub fn clauses(&self) -> Vec<String> {
        vec![
            format!("START WITH {}", self.start),
            format!("INCREMENT BY {}", self.increment),
            format!("MINVALUE {}", self.min),
            format!("MAXVALUE {}", self.max),
            format!("CACHE {}", self.cache),
            if self.cycle { "CYCLE" } else { "NO CYCLE" }.to_owned(),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub definition: String,
    pub validated: bool,
    /// For FKs: the referenced table.
    pub references: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub table: String,
    pub definition: String,
    pub unique: bool,
    /// Set for indexes of partitioned tables (CONCURRENTLY is not possible there).
    pub on_partitioned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub materialized: bool,
    pub definition: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Function {
    /// `CREATE OR REPLACE FUNCTION …` as `pg_get_functiondef` prints it.
    pub definition: String,
    pub kind: FunctionKind,
    pub returns: String,
    /// Parameters with modes, names and defaults (`pg_get_function_arguments`).
    pub arguments: String,
    /// Name and input types only (`public.f(integer, text)`): the identity Postgres keeps
    /// when a parameter is renamed.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub table: String,
    pub definition: String,
    pub enabled: char,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub table: String,
    pub permissive: bool,
    pub command: String,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub check: Option<String>,
}

/// What a table is (serialized as `pg_class.relkind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TableKind {
    #[serde(rename = "r")]
    Table,
    #[serde(rename = "p")]
    Partitioned,
    /// Foreign tables are unsupported objects, not modelled as tables.
    #[serde(rename = "f")]
    Foreign,
}

impl TableKind {
    /// From `pg_class.relkind`.
    pub fn from_relkind(code: char) -> TableKind {
        match code {
            'p' => TableKind::Partitioned,
            'f' => TableKind::Foreign,
            _ => TableKind::Table,
        }
    }
}

/// What a constraint is (serialized as `pg_constraint.contype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConstraintKind {
    #[serde(rename = "p")]
    PrimaryKey,
    #[serde(rename = "u")]
    Unique,
    #[serde(rename = "f")]
    ForeignKey,
    #[serde(rename = "c")]
    Check,
    #[serde(rename = "x")]
    Exclusion,
}

impl ConstraintKind {
    /// From `pg_constraint.contype` (the query reads only these five).
    pub fn from_contype(code: char) -> ConstraintKind {
        match code {
            'p' => ConstraintKind::PrimaryKey,
            'u' => ConstraintKind::Unique,
            'f' => ConstraintKind::ForeignKey,
            'x' => ConstraintKind::Exclusion,
            _ => ConstraintKind::Check,
        }
    }
    /// PRIMARY KEY or UNIQUE: what foreign keys rest on.
    pub fn is_key(self) -> bool {
        matches!(self, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
    }
    /// Backed by an index of its own (PRIMARY KEY, UNIQUE, EXCLUDE).
    pub fn has_index(self) -> bool {
        self.is_key() || self == ConstraintKind::Exclusion
    }
}

/// A function or a procedure (serialized as `pg_proc.prokind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FunctionKind {
    #[serde(rename = "f")]
    Function,
    #[serde(rename = "p")]
    Procedure,
}

impl FunctionKind {
    /// From `pg_proc.prokind` (the query reads only functions and procedures).
    pub fn from_prokind(code: char) -> FunctionKind {
        if code == 'p' {
            FunctionKind::Procedure
        } else {
            FunctionKind::Function
        }
    }
    /// The keyword of DROP/COMMENT ON.
    pub fn keyword(self) -> &'static str {
        match self {
            FunctionKind::Function => "FUNCTION",
            FunctionKind::Procedure => "PROCEDURE",
        }
    }
}

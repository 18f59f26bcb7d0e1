//! The schema model: what introspection produces and the diff compares.
//!
//! Every collection is a `BTreeMap` keyed by a stable, qualified name, so two
//! introspections of the same schema serialize identically (the fingerprint relies on it).
//! Definitions are kept as the server prints them (`pg_get_*def`), which is both what we
//! compare and what we emit — no re-implementation of Postgres' deparser.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::compact::{SortedMap, SortedSet};

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
    /// Each partition's constraint (`pg_get_partition_constraintdef`, ancestors' OIDs
    /// replaced by their names): the rows its bound admits, counted before a bound changes.
    #[serde(skip)]
    pub partition_checks: BTreeMap<String, String>,
    /// Range types: name → `(subtype = …, …)` as `CREATE TYPE … AS RANGE` takes it. Their
    /// constructor functions, multirange and array types are implicit and not modelled.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ranges: BTreeMap<String, String>,
    /// User-defined casts: `(source AS target)` → `WITH FUNCTION … [AS IMPLICIT]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub casts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub event_triggers: BTreeMap<String, EventTrigger>,
    /// Collations: name → `(provider = …, …)` as `CREATE COLLATION` takes it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub collations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fdws: BTreeMap<String, ForeignDataWrapper>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub servers: BTreeMap<String, ForeignServer>,
    /// User mappings, keyed `FOR <role> SERVER <server>`: option name → digest only.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user_mappings: BTreeMap<String, BTreeMap<String, OptionValue>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub foreign_tables: BTreeMap<String, ForeignTable>,
    /// Aggregates, keyed like functions (`schema.name(identity arguments)`).
    pub aggregates: BTreeMap<String, Aggregate>,
    /// Operators, keyed `schema.op(left type, right type)` (`NONE` for a prefix operator).
    pub operators: BTreeMap<String, Operator>,
    /// Rules other than views' `_RETURN`, keyed `table.rule`.
    pub rules: BTreeMap<String, Rule>,
    /// Extended statistics, keyed `schema.name`.
    pub statistics: BTreeMap<String, Statistics>,
    /// Text search dictionaries, keyed `schema.name`.
    pub ts_dictionaries: BTreeMap<String, TsDictionary>,
    /// Text search configurations, keyed `schema.name`.
    pub ts_configs: BTreeMap<String, TsConfig>,
    /// Text search parsers, keyed `schema.name`: `(START = …, GETTOKEN = …, …)` as `CREATE
    /// TEXT SEARCH PARSER` takes it (function names, qualified).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ts_parsers: BTreeMap<String, String>,
    /// Text search templates, keyed `schema.name`: `([INIT = …, ]LEXIZE = …)`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ts_templates: BTreeMap<String, String>,
    /// The role introspection connected as: objects it owns have the default owner. Not
    /// part of the fingerprint (two sessions of different roles read the same schema).
    #[serde(skip)]
    pub connected_as: String,
    /// Every role of the server (roles are cluster-wide: the engine never creates them).
    #[serde(skip)]
    pub roles: BTreeSet<String>,
    /// Each role's attributes and memberships (`SUPERUSER LOGIN …|member of …`), quoted name
    /// → text, without neon-migrate's own test copy roles: what the schema check compares
    /// before and after a migration (see [`crate::schema::roles`]). Never a password.
    #[serde(skip)]
    pub role_details: BTreeMap<String, String>,
    /// Cluster-wide privileges and owners (`database "d"`, `tablespace ts`, `parameter p` →
    /// `owner|+grantee:PRIVILEGE,…`): what the schema check compares before and after a
    /// migration (see [`crate::schema::cluster_grants`]).
    #[serde(skip)]
    pub cluster_grants: BTreeMap<String, String>,
    /// The server's `ALTER SYSTEM` settings, values as digests: what the schema check
    /// compares before and after a migration (see [`crate::schema::system_settings`]).
    #[serde(skip)]
    pub alter_system: super::system_settings::AlterSystem,
    /// Owners other than the default one, by object as SQL (`TABLE public.t`, `SCHEMA s`,
    /// `FUNCTION public.f(integer)`). The default owner is the role introspection connected
    /// as (and `pg_database_owner` when that role owns the database, and a local test
    /// copy's own role, which stands in for main's owners).
    pub owners: BTreeMap<String, String>,
    /// Privileges that differ from the object kind's default (`acldefault`), by object as
    /// SQL (`TABLE public.t`, `COLUMN public.t.c`, …): an ACL equal to the default is absent.
    pub privileges: BTreeMap<String, AclDelta>,
    /// `ALTER DEFAULT PRIVILEGES`, keyed by `[FOR ROLE r ][IN SCHEMA s ]|TABLES` (no `FOR
    /// ROLE` for the default owner), as a difference from the hard-wired default (global
    /// entries) or from nothing (per-schema entries).
    pub default_privileges: BTreeMap<String, AclDelta>,
    /// Replica identities other than `DEFAULT`, by table: `FULL`, `NOTHING`, `USING INDEX i`.
    pub replica_identities: BTreeMap<String, String>,
    /// Column `STORAGE`/`COMPRESSION`/`STATISTICS` other than the defaults, by `table.column`.
    pub column_settings: BTreeMap<String, ColumnSettings>,
    /// Publications by (quoted) name.
    pub publications: BTreeMap<String, Publication>,
    /// The catalog fingerprint ([`super::catalog`]): `None` for a model not introspected.
    #[serde(skip)]
    pub catalog: Option<super::catalog::Catalog>,
    /// `CLUSTER ON`: table or materialized view → the (unqualified, quoted) index marked.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub clustered: BTreeMap<String, String>,
    /// `ALTER INDEX … ALTER COLUMN n SET STATISTICS`: index → column number → target.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub index_statistics: BTreeMap<String, BTreeMap<i16, i32>>,
    /// Partitions' indexes (clones of a partitioned index, not of a key): index → (its
    /// table, its parent index), all qualified and quoted. Not modeled as indexes: the plan
    /// only names them as the desired schema does.
    #[serde(skip)]
    pub partition_indexes: BTreeMap<String, (String, String)>,
}

/// `CREATE EVENT TRIGGER`: `ON <event> [WHEN TAG IN (…)] EXECUTE FUNCTION f()`, and
/// `pg_event_trigger.evtenabled` (`O`, `D`, `R`, `A`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventTrigger {
    pub definition: String,
    pub enabled: String,
}

/// An option of a foreign data wrapper, server or user mapping. Values can be secrets
/// (passwords), so only the values of well-known harmless options are kept; the others
/// are kept as a SHA-256 digest, compared but never printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OptionValue {
    Plain(String),
    Digest(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignDataWrapper {
    pub handler: Option<String>,
    pub validator: Option<String>,
    pub options: BTreeMap<String, OptionValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignServer {
    pub fdw: String,
    pub server_type: Option<String>,
    pub version: Option<String>,
    pub options: BTreeMap<String, OptionValue>,
}

/// A foreign table: its columns and CHECK constraints (as a table's), server and options.
/// Options can hold secrets (a password, a `program` with a token): only the values of
/// options known to be harmless are kept, the others are a digest, as for servers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignTable {
    pub table: Table,
    pub server: String,
    pub options: BTreeMap<String, OptionValue>,
    /// Column options (`attfdwoptions`), by quoted column name.
    pub column_options: BTreeMap<String, BTreeMap<String, OptionValue>>,
}

/// Who a privilege is granted to. The object's owner is `Owner` whatever its name, so that
/// an ACL survives an owner change (Postgres moves the old owner's entries to the new one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Grantee {
    Public,
    Owner,
    /// A role, quoted as an identifier.
    Role(String),
}

/// One privilege of one grantee from one grantor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AclItem {
    pub grantee: Grantee,
    /// `SELECT`, `EXECUTE`, … as `aclexplode` names it.
    pub privilege: String,
    pub grantable: bool,
    /// Who granted it, quoted, when not the object's owner (a role that holds the privilege
    /// with grant option and passed it on): only that role's REVOKE takes it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grantor: Option<String>,
}

/// An ACL as its difference from the default: items granted beyond it, items of the
/// default revoked. Two sides compare without knowing the default itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AclDelta {
    pub granted: BTreeSet<AclItem>,
    pub revoked: BTreeSet<AclItem>,
}

/// A column's physical settings, `None` where the default applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnSettings {
    /// `PLAIN`, `MAIN`, `EXTERNAL`, `EXTENDED` when not the type's default.
    pub storage: Option<String>,
    /// `pglz`, `lz4`.
    pub compression: Option<String>,
    pub statistics: Option<i32>,
    /// Attribute options (`SET (n_distinct = 5)`), `name=value` as `pg_attribute` keeps them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The column type's default storage (what a reset goes back to before PG 16's
    /// `SET STORAGE DEFAULT`).
    #[serde(skip)]
    pub type_storage: String,
}

/// A publication (logical replication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publication {
    pub all_tables: bool,
    /// `insert, update, delete, truncate` as the `publish` option lists them.
    pub publish: String,
    pub via_root: bool,
    /// Tables published one by one: table → (column list, row filter).
    pub tables: BTreeMap<String, (Option<Vec<String>>, Option<String>)>,
    /// Schemas published as a whole (`FOR TABLES IN SCHEMA`).
    pub schemas: BTreeSet<String>,
}

/// Dependencies: each object → the objects it depends on.
pub type Deps = BTreeMap<DepKey, SortedSet<DepKey>>;

/// An object in the dependency graph, by kind and qualified name.
///
/// The variants are declared in the alphabetical order of the text keys they replace
/// (`col:`, `con:`, `fn:`, `index:`, `policy:`, `rel:`, `trigger:`, `type:`), and no prefix is
/// a prefix of another, so the derived ordering is the one of those strings: the plan's
/// dependency walks visit keys in the same order as ever. `Aggregate` and `Operator` came
/// later and sort after all of those.
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
    /// An aggregate: `schema.name(identity arguments)`.
    Aggregate(String),
    /// An operator: `schema.op(left, right)`.
    Operator(String),
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
            DepKey::Aggregate(n) => ("aggregate", n),
            DepKey::Operator(n) => ("operator", n),
        };
        write!(f, "{kind}:{name}")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub schema: String,
    pub version: String,
    /// The extensions it requires (`earthdistance` → `cube`): created before it, dropped
    /// after it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// The types (`type:schema.name`) and functions (`fn:schema.name(input types)`) its
    /// script creates: a user object of the same name must go before the extension is
    /// created. Not part of the fingerprint (the version stands for them).
    #[serde(skip)]
    pub members: Vec<String>,
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
    pub constraints: SortedMap<String, Constraint>,
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
    /// Tablespace (quoted) when not the database's default: a new table is created in it
    /// (a move of an existing one is the safety net's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// Access method (quoted) when not `heap`: a new table is created with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
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
    /// Options of the identity's sequence (its type follows the column's). Boxed: most
    /// columns have none, and every column would carry their room.
    pub identity_options: Option<Box<IdentityOptions>>,
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
    /// The sequence's name (qualified, quoted) when not the one Postgres picks
    /// (`table_column_seq`): `SEQUENCE NAME` in the identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_name: Option<String>,
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
    /// Column defaults (`ALTER VIEW … ALTER COLUMN … SET DEFAULT`): (quoted column,
    /// expression). Set again on a view the plan creates again; a change on its own is the
    /// safety net's (`view column default`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub column_defaults: Vec<(String, String)>,
    /// False for a materialized view created (or refreshed) `WITH NO DATA`.
    pub populated: bool,
    /// A materialized view's tablespace (quoted) when not the database's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// A materialized view's access method (quoted) when not `heap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// What the server lets through the view, `pg_relation_is_updatable(view, true)`: a
    /// bitmask of UPDATE (4), INSERT (8) and DELETE (16), whether by automatic updating, an
    /// INSTEAD OF trigger or an unconditional `DO INSTEAD` rule. Not a property the plan
    /// writes (it follows from the definition, triggers and rules): compared only to find
    /// writes a change makes fail (`breaks_writes`).
    #[serde(skip)]
    pub updatable: i32,
    /// A view that reads itself (`CREATE OR REPLACE VIEW v AS TABLE v`): its columns as
    /// `NULL::type [COLLATE c] AS name`, to create it first with them and then replace it with
    /// its definition, which names it (trial9 P14). Empty for every other view.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub self_seed: Vec<String>,
}

impl View {
    /// Whether `self` and `o` are the same view, column defaults and being populated aside
    /// (set again and `REFRESH`ed in place). A materialized view moved to another tablespace
    /// or access method is created again.
    pub fn same_shape(&self, o: &View) -> bool {
        self.materialized == o.materialized
            && self.definition == o.definition
            && self.options == o.options
            && self.tablespace == o.tablespace
            && self.access_method == o.access_method
    }
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
    /// On a partitioned table: the partitions (at any depth) whose clone of the trigger is
    /// enabled otherwise than the trigger (`ALTER TABLE partition DISABLE TRIGGER …`), with
    /// its state (`tgenabled`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub clones: BTreeMap<String, char>,
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
    /// `PRIMARY KEY` or `UNIQUE`, as `ADD CONSTRAINT … USING INDEX` spells a key.
    pub fn key_keyword(self) -> &'static str {
        if self == ConstraintKind::PrimaryKey {
            "PRIMARY KEY"
        } else {
            "UNIQUE"
        }
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    /// `CREATE AGGREGATE …`, built from `pg_aggregate` (the server has no deparser for it).
    pub definition: String,
    /// `pg_aggregate.aggkind`: `n` normal, `o` ordered-set, `h` hypothetical-set.
    pub kind: char,
    pub returns: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operator {
    /// `CREATE OPERATOR …`, built from `pg_operator`.
    pub definition: String,
    /// `RESTRICT = …, JOIN = …`: the part `ALTER OPERATOR … SET` can change in place.
    pub estimators: String,
    /// What uses it (`pg_describe_object` of its dependents), for messages only.
    #[serde(skip)]
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub table: String,
    /// `CREATE RULE …` as `pg_get_ruledef` prints it.
    pub definition: String,
    /// `pg_rewrite.ev_enabled`.
    pub enabled: char,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub table: String,
    /// `CREATE STATISTICS …` as `pg_get_statisticsobjdef` prints it.
    pub definition: String,
    /// `SET STATISTICS` target; -1 is the default.
    pub target: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TsDictionary {
    /// The template, qualified.
    pub template: String,
    /// `dictinitoption` as the server keeps it (`stopwords = 'english'`).
    pub options: Option<String>,
    /// What uses it (configurations), for messages only.
    #[serde(skip)]
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TsConfig {
    /// The parser, qualified.
    pub parser: String,
    /// Token type alias → the dictionaries, qualified and in order.
    pub mappings: BTreeMap<String, Vec<String>>,
    /// What uses it (columns, indexes, views), for messages only.
    #[serde(skip)]
    pub used_by: Vec<String>,
}

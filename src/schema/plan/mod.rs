//! Diff two models into an ordered, online-safe plan of statements with hazards.
//!
//! Ordering is in phases (create schemas and types → functions → drop what goes or changes
//! → re-create functions that cannot be replaced → tables and columns → constraints →
//! indexes → views → triggers and policies → drop leftovers → comments), and within a phase
//! by the `pg_depend` graph: creates follow the target's dependencies, drops the source's in
//! reverse. That handles the classic traps: a function used in a column default exists before
//! the table, a view on a view comes after it, a view that needs a primary key comes after the
//! constraint, and views that depend on a column whose type changes are dropped first and
//! recreated after. Column-level edges ([`DepKey::Col`]) do the same for what Postgres refuses
//! to retype a column under — policies, triggers' WHEN clauses, generated columns — and foreign
//! keys are dropped and added again around the primary key or unique constraint they rest on.
//! An enum whose values are removed or reordered is recreated and its columns (and arrays of
//! it) converted through text; a function whose result, kind or parameters change is dropped
//! and created again once the views over it are gone. Objects created again get their
//! comments back. What cannot be done safely this way (a domain over a recreated enum, a
//! function another object calls, partitioning changes) is reported as unsupported, and the
//! plan then leaves it alone rather than doing half of it.
//!
//! Online-safe forms are the default: `CREATE/DROP INDEX CONCURRENTLY`, CHECK and FK
//! constraints `NOT VALID` then `VALIDATE`, `SET NOT NULL` through a validated CHECK, and
//! PRIMARY KEY/UNIQUE `USING INDEX` built concurrently. Every statement says what lock it
//! takes and what can go wrong, whether it may run in a transaction, and its timeouts.
//!
//! The layout: [`plan`] here is the orchestrator. [`analysis`] decides up front what must be
//! rebuilt around what (views over retyped columns, recreated enums, foreign keys over a
//! replaced key); then one file per object kind diffs its objects with a `diff(cx)` that
//! pushes [`Stmt`]s, each tagged with its [`Phase`]. The statements are finally ordered by
//! phase, keeping the order in which each phase's statements were pushed.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

use super::model::*;

mod analysis;
mod casts;
mod clustering;
mod collations;
mod collisions;
mod columns;
mod comments;
mod composites;
mod constraints;
mod domain_checks;
mod dropped;
mod enum_users;
mod event_triggers;
mod exposure;
mod ext_members;
mod extensions;
mod foreign;
mod function_uses;
mod functions;
mod generated;
mod grantors;
mod graph;
mod indexes;
mod inherit;
mod inherit_checks;
mod keyswap;
mod overloads;
mod part_index_names;
mod partitions;
mod partkeys;
mod policies;
mod privileges;
mod rare_owners;
mod renames;
mod replication;
mod schemas;
mod seqpos;
mod sequences;
mod sql;
mod tables;
mod tempnames;
mod trigger_hazards;
mod triggers;
mod typed;
mod types;
mod unidentity;
mod view_writes;
mod views;
mod windows;
mod write_hazards;
// Aggregates, operators, rules, extended statistics, text search objects.
mod aggregates;
mod opclasses;
mod operators;
mod rowtypes;
mod rules;
mod statistics;
mod textsearch;
mod ts_parsers;

use analysis::Changes;
pub use privileges::{default_grants, without_owners};
pub use sql::narrowing;

/// What can go wrong when a statement runs on a busy production database.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    enum_iterator::Sequence,
)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Blocks reads and writes on the table while it runs.
    AccessExclusiveLock,
    /// Blocks writes while it runs.
    ShareLock,
    /// Blocks writes on both tables while it runs.
    ShareRowExclusiveLock,
    /// Rewrites the whole table (and its indexes).
    TableRewrite,
    /// Drops data that cannot be recovered from the schema.
    DeletesData,
    /// Builds an index: CPU and I/O load, may take long.
    IndexBuild,
    /// Queries that used the index may get slower.
    IndexDropped,
    /// Grants, revokes, RLS or policies: may open or close access.
    AuthzUpdate,
    /// Fails if existing rows violate it, or changes behaviour in non-obvious ways.
    Correctness,
    /// Postgres does not track what depends on it (function callers).
    UntrackableDependencies,
    /// Publications or replica identities: what logical replication sends changes.
    Replication,
    /// The application's writes fail, vanish or do less afterwards: a published table left
    /// without a replica identity, a user trigger disabled (or replica-only, or `WHEN
    /// (false)`), a `DO INSTEAD` rule or a `DO ALSO` one that deletes or updates, a function an
    /// index or constraint stores changed in place, a sequence reversed or cycling.
    BreaksWrites,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub sql: String,
    pub hazards: Vec<Hazard>,
    /// False for statements that cannot run inside a transaction block (CONCURRENTLY, enum
    /// value additions that later statements use).
    pub transactional: bool,
    pub lock_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    #[serde(skip)]
    phase: Phase,
    /// A security window this statement opens (an object dropped or created without its
    /// final policies, triggers, owner or privileges): see [`windows`].
    #[serde(skip)]
    opens: Option<String>,
    /// The window this statement (helps) close.
    #[serde(skip)]
    closes: Option<String>,
    /// The window this owner or privilege statement closes: it may run as soon as the
    /// object exists.
    #[serde(skip)]
    secures: Option<String>,
    /// The squawk rule this statement breaks by design, with why: the plan's own helper (the
    /// CHECK it added so that SET NOT NULL skips its scan, dropped again). Written as a
    /// `-- squawk-ignore` line before it, so the lint of a generated file judges only the
    /// user's changes (attack10 F29).
    #[serde(skip)]
    pub lint_exempt: Option<(&'static str, &'static str)>,
}

/// Options of a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Use the online-safe forms (default). Off: plain DDL, for empty databases.
    pub online: bool,
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    /// Statement timeout of long, non-blocking work (concurrent index builds, validation).
    pub long_timeout: Duration,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            online: true,
            lock_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(3),
            long_timeout: Duration::from_secs(20 * 60),
        }
    }
}

/// The plan: statements in order, and what the engine could not express.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub statements: Vec<Statement>,
    /// Differences in objects the engine does not model: never silently dropped.
    pub unsupported: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.unsupported.is_empty()
    }
    /// Every hazard kind in the plan, once.
    pub fn hazard_kinds(&self) -> BTreeSet<HazardKind> {
        self.statements
            .iter()
            .flat_map(|s| s.hazards.iter().map(|h| h.kind))
            .collect()
    }
    pub fn deletes_data(&self) -> bool {
        self.hazard_kinds().contains(&HazardKind::DeletesData)
    }
    pub fn transactional(&self) -> bool {
        self.statements.iter().all(|s| s.transactional)
    }
}

/// When a statement runs: statements are ordered by phase, and within a phase in the order
/// they were pushed. The discriminants are the plan's historical phase numbers (gaps left for
/// new phases); the variants are declared in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
enum Phase {
    CreateSchemas = 10,
    /// User types and functions whose names an extension the plan creates provides.
    DropForExtensions = 11,
    CreateOrAlterExtensions = 12,
    CreateCollations = 15,
    CreateTypes = 20,
    AddEnumValues = 21,
    RecreateEnums = 22,
    AlterTypes = 25,
    AddDomainChecks = 26,
    CreateOrAlterSequences = 30,
    CreateForeignServers = 35,
    CreateFunctions = 41,
    CreateOperators = 42,
    CreateAggregates = 43,
    CreateTsDictionaries = 44,
    CreateTsConfigs = 45,
    /// Domain CHECKs that call a function the plan creates or replaces.
    AddDomainChecksAfterFunctions = 46,
    DropEventTriggersAndCasts = 49,
    DropTriggersAndPolicies = 50,
    DropViews = 51,
    DropForeignKeys = 52,
    DropConstraints = 53,
    DropOrRenameIndexes = 54,
    DropReplacedFunctions = 55,
    RecreateFunctions = 56,
    CreateCasts = 57,
    /// Columns dropped from a parent but kept by its inheritance children (`ONLY`).
    DropParentOnlyColumns = 58,
    DropForeignTables = 59,
    /// Partitions that leave their partitioned table or change their bound: before the new
    /// partitions, whose bounds may overlap their old ones (attached again in `AlterTables`).
    DetachPartitions = 60,
    CreateTables = 61,
    AlterTables = 62,
    DropTables = 63,
    /// Views dropped for a change of the tables under them and created again right after
    /// it, when nothing later is needed (see `views::is_early`).
    RecreateViews = 64,
    SequenceOwnership = 70,
    AddKeys = 80,
    AddChecks = 81,
    AddForeignKeys = 82,
    ValidateConstraints = 83,
    CreateIndexes = 90,
    /// Partitions' indexes that Postgres named itself, named as the desired schema does.
    RenamePartitionIndexes = 91,
    /// Functions whose SQL-standard body (`BEGIN ATOMIC`, `RETURN`) reads a relation the
    /// plan creates: after the tables (Postgres resolves such a body when it is created).
    CreateAtomicFunctions = 95,
    CreateViews = 100,
    CreateMatviewIndexes = 101,
    CreateStatistics = 102,
    /// Functions dropped and created again whose result or parameters are the row type of a
    /// view that replaces a table (`RETURNS SETOF t`).
    RecreateFunctionsAfterViews = 103,
    /// Column defaults, domain defaults and domain CHECKs that call a function created after
    /// the tables (its SQL-standard body reads a relation the plan creates).
    AfterLateFunctions = 104,
    /// Privileges on schemas given: before the object privileges, whose grantor may need
    /// the schema's `USAGE` to `GRANT` under `SET ROLE`.
    SchemaGrants = 109,
    SecurityAndTriggers = 110,
    EnableTriggers = 111,
    /// Privileges on schemas taken: after the object privileges, for the same reason.
    SchemaRevokes = 112,
    /// Row-level security disabled (or no longer forced) on a table that keeps it off: after
    /// every privilege is taken away, so that no grantee ever reads the rows it protected.
    DisableRowSecurity = 113,
    DropForeignServers = 115,
    DropAggregates = 116,
    DropOperators = 117,
    DropTsConfigs = 118,
    DropTsDictionaries = 119,
    DropFunctions = 120,
    DropTypes = 121,
    DropOldIndexes = 125,
    /// Foreign keys whose referenced key is a plain unique index (no constraint): after it
    /// is built, and after the index it replaces is gone (Postgres would pick that one).
    AddIndexForeignKeys = 126,
    ValidateIndexForeignKeys = 127,
    /// Functions that go and that an index the plan replaces used: after the old index.
    DropFunctionsAfterOldIndexes = 128,
    /// Collations that go: after the old indexes (and the columns, domains and ranges) that
    /// used them.
    DropCollations = 129,
    /// Extensions and schemas go after every drop of what they hold or serve: a function an
    /// old index calls returns an extension's type, a collation lives in the schema (trial9
    /// P7, P8).
    DropExtensions = 132,
    DropSchemas = 133,
    Comments = 140,
}

fn h(kind: HazardKind, message: impl Into<String>) -> Hazard {
    Hazard {
        kind,
        message: message.into(),
    }
}

/// One statement of the plan, before the options give it its timeouts:
/// `Stmt::new(Phase::DropTables, sql).hazard(..).long()`.
#[must_use]
struct Stmt {
    phase: Phase,
    sql: String,
    hazards: Vec<Hazard>,
    transactional: bool,
    long: bool,
    opens: Option<String>,
    closes: Option<String>,
    secures: Option<String>,
    lint_exempt: Option<(&'static str, &'static str)>,
}

impl Stmt {
    /// A statement that runs in a transaction under the ordinary statement timeout.
    fn new(phase: Phase, sql: impl Into<String>) -> Stmt {
        Stmt {
            phase,
            sql: sql.into(),
            hazards: Vec::new(),
            transactional: true,
            long: false,
            opens: None,
            closes: None,
            secures: None,
            lint_exempt: None,
        }
    }
    /// Breaks squawk's `rule` by design, for the reason `why` (see [`Statement::lint_exempt`]).
    fn lint_exempt(mut self, rule: &'static str, why: &'static str) -> Stmt {
        self.lint_exempt = Some((rule, why));
        self
    }
    /// Opens the security window `key` (see [`windows`]).
    fn opens(mut self, key: impl Into<String>) -> Stmt {
        self.opens = Some(key.into());
        self
    }
    /// Closes (with any other closer of the same key) the security window `key`.
    fn closes(mut self, key: impl Into<String>) -> Stmt {
        self.closes = Some(key.into());
        self
    }
    /// An owner or privilege statement of the object `key`, which opened a window when
    /// created: it may run as soon as the object exists.
    fn secures(mut self, key: impl Into<String>) -> Stmt {
        self.secures = Some(key.into());
        self
    }
    fn hazard(mut self, kind: HazardKind, message: impl Into<String>) -> Stmt {
        self.hazards.push(h(kind, message));
        self
    }
    fn hazards(mut self, hazards: Vec<Hazard>) -> Stmt {
        self.hazards.extend(hazards);
        self
    }
    /// Cannot run inside a transaction block (CONCURRENTLY, new enum values).
    fn outside_txn(self) -> Stmt {
        self.outside_txn_if(true)
    }
    fn outside_txn_if(mut self, outside: bool) -> Stmt {
        self.transactional = !outside;
        self
    }
    /// Long, non-blocking or rewriting work: runs under the long statement timeout.
    fn long(self) -> Stmt {
        self.long_if(true)
    }
    fn long_if(mut self, long: bool) -> Stmt {
        self.long = long;
        self
    }
}

/// What every object kind's `diff` works with: both models, the options, what the analysis
/// decided, and the statements pushed so far.
struct Cx<'a> {
    a: &'a Model,
    b: &'a Model,
    o: &'a PlanOptions,
    ch: Changes,
    out: Vec<Statement>,
    unsupported: Vec<String>,
    /// Comment targets (`INDEX public.i`) of objects dropped and created again: their
    /// comments went with them and are set again even when unchanged.
    recreated: BTreeSet<String>,
    /// Tables with a column the plan retypes (`ALTER COLUMN … TYPE`): Postgres builds their
    /// indexes and extended statistics on that column again, without their statistics
    /// targets and (statistics) owner.
    retyped: BTreeSet<String>,
}

impl Cx<'_> {
    fn push(&mut self, s: Stmt) {
        let timeout = if s.long {
            self.o.long_timeout
        } else {
            self.o.statement_timeout
        };
        let sql = if s.sql.trim_end().ends_with(';') {
            s.sql.trim_end().to_owned()
        } else {
            format!("{};", s.sql.trim_end())
        };
        self.out.push(Statement {
            sql,
            hazards: s.hazards,
            transactional: s.transactional,
            lock_timeout_ms: self.o.lock_timeout.as_millis() as u64,
            statement_timeout_ms: timeout.as_millis() as u64,
            phase: s.phase,
            opens: s.opens,
            closes: s.closes,
            secures: s.secures,
            lint_exempt: s.lint_exempt,
        });
    }
    /// A statement without hazards, in a transaction, under the ordinary timeout.
    fn simple(&mut self, phase: Phase, sql: impl Into<String>) {
        self.push(Stmt::new(phase, sql));
    }
    fn unsupported(&mut self, message: String) {
        self.unsupported.push(message);
    }
}

/// Diffs `a` (the current schema) into `b` (the desired one).
pub fn plan(a: &Model, b: &Model, o: &PlanOptions) -> Plan {
    let moved = extensions::after_moves(a, b);
    let a = moved.as_ref().unwrap_or(a);
    let mut unsupported = analysis::unsupported_objects(a, b);
    let pruned = collisions::prune(a, b, &mut unsupported);
    let (a, b) = pruned.as_ref().map_or((a, b), |(pa, pb)| (pa, pb));
    let taken = ext_members::prune(a, b, &mut unsupported);
    let (a, b) = taken.as_ref().map_or((a, b), |(pa, pb, _)| (pa, pb));
    let held = opclasses::prune(a, b, &mut unsupported);
    let b = held.as_ref().unwrap_or(b);
    let kept = partkeys::keep(a, b, &mut unsupported);
    let b = kept.as_ref().unwrap_or(b);
    let ch = Changes::of(a, b, &mut unsupported);
    let mut cx = Cx {
        a,
        b,
        o,
        ch,
        out: Vec::new(),
        unsupported,
        recreated: BTreeSet::new(),
        retyped: BTreeSet::new(),
    };
    // The order of the calls matters only within a phase: each kind's statements of one
    // phase follow those of the kinds called before it.
    schemas::diff(&mut cx);
    if let Some((_, _, drops)) = &taken {
        ext_members::push(&mut cx, drops.clone());
    }
    extensions::diff(&mut cx);
    collations::create(&mut cx);
    types::diff(&mut cx);
    collations::drop_gone(&mut cx);
    sequences::diff(&mut cx);
    foreign::diff(&mut cx);
    functions::diff(&mut cx);
    casts::diff(&mut cx);
    tables::diff(&mut cx);
    renames::diff(&mut cx);
    triggers::diff(&mut cx);
    event_triggers::diff(&mut cx);
    policies::diff(&mut cx);
    views::diff(&mut cx);
    constraints::diff(&mut cx);
    indexes::diff(&mut cx);
    part_index_names::diff(&mut cx);
    operators::diff(&mut cx);
    aggregates::diff(&mut cx);
    textsearch::diff(&mut cx);
    rules::diff(&mut cx);
    statistics::diff(&mut cx);
    // Before comments and privileges: a publication it creates again keeps both.
    replication::diff(&mut cx);
    comments::diff(&mut cx);
    privileges::diff(&mut cx);
    clustering::diff(&mut cx);
    write_hazards::annotate(cx.a, cx.b, &mut cx.out);

    let mut statements = cx.out;
    statements.sort_by_key(|s| s.phase as u32);
    let statements = windows::close(statements);
    Plan {
        statements,
        unsupported: cx.unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_declared_in_the_order_of_their_numbers() {
        use Phase::*;
        let all = [
            CreateSchemas,
            DropForExtensions,
            CreateOrAlterExtensions,
            CreateCollations,
            CreateTypes,
            AddEnumValues,
            RecreateEnums,
            AlterTypes,
            AddDomainChecks,
            CreateOrAlterSequences,
            CreateForeignServers,
            CreateFunctions,
            CreateOperators,
            CreateAggregates,
            CreateTsDictionaries,
            CreateTsConfigs,
            AddDomainChecksAfterFunctions,
            DropEventTriggersAndCasts,
            DropTriggersAndPolicies,
            DropViews,
            DropForeignKeys,
            DropConstraints,
            DropOrRenameIndexes,
            DropReplacedFunctions,
            RecreateFunctions,
            CreateCasts,
            DropParentOnlyColumns,
            DropForeignTables,
            DetachPartitions,
            CreateTables,
            AlterTables,
            DropTables,
            RecreateViews,
            SequenceOwnership,
            AddKeys,
            AddChecks,
            AddForeignKeys,
            ValidateConstraints,
            CreateIndexes,
            CreateViews,
            CreateMatviewIndexes,
            CreateStatistics,
            RecreateFunctionsAfterViews,
            AfterLateFunctions,
            SchemaGrants,
            SecurityAndTriggers,
            EnableTriggers,
            SchemaRevokes,
            DisableRowSecurity,
            DropForeignServers,
            DropAggregates,
            DropOperators,
            DropTsConfigs,
            DropTsDictionaries,
            DropFunctions,
            DropTypes,
            DropOldIndexes,
            AddIndexForeignKeys,
            ValidateIndexForeignKeys,
            DropFunctionsAfterOldIndexes,
            DropCollations,
            DropExtensions,
            DropSchemas,
            Comments,
        ];
        for w in all.windows(2) {
            assert!(w[0] < w[1] && (w[0] as u32) < (w[1] as u32), "{w:?}");
        }
    }
}

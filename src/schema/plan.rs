//! Diff two models into an ordered, online-safe plan of statements with hazards.
//!
//! Ordering is in phases (create schemas and types → functions → drop what goes or changes
//! → re-create functions that cannot be replaced → tables and columns → constraints →
//! indexes → views → triggers and policies → drop leftovers → comments), and within a phase
//! by the `pg_depend` graph: creates follow the target's dependencies, drops the source's in
//! reverse. That handles the classic traps: a function used in a column default exists before
//! the table, a view on a view comes after it, a view that needs a primary key comes after the
//! constraint, and views that depend on a column whose type changes are dropped first and
//! recreated after. Column-level edges (`col:` keys) do the same for what Postgres refuses to
//! retype a column under — policies, triggers' WHEN clauses, generated columns — and foreign
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;

use super::model::*;
use super::{quote_ident, split_qualified};

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
    phase: u32,
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

struct Builder<'a> {
    a: &'a Model,
    b: &'a Model,
    o: &'a PlanOptions,
    out: Vec<Statement>,
    /// Comment targets (`INDEX public.i`) of objects dropped and created again: their
    /// comments went with them and are set again even when unchanged.
    recreated: BTreeSet<String>,
}

fn h(kind: HazardKind, message: impl Into<String>) -> Hazard {
    Hazard {
        kind,
        message: message.into(),
    }
}

impl Builder<'_> {
    fn push(
        &mut self,
        phase: u32,
        sql: String,
        hazards: Vec<Hazard>,
        transactional: bool,
        long: bool,
    ) {
        let timeout = if long {
            self.o.long_timeout
        } else {
            self.o.statement_timeout
        };
        let sql = if sql.trim_end().ends_with(';') {
            sql.trim_end().to_owned()
        } else {
            format!("{};", sql.trim_end())
        };
        self.out.push(Statement {
            sql,
            hazards,
            transactional,
            lock_timeout_ms: self.o.lock_timeout.as_millis() as u64,
            statement_timeout_ms: timeout.as_millis() as u64,
            phase,
        });
    }
    fn simple(&mut self, phase: u32, sql: String) {
        self.push(phase, sql, Vec::new(), true, false);
    }
}

/// Orders `keys` so that what a key depends on (per `deps`, transitively through keys not in
/// the set) comes first. Ties keep the input (sorted) order.
fn topo(keys: &[String], deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    topo_with(keys, deps, &BTreeMap::new())
}

/// [`topo`] over `deps` plus `extra` edges (kept apart: `deps` is large and not copied).
fn topo_with(
    keys: &[String],
    deps: &BTreeMap<String, BTreeSet<String>>,
    extra: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    type Deps = BTreeMap<String, BTreeSet<String>>;
    struct Walk<'a> {
        set: BTreeSet<&'a String>,
        deps: &'a Deps,
        extra: &'a Deps,
        done: BTreeSet<String>,
        visiting: BTreeSet<String>,
        out: Vec<String>,
    }
    fn visit(w: &mut Walk<'_>, k: &str) {
        if w.done.contains(k) || !w.visiting.insert(k.to_owned()) {
            return;
        }
        let next: Vec<String> = w
            .deps
            .get(k)
            .into_iter()
            .chain(w.extra.get(k))
            .flatten()
            .cloned()
            .collect();
        for d in next {
            visit(w, &d);
        }
        w.visiting.remove(k);
        w.done.insert(k.to_owned());
        if w.set.contains(&k.to_owned()) {
            w.out.push(k.to_owned());
        }
    }
    let mut w = Walk {
        set: keys.iter().collect(),
        deps,
        extra,
        done: BTreeSet::new(),
        visiting: BTreeSet::new(),
        out: Vec::new(),
    };
    for k in keys {
        visit(&mut w, k);
    }
    w.out
}

/// Everything that (transitively) depends on any of `roots`, per `deps`.
fn dependents(roots: &BTreeSet<String>, users: &Users<'_>) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut frontier: Vec<&str> = roots.iter().map(String::as_str).collect();
    while let Some(r) = frontier.pop() {
        for &k in users.get(r).into_iter().flatten() {
            if found.insert(k.to_owned()) {
                frontier.push(k);
            }
        }
    }
    found
}

/// `deps` reversed: referenced key → the keys that depend on it.
type Users<'a> = HashMap<&'a str, Vec<&'a str>>;

fn users(deps: &BTreeMap<String, BTreeSet<String>>) -> Users<'_> {
    let mut out: Users<'_> = HashMap::new();
    for (k, ds) in deps {
        for d in ds {
            out.entry(d.as_str()).or_default().push(k.as_str());
        }
    }
    out
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn column_sql(c: &Column) -> String {
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
fn identity_sql(kind: char, options: Option<&IdentityOptions>) -> String {
    let how = if kind == 'a' { "ALWAYS" } else { "BY DEFAULT" };
    match options {
        Some(o) => format!(" GENERATED {how} AS IDENTITY ({})", o.clauses().join(" ")),
        None => format!(" GENERATED {how} AS IDENTITY"),
    }
}

/// Defaults that Postgres cannot store as a "fast default" (PG ≥ 11) force a rewrite.
fn volatile_default(expr: &str) -> bool {
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
fn no_rewrite(from: &str, to: &str) -> bool {
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

fn index_sql_concurrent(def: &str) -> String {
    // "CREATE [UNIQUE] INDEX name ON …" → "CREATE [UNIQUE] INDEX CONCURRENTLY name ON …"
    def.replacen(" INDEX ", " INDEX CONCURRENTLY ", 1)
}

/// Index definition for a partitioned table: without `ONLY`, so it cascades to partitions.
fn index_sql_cascading(def: &str) -> String {
    def.replacen(" ON ONLY ", " ON ", 1)
}

fn strip_not_valid(def: &str) -> &str {
    def.strip_suffix(" NOT VALID").unwrap_or(def)
}

/// `(cols)` plus `INCLUDE`/`NULLS NOT DISTINCT` of a PRIMARY KEY/UNIQUE definition, when it
/// can be built as a plain unique index.
fn unique_index_columns(def: &str) -> Option<&str> {
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

fn name_of(key: &str, table: &str) -> String {
    key.strip_prefix(table)
        .and_then(|k| k.strip_prefix('.'))
        .unwrap_or(key)
        .to_owned()
}

/// Diffs `a` (the current schema) into `b` (the desired one).
pub fn plan(a: &Model, b: &Model, o: &PlanOptions) -> Plan {
    let mut x = Builder {
        a,
        b,
        o,
        out: Vec::new(),
        recreated: BTreeSet::new(),
    };
    let mut plan = Plan::default();

    // Unsupported objects: any difference is reported, never dropped.
    for (k, v) in &b.unsupported {
        match a.unsupported.get(k) {
            None => plan.unsupported.push(format!(
                "{k}: added — not supported by the schema engine; write this change by hand"
            )),
            Some(old) if old != v => plan.unsupported.push(format!(
                "{k}: changed — not supported by the schema engine; write this change by hand"
            )),
            _ => {}
        }
    }
    for k in a
        .unsupported
        .keys()
        .filter(|k| !b.unsupported.contains_key(*k))
    {
        plan.unsupported.push(format!(
            "{k}: removed — not supported by the schema engine; write this change by hand"
        ));
    }

    // Tables whose columns change type, lose columns or are retyped for enums: views over
    // them must be dropped first and recreated after.
    let mut altered_tables: BTreeSet<String> = BTreeSet::new();
    let mut recreated_enums: BTreeSet<String> = BTreeSet::new();
    // Functions of A handled as a drop and a create (not dropped again at the end).
    let mut replaced_fns: BTreeSet<String> = BTreeSet::new();
    for (k, labels) in &b.enums {
        if let Some(old) = a.enums.get(k) {
            if old != labels && !is_subsequence(old, labels) {
                recreated_enums.insert(k.clone());
            }
        }
    }
    // A recreated enum is swapped under table columns (and arrays of it) and views; anything
    // else that uses it (domains, composite types, functions, constraints or indexes naming
    // its values) would keep the old type: that is for a human to write.
    for k in recreated_enums.clone() {
        let key = format!("type:{k}");
        let blockers: Vec<&str> = a
            .deps
            .iter()
            .filter(|(_, ds)| ds.contains(&key))
            .map(|(d, _)| d.as_str())
            .filter(|d| {
                let rel = relation_of(d).unwrap_or("");
                let swapped_under = (a.tables.contains_key(rel) && b.tables.contains_key(rel))
                    || a.views.contains_key(rel);
                !swapped_under
            })
            .collect();
        if !blockers.is_empty() {
            plan.unsupported.push(format!(
                "enum {k}: values are removed or reordered, so the type must be recreated, but {} use it — not supported by the schema engine; write this change by hand",
                blockers.join(", ")
            ));
            recreated_enums.remove(&k);
        }
    }
    for (k, t) in &b.tables {
        if let Some(old) = a.tables.get(k) {
            for c in &old.columns {
                match t.column(&c.name) {
                    None => {
                        altered_tables.insert(format!("rel:{k}"));
                    }
                    Some(n)
                        if n.data_type != c.data_type
                            || n.collation != c.collation
                            || n.generated != c.generated =>
                    {
                        altered_tables.insert(format!("rel:{k}"));
                    }
                    Some(n) if recreated_enums.contains(element_type(&n.data_type)) => {
                        altered_tables.insert(format!("rel:{k}"));
                    }
                    _ => {}
                }
            }
        }
    }

    // Views that change, or sit on something that changes shape, are recreated.
    let mut recreate_views: BTreeSet<String> = BTreeSet::new();
    for (k, v) in &b.views {
        if a.views.get(k).is_some_and(|old| old != v) {
            recreate_views.insert(format!("rel:{k}"));
        }
    }
    let mut roots = altered_tables.clone();
    roots.extend(recreate_views.iter().cloned());
    for (k, f) in &a.functions {
        let recreated = match b.functions.get(k) {
            Some(n) => n.returns != f.returns || n.kind != f.kind || n.arguments != f.arguments,
            // The same signature under another key: a parameter was renamed.
            None => b.functions.values().any(|n| n.signature == f.signature),
        };
        if recreated {
            roots.insert(format!("fn:{k}"));
        }
    }
    let a_users = users(&a.deps);
    for d in dependents(&roots, &a_users) {
        if let Some(v) = d.strip_prefix("rel:") {
            if a.views.contains_key(v) && b.views.contains_key(v) {
                recreate_views.insert(d.clone());
            }
        }
    }

    // Postgres refuses to retype a column that a policy, a trigger's WHEN clause or a
    // generated column reads: those are dropped before and created again after.
    let mut retyped: BTreeSet<String> = BTreeSet::new();
    for (k, t) in &b.tables {
        let Some(old) = a.tables.get(k) else { continue };
        for c in &old.columns {
            let Some(n) = t.column(&c.name) else { continue };
            if n.generated == c.generated
                && (n.data_type != c.data_type
                    || n.collation != c.collation
                    || recreated_enums.contains(element_type(&n.data_type)))
            {
                retyped.insert(format!("col:{k}.{}", c.name));
            }
        }
    }
    let around = dependents(&retyped, &a_users);
    let rebuilt_policies: BTreeSet<String> = around
        .iter()
        .filter_map(|d| d.strip_prefix("policy:"))
        .filter(|k| a.policies.contains_key(*k) && b.policies.contains_key(*k))
        .map(str::to_owned)
        .collect();
    let rebuilt_triggers: BTreeSet<String> = around
        .iter()
        .filter_map(|d| d.strip_prefix("trigger:"))
        .filter(|k| a.triggers.contains_key(*k) && b.triggers.contains_key(*k))
        .map(str::to_owned)
        .collect();
    let generated = |m: &Model, key: &str| {
        split_qualified(key).and_then(|(t, c)| {
            m.tables
                .get(t)
                .and_then(|t| t.column(c))
                .and_then(|c| c.generated.clone())
        })
    };
    let rebuilt_columns: BTreeSet<String> = around
        .iter()
        .filter_map(|d| d.strip_prefix("col:"))
        .filter(|k| generated(a, k).is_some() && generated(a, k) == generated(b, k))
        .map(str::to_owned)
        .collect();

    // 10: schemas and extensions.
    for s in b.schemas.difference(&a.schemas) {
        x.simple(10, format!("CREATE SCHEMA {s}"));
    }
    for (k, e) in &b.extensions {
        match a.extensions.get(k) {
            None => x.simple(
                11,
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {k} WITH SCHEMA {} VERSION {}",
                    e.schema,
                    lit(&e.version)
                ),
            ),
            Some(old) if old.version != e.version => x.push(
                11,
                format!("ALTER EXTENSION {k} UPDATE TO {}", lit(&e.version)),
                vec![h(
                    HazardKind::Correctness,
                    "the new extension version may not be backwards compatible",
                )],
                true,
                false,
            ),
            Some(old) if old.schema != e.schema => {
                x.simple(11, format!("ALTER EXTENSION {k} SET SCHEMA {}", e.schema))
            }
            _ => {}
        }
    }

    // 20: types.
    let mut new_types: Vec<String> = Vec::new();
    new_types.extend(
        b.enums
            .keys()
            .filter(|k| !a.enums.contains_key(*k))
            .map(|k| format!("type:{k}")),
    );
    new_types.extend(
        b.domains
            .keys()
            .filter(|k| !a.domains.contains_key(*k))
            .map(|k| format!("type:{k}")),
    );
    new_types.extend(
        b.composites
            .keys()
            .filter(|k| !a.composites.contains_key(*k))
            .map(|k| format!("type:{k}")),
    );
    new_types.sort();
    for key in topo(&new_types, &b.deps) {
        let k = key.trim_start_matches("type:");
        if let Some(labels) = b.enums.get(k) {
            let list = labels.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ");
            x.simple(20, format!("CREATE TYPE {k} AS ENUM ({list})"));
        } else if let Some(d) = b.domains.get(k) {
            let mut s = format!("CREATE DOMAIN {k} AS {}", d.base);
            if let Some(c) = &d.collation {
                s.push_str(&format!(" COLLATE {c}"));
            }
            if let Some(def) = &d.default {
                s.push_str(&format!(" DEFAULT {def}"));
            }
            if d.not_null {
                s.push_str(" NOT NULL");
            }
            for (n, c) in &d.checks {
                s.push_str(&format!(" CONSTRAINT {n} {c}"));
            }
            x.simple(20, s);
        } else if let Some(attrs) = b.composites.get(k) {
            let list = attrs
                .iter()
                .map(|(n, t)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            x.simple(20, format!("CREATE TYPE {k} AS ({list})"));
        }
    }
    // 21–22: enum changes.
    for (k, labels) in &b.enums {
        let Some(old) = a.enums.get(k) else { continue };
        if old == labels {
            continue;
        }
        if !is_subsequence(old, labels) && !recreated_enums.contains(k) {
            continue; // reported as unsupported above
        }
        if is_subsequence(old, labels) {
            for (i, l) in labels.iter().enumerate() {
                if old.contains(l) {
                    continue;
                }
                let place = match labels[i + 1..].iter().find(|n| old.contains(n)) {
                    Some(next) => format!(" BEFORE {}", lit(next)),
                    None => match labels[..i].iter().rev().find(|p| old.contains(p)) {
                        Some(prev) => format!(" AFTER {}", lit(prev)),
                        None => String::new(),
                    },
                };
                // Not in a transaction: a later statement using the new value would fail.
                x.push(
                    21,
                    format!("ALTER TYPE {k} ADD VALUE {}{place}", lit(l)),
                    Vec::new(),
                    false,
                    false,
                );
            }
        } else {
            let old_name = format!(
                "{}__neon_migrate_old",
                k.rsplit('.').next().unwrap_or(k).trim_matches('"')
            );
            let list = labels.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ");
            x.simple(
                22,
                format!("ALTER TYPE {k} RENAME TO {}", crate::pg::ident(&old_name)),
            );
            x.simple(22, format!("CREATE TYPE {k} AS ENUM ({list})"));
            x.recreated.insert(format!("TYPE {k}"));
            let schema = split_qualified(k).map(|(s, _)| s).unwrap_or("public");
            x.push(
                120,
                format!("DROP TYPE {schema}.{}", crate::pg::ident(&old_name)),
                Vec::new(),
                true,
                false,
            );
            for removed in old.iter().filter(|l| !labels.contains(l)) {
                plan_note_removed_enum_value(&mut x, k, removed);
            }
        }
    }
    // 25: domain and composite changes.
    for (k, d) in &b.domains {
        let Some(old) = a.domains.get(k) else {
            continue;
        };
        if old.base != d.base || old.collation != d.collation {
            plan.unsupported.push(format!(
                "domain {k}: base type or collation changed — drop and recreate it by hand"
            ));
            continue;
        }
        if old.default != d.default {
            match &d.default {
                Some(def) => x.simple(25, format!("ALTER DOMAIN {k} SET DEFAULT {def}")),
                None => x.simple(25, format!("ALTER DOMAIN {k} DROP DEFAULT")),
            }
        }
        if old.not_null != d.not_null {
            let verb = if d.not_null { "SET" } else { "DROP" };
            let hz = if d.not_null {
                vec![h(
                    HazardKind::Correctness,
                    "fails if a column of this domain holds NULL",
                )]
            } else {
                Vec::new()
            };
            x.push(
                25,
                format!("ALTER DOMAIN {k} {verb} NOT NULL"),
                hz,
                true,
                true,
            );
        }
        for (n, c) in &old.checks {
            if d.checks.get(n) != Some(c) {
                x.simple(25, format!("ALTER DOMAIN {k} DROP CONSTRAINT {n}"));
            }
        }
        for (n, c) in &d.checks {
            if old.checks.get(n) != Some(c) {
                x.simple(
                    26,
                    format!(
                        "ALTER DOMAIN {k} ADD CONSTRAINT {n} {} NOT VALID",
                        strip_not_valid(c)
                    ),
                );
                if c.ends_with(" NOT VALID") {
                    continue;
                }
                x.push(
                    26,
                    format!("ALTER DOMAIN {k} VALIDATE CONSTRAINT {n}"),
                    vec![h(
                        HazardKind::Correctness,
                        "fails if existing values violate the new domain constraint",
                    )],
                    true,
                    true,
                );
            }
        }
    }
    for (k, attrs) in &b.composites {
        let Some(old) = a.composites.get(k) else {
            continue;
        };
        for (n, t) in old {
            match attrs.iter().find(|(m, _)| m == n) {
                None => x.simple(25, format!("ALTER TYPE {k} DROP ATTRIBUTE {n}")),
                Some((_, nt)) if nt != t => {
                    x.simple(25, format!("ALTER TYPE {k} ALTER ATTRIBUTE {n} TYPE {nt}"))
                }
                _ => {}
            }
        }
        for (n, t) in attrs {
            if !old.iter().any(|(m, _)| m == n) {
                x.simple(25, format!("ALTER TYPE {k} ADD ATTRIBUTE {n} {t}"));
            }
        }
    }

    // 30: sequences.
    for (k, s) in &b.sequences {
        let body = |s: &Sequence| {
            format!(
                "INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
                s.increment,
                s.min,
                s.max,
                s.start,
                s.cache,
                if s.cycle { "CYCLE" } else { "NO CYCLE" }
            )
        };
        match a.sequences.get(k) {
            None => x.simple(
                30,
                format!("CREATE SEQUENCE {k} AS {} {}", s.data_type, body(s)),
            ),
            Some(old)
                if (
                    old.data_type.as_str(),
                    old.increment,
                    old.min,
                    old.max,
                    old.start,
                    old.cache,
                    old.cycle,
                ) != (
                    s.data_type.as_str(),
                    s.increment,
                    s.min,
                    s.max,
                    s.start,
                    s.cache,
                    s.cycle,
                ) =>
            {
                // Narrower bounds fail when the current value lies outside them; the plan
                // cannot know it, and moving the value would hand out used numbers again.
                let hz = if s.min > old.min || s.max < old.max {
                    vec![h(
                        HazardKind::Correctness,
                        "fails if the sequence's current value is outside the new bounds",
                    )]
                } else {
                    Vec::new()
                };
                x.push(
                    30,
                    format!("ALTER SEQUENCE {k} AS {} {}", s.data_type, body(s)),
                    hz,
                    true,
                    false,
                )
            }
            _ => {}
        }
    }

    // 40: functions (bodies are not validated: the plan sets check_function_bodies off).
    // New and replaceable ones come before tables (column defaults may call them). One whose
    // result, kind or parameters (names, defaults) change cannot be replaced: it is dropped
    // once what uses it (views) is dropped, and created again right after (55–56).
    let mut fns: Vec<String> = Vec::new();
    let mut refns: Vec<String> = Vec::new();
    for (k, f) in &b.functions {
        let old = a.functions.get(k).map(|o| (k, o)).or_else(|| {
            a.functions
                .iter()
                .find(|(ka, o)| o.signature == f.signature && !b.functions.contains_key(*ka))
        });
        match old {
            None => fns.push(format!("fn:{k}")),
            Some((ka, o)) if o.definition != f.definition || ka != k => {
                if o.returns == f.returns && o.kind == f.kind && o.arguments == f.arguments {
                    fns.push(format!("fn:{k}"));
                    continue;
                }
                let key = format!("fn:{ka}");
                let blockers: Vec<&str> = a
                    .deps
                    .iter()
                    .filter(|(d, ds)| ds.contains(&key) && !recreate_views.contains(*d))
                    .map(|(d, _)| d.as_str())
                    .collect();
                if !blockers.is_empty() {
                    plan.unsupported.push(format!(
                        "function {ka}: its result, kind or parameters change, so it must be dropped and created again, but {} use it — not supported by the schema engine; write this change by hand",
                        blockers.join(", ")
                    ));
                    replaced_fns.insert(ka.clone());
                    continue;
                }
                let what = if o.kind == 'p' {
                    "PROCEDURE"
                } else {
                    "FUNCTION"
                };
                x.push(
                    55,
                    format!("DROP {what} {ka}"),
                    vec![h(
                        HazardKind::UntrackableDependencies,
                        "its result, kind or parameters change: it is dropped and created again; callers are not tracked by Postgres",
                    )],
                    true,
                    false,
                );
                replaced_fns.insert(ka.clone());
                let what = if f.kind == 'p' {
                    "PROCEDURE"
                } else {
                    "FUNCTION"
                };
                x.recreated.insert(format!("{what} {k}"));
                refns.push(format!("fn:{k}"));
            }
            _ => {}
        }
    }
    for (phase, list) in [(41, &fns), (56, &refns)] {
        for key in topo(list, &b.deps) {
            if let Some(f) = b.functions.get(key.trim_start_matches("fn:")) {
                x.simple(phase, f.definition.clone());
            }
        }
    }

    // 50–54: drop what goes away or changes, dependents first.
    for (k, t) in &a.triggers {
        let on_recreated_view = recreate_views.contains(&format!("rel:{}", t.table));
        let changed = b
            .triggers
            .get(k)
            .is_none_or(|n| n.definition != t.definition)
            || rebuilt_triggers.contains(k);
        let relation_stays = b.tables.contains_key(&t.table) || b.views.contains_key(&t.table);
        if changed && relation_stays && !on_recreated_view {
            x.simple(
                50,
                format!("DROP TRIGGER {} ON {}", name_of(k, &t.table), t.table),
            );
        }
    }
    for (k, p) in &a.policies {
        let changed = b.policies.get(k).is_none_or(|n| n != p) || rebuilt_policies.contains(k);
        if changed && b.tables.contains_key(&p.table) {
            x.push(
                50,
                format!("DROP POLICY {} ON {}", name_of(k, &p.table), p.table),
                vec![h(
                    HazardKind::AuthzUpdate,
                    "a row-level security policy is removed or replaced",
                )],
                true,
                false,
            );
        }
    }
    let mut drop_views: Vec<String> = a
        .views
        .keys()
        .filter(|k| !b.views.contains_key(*k) || recreate_views.contains(&format!("rel:{k}")))
        .map(|k| format!("rel:{k}"))
        .collect();
    drop_views.sort();
    let mut ordered = topo(&drop_views, &a.deps);
    ordered.reverse();
    for key in &ordered {
        let k = key.trim_start_matches("rel:");
        let v = &a.views[k];
        let what = if v.materialized {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        x.simple(51, format!("DROP {what} {k}"));
    }
    // Foreign keys that rest on a primary key or unique constraint that is dropped or
    // replaced: Postgres refuses to drop that constraint under them, so they are dropped
    // first and, when B keeps them, added again once the new key exists.
    let mut rebuilt_fks: BTreeSet<(String, String)> = BTreeSet::new();
    for (tk, t) in &a.tables {
        let nt = b.tables.get(tk);
        for (n, c) in &t.constraints {
            let kept = nt.and_then(|nt| nt.constraints.get(n)).is_some_and(|nc| {
                nc.kind == c.kind
                    && strip_not_valid(&nc.definition) == strip_not_valid(&c.definition)
            });
            if !matches!(c.kind, 'p' | 'u') || kept || nt.is_none() {
                continue;
            }
            let schema = split_qualified(tk).map_or("public", |(s, _)| s);
            let index = format!("index:{schema}.{}", quote_ident(n));
            for (d, ds) in &a.deps {
                let Some(con) = d.strip_prefix("con:").filter(|_| ds.contains(&index)) else {
                    continue;
                };
                let fk = a.tables.iter().find_map(|(ftk, ft)| {
                    let name = con.strip_prefix(ftk.as_str())?.strip_prefix('.')?;
                    ft.constraints
                        .iter()
                        .find(|(cn, fc)| fc.kind == 'f' && quote_ident(cn) == name)
                        .map(|(cn, _)| (ftk.clone(), cn.clone()))
                });
                rebuilt_fks.extend(fk);
            }
        }
    }
    for fk_pass in [true, false] {
        for (tk, t) in &a.tables {
            let Some(nt) = b.tables.get(tk) else {
                // A dropped table's foreign keys go with it, unless the key they rest on
                // goes first.
                for (n, c) in &t.constraints {
                    if fk_pass && c.kind == 'f' && rebuilt_fks.contains(&(tk.clone(), n.clone())) {
                        x.simple(
                            52,
                            format!("ALTER TABLE {tk} DROP CONSTRAINT {}", crate::pg::ident(n)),
                        );
                    }
                }
                continue;
            };
            for (n, c) in &t.constraints {
                if (c.kind == 'f') != fk_pass {
                    continue;
                }
                let same = nt.constraints.get(n).is_some_and(|nc| {
                    nc.kind == c.kind
                        && strip_not_valid(&nc.definition) == strip_not_valid(&c.definition)
                }) && !rebuilt_fks.contains(&(tk.clone(), n.clone()));
                if !same {
                    let hz = if matches!(c.kind, 'p' | 'u' | 'x') {
                        vec![h(
                            HazardKind::IndexDropped,
                            "the constraint's index is dropped with it: queries that used it may get slower",
                        )]
                    } else {
                        Vec::new()
                    };
                    x.push(
                        if fk_pass { 52 } else { 53 },
                        format!("ALTER TABLE {tk} DROP CONSTRAINT {}", crate::pg::ident(n)),
                        hz,
                        true,
                        false,
                    );
                }
            }
        }
        // FKs into tables that are dropped go before those tables.
    }
    for (k, i) in &a.indexes {
        let table_goes = !b.tables.contains_key(&i.table) && !b.views.contains_key(&i.table);
        let matview_recreated = recreate_views.contains(&format!("rel:{}", i.table));
        if table_goes || matview_recreated {
            continue;
        }
        match b.indexes.get(k) {
            None => {
                let conc = o.online && !i.on_partitioned;
                x.push(
                    54,
                    format!("DROP INDEX {}{k}", if conc { "CONCURRENTLY " } else { "" }),
                    vec![h(
                        HazardKind::IndexDropped,
                        "queries that used this index may get slower",
                    )],
                    !conc,
                    conc,
                );
            }
            Some(n) if n.definition != i.definition => {
                // Keep the old index serving queries until the new one is built.
                let old_name = format!(
                    "{}_neon_migrate_old",
                    k.rsplit('.').next().unwrap_or(k).trim_matches('"')
                );
                let schema = split_qualified(k).map(|(s, _)| s).unwrap_or("public");
                x.simple(
                    54,
                    format!("ALTER INDEX {k} RENAME TO {}", crate::pg::ident(&old_name)),
                );
                let conc = o.online && !i.on_partitioned;
                x.push(
                    125,
                    format!(
                        "DROP INDEX {}{schema}.{}",
                        if conc { "CONCURRENTLY " } else { "" },
                        crate::pg::ident(&old_name)
                    ),
                    vec![h(
                        HazardKind::IndexDropped,
                        "the previous definition of the index is dropped",
                    )],
                    !conc,
                    conc,
                );
            }
            _ => {}
        }
    }

    // 60: new tables, in dependency order (partitions and children after their parents).
    let mut new_tables: Vec<String> = b
        .tables
        .keys()
        .filter(|k| !a.tables.contains_key(*k))
        .map(|k| format!("rel:{k}"))
        .collect();
    new_tables.sort();
    let mut tdeps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (k, t) in &b.tables {
        let e = tdeps.entry(format!("rel:{k}")).or_default();
        if let Some((p, _)) = &t.partition_of {
            e.insert(format!("rel:{p}"));
        }
        for p in &t.inherits {
            e.insert(format!("rel:{p}"));
        }
    }
    for key in topo_with(&new_tables, &b.deps, &tdeps) {
        let k = key.trim_start_matches("rel:");
        let t = &b.tables[k];
        let cols: Vec<String> = t
            .columns
            .iter()
            .filter(|c| !c.inherited)
            .map(column_sql)
            .collect();
        let mut s = match &t.partition_of {
            Some((parent, bound)) => {
                if cols.is_empty() {
                    format!("CREATE TABLE {k} PARTITION OF {parent} {bound}")
                } else {
                    format!(
                        "CREATE TABLE {k} PARTITION OF {parent} ({}) {bound}",
                        cols.join(", ")
                    )
                }
            }
            None => format!(
                "CREATE {}TABLE {k} (\n    {}\n)",
                if t.unlogged { "UNLOGGED " } else { "" },
                cols.join(",\n    ")
            ),
        };
        if !t.inherits.is_empty() {
            s.push_str(&format!(" INHERITS ({})", t.inherits.join(", ")));
        }
        if let Some(pk) = &t.partition_key {
            s.push_str(&format!(" PARTITION BY {pk}"));
        }
        if !t.options.is_empty() {
            s.push_str(&format!(" WITH ({})", t.options.join(", ")));
        }
        x.simple(60, s);
        // Inherited columns may still differ locally (NOT NULL, defaults).
        for c in t.columns.iter().filter(|c| c.inherited) {
            if let Some(d) = &c.default {
                x.simple(
                    60,
                    format!("ALTER TABLE {k} ALTER COLUMN {} SET DEFAULT {d}", c.name),
                );
            }
        }
    }

    // 61: column changes on tables that stay.
    for (k, t) in &b.tables {
        let Some(old) = a.tables.get(k) else { continue };
        // Generated columns: a new expression is set in place on PG ≥ 17 (SET EXPRESSION)
        // and dropped and added on older servers; a column that stops being generated keeps
        // its values (DROP EXPRESSION); one that reads a retyped column is rebuilt around it.
        let set_expression = a.server_version >= 170_000;
        let mut readded: BTreeSet<&str> = BTreeSet::new();
        for c in &old.columns {
            if c.inherited {
                continue;
            }
            let n = t.column(&c.name);
            let rebuilt = rebuilt_columns.contains(&format!("{k}.{}", c.name));
            let regenerated = n.is_some_and(|n| {
                n.generated.is_some()
                    && n.generated != c.generated
                    && !(set_expression && c.generated.is_some())
            });
            if n.is_none() || regenerated || rebuilt {
                let mut hz = vec![h(
                    HazardKind::AccessExclusiveLock,
                    "brief ACCESS EXCLUSIVE lock; clients still using the column break",
                )];
                if c.generated.is_none() {
                    hz.insert(
                        0,
                        h(
                            HazardKind::DeletesData,
                            format!("the data of column {} is lost", c.name),
                        ),
                    );
                }
                x.push(
                    61,
                    format!("ALTER TABLE {k} DROP COLUMN {}", c.name),
                    hz,
                    true,
                    false,
                );
                if n.is_some() {
                    readded.insert(c.name.as_str());
                }
            }
        }
        for c in &t.columns {
            if c.inherited {
                continue;
            }
            let Some(oc) = old
                .column(&c.name)
                .filter(|_| !readded.contains(c.name.as_str()))
            else {
                add_column(&mut x, k, c);
                continue;
            };
            match (&oc.generated, &c.generated) {
                (Some(_), None) => {
                    x.push(
                        61,
                        format!("ALTER TABLE {k} ALTER COLUMN {} DROP EXPRESSION", c.name),
                        vec![h(
                            HazardKind::AccessExclusiveLock,
                            "brief ACCESS EXCLUSIVE lock; the column keeps its values",
                        )],
                        true,
                        false,
                    );
                }
                (Some(was), Some(expr)) if was != expr => {
                    x.push(
                        61,
                        format!(
                            "ALTER TABLE {k} ALTER COLUMN {} SET EXPRESSION AS ({expr})",
                            c.name
                        ),
                        vec![
                            h(
                                HazardKind::TableRewrite,
                                "the new expression is computed for every row: the table is rewritten",
                            ),
                            h(
                                HazardKind::AccessExclusiveLock,
                                "ACCESS EXCLUSIVE lock for the whole rewrite",
                            ),
                        ],
                        true,
                        true,
                    );
                }
                _ => {}
            }
            let was = Column {
                generated: c.generated.clone(),
                ..oc.clone()
            };
            alter_column(&mut x, k, &was, c, &recreated_enums);
        }
        if old.rls != t.rls {
            let verb = if t.rls { "ENABLE" } else { "DISABLE" };
            x.push(
                110,
                format!("ALTER TABLE {k} {verb} ROW LEVEL SECURITY"),
                vec![h(
                    HazardKind::AuthzUpdate,
                    "row-level security changes who sees which rows",
                )],
                true,
                false,
            );
        }
        if old.rls_forced != t.rls_forced {
            let verb = if t.rls_forced { "FORCE" } else { "NO FORCE" };
            x.push(
                110,
                format!("ALTER TABLE {k} {verb} ROW LEVEL SECURITY"),
                vec![h(
                    HazardKind::AuthzUpdate,
                    "row-level security for the owner changes",
                )],
                true,
                false,
            );
        }
        if old.unlogged != t.unlogged {
            let to = if t.unlogged { "UNLOGGED" } else { "LOGGED" };
            x.push(
                61,
                format!("ALTER TABLE {k} SET {to}"),
                vec![
                    h(
                        HazardKind::TableRewrite,
                        format!("SET {to} rewrites the table and its indexes"),
                    ),
                    h(
                        HazardKind::AccessExclusiveLock,
                        "ACCESS EXCLUSIVE lock for the whole rewrite",
                    ),
                ],
                true,
                true,
            );
        }
        if old.options != t.options {
            let key = |o: &String| o.split('=').next().unwrap_or(o).to_owned();
            let kept: BTreeSet<String> = t.options.iter().map(key).collect();
            let removed: Vec<String> = old
                .options
                .iter()
                .map(key)
                .filter(|k| !kept.contains(k))
                .collect();
            if !removed.is_empty() {
                x.simple(
                    61,
                    format!("ALTER TABLE {k} RESET ({})", removed.join(", ")),
                );
            }
            if !t.options.is_empty() {
                x.simple(
                    61,
                    format!("ALTER TABLE {k} SET ({})", t.options.join(", ")),
                );
            }
        }
        if old.partition_key != t.partition_key
            || old.partition_of != t.partition_of
            || old.inherits != t.inherits
        {
            plan.unsupported.push(format!("table {k}: partitioning or inheritance changed — not supported by the schema engine; write this change by hand"));
        }
        if t.rls && !old.rls && a.tables.contains_key(k) {
            // handled above
        }
    }
    for (k, t) in &b.tables {
        if !a.tables.contains_key(k) {
            if t.rls {
                x.push(
                    110,
                    format!("ALTER TABLE {k} ENABLE ROW LEVEL SECURITY"),
                    vec![h(
                        HazardKind::AuthzUpdate,
                        "row-level security changes who sees which rows",
                    )],
                    true,
                    false,
                );
            }
            if t.rls_forced {
                x.push(
                    110,
                    format!("ALTER TABLE {k} FORCE ROW LEVEL SECURITY"),
                    vec![h(
                        HazardKind::AuthzUpdate,
                        "row-level security for the owner changes",
                    )],
                    true,
                    false,
                );
            }
        }
    }

    // 62: tables that go, children and referencing tables first.
    let mut gone_tables: Vec<String> = a
        .tables
        .keys()
        .filter(|k| !b.tables.contains_key(*k))
        .map(|k| format!("rel:{k}"))
        .collect();
    gone_tables.sort();
    let mut adeps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (k, t) in &a.tables {
        let e = adeps.entry(format!("rel:{k}")).or_default();
        if let Some((p, _)) = &t.partition_of {
            e.insert(format!("rel:{p}"));
        }
        for p in &t.inherits {
            e.insert(format!("rel:{p}"));
        }
        for c in t.constraints.values() {
            if let Some(r) = &c.references {
                if r != k {
                    e.insert(format!("rel:{r}"));
                }
            }
        }
    }
    let mut order = topo_with(&gone_tables, &a.deps, &adeps);
    order.reverse();
    for key in order {
        let k = key.trim_start_matches("rel:");
        x.push(
            62,
            format!("DROP TABLE {k}"),
            vec![
                h(
                    HazardKind::DeletesData,
                    format!("table {k} and all its rows are dropped"),
                ),
                h(
                    HazardKind::AccessExclusiveLock,
                    "ACCESS EXCLUSIVE lock while it is dropped",
                ),
            ],
            true,
            true,
        );
    }

    // 70: sequence ownership, and sequences that go.
    for (k, s) in &b.sequences {
        let before = a.sequences.get(k).and_then(|o| o.owned_by.clone());
        if s.owned_by != before {
            match &s.owned_by {
                Some(col) => x.simple(70, format!("ALTER SEQUENCE {k} OWNED BY {col}")),
                None => x.simple(70, format!("ALTER SEQUENCE {k} OWNED BY NONE")),
            }
        }
    }
    for (k, s) in &a.sequences {
        if b.sequences.contains_key(k) {
            continue;
        }
        let owner_gone = s.owned_by.as_ref().is_some_and(|col| {
            let table = split_qualified(col).map(|(t, _)| t).unwrap_or(col);
            !b.tables.contains_key(table)
                || b.tables
                    .get(table)
                    .and_then(|t| t.column(col.rsplit('.').next().unwrap_or("")))
                    .is_none()
        });
        if !owner_gone {
            x.push(
                70,
                format!("DROP SEQUENCE {k}"),
                vec![h(
                    HazardKind::DeletesData,
                    "the sequence's current value is lost",
                )],
                true,
                false,
            );
        }
    }

    // 80–82: constraints, unique ones first (FKs need them).
    for pass in ['u', 'c', 'f'] {
        for (tk, t) in &b.tables {
            let existing = a.tables.get(tk);
            for (n, c) in &t.constraints {
                let class = match c.kind {
                    'p' | 'u' => 'u',
                    'f' => 'f',
                    _ => 'c',
                };
                if class != pass {
                    continue;
                }
                let old = existing.and_then(|e| e.constraints.get(n));
                let same_def = old.is_some_and(|oc| {
                    oc.kind == c.kind
                        && strip_not_valid(&oc.definition) == strip_not_valid(&c.definition)
                }) && !rebuilt_fks.contains(&(tk.clone(), n.clone()));
                if same_def {
                    let oc = old.expect("same_def implies old");
                    if !oc.validated && c.validated {
                        x.push(
                            83,
                            format!(
                                "ALTER TABLE {tk} VALIDATE CONSTRAINT {}",
                                crate::pg::ident(n)
                            ),
                            validate_hazards(c),
                            true,
                            true,
                        );
                    }
                    continue;
                }
                add_constraint(&mut x, tk, n, c, existing.is_some());
            }
        }
    }

    // 90: indexes.
    for (k, i) in &b.indexes {
        let matview = b.views.get(&i.table).is_some_and(|v| v.materialized);
        let matview_recreated = recreate_views.contains(&format!("rel:{}", i.table))
            || (matview && !a.views.contains_key(&i.table));
        let unchanged = a
            .indexes
            .get(k)
            .is_some_and(|o| o.definition == i.definition);
        if unchanged && !matview_recreated {
            continue;
        }
        let new_table = !a.tables.contains_key(&i.table) && !matview;
        let phase = if matview { 101 } else { 90 };
        x.recreated.insert(format!("INDEX {k}"));
        if i.on_partitioned && new_table {
            x.simple(phase, index_sql_cascading(&i.definition));
        } else if i.on_partitioned {
            x.push(
                phase,
                index_sql_cascading(&i.definition),
                vec![h(HazardKind::ShareLock, "indexes of partitioned tables cannot be built CONCURRENTLY: writes to every partition wait"), h(HazardKind::IndexBuild, "builds an index on every partition")],
                true,
                true,
            );
        } else if new_table || matview_recreated || !o.online {
            x.simple(phase, i.definition.clone());
        } else {
            x.push(
                phase,
                index_sql_concurrent(&i.definition),
                vec![h(
                    HazardKind::IndexBuild,
                    "builds the index concurrently: no write lock, but CPU and I/O load",
                )],
                false,
                true,
            );
        }
    }

    // 100: views, in dependency order.
    let mut new_views: Vec<String> = b
        .views
        .keys()
        .filter(|k| !a.views.contains_key(*k) || recreate_views.contains(&format!("rel:{k}")))
        .map(|k| format!("rel:{k}"))
        .collect();
    new_views.sort();
    for key in topo(&new_views, &b.deps) {
        let k = key.trim_start_matches("rel:");
        let v = &b.views[k];
        let body = v.definition.trim().trim_end_matches(';');
        let with = if v.options.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", v.options.join(", "))
        };
        if v.materialized {
            x.push(
                100,
                format!("CREATE MATERIALIZED VIEW {k}{with} AS\n{body}"),
                vec![h(
                    HazardKind::IndexBuild,
                    "the materialized view is populated: it runs its query once",
                )],
                true,
                true,
            );
        } else {
            x.simple(100, format!("CREATE VIEW {k}{with} AS\n{body}"));
        }
    }

    // 110: triggers and policies.
    for (k, t) in &b.triggers {
        let view_recreated = recreate_views.contains(&format!("rel:{}", t.table));
        if a.triggers
            .get(k)
            .is_some_and(|o| o.definition == t.definition)
            && !view_recreated
            && !rebuilt_triggers.contains(k)
        {
            if a.triggers.get(k).is_some_and(|o| o.enabled != t.enabled) {
                x.simple(111, trigger_enable(k, t));
            }
            continue;
        }
        x.simple(110, t.definition.clone());
        x.recreated
            .insert(format!("TRIGGER {} ON {}", name_of(k, &t.table), t.table));
        if t.enabled != 'O' {
            x.simple(111, trigger_enable(k, t));
        }
    }
    for (k, p) in &b.policies {
        if a.policies.get(k) == Some(p) && !rebuilt_policies.contains(k) {
            continue;
        }
        let mut s = format!("CREATE POLICY {} ON {}", name_of(k, &p.table), p.table);
        x.recreated
            .insert(format!("POLICY {} ON {}", name_of(k, &p.table), p.table));
        if !p.permissive {
            s.push_str(" AS RESTRICTIVE");
        }
        s.push_str(&format!(" FOR {} TO {}", p.command, p.roles.join(", ")));
        if let Some(u) = &p.using {
            s.push_str(&format!(" USING ({u})"));
        }
        if let Some(c) = &p.check {
            s.push_str(&format!(" WITH CHECK ({c})"));
        }
        x.push(
            110,
            s,
            vec![h(
                HazardKind::AuthzUpdate,
                "a row-level security policy is added or replaced",
            )],
            true,
            false,
        );
    }

    // 120: what goes last: functions, types, extensions, schemas.
    for (k, f) in &a.functions {
        if !b.functions.contains_key(k) && !replaced_fns.contains(k) {
            let what = if f.kind == 'p' {
                "PROCEDURE"
            } else {
                "FUNCTION"
            };
            x.push(
                120,
                format!("DROP {what} {k}"),
                vec![h(
                    HazardKind::UntrackableDependencies,
                    "callers of the function are not tracked by Postgres",
                )],
                true,
                false,
            );
        }
    }
    let mut gone_types: Vec<String> = Vec::new();
    gone_types.extend(
        a.enums
            .keys()
            .filter(|k| !b.enums.contains_key(*k))
            .map(|k| format!("type:{k}")),
    );
    gone_types.extend(
        a.domains
            .keys()
            .filter(|k| !b.domains.contains_key(*k))
            .map(|k| format!("type:{k}")),
    );
    gone_types.extend(
        a.composites
            .keys()
            .filter(|k| !b.composites.contains_key(*k))
            .map(|k| format!("type:{k}")),
    );
    gone_types.sort();
    let mut order = topo(&gone_types, &a.deps);
    order.reverse();
    for key in order {
        let k = key.trim_start_matches("type:");
        let what = if a.domains.contains_key(k) {
            "DOMAIN"
        } else {
            "TYPE"
        };
        x.simple(121, format!("DROP {what} {k}"));
    }
    for k in a
        .extensions
        .keys()
        .filter(|k| !b.extensions.contains_key(*k))
    {
        x.push(
            122,
            format!("DROP EXTENSION {k}"),
            vec![h(
                HazardKind::DeletesData,
                "objects of the extension are dropped with it",
            )],
            true,
            false,
        );
    }
    for s in a.schemas.difference(&b.schemas) {
        x.simple(123, format!("DROP SCHEMA {s}"));
    }

    // 130: comments.
    for (target, text) in &b.comments {
        let recreated =
            comment_object_recreated(target, &recreate_views) || x.recreated.contains(target);
        if a.comments.get(target) != Some(text) || recreated {
            x.simple(130, format!("COMMENT ON {target} IS {}", lit(text)));
        }
    }
    for target in a.comments.keys().filter(|t| !b.comments.contains_key(*t)) {
        if comment_target_exists(target, b) {
            x.simple(130, format!("COMMENT ON {target} IS NULL"));
        }
    }

    let mut statements = x.out;
    statements.sort_by_key(|s| s.phase);
    plan.statements = statements;
    plan
}

fn plan_note_removed_enum_value(x: &mut Builder<'_>, k: &str, removed: &str) {
    let last = x
        .out
        .iter_mut()
        .rev()
        .find(|s| s.sql.starts_with(&format!("CREATE TYPE {k} AS ENUM")));
    if let Some(s) = last {
        s.hazards.push(h(
            HazardKind::Correctness,
            format!(
                "value {} is removed: rows holding it make the column retype fail",
                lit(removed)
            ),
        ));
    }
}

/// Whether an index (or an index-backed constraint) of `table` in `m` names column `col`.
fn uses_column_in_index(m: &Model, table: &str, col: &str) -> bool {
    let names = |def: &str| {
        // The column list (and expressions) follow the access method: "… USING btree (a, b)".
        let cols = def.split_once(" USING ").map_or(def, |(_, r)| r);
        cols.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
            .any(|w| w == col)
    };
    m.indexes
        .values()
        .any(|i| i.table == table && names(&i.definition))
        || m.tables.get(table).is_some_and(|t| {
            t.constraints
                .values()
                .any(|c| matches!(c.kind, 'p' | 'u' | 'x') && names(&c.definition))
        })
}

/// The relation of a `rel:` or `col:` dependency key.
fn relation_of(key: &str) -> Option<&str> {
    if let Some(r) = key.strip_prefix("rel:") {
        return Some(r);
    }
    key.strip_prefix("col:")
        .and_then(|c| split_qualified(c))
        .map(|(t, _)| t)
}

/// The element type of an array type (`public.tag[]` → `public.tag`), else the type itself.
fn element_type(data_type: &str) -> &str {
    let mut t = data_type;
    while let Some(e) = t.strip_suffix("[]") {
        t = e;
    }
    t
}

fn is_subsequence(old: &[String], new: &[String]) -> bool {
    let mut it = new.iter();
    old.iter().all(|o| it.any(|n| n == o))
}

fn trigger_enable(k: &str, t: &Trigger) -> String {
    let name = name_of(k, &t.table);
    match t.enabled {
        'D' => format!("ALTER TABLE {} DISABLE TRIGGER {name}", t.table),
        'R' => format!("ALTER TABLE {} ENABLE REPLICA TRIGGER {name}", t.table),
        'A' => format!("ALTER TABLE {} ENABLE ALWAYS TRIGGER {name}", t.table),
        _ => format!("ALTER TABLE {} ENABLE TRIGGER {name}", t.table),
    }
}

fn comment_object_recreated(target: &str, recreated: &BTreeSet<String>) -> bool {
    let obj = target
        .strip_prefix("VIEW ")
        .or_else(|| target.strip_prefix("MATERIALIZED VIEW "))
        .map(str::to_owned)
        .or_else(|| {
            target
                .strip_prefix("COLUMN ")
                .and_then(|c| split_qualified(c).map(|(t, _)| t.to_owned()))
        });
    obj.is_some_and(|o| recreated.contains(&format!("rel:{o}")))
}

fn comment_target_exists(target: &str, b: &Model) -> bool {
    if let Some(t) = target.strip_prefix("TABLE ") {
        return b.tables.contains_key(t);
    }
    if let Some(c) = target.strip_prefix("COLUMN ") {
        return split_qualified(c).is_some_and(|(t, col)| {
            b.tables.get(t).is_some_and(|t| t.column(col).is_some()) || b.views.contains_key(t)
        });
    }
    if let Some(v) = target
        .strip_prefix("VIEW ")
        .or_else(|| target.strip_prefix("MATERIALIZED VIEW "))
    {
        return b.views.contains_key(v);
    }
    if let Some(i) = target.strip_prefix("INDEX ") {
        // Indexes of PRIMARY KEY, UNIQUE and EXCLUDE constraints are modelled as constraints.
        let of_constraint = b.tables.iter().any(|(tk, t)| {
            let schema = split_qualified(tk).map_or("public", |(s, _)| s);
            t.constraints.iter().any(|(n, c)| {
                matches!(c.kind, 'p' | 'u' | 'x') && format!("{schema}.{}", quote_ident(n)) == i
            })
        });
        return b.indexes.contains_key(i) || of_constraint;
    }
    if let Some(s) = target.strip_prefix("SEQUENCE ") {
        return b.sequences.contains_key(s);
    }
    if let Some(f) = target
        .strip_prefix("FUNCTION ")
        .or_else(|| target.strip_prefix("PROCEDURE "))
    {
        return b.functions.contains_key(f);
    }
    if let Some(t) = target
        .strip_prefix("TYPE ")
        .or_else(|| target.strip_prefix("DOMAIN "))
    {
        return b.enums.contains_key(t)
            || b.domains.contains_key(t)
            || b.composites.contains_key(t);
    }
    if let Some(s) = target.strip_prefix("SCHEMA ") {
        return b.schemas.contains(s);
    }
    if let Some((_, on)) = target.split_once(" ON ") {
        let on = on.strip_prefix("DOMAIN ").unwrap_or(on);
        let name = target.split_whitespace().nth(1).unwrap_or("");
        if target.starts_with("CONSTRAINT ") {
            return b
                .tables
                .get(on)
                .is_some_and(|t| t.constraints.contains_key(name.trim_matches('"')))
                || b.domains.contains_key(on);
        }
        if target.starts_with("TRIGGER ") {
            return b.triggers.contains_key(&format!("{on}.{name}"));
        }
        if target.starts_with("POLICY ") {
            return b.policies.contains_key(&format!("{on}.{name}"));
        }
    }
    false
}

fn validate_hazards(c: &Constraint) -> Vec<Hazard> {
    let what = if c.kind == 'f' {
        "foreign key"
    } else {
        "check constraint"
    };
    vec![h(HazardKind::Correctness, format!("validating the {what} scans the table (writes continue) and fails if existing rows violate it"))]
}

fn add_constraint(
    x: &mut Builder<'_>,
    table: &str,
    name: &str,
    c: &Constraint,
    table_existed: bool,
) {
    let n = crate::pg::ident(name);
    let online = x.o.online && table_existed;
    // The comment target as the catalog prints it (quote_ident quotes only when needed).
    x.recreated.insert(format!("CONSTRAINT {name} ON {table}"));
    x.recreated.insert(format!("CONSTRAINT {n} ON {table}"));
    match c.kind {
        'p' | 'u' if online => match unique_index_columns(&c.definition) {
            Some(cols) => {
                let unique = if c.kind == 'p' {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                };
                let partitioned = x.b.tables.get(table).is_some_and(|t| t.kind == 'p');
                if partitioned {
                    x.push(
                        80,
                        format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition),
                        vec![
                            h(
                                HazardKind::AccessExclusiveLock,
                                "partitioned tables cannot build the index concurrently",
                            ),
                            h(
                                HazardKind::IndexBuild,
                                "builds a unique index on every partition",
                            ),
                        ],
                        true,
                        true,
                    );
                    return;
                }
                x.push(
                    80,
                    format!("CREATE UNIQUE INDEX CONCURRENTLY {n} ON {table} {cols}"),
                    vec![
                        h(
                            HazardKind::IndexBuild,
                            "builds the constraint's index concurrently",
                        ),
                        h(
                            HazardKind::Correctness,
                            "fails if existing rows hold duplicates",
                        ),
                    ],
                    false,
                    true,
                );
                x.push(
                    80,
                    format!("ALTER TABLE {table} ADD CONSTRAINT {n} {unique} USING INDEX {n}"),
                    vec![h(
                        HazardKind::AccessExclusiveLock,
                        "brief ACCESS EXCLUSIVE lock to attach the index",
                    )],
                    true,
                    false,
                );
            }
            None => x.push(
                80,
                format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition),
                vec![
                    h(
                        HazardKind::AccessExclusiveLock,
                        "builds the constraint's index under ACCESS EXCLUSIVE",
                    ),
                    h(HazardKind::IndexBuild, "builds a unique index"),
                ],
                true,
                true,
            ),
        },
        'c' | 'f' if online => {
            let phase = if c.kind == 'f' { 82 } else { 81 };
            let def = strip_not_valid(&c.definition);
            let lock = if c.kind == 'f' {
                h(
                    HazardKind::ShareRowExclusiveLock,
                    "brief SHARE ROW EXCLUSIVE lock on both tables (NOT VALID: no scan)",
                )
            } else {
                h(
                    HazardKind::AccessExclusiveLock,
                    "brief ACCESS EXCLUSIVE lock (NOT VALID: no scan)",
                )
            };
            x.push(
                phase,
                format!("ALTER TABLE {table} ADD CONSTRAINT {n} {def} NOT VALID"),
                vec![lock],
                true,
                false,
            );
            if c.validated {
                x.push(
                    83,
                    format!("ALTER TABLE {table} VALIDATE CONSTRAINT {n}"),
                    validate_hazards(c),
                    true,
                    true,
                );
            }
        }
        'x' if table_existed => x.push(
            81,
            format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition),
            vec![
                h(
                    HazardKind::AccessExclusiveLock,
                    "an exclusion constraint builds its index under ACCESS EXCLUSIVE",
                ),
                h(HazardKind::IndexBuild, "builds an index"),
            ],
            true,
            true,
        ),
        _ => {
            let phase = match c.kind {
                'p' | 'u' => 80,
                'f' => 82,
                _ => 81,
            };
            let hz = if table_existed {
                vec![h(
                    HazardKind::AccessExclusiveLock,
                    "the constraint is added and checked under a lock",
                )]
            } else {
                Vec::new()
            };
            x.push(
                phase,
                format!("ALTER TABLE {table} ADD CONSTRAINT {n} {}", c.definition),
                hz,
                true,
                table_existed,
            );
        }
    }
}

fn add_column(x: &mut Builder<'_>, table: &str, c: &Column) {
    let mut hz = Vec::new();
    if c.generated.is_some() {
        hz.push(h(
            HazardKind::TableRewrite,
            "a stored generated column rewrites the table",
        ));
        hz.push(h(
            HazardKind::AccessExclusiveLock,
            "ACCESS EXCLUSIVE lock for the whole rewrite",
        ));
    } else if c.identity.is_some() {
        hz.push(h(
            HazardKind::TableRewrite,
            "an identity column fills every row: the table is rewritten",
        ));
        hz.push(h(
            HazardKind::AccessExclusiveLock,
            "ACCESS EXCLUSIVE lock for the whole rewrite",
        ));
    } else if c.default.as_deref().is_some_and(volatile_default) {
        hz.push(h(
            HazardKind::TableRewrite,
            "a volatile default is evaluated for every row: the table is rewritten",
        ));
        hz.push(h(
            HazardKind::AccessExclusiveLock,
            "ACCESS EXCLUSIVE lock for the whole rewrite",
        ));
    }
    if c.not_null && c.default.is_none() && c.identity.is_none() && c.generated.is_none() {
        hz.push(h(
            HazardKind::Correctness,
            "NOT NULL without a default fails if the table has rows",
        ));
    }
    let long = !hz.is_empty();
    x.recreated.insert(format!("COLUMN {table}.{}", c.name));
    x.push(
        61,
        format!("ALTER TABLE {table} ADD COLUMN {}", column_sql(c)),
        hz,
        true,
        long,
    );
}

fn alter_column(
    x: &mut Builder<'_>,
    table: &str,
    old: &Column,
    new: &Column,
    recreated_enums: &BTreeSet<String>,
) {
    let col = &new.name;
    let recast = recreated_enums.contains(element_type(&new.data_type));
    let type_changes = old.data_type != new.data_type || old.collation != new.collation || recast;
    let default_changes = old.default != new.default;
    if type_changes && old.default.is_some() {
        x.simple(
            61,
            format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT"),
        );
    }
    if type_changes {
        let collate = new
            .collation
            .as_ref()
            .map(|c| format!(" COLLATE {c}"))
            .unwrap_or_default();
        let using = if recast {
            // Through text: the old and the new enum have no cast between them.
            let text = new
                .data_type
                .replacen(element_type(&new.data_type), "text", 1);
            format!("{col}::{text}::{}", new.data_type)
        } else {
            format!("{col}::{}", new.data_type)
        };
        let mut hz = vec![h(
            HazardKind::AccessExclusiveLock,
            "ACCESS EXCLUSIVE lock while the column is converted",
        )];
        // A domain relabelled to its base type is binary coercible too.
        let to_base =
            x.a.domains
                .get(&old.data_type)
                .is_some_and(|d| d.base == new.data_type && old.collation == new.collation);
        let same_type = old.data_type == new.data_type;
        let rewrites = !(same_type || no_rewrite(&old.data_type, &new.data_type) || to_base);
        if rewrites || recast {
            hz.push(h(
                HazardKind::TableRewrite,
                format!(
                    "changing {} → {} may rewrite the table and its indexes",
                    old.data_type, new.data_type
                ),
            ));
        } else if same_type && uses_column_in_index(x.a, table, col) {
            // A new collation keeps the rows but not the order of the indexes on them.
            hz.push(h(
                HazardKind::IndexBuild,
                format!("indexes on {col} are rebuilt for the new collation, under the lock"),
            ));
        }
        x.push(
            61,
            format!(
                "ALTER TABLE {table} ALTER COLUMN {col} TYPE {}{collate} USING {using}",
                new.data_type
            ),
            hz,
            true,
            true,
        );
    }
    if (type_changes && new.default.is_some()) || (default_changes && !type_changes) {
        match &new.default {
            Some(d) => x.simple(
                61,
                format!("ALTER TABLE {table} ALTER COLUMN {col} SET DEFAULT {d}"),
            ),
            None => x.simple(
                61,
                format!("ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT"),
            ),
        }
    }
    match (old.identity, new.identity) {
        (Some(_), None) => x.simple(
            61,
            format!("ALTER TABLE {table} ALTER COLUMN {col} DROP IDENTITY"),
        ),
        (None, Some(k)) => {
            let identity = identity_sql(k, new.identity_options.as_ref());
            x.simple(
                61,
                format!("ALTER TABLE {table} ALTER COLUMN {col} ADD{identity}"),
            );
        }
        (Some(was), Some(k)) => {
            if was != k {
                let how = if k == 'a' { "ALWAYS" } else { "BY DEFAULT" };
                x.simple(
                    61,
                    format!("ALTER TABLE {table} ALTER COLUMN {col} SET GENERATED {how}"),
                );
            }
            // Only the options that differ: a type change already moved the sequence's
            // bounds when they were the old type's defaults.
            if let (Some(o), Some(n)) = (&old.identity_options, &new.identity_options) {
                let changed: Vec<String> = n
                    .clauses()
                    .into_iter()
                    .zip(o.clauses())
                    .filter(|(n, o)| n != o)
                    .map(|(n, _)| format!(" SET {n}"))
                    .collect();
                if !changed.is_empty() {
                    x.simple(
                        61,
                        format!("ALTER TABLE {table} ALTER COLUMN {col}{}", changed.concat()),
                    );
                }
            }
        }
        (None, None) => {}
    }
    if old.not_null != new.not_null {
        if !new.not_null {
            x.simple(
                61,
                format!("ALTER TABLE {table} ALTER COLUMN {col} DROP NOT NULL"),
            );
        } else if x.o.online {
            // A validated CHECK lets SET NOT NULL skip its scan under ACCESS EXCLUSIVE.
            let bare = col.trim_matches('"');
            let tmp = crate::pg::ident(&format!(
                "{}_nn_neon_migrate",
                bare.chars().take(40).collect::<String>()
            ));
            x.push(
                61,
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {tmp} CHECK ({col} IS NOT NULL) NOT VALID"
                ),
                vec![h(
                    HazardKind::AccessExclusiveLock,
                    "brief ACCESS EXCLUSIVE lock (NOT VALID: no scan)",
                )],
                true,
                false,
            );
            x.push(
                61,
                format!("ALTER TABLE {table} VALIDATE CONSTRAINT {tmp}"),
                vec![h(
                    HazardKind::Correctness,
                    format!("fails if column {col} holds NULLs (the scan does not block writes)"),
                )],
                true,
                true,
            );
            x.push(
                61,
                format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
                vec![h(
                    HazardKind::AccessExclusiveLock,
                    "brief ACCESS EXCLUSIVE lock: the validated CHECK spares the scan",
                )],
                true,
                false,
            );
            x.simple(61, format!("ALTER TABLE {table} DROP CONSTRAINT {tmp}"));
        } else {
            x.push(
                61,
                format!("ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL"),
                vec![h(
                    HazardKind::AccessExclusiveLock,
                    "scans the table under ACCESS EXCLUSIVE",
                )],
                true,
                true,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topo_puts_dependencies_first() {
        let mut deps = BTreeMap::new();
        deps.insert("rel:a".to_owned(), BTreeSet::from(["rel:b".to_owned()]));
        deps.insert("rel:b".to_owned(), BTreeSet::from(["rel:x".to_owned()]));
        deps.insert("rel:x".to_owned(), BTreeSet::from(["rel:c".to_owned()]));
        let keys = vec!["rel:a".to_owned(), "rel:b".to_owned(), "rel:c".to_owned()];
        assert_eq!(topo(&keys, &deps), ["rel:c", "rel:b", "rel:a"]);
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

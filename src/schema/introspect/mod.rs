//! Introspection: a handful of catalog queries, pipelined on one connection, into a [`Model`].
//!
//! Each query covers one kind of object for the whole database (never one query per
//! object), so a 2,000-table schema costs a few round trips. Objects that belong to
//! extensions, system schemas and excluded schemas are skipped. Rows are read as a stream and
//! turned into the model as they arrive, so a large schema is never held twice.
//!
//! The server's deparsers are most of the cost. `pg_get_indexdef` looks up each column's
//! default operator class with a catalog scan, so plain indexes — columns only, default
//! operator classes and collations, no predicate or storage options — are spelled out by the
//! query itself exactly as `pg_get_indexdef` prints them (a test holds the two equal); every
//! other index is still deparsed by the server. Dependencies come back as bare OIDs and are
//! turned into keys with the names the other queries already read, instead of naming every
//! object of the database in SQL.
//!
//! The layout: one file per object kind, each with its queries, one row-mapper per query
//! (`*_row`) and an `add` that puts the rows into the model under their dependency keys;
//! [`introspect`] here runs all the queries at once and adds their rows in order.

use std::collections::{BTreeMap, HashMap};

use futures_util::TryStreamExt;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use super::model::*;
use super::spell;
use crate::pg::PgError;

mod authz;
mod casts;
mod catalog;
mod catalog_builtin;
mod catalog_more;
mod catalog_tool;
mod census;
mod cluster_grants;
mod clustering;
mod collations;
mod columns;
mod comments;
mod constraints;
mod deps;
mod event_triggers;
mod foreign;
pub use foreign::UNREADABLE_OPTIONS;
mod functions;
mod indexes;
mod kinds;
mod policies;
mod ranges;
mod replication;
mod schemas;
mod sequences;
mod system_settings;
mod tables;
mod triggers;
mod types;
mod unsupported;
mod views;
// Aggregates, operators, rules, extended statistics, text search objects.
mod aggregates;
mod more_kinds;
mod operators;
mod rules;
mod statistics;
mod textsearch;

use deps::ObjKind;

/// Schemas skipped by default: neon-migrate's own tracking schema, and the scratch schema of
/// the `integrity` check's fingerprints.
pub const DEFAULT_EXCLUDED: &[&str] = &["neon_migrate", "neon_migrate_integrity"];

/// Namespaces we model: user schemas not owned by an extension nor excluded.
const NS: &str = r#"
WITH ns AS (
  SELECT n.oid, n.nspname FROM pg_namespace n
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
     AND n.nspname <> ALL($1::text[])
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                     AND d.objid = n.oid AND d.deptype = 'e')
), ext AS (
  -- An extension's members depend on it: found through the index on the referenced
  -- object (`pg_depend_reference_index`), not by reading every row of pg_depend — which
  -- each query using `ext` did, a tenth of some queries' time at 2,000 tables.
  SELECT classid, objid FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
)
"#;

fn q(body: &str) -> String {
    format!("{NS}{body}")
}

fn failed(what: &str, e: tokio_postgres::Error) -> PgError {
    PgError::new(format!("introspecting {what}"), e)
}

/// Runs `sql` and maps each row as it streams in (the rows themselves are not kept).
async fn fetch<T>(
    client: &Client,
    what: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    f: impl Fn(&Row) -> T,
) -> Result<Vec<T>, PgError> {
    let stream = client
        .query_raw(sql, params.iter().map(|p| *p as &dyn ToSql))
        .await
        .map_err(|e| failed(what, e))?;
    futures_util::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(|e| failed(what, e))? {
        out.push(f(&row));
    }
    // The rows wait for the other queries: without the room their doubling left unused.
    out.shrink_to_fit();
    Ok(out)
}

/// [`fetch`], or no rows without asking when the [`census::Census`] says there are none.
async fn fetch_if<T>(
    needed: bool,
    client: &Client,
    what: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    f: impl Fn(&Row) -> T,
) -> Result<Vec<T>, PgError> {
    if !needed {
        return Ok(Vec::new());
    }
    fetch(client, what, sql, params, f).await
}

/// Runs `sql` and folds each row into `acc` as it streams in: no `Vec` of every row (nor
/// its doubling growth) held beside what the rows become.
async fn fetch_fold<A>(
    client: &Client,
    what: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    mut acc: A,
    mut f: impl FnMut(&mut A, &Row),
) -> Result<A, PgError> {
    let stream = client
        .query_raw(sql, params.iter().map(|p| *p as &dyn ToSql))
        .await
        .map_err(|e| failed(what, e))?;
    futures_util::pin_mut!(stream);
    while let Some(row) = stream.try_next().await.map_err(|e| failed(what, e))? {
        f(&mut acc, &row);
    }
    Ok(acc)
}

/// `map` rebuilt with full nodes. Inserted one by one, in about the order the catalogs
/// return them, a B-tree's nodes end up half empty: this is most of the catalog
/// fingerprint's memory. `append` into a non-empty map builds the tree anew from the two
/// sorted sequences, filling each node, and frees the old nodes as it goes.
fn packed<K: Ord, V>(mut map: BTreeMap<K, V>) -> BTreeMap<K, V> {
    let Some((k, v)) = map.pop_first() else {
        return map;
    };
    let mut out = BTreeMap::new();
    out.insert(k, v);
    out.append(&mut map);
    out
}

fn first_char(s: &str, or: char) -> char {
    s.chars().next().unwrap_or(or)
}

fn oid_of(oid: i64) -> u32 {
    u32::try_from(oid).unwrap_or(0)
}

/// `indnullsnotdistinct` exists from PG 15 on.
fn nulls_not_distinct(version: i32) -> &'static str {
    if version >= 150_000 {
        "i.indnullsnotdistinct"
    } else {
        "false"
    }
}

/// The model being built, and what the rows of one query need from those of another.
struct Build {
    m: Model,
    /// Dependency keys by (catalog, OID).
    keys: HashMap<(ObjKind, i64), DepKey>,
    /// Table names by OID.
    table_of: HashMap<i64, String>,
    /// Column names by (table OID, attnum).
    names: spell::Columns,
    /// The catalog fingerprint's rows made from the model's queries' rows (columns, indexes).
    prints: super::catalog::Catalog,
}

impl Build {
    fn key(&mut self, kind: ObjKind, oid: i64, key: DepKey) {
        self.keys.insert((kind, oid), key);
    }
}

/// The text of every query, for one server version.
struct Queries {
    schemas: String,
    enums: String,
    domains: String,
    composites: String,
    sequences: String,
    tables: String,
    columns: String,
    constraints: String,
    indexes: String,
    views: String,
    functions: String,
    triggers: String,
    policies: String,
    comments: String,
    unsupported: Option<String>,
    catalog: String,
    census: census::Census,
}

impl Queries {
    fn new(census: census::Census) -> Queries {
        let version = census.version;
        Queries {
            schemas: schemas::schemas_query(),
            enums: types::enums_query(),
            domains: types::domains_query(),
            composites: types::composites_query(),
            sequences: sequences::sequences_query(),
            tables: tables::tables_query(census.inherits),
            columns: columns::columns_query(version),
            constraints: constraints::constraints_query(version),
            indexes: indexes::indexes_query(version),
            views: views::views_query(),
            functions: functions::functions_query(),
            triggers: triggers::triggers_query(),
            policies: policies::policies_query(),
            comments: comments::comments_query(),
            unsupported: unsupported::unsupported_query(&census),
            catalog: catalog::catalog_query(&census),
            census,
        }
    }
}

/// Rows of enums, domains and composite types.
type TypeRows = (
    Vec<types::EnumRow>,
    Vec<types::DomainRow>,
    Vec<types::CompositeRow>,
);

/// Enums, domains and composite types, read together.
async fn fetch_types(
    client: &Client,
    qs: &Queries,
    p: &[&(dyn ToSql + Sync)],
) -> Result<TypeRows, PgError> {
    tokio::try_join!(
        fetch_if(
            qs.census.enums,
            client,
            "enums",
            &qs.enums,
            p,
            types::enum_row
        ),
        fetch(client, "domains", &qs.domains, p, types::domain_row),
        fetch(
            client,
            "composite types",
            &qs.composites,
            p,
            types::composite_row
        ),
    )
}

/// The catalog fingerprint's query: all rows but those of a table's columns, indexes and
/// constraints, which come from the model's queries (`b.prints`).
async fn fetch_fingerprint(
    client: &Client,
    qs: &Queries,
    p: &[&(dyn ToSql + Sync)],
) -> Result<super::catalog::Catalog, PgError> {
    fetch_fold(
        client,
        "the catalog fingerprint",
        &qs.catalog,
        p,
        super::catalog::Catalog::new(),
        catalog::add_row,
    )
    .await
}

/// What [`introspect`] reads last: dependencies, more kinds, privileges, the catalog
/// fingerprint.
type RestRows = (
    Vec<deps::DepRow>,
    kinds::Rows,
    more_kinds::Rows,
    authz::AuthzRows,
    super::catalog::Catalog,
);

/// The queries sent last, awaited after the model's first rows are in (see [`introspect`]).
async fn fetch_rest(
    client: &Client,
    qs: &Queries,
    p: &[&(dyn ToSql + Sync)],
    excluded: &[String],
) -> Result<RestRows, PgError> {
    let census = &qs.census;
    tokio::try_join!(
        fetch(
            client,
            "dependencies",
            deps::DEPENDENCIES,
            &[],
            deps::dep_row
        ),
        kinds::fetch_all(client, census, p),
        more_kinds::fetch_all(client, census, p),
        authz::fetch_all(client, census, excluded),
        fetch_fingerprint(client, qs, p),
    )
}

/// Held while one database's rows are turned into its model: two models built at once
/// (`diff` reads both sides in parallel) held both builds' scaffolding at once, the peak
/// memory of a diff, and made it depend on how the machine's load interleaved them. The
/// queries, most of the time, still run in parallel.
static BUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Build {
    /// An empty model of a server of `version`, and no rows' names yet.
    fn new(version: i32) -> Build {
        Build {
            m: Model {
                server_version: version,
                ..Default::default()
            },
            keys: HashMap::new(),
            table_of: HashMap::new(),
            names: HashMap::new(),
            prints: super::catalog::Catalog::new(),
        }
    }
}

/// Reads the whole schema of the database `client` is connected to.
pub async fn introspect(client: &Client, excluded: &[String]) -> Result<Model, PgError> {
    let ex: Vec<String> = excluded.to_vec();
    let p: [&(dyn ToSql + Sync); 1] = [&ex];
    let census = census::take(client).await?;
    let version = census.version;
    let qs = Queries::new(census);
    // All at once: the queries are pipelined on the connection, in two halves (the first
    // rows, and the last: dependencies, more kinds, privileges, the catalog fingerprint).
    //
    // Both halves are boxed: side by side on the stack, their states (dozens of queries'
    // futures) overflowed a 2 MB thread stack in a debug build (the test suite's threads).
    let rest = Box::pin(fetch_rest(client, &qs, &p, excluded));
    let first = Box::pin(async {
        tokio::try_join!(
            fetch(client, "schemas", &qs.schemas, &p, schemas::schema_row),
            fetch(
                client,
                "extensions",
                schemas::EXTENSIONS,
                &[],
                schemas::extension_row
            ),
            fetch_types(client, &qs, &p),
            fetch(
                client,
                "sequences",
                &qs.sequences,
                &p,
                sequences::sequence_row
            ),
            fetch(client, "tables", &qs.tables, &p, tables::table_row),
            fetch(client, "columns", &qs.columns, &p, columns::column_row),
            fetch(
                client,
                "constraints",
                &qs.constraints,
                &p,
                constraints::constraint_row
            ),
            fetch(client, "indexes", &qs.indexes, &p, indexes::index_row),
            fetch(
                client,
                "operator classes",
                indexes::DEFAULT_OPCLASSES,
                &[],
                indexes::opclass_row
            ),
            fetch_if(
                census.rules,
                client,
                "views",
                &qs.views,
                &p,
                views::view_row
            ),
            fetch_if(
                census.functions,
                client,
                "functions",
                &qs.functions,
                &p,
                functions::function_row
            ),
            fetch(client, "triggers", &qs.triggers, &p, triggers::trigger_row),
            fetch_if(
                census.policies,
                client,
                "policies",
                &qs.policies,
                &p,
                policies::policy_row
            ),
            fetch(client, "comments", &qs.comments, &p, comments::comment_row),
            fetch_if(
                qs.unsupported.is_some(),
                client,
                "unsupported objects",
                qs.unsupported.as_deref().unwrap_or_default(),
                &p,
                unsupported::unsupported_row
            ),
        )
    });
    // Both are awaited before the model is built: `constraints::add` and `indexes::add` send
    // queries of their own on this connection, whose replies come after the last queries'
    // — left unread while the build awaited those, they deadlocked the connection (the
    // responses' channels are bounded).
    let (first, (deps, kinds, more, authz, fingerprint)) =
        futures_util::future::try_join(first, rest).await?;
    let (
        schemas,
        exts,
        (enums, domains, composites),
        sequences,
        tables,
        columns,
        constraints,
        indexes,
        default_opclasses,
        views,
        functions,
        triggers,
        policies,
        comments,
        unsupported,
    ) = first;

    let _turn = BUILDING.lock().await;
    let mut b = Build::new(version);
    b.m.schemas = schemas.into_iter().collect();
    b.m.extensions = exts.into_iter().collect();
    types::add(&mut b, enums, domains, composites);
    tables::add(&mut b, tables);
    views::add(&mut b, views);
    let identities = sequences::add(&mut b, sequences);
    columns::add(&mut b, columns, identities);
    constraints::add(client, &mut b, constraints).await?;
    indexes::add(client, &mut b, indexes, default_opclasses).await?;
    functions::add(&mut b, functions);
    triggers::add(&mut b, triggers);
    policies::add(&mut b, policies);
    more_kinds::add(&mut b, more);
    b.m.comments = comments
        .into_iter()
        .filter_map(|(target, text)| target.map(|t| (t, text)))
        .collect();
    b.m.unsupported = unsupported.into_iter().collect();
    kinds::add(&mut b, kinds);
    deps::add(&mut b, deps);
    // How rows found each other's names: not needed past the dependencies, and gone before
    // the fingerprint is completed (the most memory introspection holds at once).
    drop((
        std::mem::take(&mut b.keys),
        std::mem::take(&mut b.names),
        std::mem::take(&mut b.table_of),
    ));
    authz::add_all(&mut b, authz);
    Ok(finish(b, fingerprint))
}

/// The model with its catalog fingerprint completed, in packed maps.
fn finish(mut b: Build, catalog: super::catalog::Catalog) -> Model {
    let mut catalog = packed(catalog);
    catalog::complete(std::mem::take(&mut b.prints), &mut catalog);
    // Foreign tables are reported as unsupported, not modelled as tables.
    b.m.tables.retain(|_, t| t.kind != TableKind::Foreign);
    b.m.catalog = Some(catalog);
    // The largest maps of the model, filled in order: their nodes half empty until packed.
    b.m.tables = packed(std::mem::take(&mut b.m.tables));
    b.m.indexes = packed(std::mem::take(&mut b.m.indexes));
    b.m.deps = packed(std::mem::take(&mut b.m.deps));
    // Their small sets and maps, grown one entry at a time: without the room left unused.
    for t in b.m.tables.values_mut() {
        t.constraints.shrink_to_fit();
    }
    for ds in b.m.deps.values_mut() {
        ds.shrink_to_fit();
    }
    b.m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_keeps_every_entry() {
        for n in [0usize, 1, 2, 11, 12, 1000] {
            let map: BTreeMap<String, usize> =
                (0..n).rev().map(|i| (format!("k{i:05}"), i)).collect();
            let mut inserted = BTreeMap::new();
            for (k, v) in &map {
                inserted.insert(k.clone(), *v);
            }
            assert_eq!(packed(inserted), map, "{n} entries");
        }
    }
}

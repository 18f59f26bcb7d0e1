//! Functions and operators that shadow the built-in ones.
//!
//! Every check reads the migrated database with SQL, and so do the declared `[[checks.sql]]`
//! assertions. A migration can define `public.length(varchar)` or `public.quote_ident(name)` —
//! an overload whose argument types match better than the built-in's — or an `=` operator for
//! `varchar`, and Postgres then runs the migration's code inside our queries: row counts,
//! assertions and the lock report say what the migration wants. A `search_path` does not help
//! (a better-matching overload wins from any schema on the path). So what such objects exist is
//! recorded before the migration, and a migration that adds one fails the run: nothing read
//! from that database can be trusted, on the test copy or on production.
//!
//! Objects of an extension (`citext`'s `=` and `length(citext)`) are left out: they come with
//! the extension, not with the migration's own code — but only those its script creates. A
//! member the migration added to an extension it created (`ALTER EXTENSION citext ADD
//! FUNCTION public.length(varchar)`), or one of an extension whose script could not be
//! probed, is judged as the migration's own (see `crate::schema::extprobe`).

use std::collections::BTreeSet;

use tokio_postgres::Client;

use super::{Check, CheckResult, Evaluation, Finding, Observations, QueryError, RecordError};
use super::{Recording, Severity};
use crate::config::Config;
use crate::schema::{extprobe, Model};

const NAME: &str = "shadowing";

/// Always on: first of all, whether anything the other checks read can be trusted.
pub struct Shadowing {
    /// The shadowing objects before the migration.
    before: Option<BTreeSet<String>>,
}

impl Shadowing {
    pub fn new(_config: &Config) -> Option<Self> {
        Some(Shadowing { before: None })
    }
}

#[async_trait::async_trait]
impl Check for Shadowing {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The schema after the migration, probed for the extensions it created: a member an
    /// `ALTER EXTENSION … ADD` gave one is judged as the migration's own.
    fn needs(&self) -> super::Needs {
        super::Needs::SCHEMA
    }

    async fn record_before(
        &mut self,
        cx: &Recording<'_>,
        _obs: &mut Observations,
    ) -> Result<(), RecordError> {
        let shadows = read(cx.client, None)
            .await
            .map_err(|e| cx.unrecorded("the functions and operators before the migration", e))?;
        self.before = Some(shadows);
        Ok(())
    }

    async fn evaluate(&mut self, cx: &Evaluation<'_>) -> Option<CheckResult> {
        let before = self.before.as_ref()?;
        let client = match cx.reader() {
            Ok(c) => c,
            Err(e) => return Some(CheckResult::failed(NAME, e.to_string())),
        };
        match read(client, cx.after).await {
            Ok(after) => evaluate(before, &after),
            Err(e) => Some(CheckResult::failed(
                NAME,
                format!("cannot list the functions and operators after the migration: {e}"),
            )),
        }
    }
}

/// Each shadowing function and operator, with its extension and identity (as the catalog
/// net's `extension member` rows spell it) when it is an extension's member.
const QUERY: &str = r#"
SELECT pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)),
       pg_catalog.quote_ident(e.extname), CASE WHEN e.oid IS NOT NULL THEN o.type || ' ' || o.identity END
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  LEFT JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e'
  LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid,
  LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0) o
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_proc c
                WHERE c.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.proname = p.proname)
UNION ALL
SELECT pg_catalog.format('%s.%s(%s, %s)', n.nspname, o.oprname,
                         pg_catalog.format_type(o.oprleft, NULL), pg_catalog.format_type(o.oprright, NULL)),
       pg_catalog.quote_ident(e.extname), CASE WHEN e.oid IS NOT NULL THEN i.type || ' ' || i.identity END
  FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  LEFT JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND d.objid = o.oid AND d.deptype = 'e'
  LEFT JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid,
  LATERAL pg_catalog.pg_identify_object('pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, 0) i
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_operator c
                WHERE c.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.oprname = o.oprname)
"#;

/// The shadowing functions and operators on the database `client` is connected to. An
/// extension's member is left out unless `after` (the schema after the migration, probed
/// for its new extensions: `schema::extprobe`) says its extension's script does not create
/// it, or that its extension's members could not be checked.
pub async fn read(client: &Client, after: Option<&Model>) -> Result<BTreeSet<String>, QueryError> {
    let (unscripted, unchecked) = after.map(extprobe::marked).unwrap_or_default();
    let rows = client.query(QUERY, &[]).await?;
    Ok(rows
        .iter()
        .filter(
            |r| match (r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(2)) {
                (None, _) => true,
                (Some(ext), identity) => {
                    unchecked.contains(&ext) || identity.is_some_and(|i| unscripted.contains(&i))
                }
            },
        )
        .map(|r| r.get::<_, String>(0))
        .collect())
}

/// A failed result when the migration added shadowing objects; `None` when it added none.
pub fn evaluate(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Option<CheckResult> {
    let added: Vec<&String> = after.difference(before).collect();
    if added.is_empty() {
        return None;
    }
    let list = crate::report::collapse(&added, 8);
    let finding = Finding::new(
        NAME,
        Severity::Error,
        format!("the migration defines {list}, with the name of a built-in function or operator"),
        "a better-matching overload is run instead of the built-in by every query that calls it — ours and your application's: row counts, assertions and the lock report on this database can no longer be trusted",
    )
    .fix("give the function or operator a name of its own; a migration that replaces a built-in cannot be proven here");
    Some(CheckResult::from_findings(
        NAME,
        format!(
            "{} function(s) or operator(s) shadow built-ins",
            added.len()
        ),
        vec![finding],
        Vec::new(),
    ))
}

//! A rehearsal that could not run is NOT RUN — never the migration's failure, never a pass.
//!
//! Out of connection slots on the server, a `params` query that returns no rows, more queries
//! than the connection cap: nothing was measured, so nothing is proven about what users would
//! feel, and nothing says the migration hurts them either. The result is NOT RUN (exit 0, or
//! a failure with `required = true`, as every check that could not run), saying what could
//! not be done, where, and how to fix it. Before any of the rehearsal's connections is opened
//! the connections it needs are counted against the default cap ([`MAX_CONNECTIONS`]) and the
//! server's free connection slots.

use tokio_postgres::error::SqlState;

use super::{WorkloadConfig, WorkloadError, MAX_CONNECTIONS, MIN_PER_QUERY, NAME};
use crate::checks::{CheckResult, Finding, Severity};
use crate::pg::{self, PgError};
use crate::secret::Secret;

const WHY: &str = "nothing was measured, so nothing is proven about what users would feel while the migration runs — and nothing says the migration hurts them (with `required = true` under [checks.workload] the run fails)";

/// The result of a rehearsal that stopped with `e`.
pub(super) fn result(e: &WorkloadError) -> CheckResult {
    let (what, location, fix) = match e {
        WorkloadError::Nothing(why) => return CheckResult::not_run(NAME, why.clone()),
        WorkloadError::Capacity { what, fix } => (what.clone(), None, fix.clone()),
        WorkloadError::Connect(c) if sqlstate(c) == Some(SqlState::TOO_MANY_CONNECTIONS) => (
            format!("the workload could not open its connections: the server of the test Neon database branch has no free connection slot left ({c})"),
            None,
            "lower `connections` under [checks.workload] (or replay fewer queries), or raise the server's `max_connections` (on Neon: a larger compute size)".to_owned(),
        ),
        WorkloadError::Query { name, message } => (
            format!("the workload rehearsal could not run: query `{name}`: {message}"),
            Some(format!("[[checks.workload.query]] `{name}`")),
            format!("fix `{name}` (its `sql` or its `params` query) under [[checks.workload.query]]: both run on the test Neon database branch, a copy of the main Neon database branch, before the migration"),
        ),
        other => (
            format!("the workload rehearsal could not run: {other}"),
            None,
            "run again; if it keeps happening, the test Neon database branch's server refused the rehearsal's sessions (its log says why)".to_owned(),
        ),
    };
    let mut r = CheckResult::not_run(NAME, what.clone());
    let f = Finding::new(NAME, Severity::Warning, what, WHY).fix(fix);
    r.findings.push(match location {
        Some(l) => f.at(l),
        None => f,
    });
    r
}

fn sqlstate(e: &PgError) -> Option<SqlState> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(code) = s
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|p| p.code())
        {
            return Some(code.clone());
        }
        source = s.source();
    }
    None
}

/// More queries than the default connection cap gives [`MIN_PER_QUERY`] connections each
/// (without `connections`): NOT RUN before any is opened.
pub(super) fn check_cap(cfg: &WorkloadConfig, queries: usize) -> Result<(), WorkloadError> {
    if cfg.connections.is_some() || queries * MIN_PER_QUERY <= MAX_CONNECTIONS {
        return Ok(());
    }
    let most = MAX_CONNECTIONS / MIN_PER_QUERY;
    let fix = if queries <= 100 {
        format!("set `connections = {}` under [checks.workload] (the total, shared among the queries, at least one each; up to 100), or replay at most {most} queries", (MIN_PER_QUERY * queries).min(100))
    } else {
        format!("replay at most 100 queries (`connections` goes up to 100, at least one each), or {most} with the default")
    };
    Err(WorkloadError::Capacity {
        what: format!(
            "{queries} queries need {} connections ({MIN_PER_QUERY} each by default, so that one can wait for a lock while another sends), over the default cap of {MAX_CONNECTIONS} connections in all",
            queries * MIN_PER_QUERY
        ),
        fix,
    })
}

/// Free connection slots for this role on the server, and what limits them.
const SLOTS: &str = "
SELECT current_setting('max_connections')::int,
       CASE WHEN r.rolsuper THEN 0
            ELSE current_setting('superuser_reserved_connections')::int
                 + CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles u
                                      WHERE u.rolname = 'pg_use_reserved_connections'
                                        AND pg_catalog.pg_has_role(r.oid, u.oid, 'member'))
                        THEN 0
                        ELSE coalesce(current_setting('reserved_connections', true), '0')::int END
       END,
       (SELECT count(*)::int FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend') - 1,
       CASE WHEN r.rolsuper OR r.rolconnlimit < 0 THEN NULL
            ELSE r.rolconnlimit - (SELECT count(*)::int FROM pg_catalog.pg_stat_activity
                                    WHERE usesysid = r.oid AND backend_type = 'client backend') + 1 END,
       CASE WHEN r.rolsuper OR d.datconnlimit < 0 THEN NULL
            ELSE d.datconnlimit - (SELECT count(*)::int FROM pg_catalog.pg_stat_activity
                                    WHERE datid = d.oid AND backend_type = 'client backend') + 1 END
  FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
 WHERE r.rolname = current_user AND d.datname = current_database()";

/// The rehearsal's `needed` connections (`pools` of them for the queries) against the free
/// connection slots of the test Neon database branch's server: too few is NOT RUN before
/// any is opened (else the server refuses the last ones, or the migration tool's own).
pub(super) async fn check_slots(
    url: &Secret<String>,
    pools: usize,
    needed: usize,
) -> Result<(), WorkloadError> {
    let client = pg::connect(url).await.map_err(WorkloadError::Connect)?;
    let row = client
        .query_one(SLOTS, &[])
        .await
        .map_err(|e| WorkloadError::db("cannot count the server's free connection slots", &e))?;
    let (max, reserved, used): (i32, i32, i32) = (row.get(0), row.get(1), row.get(2));
    let role: Option<i32> = row.get(3);
    let database: Option<i32> = row.get(4);
    drop(client);
    let server = max - reserved - used;
    let free = [Some(server), role, database]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(server)
        .max(0) as usize;
    if needed <= free {
        return Ok(());
    }
    let limit = match (role, database) {
        (Some(r), _) if r as usize == free => "the role's CONNECTION LIMIT".to_owned(),
        (_, Some(d)) if d as usize == free => "the database's CONNECTION LIMIT".to_owned(),
        _ => format!("`max_connections` = {max}, {used} in use, {reserved} reserved"),
    };
    let others = needed - pools;
    let room = free.saturating_sub(others);
    Err(WorkloadError::Capacity {
        what: format!(
            "the workload needs {needed} connection slot(s) on the server of the test Neon database branch ({pools} for the queries, {others} for the lock observer and the long transaction) and {free} are free ({limit})"
        ),
        fix: format!(
            "set `connections = {room}` or fewer under [checks.workload] (at least one per query; replay fewer queries if that is under their number), or give the server more slots: raise `max_connections` (on Neon: a larger compute size), or close other sessions"
        ),
    })
}

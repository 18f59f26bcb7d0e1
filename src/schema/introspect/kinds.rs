//! Range types, casts, event triggers, collations and foreign objects (wrappers, servers,
//! user mappings, foreign tables): one query per kind, run together with the others.

use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::census::Census;
use super::{casts, collations, event_triggers, fetch_if, foreign, ranges, Build};
use crate::pg::PgError;

/// The rows of every kind of this file.
pub(super) struct Rows {
    ranges: Vec<ranges::RangeRow>,
    casts: Vec<(String, String)>,
    event_triggers: Vec<event_triggers::EventTriggerRow>,
    collations: Vec<(String, String)>,
    fdws: Vec<foreign::FdwRow>,
    servers: Vec<foreign::ServerRow>,
    user_mappings: Vec<foreign::UserMappingRow>,
    foreign_tables: Vec<foreign::ForeignTableRow>,
}

/// Runs the queries of these kinds at once (pipelined on the connection).
pub(super) async fn fetch_all(
    client: &Client,
    census: &Census,
    p: &[&(dyn ToSql + Sync)],
) -> Result<Rows, PgError> {
    let (c, version) = (census, census.version);
    let (rq, cq, eq, coq, fq, sq, uq, tq) = (
        ranges::ranges_query(version),
        casts::casts_query(),
        event_triggers::event_triggers_query(),
        collations::collations_query(version),
        foreign::fdws_query(),
        foreign::servers_query(),
        foreign::user_mappings_query(),
        foreign::foreign_tables_query(),
    );
    let (ranges, casts, event_triggers, collations, fdws, servers, user_mappings, foreign_tables) =
        tokio::try_join!(
            fetch_if(c.ranges, client, "range types", &rq, p, ranges::range_row),
            fetch_if(c.casts, client, "casts", &cq, &[], casts::cast_row),
            fetch_if(
                c.event_triggers,
                client,
                "event triggers",
                &eq,
                &[],
                event_triggers::event_trigger_row
            ),
            fetch_if(
                c.collations,
                client,
                "collations",
                &coq,
                p,
                collations::collation_row
            ),
            fetch_if(
                c.fdws,
                client,
                "foreign data wrappers",
                &fq,
                &[],
                foreign::fdw_row
            ),
            fetch_if(
                c.servers,
                client,
                "foreign servers",
                &sq,
                &[],
                foreign::server_row
            ),
            fetch_if(
                c.servers,
                client,
                "user mappings",
                &uq,
                &[],
                foreign::user_mapping_row
            ),
            fetch_if(
                c.servers,
                client,
                "foreign tables",
                &tq,
                p,
                foreign::foreign_table_row
            ),
        )?;
    Ok(Rows {
        ranges,
        casts,
        event_triggers,
        collations,
        fdws,
        servers,
        user_mappings,
        foreign_tables,
    })
}

/// Puts the rows into the model; after the functions and tables were added (range
/// constructors leave the functions, foreign tables leave the tables).
pub(super) fn add(b: &mut Build, rows: Rows) {
    ranges::add(b, rows.ranges);
    b.m.casts = rows.casts.into_iter().collect();
    event_triggers::add(b, rows.event_triggers);
    b.m.collations = rows.collations.into_iter().collect();
    foreign::add(
        b,
        rows.fdws,
        rows.servers,
        rows.user_mappings,
        rows.foreign_tables,
    );
}

//! Range types, casts, event triggers, collations and foreign objects (wrappers, servers,
//! user mappings, foreign tables): one query per kind, run together with the others.

use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::{casts, collations, event_triggers, fetch, foreign, ranges, Build};
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
    version: i32,
    p: &[&(dyn ToSql + Sync)],
) -> Result<Rows, PgError> {
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
            fetch(client, "range types", &rq, p, ranges::range_row),
            fetch(client, "casts", &cq, &[], casts::cast_row),
            fetch(
                client,
                "event triggers",
                &eq,
                &[],
                event_triggers::event_trigger_row
            ),
            fetch(client, "collations", &coq, p, collations::collation_row),
            fetch(client, "foreign data wrappers", &fq, &[], foreign::fdw_row),
            fetch(client, "foreign servers", &sq, &[], foreign::server_row),
            fetch(client, "user mappings", &uq, &[], foreign::user_mapping_row),
            fetch(client, "foreign tables", &tq, p, foreign::foreign_table_row),
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

//! Event triggers (not from an extension).

use tokio_postgres::Row;

use super::super::model::EventTrigger;
use super::Build;

pub(super) fn event_triggers_query() -> String {
    r#"
SELECT quote_ident(e.evtname),
       'ON ' || e.evtevent
       || CASE WHEN e.evttags IS NOT NULL AND cardinality(e.evttags) > 0
               THEN ' WHEN TAG IN (' || (SELECT string_agg(quote_literal(u.t), ', ' ORDER BY u.n) FROM unnest(e.evttags) WITH ORDINALITY u(t, n)) || ')' ELSE '' END
       || ' EXECUTE FUNCTION ' || e.evtfoid::regproc::text || '()',
       e.evtenabled::text
  FROM pg_event_trigger e
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid AND d.deptype = 'e')
 ORDER BY 1"#
        .to_owned()
}

/// (name, trigger).
pub(super) type EventTriggerRow = (String, EventTrigger);

pub(super) fn event_trigger_row(r: &Row) -> EventTriggerRow {
    (
        r.get(0),
        EventTrigger {
            definition: r.get(1),
            enabled: r.get(2),
        },
    )
}

pub(super) fn add(b: &mut Build, rows: Vec<EventTriggerRow>) {
    b.m.event_triggers = rows.into_iter().collect();
}

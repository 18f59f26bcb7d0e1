//! Triggers (not internal ones; of the clones on partitions, those enabled otherwise).

use tokio_postgres::Row;

use super::super::model::{DepKey, Trigger};
use super::{first_char, q, Build, ObjKind};

pub(super) fn triggers_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(t.tgname), t.oid::int8,
       pg_get_triggerdef(t.oid, false), t.tgenabled::text,
       CASE WHEN c.relkind = 'p' THEN (
         WITH RECURSIVE cl(oid, rel, enabled) AS (
           SELECT k.oid, k.tgrelid, k.tgenabled FROM pg_trigger k WHERE k.tgparentid = t.oid
           UNION ALL
           SELECT k.oid, k.tgrelid, k.tgenabled FROM pg_trigger k JOIN cl ON k.tgparentid = cl.oid)
         SELECT array_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) || ' ' || cl.enabled::text)
           FROM cl JOIN pg_class pc ON pc.oid = cl.rel JOIN pg_namespace pn ON pn.oid = pc.relnamespace
          WHERE cl.enabled <> t.tgenabled) END
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON ns.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND t.tgparentid = 0
 ORDER BY 1, 2"#)
}

/// (`table.name`, OID, trigger).
pub(super) type TriggerRow = (String, i64, Trigger);

pub(super) fn trigger_row(r: &Row) -> TriggerRow {
    let (table, name): (String, String) = (r.get(0), r.get(1));
    let t = Trigger {
        table: table.clone(),
        definition: r.get(3),
        enabled: first_char(r.get::<_, &str>(4), 'O'),
        clones: r
            .get::<_, Option<Vec<String>>>(5)
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.rsplit_once(' '))
            .map(|(p, e)| (p.to_owned(), first_char(e, 'O')))
            .collect(),
    };
    (format!("{table}.{name}"), r.get(2), t)
}

pub(super) fn add(b: &mut Build, triggers: Vec<TriggerRow>) {
    for (key, oid, t) in triggers {
        b.key(ObjKind::Trigger, oid, DepKey::Trigger(key.clone()));
        b.m.triggers.insert(key, t);
    }
}

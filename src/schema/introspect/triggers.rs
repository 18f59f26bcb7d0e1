//! Triggers (not internal ones, nor the clones on partitions).

use tokio_postgres::Row;

use super::super::model::{DepKey, Trigger};
use super::{first_char, q, Build, ObjKind};

pub(super) fn triggers_query() -> String {
    q(r#"
SELECT quote_ident(ns.nspname) || '.' || quote_ident(c.relname), quote_ident(t.tgname), t.oid::int8,
       pg_get_triggerdef(t.oid, false), t.tgenabled::text
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
    };
    (format!("{table}.{name}"), r.get(2), t)
}

pub(super) fn add(b: &mut Build, triggers: Vec<TriggerRow>) {
    for (key, oid, t) in triggers {
        b.key(ObjKind::Trigger, oid, DepKey::Trigger(key.clone()));
        b.m.triggers.insert(key, t);
    }
}

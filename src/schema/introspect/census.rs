//! Which kinds of object the database holds at all, asked with the server's version before
//! the other queries (the same round trip): a query — or a part of the catalog fingerprint's
//! — whose catalog holds none of the rows it reads is not sent. A query that returns nothing
//! still costs its parsing and planning, and most databases have no rules, operators, text
//! search objects, foreign servers, …
//!
//! Each flag is a superset of what the queries it gates read: a user's object has an OID of
//! at least 16384 (`FirstNormalObjectId`; the system's are below it, and the schemas the
//! model reads hold nothing of the system's), and the check is one index probe (or the first
//! row of a catalog that is empty in a new database). A `true` flag only means the queries
//! run as they always did.

use tokio_postgres::{Client, Row};

use crate::pg::PgError;

/// Reads one flag of a [`Census`] (which queries and fingerprint branches are sent).
pub(super) type Flag = fn(&Census) -> bool;

/// Each flag: the catalog holds a user's object of that kind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Census {
    pub version: i32,
    /// Functions, procedures, aggregates (`pg_proc`).
    pub functions: bool,
    /// Views, materialized views and rules (every view has its `_RETURN` rule).
    pub rules: bool,
    pub enums: bool,
    pub ranges: bool,
    pub casts: bool,
    pub event_triggers: bool,
    pub collations: bool,
    pub fdws: bool,
    /// Foreign servers, and with them user mappings and foreign tables.
    pub servers: bool,
    pub operators: bool,
    pub opfamilies: bool,
    pub opclasses: bool,
    pub policies: bool,
    pub statistics: bool,
    pub ts_dicts: bool,
    pub ts_configs: bool,
    pub ts_parsers: bool,
    pub ts_templates: bool,
    /// Publications, and with them their tables and schemas.
    pub publications: bool,
    pub inherits: bool,
    pub conversions: bool,
    pub extensions: bool,
    pub default_acls: bool,
    pub languages: bool,
    pub access_methods: bool,
    pub transforms: bool,
    pub domain_constraints: bool,
    pub security_labels: bool,
    /// Comments on a user's objects (not those on schemas, which the model's query reads).
    pub comments: bool,
    /// neon-migrate's own schemas (`DEFAULT_EXCLUDED`) exist: the fingerprint's part on the
    /// tool's own objects (`catalog_tool`) reads only what is in or on them. A name, not an
    /// OID: a user can create either schema.
    pub own_schemas: bool,
}

impl Census {
    /// Every flag set: everything is read (a model built without a census).
    #[cfg(test)]
    pub(super) fn everything(version: i32) -> Census {
        let f = true;
        Census {
            version,
            functions: f,
            rules: f,
            enums: f,
            ranges: f,
            casts: f,
            event_triggers: f,
            collations: f,
            fdws: f,
            servers: f,
            operators: f,
            opfamilies: f,
            opclasses: f,
            policies: f,
            statistics: f,
            ts_dicts: f,
            ts_configs: f,
            ts_parsers: f,
            ts_templates: f,
            publications: f,
            inherits: f,
            conversions: f,
            extensions: f,
            default_acls: f,
            languages: f,
            access_methods: f,
            transforms: f,
            domain_constraints: f,
            security_labels: f,
            comments: f,
            own_schemas: f,
        }
    }
}

const QUERY: &str = r#"
SELECT current_setting('server_version_num')::int,
       EXISTS (SELECT 1 FROM pg_proc WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_rewrite WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_enum),
       EXISTS (SELECT 1 FROM pg_range WHERE rngtypid >= 16384),
       EXISTS (SELECT 1 FROM pg_cast WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_event_trigger),
       EXISTS (SELECT 1 FROM pg_collation WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_foreign_data_wrapper),
       EXISTS (SELECT 1 FROM pg_foreign_server),
       EXISTS (SELECT 1 FROM pg_operator WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_opfamily WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_opclass WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_policy),
       EXISTS (SELECT 1 FROM pg_statistic_ext),
       EXISTS (SELECT 1 FROM pg_ts_dict WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_ts_config WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_ts_parser WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_ts_template WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_publication),
       EXISTS (SELECT 1 FROM pg_inherits),
       EXISTS (SELECT 1 FROM pg_conversion WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_extension WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_default_acl),
       EXISTS (SELECT 1 FROM pg_language WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_am WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_transform WHERE oid >= 16384),
       EXISTS (SELECT 1 FROM pg_constraint WHERE contypid >= 16384),
       EXISTS (SELECT 1 FROM pg_seclabel WHERE objoid >= 16384),
       EXISTS (SELECT 1 FROM pg_description WHERE objoid >= 16384),
       EXISTS (SELECT 1 FROM pg_namespace WHERE nspname IN ('neon_migrate', 'neon_migrate_integrity'))"#;

fn census_row(r: &Row) -> Census {
    let b = |i: usize| r.get::<_, bool>(i);
    Census {
        version: r.get(0),
        functions: b(1),
        rules: b(2),
        enums: b(3),
        ranges: b(4),
        casts: b(5),
        event_triggers: b(6),
        collations: b(7),
        fdws: b(8),
        servers: b(9),
        operators: b(10),
        opfamilies: b(11),
        opclasses: b(12),
        policies: b(13),
        statistics: b(14),
        ts_dicts: b(15),
        ts_configs: b(16),
        ts_parsers: b(17),
        ts_templates: b(18),
        publications: b(19),
        inherits: b(20),
        conversions: b(21),
        extensions: b(22),
        default_acls: b(23),
        languages: b(24),
        access_methods: b(25),
        transforms: b(26),
        domain_constraints: b(27),
        security_labels: b(28),
        comments: b(29),
        own_schemas: b(30),
    }
}

/// The server's version and what its catalogs hold.
pub(super) async fn take(client: &Client) -> Result<Census, PgError> {
    let row = client
        .query_one(QUERY, &[])
        .await
        .map_err(|e| super::failed("the server version", e))?;
    Ok(census_row(&row))
}

#[cfg(test)]
mod tests {
    /// The flag of the tool's own schemas names each of them.
    #[test]
    fn own_schemas_flag_names_every_default_excluded_schema() {
        for s in super::super::DEFAULT_EXCLUDED {
            assert!(super::QUERY.contains(&format!("'{s}'")), "{s}");
        }
    }
}

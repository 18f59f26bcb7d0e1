//! The queries of aggregates, operators, rules, extended statistics and text search
//! objects, run together (pipelined with the others) and added to the model after the
//! functions, whose dependency keys they use.

use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::super::model::{TsConfig, TsDictionary};
use super::aggregates::{self, AggregateRow};
use super::census::Census;
use super::clustering::{self, ClusteringRow};
use super::operators::{self, OperatorRow};
use super::rules::{self, RuleRow};
use super::statistics::{self, StatisticsRow};
use super::textsearch;
use super::{fetch, fetch_if, Build};
use crate::pg::PgError;

/// The rows of those queries.
pub(super) struct Rows {
    aggregates: Vec<AggregateRow>,
    operators: Vec<OperatorRow>,
    rules: Vec<RuleRow>,
    statistics: Vec<StatisticsRow>,
    dictionaries: Vec<(String, TsDictionary)>,
    configs: Vec<(String, TsConfig)>,
    clustering: Vec<ClusteringRow>,
    parsers: Vec<textsearch::ParserRow>,
}

pub(super) async fn fetch_all(
    client: &Client,
    c: &Census,
    p: &[&(dyn ToSql + Sync)],
) -> Result<Rows, PgError> {
    let (aq, oq, rq, sq, dq, cq, kq) = (
        aggregates::aggregates_query(),
        operators::operators_query(),
        rules::rules_query(),
        statistics::statistics_query(),
        textsearch::dictionaries_query(),
        textsearch::configs_query(),
        clustering::clustering_query(),
    );
    let pq = textsearch::parsers_and_templates_query();
    let (aggregates, operators, rules, statistics, dictionaries, configs, clustering, parsers) = tokio::try_join!(
        fetch_if(
            c.functions,
            client,
            "aggregates",
            &aq,
            p,
            aggregates::aggregate_row
        ),
        fetch_if(
            c.operators,
            client,
            "operators",
            &oq,
            p,
            operators::operator_row
        ),
        fetch_if(c.rules, client, "rules", &rq, p, rules::rule_row),
        fetch_if(
            c.statistics,
            client,
            "extended statistics",
            &sq,
            p,
            statistics::statistics_row
        ),
        fetch_if(
            c.ts_dicts,
            client,
            "text search dictionaries",
            &dq,
            p,
            textsearch::dictionary_row
        ),
        fetch_if(
            c.ts_configs,
            client,
            "text search configurations",
            &cq,
            p,
            textsearch::config_row
        ),
        fetch(
            client,
            "clustered indexes and index statistics",
            &kq,
            p,
            clustering::clustering_row
        ),
        fetch_if(
            c.ts_parsers || c.ts_templates,
            client,
            "text search parsers and templates",
            &pq,
            p,
            textsearch::parser_row
        ),
    )?;
    Ok(Rows {
        aggregates,
        operators,
        rules,
        statistics,
        dictionaries,
        configs,
        clustering,
        parsers,
    })
}

/// Adds the rows; after the functions (operators look up their function's key).
pub(super) fn add(b: &mut Build, rows: Rows) {
    aggregates::add(b, rows.aggregates);
    operators::add(b, rows.operators);
    rules::add(b, rows.rules);
    statistics::add(b, rows.statistics);
    textsearch::add(b, rows.dictionaries, rows.configs, rows.parsers);
    clustering::add(b, rows.clustering);
}

//! The names of partitions' indexes. Postgres names the index it builds on each partition
//! for a partitioned index (`CREATE INDEX … ON p`, `CREATE TABLE … PARTITION OF p`,
//! `ATTACH PARTITION`) itself (`p1_id_idx`); the desired schema may have other names (its
//! partitions' indexes were created first and attached, or renamed). Each partition's index
//! the current schema does not have under its name, table and parent is renamed, after every
//! index and partition is built: the index of its table attached to its parent index,
//! whatever Postgres named it (found by an outside attacker, N14).

use super::super::split_qualified;
use super::partitions::do_block;
use super::sql::lit;
use super::{Cx, Phase};

pub(super) fn diff(x: &mut Cx<'_>) {
    let b = &x.b.partition_indexes;
    let mut renames: Vec<(usize, &String, &String, &String)> = b
        .iter()
        .filter(|(n, tp)| x.a.partition_indexes.get(*n) != Some(*tp))
        .map(|(n, (t, p))| (depth(x, p), n, t, p))
        .collect();
    // A parent's name first: its children are found under it.
    renames.sort();
    for (_, name, table, parent) in renames {
        let Some((_, bare)) = split_qualified(name) else {
            continue;
        };
        let rename = lit("ALTER INDEX %s RENAME TO %s");
        x.simple(
            Phase::RenamePartitionIndexes,
            do_block(&format!(
                "DECLARE r regclass; BEGIN SELECT c.oid::regclass INTO r \
                 FROM pg_catalog.pg_inherits h \
                 JOIN pg_catalog.pg_index i ON i.indexrelid = h.inhrelid \
                 JOIN pg_catalog.pg_class c ON c.oid = h.inhrelid \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE h.inhparent = {p}::regclass AND i.indrelid = {t}::regclass \
                 AND pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) <> {n}; \
                 IF r IS NOT NULL THEN EXECUTE pg_catalog.format({rename}, r, {b}); END IF; END",
                p = lit(parent),
                t = lit(table),
                n = lit(name),
                b = lit(bare),
            )),
        );
    }
}

/// How many partitions' indexes are above `parent` (0: a partitioned table's own index).
fn depth(x: &Cx<'_>, parent: &str) -> usize {
    let mut at = parent;
    let mut n = 0;
    while let Some((_, p)) = x.b.partition_indexes.get(at) {
        n += 1;
        if n > 64 {
            break;
        }
        at = p;
    }
    n
}

-- A stored generated column is added: a rewrite.
-- [a]
create table t (w int, h int);
-- [b]
create table t (w int, h int, area int generated always as (w * h) stored);
-- [hazards] access_exclusive_lock, table_rewrite

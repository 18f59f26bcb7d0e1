-- A generated column's expression changes: SET EXPRESSION on PG ≥ 17, dropped and added before.
-- [a]
create table t (w int, h int, area int generated always as (w * h) stored);
-- [b]
create table t (w int, h int, area int generated always as (w * h * 2) stored);
-- [hazards] access_exclusive_lock, table_rewrite

-- A column a generated column reads changes type: the generated column is rebuilt around it.
-- [a]
create table boxes (w int, h int, area int generated always as (w * h) stored);
-- [b]
create table boxes (w bigint, h int, area int generated always as (w * h) stored);
-- [hazards] access_exclusive_lock, table_rewrite

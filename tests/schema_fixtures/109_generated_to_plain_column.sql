-- A generated column becomes a plain one and keeps its values (DROP EXPRESSION).
-- [a]
create table t (w int, h int, area int generated always as (w * h) stored, id int);
-- [b]
create table t (w int, h int, area int, id int);
-- [hazards] access_exclusive_lock
-- [sql] DROP EXPRESSION

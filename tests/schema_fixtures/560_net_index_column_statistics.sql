-- The safety net: an index column's statistics target (ALTER INDEX … ALTER COLUMN 1 SET
-- STATISTICS) is seen and reported.
-- [a]
create table t (id int, note text);
create index t_lower_note on t ((lower(note)));
-- [b]
create table t (id int, note text);
create index t_lower_note on t ((lower(note)));
alter index t_lower_note alter column 1 set statistics 500;
-- [hazards]
-- [unsupported] not modeled by the schema engine: index column statistics target 1 on public.t_lower_note differs

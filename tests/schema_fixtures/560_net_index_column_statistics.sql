-- An index column's statistics target (ALTER INDEX … ALTER COLUMN 1 SET STATISTICS): first
-- seen by the safety net only, now modelled (fixture 506) and written.
-- [a]
create table t (id int, note text);
create index t_lower_note on t ((lower(note)));
-- [b]
create table t (id int, note text);
create index t_lower_note on t ((lower(note)));
alter index t_lower_note alter column 1 set statistics 500;
-- [hazards]
-- [sql] ALTER INDEX public.t_lower_note ALTER COLUMN 1 SET STATISTICS 500

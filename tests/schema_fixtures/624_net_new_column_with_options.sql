-- A new column with options (n_distinct): the plan adds the column and sets them (they were
-- left out, and the net had to report them).
-- [a]
create table t624 (id int);
-- [b]
create table t624 (id int, x int);
alter table t624 alter column x set (n_distinct = 10);
-- [hazards]
-- [sql] ALTER TABLE public.t624 ALTER COLUMN x SET (n_distinct=10)

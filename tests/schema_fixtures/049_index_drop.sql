-- An index goes, concurrently.
-- [a]
create table t (a int);
create index t_a on t (a);
-- [b]
create table t (a int);
-- [hazards] index_dropped
-- [sql] DROP INDEX CONCURRENTLY public.t_a

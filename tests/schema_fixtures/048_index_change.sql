-- An index's definition changes: the old one serves until the new one is built.
-- [a]
create table t (a int, b int);
create index t_idx on t (a);
-- [b]
create table t (a int, b int);
create index t_idx on t (a, b);
-- [hazards] index_build, index_dropped
-- [sql] RENAME TO

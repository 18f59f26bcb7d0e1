-- A UNIQUE constraint made DEFERRABLE (dropped and added again) on a table whose columns are
-- retyped, in a plan that runs statement by statement (an index is built concurrently): the
-- drop, the rewrites and the add run in one BEGIN … COMMIT, so the table is never without its
-- key; the concurrent build runs after.
-- [a]
create table t (id int primary key, x int, y varchar(10) unique);
insert into t values (1, 1, 'a'), (2, 2, 'b');
-- [b]
create table t (id int primary key, x bigint, y varchar(20) unique deferrable);
create index tx on t (x);
-- [hazards] access_exclusive_lock, index_build, index_dropped, table_rewrite
-- [sql] BEGIN

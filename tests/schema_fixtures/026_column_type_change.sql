-- int → bigint rewrites the table.
-- [a]
create table t (id int primary key, n int);
insert into t values (1, 1);
-- [b]
create table t (id int primary key, n bigint);
-- [hazards] access_exclusive_lock, table_rewrite

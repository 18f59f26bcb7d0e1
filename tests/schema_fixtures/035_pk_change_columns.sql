-- The primary key gains a column.
-- [a]
create table t (a int not null, b int not null, constraint t_pkey primary key (a));
-- [b]
create table t (a int not null, b int not null, constraint t_pkey primary key (a, b));
-- [hazards] index_build, correctness, access_exclusive_lock, index_dropped

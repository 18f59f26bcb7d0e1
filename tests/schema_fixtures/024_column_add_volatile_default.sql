-- A volatile default is evaluated for every row: a rewrite.
-- [a]
create table t (id int primary key);
-- [b]
create table t (id int primary key, r double precision default random());
-- [hazards] access_exclusive_lock, table_rewrite

-- A column's collation changes: no rewrite, but its index is rebuilt under the lock.
-- [a]
create table t (id int primary key, name text);
create index t_name on t (name);
-- [b]
create table t (id int primary key, name text collate "C");
create index t_name on t (name);
-- [hazards] access_exclusive_lock, index_build

-- A plain last column becomes generated: dropped (its values lost) and added again.
-- [a]
create table t (id int, v int);
insert into t values (1, 5);
-- [b]
create table t (id int, v int generated always as (id * 2) stored);
-- [hazards] deletes_data, access_exclusive_lock, table_rewrite

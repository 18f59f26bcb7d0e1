-- A key swapped in (it gains INCLUDE columns) while a partitioned table's foreign key rests on
-- it: the foreign key is added again at once (a partitioned table refuses NOT VALID before
-- PostgreSQL 18).
-- [a]
create table p (id int primary key, k int);
create table c (id int, pid int references p (id)) partition by range (id);
create table c1 partition of c for values from (0) to (100);
-- [b]
create table p (id int, k int, constraint p_pkey primary key (id) include (k));
create table c (id int, pid int references p (id)) partition by range (id);
create table c1 partition of c for values from (0) to (100);
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped, share_row_exclusive_lock
-- [sql] PRIMARY KEY USING INDEX "p_pkey_neon_migrate_new"

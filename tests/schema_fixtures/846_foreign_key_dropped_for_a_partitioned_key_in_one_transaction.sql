-- A partitioned table's UNIQUE constraint gains INCLUDE columns (dropped and added again:
-- no concurrent build on a partitioned table) in a plan that runs statement by statement;
-- the foreign key on it is dropped before and added again after, all in one BEGIN … COMMIT:
-- the referencing table is never without it.
-- [a]
create table p (id int, k int, constraint p_k_key unique (k)) partition by range (k);
create table p1 partition of p for values from (0) to (100);
create table c (id int primary key, pk int, constraint c_pk_fkey foreign key (pk) references p (k));
create table o (id int, v int);
insert into p values (1, 1);
insert into c values (1, 1);
-- [b]
create table p (id int, k int, constraint p_k_key unique (k) include (id)) partition by range (k);
create table p1 partition of p for values from (0) to (100);
create table c (id int primary key, pk int, constraint c_pk_fkey foreign key (pk) references p (k));
create table o (id int, v int);
create index o_v on o (v);
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped, share_row_exclusive_lock
-- [sql] BEGIN

-- A new partition beside columns, a foreign key, a generated column, a CHECK, an index, a
-- comment and a statistics target its partitioned table gains (attack10 d101): a partition
-- always has its parent's column order, whenever it is created.
-- [a]
create table r (id int primary key);
create table p (id int, k int) partition by range (k);
create table p1 partition of p for values from (0) to (10);
-- [b]
create table r (id int primary key);
create table p (id int, k int, rid int references r, c text collate "C", g int generated always as (k * 2) stored, constraint ck check (k >= 0)) partition by range (k);
create table p1 partition of p for values from (0) to (10);
create table p2 partition of p for values from (10) to (20);
create index on p (rid);
comment on column p.c is 'c';
alter table p alter column c set statistics 50;
-- [hazards] access_exclusive_lock, correctness, index_build, share_lock, table_rewrite
-- [sql] CREATE TABLE public.p2 PARTITION OF public.p

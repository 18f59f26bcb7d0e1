-- A new partition beside a default partition holding rows of its range, while the
-- partitioned table gains a column: the rows move over the columns the parent has at that
-- point (the column is added later). attack12 N1: the move named the new column, failed,
-- and with no transaction left the default partition detached (its rows gone from the table).
-- [a]
create table f272_p (id int, k int) partition by range (k);
create table f272_p1 partition of f272_p for values from (0) to (10);
create table f272_pd partition of f272_p default;
insert into f272_p values (1, 1), (2, 15), (3, 25);
-- [b]
create table f272_p (id int, k int, extra int default 0) partition by range (k);
create table f272_p1 partition of f272_p for values from (0) to (10);
create table f272_p2 partition of f272_p for values from (10) to (20);
create table f272_pd partition of f272_p default;
create index on f272_p (extra);
-- [hazards] access_exclusive_lock, correctness, index_build, share_lock
-- [sql] INSERT INTO public.f272_p2 (id, k) SELECT id, k FROM moved
-- [sql] EXECUTE 'ALTER TABLE public.f272_p DETACH PARTITION public.f272_pd'

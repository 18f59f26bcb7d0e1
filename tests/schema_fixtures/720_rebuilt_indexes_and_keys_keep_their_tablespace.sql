-- Indexes and keys rebuilt (new columns, INCLUDE, predicate) keep the tablespace both sides
-- give them — the concurrent key swap's new index too, and an exclusion constraint's before its
-- predicate — and an index moved to another tablespace is rebuilt there, concurrently.
-- [tablespaces] f720_ts1, f720_ts2
-- [a]
create table t (id int, x int, y int,
  constraint t_pk primary key (id) using index tablespace f720_ts1,
  constraint t_u unique (x) using index tablespace f720_ts1,
  constraint t_ex exclude using btree (y with =) using index tablespace f720_ts1 where (y > 0)
) tablespace f720_ts1;
create table r (id int references t);
create index t_x on t (x) tablespace f720_ts1;
create index t_y on t (y) tablespace f720_ts1 where y > 0;
create index t_m on t (x, y) tablespace f720_ts1;
-- [b]
create table t (id int, x int, y int,
  constraint t_pk primary key (id) include (x) using index tablespace f720_ts1,
  constraint t_u unique (x) include (y) using index tablespace f720_ts1,
  constraint t_ex exclude using btree (y with =) using index tablespace f720_ts1 where (y > 1)
) tablespace f720_ts1;
create table r (id int references t);
create index t_x on t (x, y) tablespace f720_ts1;
create index t_y on t (y) tablespace f720_ts1 where y > 1;
create index t_m on t (x, y) tablespace f720_ts2;
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped, share_row_exclusive_lock
-- [sql] ON public.t (id) INCLUDE (x) TABLESPACE f720_ts1
-- [sql] ON public.t (x) INCLUDE (y) TABLESPACE f720_ts1
-- [sql] USING INDEX TABLESPACE f720_ts1 WHERE ((y > 1))
-- [sql] CREATE INDEX CONCURRENTLY t_x ON public.t USING btree (x, y) TABLESPACE f720_ts1
-- [sql] CREATE INDEX CONCURRENTLY t_y ON public.t USING btree (y) TABLESPACE f720_ts1 WHERE (y > 1)
-- [sql] CREATE INDEX CONCURRENTLY t_m ON public.t USING btree (x, y) TABLESPACE f720_ts2

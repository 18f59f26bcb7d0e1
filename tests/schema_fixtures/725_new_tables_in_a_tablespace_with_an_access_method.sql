-- New tables are created in their tablespace and with their access method (a partitioned one's
-- tablespace is its new partitions'), their keys' and indexes' in theirs.
-- [tablespaces] f725_ts1
-- [a]
create access method f725_heap type table handler heap_tableam_handler;
create table keep (id int);
-- [b]
create access method f725_heap type table handler heap_tableam_handler;
create table keep (id int);
create table t (id int, x int, constraint t_pk primary key (id) using index tablespace f725_ts1)
  using f725_heap with (fillfactor = 70) tablespace f725_ts1;
create index t_x on t (x) tablespace f725_ts1;
create table p (id int, x int) partition by range (id) tablespace f725_ts1;
create table p1 partition of p for values from (1) to (10);
-- [hazards]
-- [sql] USING f725_heap WITH (fillfactor=70) TABLESPACE f725_ts1
-- [sql] PARTITION BY RANGE (id) TABLESPACE f725_ts1

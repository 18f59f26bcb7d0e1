-- An inherited column's NOT NULL is a part of its own in the safety net (782); set or dropped
-- on the parent, which Postgres passes down to partitions and inheritance children, or taken
-- by a partition or child the plan creates, it is explained: no false report.
-- [a]
create table f783_p (id int, k int, v text, w text not null) partition by list (k);
create table f783_p1 partition of f783_p for values in (1);
create table f783_par (id int, v text, w text not null);
create table f783_chi (x int) inherits (f783_par);
-- [b]
create table f783_p (id int, k int, v text not null, w text) partition by list (k);
create table f783_p1 partition of f783_p for values in (1);
create table f783_p2 partition of f783_p for values in (2);
create table f783_par (id int, v text not null, w text);
create table f783_chi (x int) inherits (f783_par);
create table f783_chi2 (y int) inherits (f783_par);
-- [hazards] access_exclusive_lock, correctness

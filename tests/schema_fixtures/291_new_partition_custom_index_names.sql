-- A new partition, built and indexed on its own and then attached, whose indexes (clones of
-- the parent's) have their own names: the plan created it with PARTITION OF and Postgres
-- named its indexes itself (found by an outside attacker, e80_new_partition_custom_index).
-- They are renamed to the target's names.
-- [a]
create table f291_p(id int, k int) partition by range(k);
create table f291_p1 partition of f291_p for values from (0) to (10);
create index f291_pi on f291_p(id);
create unique index f291_pu on f291_p(k, id);
-- [b]
create table f291_p(id int, k int) partition by range(k);
create table f291_p1 partition of f291_p for values from (0) to (10);
create index f291_pi on f291_p(id);
create unique index f291_pu on f291_p(k, id);
create table f291_p2 (id int, k int);
create index f291_p2_custom on f291_p2(id);
create unique index f291_p2_ucustom on f291_p2(k, id);
alter table f291_p attach partition f291_p2 for values from (10) to (20);
-- [hazards]

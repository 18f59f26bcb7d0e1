-- ATTACH PARTITION of a table with its own primary key matching the partitioned table's:
-- Postgres adopts that key's index as the partition's, under its name (p2_pk). The plan
-- dropped it first and attached, and Postgres built payment_p2022_02_pkey instead (trial9 P10).
-- Its NOT NULLs bear the parent's names: on 18 the plan renames an attached table's to those
-- (right for a partition created under its parent, not for one attached: not fixed here).
-- [a]
create table f227_pay (id int not null, at date not null, primary key (at, id)) partition by range (at);
create table f227_pay_01 partition of f227_pay for values from ('2022-01-01') to ('2022-02-01');
create table f227_pay_02 (id int constraint f227_pay_id_not_null not null, at date constraint f227_pay_at_not_null not null,
  constraint f227_p2_pk primary key (at, id));
-- [b]
create table f227_pay (id int not null, at date not null, primary key (at, id)) partition by range (at);
create table f227_pay_01 partition of f227_pay for values from ('2022-01-01') to ('2022-02-01');
create table f227_pay_02 (id int constraint f227_pay_id_not_null not null, at date constraint f227_pay_at_not_null not null,
  constraint f227_p2_pk primary key (at, id));
alter table f227_pay attach partition f227_pay_02 for values from ('2022-02-01') to ('2022-03-01');
-- [hazards] access_exclusive_lock, correctness
-- [sql] ATTACH PARTITION public.f227_pay_02
-- [no-sql] DROP CONSTRAINT

-- DETACH PARTITION: the table keeps its clones of the partitioned table's primary key (under
-- the partition index's name) and foreign key. The plan created the key again, and its
-- CREATE UNIQUE INDEX failed: the index already existed (trial9 P9).
-- [a]
create table f226_ref (id int primary key);
create table f226_pay (id int not null, at date not null, r int references f226_ref (id),
  primary key (at, id)) partition by range (at);
create table f226_pay_01 partition of f226_pay for values from ('2022-01-01') to ('2022-02-01');
create table f226_pay_02 partition of f226_pay for values from ('2022-02-01') to ('2022-03-01');
-- [b]
create table f226_ref (id int primary key);
create table f226_pay (id int not null, at date not null, r int references f226_ref (id),
  primary key (at, id)) partition by range (at);
create table f226_pay_01 partition of f226_pay for values from ('2022-01-01') to ('2022-02-01');
create table f226_pay_02 partition of f226_pay for values from ('2022-02-01') to ('2022-03-01');
alter table f226_pay detach partition f226_pay_01;
-- [hazards] correctness
-- [sql] DETACH PARTITION public.f226_pay_01
-- [no-sql] CREATE UNIQUE INDEX
-- [no-sql] ADD CONSTRAINT

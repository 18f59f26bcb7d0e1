-- A new partition whose range the DEFAULT partition holds rows of: the default partition is
-- detached, the partition created, the rows of its range moved into it, and the default
-- partition attached again, in one transaction (found by an outside attacker: Postgres
-- refused to create the partition and the plan failed to apply).
-- [a]
create table f515_p (id int not null, v text) partition by range (id);
create table f515_p1 partition of f515_p for values from (0) to (10);
create table f515_pd partition of f515_p default;
insert into f515_p values (1, 'a'), (15, 'b'), (25, 'c');
-- [b]
create table f515_p (id int not null, v text) partition by range (id);
create table f515_p1 partition of f515_p for values from (0) to (10);
create table f515_p2 partition of f515_p for values from (10) to (20);
create table f515_pd partition of f515_p default;
-- [hazards] access_exclusive_lock, correctness
-- [sql] EXECUTE 'ALTER TABLE public.f515_p DETACH PARTITION public.f515_pd'
-- [sql] EXECUTE 'ALTER TABLE public.f515_p ATTACH PARTITION public.f515_pd DEFAULT'

-- A new partition beside a default partition whose rows of the new range move into it, both
-- names holding the plan's own dollar-quote tag: the name closed the row-moving DO block and
-- `drop table f811_victim` ran as a statement of the plan (found by an outside attacker).
-- [a]
create table f811_victim (id int);
create table f811_tp (id int, k text) partition by list (k);
create table "f811_d$neon_migrate$;drop table f811_victim;--" partition of f811_tp default;
insert into f811_tp values (1, 'a'), (2, 'z');
-- [b]
create table f811_victim (id int);
create table f811_tp (id int, k text) partition by list (k);
create table "f811_d$neon_migrate$;drop table f811_victim;--" partition of f811_tp default;
create table "f811_n$neon_migrate$;drop table f811_victim;--" partition of f811_tp for values in ('a');
-- [hazards] correctness, access_exclusive_lock
-- [sql] DO $neon_migrate_1$ DECLARE restore text[]

-- A column retyped (ALTER COLUMN … TYPE) makes Postgres build its indexes and extended
-- statistics again: an expression index column's statistics target, a statistics object's
-- target and its owner are written again after it (the comment and CLUSTER ON survive); an
-- index of the same table that Postgres leaves alone still gets its own change.
-- [a]
DO $$ BEGIN CREATE ROLE f722_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, x int, y int);
create index ix on t ((x + 1), y);
alter index ix alter column 1 set statistics 300;
comment on index ix is 'c';
alter table t cluster on ix;
create index iz on t ((y + 1));
alter index iz alter column 1 set statistics 100;
create statistics st (dependencies) on x, y from t;
alter statistics st set statistics 50;
create statistics st2 on (x + y), id from t;
comment on statistics st2 is 'stc';
alter statistics st2 owner to f722_alice;
create table pt (id int, x int) partition by list (id);
create table pt1 partition of pt for values in (1);
create index pti on pt ((x + 1));
-- [b]
DO $$ BEGIN CREATE ROLE f722_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, x bigint, y int);
create index ix on t ((x + 1), y);
alter index ix alter column 1 set statistics 300;
comment on index ix is 'c';
alter table t cluster on ix;
create index iz on t ((y + 1));
create statistics st (dependencies) on x, y from t;
alter statistics st set statistics 50;
create statistics st2 on (x + y), id from t;
comment on statistics st2 is 'stc';
alter statistics st2 owner to f722_alice;
create table pt (id int, x bigint) partition by list (id);
create table pt1 partition of pt for values in (1);
create index pti on pt ((x + 1));
alter index pti alter column 1 set statistics 70;
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] ALTER INDEX public.ix ALTER COLUMN 1 SET STATISTICS 300
-- [sql] ALTER INDEX public.iz ALTER COLUMN 1 SET STATISTICS -1
-- [sql] ALTER STATISTICS public.st SET STATISTICS 50
-- [sql] ALTER STATISTICS public.st2 OWNER TO f722_alice

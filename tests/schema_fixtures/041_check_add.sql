-- A CHECK constraint: NOT VALID, then VALIDATE.
-- [a]
create table t (id int primary key, price numeric);
insert into t values (1, 10);
-- [b]
create table t (id int primary key, price numeric constraint price_positive check (price > 0));
-- [hazards] access_exclusive_lock, correctness
-- [sql] ALTER TABLE public.t VALIDATE CONSTRAINT "price_positive"

-- The target has a NOT VALID constraint: added NOT VALID and left so.
-- [a]
create table t (id int primary key, price numeric);
insert into t values (1, -5);
-- [b]
create table t (id int primary key, price numeric);
alter table t add constraint price_positive check (price > 0) not valid;
-- [hazards] access_exclusive_lock

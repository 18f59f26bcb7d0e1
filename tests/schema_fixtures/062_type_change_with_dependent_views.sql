-- A column type change under two layers of views: they are dropped first and recreated after.
-- [a]
create table t (id int primary key, amount int, note text);
create view v1 as select id, amount from t;
create view v2 as select sum(amount) as total from v1;
create view unrelated as select 1 as one;
-- [b]
create table t (id int primary key, amount numeric(12,2), note text);
create view v1 as select id, amount from t;
create view v2 as select sum(amount) as total from v1;
create view unrelated as select 1 as one;
-- [hazards] access_exclusive_lock, table_rewrite

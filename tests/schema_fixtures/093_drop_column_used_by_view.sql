-- A column goes; the view that used it is recreated without it.
-- [a]
create table t (id int, a int, b int);
create view v as select id, a, b from t;
-- [b]
create table t (id int, a int);
create view v as select id, a from t;
-- [hazards] deletes_data, access_exclusive_lock

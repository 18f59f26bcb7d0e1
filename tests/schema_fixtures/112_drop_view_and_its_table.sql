-- A table goes together with the views over it (views first).
-- [a]
create table t (id int, v int);
create view v1 as select id from t;
create materialized view m1 as select count(*) from t;
create table keep (id int);
-- [b]
create table keep (id int);
-- [hazards] deletes_data, access_exclusive_lock

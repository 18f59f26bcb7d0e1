-- Views on views: created in dependency order, dropped in reverse.
-- [a]
create table t (id int primary key, name text);
create view v1 as select id, name from t;
create view v2 as select * from v1 where id > 10;
-- [b]
create table t (id int primary key, name varchar(20));
create view v1 as select id, name from t;
create view v2 as select * from v1 where id > 10;
create view v0 as select count(*) from v2;
-- [hazards] access_exclusive_lock, deletes_data, table_rewrite

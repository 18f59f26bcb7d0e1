-- A view's query changes, and another view depends on it.
-- [a]
create table t (id int primary key, v int, w int);
create view v1 as select id, v from t;
create view v2 as select id from v1;
-- [b]
create table t (id int primary key, v int, w int);
create view v1 as select id, v, w from t where v > 0;
create view v2 as select id from v1;
-- [hazards]

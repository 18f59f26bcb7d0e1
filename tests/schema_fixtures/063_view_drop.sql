-- Views go, dependents first.
-- [a]
create table t (id int);
create view v1 as select id from t;
create view v2 as select id from v1;
-- [b]
create table t (id int);
-- [hazards]

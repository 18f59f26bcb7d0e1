-- Only a view's options change (security_invoker, check option).
-- [a]
create table t (id int);
create view v as select id from t where id > 0;
-- [b]
create table t (id int);
create view v with (security_invoker = true, check_option = local) as select id from t where id > 0;
-- [hazards]

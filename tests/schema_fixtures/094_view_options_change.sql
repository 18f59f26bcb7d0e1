-- Only a view's options change (security_invoker, check option). The CHECK OPTION makes
-- writes of rows the view does not show fail: breaks_writes (attack11 A10).
-- [a]
create table t (id int);
create view v as select id from t where id > 0;
-- [b]
create table t (id int);
create view v with (security_invoker = true, check_option = local) as select id from t where id > 0;
-- [hazards] breaks_writes
-- [hazard-text] view public.v gains WITH LOCAL CHECK OPTION

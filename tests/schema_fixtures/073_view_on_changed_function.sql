-- A view calls a function whose result type changes: the view is dropped and recreated.
-- [a]
create function label(i int) returns varchar language sql as $$ select 'n' || i $$;
create table t (id int);
create view labels as select id, label(id) from t;
-- [b]
create function label(i int) returns text language sql as $$ select 'n' || i $$;
create table t (id int);
create view labels as select id, label(id) from t;
-- [hazards] untrackable_dependencies

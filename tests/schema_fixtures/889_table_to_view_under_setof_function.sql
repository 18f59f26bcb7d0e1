-- A table replaced by a view of the same name while a function returns its row type
-- (RETURNS SETOF t): DROP TABLE failed under the function (attack9 F16). The function is
-- dropped before and created again after the view.
-- [a]
create table f889_src (id int primary key, x int);
create table f889_t (id int, x int);
create function f889_all_t() returns setof f889_t language sql as 'select * from f889_t';
-- [b]
create table f889_src (id int primary key, x int);
create view f889_t as select id, x from f889_src;
create function f889_all_t() returns setof f889_t language sql as 'select * from f889_t';
-- [hazards] deletes_data, untrackable_dependencies, access_exclusive_lock
-- [sql] DROP FUNCTION public.f889_all_t()

-- A SQL-standard-body function that switches from a column the plan drops to a new one
-- (attack9 F7): dropped before the column and created again after the new column.
-- [a]
create table f888_t (id int primary key, x int, y int);
create function f888_gx() returns int language sql stable begin atomic select max(x) from f888_t; end;
-- [b]
create table f888_t (id int primary key, y int, z int);
create function f888_gx() returns int language sql stable begin atomic select max(z) from f888_t; end;
-- [hazards] deletes_data, untrackable_dependencies, access_exclusive_lock
-- [sql] DROP FUNCTION public.f888_gx()

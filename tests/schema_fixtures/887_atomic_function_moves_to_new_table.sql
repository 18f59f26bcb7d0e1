-- A SQL-standard-body function that switches from a table the plan drops to a new one: the
-- old table was dropped first and failed ("function cnt() depends on table t1"; attack9 F7).
-- The function is dropped before the table and created again after the new one.
-- [a]
create table f887_t1 (id int primary key, x int);
create function f887_cnt() returns bigint language sql stable begin atomic select count(*) from f887_t1; end;
-- [b]
create table f887_t2 (id int primary key, x int);
create function f887_cnt() returns bigint language sql stable begin atomic select count(*) from f887_t2; end;
-- [hazards] deletes_data, untrackable_dependencies, access_exclusive_lock
-- [sql] DROP FUNCTION public.f887_cnt()

-- A new materialized view over a user function whose body names its type unqualified (as
-- most do): creating the view runs the function. With the plan's search_path pinned empty
-- (as pg_dump does) the body could not find its type and the plan failed half-way (found by
-- re-running an outside attacker's cases); pg_catalog first, the session's schemas after it.
-- [a]
create type f814_c as (a int, b int);
create function f814_mk(x int) returns f814_c language sql as 'select row(x, 1)::f814_c';
-- [b]
create type f814_c as (a int, b int);
create function f814_mk(x int) returns f814_c language sql as 'select row(x, 1)::f814_c';
create materialized view f814_mv as select (f814_mk(1)).a as a;
-- [hazards] index_build
-- [sql] CREATE MATERIALIZED VIEW public.f814_mv

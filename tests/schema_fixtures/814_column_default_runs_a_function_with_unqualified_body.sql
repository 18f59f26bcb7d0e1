-- A column added with a DEFAULT calling a user function whose body names its type
-- unqualified (as most do): adding the column runs the function for the rows already there.
-- With the plan's search_path pinned empty (as pg_dump does) the body could not find its type
-- and the plan failed half-way (found re-running an outside attacker's cases, where a new
-- materialized view over such a function failed on PostgreSQL 15 and 16); now pg_catalog is
-- first and the session's schemas after it.
-- [a]
create type f814_c as (a int, b int);
create function f814_first() returns int language sql stable as 'select (row(7, 1)::f814_c).a';
create table f814_t (id int);
insert into f814_t values (1);
-- [b]
create type f814_c as (a int, b int);
create function f814_first() returns int language sql stable as 'select (row(7, 1)::f814_c).a';
create table f814_t (id int, v int default f814_first());
-- [hazards]
-- [sql] ADD COLUMN v integer DEFAULT public.f814_first()
